//! Issue #3: both seed architectures up and down through the emulator, checked through the AWS API:
//! every property as declared, a quiet second plan, one in-place change and one replacement per
//! data resource, nothing left behind, and secret values nowhere in state, plans, outputs or logs.

use crate::common::{Clients, Emulator, Run, Workspace, code_of, run, stackctl};

fn up(emulator: &Emulator, ws: &Workspace, file: &str, extra: &[&str]) -> Run {
    let mut args = vec!["up", "-f", file, "--yes", "-vv"];
    args.extend(extra);
    run(stackctl(&emulator.endpoint, ws.dir.path()).args(&args))
}

fn plan(emulator: &Emulator, ws: &Workspace, file: &str, extra: &[&str]) -> Run {
    let mut args = vec!["plan", "-f", file, "--detailed-exitcode"];
    args.extend(extra);
    run(stackctl(&emulator.endpoint, ws.dir.path()).args(&args))
}

async fn secret_value(aws: &Clients, id: &str) -> String {
    aws.secrets
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .unwrap()
        .secret_string()
        .unwrap()
        .to_string()
}

async fn live_secret_names(aws: &Clients) -> Vec<String> {
    aws.secrets
        .list_secrets()
        .send()
        .await
        .unwrap()
        .secret_list()
        .iter()
        .filter_map(|s| s.name().map(str::to_string))
        .collect()
}

