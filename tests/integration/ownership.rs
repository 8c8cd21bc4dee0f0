//! Issue #8: stackctl touches only what its own state created. Two folders of one stack name, a lost
//! state file, renames and repeated teardowns — each checked through the AWS API.

use crate::common::{Clients, Emulator, Workspace, code_of, live_instances, run, stackctl};
use aws_sdk_ec2::types::Filter;
use serde_json::Value as Json;

/// Request actions that change something in AWS.
const MUTATIONS: &[&str] = &[
    "Create",
    "Delete",
    "Modify",
    "Authorize",
    "Revoke",
    "Put",
    "Tag",
    "Untag",
    "Add",
    "Remove",
    "Attach",
    "Detach",
    "Run",
    "Terminate",
    "Update",
    "Restore",
    "Stop",
    "Start",
    "Associate",
];

fn mutations(emulator: &Emulator) -> Vec<String> {
    emulator
        .requests()
        .into_iter()
        .filter(|r| {
            let action = r.split_once('.').map(|(_, a)| a).unwrap_or(r);
            MUTATIONS.iter().any(|m| action.starts_with(m))
        })
        .collect()
}

/// `exists`, or the error code DescribeSecurityGroups answers for this id.
async fn group_code(aws: &Clients, id: &str) -> String {
    code_of(
        aws.ec2
            .describe_security_groups()
            .group_ids(id)
            .send()
            .await,
    )
}

async fn group_id(aws: &Clients, name: &str) -> Option<String> {
    crate::common::groups_named(aws, name)
        .await
        .first()
        .and_then(|g| g.group_id())
        .map(str::to_string)
}

async fn group_tags(aws: &Clients, id: &str) -> std::collections::BTreeMap<String, String> {
    aws.ec2
        .describe_security_groups()
        .group_ids(id)
        .send()
        .await
        .unwrap()
        .security_groups()[0]
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn secret_arn_and_lineage(aws: &Clients, name: &str) -> (String, Option<String>) {
    let out = aws
        .secrets
        .describe_secret()
        .secret_id(name)
        .send()
        .await
        .unwrap();
    let lineage = out
        .tags()
        .iter()
        .find(|t| t.key() == Some("stackctl:lineage"))
        .and_then(|t| t.value())
        .map(str::to_string);
    (out.arn().unwrap_or_default().to_string(), lineage)
}

fn lineage_of(ws: &Workspace, state: &str) -> String {
    let state: Json = serde_json::from_str(&ws.read(state)).unwrap();
    state["lineage"].as_str().unwrap().to_string()
}

const SHARED: &str = "stack: shared\nregion: us-east-1\nresources:\n  vpc: { type: vpc, name: demo-vpc }\n  app_sg:\n    type: security-group\n    vpc: ${vpc.id}\n    ingress: [ { port: 8080, from: 0.0.0.0/0 } ]\n  creds:\n    type: secret\n    name: shared/creds\n    generate: { length: 24 }\n    recovery_window_days: 0\n  db_subnets: { type: rds-subnet-group }\n";

/// Issue #8, points 1-3: a second folder with a stack file of the same `stack:` name finds the first
/// folder's resources, and stops before any change: it neither adopts, changes nor deletes them —
/// not on `plan`, `up` or `down`, not even with a state that names them as half-created. `app.yml`
/// beside `app.yaml` has its own state; `down` refuses a state of another stack.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_folder_of_the_same_stack_never_touches_the_first() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    ws.write("team-a/stack.yaml", SHARED);
    ws.write("team-b/stack.yaml", SHARED);
    let stackctl_in = |args: &[&str]| run(stackctl(&emulator.endpoint, ws.dir.path()).args(args));

    let up_a = stackctl_in(&["up", "-f", "team-a/stack.yaml", "--yes"]);
    assert_eq!(up_a.code, 0, "{}", up_a.stderr);
    let lineage_a = lineage_of(&ws, "team-a/.stackctl/stack.yaml.state.json");
    let group = group_id(&aws, "shared-app-sg")
        .await
        .expect("team A's group");
    let (secret_arn, secret_lineage) = secret_arn_and_lineage(&aws, "shared/creds").await;
    assert_eq!(secret_lineage.as_deref(), Some(lineage_a.as_str()));
    assert_eq!(
        group_tags(&aws, &group).await.get("stackctl:lineage"),
        Some(&lineage_a),
        "every resource records the state that created it"
    );

    emulator.reset_requests();
    for command in [&["plan"][..], &["up", "--yes"][..]] {
        let mut args = command.to_vec();
        args.extend(["-f", "team-b/stack.yaml"]);
        let refused = stackctl_in(&args);
        assert_eq!(refused.code, 1, "{command:?}: {}", refused.stderr);
        for expected in [
            "AWS holds 3 resources tagged with stack `shared` that this state does not record",
            &group,
            "shared/creds",
            "by another state (lineage",
            "import --all",
            "another `stack:` name",
        ] {
            assert!(
                refused.stderr.contains(expected),
                "{command:?} names {expected}:\n{}",
                refused.stderr
            );
        }
    }
    let sweep_b = stackctl_in(&["sweep", "-f", "team-b/stack.yaml", "--yes"]);
    assert_eq!(sweep_b.code, 0, "{}", sweep_b.stderr);
    assert!(
        sweep_b.stderr.contains("Nothing to sweep"),
        "{}",
        sweep_b.stderr
    );
    let down_b = stackctl_in(&["down", "-f", "team-b/stack.yaml", "--yes"]);
    assert_eq!(down_b.code, 0, "{}", down_b.stderr);
    assert!(
        down_b.stderr.contains("Nothing to remove"),
        "{}",
        down_b.stderr
    );

    // Team B's first `up` recorded its intent and then failed half-way: its state names the secret
    // and the group as being created. They are team A's, so nothing may adopt or delete them.
    ws.write(
        "team-b/.stackctl/stack.yaml.state.json",
        r#"{"format_version": 1, "stack": "shared", "region": "us-east-1", "lineage": "team-b", "serial": 3,
            "resources": {
              "app_sg": {"type": "security-group", "status": "creating", "physical_name": "shared-app-sg", "config": {}, "outputs": {}, "updated_at": "2026-12-01T00:00:00Z"},
              "creds": {"type": "secret", "status": "creating", "physical_name": "shared/creds", "config": {}, "outputs": {}, "updated_at": "2026-12-01T00:00:00Z"}
            }}"#,
    );
    for command in [&["plan"][..], &["up", "--yes"][..], &["down", "--yes"][..]] {
        let mut args = command.to_vec();
        args.extend(["-f", "team-b/stack.yaml"]);
        let refused = stackctl_in(&args);
        assert_eq!(refused.code, 1, "{command:?}: {}", refused.stderr);
        assert!(
            refused
                .stderr
                .contains("creds (secret shared/creds): belongs to another state of this stack"),
            "{command:?}:\n{}",
            refused.stderr
        );
        assert!(
            refused.stderr.contains("nothing was changed"),
            "{}",
            refused.stderr
        );
    }

    // `stack.yml` beside `stack.yaml` has a state of its own: its `down` removes nothing of A's.
    ws.write("team-a/stack.yml", SHARED);
    let down_yml = stackctl_in(&["down", "-f", "team-a/stack.yml", "--yes"]);
    assert_eq!(down_yml.code, 0, "{}", down_yml.stderr);
    assert!(
        down_yml.stderr.contains("Nothing to remove"),
        "{}",
        down_yml.stderr
    );
    // A state of another stack is refused by `down` as by every command.
    let wrong = stackctl_in(&[
        "down",
        "-f",
        "stacks/web.yaml",
        "--state",
        "team-a/.stackctl/stack.yaml.state.json",
        "--yes",
    ]);
    assert_eq!(wrong.code, 1, "{}", wrong.stderr);
    assert!(
        wrong
            .stderr
            .contains("belongs to stack `shared`, not `web-demo`"),
        "{}",
        wrong.stderr
    );

    assert_eq!(
        mutations(&emulator),
        Vec::<String>::new(),
        "nothing was changed in AWS"
    );
    assert_eq!(group_id(&aws, "shared-app-sg").await, Some(group.clone()));
    assert_eq!(
        secret_arn_and_lineage(&aws, "shared/creds").await,
        (secret_arn, Some(lineage_a))
    );
    let subnets = aws
        .rds
        .describe_db_subnet_groups()
        .db_subnet_group_name("shared-db-subnets")
        .send()
        .await;
    assert!(subnets.is_ok(), "team A's subnet group is untouched");

    let down_a = stackctl_in(&["down", "-f", "team-a/stack.yaml", "--yes"]);
    assert_eq!(down_a.code, 0, "{}", down_a.stderr);
    assert_eq!(group_code(&aws, &group).await, "InvalidGroup.NotFound");
    assert_eq!(
        code_of(
            aws.secrets
                .describe_secret()
                .secret_id("shared/creds")
                .send()
                .await
        ),
        "ResourceNotFoundException"
    );
    assert_eq!(
        code_of(
            aws.rds
                .describe_db_subnet_groups()
                .db_subnet_group_name("shared-db-subnets")
                .send()
                .await
        ),
        "DBSubnetGroupNotFoundFault"
    );
}

