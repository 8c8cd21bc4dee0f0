//! The web tier (stacks/web.yaml) through up, plan, an in-place rule change, and down — checked
//! through the AWS API, not through stackctl's own state.

use crate::common::{Emulator, Workspace, code_of, run, stackctl};
use aws_sdk_ec2::types::Filter;
use std::collections::BTreeMap;

const STACK: &str = "web-demo";

fn tag_filter(key: &str, value: &str) -> Filter {
    Filter::builder()
        .name(format!("tag:{key}"))
        .values(value)
        .build()
}

async fn live_instances(clients: &crate::common::Clients) -> Vec<aws_sdk_ec2::types::Instance> {
    crate::common::instances_of(clients, STACK).await
}

async fn stack_groups(clients: &crate::common::Clients) -> Vec<aws_sdk_ec2::types::SecurityGroup> {
    clients
        .ec2
        .describe_security_groups()
        .filters(tag_filter("stackctl:stack", STACK))
        .send()
        .await
        .unwrap()
        .security_groups
        .unwrap_or_default()
}

fn ingress_ports(group: &aws_sdk_ec2::types::SecurityGroup) -> Vec<(i32, String)> {
    let mut rules: Vec<(i32, String)> = group
        .ip_permissions()
        .iter()
        .flat_map(|p| {
            p.ip_ranges().iter().map(move |r| {
                (
                    p.from_port().unwrap_or(-1),
                    r.cidr_ip().unwrap_or("").to_string(),
                )
            })
        })
        .collect();
    rules.sort();
    rules
}

