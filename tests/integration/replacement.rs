//! Issue #9: replacements applied, not just planned. When resources that stay keep using the replaced
//! one, the new one is created first, they move to it, and only then is the old one deleted, so no
//! DependencyViolation is ever waited out. Run against an emulator where creates, modifies and deletes
//! take time and AWS refuses to delete what is in use, with short delete timeouts so a hang fails fast.
//! Every result is read back through the AWS API.

use crate::common::{Clients, Emulator, Run, Workspace, run, stackctl};
use aws_sdk_ec2::error::ProvideErrorMetadata;

const CACHE_STACK: &str = "stacks/elasticache-rds.yaml";
const MEMORYDB_STACK: &str = "stacks/memorydb.yaml";

fn slow_emulator() -> Emulator {
    Emulator::start_with_env(&[
        ("STACKCTL_EMULATOR_CREATE_SECONDS", "2"),
        ("STACKCTL_EMULATOR_DELETE_SECONDS", "2"),
        ("STACKCTL_EMULATOR_ENI_RELEASE_SECONDS", "2"),
    ])
}

fn up(emulator: &Emulator, ws: &Workspace, file: &str) -> Run {
    run(stackctl(&emulator.endpoint, ws.dir.path()).args(["up", "-f", file, "--yes"]))
}

fn plan(emulator: &Emulator, ws: &Workspace, file: &str) -> Run {
    crate::common::detailed_plan(&emulator.endpoint, ws.dir.path(), file)
}

/// Replaces `from` by `to` in a file of the workspace; `from` must be there.
fn edit(ws: &Workspace, file: &str, from: &str, to: &str) {
    let text = ws.read(file);
    assert!(text.contains(from), "{file} has no `{from}`");
    ws.write(file, &text.replacen(from, to, 1));
}

/// Gives each named resource of a stack file a short delete timeout, so a delete that waits on
/// something still in use fails the test in seconds instead of hanging for the default 15 minutes.
fn short_delete_timeouts(ws: &Workspace, file: &str, resources: &[&str]) {
    for resource in resources {
        edit(
            ws,
            file,
            &format!("\n  {resource}:\n"),
            &format!("\n  {resource}:\n    timeouts: {{ delete: 40s }}\n"),
        );
    }
}

/// The live security group stackctl made for `resource`: (id, description).
async fn group_of(aws: &Clients, resource: &str) -> (String, String) {
    let groups = aws
        .ec2
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("tag:stackctl:resource")
                .values(resource)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let found = groups.security_groups();
    assert_eq!(found.len(), 1, "one group for {resource}: {found:?}");
    (
        found[0].group_id().unwrap().to_string(),
        found[0].description().unwrap().to_string(),
    )
}

async fn group_gone(aws: &Clients, id: &str) {
    let error = aws
        .ec2
        .describe_security_groups()
        .group_ids(id)
        .send()
        .await
        .expect_err("the old group is deleted");
    assert_eq!(error.code(), Some("InvalidGroup.NotFound"), "{error:?}");
}

/// The security groups each rule of `group` admits traffic from.
async fn rule_sources(aws: &Clients, group: &str) -> Vec<String> {
    let described = aws
        .ec2
        .describe_security_groups()
        .group_ids(group)
        .send()
        .await
        .unwrap();
    described.security_groups()[0]
        .ip_permissions()
        .iter()
        .flat_map(|p| p.user_id_group_pairs())
        .filter_map(|pair| pair.group_id().map(str::to_string))
        .collect()
}

async fn instance_of(aws: &Clients, resource: &str) -> aws_sdk_ec2::types::Instance {
    let described = aws
        .ec2
        .describe_instances()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("tag:stackctl:resource")
                .values(resource)
                .build(),
        )
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("instance-state-name")
                .values("running")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let instances: Vec<_> = described
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .cloned()
        .collect();
    assert_eq!(instances.len(), 1, "one running instance: {instances:?}");
    instances[0].clone()
}

fn group_ids(instance: &aws_sdk_ec2::types::Instance) -> Vec<String> {
    instance
        .security_groups()
        .iter()
        .filter_map(|g| g.group_id().map(str::to_string))
        .collect()
}

