//! Issue #9: changes AWS makes in place are made in place, applied and read back through the AWS API:
//! replicas of a replication group (IncreaseReplicaCount / DecreaseReplicaCount), shards of a
//! cluster-mode group (ModifyReplicationGroupShardConfiguration), a database's storage growing. A
//! change AWS refuses (storage shrinking) is refused by the plan, before any change.

use crate::common::{Clients, Emulator, Workspace, detailed_plan, run, stackctl};

const FILE: &str = "stacks/resize.yaml";

const STACK: &str = "stack: resize-demo
region: us-east-1
resources:
  vpc: { type: vpc, name: demo-vpc }
  cache_subnets: { type: elasticache-subnet-group, description: cache subnets }
  db_subnets: { type: rds-subnet-group }
  sessions:
    type: elasticache-replication-group
    node_type: cache.t3.small
    subnet_group: ${cache_subnets.name}
    cluster_mode: true
    shards: 2
    replicas: 1
  cache:
    type: elasticache-replication-group
    node_type: cache.t3.small
    subnet_group: ${cache_subnets.name}
    replicas: 1
  db:
    type: rds-instance
    instance_class: db.t3.micro
    password_secret: resize-demo-credentials
    subnet_group: ${db_subnets.name}
    allocated_storage: 20
";

/// Shards and replicas per shard of a replication group, from AWS.
async fn shape(aws: &Clients, id: &str) -> (usize, Vec<usize>) {
    let described = aws
        .elasticache
        .describe_replication_groups()
        .replication_group_id(id)
        .send()
        .await
        .unwrap();
    let group = &described.replication_groups()[0];
    let replicas = group
        .node_groups()
        .iter()
        .map(|n| n.node_group_members().len() - 1)
        .collect();
    (group.node_groups().len(), replicas)
}

async fn storage(aws: &Clients) -> i32 {
    aws.rds
        .describe_db_instances()
        .db_instance_identifier("resize-demo-db")
        .send()
        .await
        .unwrap()
        .db_instances()[0]
        .allocated_storage()
        .unwrap()
}

/// The id each group member of `id` had: an in-place change keeps the group and the members it does
/// not remove.
async fn members(aws: &Clients, id: &str) -> Vec<String> {
    aws.elasticache
        .describe_replication_groups()
        .replication_group_id(id)
        .send()
        .await
        .unwrap()
        .replication_groups()[0]
        .member_clusters()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn replicas_shards_and_storage_change_in_place() {
    let emulator = Emulator::start_with_env(&[("STACKCTL_EMULATOR_CREATE_SECONDS", "2")]);
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    ws.write(FILE, STACK);
    let up = |ws: &Workspace| {
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "-f", FILE, "--yes"]))
    };
    let created = up(&ws);
    assert_eq!(created.code, 0, "{}", created.stderr);
    assert_eq!(shape(&aws, "resize-demo-sessions").await, (2, vec![1, 1]));
    assert_eq!(shape(&aws, "resize-demo-cache").await, (1, vec![1]));
    let first_members = members(&aws, "resize-demo-cache").await;

    // Grow: a third shard, two replicas everywhere, 50 GiB.
    ws.write(
        FILE,
        &STACK
            .replace(
                "    shards: 2\n    replicas: 1\n",
                "    shards: 3\n    replicas: 2\n",
            )
            .replace("    replicas: 1\n  db:", "    replicas: 2\n  db:")
            .replace("allocated_storage: 20", "allocated_storage: 50"),
    );
    let planned = run(stackctl(&emulator.endpoint, ws.dir.path()).args(["plan", "-f", FILE]));
    assert!(
        planned
            .stdout
            .contains("Plan: 0 to create, 3 to update, 0 to replace, 0 to delete."),
        "{}",
        planned.stdout
    );
    let grown = up(&ws);
    assert_eq!(grown.code, 0, "{}", grown.stderr);
    assert_eq!(
        shape(&aws, "resize-demo-sessions").await,
        (3, vec![2, 2, 2])
    );
    assert_eq!(shape(&aws, "resize-demo-cache").await, (1, vec![2]));
    assert_eq!(storage(&aws).await, 50);
    let grown_members = members(&aws, "resize-demo-cache").await;
    assert!(
        first_members.iter().all(|m| grown_members.contains(m)),
        "the group kept its members: {first_members:?} -> {grown_members:?}"
    );

    // Shrink the groups: one shard and no replica (failover off first, as AWS requires).
    ws.write(
        FILE,
        &STACK
            .replace(
                "    shards: 2\n    replicas: 1\n",
                "    shards: 1\n    replicas: 0\n",
            )
            .replace("    replicas: 1\n  db:", "    replicas: 0\n  db:")
            .replace("allocated_storage: 20", "allocated_storage: 50"),
    );
    let shrunk = up(&ws);
    assert_eq!(shrunk.code, 0, "{}", shrunk.stderr);
    assert_eq!(shape(&aws, "resize-demo-sessions").await, (1, vec![0]));
    assert_eq!(shape(&aws, "resize-demo-cache").await, (1, vec![0]));
    let quiet = detailed_plan(&emulator.endpoint, ws.dir.path(), FILE);
    assert_eq!(quiet.code, 0, "{}", quiet.stdout);

    // Storage never shrinks: the plan refuses before any change.
    ws.write(
        FILE,
        &STACK
            .replace(
                "    shards: 2\n    replicas: 1\n",
                "    shards: 1\n    replicas: 0\n",
            )
            .replace("    replicas: 1\n  db:", "    replicas: 0\n  db:"),
    );
    emulator.reset_requests();
    let refused = up(&ws);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("`allocated_storage` can only grow: AWS cannot lower it from 50 to 20"),
        "{}",
        refused.stderr
    );
    let changes = emulator.changes();
    assert!(changes.is_empty(), "nothing was changed: {changes:?}");
    assert_eq!(storage(&aws).await, 50);
}