/// Everything stackctl printed or wrote must be free of the secret values.
fn assert_no_secret(values: &[String], texts: &[(&str, &str)]) {
    for value in values {
        assert!(
            value.len() >= 16,
            "a real generated secret, not an empty string"
        );
        for (what, text) in texts {
            assert!(
                !text.contains(value.as_str()),
                "the secret value leaked into {what}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn elasticache_rds_stack() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let file = "stacks/elasticache-rds.yaml";
    let state_file = "stacks/.stackctl/elasticache-rds.yaml.state.json";

    let created = up(&emulator, &ws, file, &[]);
    assert_eq!(created.code, 0, "{}", created.stderr);

    // Security groups: Redis and MySQL only from the web server's group.
    let groups = aws.ec2.describe_security_groups().send().await.unwrap();
    let group = |name: &str| {
        groups
            .security_groups()
            .iter()
            .find(|g| g.group_name() == Some(name))
            .cloned()
            .unwrap()
    };
    let web_sg = group("cache-demo-web-sg").group_id().unwrap().to_string();
    for (name, port) in [("cache-demo-redis-sg", 6379), ("cache-demo-db-sg", 3306)] {
        let permissions = group(name).ip_permissions().to_vec();
        assert_eq!(permissions.len(), 1, "{name}");
        assert_eq!(permissions[0].from_port(), Some(port));
        assert!(
            permissions[0].ip_ranges().is_empty(),
            "{name} must not be open to a CIDR"
        );
        assert_eq!(
            permissions[0].user_id_group_pairs()[0].group_id(),
            Some(web_sg.as_str())
        );
    }
    let redis_sg = group("cache-demo-redis-sg").group_id().unwrap().to_string();
    let db_sg = group("cache-demo-db-sg").group_id().unwrap().to_string();

    // The cache: Redis, cache.t3.small, one node, in its subnet group and group, with an endpoint.
    let clusters = aws
        .elasticache
        .describe_cache_clusters()
        .cache_cluster_id("cache-demo-cache")
        .show_cache_node_info(true)
        .send()
        .await
        .unwrap();
    let cache = &clusters.cache_clusters()[0];
    assert_eq!(cache.engine(), Some("redis"));
    assert_eq!(cache.cache_node_type(), Some("cache.t3.small"));
    assert_eq!(cache.num_cache_nodes(), Some(1));
    assert_eq!(
        cache.cache_subnet_group_name(),
        Some("cache-demo-cache-subnets")
    );
    assert_eq!(
        cache.security_groups()[0].security_group_id(),
        Some(redis_sg.as_str())
    );
    assert!(
        cache.cache_nodes()[0]
            .endpoint()
            .and_then(|e| e.address())
            .is_some(),
        "the node has an endpoint"
    );
    let cache_subnets = aws
        .elasticache
        .describe_cache_subnet_groups()
        .cache_subnet_group_name("cache-demo-cache-subnets")
        .send()
        .await
        .unwrap();
    assert_eq!(
        cache_subnets.cache_subnet_groups()[0].subnets().len(),
        2,
        "the two private subnets"
    );

    // The database: MySQL 8.0, db.t3.medium, `covid`, IAM auth, encrypted, private, in its group.
    let instances = aws
        .rds
        .describe_db_instances()
        .db_instance_identifier("cache-demo-db")
        .send()
        .await
        .unwrap();
    let db = &instances.db_instances()[0];
    assert_eq!(db.engine(), Some("mysql"));
    assert!(db.engine_version().unwrap().starts_with("8.0"));
    assert_eq!(db.db_instance_class(), Some("db.t3.medium"));
    assert_eq!(db.db_name(), Some("covid"));
    assert_eq!(db.iam_database_authentication_enabled(), Some(true));
    assert_eq!(db.storage_encrypted(), Some(true));
    assert_eq!(db.publicly_accessible(), Some(false));
    assert_eq!(
        db.db_subnet_group().and_then(|g| g.db_subnet_group_name()),
        Some("cache-demo-db-subnets")
    );
    assert_eq!(
        db.vpc_security_groups()[0].vpc_security_group_id(),
        Some(db_sg.as_str())
    );
    assert!(
        db.tag_list()
            .iter()
            .any(|t| t.key() == Some("stackctl:stack") && t.value() == Some("cache-demo"))
    );

    // The generated secret holds everything the application needs, in the CDK attachment's shape.
    let secret: serde_json::Value =
        serde_json::from_str(&secret_value(&aws, "rds-secret-name").await).unwrap();
    let address = db.endpoint().and_then(|e| e.address()).unwrap();
    assert_eq!(secret["host"], address);
    assert_eq!(secret["port"], 3306);
    assert_eq!(secret["dbname"], "covid");
    assert_eq!(secret["username"], "admin");
    assert_eq!(secret["engine"], "mysql");
    let password = secret["password"].as_str().unwrap().to_string();

    // The web server got the secret's name, not the database: EC2 and RDS were created in parallel.
    let graph = run(stackctl(&emulator.endpoint, ws.dir.path()).args(["graph", "-f", file]));
    assert!(
        !graph.stdout.contains("\"db\" -> \"web\""),
        "{}",
        graph.stdout
    );

    let quiet = plan(&emulator, &ws, file, &[]);
    assert_eq!(
        quiet.code, 0,
        "second plan must be empty:\n{}{}",
        quiet.stdout, quiet.stderr
    );

    // In place: the cache's node type and the database's backup retention.
    let edited = ws
        .read(file)
        .replace("node_type: cache.t3.small", "node_type: cache.t3.medium")
        .replace(
            "    deletion_protection: false\n",
            "    deletion_protection: false\n    backup_retention: 7\n",
        );
    ws.write(file, &edited);
    let change = plan(&emulator, &ws, file, &[]);
    assert_eq!(change.code, 2, "{}", change.stderr);
    assert!(
        change
            .stdout
            .contains("~ cache (elasticache-cluster) [cache-demo-cache]: update in place"),
        "{}",
        change.stdout
    );
    assert!(
        change
            .stdout
            .contains("node_type = \"cache.t3.small\" -> \"cache.t3.medium\""),
        "{}",
        change.stdout
    );
    assert!(
        change
            .stdout
            .contains("~ db (rds-instance) [cache-demo-db]: update in place"),
        "{}",
        change.stdout
    );
    assert!(
        change.stdout.contains("backup_retention = 1 -> 7"),
        "{}",
        change.stdout
    );
    let applied = up(&emulator, &ws, file, &[]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let clusters = aws
        .elasticache
        .describe_cache_clusters()
        .cache_cluster_id("cache-demo-cache")
        .send()
        .await
        .unwrap();
    assert_eq!(
        clusters.cache_clusters()[0].cache_node_type(),
        Some("cache.t3.medium")
    );
    let instances = aws
        .rds
        .describe_db_instances()
        .db_instance_identifier("cache-demo-db")
        .send()
        .await
        .unwrap();
    assert_eq!(
        instances.db_instances()[0].backup_retention_period(),
        Some(7)
    );

    // A replacement, naming the attribute that forces it.
    ws.write(
        file,
        &ws.read(file)
            .replace("database_name: covid", "database_name: covid2")
            .replace("    nodes: 1\n", "    nodes: 1\n    port: 6380\n"),
    );
    let replace = plan(&emulator, &ws, file, &[]);
    assert_eq!(replace.code, 2);
    assert!(
        replace.stdout.contains(
            "-/+ db (rds-instance) [cache-demo-db]: replace (database_name forces replacement)"
        ),
        "{}",
        replace.stdout
    );
    assert!(
        replace.stdout.contains(
            "-/+ cache (elasticache-cluster) [cache-demo-cache]: replace (port forces replacement)"
        ),
        "{}",
        replace.stdout
    );
    let json =
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["plan", "-f", file, "--json"]));
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let db_plan = json["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "db")
        .unwrap();
    assert_eq!(db_plan["action"], "replace");
    assert!(
        db_plan["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["attribute"] == "database_name" && c["forces_replacement"] == true)
    );

    // Secret values appear nowhere stackctl writes or prints.
    let state_text = ws.read(state_file);
    let outputs =
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["outputs", "-f", file, "--json"]));
    assert_no_secret(
        std::slice::from_ref(&password),
        &[
            ("state", &state_text),
            (
                "up output",
                &format!("{}{}", created.stdout, created.stderr),
            ),
            (
                "update output",
                &format!("{}{}", applied.stdout, applied.stderr),
            ),
            ("plan", &change.stdout),
            ("JSON plan", &json.to_string()),
            ("outputs", &outputs.stdout),
        ],
    );
    assert!(
        outputs.stdout.contains("rds-secret-name"),
        "outputs name the secret: {}",
        outputs.stdout
    );

    // Down leaves nothing behind: no cluster, instance, subnet group, security group or secret.
    let down =
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["down", "-f", file, "--yes", "-vv"]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_no_secret(
        std::slice::from_ref(&password),
        &[("down output", &format!("{}{}", down.stdout, down.stderr))],
    );
    assert_eq!(
        code_of(
            aws.elasticache
                .describe_cache_clusters()
                .cache_cluster_id("cache-demo-cache")
                .send()
                .await
        ),
        "CacheClusterNotFound"
    );
    assert_eq!(
        code_of(
            aws.rds
                .describe_db_instances()
                .db_instance_identifier("cache-demo-db")
                .send()
                .await
        ),
        "DBInstanceNotFound"
    );
    assert_eq!(
        code_of(
            aws.elasticache
                .describe_cache_subnet_groups()
                .cache_subnet_group_name("cache-demo-cache-subnets")
                .send()
                .await
        ),
        "CacheSubnetGroupNotFoundFault"
    );
    assert_eq!(
        code_of(
            aws.rds
                .describe_db_subnet_groups()
                .db_subnet_group_name("cache-demo-db-subnets")
                .send()
                .await
        ),
        "DBSubnetGroupNotFoundFault"
    );
    let groups = aws.ec2.describe_security_groups().send().await.unwrap();
    assert!(
        !groups
            .security_groups()
            .iter()
            .any(|g| g.group_name().is_some_and(|n| n.starts_with("cache-demo-")))
    );
    assert!(live_secret_names(&aws).await.is_empty(), "no secret behind");
}

#[tokio::test(flavor = "multi_thread")]
async fn memorydb_stack() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let file = "stacks/memorydb.yaml";

    let created = up(&emulator, &ws, file, &[]);
    assert_eq!(created.code, 0, "{}", created.stderr);

    let clusters = aws
        .memorydb
        .describe_clusters()
        .cluster_name("memorydb-demo-db")
        .show_shard_details(true)
        .send()
        .await
        .unwrap();
    let cluster = &clusters.clusters()[0];
    assert_eq!(cluster.number_of_shards(), Some(4));
    let nodes: i32 = cluster
        .shards()
        .iter()
        .filter_map(|s| s.number_of_nodes())
        .sum();
    assert_eq!(nodes, 8, "4 shards with 1 replica each");
    assert_eq!(cluster.tls_enabled(), Some(true));
    assert_eq!(cluster.snapshot_retention_limit(), Some(7));
    assert_eq!(cluster.snapshot_window(), Some("05:00-06:00"));
    assert_eq!(cluster.maintenance_window(), Some("sun:23:00-mon:01:30"));
    assert_eq!(cluster.acl_name(), Some("memorydb-demo-app-acl"));
    assert_eq!(
        cluster.subnet_group_name(),
        Some("memorydb-demo-db-subnets")
    );
    assert_eq!(cluster.node_type(), Some("db.r6g.large"));
    assert!(
        cluster
            .cluster_endpoint()
            .and_then(|e| e.address())
            .is_some()
    );
    let acls = aws
        .memorydb
        .describe_acls()
        .acl_name("memorydb-demo-app-acl")
        .send()
        .await
        .unwrap();
    assert_eq!(acls.acls()[0].user_names(), ["memorydb-demo-app-user"]);
    let users = aws
        .memorydb
        .describe_users()
        .user_name("memorydb-demo-app-user")
        .send()
        .await
        .unwrap();
    assert_eq!(
        users.users()[0].access_string(),
        Some("on ~customer:* &* +@all")
    );
    let password = secret_value(&aws, "memorydb-demo-app-password").await;

    let quiet = plan(&emulator, &ws, file, &[]);
    assert_eq!(
        quiet.code, 0,
        "second plan must be empty:\n{}{}",
        quiet.stdout, quiet.stderr
    );

    // In place: node type, shard count and snapshot retention are updates, not replacements.
    ws.write(
        file,
        &ws.read(file)
            .replace("shards: 4", "shards: 2")
            .replace("snapshot_retention: 7", "snapshot_retention: 3")
            .replace("on ~customer:* &* +@all", "on ~customer:* &* +@read +@hash"),
    );
    let change = plan(&emulator, &ws, file, &["--var", "node_type=db.r6g.xlarge"]);
    assert_eq!(change.code, 2, "{}", change.stderr);
    assert!(
        change
            .stdout
            .contains("~ db (memorydb-cluster) [memorydb-demo-db]: update in place"),
        "{}",
        change.stdout
    );
    for line in [
        "node_type = \"db.r6g.large\" -> \"db.r6g.xlarge\"",
        "shards = 4 -> 2",
        "snapshot_retention = 7 -> 3",
    ] {
        assert!(
            change.stdout.contains(line),
            "expected `{line}` in:\n{}",
            change.stdout
        );
    }
    let applied = up(&emulator, &ws, file, &["--var", "node_type=db.r6g.xlarge"]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let clusters = aws
        .memorydb
        .describe_clusters()
        .cluster_name("memorydb-demo-db")
        .send()
        .await
        .unwrap();
    assert_eq!(clusters.clusters()[0].node_type(), Some("db.r6g.xlarge"));
    assert_eq!(clusters.clusters()[0].number_of_shards(), Some(2));
    assert_eq!(clusters.clusters()[0].snapshot_retention_limit(), Some(3));
    assert!(
        change
            .stdout
            .contains("~ app_user (memorydb-user) [memorydb-demo-app-user]: update in place"),
        "{}",
        change.stdout
    );
    let users = aws
        .memorydb
        .describe_users()
        .user_name("memorydb-demo-app-user")
        .send()
        .await
        .unwrap();
    assert_eq!(
        users.users()[0].access_string(),
        Some("on ~customer:* &* +@read +@hash")
    );

    // A replacement, naming the attribute.
    ws.write(file, &ws.read(file).replace("tls: true", "tls: false"));
    let replace = plan(&emulator, &ws, file, &["--var", "node_type=db.r6g.xlarge"]);
    assert_eq!(replace.code, 2);
    assert!(
        replace.stdout.contains(
            "-/+ db (memorydb-cluster) [memorydb-demo-db]: replace (tls forces replacement)"
        ),
        "{}",
        replace.stdout
    );

    let state_text = ws.read("stacks/.stackctl/memorydb.yaml.state.json");
    let outputs =
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["outputs", "-f", file, "--json"]));
    assert_no_secret(
        std::slice::from_ref(&password),
        &[
            ("state", &state_text),
            (
                "up output",
                &format!("{}{}", created.stdout, created.stderr),
            ),
            (
                "update output",
                &format!("{}{}", applied.stdout, applied.stderr),
            ),
            ("plan", &replace.stdout),
            ("outputs", &outputs.stdout),
        ],
    );

    let down =
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["down", "-f", file, "--yes", "-vv"]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_no_secret(
        std::slice::from_ref(&password),
        &[("down output", &format!("{}{}", down.stdout, down.stderr))],
    );
    assert_eq!(
        code_of(
            aws.memorydb
                .describe_clusters()
                .cluster_name("memorydb-demo-db")
                .send()
                .await
        ),
        "ClusterNotFoundFault"
    );
    assert_eq!(
        code_of(
            aws.memorydb
                .describe_acls()
                .acl_name("memorydb-demo-app-acl")
                .send()
                .await
        ),
        "ACLNotFoundFault"
    );
    assert_eq!(
        code_of(
            aws.memorydb
                .describe_users()
                .user_name("memorydb-demo-app-user")
                .send()
                .await
        ),
        "UserNotFoundFault"
    );
    assert_eq!(
        code_of(
            aws.memorydb
                .describe_subnet_groups()
                .subnet_group_name("memorydb-demo-db-subnets")
                .send()
                .await
        ),
        "SubnetGroupNotFoundFault"
    );
    assert!(
        live_secret_names(&aws).await.is_empty(),
        "recovery_window_days: 0 deletes the secret at once"
    );
}