/// Issue #2: up creates each resource with its declared properties and tags; a second plan shows no
/// changes; editing one ingress rule is planned and applied in place; down removes everything.
#[tokio::test(flavor = "multi_thread")]
async fn web_stack_lifecycle() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let cwd = ws.dir.path();

    let up = run(stackctl(&emulator.endpoint, cwd).args(["up", "-f", "stacks/web.yaml", "--yes"]));
    assert_eq!(up.code, 0, "up failed:\n{}", up.stderr);

    // The security group: name, VPC, the one ingress rule, default egress, tags.
    let vpcs = aws
        .ec2
        .describe_vpcs()
        .filters(tag_filter("Name", "demo-vpc"))
        .send()
        .await
        .unwrap();
    let vpc_id = vpcs.vpcs()[0].vpc_id().unwrap().to_string();
    let groups = stack_groups(&aws).await;
    assert_eq!(groups.len(), 1);
    let group = &groups[0];
    assert_eq!(group.group_name(), Some("web-demo-web-sg"));
    assert_eq!(group.vpc_id(), Some(vpc_id.as_str()));
    assert_eq!(ingress_ports(group), vec![(8080, "0.0.0.0/0".to_string())]);
    let group_tags: BTreeMap<String, String> = group
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
        .collect();
    assert_eq!(
        group_tags.get("stackctl:stack").map(String::as_str),
        Some(STACK)
    );
    assert_eq!(
        group_tags.get("stackctl:resource").map(String::as_str),
        Some("web_sg")
    );
    assert_eq!(group_tags.get("project").map(String::as_str), Some("covid"));
    let group_id = group.group_id().unwrap().to_string();

    // The role: trust, managed policies, the scoped inline policy, the instance profile, tags.
    let role = aws
        .iam
        .get_role()
        .role_name("web-demo-web-role")
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    let trust = percent_encoding::percent_decode_str(role.assume_role_policy_document().unwrap())
        .decode_utf8_lossy()
        .to_string();
    assert!(trust.contains("ec2.amazonaws.com"), "{trust}");
    let attached = aws
        .iam
        .list_attached_role_policies()
        .role_name("web-demo-web-role")
        .send()
        .await
        .unwrap();
    let mut names: Vec<&str> = attached
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_name())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "AWSCloudFormationReadOnlyAccess",
            "AmazonSSMManagedInstanceCore"
        ]
    );
    let inline = aws
        .iam
        .get_role_policy()
        .role_name("web-demo-web-role")
        .policy_name("read-db-secret")
        .send()
        .await
        .unwrap();
    let document = percent_encoding::percent_decode_str(inline.policy_document())
        .decode_utf8_lossy()
        .to_string();
    assert!(
        document.contains("arn:aws:secretsmanager:us-east-1:123456789012:secret:rds-secret-name-*"),
        "{document}"
    );
    assert!(
        !document.contains("\"*\""),
        "the secret policy must not be scoped to `*`: {document}"
    );
    let profile = aws
        .iam
        .get_instance_profile()
        .instance_profile_name("web-demo-web-role")
        .send()
        .await
        .unwrap()
        .instance_profile
        .unwrap();
    assert_eq!(profile.roles()[0].role_name(), "web-demo-web-role");
    let role_tags = aws
        .iam
        .list_role_tags()
        .role_name("web-demo-web-role")
        .send()
        .await
        .unwrap();
    assert!(
        role_tags
            .tags()
            .iter()
            .any(|t| t.key() == "stackctl:stack" && t.value() == STACK)
    );

    // The instance: type, public subnet, group, profile, user data, tags, running.
    let instances = live_instances(&aws).await;
    assert_eq!(instances.len(), 1, "exactly one instance");
    let instance = &instances[0];
    assert_eq!(
        instance.instance_type().map(|t| t.as_str()),
        Some("t3.small")
    );
    assert_eq!(
        instance.state().and_then(|s| s.name()).map(|n| n.as_str()),
        Some("running")
    );
    let subnet = instance.subnet_id().unwrap();
    let public_table = aws
        .ec2
        .describe_route_tables()
        .filters(
            Filter::builder()
                .name("association.subnet-id")
                .values(subnet)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert!(
        public_table.route_tables()[0]
            .routes()
            .iter()
            .any(|r| r.gateway_id().is_some_and(|g| g.starts_with("igw-"))),
        "the web server must be in a public subnet"
    );
    assert_eq!(
        instance.security_groups()[0].group_id(),
        Some(group_id.as_str())
    );
    assert!(
        instance
            .iam_instance_profile()
            .unwrap()
            .arn()
            .unwrap()
            .ends_with("/web-demo-web-role")
    );
    let tags: BTreeMap<&str, &str> = instance
        .tags()
        .iter()
        .map(|t| (t.key().unwrap(), t.value().unwrap()))
        .collect();
    assert_eq!(tags.get("Name"), Some(&"web-demo-web"));
    assert_eq!(tags.get("stackctl:resource"), Some(&"web"));
    let user_data = aws
        .ec2
        .describe_instance_attribute()
        .instance_id(instance.instance_id().unwrap())
        .attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData)
        .send()
        .await
        .unwrap();
    let script =
        aws_smithy_types::base64::decode(user_data.user_data().unwrap().value().unwrap()).unwrap();
    let script = String::from_utf8(script).unwrap();
    assert!(
        script.contains("Environment=APP_PORT=8080"),
        "the rendered unit file is in the user data:\n{script}"
    );
    assert!(script.contains("systemctl enable --now web.service"));
    let instance_id = instance.instance_id().unwrap().to_string();

    // Outputs come from the state and name the instance.
    let outputs =
        run(stackctl(&emulator.endpoint, cwd).args(["outputs", "-f", "stacks/web.yaml", "web.id"]));
    assert_eq!(outputs.stdout.trim(), instance_id);

    // A second plan: nothing to do.
    let again = run(stackctl(&emulator.endpoint, cwd).args([
        "plan",
        "-f",
        "stacks/web.yaml",
        "--detailed-exitcode",
    ]));
    assert_eq!(
        again.code, 0,
        "second plan should show no changes:\n{}{}",
        again.stdout, again.stderr
    );

    // Edit one ingress rule: exactly that change is planned (exit 2), then applied in place.
    let edited = ws.read("stacks/web.yaml").replace(
        "- { port: \"${var.app_port}\", from: 0.0.0.0/0, description: application }",
        "- { port: \"${var.app_port}\", from: 10.0.0.0/8, description: application }",
    );
    ws.write("stacks/web.yaml", &edited);
    let plan = run(stackctl(&emulator.endpoint, cwd).args([
        "plan",
        "-f",
        "stacks/web.yaml",
        "--detailed-exitcode",
    ]));
    assert_eq!(plan.code, 2, "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("~ web_sg (security-group)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("- tcp 8080 0.0.0.0/0 (application)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("+ tcp 8080 10.0.0.0/8 (application)"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 0 to create, 1 to update, 0 to replace, 0 to delete."),
        "{}",
        plan.stdout
    );
    let json =
        run(stackctl(&emulator.endpoint, cwd).args(["plan", "-f", "stacks/web.yaml", "--json"]));
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let changed: Vec<&str> = json["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] != "no_op" && r["action"] != "read")
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(changed, vec!["web_sg"]);
    let apply =
        run(stackctl(&emulator.endpoint, cwd).args(["up", "-f", "stacks/web.yaml", "--yes"]));
    assert_eq!(apply.code, 0, "{}", apply.stderr);
    let groups = stack_groups(&aws).await;
    assert_eq!(groups.len(), 1);
    assert_eq!(
        groups[0].group_id(),
        Some(group_id.as_str()),
        "the rule change must not replace the group"
    );
    assert_eq!(
        ingress_ports(&groups[0]),
        vec![(8080, "10.0.0.0/8".to_string())]
    );
    assert_eq!(
        live_instances(&aws).await[0].instance_id(),
        Some(instance_id.as_str()),
        "the instance is untouched"
    );

    // Down removes everything, even with the stack file gone.
    std::fs::remove_file(ws.path("stacks/web.yaml")).unwrap();
    let down =
        run(stackctl(&emulator.endpoint, cwd).args(["down", "-f", "stacks/web.yaml", "--yes"]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert!(
        live_instances(&aws).await.is_empty(),
        "no instance with the stack tag remains"
    );
    assert!(
        stack_groups(&aws).await.is_empty(),
        "no security group with the stack tag remains"
    );
    let role = aws
        .iam
        .get_role()
        .role_name("web-demo-web-role")
        .send()
        .await;
    assert_eq!(code_of(role), "NoSuchEntity", "the role is gone");
    let profile = aws
        .iam
        .get_instance_profile()
        .instance_profile_name("web-demo-web-role")
        .send()
        .await;
    assert_eq!(
        code_of(profile),
        "NoSuchEntity",
        "the instance profile is gone"
    );
    let state: serde_json::Value =
        serde_json::from_str(&ws.read("stacks/.stackctl/web.yaml.state.json")).unwrap();
    assert_eq!(
        state["resources"].as_object().unwrap().len(),
        0,
        "the state lists nothing"
    );
}

/// Issue #2: a second run while another holds the lock fails at once, naming the holder.
#[tokio::test(flavor = "multi_thread")]
async fn second_run_fails_fast_while_locked() {
    let emulator = Emulator::start();
    let ws = Workspace::new();
    let state_path = ws.path("stacks/.stackctl/web.yaml.state.json");
    let held = stackctl::state::lock::Lock::acquire(&state_path, "up").unwrap();
    let started = std::time::Instant::now();
    let second = run(stackctl(&emulator.endpoint, ws.dir.path()).args([
        "up",
        "-f",
        "stacks/web.yaml",
        "--yes",
    ]));
    assert_eq!(second.code, 1);
    assert!(started.elapsed().as_secs() < 10, "must fail fast");
    assert!(
        second.stderr.contains("the state is locked"),
        "{}",
        second.stderr
    );
    assert!(
        second
            .stderr
            .contains(&format!("pid {}", std::process::id())),
        "{}",
        second.stderr
    );
    assert!(
        second.stderr.contains("its lock ends with the process"),
        "{}",
        second.stderr
    );
    assert!(
        emulator.requests().is_empty(),
        "no AWS call while locked: {:?}",
        emulator.requests()
    );
    drop(held);
}

/// Issue #2: an instance created with a client token is not duplicated when the create is repeated:
/// a crash after RunInstances leaves intent in state, and the next `up` finds the instance again.
#[tokio::test(flavor = "multi_thread")]
async fn interrupted_create_is_found_again_not_duplicated() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let cwd = ws.dir.path();
    let up = run(stackctl(&emulator.endpoint, cwd).args(["up", "-f", "stacks/web.yaml", "--yes"]));
    assert_eq!(up.code, 0, "{}", up.stderr);
    // Simulate a crash right after the create calls: ids never recorded, only the intent.
    let path = ws.path("stacks/.stackctl/web.yaml.state.json");
    let mut state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for name in ["web", "web_sg", "web_role"] {
        let entry = &mut state["resources"][name];
        entry["status"] = "creating".into();
        entry.as_object_mut().unwrap().remove("id");
    }
    std::fs::write(&path, serde_json::to_string_pretty(&state).unwrap()).unwrap();
    let again =
        run(stackctl(&emulator.endpoint, cwd).args(["up", "-f", "stacks/web.yaml", "--yes"]));
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(live_instances(&aws).await.len(), 1, "no second instance");
    assert_eq!(stack_groups(&aws).await.len(), 1, "no second group");
    let plan = run(stackctl(&emulator.endpoint, cwd).args([
        "plan",
        "-f",
        "stacks/web.yaml",
        "--detailed-exitcode",
    ]));
    assert_eq!(plan.code, 0, "{}{}", plan.stdout, plan.stderr);
    let down =
        run(stackctl(&emulator.endpoint, cwd).args(["down", "-f", "stacks/web.yaml", "--yes"]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert!(live_instances(&aws).await.is_empty());
}

/// Issue #2: a failure stops new work, lets in-flight work finish and be recorded, and exits 1 naming
/// the resource, the AWS error code and message; `down` then removes what was created.
#[tokio::test(flavor = "multi_thread")]
async fn failure_names_resource_and_code_and_keeps_what_was_created() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let cwd = ws.dir.path();
    let broken = ws
        .read("stacks/web.yaml")
        .replace("image: amazon-linux-2", "image: ami-00000000000000000");
    ws.write("stacks/web.yaml", &broken);
    let up = run(stackctl(&emulator.endpoint, cwd).args(["up", "-f", "stacks/web.yaml", "--yes"]));
    assert_eq!(up.code, 1, "{}", up.stderr);
    assert!(up.stderr.contains("web (ec2-instance)"), "{}", up.stderr);
    assert!(
        up.stderr
            .contains("RunInstances failed: InvalidAMIID.NotFound"),
        "{}",
        up.stderr
    );
    assert!(up.stderr.contains("help:"), "{}", up.stderr);
    assert!(live_instances(&aws).await.is_empty());
    assert_eq!(
        stack_groups(&aws).await.len(),
        1,
        "the group created before the failure stays"
    );
    let state: serde_json::Value =
        serde_json::from_str(&ws.read("stacks/.stackctl/web.yaml.state.json")).unwrap();
    assert_eq!(state["resources"]["web_sg"]["status"], "created");
    assert_eq!(state["resources"]["web_role"]["status"], "created");

    // Issue #4: after fixing the file, `up` resumes: only the instance is created, nothing else is touched.
    let group_id = stack_groups(&aws).await[0].group_id().unwrap().to_string();
    let role_id = aws
        .iam
        .get_role()
        .role_name("web-demo-web-role")
        .send()
        .await
        .unwrap()
        .role
        .unwrap()
        .role_id()
        .to_string();
    ws.write(
        "stacks/web.yaml",
        &ws.read("stacks/web.yaml")
            .replace("image: ami-00000000000000000", "image: amazon-linux-2"),
    );
    let plan =
        run(stackctl(&emulator.endpoint, cwd).args(["plan", "-f", "stacks/web.yaml", "--json"]));
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let changing: Vec<(&str, &str)> = plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] != "no_op" && r["action"] != "read")
        .map(|r| (r["name"].as_str().unwrap(), r["action"].as_str().unwrap()))
        .collect();
    assert_eq!(changing, vec![("web", "create")]);
    let resumed =
        run(stackctl(&emulator.endpoint, cwd).args(["up", "-f", "stacks/web.yaml", "--yes"]));
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert_eq!(live_instances(&aws).await.len(), 1);
    assert_eq!(
        stack_groups(&aws).await[0].group_id(),
        Some(group_id.as_str()),
        "the group was not touched"
    );
    let role = aws
        .iam
        .get_role()
        .role_name("web-demo-web-role")
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    assert_eq!(role.role_id(), role_id, "the role was not re-created");

    let down =
        run(stackctl(&emulator.endpoint, cwd).args(["down", "-f", "stacks/web.yaml", "--yes"]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert!(stack_groups(&aws).await.is_empty());
    assert_eq!(
        code_of(
            aws.iam
                .get_role()
                .role_name("web-demo-web-role")
                .send()
                .await
        ),
        "NoSuchEntity"
    );
}

/// Issue #4: drift. A rule added by hand is planned for removal and removed; an instance deleted by hand
/// is planned for re-creation, and `down` does not fail on it.
#[tokio::test(flavor = "multi_thread")]
async fn drift_is_noticed_and_reverted() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let cwd = ws.dir.path();
    let file = "stacks/web.yaml";
    assert_eq!(
        run(stackctl(&emulator.endpoint, cwd).args(["up", "-f", file, "--yes"])).code,
        0
    );
    let group_id = stack_groups(&aws).await[0].group_id().unwrap().to_string();
    aws.ec2
        .authorize_security_group_ingress()
        .group_id(&group_id)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(22)
                .to_port(22)
                .ip_ranges(
                    aws_sdk_ec2::types::IpRange::builder()
                        .cidr_ip("0.0.0.0/0")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let drift =
        run(stackctl(&emulator.endpoint, cwd).args(["plan", "-f", file, "--detailed-exitcode"]));
    assert_eq!(drift.code, 2, "{}", drift.stdout);
    assert!(
        drift.stdout.contains("~ web_sg (security-group)"),
        "{}",
        drift.stdout
    );
    assert!(
        drift.stdout.contains("- tcp 22 0.0.0.0/0"),
        "{}",
        drift.stdout
    );
    assert_eq!(
        run(stackctl(&emulator.endpoint, cwd).args(["up", "-f", file, "--yes"])).code,
        0
    );
    assert_eq!(
        ingress_ports(&stack_groups(&aws).await[0]),
        vec![(8080, "0.0.0.0/0".to_string())],
        "the hand-made rule is gone"
    );

    let instance_id = live_instances(&aws).await[0]
        .instance_id()
        .unwrap()
        .to_string();
    aws.ec2
        .terminate_instances()
        .instance_ids(&instance_id)
        .send()
        .await
        .unwrap();
    let gone =
        run(stackctl(&emulator.endpoint, cwd).args(["plan", "-f", file, "--detailed-exitcode"]));
    assert_eq!(gone.code, 2);
    assert!(
        gone.stdout
            .contains("+ web (ec2-instance): create — deleted outside stackctl"),
        "{}",
        gone.stdout
    );
    let down = run(stackctl(&emulator.endpoint, cwd).args(["down", "-f", file, "--yes"]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert!(stack_groups(&aws).await.is_empty());
    assert!(live_instances(&aws).await.is_empty());
}