const LAGGING: &str = "stack: lag-demo
region: us-east-1
resources:
  vpc: { type: vpc, name: demo-vpc }
  cache_subnets: { type: elasticache-subnet-group, description: cache subnets }
  db_subnets: { type: rds-subnet-group }
  mdb_subnets: { type: memorydb-subnet-group }
  group:
    type: elasticache-replication-group
    node_type: cache.t3.small
    subnet_group: ${cache_subnets.name}
  single:
    type: elasticache-cluster
    node_type: cache.t3.small
    subnet_group: ${cache_subnets.name}
  mdb:
    type: memorydb-cluster
    node_type: db.t4g.small
    acl: open-access
    subnet_group: ${mdb_subnets.name}
  db:
    type: rds-instance
    instance_class: db.t3.micro
    password_secret: lag-demo-credentials
    subnet_group: ${db_subnets.name}
";

/// After a Modify call AWS often reports the old status, and the old values, for a while before the
/// change begins. `up` waits for the change itself: when it says done, AWS shows every new value
/// with the resource available, and the next plan is quiet.
#[tokio::test(flavor = "multi_thread")]
async fn waits_see_the_change_itself_not_the_status_before_it_begins() {
    let emulator = Emulator::start_with_env(&[
        ("STACKCTL_EMULATOR_CREATE_SECONDS", "1"),
        ("STACKCTL_EMULATOR_MODIFY_LAG_SECONDS", "2"),
    ]);
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let file = "stacks/lag.yaml";
    ws.write(file, LAGGING);
    let up = |ws: &Workspace| {
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "-f", file, "--yes"]))
    };
    assert_eq!(up(&ws).code, 0);
    ws.write(
        file,
        &LAGGING
            .replace("node_type: cache.t3.small", "node_type: cache.t3.medium")
            .replace("node_type: db.t4g.small", "node_type: db.r6g.large")
            .replace(
                "    subnet_group: ${cache_subnets.name}\n  single:",
                "    subnet_group: ${cache_subnets.name}\n    replicas: 2\n  single:",
            )
            .replace(
                "instance_class: db.t3.micro",
                "instance_class: db.t3.small\n    allocated_storage: 30",
            ),
    );
    let changed = up(&ws);
    assert_eq!(changed.code, 0, "{}", changed.stderr);
    assert!(
        changed.stderr.contains("the change not begun yet"),
        "the waits saw the old status first:\n{}",
        changed.stderr
    );

    let group = aws
        .elasticache
        .describe_replication_groups()
        .replication_group_id("lag-demo-group")
        .send()
        .await
        .unwrap();
    let group = &group.replication_groups()[0];
    assert_eq!(
        (
            group.status(),
            group.cache_node_type(),
            group.member_clusters().len()
        ),
        (Some("available"), Some("cache.t3.medium"), 3)
    );
    let single = aws
        .elasticache
        .describe_cache_clusters()
        .cache_cluster_id("lag-demo-single")
        .send()
        .await
        .unwrap();
    let single = &single.cache_clusters()[0];
    assert_eq!(
        (single.cache_cluster_status(), single.cache_node_type()),
        (Some("available"), Some("cache.t3.medium"))
    );
    let mdb = aws
        .memorydb
        .describe_clusters()
        .cluster_name("lag-demo-mdb")
        .send()
        .await
        .unwrap();
    let mdb = &mdb.clusters()[0];
    assert_eq!(
        (mdb.status(), mdb.node_type()),
        (Some("available"), Some("db.r6g.large"))
    );
    let db = aws
        .rds
        .describe_db_instances()
        .db_instance_identifier("lag-demo-db")
        .send()
        .await
        .unwrap();
    let db = &db.db_instances()[0];
    assert_eq!(
        (
            db.db_instance_status(),
            db.db_instance_class(),
            db.allocated_storage()
        ),
        (Some("available"), Some("db.t3.small"), Some(30))
    );
    let quiet = detailed_plan(&emulator.endpoint, ws.dir.path(), file);
    assert_eq!(quiet.code, 0, "{}", quiet.stdout);
}

