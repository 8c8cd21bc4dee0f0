//! Batched describes for refresh: what the state records is read a few calls per kind, made
//! together, instead of one or more calls per resource — security groups and instances by id
//! filter (200 ids a call), secrets by this stack's tag, and every IAM role of the account with its
//! policies; the last two are read for the census of the same plan anyway. What a batch does not hold (or a batch that failed) is read
//! one resource at a time by the drivers, as before: the batch only saves calls, never decides
//! that something is gone.

use super::account_reads::AccountReads;
use super::iam_role::{self, RoleRead};
use super::{Aws, DriverError};
use crate::resources::{ResourceKind, TAG_STACK};
use aws_sdk_ec2::types::{Filter, Instance, SecurityGroup};
use aws_sdk_secretsmanager::types::SecretListEntry;
use std::collections::HashMap;

/// EC2 accepts at most 200 values in one filter.
const FILTER_VALUES: usize = 200;

/// What the state records, by kind.
#[derive(Debug, Default)]
pub struct Wanted {
    pub stack: String,
    pub groups: Vec<String>,
    pub instances: Vec<String>,
    pub secrets: usize,
    pub roles: usize,
}

#[derive(Debug, Default)]
pub struct Prefetch {
    pub groups: HashMap<String, SecurityGroup>,
    pub instances: HashMap<String, Instance>,
    pub secrets: HashMap<String, SecretListEntry>,
    pub roles: HashMap<String, RoleRead>,
}

impl Wanted {
    /// Whether resources of `kind` are read in a batch: only then does reading one wait for it.
    pub fn batches(&self, kind: ResourceKind) -> bool {
        match kind {
            ResourceKind::SecurityGroup => self.groups.len() >= 2,
            ResourceKind::Ec2Instance => self.instances.len() >= 2,
            // Read for the census anyway: a role costs one ListRoles more (not five calls), and
            // secrets nothing.
            ResourceKind::Secret => self.secrets >= 1,
            ResourceKind::IamRole => self.roles >= 1,
            _ => false,
        }
    }
}

impl Prefetch {
    pub async fn load(aws: &Aws, wanted: &Wanted, reads: &AccountReads) -> Prefetch {
        let batches = |kind| wanted.batches(kind);
        let (groups, instances, secrets, roles) = tokio::join!(
            async {
                match batches(ResourceKind::SecurityGroup) {
                    true => groups(aws, &wanted.groups).await,
                    false => HashMap::new(),
                }
            },
            async {
                match batches(ResourceKind::Ec2Instance) {
                    true => instances(aws, &wanted.instances).await,
                    false => HashMap::new(),
                }
            },
            async {
                match batches(ResourceKind::Secret) {
                    true => secrets(aws, &wanted.stack, reads).await,
                    false => HashMap::new(),
                }
            },
            async {
                match batches(ResourceKind::IamRole) {
                    true => iam_role::read_all(aws, reads).await.unwrap_or_default(),
                    false => HashMap::new(),
                }
            }
        );
        Prefetch {
            groups,
            instances,
            secrets,
            roles,
        }
    }
}

fn filter(name: &str, values: &[String]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.to_vec()))
        .build()
}

async fn groups(aws: &Aws, ids: &[String]) -> HashMap<String, SecurityGroup> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(FILTER_VALUES) {
        let mut pages = aws
            .ec2
            .describe_security_groups()
            .filters(filter("group-id", chunk))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let Ok(page) = page.map_err(|e| DriverError::from_sdk("DescribeSecurityGroups", e))
            else {
                return found;
            };
            for group in page.security_groups() {
                if let Some(id) = group.group_id() {
                    found.insert(id.to_string(), group.clone());
                }
            }
        }
    }
    found
}

async fn instances(aws: &Aws, ids: &[String]) -> HashMap<String, Instance> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(FILTER_VALUES) {
        let mut pages = aws
            .ec2
            .describe_instances()
            .filters(filter("instance-id", chunk))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let Ok(page) = page.map_err(|e| DriverError::from_sdk("DescribeInstances", e)) else {
                return found;
            };
            for instance in page.reservations().iter().flat_map(|r| r.instances()) {
                if let Some(id) = instance.instance_id() {
                    found.insert(id.to_string(), instance.clone());
                }
            }
        }
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