/// Issues #3 and #8: `retain` leaves the database in place and drops it from state, saying so;
/// `snapshot` takes a final snapshot named for this deletion (and keeps the credentials secret, which
/// that snapshot needs); `destroy` leaves nothing.
#[tokio::test(flavor = "multi_thread")]
async fn rds_removal_policies_leave_exactly_what_they_promise() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let database = |name: &str, policy: &str| {
        format!(
            "  {name}:\n    type: rds-instance\n    instance_class: db.t3.micro\n    password_secret: {name}-credentials\n    subnet_group: ${{subnets.name}}\n    removal_policy: {policy}\n"
        )
    };
    let stack = format!(
        "stack: policies\nregion: us-east-1\nresources:\n  vpc: {{ type: vpc, name: demo-vpc }}\n  subnets: {{ type: rds-subnet-group }}\n{}{}{}",
        database("kept", "retain"),
        database("snapped", "snapshot"),
        database("gone", "destroy")
    );
    ws.write("stacks/policies.yaml", &stack);
    let created = run(stackctl(&emulator.endpoint, ws.dir.path()).args([
        "up",
        "-f",
        "stacks/policies.yaml",
        "--yes",
    ]));
    assert_eq!(created.code, 0, "{}", created.stderr);
    let down = run(stackctl(&emulator.endpoint, ws.dir.path()).args([
        "down",
        "-f",
        "stacks/policies.yaml",
        "--yes",
    ]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert!(
        down.stderr
            .contains("kept: removal_policy is retain: left in place, dropped from state"),
        "{}",
        down.stderr
    );
    assert!(
        down.stderr
            .contains("subnets: left in place: retained `kept` still uses it"),
        "{}",
        down.stderr
    );

    assert!(
        aws.rds
            .describe_db_instances()
            .db_instance_identifier("policies-kept")
            .send()
            .await
            .is_ok(),
        "retained"
    );
    assert_eq!(
        code_of(
            aws.rds
                .describe_db_instances()
                .db_instance_identifier("policies-snapped")
                .send()
                .await
        ),
        "DBInstanceNotFound"
    );
    assert_eq!(
        code_of(
            aws.rds
                .describe_db_instances()
                .db_instance_identifier("policies-gone")
                .send()
                .await
        ),
        "DBInstanceNotFound"
    );
    let snapshots = aws
        .rds
        .describe_db_snapshots()
        .db_instance_identifier("policies-snapped")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = snapshots
        .db_snapshots()
        .iter()
        .filter_map(|s| s.db_snapshot_identifier())
        .collect();
    assert_eq!(names.len(), 1, "one final snapshot: {names:?}");
    assert!(
        names[0].starts_with("policies-snapped-final-"),
        "named for this deletion: {names:?}"
    );
    assert!(
        down.stderr.contains(names[0]),
        "the run names the snapshot it took:\n{}",
        down.stderr
    );
    let mut secrets = live_secret_names(&aws).await;
    secrets.sort();
    assert_eq!(secrets, vec!["kept-credentials", "snapped-credentials"]);
    let state: serde_json::Value =
        serde_json::from_str(&ws.read("stacks/.stackctl/policies.yaml.state.json")).unwrap();
    assert_eq!(
        state["resources"].as_object().unwrap().len(),
        0,
        "the retained database is no longer in state"
    );
    // The retained database still needs its subnet group, so that stays too.
    assert!(
        aws.rds
            .describe_db_subnet_groups()
            .db_subnet_group_name("policies-subnets")
            .send()
            .await
            .is_ok()
    );
}

/// Issue #3: a replication group with replicas, failover, encryption and an AUTH token kept in a
/// generated secret; a second secret composed from the group's endpoint; in-place changes to the group
/// and its subnet group; a replacement named by its attribute; nothing left after down.
#[tokio::test(flavor = "multi_thread")]
async fn replication_group_with_auth_token_and_composed_secret() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let file = "stacks/rg.yaml";
    ws.write(
        file,
        "stack: rg-demo\nregion: us-east-1\nresources:\n  vpc: { type: vpc, name: demo-vpc }\n  subnets: { type: elasticache-subnet-group, description: cache subnets }\n  token:\n    type: secret\n    generate: { length: 40, exclude_punctuation: true }\n    recovery_window_days: 0\n  cache:\n    type: elasticache-replication-group\n    node_type: cache.r6g.large\n    replicas: 2\n    auth_token_secret: ${token.arn}\n    subnet_group: ${subnets.name}\n  connection:\n    type: secret\n    recovery_window_days: 0\n    value:\n      host: ${cache.primary_address}\n      port: ${cache.port}\n",
    );
    let created = up(&emulator, &ws, file, &[]);
    assert_eq!(created.code, 0, "{}", created.stderr);

    let groups = aws
        .elasticache
        .describe_replication_groups()
        .replication_group_id("rg-demo-cache")
        .send()
        .await
        .unwrap();
    let group = &groups.replication_groups()[0];
    assert_eq!(group.auth_token_enabled(), Some(true));
    assert_eq!(group.transit_encryption_enabled(), Some(true));
    assert_eq!(group.at_rest_encryption_enabled(), Some(true));
    assert_eq!(
        group.automatic_failover().map(|f| f.as_str()),
        Some("enabled")
    );
    assert_eq!(
        group.member_clusters().len(),
        3,
        "a primary and two replicas"
    );
    let primary = group.node_groups()[0]
        .primary_endpoint()
        .and_then(|e| e.address())
        .unwrap()
        .to_string();
    assert!(
        group.node_groups()[0]
            .reader_endpoint()
            .and_then(|e| e.address())
            .is_some()
    );
    let connection: serde_json::Value =
        serde_json::from_str(&secret_value(&aws, "rg-demo-connection").await).unwrap();
    assert_eq!(
        connection["host"],
        primary.as_str(),
        "the composed secret holds the group's endpoint"
    );
    let token = secret_value(&aws, "rg-demo-token").await;

    let quiet = plan(&emulator, &ws, file, &[]);
    assert_eq!(
        quiet.code, 0,
        "second plan must be empty:\n{}{}",
        quiet.stdout, quiet.stderr
    );

    ws.write(
        file,
        &ws.read(file)
            .replace(
                "    replicas: 2\n",
                "    replicas: 2\n    snapshot_retention: 5\n",
            )
            .replace(
                "description: cache subnets",
                "description: private cache subnets",
            ),
    );
    let change = plan(&emulator, &ws, file, &[]);
    assert_eq!(change.code, 2, "{}", change.stderr);
    assert!(
        change
            .stdout
            .contains("~ cache (elasticache-replication-group) [rg-demo-cache]: update in place"),
        "{}",
        change.stdout
    );
    assert!(
        change
            .stdout
            .contains("~ subnets (elasticache-subnet-group) [rg-demo-subnets]: update in place"),
        "{}",
        change.stdout
    );
    let applied = up(&emulator, &ws, file, &[]);
    assert_eq!(applied.code, 0, "{}", applied.stderr);
    let groups = aws
        .elasticache
        .describe_replication_groups()
        .replication_group_id("rg-demo-cache")
        .send()
        .await
        .unwrap();
    assert_eq!(
        groups.replication_groups()[0].snapshot_retention_limit(),
        Some(5)
    );
    let subnets = aws
        .elasticache
        .describe_cache_subnet_groups()
        .cache_subnet_group_name("rg-demo-subnets")
        .send()
        .await
        .unwrap();
    assert_eq!(
        subnets.cache_subnet_groups()[0].cache_subnet_group_description(),
        Some("private cache subnets")
    );

    ws.write(
        file,
        &ws.read(file)
            .replace("    replicas: 2\n", "    replicas: 2\n    port: 6380\n"),
    );
    let replace = plan(&emulator, &ws, file, &[]);
    assert!(replace.stdout.contains("-/+ cache (elasticache-replication-group) [rg-demo-cache]: replace (port forces replacement)"), "{}", replace.stdout);

    let state_text = ws.read("stacks/.stackctl/rg.yaml.state.json");
    assert_no_secret(
        std::slice::from_ref(&token),
        &[
            ("state", &state_text),
            (
                "up output",
                &format!("{}{}", created.stdout, created.stderr),
            ),
            ("plan", &replace.stdout),
        ],
    );
    assert!(
        state_text.contains("sha256:"),
        "a composed secret value is recorded as a digest"
    );

    let down = run(stackctl(&emulator.endpoint, ws.dir.path()).args(["down", "-f", file, "--yes"]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_eq!(
        code_of(
            aws.elasticache
                .describe_replication_groups()
                .replication_group_id("rg-demo-cache")
                .send()
                .await
        ),
        "ReplicationGroupNotFoundFault"
    );
    assert_eq!(
        code_of(
            aws.elasticache
                .describe_cache_subnet_groups()
                .cache_subnet_group_name("rg-demo-subnets")
                .send()
                .await
        ),
        "CacheSubnetGroupNotFoundFault"
    );
    assert!(live_secret_names(&aws).await.is_empty());
}