/// The three security groups of the cache-and-database stack are replaced at once: the web server's
/// group is used by the instance and by the other two groups' rules; the Redis group by the cache
/// cluster, the MySQL group by the database. Each new group is created first, its users move, then
/// the old group goes.
#[tokio::test(flavor = "multi_thread")]
async fn security_groups_in_use_are_replaced_create_first() {
    let emulator = slow_emulator();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    short_delete_timeouts(&ws, CACHE_STACK, &["web_sg", "redis_sg", "db_sg"]);
    let created = up(&emulator, &ws, CACHE_STACK);
    assert_eq!(created.code, 0, "{}", created.stderr);
    let (old_web, _) = group_of(&aws, "web_sg").await;
    let (old_redis, _) = group_of(&aws, "redis_sg").await;
    let (old_db, _) = group_of(&aws, "db_sg").await;

    edit(
        &ws,
        CACHE_STACK,
        "Web server, reachable on 8080",
        "Web server, port 8080",
    );
    edit(
        &ws,
        CACHE_STACK,
        "Redis, reachable only from the web server",
        "Redis, from the web server",
    );
    edit(
        &ws,
        CACHE_STACK,
        "MySQL, reachable only from the web server",
        "MySQL, from the web server",
    );
    let planned = plan(&emulator, &ws, CACHE_STACK);
    assert_eq!(planned.code, 2, "{}", planned.stderr);
    assert!(
        planned.stdout.contains(
            "order: the new security group is created first; `web` moves to it before the old one is deleted"
        ),
        "{}",
        planned.stdout
    );
    assert!(
        planned
            .stdout
            .contains("order: the new security group is created first; `cache` moves to it"),
        "{}",
        planned.stdout
    );
    let replaced = up(&emulator, &ws, CACHE_STACK);
    assert_eq!(replaced.code, 0, "{}", replaced.stderr);
    assert!(
        !replaced.stderr.contains("DependencyViolation"),
        "no delete waited on a group in use:\n{}",
        replaced.stderr
    );

    let (web_sg, description) = group_of(&aws, "web_sg").await;
    assert_eq!(description, "Web server, port 8080");
    let (redis_sg, _) = group_of(&aws, "redis_sg").await;
    let (db_sg, _) = group_of(&aws, "db_sg").await;
    for old in [&old_web, &old_redis, &old_db] {
        group_gone(&aws, old).await;
    }
    assert_eq!(
        group_ids(&instance_of(&aws, "web").await),
        vec![web_sg.clone()]
    );
    assert_eq!(rule_sources(&aws, &redis_sg).await, vec![web_sg.clone()]);
    assert_eq!(rule_sources(&aws, &db_sg).await, vec![web_sg.clone()]);
    let cache = aws
        .elasticache
        .describe_cache_clusters()
        .cache_cluster_id("cache-demo-cache")
        .send()
        .await
        .unwrap();
    let cache_groups: Vec<&str> = cache.cache_clusters()[0]
        .security_groups()
        .iter()
        .filter_map(|g| g.security_group_id())
        .collect();
    assert_eq!(cache_groups, vec![redis_sg.as_str()]);
    let db = aws
        .rds
        .describe_db_instances()
        .db_instance_identifier("cache-demo-db")
        .send()
        .await
        .unwrap();
    let db_groups: Vec<&str> = db.db_instances()[0]
        .vpc_security_groups()
        .iter()
        .filter_map(|g| g.vpc_security_group_id())
        .collect();
    assert_eq!(db_groups, vec![db_sg.as_str()]);

    let quiet = plan(&emulator, &ws, CACHE_STACK);
    assert_eq!(quiet.code, 0, "{}", quiet.stdout);
    let removed =
        run(stackctl(&emulator.endpoint, ws.dir.path()).args(["down", "-f", CACHE_STACK, "--yes"]));
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    for group in [&web_sg, &redis_sg, &db_sg] {
        group_gone(&aws, group).await;
    }
}