/// Issue #8, points 3-4: with the state file lost, `plan` and `up` stop and list what AWS holds under
/// the stack's tag (never a second instance); `sweep` deletes it; after another loss, `import --all`
/// adopts it, the plan shows only ownership tags to add, and `up` converges without a replacement.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_state_file_is_recovered_by_import_or_swept() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let file = "stacks/web.yaml";
    let state = "stacks/.stackctl/web.yaml.state.json";
    let stackctl_in = |args: &[&str]| run(stackctl(&emulator.endpoint, ws.dir.path()).args(args));

    let up = stackctl_in(&["up", "-f", file, "--yes"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let instance = live_instances(&aws, "web-demo").await;
    assert_eq!(instance.len(), 1);
    let lost_lineage = lineage_of(&ws, state);
    std::fs::remove_file(ws.path(state)).unwrap();

    emulator.reset_requests();
    let plan = stackctl_in(&["plan", "-f", file]);
    assert_eq!(plan.code, 1, "{}", plan.stderr);
    for expected in [
        "AWS holds 3 resources tagged with stack `web-demo` that this state does not record",
        &format!("ec2-instance {} (made for `web`", instance[0]),
        "iam-role web-demo-web-role",
        "stackctl import --all",
        "stackctl sweep",
    ] {
        assert!(
            plan.stderr.contains(expected),
            "{expected}:\n{}",
            plan.stderr
        );
    }
    let again = stackctl_in(&["up", "-f", file, "--yes"]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert_eq!(mutations(&emulator), Vec::<String>::new());
    assert_eq!(
        live_instances(&aws, "web-demo").await,
        instance,
        "never a duplicate"
    );

    // sweep: what another state made is left alone unless its lineage is named (that state may
    // live in another folder); then it is deleted.
    let careful = stackctl_in(&["sweep", "-f", file, "--yes"]);
    assert_eq!(careful.code, 0, "{}", careful.stderr);
    let short = lost_lineage.split('-').next().unwrap();
    assert!(
        careful
            .stderr
            .contains(&format!("stackctl sweep --lineage {short}")),
        "{}",
        careful.stderr
    );
    assert_eq!(mutations(&emulator), Vec::<String>::new());
    assert_eq!(live_instances(&aws, "web-demo").await, instance);
    let sweep = stackctl_in(&["sweep", "-f", file, "--lineage", short, "--yes"]);
    assert_eq!(sweep.code, 0, "{}", sweep.stderr);
    assert!(sweep.stderr.contains(&instance[0]), "{}", sweep.stderr);
    assert_eq!(live_instances(&aws, "web-demo").await, Vec::<String>::new());
    assert_eq!(group_id(&aws, "web-demo-web-sg").await, None);
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
    let nothing = stackctl_in(&["sweep", "-f", file, "--yes"]);
    assert!(
        nothing.stderr.contains("Nothing to sweep"),
        "{}",
        nothing.stderr
    );

    // Up again, lose the state again, and this time adopt everything back.
    let up = stackctl_in(&["up", "-f", file, "--yes"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let instance = live_instances(&aws, "web-demo").await;
    let group = group_id(&aws, "web-demo-web-sg").await.unwrap();
    std::fs::remove_file(ws.path(state)).unwrap();
    let import = stackctl_in(&["import", "--all", "-f", file]);
    assert_eq!(import.code, 0, "{}", import.stderr);
    assert!(
        import
            .stderr
            .contains(&format!("imported web (ec2-instance {})", instance[0])),
        "{}",
        import.stderr
    );
    assert_only_tags_to_add(&plan_json(&emulator, &ws, file));
    let up = stackctl_in(&["up", "-f", file, "--yes"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert_eq!(
        live_instances(&aws, "web-demo").await,
        instance,
        "same instance"
    );
    assert_eq!(group_id(&aws, "web-demo-web-sg").await, Some(group.clone()));
    let lineage = lineage_of(&ws, state);
    assert_eq!(
        group_tags(&aws, &group).await.get("stackctl:lineage"),
        Some(&lineage),
        "adopted: now this state's"
    );
    let clean = stackctl_in(&["plan", "-f", file, "--detailed-exitcode"]);
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    let down = stackctl_in(&["down", "-f", file, "--yes"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_eq!(live_instances(&aws, "web-demo").await, Vec::<String>::new());
    assert_eq!(group_code(&aws, &group).await, "InvalidGroup.NotFound");
}

const RENAMES: &str = "stack: renames\nregion: us-east-1\nresources:\n  vpc: { type: vpc, name: demo-vpc }\n  app_sg:\n    type: security-group\n    vpc: ${vpc.id}\n  token:\n    type: secret\n    generate: { length: 24 }\n    recovery_window_days: 0\n";

fn plan_json(emulator: &Emulator, ws: &Workspace, file: &str) -> Json {
    let plan =
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["plan", "-f", file, "--json"]));
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    serde_json::from_str(&plan.stdout).unwrap()
}

/// A plan after an import: tags to add in place, never a create, a replacement or a delete.
fn assert_only_tags_to_add(plan: &Json) {
    for resource in plan["resources"].as_array().unwrap() {
        assert!(
            matches!(
                resource["action"].as_str().unwrap(),
                "read" | "no_op" | "update"
            ),
            "never a create or replacement: {resource}"
        );
        for change in resource["changes"].as_array().unwrap() {
            assert!(
                change["attribute"].as_str().unwrap().starts_with("tags"),
                "only tags to add: {resource}"
            );
        }
    }
}

fn planned<'a>(plan: &'a Json, name: &str) -> &'a Json {
    plan["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {plan}"))
}

/// Issue #8, point 6: a key renamed with `moved:` (or `stackctl state mv`) keeps its resource, and
/// the name stackctl gave it: the plan says "moved" and AWS keeps the same group and secret. Renamed without either, the plan deletes
/// and creates, marks the data loss, and says how to keep it.
#[tokio::test(flavor = "multi_thread")]
async fn renames_keep_the_resource() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let file = "stacks/renames.yaml";
    ws.write(file, RENAMES);
    let stackctl_in = |args: &[&str]| run(stackctl(&emulator.endpoint, ws.dir.path()).args(args));
    assert_eq!(stackctl_in(&["up", "-f", file, "--yes"]).code, 0);
    let group = group_id(&aws, "renames-app-sg").await.unwrap();
    let (secret, _) = secret_arn_and_lineage(&aws, "renames-token").await;

    // moved:
    ws.write(
        file,
        &format!(
            "{}\nmoved:\n  app_sg: web_sg\n",
            RENAMES.replace("  app_sg:\n", "  web_sg:\n")
        ),
    );
    let plan = plan_json(&emulator, &ws, file);
    let moved = planned(&plan, "web_sg");
    assert_eq!(moved["moved_from"], "app_sg", "{plan}");
    assert_eq!(
        moved["action"], "update",
        "only its stackctl:resource tag: {moved}"
    );
    assert!(
        plan["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["action"] != "delete" && r["action"] != "create"),
        "{plan}"
    );
    let human = stackctl_in(&["plan", "-f", file]);
    assert!(
        human.stdout.contains("web_sg (moved from `app_sg`)"),
        "{}",
        human.stdout
    );
    assert_eq!(stackctl_in(&["up", "-f", file, "--yes"]).code, 0);
    assert_eq!(
        group_id(&aws, "renames-app-sg").await,
        Some(group.clone()),
        "same group"
    );
    assert_eq!(
        group_tags(&aws, &group)
            .await
            .get("stackctl:resource")
            .map(String::as_str),
        Some("web_sg")
    );

    // A chain of renames kept as history, written in any order.
    ws.write(
        file,
        &format!(
            "{}\nmoved:\n  web_sg: front_sg\n  app_sg: web_sg\n",
            RENAMES.replace("  app_sg:\n", "  front_sg:\n")
        ),
    );
    let plan = plan_json(&emulator, &ws, file);
    assert_eq!(planned(&plan, "front_sg")["moved_from"], "web_sg", "{plan}");
    assert_eq!(stackctl_in(&["up", "-f", file, "--yes"]).code, 0);
    assert_eq!(
        group_id(&aws, "renames-app-sg").await,
        Some(group.clone()),
        "still the same group"
    );

    // state mv, with the key renamed in the file and no `moved:`.
    let renamed = RENAMES
        .replace("  app_sg:\n", "  front_sg:\n")
        .replace("  token:\n", "  api_token:\n");
    ws.write(file, &renamed);
    let mv = stackctl_in(&["state", "mv", "token", "api_token", "-f", file]);
    assert_eq!(mv.code, 0, "{}", mv.stderr);
    assert!(mv.stderr.contains("AWS was not touched"), "{}", mv.stderr);
    let plan = plan_json(&emulator, &ws, file);
    assert_eq!(planned(&plan, "api_token")["action"], "update", "{plan}");
    assert_eq!(stackctl_in(&["up", "-f", file, "--yes"]).code, 0);
    assert_eq!(
        secret_arn_and_lineage(&aws, "renames-token").await.0,
        secret,
        "same secret"
    );

    // Renamed without either: delete and create, with the data loss marked and the way to keep it.
    ws.write(file, &renamed.replace("  api_token:\n", "  db_token:\n"));
    let plan = plan_json(&emulator, &ws, file);
    let gone = planned(&plan, "api_token");
    assert_eq!(gone["action"], "delete");
    assert_eq!(gone["data_loss"]["what"], "the secret's value", "{gone}");
    assert!(
        gone["reason"]
            .as_str()
            .unwrap()
            .contains("moved: { api_token: db_token }"),
        "{gone}"
    );
    assert_eq!(planned(&plan, "db_token")["action"], "create");
    let human = stackctl_in(&["plan", "-f", file]);
    assert!(
        human
            .stdout
            .contains("! data loss: the secret's value is deleted"),
        "{}",
        human.stdout
    );
    assert_eq!(stackctl_in(&["up", "-f", file, "--yes"]).code, 0);
    assert_eq!(
        code_of(
            aws.secrets
                .describe_secret()
                .secret_id("renames-token")
                .send()
                .await
        ),
        "ResourceNotFoundException"
    );
    assert!(
        aws.secrets
            .describe_secret()
            .secret_id("renames-db-token")
            .send()
            .await
            .is_ok()
    );
    assert_eq!(stackctl_in(&["down", "-f", file, "--yes"]).code, 0);
    assert_eq!(group_code(&aws, &group).await, "InvalidGroup.NotFound");
}

const DATABASE: &str = "stack: dbs\nregion: us-east-1\nresources:\n  vpc: { type: vpc, name: demo-vpc }\n  db_subnets: { type: rds-subnet-group }\n  db:\n    type: rds-instance\n    instance_class: db.t3.micro\n    password_secret: dbs-credentials\n    subnet_group: ${db_subnets.name}\n  web:\n    type: ec2-instance\n    instance_type: t3.micro\n    image: amazon-linux-2\n    subnet: ${vpc.public_subnets[0]}\n";

async fn db_groups(aws: &Clients, id: &str) -> Vec<String> {
    aws.rds
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
        .unwrap()
        .db_instances()[0]
        .vpc_security_groups()
        .iter()
        .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
        .collect()
}

async fn final_snapshots(aws: &Clients, id: &str) -> Vec<String> {
    let mut names: Vec<String> = aws
        .rds
        .describe_db_snapshots()
        .db_instance_identifier(id)
        .send()
        .await
        .unwrap()
        .db_snapshots()
        .iter()
        .filter_map(|s| s.db_snapshot_identifier().map(str::to_string))
        .collect();
    names.sort();
    names
}

/// Issue #8, points 6-8: a database renamed without `moved:` completes (the old one deleted with its
/// final snapshot, the new one reusing the credentials secret this state made); up, down, up, down
/// works, each teardown taking a final snapshot of its own, named in the plan and the run; a database
/// and an instance that leave `security_groups` out keep the groups AWS chose.
#[tokio::test(flavor = "multi_thread")]
async fn databases_are_renamed_and_torn_down_repeatedly() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let file = "stacks/dbs.yaml";
    ws.write(file, DATABASE);
    let stackctl_in = |args: &[&str]| run(stackctl(&emulator.endpoint, ws.dir.path()).args(args));
    let up = stackctl_in(&["up", "-f", file, "--yes"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let groups = db_groups(&aws, "dbs-db").await;
    let instance = live_instances(&aws, "dbs").await;
    let instance_groups = |aws: &Clients, id: String| {
        let ec2 = aws.ec2.clone();
        async move {
            ec2.describe_instances()
                .instance_ids(id)
                .send()
                .await
                .unwrap()
                .reservations()[0]
                .instances()[0]
                .security_groups()
                .iter()
                .filter_map(|g| g.group_id().map(str::to_string))
                .collect::<Vec<_>>()
        }
    };
    let web_groups = instance_groups(&aws, instance[0].clone()).await;
    assert!(
        !groups.is_empty() && !web_groups.is_empty(),
        "AWS chose groups"
    );
    let clean = stackctl_in(&["plan", "-f", file, "--detailed-exitcode"]);
    assert_eq!(
        clean.code, 0,
        "groups AWS chose are no difference:\n{}",
        clean.stdout
    );
    assert_eq!(stackctl_in(&["up", "-f", file, "--yes"]).code, 0);
    assert_eq!(db_groups(&aws, "dbs-db").await, groups, "never stripped");
    assert_eq!(instance_groups(&aws, instance[0].clone()).await, web_groups);

    let password = || async {
        let value = aws
            .secrets
            .get_secret_value()
            .secret_id("dbs-credentials")
            .send()
            .await
            .unwrap();
        let value: Json = serde_json::from_str(value.secret_string().unwrap()).unwrap();
        value["password"].as_str().unwrap().to_string()
    };
    let first_password = password().await;

    // Renamed without `moved:`.
    ws.write(file, &DATABASE.replace("  db:\n", "  database:\n"));
    let plan = plan_json(&emulator, &ws, file);
    let snapshot = planned(&plan, "db")["data_loss"]["final_snapshot"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(snapshot.starts_with("dbs-db-final-"), "{plan}");
    let renamed = stackctl_in(&["up", "-f", file, "--yes"]);
    assert_eq!(renamed.code, 0, "{}", renamed.stderr);
    assert!(
        renamed.stderr.contains("final snapshot dbs-db-final-"),
        "{}",
        renamed.stderr
    );
    assert_eq!(
        code_of(
            aws.rds
                .describe_db_instances()
                .db_instance_identifier("dbs-db")
                .send()
                .await
        ),
        "DBInstanceNotFound"
    );
    assert_eq!(db_groups(&aws, "dbs-database").await.len(), 1);
    assert_eq!(final_snapshots(&aws, "dbs-db").await.len(), 1);
    assert!(
        aws.secrets
            .describe_secret()
            .secret_id("dbs-credentials")
            .send()
            .await
            .is_ok()
    );
    let clean = stackctl_in(&["plan", "-f", file, "--detailed-exitcode"]);
    assert_eq!(clean.code, 0, "{}", clean.stdout);

    // up, down, up, down: a final snapshot per teardown, named in the destroy plan.
    for round in 1..=2 {
        let destroy = run(stackctl(&emulator.endpoint, ws.dir.path()).args([
            "plan",
            "--destroy",
            "-f",
            file,
            "--json",
        ]));
        assert_eq!(destroy.code, 0, "{}", destroy.stderr);
        let destroy: Json = serde_json::from_str(&destroy.stdout).unwrap();
        let loss = &planned(&destroy, "database")["data_loss"];
        assert!(
            loss["remains"]
                .as_str()
                .unwrap()
                .contains("dbs-credentials"),
            "{loss}"
        );
        let promised = loss["final_snapshot"].as_str().unwrap().to_string();
        // The second teardown applies a saved plan: the snapshot it named is the one taken.
        let down = if round == 1 {
            stackctl_in(&["down", "-f", file, "--yes"])
        } else {
            let saved = stackctl_in(&["plan", "--destroy", "-f", file, "-o", "destroy.json"]);
            assert_eq!(saved.code, 0, "{}", saved.stderr);
            let saved: Json = serde_json::from_str(&ws.read("destroy.json")).unwrap();
            let promised = planned(&saved["plan"], "database")["data_loss"]["final_snapshot"]
                .as_str()
                .unwrap()
                .to_string();
            std::thread::sleep(std::time::Duration::from_millis(20));
            let down = stackctl_in(&["down", "destroy.json", "--yes"]);
            assert!(
                final_snapshots(&aws, "dbs-database")
                    .await
                    .contains(&promised),
                "{promised}: {}",
                down.stderr
            );
            down
        };
        assert_eq!(down.code, 0, "round {round}: {}", down.stderr);
        if round == 1 {
            assert!(
                down.stderr.contains("final snapshot dbs-database-final-"),
                "{}",
                down.stderr
            );
            assert!(!promised.is_empty());
        }
        assert_eq!(
            code_of(
                aws.rds
                    .describe_db_instances()
                    .db_instance_identifier("dbs-database")
                    .send()
                    .await
            ),
            "DBInstanceNotFound"
        );
        let snapshots = final_snapshots(&aws, "dbs-database").await;
        assert_eq!(snapshots.len(), round, "{snapshots:?}");
        if round == 1 {
            let up = stackctl_in(&["up", "-f", file, "--yes"]);
            assert_eq!(up.code, 0, "{}", up.stderr);
        }
    }
    assert_eq!(live_instances(&aws, "dbs").await, Vec::<String>::new());
    assert_eq!(
        password().await,
        first_password,
        "every database since the first took the kept secret's password: every final snapshot opens with it"
    );
}

const CDK_STACK: &str = r#"stack: cdk-demo
region: us-east-1
resources:
  vpc: { type: vpc, name: demo-vpc }
  cache_subnets:
    type: elasticache-subnet-group
    name: cdk-cache-subnets
    description: subnet group for redis cluster
  db_subnets:
    type: rds-subnet-group
    name: cdk-db-subnets
    description: subnet group for the covid database
  web_sg:
    type: security-group
    name: cdk-web
    description: web server
    vpc: ${vpc.id}
    ingress:
      - { port: 8080, from: 0.0.0.0/0 }
  redis_sg:
    type: security-group
    name: cdk-redis
    description: redis from web
    vpc: ${vpc.id}
    ingress:
      - { port: 6379, from: "${web_sg.id}" }
  db_sg:
    type: security-group
    name: cdk-db
    description: mysql from web
    vpc: ${vpc.id}
    ingress:
      - { port: 3306, from: "${web_sg.id}" }
  cache:
    type: elasticache-cluster
    name: cdk-redis
    node_type: cache.t3.small
    subnet_group: ${cache_subnets.name}
    security_groups: ["${redis_sg.id}"]
  db:
    type: rds-instance
    name: cdk-db
    engine_version: "8.0"
    instance_class: db.t3.medium
    database_name: covid
    password_secret: cdk-db-credentials
    iam_auth: true
    subnet_group: ${db_subnets.name}
    security_groups: ["${db_sg.id}"]
    removal_policy: destroy
  web_role:
    type: iam-role
    name: cdk-web-role
    assumed_by: ec2.amazonaws.com
    managed_policies: [AmazonSSMManagedInstanceCore]
  web:
    type: ec2-instance
    name: cdk-web
    instance_type: t3.small
    image: amazon-linux-2
    subnet: ${vpc.public_subnets[0]}
    security_groups: ["${web_sg.id}"]
    instance_profile: ${web_role.instance_profile}
"#;

/// Seed 000's resources made through the AWS API as the CDK would, with no stackctl tag; returns
/// what `stackctl import` needs: resource key → AWS id.
async fn make_like_the_cdk(aws: &Clients) -> Vec<(&'static str, String)> {
    use aws_sdk_ec2::types::{IpPermission, IpRange, UserIdGroupPair};
    let subnet = |name: &'static str| {
        let ec2 = aws.ec2.clone();
        async move {
            ec2.describe_subnets()
                .filters(Filter::builder().name("tag:Name").values(name).build())
                .send()
                .await
                .unwrap()
                .subnets()[0]
                .subnet_id()
                .unwrap()
                .to_string()
        }
    };
    let private = vec![
        subnet("demo-vpc-private-a").await,
        subnet("demo-vpc-private-b").await,
    ];
    let public = subnet("demo-vpc-public-a").await;
    let vpc = aws
        .ec2
        .describe_vpcs()
        .filters(
            Filter::builder()
                .name("tag:Name")
                .values("demo-vpc")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .vpcs()[0]
        .vpc_id()
        .unwrap()
        .to_string();
    let group = |name: &'static str, description: &'static str| {
        let (ec2, vpc) = (aws.ec2.clone(), vpc.clone());
        async move {
            ec2.create_security_group()
                .group_name(name)
                .description(description)
                .vpc_id(vpc)
                .send()
                .await
                .unwrap()
                .group_id()
                .unwrap()
                .to_string()
        }
    };
    let web_sg = group("cdk-web", "web server").await;
    let redis_sg = group("cdk-redis", "redis from web").await;
    let db_sg = group("cdk-db", "mysql from web").await;
    aws.ec2
        .authorize_security_group_ingress()
        .group_id(&web_sg)
        .ip_permissions(
            IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(8080)
                .to_port(8080)
                .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    for (group, port) in [(&redis_sg, 6379), (&db_sg, 3306)] {
        aws.ec2
            .authorize_security_group_ingress()
            .group_id(group)
            .ip_permissions(
                IpPermission::builder()
                    .ip_protocol("tcp")
                    .from_port(port)
                    .to_port(port)
                    .user_id_group_pairs(UserIdGroupPair::builder().group_id(&web_sg).build())
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    aws.elasticache
        .create_cache_subnet_group()
        .cache_subnet_group_name("cdk-cache-subnets")
        .cache_subnet_group_description("subnet group for redis cluster")
        .set_subnet_ids(Some(private.clone()))
        .send()
        .await
        .unwrap();
    aws.elasticache
        .create_cache_cluster()
        .cache_cluster_id("cdk-redis")
        .engine("redis")
        .cache_node_type("cache.t3.small")
        .num_cache_nodes(1)
        .cache_subnet_group_name("cdk-cache-subnets")
        .security_group_ids(&redis_sg)
        .send()
        .await
        .unwrap();
    aws.rds
        .create_db_subnet_group()
        .db_subnet_group_name("cdk-db-subnets")
        .db_subnet_group_description("subnet group for the covid database")
        .set_subnet_ids(Some(private))
        .send()
        .await
        .unwrap();
    aws.secrets
        .create_secret()
        .name("cdk-db-credentials")
        .secret_string(r#"{"username":"admin","password":"a-generated-password-1"}"#)
        .send()
        .await
        .unwrap();
    aws.rds
        .create_db_instance()
        .db_instance_identifier("cdk-db")
        .engine("mysql")
        .engine_version("8.0")
        .db_instance_class("db.t3.medium")
        .allocated_storage(20)
        .storage_type("gp2")
        .db_name("covid")
        .master_username("admin")
        .master_user_password("a-generated-password-1")
        .enable_iam_database_authentication(true)
        .storage_encrypted(true)
        .publicly_accessible(false)
        .backup_retention_period(1)
        .db_subnet_group_name("cdk-db-subnets")
        .vpc_security_group_ids(&db_sg)
        .send()
        .await
        .unwrap();
    aws.iam
        .create_role()
        .role_name("cdk-web-role")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        )
        .send()
        .await
        .unwrap();
    aws.iam
        .attach_role_policy()
        .role_name("cdk-web-role")
        .policy_arn("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
        .send()
        .await
        .unwrap();
    aws.iam
        .create_instance_profile()
        .instance_profile_name("cdk-web-role")
        .send()
        .await
        .unwrap();
    aws.iam
        .add_role_to_instance_profile()
        .instance_profile_name("cdk-web-role")
        .role_name("cdk-web-role")
        .send()
        .await
        .unwrap();
    let ami = aws_sdk_ssm_parameter(aws).await;
    let web = aws
        .ec2
        .run_instances()
        .image_id(ami)
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Small)
        .min_count(1)
        .max_count(1)
        .subnet_id(public)
        .security_group_ids(&web_sg)
        .iam_instance_profile(
            aws_sdk_ec2::types::IamInstanceProfileSpecification::builder()
                .name("cdk-web-role")
                .build(),
        )
        .tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::Instance)
                .tags(
                    aws_sdk_ec2::types::Tag::builder()
                        .key("Name")
                        .value("cdk-web")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap()
        .instances()[0]
        .instance_id()
        .unwrap()
        .to_string();
    vec![
        ("cache_subnets", "cdk-cache-subnets".into()),
        ("db_subnets", "cdk-db-subnets".into()),
        ("web_sg", web_sg),
        ("redis_sg", redis_sg),
        ("db_sg", db_sg),
        ("cache", "cdk-redis".into()),
        ("db", "cdk-db".into()),
        ("web_role", "cdk-web-role".into()),
        ("web", web),
    ]
}

/// The AMI `amazon-linux-2` stands for, read the way the CDK's `MachineImage.latestAmazonLinux` does.
async fn aws_sdk_ssm_parameter(aws: &Clients) -> String {
    crate::common::ami_of_parameter(
        aws,
        "/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2",
    )
    .await
}

/// Issue #8, point 4: seed 000 made through the AWS API as the CDK would (no stackctl tags) is
/// imported resource by resource into a stack file that describes it; the plan shows only tags to
/// add; `up` converges without a replacement (every id unchanged); `down` removes it all.
#[tokio::test(flavor = "multi_thread")]
async fn resources_made_without_stackctl_are_imported_and_converge() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let file = "stacks/cdk.yaml";
    ws.write(file, CDK_STACK);
    let stackctl_in = |args: &[&str]| run(stackctl(&emulator.endpoint, ws.dir.path()).args(args));
    let made = make_like_the_cdk(&aws).await;

    // Nothing carries the stack's tag yet: a plan would create everything anew.
    let wrong = stackctl_in(&["import", "web_sg", "i-0123456789abcdef0", "-f", file]);
    assert_eq!(wrong.code, 1, "{}", wrong.stderr);
    assert!(
        wrong
            .stderr
            .contains("no security-group `i-0123456789abcdef0` exists"),
        "{}",
        wrong.stderr
    );
    for (name, id) in &made {
        let import = stackctl_in(&["import", name, id, "-f", file]);
        assert_eq!(import.code, 0, "import {name} {id}: {}", import.stderr);
    }
    let again = stackctl_in(&["import", "web", &made[8].1, "-f", file]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(
        again.stderr.contains("already in the state"),
        "{}",
        again.stderr
    );
    // Imported but not yet tagged as this state's: `down` with the state alone deletes none of it.
    emulator.reset_requests();
    let blind = stackctl_in(&[
        "down",
        "--state",
        "stacks/.stackctl/cdk.yaml.state.json",
        "--yes",
    ]);
    assert_eq!(blind.code, 1, "{}", blind.stderr);
    assert!(
        blind.stderr.contains(
            "without the stack file, `down` deletes only what carries this state's lineage tag"
        ),
        "{}",
        blind.stderr
    );
    assert_eq!(mutations(&emulator), Vec::<String>::new());

    assert_only_tags_to_add(&plan_json(&emulator, &ws, file));
    let up = stackctl_in(&["up", "-f", file, "--yes"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert!(
        up.stderr
            .contains("0 created, 9 updated, 0 replaced, 0 deleted"),
        "{}",
        up.stderr
    );
    let state: Json =
        serde_json::from_str(&ws.read("stacks/.stackctl/cdk.yaml.state.json")).unwrap();
    for (name, id) in &made {
        assert_eq!(
            state["resources"][name]["id"].as_str(),
            Some(id.as_str()),
            "{name} kept its id"
        );
    }
    assert_eq!(group_id(&aws, "cdk-web").await, Some(made[2].1.clone()));
    assert_eq!(
        group_tags(&aws, &made[2].1)
            .await
            .get("stackctl:stack")
            .map(String::as_str),
        Some("cdk-demo")
    );
    let clean = stackctl_in(&["plan", "-f", file, "--detailed-exitcode"]);
    assert_eq!(clean.code, 0, "{}", clean.stdout);

    let down = stackctl_in(&["down", "-f", file, "--yes"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_eq!(
        code_of(
            aws.elasticache
                .describe_cache_clusters()
                .cache_cluster_id("cdk-redis")
                .send()
                .await
        ),
        "CacheClusterNotFound"
    );
    assert_eq!(
        code_of(
            aws.rds
                .describe_db_instances()
                .db_instance_identifier("cdk-db")
                .send()
                .await
        ),
        "DBInstanceNotFound"
    );
    assert_eq!(
        code_of(aws.iam.get_role().role_name("cdk-web-role").send().await),
        "NoSuchEntity"
    );
    for (_, group) in &made[2..5] {
        assert_eq!(group_code(&aws, group).await, "InvalidGroup.NotFound");
    }
}

/// Issue #8: a secret deleted with its recovery window by `down` is brought back by the next `up`
/// (instead of failing on a name scheduled for deletion); a database whose state was lost is imported
/// with the credentials secret it generated, which `down` then removes with it.
#[tokio::test(flavor = "multi_thread")]
async fn secrets_come_back_and_go_with_their_stack() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let stackctl_in = |args: &[&str]| run(stackctl(&emulator.endpoint, ws.dir.path()).args(args));
    let file = "stacks/kept.yaml";
    ws.write(
        file,
        "stack: kept\nregion: us-east-1\nresources:\n  token:\n    type: secret\n    generate: { length: 24 }\n",
    );
    for step in ["up", "down", "up"] {
        let run = stackctl_in(&[step, "-f", file, "--yes"]);
        assert_eq!(run.code, 0, "{step}: {}", run.stderr);
    }
    let restored = aws
        .secrets
        .describe_secret()
        .secret_id("kept-token")
        .send()
        .await
        .unwrap();
    assert!(
        restored.deleted_date().is_none(),
        "restored, not scheduled for deletion"
    );

    // A lost state of the seed stack, whose `db` key has been renamed since: the database comes
    // back under its new key, with its secret.
    let seed = "stacks/elasticache-rds.yaml";
    assert_eq!(stackctl_in(&["up", "-f", seed, "--yes"]).code, 0);
    std::fs::remove_file(ws.path("stacks/.stackctl/elasticache-rds.yaml.state.json")).unwrap();
    let original = ws.read(seed);
    ws.write(
        seed,
        &format!(
            "{}\nmoved:\n  db: database\n",
            original.replace("\n  db:\n", "\n  database:\n")
        ),
    );
    let import = stackctl_in(&["import", "--all", "-f", seed]);
    assert_eq!(import.code, 0, "{}", import.stderr);
    assert!(
        import
            .stderr
            .contains("imported database (rds-instance cache-demo-db)"),
        "{}",
        import.stderr
    );
    assert!(
        import
            .stderr
            .contains("holds the credentials of database `database`, and comes with it"),
        "{}",
        import.stderr
    );
    let up = stackctl_in(&["up", "-f", seed, "--yes"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let lineage = lineage_of(&ws, "stacks/.stackctl/elasticache-rds.yaml.state.json");
    assert_eq!(
        secret_arn_and_lineage(&aws, "rds-secret-name").await.1,
        Some(lineage),
        "the database's secret is this state's now"
    );
    let down = stackctl_in(&["down", "-f", seed, "--yes"]);
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_eq!(
        code_of(
            aws.secrets
                .describe_secret()
                .secret_id("rds-secret-name")
                .send()
                .await
        ),
        "ResourceNotFoundException",
        "removal_policy destroy: the secret went with the database"
    );
    let again = stackctl_in(&["plan", "-f", seed]);
    assert_eq!(
        again.code, 0,
        "nothing left behind to stop a new stack: {}",
        again.stderr
    );
}

/// Issue #8: `state rm` forgets a resource without touching AWS (the next plan neither deletes nor
/// adopts it, and refuses to create another under its name) and `import` takes it back; an instance imported into a file whose image names another
/// AMI is shown as a replacement forced by `image`, never hidden.
#[tokio::test(flavor = "multi_thread")]
async fn state_rm_forgets_and_import_shows_a_different_image() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let stackctl_in = |args: &[&str]| run(stackctl(&emulator.endpoint, ws.dir.path()).args(args));
    let file = "stacks/web.yaml";
    assert_eq!(stackctl_in(&["up", "-f", file, "--yes"]).code, 0);
    let instance = live_instances(&aws, "web-demo").await.remove(0);

    emulator.reset_requests();
    let rm = stackctl_in(&["state", "rm", "web", "-f", file]);
    assert_eq!(rm.code, 0, "{}", rm.stderr);
    assert!(
        rm.stderr
            .contains(&format!("forgot web (ec2-instance {instance})")),
        "{}",
        rm.stderr
    );
    // The name is still taken by what was forgotten: never a second server next to it.
    for command in [&["plan"][..], &["up", "--yes"][..]] {
        let mut args = command.to_vec();
        args.extend(["-f", file]);
        let refused = stackctl_in(&args);
        assert_eq!(refused.code, 1, "{}", refused.stderr);
        assert!(
            refused.stderr.contains("this state let go of"),
            "{}",
            refused.stderr
        );
    }
    assert_eq!(
        live_instances(&aws, "web-demo").await,
        vec![instance.clone()]
    );
    let back = stackctl_in(&["import", "web", &instance, "-f", file]);
    assert_eq!(back.code, 0, "{}", back.stderr);
    let clean = stackctl_in(&["plan", "-f", file, "--detailed-exitcode"]);
    assert_eq!(clean.code, 0, "{}{}", clean.stdout, clean.stderr);
    assert_eq!(
        mutations(&emulator),
        Vec::<String>::new(),
        "AWS was only read"
    );

    // An instance running another image than the file's.
    let al2023 = crate::common::ami_of_parameter(&aws, crate::common::AL2023_PARAMETER).await;
    let subnet = aws
        .ec2
        .describe_subnets()
        .filters(
            Filter::builder()
                .name("tag:Name")
                .values("demo-vpc-public-a")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .subnets()[0]
        .subnet_id()
        .unwrap()
        .to_string();
    let other = aws
        .ec2
        .run_instances()
        .image_id(&al2023)
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .subnet_id(&subnet)
        .send()
        .await
        .unwrap()
        .instances()[0]
        .instance_id()
        .unwrap()
        .to_string();
    let other_file = "stacks/other.yaml";
    ws.write(
        other_file,
        "stack: other\nregion: us-east-1\nresources:\n  vpc: { type: vpc, name: demo-vpc }\n  box:\n    type: ec2-instance\n    instance_type: t3.micro\n    image: amazon-linux-2\n    subnet: ${vpc.public_subnets[0]}\n",
    );
    let import = stackctl_in(&["import", "box", &other, "-f", other_file]);
    assert_eq!(import.code, 0, "{}", import.stderr);
    let plan = plan_json(&emulator, &ws, other_file);
    let planned_box = planned(&plan, "box");
    assert_eq!(planned_box["action"], "replace", "{planned_box}");
    let image = planned_box["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["attribute"] == "image")
        .unwrap_or_else(|| panic!("{planned_box}"));
    assert_eq!(image["before"], al2023.as_str());
    assert_eq!(image["forces_replacement"], true);

    // Applied: the instance on the other image is gone, its replacement runs the file's.
    let up = stackctl_in(&["up", "-f", other_file, "--yes"]);
    assert_eq!(up.code, 0, "{}", up.stderr);
    let old = aws
        .ec2
        .describe_instances()
        .instance_ids(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.reservations()[0].instances()[0]
            .state()
            .and_then(|s| s.name())
            .map(|n| n.as_str()),
        Some("terminated")
    );
    let now = live_instances(&aws, "other").await;
    assert_eq!(now.len(), 1, "{now:?}");
    let replacement = aws
        .ec2
        .describe_instances()
        .instance_ids(&now[0])
        .send()
        .await
        .unwrap();
    assert_ne!(
        replacement.reservations()[0].instances()[0].image_id(),
        Some(al2023.as_str())
    );
    assert_eq!(stackctl_in(&["down", "-f", other_file, "--yes"]).code, 0);
    assert_eq!(live_instances(&aws, "other").await, Vec::<String>::new());
}
