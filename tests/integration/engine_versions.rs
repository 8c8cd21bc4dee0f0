//! Issue #10: an engine version AWS does not offer fails the plan, located in the file, before any
//! change; a version it offers is created and upgraded as written. Checked through the AWS API.

use crate::common::{Emulator, Workspace, run, stackctl};
use aws_sdk_ec2::error::ProvideErrorMetadata;

const FILE: &str = "stacks/versions.yaml";

fn stack(version: &str) -> String {
    format!(
        "stack: versions-demo
region: us-east-1
resources:
  vpc: {{ type: vpc, name: demo-vpc }}
  cache_subnets: {{ type: elasticache-subnet-group, description: cache subnets }}
  cache:
    type: elasticache-cluster
    node_type: cache.t3.micro
    subnet_group: ${{cache_subnets.name}}
    engine_version: \"{version}\"
"
    )
}

/// The location of the `engine_version` value in [`stack`].
const AT: &str = "stacks/versions.yaml:10:22";

#[tokio::test(flavor = "multi_thread")]
async fn a_version_aws_does_not_offer_fails_the_plan_before_any_change() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    // Of a family AWS offers (7.1), so only AWS's own list can refuse it.
    ws.write(FILE, &stack("7.1.9"));
    let valid = run(stackctl(&emulator.endpoint, ws.dir.path()).args(["validate", "-f", FILE]));
    assert_eq!(valid.code, 0, "{}", valid.stderr);
    for command in [&["plan"][..], &["up", "--yes"][..]] {
        let mut args = command.to_vec();
        args.extend(["-f", FILE]);
        let refused = run(stackctl(&emulator.endpoint, ws.dir.path()).args(&args));
        assert_eq!(refused.code, 1, "{args:?}: {}", refused.stderr);
        assert!(
            refused
                .stderr
                .contains("`cache`: ElastiCache does not offer redis 7.1.9 in us-east-1"),
            "{}",
            refused.stderr
        );
        assert!(refused.stderr.contains(AT), "{}", refused.stderr);
        assert!(
            refused
                .stderr
                .contains("ElastiCache offers redis 7.1.0 here"),
            "the help names what AWS offers: {}",
            refused.stderr
        );
    }
    assert_eq!(
        emulator.changes(),
        Vec::<String>::new(),
        "nothing was changed"
    );

    // A version AWS offers is created as written.
    ws.write(FILE, &stack("7.0"));
    let up = run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "--yes", "-f", FILE]));
    assert_eq!(up.code, 0, "{}", up.stderr);
    let version = |elasticache: aws_sdk_elasticache::Client| async move {
        elasticache
            .describe_cache_clusters()
            .cache_cluster_id("versions-demo-cache")
            .send()
            .await
            .unwrap()
            .cache_clusters()[0]
            .engine_version()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(version(aws.elasticache.clone()).await, "7.0");

    // An upgrade to a version AWS does not offer is refused too, the cluster left as it is.
    emulator.reset_requests();
    ws.write(FILE, &stack("7.1.9"));
    let refused =
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "--yes", "-f", FILE]));
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains(AT), "{}", refused.stderr);
    assert_eq!(emulator.changes(), Vec::<String>::new());
    assert_eq!(version(aws.elasticache.clone()).await, "7.0");

    // One AWS offers is applied in place.
    ws.write(FILE, &stack("7.1"));
    let up = run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "--yes", "-f", FILE]));
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert_eq!(version(aws.elasticache.clone()).await, "7.1");

    let down = run(stackctl(&emulator.endpoint, ws.dir.path()).args(["down", "--yes", "-f", FILE]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    let gone = aws
        .elasticache
        .describe_cache_clusters()
        .cache_cluster_id("versions-demo-cache")
        .send()
        .await
        .expect_err("the cluster is deleted");
    assert_eq!(gone.code(), Some("CacheClusterNotFound"));
}

fn database(version: &str) -> String {
    format!(
        "stack: upgrade-demo
region: us-east-1
resources:
  vpc: {{ type: vpc, name: demo-vpc }}
  db_subnets: {{ type: rds-subnet-group }}
  db:
    type: rds-instance
    instance_class: db.t3.micro
    password_secret: upgrade-demo-db
    subnet_group: ${{db_subnets.name}}
    engine_version: \"{version}\"
    removal_policy: destroy
"
    )
}

/// A major version upgrade is made (RDS needs AllowMajorVersionUpgrade for it); going back is
/// refused by the plan, as AWS refuses it, before any change.
#[tokio::test(flavor = "multi_thread")]
async fn versions_are_upgraded_in_place_and_never_downgraded() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let up = |version: &str| {
        ws.write(FILE, &database(version));
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "--yes", "-f", FILE]))
    };
    let version = || async {
        aws.rds
            .describe_db_instances()
            .db_instance_identifier("upgrade-demo-db")
            .send()
            .await
            .unwrap()
            .db_instances()[0]
            .engine_version()
            .unwrap_or_default()
            .to_string()
    };
    let created = up("8.0");
    assert_eq!(created.code, 0, "{}", created.stderr);
    assert!(version().await.starts_with("8.0"), "{}", version().await);

    // AWS applies a minor upgrade itself: `8.0` is still met; pinning an older minor is a
    // downgrade, refused by the plan against the version AWS runs, before any change.
    aws.rds
        .modify_db_instance()
        .db_instance_identifier("upgrade-demo-db")
        .engine_version("8.0.40")
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    let quiet = crate::common::detailed_plan(&emulator.endpoint, ws.dir.path(), FILE);
    assert_eq!(
        quiet.code, 0,
        "8.0 is met by 8.0.40: {}{}",
        quiet.stdout, quiet.stderr
    );
    emulator.reset_requests();
    let pinned = up("8.0.36");
    assert_eq!(pinned.code, 1, "{}", pinned.stderr);
    assert!(
        pinned
            .stderr
            .contains("cannot go back from 8.0.40 to 8.0.36"),
        "{}",
        pinned.stderr
    );
    assert_eq!(
        emulator.changes(),
        Vec::<String>::new(),
        "nothing was changed"
    );

    let upgraded = up("8.4");
    assert_eq!(upgraded.code, 0, "{}", upgraded.stderr);
    assert!(version().await.starts_with("8.4"), "{}", version().await);

    emulator.reset_requests();
    let back = up("8.0");
    assert_eq!(back.code, 1, "{}", back.stderr);
    assert!(
        back.stderr
            .contains("`engine_version` can only be upgraded"),
        "{}",
        back.stderr
    );
    assert_eq!(
        emulator.changes(),
        Vec::<String>::new(),
        "nothing was changed"
    );
    assert!(version().await.starts_with("8.4"));

    let down = run(stackctl(&emulator.endpoint, ws.dir.path()).args(["down", "--yes", "-f", FILE]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    let gone = aws
        .rds
        .describe_db_instances()
        .db_instance_identifier("upgrade-demo-db")
        .send()
        .await
        .expect_err("the database is deleted");
    assert_eq!(gone.code(), Some("DBInstanceNotFound"));
}
