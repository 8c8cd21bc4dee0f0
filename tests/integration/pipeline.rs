//! Issue #5: the deploy pipeline of examples/ci/ against the emulator — a pull request makes a saved
//! plan (exit 2: changes), the merge applies exactly that plan, a scheduled check finds no drift
//! (exit 0) — and saved plans that no longer apply are refused, saying what changed.

use crate::common::{CallCounter, Emulator, Workspace, code_of, run, stackctl};

#[tokio::test(flavor = "multi_thread")]
async fn saved_plans_apply_exactly_or_are_refused() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let cwd = ws.dir.path();
    let file = "stacks/web.yaml";
    let ctl = || stackctl(&emulator.endpoint, cwd);

    // Pull request: plan with changes, saved.
    let pr = run(ctl().args(["plan", "-f", file, "--detailed-exitcode", "-o", "plan.json"]));
    assert_eq!(pr.code, 2, "{}", pr.stderr);
    assert!(
        pr.stdout
            .contains("Plan: 3 to create, 0 to update, 0 to replace, 0 to delete."),
        "{}",
        pr.stdout
    );
    let saved: serde_json::Value = serde_json::from_str(&ws.read("plan.json")).unwrap();
    assert_eq!(saved["kind"], "stackctl-plan");
    assert!(
        saved["stack_file_digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );

    // Merge: apply exactly the saved plan.
    let merge = run(ctl().args(["up", "plan.json", "--yes"]));
    assert_eq!(merge.code, 0, "{}", merge.stderr);
    assert_eq!(
        aws.ec2
            .describe_security_groups()
            .group_names("web-demo-web-sg")
            .send()
            .await
            .unwrap()
            .security_groups()
            .len(),
        1
    );

    // Scheduled drift check: nothing to do.
    let drift = run(ctl().args(["plan", "-f", file, "--detailed-exitcode"]));
    assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);

    // The stack file changed after the plan.
    assert_eq!(
        run(ctl().args(["plan", "-f", file, "-o", "p1.json"])).code,
        0
    );
    let original = ws.read(file);
    ws.write(file, &original.replace("owner: platform", "owner: data"));
    let refused = run(ctl().args(["up", "p1.json", "--yes"]));
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("the stack file stacks/web.yaml changed since the plan was made"),
        "{}",
        refused.stderr
    );
    ws.write(file, &original);

    // Different variable values.
    assert_eq!(
        run(ctl().args([
            "plan",
            "-f",
            file,
            "--var",
            "instance_type=t3.medium",
            "-o",
            "p2.json"
        ]))
        .code,
        0
    );
    let refused = run(ctl().args(["up", "p2.json", "--yes", "--var", "instance_type=t3.large"]));
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("variable values changed since the plan was made: instance_type"),
        "{}",
        refused.stderr
    );
    // Without --var, a saved plan applies with the values it was made with, as in Terraform.
    let applied = run(ctl().args(["up", "p2.json", "--yes"]));
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let types: Vec<String> = crate::common::instances_of(&aws, "web-demo")
        .await
        .iter()
        .filter_map(|i| i.instance_type().map(|t| t.as_str().to_string()))
        .collect();
    assert_eq!(types, ["t3.medium"]);
    // A saved plan is applied from where it was made, with its own stack file.
    let other = run(ctl().args(["up", "p2.json", "--yes", "-f", "stacks/memorydb.yaml"]));
    assert_eq!(other.code, 1);
    assert!(
        other
            .stderr
            .contains("a saved plan applies to the stack file it was made from (stacks/web.yaml)"),
        "{}",
        other.stderr
    );
    let elsewhere =
        run(stackctl(&emulator.endpoint, &cwd.join("stacks")).args(["up", "../p2.json", "--yes"]));
    assert_eq!(elsewhere.code, 1);
    assert!(
        elsewhere
            .stderr
            .contains("which is not there from this directory"),
        "{}",
        elsewhere.stderr
    );
    assert_eq!(
        run(ctl().args(["up", "-f", file, "--yes"])).code,
        0,
        "back to the file's values"
    );

    // Another run changed the state meanwhile.
    assert_eq!(
        run(ctl().args(["plan", "-f", file, "-o", "p3.json"])).code,
        0
    );
    // (A run that changes nothing leaves the state as it is: a rename there and back does not.)
    for (from, to) in [("web_sg", "web_sg_renamed"), ("web_sg_renamed", "web_sg")] {
        assert_eq!(
            run(ctl().args(["state", "mv", from, to, "-f", file])).code,
            0
        );
    }
    let refused = run(ctl().args(["up", "p3.json", "--yes"]));
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("changed since the plan was made (another run applied changes)"),
        "{}",
        refused.stderr
    );

    // Something changed in AWS meanwhile.
    assert_eq!(
        run(ctl().args(["plan", "-f", file, "-o", "p4.json"])).code,
        0
    );
    let group = aws
        .ec2
        .describe_security_groups()
        .group_names("web-demo-web-sg")
        .send()
        .await
        .unwrap();
    let group_id = group.security_groups()[0].group_id().unwrap();
    aws.ec2
        .revoke_security_group_ingress()
        .group_id(group_id)
        .ip_permissions(
            aws_sdk_ec2::types::IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(8080)
                .to_port(8080)
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
    let refused = run(ctl().args(["up", "p4.json", "--yes"]));
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("what exists in AWS changed since the plan was made: `web_sg`"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("help: make a new plan"),
        "{}",
        refused.stderr
    );

    // A saved destroy plan is applied by `down`, and only by `down`.
    let destroy = run(ctl().args([
        "plan",
        "-f",
        file,
        "--destroy",
        "--detailed-exitcode",
        "-o",
        "destroy.json",
    ]));
    assert_eq!(destroy.code, 2);
    let wrong = run(ctl().args(["up", "destroy.json", "--yes"]));
    assert_eq!(wrong.code, 1);
    assert!(
        wrong.stderr.contains("this saved plan removes the stack"),
        "{}",
        wrong.stderr
    );
    let down = run(ctl().args(["down", "destroy.json", "--yes"]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_eq!(
        code_of(
            aws.ec2
                .describe_security_groups()
                .group_names("web-demo-web-sg")
                .send()
                .await
        ),
        "InvalidGroup.NotFound"
    );
    let not_a_plan = run(ctl().args(["up", "stacks/web.yaml", "--yes"]));
    assert_eq!(not_a_plan.code, 1);
    assert!(
        not_a_plan.stderr.contains("is not a saved stackctl plan"),
        "{}",
        not_a_plan.stderr
    );
}

/// Issue #5: `plan --json`, the saved plan and the `up --json` event stream follow the documented
/// schema in schemas/plan.schema.json.
#[tokio::test(flavor = "multi_thread")]
async fn machine_output_follows_the_published_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate::common::project_root().join("schemas/plan.schema.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema itself is valid");
    let check = |what: &str, value: &serde_json::Value| {
        let errors: Vec<String> = validator
            .iter_errors(value)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what} does not follow the schema: {errors:?}\n{value}"
        );
    };
    let emulator = Emulator::start();
    let ws = Workspace::new();
    let ctl = || stackctl(&emulator.endpoint, ws.dir.path());
    for file in [
        "stacks/web.yaml",
        "stacks/elasticache-rds.yaml",
        "stacks/memorydb.yaml",
    ] {
        let plan = run(ctl().args(["plan", "-f", file, "--json", "-o", "saved.json"]));
        assert_eq!(plan.code, 0, "{}", plan.stderr);
        check(
            &format!("plan --json of {file}"),
            &serde_json::from_str(&plan.stdout).unwrap(),
        );
        check(
            &format!("saved plan of {file}"),
            &serde_json::from_str(&ws.read("saved.json")).unwrap(),
        );
    }
    let up = run(ctl().args(["up", "-f", "stacks/web.yaml", "--yes", "--json"]));
    assert_eq!(up.code, 0, "{}", up.stderr);
    let events: Vec<serde_json::Value> = up
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(events.len() >= 6, "{}", up.stdout);
    for event in &events {
        check("an up --json event", event);
    }
    let unchanged = run(ctl().args(["plan", "-f", "stacks/web.yaml", "--json"]));
    let unchanged: serde_json::Value = serde_json::from_str(&unchanged.stdout).unwrap();
    assert!(
        unchanged["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "no_op")
    );
    check("plan --json with nothing to do", &unchanged);
    let destroy = run(ctl().args(["plan", "-f", "stacks/web.yaml", "--destroy", "--json"]));
    check(
        "plan --destroy --json",
        &serde_json::from_str(&destroy.stdout).unwrap(),
    );
    let down = run(ctl().args(["down", "-f", "stacks/web.yaml", "--yes", "--json"]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert!(
        down.stdout.lines().count() > 1,
        "down --json reports events"
    );
    for line in down.stdout.lines() {
        check("a down --json event", &serde_json::from_str(line).unwrap());
    }
}

/// Issue #5: `--target` acts on a resource and what it needs (`up`), or what needs it (`down`), warns
/// that it is for exceptions, and leaves everything else alone.
#[tokio::test(flavor = "multi_thread")]
async fn target_narrows_up_and_down() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let ctl = || stackctl(&emulator.endpoint, ws.dir.path());
    let file = "stacks/web.yaml";
    let role_exists = || async {
        aws.iam
            .get_role()
            .role_name("web-demo-web-role")
            .send()
            .await
            .is_ok()
    };

    let plan = run(ctl().args(["plan", "-f", file, "--target", "web_sg"]));
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert!(
        plan.stderr
            .contains("warning: --target acts on part of the stack"),
        "{}",
        plan.stderr
    );
    // Issue #10: -q silences warnings that are not errors, and only those.
    let quiet = run(ctl().args(["plan", "-q", "-f", file, "--target", "web_sg"]));
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    assert!(!quiet.stderr.contains("warning"), "{}", quiet.stderr);
    assert_eq!(
        quiet.stdout, plan.stdout,
        "the plan itself is data: -q keeps it"
    );
    assert!(
        plan.stdout.contains("+ web_sg (security-group): create"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("web_role") && !plan.stdout.contains("web (ec2-instance)"),
        "{}",
        plan.stdout
    );

    assert_eq!(
        run(ctl().args(["up", "-f", file, "--target", "web_sg", "--yes"])).code,
        0
    );
    assert_eq!(
        aws.ec2
            .describe_security_groups()
            .group_names("web-demo-web-sg")
            .send()
            .await
            .unwrap()
            .security_groups()
            .len(),
        1
    );
    assert!(!role_exists().await, "the role was not targeted");
    let rest = run(ctl().args(["plan", "-f", file, "--detailed-exitcode"]));
    assert_eq!(rest.code, 2);
    assert!(rest.stdout.contains("Plan: 2 to create"), "{}", rest.stdout);

    assert_eq!(run(ctl().args(["up", "-f", file, "--yes"])).code, 0);
    let down = run(ctl().args(["down", "-f", file, "--target", "web_sg", "--yes"]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_eq!(
        code_of(
            aws.ec2
                .describe_security_groups()
                .group_names("web-demo-web-sg")
                .send()
                .await
        ),
        "InvalidGroup.NotFound",
        "the target is gone"
    );
    let state: serde_json::Value =
        serde_json::from_str(&ws.read("stacks/.stackctl/web.yaml.state.json")).unwrap();
    assert!(
        state["resources"].get("web").is_none(),
        "what needed the target went first"
    );
    assert!(role_exists().await, "what the target did not touch stays");

    let wrong = run(ctl().args(["plan", "-f", file, "--target", "web-sg"]));
    assert_eq!(wrong.code, 1);
    assert!(
        wrong.stderr.contains("--target web-sg: no such resource")
            && wrong.stderr.contains("did you mean `web_sg`?"),
        "{}",
        wrong.stderr
    );
    assert_eq!(run(ctl().args(["down", "-f", file, "--yes"])).code, 0);
    assert!(!role_exists().await);
}

/// Issue #5: a plan of each seed stack makes a bounded number of AWS calls, and `-v` says how many
/// (the count agrees with what the emulator received).
#[tokio::test(flavor = "multi_thread")]
async fn plans_make_a_bounded_number_of_aws_calls() {
    let emulator = Emulator::start();
    let ws = Workspace::new();
    let ctl = || stackctl(&emulator.endpoint, ws.dir.path());
    for (file, resources) in [
        ("stacks/elasticache-rds.yaml", 10),
        ("stacks/memorydb.yaml", 10),
    ] {
        assert_eq!(run(ctl().args(["up", "-f", file, "--yes"])).code, 0);
        emulator.reset_requests();
        let plan = run(ctl().args(["plan", "-f", file, "-v"]));
        assert_eq!(plan.code, 0, "{}", plan.stderr);
        let reported: usize = plan
            .stderr
            .lines()
            .find_map(|l| {
                l.strip_prefix("plan: ")
                    .and_then(|r| r.strip_suffix(" AWS calls"))
            })
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("-v reports the number of AWS calls:\n{}", plan.stderr));
        let requests = emulator.requests();
        let received = requests.len();
        let group_reads = requests
            .iter()
            .filter(|r| *r == "ec2.DescribeSecurityGroups")
            .count();
        assert_eq!(
            group_reads, 1,
            "{file}: one DescribeSecurityGroups for all the stack's groups: {requests:?}"
        );
        assert_eq!(
            reported, received,
            "{file}: the count -v prints is what AWS received"
        );
        // 27 calls each before the census and the refresh shared their account-wide reads and
        // roles and secrets were read in batches; 22 and 21 after; 18 and 16 since tags of
        // ElastiCache and MemoryDB resources come from the census.
        assert!(
            received <= 2 * resources - 2,
            "{file}: {received} calls to plan {resources} resources: {requests:?}"
        );
        println!("{file}: plan made {received} AWS calls for {resources} resources");
        assert_eq!(run(ctl().args(["down", "-f", file, "--yes"])).code, 0);
    }
}

/// Issue #12: with every AWS request taking 50 ms, as a round trip to AWS does, a plan of each seed
/// stack waits for at most 3 rounds of calls one after another, before and after `up`.
#[tokio::test(flavor = "multi_thread")]
async fn a_seed_stack_plan_waits_for_at_most_three_rounds_of_calls() {
    let emulator = Emulator::start_with_env(&[("STACKCTL_EMULATOR_LATENCY_SECONDS", "0.05")]);
    let ws = Workspace::new();
    let ctl = || stackctl(&emulator.endpoint, ws.dir.path());
    for file in [
        "stacks/web.yaml",
        "stacks/elasticache-rds.yaml",
        "stacks/memorydb.yaml",
    ] {
        emulator.reset_requests();
        let fresh = run(ctl().args(["plan", "-f", file]));
        assert!(matches!(fresh.code, 0 | 2), "{}", fresh.stderr);
        let before_up = emulator.rounds();
        assert_eq!(run(ctl().args(["up", "-f", file, "--yes"])).code, 0);
        emulator.reset_requests();
        let deployed = run(ctl().args(["plan", "-f", file]));
        assert_eq!(deployed.code, 0, "{}", deployed.stderr);
        let after_up = emulator.rounds();
        println!("{file}: plan in {before_up} rounds before up, {after_up} after");
        assert!(
            before_up <= 3 && after_up <= 3,
            "{file}: {before_up} rounds before up, {after_up} after: {:?}",
            emulator.requests()
        );
        assert_eq!(run(ctl().args(["down", "-f", file, "--yes"])).code, 0);
    }
}

/// Issue #12: refreshing many deployed resources costs a few calls per kind, not calls per
/// resource: 90 security groups, secrets and IAM roles are read in at most 15 calls, and
/// `down` still finds and removes every one of them.
#[tokio::test(flavor = "multi_thread")]
async fn refresh_reads_many_resources_in_a_few_batched_calls() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let mut stack = String::from(
        "stack: many\nregion: us-east-1\nresources:\n  vpc: { type: vpc, name: demo-vpc }\n",
    );
    for n in 0..30 {
        stack.push_str(&format!(
            "  sg{n}:\n    type: security-group\n    vpc: ${{vpc.id}}\n    ingress: [ {{ port: {}, from: 10.0.0.0/8 }} ]\n",
            2000 + n
        ));
        if n < 5 {
            // A composed value: refresh compares its digest, read in batches of 20.
            stack.push_str(&format!(
                "  composed{n}:\n    type: secret\n    recovery_window_days: 0\n    value: {{ group: \"${{sg{n}.id}}\" }}\n"
            ));
        }
        stack.push_str(&format!(
            "  secret{n}:\n    type: secret\n    generate: {{ length: 20 }}\n    recovery_window_days: 0\n"
        ));
        stack.push_str(&format!(
            "  role{n}:\n    type: iam-role\n    assumed_by: ec2.amazonaws.com\n    managed_policies: [AmazonSSMManagedInstanceCore]\n    inline_policies:\n      read:\n        - {{ actions: [\"s3:GetObject\"], resources: [\"arn:aws:s3:::many-bucket/*\"] }}\n"
        ));
    }
    ws.write("many.yaml", &stack);
    let ctl = || stackctl(&emulator.endpoint, ws.dir.path());
    let created = run(ctl().args(["up", "-f", "many.yaml", "--yes"]));
    assert_eq!(created.code, 0, "{}", created.stderr);
    emulator.reset_requests();
    let plan = run(ctl().args(["plan", "-f", "many.yaml"]));
    assert_eq!(plan.code, 0, "no drift: {}", plan.stdout);
    let requests = emulator.requests();
    println!(
        "plan of 95 deployed resources: {} AWS calls",
        requests.len()
    );
    assert!(
        requests.len() <= 15,
        "{} calls to refresh 95 resources: {requests:?}",
        requests.len()
    );
    let values_read = |action: &str| requests.iter().filter(|r| r.ends_with(action)).count();
    assert_eq!(values_read(".GetSecretValue"), 0, "{requests:?}");
    assert_eq!(values_read(".BatchGetSecretValue"), 1, "{requests:?}");
    // Drift is still seen through the batches: a rule removed outside stackctl.
    let group = crate::common::groups_named(&aws, "many-sg7").await[0].clone();
    aws.ec2
        .revoke_security_group_ingress()
        .group_id(group.group_id().unwrap())
        .set_ip_permissions(Some(group.ip_permissions().to_vec()))
        .send()
        .await
        .unwrap();
    let drift = run(ctl().args(["plan", "-f", "many.yaml", "--detailed-exitcode"]));
    assert_eq!(drift.code, 2, "{}{}", drift.stdout, drift.stderr);
    assert!(drift.stdout.contains("sg7"), "{}", drift.stdout);
    let removed = run(ctl().args(["down", "-f", "many.yaml", "--yes"]));
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    let left = code_of(aws.iam.get_role().role_name("many-role29").send().await);
    assert_eq!(left, "NoSuchEntity");
}

/// Issue #12: RDS instances, cache clusters, replication groups and MemoryDB clusters, users and
/// ACLs are refreshed with one describe per kind, and their tags come from the census's
/// GetResources: no tag call per resource.
#[tokio::test(flavor = "multi_thread")]
async fn refresh_reads_databases_and_caches_one_describe_per_kind() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let mut stack = String::from(
        "stack: stores\nregion: us-east-1\nresources:\n  vpc: { type: vpc, name: demo-vpc }\n  cache_subnets: { type: elasticache-subnet-group }\n  db_subnets: { type: rds-subnet-group }\n  mdb_subnets: { type: memorydb-subnet-group }\n  password: { type: secret, generate: { length: 24, exclude_punctuation: true }, recovery_window_days: 0 }\n",
    );
    for n in 0..3 {
        stack.push_str(&format!(
            "  cache{n}: {{ type: elasticache-cluster, engine: redis, node_type: cache.t3.small, nodes: 1, subnet_group: \"${{cache_subnets.name}}\" }}\n  db{n}: {{ type: rds-instance, engine: mysql, instance_class: db.t3.micro, master_username: admin, manage_master_password: true, subnet_group: \"${{db_subnets.name}}\", removal_policy: destroy }}\n  user{n}: {{ type: memorydb-user, access_string: \"on ~* +@all\", password_secret: \"${{password.arn}}\" }}\n"
        ));
    }
    for n in 0..2 {
        stack.push_str(&format!(
            "  group{n}: {{ type: elasticache-replication-group, node_type: cache.t3.small, subnet_group: \"${{cache_subnets.name}}\" }}\n  acl{n}: {{ type: memorydb-acl, users: [\"${{user{n}.name}}\"] }}\n  mdb{n}: {{ type: memorydb-cluster, node_type: db.t4g.small, shards: 1, replicas_per_shard: 0, acl: \"${{acl{n}.name}}\", subnet_group: \"${{mdb_subnets.name}}\" }}\n"
        ));
    }
    ws.write("stores.yaml", &stack);
    let ctl = || stackctl(&emulator.endpoint, ws.dir.path());
    let created = run(ctl().args(["up", "-f", "stores.yaml", "--yes"]));
    assert_eq!(created.code, 0, "{}{}", created.stdout, created.stderr);
    emulator.reset_requests();
    let plan = run(ctl().args(["plan", "-f", "stores.yaml", "--detailed-exitcode"]));
    assert_eq!(plan.code, 0, "no drift: {}{}", plan.stdout, plan.stderr);
    let requests = emulator.requests();
    let count = |action: &str| requests.iter().filter(|r| r.ends_with(action)).count();
    for action in [
        ".DescribeDBInstances",
        ".DescribeCacheClusters",
        ".DescribeReplicationGroups",
        ".DescribeClusters",
        ".DescribeUsers",
        ".DescribeACLs",
    ] {
        assert_eq!(count(action), 1, "{action}: {requests:?}");
    }
    assert_eq!(
        count(".ListTagsForResource") + count(".ListTags"),
        0,
        "{requests:?}"
    );
    println!("plan of 23 deployed stores: {} AWS calls", requests.len());
    // Tag drift on a batched resource is still seen: the census reads every tag.
    let cache = aws
        .elasticache
        .describe_cache_clusters()
        .cache_cluster_id("stores-cache1")
        .send()
        .await
        .unwrap()
        .cache_clusters()[0]
        .arn()
        .unwrap()
        .to_string();
    aws.elasticache
        .add_tags_to_resource()
        .resource_name(&cache)
        .tags(
            aws_sdk_elasticache::types::Tag::builder()
                .key("added-by-hand")
                .value("yes")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let drift = run(ctl().args(["plan", "-f", "stores.yaml", "--detailed-exitcode"]));
    assert_eq!(drift.code, 2, "{}{}", drift.stdout, drift.stderr);
    assert!(drift.stdout.contains("cache1"), "{}", drift.stdout);
    let removed = run(ctl().args(["down", "-f", "stores.yaml", "--yes"]));
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    let left = code_of(
        aws.elasticache
            .describe_cache_clusters()
            .cache_cluster_id("stores-cache1")
            .send()
            .await,
    );
    assert_eq!(left, "CacheClusterNotFound");
    let left = code_of(
        aws.memorydb
            .describe_clusters()
            .cluster_name("stores-mdb1")
            .send()
            .await,
    );
    assert_eq!(left, "ClusterNotFoundFault");
}

/// Issue #5: snapshots of what people read — the plan and the progress of `up` and `down` — for both
/// seed stacks, with ids, addresses, digests and times redacted (one step at a time, so the order of
/// lines is fixed).
#[tokio::test(flavor = "multi_thread")]
async fn human_plan_and_progress_snapshots() {
    let emulator = Emulator::start();
    let ws = Workspace::new();
    let ctl = || stackctl(&emulator.endpoint, ws.dir.path());
    let mut settings = insta::Settings::clone_current();
    for (pattern, replacement) in [
        (
            r"\b(vpc|subnet|sg|i|ami|eni|igw|rtb)-[0-9a-f]{8,17}\b",
            "[$1-id]",
        ),
        (r"sha256:[0-9a-f]{64}", "[sha256]"),
        (r"\[ *[0-9]+\.[0-9]s\]", "[time]"),
        (r"in [0-9]+\.[0-9]s", "in [duration]"),
        (r"\([0-9]+s elapsed\)", "([elapsed])"),
    ] {
        settings.add_filter(pattern, replacement);
    }
    let _guard = settings.bind_to_scope();
    for (name, file) in [
        ("elasticache_rds", "stacks/elasticache-rds.yaml"),
        ("memorydb", "stacks/memorydb.yaml"),
    ] {
        let plan = run(ctl().args(["plan", "-f", file]));
        assert_eq!(plan.code, 0, "{}", plan.stderr);
        insta::assert_snapshot!(format!("{name}_plan"), plan.stdout);
        let up = run(ctl().args(["up", "-f", file, "--yes", "--parallelism", "1"]));
        assert_eq!(up.code, 0, "{}", up.stderr);
        let progress: Vec<&str> = up
            .stderr
            .lines()
            .filter(|l| l.starts_with('[') || l.contains("complete in"))
            .collect();
        insta::assert_snapshot!(format!("{name}_up_progress"), progress.join("\n"));
        let down = run(ctl().args(["down", "-f", file, "--yes", "--parallelism", "1"]));
        assert_eq!(down.code, 0, "{}", down.stderr);
        let progress: Vec<&str> = down
            .stderr
            .lines()
            .filter(|l| l.starts_with('[') || l.contains("complete in"))
            .collect();
        insta::assert_snapshot!(format!("{name}_down_progress"), progress.join("\n"));
    }
}

/// Issue #10 (exit codes): a destroy plan with nothing deployed is success, as `down` with nothing
/// deployed is: 0, never 1 nor 2, an empty plan in JSON, and no AWS call.
#[test]
fn an_empty_destroy_plan_is_success() {
    let counter = CallCounter::start();
    let ws = Workspace::new();
    for args in [
        vec!["plan", "--destroy", "-f", "stacks/web.yaml"],
        vec![
            "plan",
            "--destroy",
            "-f",
            "stacks/web.yaml",
            "--detailed-exitcode",
        ],
        vec!["down", "-f", "stacks/web.yaml", "--yes"],
    ] {
        let result = run(stackctl(&counter.endpoint, ws.dir.path()).args(&args));
        assert_eq!(result.code, 0, "{args:?}: {}", result.stderr);
        assert!(
            result.stderr.contains("Nothing to remove"),
            "{}",
            result.stderr
        );
    }
    let json = run(stackctl(&counter.endpoint, ws.dir.path()).args([
        "plan",
        "--destroy",
        "-f",
        "stacks/web.yaml",
        "--json",
    ]));
    assert_eq!(json.code, 0, "{}", json.stderr);
    let plan: serde_json::Value = serde_json::from_str(&json.stdout).expect("a JSON plan");
    assert_eq!(plan["destroy"], true);
    assert_eq!(plan["resources"], serde_json::json!([]));
    assert_eq!(counter.calls(), 0, "nothing was asked of AWS");
}

/// Runs stackctl through tests/support/on_terminal.py: stderr on a pseudo-terminal, stdout on the
/// terminal too or on a pipe (as `> file` does). Colour is allowed (NO_COLOR unset).
fn on_terminal(
    endpoint: &str,
    ws: &Workspace,
    stdout_too: bool,
    args: &[&str],
) -> serde_json::Value {
    let stackctl = stackctl(endpoint, ws.dir.path());
    let mut command = std::process::Command::new("python3");
    command
        .arg(crate::common::project_root().join("tests/support/on_terminal.py"))
        .args(stdout_too.then_some("--stdout-too"))
        .arg(stackctl.get_program())
        .args(args)
        .current_dir(ws.dir.path())
        .env_clear();
    for (key, value) in stackctl.get_envs() {
        if let Some(value) = value.filter(|_| key != "NO_COLOR") {
            command.env(key, value);
        }
    }
    let output = command.output().expect("run the terminal helper");
    serde_json::from_slice(&output.stdout).expect("the helper reports JSON")
}

/// Issue #10: colour is decided per stream. `stackctl plan > plan.txt` typed at a terminal writes
/// no escape codes into the file; the same plan on a terminal is coloured.
#[tokio::test(flavor = "multi_thread")]
async fn colour_follows_each_stream() {
    let emulator = Emulator::start();
    let ws = Workspace::new();
    let args = ["plan", "-f", "stacks/web.yaml"];
    let to_file = on_terminal(&emulator.endpoint, &ws, false, &args);
    assert_eq!(to_file["code"], 0, "{to_file}");
    let text = to_file["stdout"].as_str().unwrap_or_default();
    assert!(text.contains("Plan: "), "{to_file}");
    assert!(
        !text.contains('\u{1b}'),
        "no escape codes in a file: {text:?}"
    );
    let on_screen = on_terminal(&emulator.endpoint, &ws, true, &args);
    assert_eq!(on_screen["code"], 0, "{on_screen}");
    assert!(
        on_screen["terminal"]
            .as_str()
            .unwrap_or_default()
            .contains("\u{1b}["),
        "coloured on a terminal: {on_screen}"
    );
}

/// Issue #10 (exit codes): an endpoint where nothing listens fails at once, naming it, instead of
/// after the SDK's retries; an empty AWS_ENDPOINT_URL is a clear error, not a crash.
#[test]
fn an_unreachable_endpoint_fails_fast_naming_it() {
    let ws = Workspace::new();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let started = std::time::Instant::now();
    let result = run(stackctl(&closed, ws.dir.path()).args(["plan", "-f", "stacks/web.yaml"]));
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(
        result
            .stderr
            .contains(&format!("cannot reach the AWS endpoint {closed}")),
        "{}",
        result.stderr
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "failed in {:?}",
        started.elapsed()
    );
    let empty = run(stackctl("", ws.dir.path()).args(["plan", "-f", "stacks/web.yaml"]));
    assert_eq!(empty.code, 1, "{}", empty.stderr);
    assert!(
        empty.stderr.contains("AWS_ENDPOINT_URL is set but empty"),
        "{}",
        empty.stderr
    );
}

/// Issue #10: an endpoint that accepts connections but never answers (a hung proxy, a stopped
/// process) fails within seconds, naming it, instead of holding every request for minutes.
#[test]
fn an_endpoint_that_never_answers_fails_fast_naming_it() {
    let ws = Workspace::new();
    // Bound and listening, never accepting: the kernel completes connections, nobody answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let started = std::time::Instant::now();
    let result = run(stackctl(&endpoint, ws.dir.path()).args(["plan", "-f", "stacks/web.yaml"]));
    let took = started.elapsed();
    assert_eq!(result.code, 1, "{}", result.stderr);
    assert!(
        result.stderr.contains(&format!(
            "cannot reach the AWS endpoint {endpoint}: it accepts connections but does not answer"
        )),
        "{}",
        result.stderr
    );
    assert!(took < std::time::Duration::from_secs(15), "took {took:?}");
    drop(listener);
}

/// Issue #10: the schema, completions and manual page come from the binary itself, with no stack
/// file and no AWS; the schema printed is the one committed for editors.
#[test]
fn schema_completions_and_manual_page_need_nothing_else() {
    let counter = CallCounter::start();
    let ws = Workspace::new();
    let ctl = || stackctl(&counter.endpoint, ws.dir.path());
    let schema = run(ctl().args(["schema"]));
    assert_eq!(schema.code, 0, "{}", schema.stderr);
    let committed =
        std::fs::read_to_string(crate::common::project_root().join("schemas/stack.schema.json"))
            .unwrap();
    assert_eq!(schema.stdout, committed);
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef stackctl"),
        ("fish", "complete -c stackctl"),
    ] {
        let script = run(ctl().args(["completions", shell]));
        assert_eq!(script.code, 0, "{shell}: {}", script.stderr);
        assert!(script.stdout.contains(marker), "{shell}: {}", script.stdout);
        assert!(
            script.stdout.contains("force-unlock"),
            "{shell} completes subcommands"
        );
    }
    let man = run(ctl().args(["man"]));
    assert_eq!(man.code, 0, "{}", man.stderr);
    assert!(
        man.stdout.starts_with(".ie") && man.stdout.contains(".TH stackctl 1"),
        "{}",
        man.stdout
    );
    let plan_page = run(ctl().args(["man", "plan"]));
    assert_eq!(plan_page.code, 0, "{}", plan_page.stderr);
    assert!(
        plan_page.stdout.contains(".TH stackctl-plan 1") && plan_page.stdout.contains("detailed"),
        "{}",
        plan_page.stdout
    );
    let wrong = run(ctl().args(["completions", "nosh"]));
    assert_eq!(
        wrong.code, 1,
        "a usage error is exit 1, never 2: {}",
        wrong.stderr
    );
    assert_eq!(counter.calls(), 0);
}