/// MemoryDB: the cluster's ACL and security group, and the web server's role (with its instance
/// profile), are replaced while the cluster and the instance stay: the cluster moves to the new ACL
/// and group, the instance to the new instance profile, then the old ones are deleted.
#[tokio::test(flavor = "multi_thread")]
async fn acl_role_and_cluster_group_are_replaced_while_their_users_stay() {
    let emulator = slow_emulator();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    short_delete_timeouts(&ws, MEMORYDB_STACK, &["db_sg", "app_acl", "web_role"]);
    let created = up(&emulator, &ws, MEMORYDB_STACK);
    assert_eq!(created.code, 0, "{}", created.stderr);
    let (old_db_sg, _) = group_of(&aws, "db_sg").await;

    edit(
        &ws,
        MEMORYDB_STACK,
        "    type: memorydb-acl\n",
        "    type: memorydb-acl\n    name: customers-acl\n",
    );
    edit(
        &ws,
        MEMORYDB_STACK,
        "    type: iam-role\n",
        "    type: iam-role\n    name: customers-web-role\n",
    );
    edit(
        &ws,
        MEMORYDB_STACK,
        "MemoryDB, reachable only from the customers service",
        "MemoryDB, from the customers service",
    );
    let replaced = up(&emulator, &ws, MEMORYDB_STACK);
    assert_eq!(replaced.code, 0, "{}", replaced.stderr);
    assert!(
        replaced
            .stderr
            .contains("order: the new memorydb acl is created first; `db` moves to it"),
        "{}",
        replaced.stderr
    );

    let cluster = aws
        .memorydb
        .describe_clusters()
        .cluster_name("memorydb-demo-db")
        .send()
        .await
        .unwrap();
    let cluster = &cluster.clusters()[0];
    assert_eq!(cluster.acl_name(), Some("customers-acl"));
    let (db_sg, _) = group_of(&aws, "db_sg").await;
    let cluster_groups: Vec<&str> = cluster
        .security_groups()
        .iter()
        .filter_map(|g| g.security_group_id())
        .collect();
    assert_eq!(cluster_groups, vec![db_sg.as_str()]);
    group_gone(&aws, &old_db_sg).await;
    let old_acl = aws
        .memorydb
        .describe_acls()
        .acl_name("memorydb-demo-app-acl")
        .send()
        .await
        .expect_err("the old ACL is deleted");
    assert_eq!(old_acl.code(), Some("ACLNotFoundFault"), "{old_acl:?}");

    let instance = instance_of(&aws, "web").await;
    let profile = instance
        .iam_instance_profile()
        .and_then(|p| p.arn())
        .unwrap_or_default();
    assert!(
        profile.ends_with("/customers-web-role"),
        "the instance moved to the new profile: {profile}"
    );
    for (what, error) in [
        (
            "role",
            aws.iam
                .get_role()
                .role_name("memorydb-demo-web-role")
                .send()
                .await
                .map(|_| ())
                .expect_err("the old role is deleted")
                .code()
                .map(str::to_string),
        ),
        (
            "instance profile",
            aws.iam
                .get_instance_profile()
                .instance_profile_name("memorydb-demo-web-role")
                .send()
                .await
                .map(|_| ())
                .expect_err("the old instance profile is deleted")
                .code()
                .map(str::to_string),
        ),
    ] {
        assert_eq!(error.as_deref(), Some("NoSuchEntity"), "old {what}");
    }
    let quiet = plan(&emulator, &ws, MEMORYDB_STACK);
    assert_eq!(quiet.code, 0, "{}", quiet.stdout);
    let removed = run(stackctl(&emulator.endpoint, ws.dir.path()).args([
        "down",
        "-f",
        MEMORYDB_STACK,
        "--yes",
    ]));
    assert_eq!(removed.code, 0, "{}", removed.stderr);
}

/// A subnet group renamed in the file takes its cache cluster with it (a cluster cannot change subnet
/// group): the cluster goes first, then the old group, then both are created anew.
#[tokio::test(flavor = "multi_thread")]
async fn a_renamed_subnet_group_is_replaced_after_its_cluster_goes() {
    let emulator = slow_emulator();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    short_delete_timeouts(&ws, CACHE_STACK, &["cache_subnets", "cache"]);
    assert_eq!(up(&emulator, &ws, CACHE_STACK).code, 0);
    edit(
        &ws,
        CACHE_STACK,
        "    type: elasticache-subnet-group\n",
        "    type: elasticache-subnet-group\n    name: covid-cache-subnets\n",
    );
    let replaced = up(&emulator, &ws, CACHE_STACK);
    assert_eq!(replaced.code, 0, "{}", replaced.stderr);
    let old = aws
        .elasticache
        .describe_cache_subnet_groups()
        .cache_subnet_group_name("cache-demo-cache-subnets")
        .send()
        .await
        .expect_err("the old subnet group is deleted");
    assert_eq!(old.code(), Some("CacheSubnetGroupNotFoundFault"), "{old:?}");
    let cache = aws
        .elasticache
        .describe_cache_clusters()
        .cache_cluster_id("cache-demo-cache")
        .send()
        .await
        .unwrap();
    assert_eq!(
        cache.cache_clusters()[0].cache_subnet_group_name(),
        Some("covid-cache-subnets")
    );
    assert_eq!(plan(&emulator, &ws, CACHE_STACK).code, 0);
}