/// An instance type change killed after each of its AWS changes (stop, modify, start): the next
/// `up` finishes it, so the server ends running with the new type, never left stopped.
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_instance_type_change_ends_with_the_server_running() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let file = "stacks/web.yaml";
    let up_args = ["up", "-f", file, "--yes"];
    let up = |ws: &Workspace| run(stackctl(&emulator.endpoint, ws.dir.path()).args(up_args));
    assert_eq!(up(&ws).code, 0);
    let original = ws.read(file);
    let instance_type =
        |text: &str, to: &str| text.replacen("default: t3.small", &format!("default: {to}"), 1);
    assert!(
        original.contains("default: t3.small"),
        "web.yaml's instance type default"
    );
    let sizes = ["t3.medium", "t3.large", "t3.xlarge", "t3.2xlarge"];
    for (point, size) in (1..=3).zip(sizes) {
        ws.write(file, &instance_type(&original, size));
        assert_eq!(
            crate::crash::run_with_crash(&emulator, &ws, &up_args, point),
            Some(9),
            "not killed at change {point}"
        );
        let resumed = up(&ws);
        assert_eq!(resumed.code, 0, "after change {point}:\n{}", resumed.stderr);
        let described = aws
            .ec2
            .describe_instances()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("tag:stackctl:resource")
                    .values("web")
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let instance = &described.reservations()[0].instances()[0];
        assert_eq!(
            (
                instance.state().and_then(|s| s.name()).map(|n| n.as_str()),
                instance.instance_type().map(|t| t.as_str())
            ),
            (Some("running"), Some(size)),
            "after change {point}"
        );
        let quiet = detailed_plan(&emulator.endpoint, ws.dir.path(), file);
        assert_eq!(quiet.code, 0, "after change {point}:\n{}", quiet.stdout);
    }
}

/// A replica change killed while AWS is still modifying the group: the next `up` waits for that
/// modification instead of failing on a busy group or calling it done, and ends with the group
/// available in the shape the file asks for.
#[tokio::test(flavor = "multi_thread")]
async fn the_next_run_waits_for_a_modification_a_killed_run_started() {
    let emulator = Emulator::start_with_env(&[("STACKCTL_EMULATOR_CREATE_SECONDS", "3")]);
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let file = "stacks/group.yaml";
    let stack = "stack: busy-demo\nregion: us-east-1\nresources:\n  vpc: { type: vpc, name: demo-vpc }\n  cache_subnets: { type: elasticache-subnet-group }\n  cache:\n    type: elasticache-replication-group\n    node_type: cache.t3.small\n    subnet_group: ${cache_subnets.name}\n    replicas: 1\n";
    ws.write(file, stack);
    let up_args = ["up", "-f", file, "--yes"];
    assert_eq!(
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(up_args)).code,
        0
    );
    ws.write(file, &stack.replace("replicas: 1", "replicas: 2"));
    assert_eq!(
        crate::crash::run_with_crash(&emulator, &ws, &up_args, 1),
        Some(9),
        "killed right after IncreaseReplicaCount"
    );
    let resumed = run(stackctl(&emulator.endpoint, ws.dir.path()).args(up_args));
    assert_eq!(resumed.code, 0, "{}", resumed.stderr);
    assert!(
        resumed
            .stderr
            .contains("finishing an update that was interrupted"),
        "{}",
        resumed.stderr
    );
    let group = aws
        .elasticache
        .describe_replication_groups()
        .replication_group_id("busy-demo-cache")
        .send()
        .await
        .unwrap();
    let group = &group.replication_groups()[0];
    assert_eq!(group.status(), Some("available"));
    assert_eq!(shape(&aws, "busy-demo-cache").await, (1, vec![2]));
}
