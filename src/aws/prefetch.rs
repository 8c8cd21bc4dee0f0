//! Batched describes for refresh: what the state records is read a few calls per kind, made
//! together, instead of one or more calls per resource — security groups and instances by id
//! filter (200 ids a call), secrets by this stack's tag, and every IAM role of the account with its
//! policies; the last two are read for the census of the same plan anyway. What a batch does not hold (or a batch that failed) is read
//! one resource at a time by the drivers, as before: the batch only saves calls, never decides
//! that something is gone.

use super::account_reads::AccountReads;
use super::iam_role::{self, RoleRead};
use super::{Aws, ec2_filter};
use crate::resources::{ResourceKind, TAG_STACK};
use aws_sdk_ec2::types::{Instance, SecurityGroup};
use aws_sdk_elasticache::types::{CacheCluster, ReplicationGroup};
use aws_sdk_memorydb::types::{Acl, Cluster, User};
use aws_sdk_rds::types::{DbInstance, Filter as RdsFilter};
use aws_sdk_secretsmanager::types::SecretListEntry;
use std::collections::HashMap;

/// EC2 accepts at most 200 values in one filter.
const EC2_FILTER_VALUES: usize = 200;
/// RDS accepts at most 100 values in one filter.
const RDS_FILTER_VALUES: usize = 100;

/// What the state records, by kind.
#[derive(Debug, Default)]
pub struct Wanted {
    pub stack: String,
    /// The ids the state records.
    pub ids: HashMap<ResourceKind, Vec<String>>,
    /// How many resources the state records, whether their id is known or not.
    pub counts: HashMap<ResourceKind, usize>,
    /// The secrets whose value stackctl composes: refresh compares their value's digest.
    pub composed_secrets: Vec<String>,
}

/// Batched reads, by the id stackctl records (ElastiCache's in lower case, as it reports them).
#[derive(Debug, Default)]
pub struct Prefetch {
    pub groups: HashMap<String, SecurityGroup>,
    pub instances: HashMap<String, Instance>,
    pub secrets: HashMap<String, SecretListEntry>,
    /// The digest of each composed secret's value, by name: never the value itself.
    pub secret_digests: HashMap<String, String>,
    pub roles: HashMap<String, RoleRead>,
    pub databases: HashMap<String, DbInstance>,
    pub cache_clusters: HashMap<String, CacheCluster>,
    pub replication_groups: HashMap<String, ReplicationGroup>,
    pub memorydb_clusters: HashMap<String, Cluster>,
    pub memorydb_users: HashMap<String, User>,
    pub memorydb_acls: HashMap<String, Acl>,
}

impl Wanted {
    fn ids(&self, kind: ResourceKind) -> &[String] {
        self.ids.get(&kind).map(Vec::as_slice).unwrap_or_default()
    }

    fn count(&self, kind: ResourceKind) -> usize {
        self.counts.get(&kind).copied().unwrap_or_default()
    }

    /// Whether resources of `kind` are read in a batch: only then does reading one wait for it.
    pub fn batches(&self, kind: ResourceKind) -> bool {
        match kind {
            // Asked for by id: a batch is never more calls than one read each.
            ResourceKind::SecurityGroup | ResourceKind::Ec2Instance | ResourceKind::RdsInstance => {
                self.ids(kind).len() >= 2
            }
            // No id filter: the whole region is listed, 100 a page (50 for MemoryDB clusters), so a
            // single resource is cheaper to read by name.
            ResourceKind::ElasticacheCluster
            | ResourceKind::ElasticacheReplicationGroup
            | ResourceKind::MemorydbCluster
            | ResourceKind::MemorydbUser
            | ResourceKind::MemorydbAcl => self.count(kind) >= 2,
            // Read for the census anyway: a role costs one ListRoles more (not five calls), and
            // secrets nothing.
            ResourceKind::Secret | ResourceKind::IamRole => self.count(kind) >= 1,
            ResourceKind::Vpc
            | ResourceKind::ElasticacheSubnetGroup
            | ResourceKind::RdsSubnetGroup
            | ResourceKind::MemorydbSubnetGroup => false,
        }
    }
}