/// Deploys the cache stack with the file naming the web server's group; returns the group's id.
async fn deploy_with_named_web_group(
    emulator: &Emulator,
    aws: &Clients,
    ws: &Workspace,
    name: &str,
) -> String {
    edit(
        ws,
        CACHE_STACK,
        "    description: Web server, reachable on 8080\n",
        &format!("    name: {name}\n    description: Web server, reachable on 8080\n"),
    );
    let deployed = up(emulator, ws, CACHE_STACK);
    assert_eq!(deployed.code, 0, "{}", deployed.stderr);
    group_of(aws, "web_sg").await.0
}

/// A name the file fixes cannot be held by two groups at once, and a group in use cannot be deleted:
/// the plan says so and what to do, before any change.
#[tokio::test(flavor = "multi_thread")]
async fn a_fixed_name_in_use_is_refused_before_any_change() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let before = deploy_with_named_web_group(&emulator, &aws, &ws, "covid-web").await;
    edit(
        &ws,
        CACHE_STACK,
        "Web server, reachable on 8080",
        "Web server, port 8080",
    );
    emulator.reset_requests();
    let refused = up(&emulator, &ws, CACHE_STACK);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains("the file fixes its name `covid-web`"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("Change its `name:`"),
        "{}",
        refused.stderr
    );
    let changes = emulator.changes();
    assert!(changes.is_empty(), "nothing was changed: {changes:?}");
    assert_eq!(group_of(&aws, "web_sg").await.0, before);
}

/// A replacement cut short at every step (the process killed right after each AWS change it makes),
/// then the file reverted: the next `up` converges to one group per resource, with the old
/// description, used by everything that used the first one, and nothing left over.
#[tokio::test(flavor = "multi_thread")]
async fn reverting_after_an_interrupted_replacement_converges() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    assert_eq!(up(&emulator, &ws, CACHE_STACK).code, 0);
    let original = ws.read(CACHE_STACK);
    let changed = original.replacen("Web server, reachable on 8080", "Web server, port 8080", 1);
    let up_args = ["up", "-f", CACHE_STACK, "--yes"];

    // How many AWS changes the replacement makes, measured once.
    ws.write(CACHE_STACK, &changed);
    let before = crate::crash::mutations(&emulator.endpoint);
    emulator.reset_requests();
    assert_eq!(up(&emulator, &ws, CACHE_STACK).code, 0);
    let points = crate::crash::mutations(&emulator.endpoint) - before;
    // The rules that follow the group are added before the old ones go: the new group's own rule,
    // then at least one rule of a group that moves, before any revoke.
    let changes = emulator.changes();
    let first_revoke = changes
        .iter()
        .position(|r| r.contains("RevokeSecurityGroup"))
        .expect("old rules are revoked");
    let added_before = changes[..first_revoke]
        .iter()
        .filter(|r| r.contains("AuthorizeSecurityGroup"))
        .count();
    assert!(
        added_before >= 2,
        "a rule was revoked before its successor existed: {changes:?}"
    );
    ws.write(CACHE_STACK, &original);
    assert_eq!(up(&emulator, &ws, CACHE_STACK).code, 0);
    assert!(points >= 4, "{points} changes");
    let (first_group, _) = group_of(&aws, "web_sg").await;

    for point in 1..points {
        ws.write(CACHE_STACK, &changed);
        assert_eq!(
            crate::crash::run_with_crash(&emulator, &ws, &up_args, point),
            Some(9),
            "the replacement was not killed at change {point}"
        );
        ws.write(CACHE_STACK, &original);
        let reverted = up(&emulator, &ws, CACHE_STACK);
        assert_eq!(
            reverted.code, 0,
            "after change {point}:\n{}",
            reverted.stderr
        );
        let (web_sg, description) = group_of(&aws, "web_sg").await;
        assert_eq!(
            description, "Web server, reachable on 8080",
            "after change {point}"
        );
        // The old group, still waiting for its users to move, is taken back.
        assert_eq!(web_sg, first_group, "after change {point}");
        assert_eq!(
            group_ids(&instance_of(&aws, "web").await),
            vec![web_sg.clone()]
        );
        let (redis_sg, _) = group_of(&aws, "redis_sg").await;
        assert_eq!(rule_sources(&aws, &redis_sg).await, vec![web_sg.clone()]);
        let quiet = plan(&emulator, &ws, CACHE_STACK);
        assert_eq!(quiet.code, 0, "after change {point}:\n{}", quiet.stdout);
    }
}

