//! Batched describes for refresh: what the state records is read a few calls per kind, made
//! together, instead of one or more calls per resource — security groups and instances by id
//! filter (200 ids a call), secrets by this stack's tag, and every IAM role of the account with its
//! policies when the stack has a few. What a batch does not hold (or a batch that failed) is read
//! one resource at a time by the drivers, as before: the batch only saves calls, never decides
//! that something is gone.

use super::iam_role::{self, RoleRead};
use super::{Aws, DriverError};
use crate::resources::{ResourceKind, TAG_STACK};
use aws_sdk_ec2::types::{Filter, Instance, SecurityGroup};
use aws_sdk_secretsmanager::types::SecretListEntry;
use std::collections::HashMap;

/// EC2 accepts at most 200 values in one filter.
const FILTER_VALUES: usize = 200;
/// From this many roles on, reading the account's roles at once takes fewer calls than reading
/// each (five or more calls a role); an account with thousands of roles pays a few pages more.
const ROLES_READ_AT_ONCE_FROM: usize = 3;

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
            ResourceKind::Secret => self.secrets >= 2,
            ResourceKind::IamRole => self.roles >= ROLES_READ_AT_ONCE_FROM,
            _ => false,
        }
    }
}

impl Prefetch {
    pub async fn load(aws: &Aws, wanted: &Wanted) -> Prefetch {
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
                    true => secrets(aws, &wanted.stack).await,
                    false => HashMap::new(),
                }
            },
            async {
                match batches(ResourceKind::IamRole) {
                    true => iam_role::read_all(aws).await.unwrap_or_default(),
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
async fn secrets(aws: &Aws, stack: &str) -> HashMap<String, SecretListEntry> {
    use aws_sdk_secretsmanager::types::{Filter as SecretFilter, FilterNameStringType};
    let mut found = HashMap::new();
    let mut pages = aws
        .secrets
        .list_secrets()
        .filters(
            SecretFilter::builder()
                .key(FilterNameStringType::TagKey)
                .values(TAG_STACK)
                .build(),
        )
        .filters(
            SecretFilter::builder()
                .key(FilterNameStringType::TagValue)
                .values(stack)
                .build(),
        )
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let Ok(page) = page.map_err(|e| DriverError::from_sdk("ListSecrets", e)) else {
            return found;
        };
        for secret in page.secret_list() {
            if let Some(name) = secret.name() {
                found.insert(name.to_string(), secret.clone());
            }
        }
    }
    found
}