impl Prefetch {
    pub async fn load(aws: &Aws, wanted: &Wanted, reads: &AccountReads) -> Prefetch {
        let when = |kind| wanted.batches(kind);
        // All at once: each batch is a round trip (or a few pages) of its own.
        let (
            groups,
            instances,
            secrets,
            roles,
            databases,
            cache_clusters,
            replication_groups,
            memorydb_clusters,
            memorydb_users,
            memorydb_acls,
        ) = tokio::join!(
            batch(when(ResourceKind::SecurityGroup), || groups(
                aws,
                wanted.ids(ResourceKind::SecurityGroup)
            )),
            batch(when(ResourceKind::Ec2Instance), || instances(
                aws,
                wanted.ids(ResourceKind::Ec2Instance)
            )),
            batch(when(ResourceKind::Secret), || async {
                // Both in one round: the list for descriptions and tags, the values for digests.
                tokio::join!(
                    secrets(aws, &wanted.stack, reads),
                    batch(wanted.composed_secrets.len() >= 2, || secret_digests(
                        aws,
                        &wanted.composed_secrets
                    ))
                )
            }),
            batch(when(ResourceKind::IamRole), || async {
                iam_role::read_all(aws, reads).await.unwrap_or_default()
            }),
            batch(when(ResourceKind::RdsInstance), || databases(
                aws,
                wanted.ids(ResourceKind::RdsInstance)
            )),
            // A replication group is read with its first member cluster.
            batch(
                when(ResourceKind::ElasticacheCluster)
                    || when(ResourceKind::ElasticacheReplicationGroup),
                || cache_clusters(aws)
            ),
            batch(when(ResourceKind::ElasticacheReplicationGroup), || {
                replication_groups(aws)
            }),
            batch(when(ResourceKind::MemorydbCluster), || memorydb_clusters(
                aws
            )),
            batch(when(ResourceKind::MemorydbUser), || memorydb_users(aws)),
            batch(when(ResourceKind::MemorydbAcl), || memorydb_acls(aws)),
        );
        let (secrets, secret_digests) = secrets;
        Prefetch {
            groups,
            instances,
            secrets,
            secret_digests,
            roles,
            databases,
            cache_clusters,
            replication_groups,
            memorydb_clusters,
            memorydb_users,
            memorydb_acls,
        }
    }
}

/// Runs `read` only for a kind that is batched.
async fn batch<T: Default, F: Future<Output = T>>(wanted: bool, read: impl FnOnce() -> F) -> T {
    match wanted {
        true => read().await,
        false => T::default(),
    }
}

/// The items of every page of a paginated request, by key. A failed page ends the batch with what
/// it has: whatever is missing is read one resource at a time.
macro_rules! keyed_pages {
    ($pages:expr, |$page:ident| $items:expr) => {{
        let mut pages = $pages;
        let mut found = HashMap::new();
        while let Some(Ok($page)) = pages.next().await {
            found.extend($items);
        }
        found
    }};
}

async fn groups(aws: &Aws, ids: &[String]) -> HashMap<String, SecurityGroup> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(EC2_FILTER_VALUES) {
        let pages = aws
            .ec2
            .describe_security_groups()
            .filters(ec2_filter("group-id", chunk))
            .into_paginator()
            .send();
        found.extend(keyed_pages!(pages, |page| page
            .security_groups()
            .iter()
            .filter_map(|g| Some((g.group_id()?.to_string(), g.clone())))));
    }
    found
}

async fn instances(aws: &Aws, ids: &[String]) -> HashMap<String, Instance> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(EC2_FILTER_VALUES) {
        let pages = aws
            .ec2
            .describe_instances()
            .filters(ec2_filter("instance-id", chunk))
            .into_paginator()
            .send();
        found.extend(keyed_pages!(pages, |page| page
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter_map(|i| Some((i.instance_id()?.to_string(), i.clone())))));
    }
    found
}