/// A group's fixed name changed, the replacement cut short before its users moved (here by
/// `--target`, which leaves the old group waiting in the state), then the name reverted: the old
/// group is taken back, the new one deleted once its users are back, and nothing is created.
#[tokio::test(flavor = "multi_thread")]
async fn reverting_a_cut_short_rename_takes_the_old_resource_back() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    let original = deploy_with_named_web_group(&emulator, &aws, &ws, "web-a").await;
    edit(&ws, CACHE_STACK, "name: web-a", "name: web-b");
    let cut_short = run(stackctl(&emulator.endpoint, ws.dir.path()).args([
        "up",
        "-f",
        CACHE_STACK,
        "--yes",
        "--target",
        "web_sg",
    ]));
    assert_eq!(cut_short.code, 0, "{}", cut_short.stderr);
    assert!(
        cut_short.stderr.contains(
            "`db_sg`, `redis_sg` and `web` are left out of this run, so the old one stays"
        ),
        "{}",
        cut_short.stderr
    );
    edit(&ws, CACHE_STACK, "name: web-b", "name: web-a");
    emulator.reset_requests();
    let reverted = up(&emulator, &ws, CACHE_STACK);
    assert_eq!(reverted.code, 0, "{}", reverted.stderr);
    assert!(
        !emulator
            .changes()
            .iter()
            .any(|r| r.ends_with(".CreateSecurityGroup")),
        "nothing is created: {:?}",
        emulator.changes()
    );
    let (web_sg, _) = group_of(&aws, "web_sg").await;
    assert_eq!(web_sg, original, "the original group is back");
    assert_eq!(
        group_ids(&instance_of(&aws, "web").await),
        vec![web_sg.clone()]
    );
    let (redis_sg, _) = group_of(&aws, "redis_sg").await;
    assert_eq!(rule_sources(&aws, &redis_sg).await, vec![web_sg]);
    assert_eq!(plan(&emulator, &ws, CACHE_STACK).code, 0);
}

/// A rename cut short right after its last AWS change (the old group deleted, the state not yet
/// told), then reverted: the name the old group held is free again, and `up` converges.
#[tokio::test(flavor = "multi_thread")]
async fn reverting_a_rename_cut_short_after_the_old_one_went_converges() {
    let emulator = Emulator::start();
    let aws = emulator.aws().await;
    let ws = Workspace::new();
    deploy_with_named_web_group(&emulator, &aws, &ws, "web-a").await;
    let up_args = ["up", "-f", CACHE_STACK, "--yes"];
    // How many AWS changes a rename makes, measured with a rename and its way back.
    edit(&ws, CACHE_STACK, "name: web-a", "name: web-b");
    let before = crate::crash::mutations(&emulator.endpoint);
    assert_eq!(up(&emulator, &ws, CACHE_STACK).code, 0);
    let last = crate::crash::mutations(&emulator.endpoint) - before;
    edit(&ws, CACHE_STACK, "name: web-b", "name: web-a");
    assert_eq!(up(&emulator, &ws, CACHE_STACK).code, 0);

    edit(&ws, CACHE_STACK, "name: web-a", "name: web-b");
    assert_eq!(
        crate::crash::run_with_crash(&emulator, &ws, &up_args, last),
        Some(9),
        "the rename was not killed at its last change"
    );
    edit(&ws, CACHE_STACK, "name: web-b", "name: web-a");
    let reverted = up(&emulator, &ws, CACHE_STACK);
    assert_eq!(reverted.code, 0, "{}", reverted.stderr);
    let (web_sg, _) = group_of(&aws, "web_sg").await;
    let named = aws
        .ec2
        .describe_security_groups()
        .group_ids(&web_sg)
        .send()
        .await
        .unwrap();
    assert_eq!(named.security_groups()[0].group_name(), Some("web-a"));
    assert_eq!(group_ids(&instance_of(&aws, "web").await), vec![web_sg]);
    assert_eq!(plan(&emulator, &ws, CACHE_STACK).code, 0);
}