async fn databases(aws: &Aws, ids: &[String]) -> HashMap<String, DbInstance> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(RDS_FILTER_VALUES) {
        let filter = RdsFilter::builder()
            .name("db-instance-id")
            .set_values(Some(chunk.to_vec()))
            .build();
        let pages = aws
            .rds
            .describe_db_instances()
            .filters(filter)
            .into_paginator()
            .send();
        found.extend(keyed_pages!(pages, |page| page
            .db_instances()
            .iter()
            .filter_map(|d| Some((
                d.db_instance_identifier()?.to_string(),
                d.clone()
            )))));
    }
    found
}

async fn cache_clusters(aws: &Aws) -> HashMap<String, CacheCluster> {
    let pages = aws
        .elasticache
        .describe_cache_clusters()
        .show_cache_node_info(true)
        .into_paginator()
        .send();
    keyed_pages!(pages, |page| page.cache_clusters().iter().filter_map(|c| {
        Some((c.cache_cluster_id()?.to_lowercase(), c.clone()))
    }))
}

async fn replication_groups(aws: &Aws) -> HashMap<String, ReplicationGroup> {
    let pages = aws
        .elasticache
        .describe_replication_groups()
        .into_paginator()
        .send();
    keyed_pages!(pages, |page| page.replication_groups().iter().filter_map(
        |g| Some((g.replication_group_id()?.to_lowercase(), g.clone()))
    ))
}

async fn memorydb_clusters(aws: &Aws) -> HashMap<String, Cluster> {
    let pages = aws
        .memorydb
        .describe_clusters()
        .show_shard_details(true)
        .into_paginator()
        .send();
    keyed_pages!(pages, |page| page
        .clusters()
        .iter()
        .filter_map(|c| Some((c.name()?.to_string(), c.clone()))))
}

async fn memorydb_users(aws: &Aws) -> HashMap<String, User> {
    let pages = aws.memorydb.describe_users().into_paginator().send();
    keyed_pages!(pages, |page| page
        .users()
        .iter()
        .filter_map(|u| Some((u.name()?.to_string(), u.clone()))))
}

async fn memorydb_acls(aws: &Aws) -> HashMap<String, Acl> {
    let pages = aws.memorydb.describe_acls().into_paginator().send();
    keyed_pages!(pages, |page| page
        .acls()
        .iter()
        .filter_map(|a| Some((a.name()?.to_string(), a.clone()))))
}

/// BatchGetSecretValue takes at most 20 secrets a call.
const SECRETS_PER_BATCH: usize = 20;

async fn secret_digests(aws: &Aws, names: &[String]) -> HashMap<String, String> {
    let mut found = HashMap::new();
    for chunk in names.chunks(SECRETS_PER_BATCH) {
        let pages = aws
            .secrets
            .batch_get_secret_value()
            .set_secret_id_list(Some(chunk.to_vec()))
            .into_paginator()
            .send();
        // A secret the batch could not read (gone, no permission) is in the answer's errors: it
        // is read on its own.
        found.extend(keyed_pages!(pages, |page| page
            .secret_values()
            .iter()
            .filter_map(|v| Some((
                v.name()?.to_string(),
                crate::userdata::digest(v.secret_string()?)
            )))));
    }
    found
}

/// The secrets tagged with this stack's name (any lineage: ownership is judged later).
async fn secrets(aws: &Aws, stack: &str, reads: &AccountReads) -> HashMap<String, SecretListEntry> {
    let Ok(listed) = reads.stack_secrets(aws, stack).await else {
        return HashMap::new();
    };
    listed
        .iter()
        .filter(|s| {
            s.tags()
                .iter()
                .any(|t| t.key() == Some(TAG_STACK) && t.value() == Some(stack))
        })
        .filter_map(|s| Some((s.name()?.to_string(), s.clone())))
        .collect()
}
