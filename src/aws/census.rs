//! Finds every resource in AWS tagged with a stack, in four paginated calls whatever the stack's
//! size: a Resource Groups Tagging API query (security groups, ElastiCache, RDS, MemoryDB), an IAM
//! account-details read (roles with their tags), and, because the tagging API still lists what is
//! on its way out, DescribeInstances of live instances and ListSecrets (which leaves out secrets
//! scheduled for deletion).

use super::account_reads::AccountReads;
use super::{Aws, DriverError};
use crate::resources::{ResourceKind, TAG_LINEAGE, TAG_RESOURCE, TAG_STACK};
use std::collections::BTreeMap;

/// A resource AWS holds with the tag `stackctl:stack=<stack>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tagged {
    pub kind: ResourceKind,
    /// The id stackctl records for this kind (a group id, an instance id, or a name).
    pub id: String,
    /// The `stackctl:resource` tag: the key of the resource in the stack file that made it.
    pub resource: Option<String>,
    /// The `stackctl:lineage` tag: the state that made it.
    pub lineage: Option<String>,
}

pub async fn census(aws: &Aws, stack: &str) -> Result<Vec<Tagged>, DriverError> {
    census_sharing(aws, stack, &AccountReads::default()).await
}

/// The census, with the account-wide reads it shares with the refresh of the same plan.
pub async fn census_sharing(
    aws: &Aws,
    stack: &str,
    reads: &AccountReads,
) -> Result<Vec<Tagged>, DriverError> {
    let (tagged, roles, secrets, instances) = tokio::join!(
        tagged_resources(aws, stack, reads),
        tagged_roles(aws, stack, reads),
        tagged_secrets(aws, stack, reads),
        tagged_instances(aws, stack)
    );
    // The tagging API also lists terminated instances (for up to an hour) and secrets scheduled for
    // deletion; DescribeInstances and ListSecrets can leave them out.
    let mut found: Vec<Tagged> = tagged?
        .into_iter()
        .filter(|t| !matches!(t.kind, ResourceKind::Secret | ResourceKind::Ec2Instance))
        .collect();
    found.extend(roles?);
    found.extend(secrets?);
    found.extend(instances?);
    drop_replication_group_members(&mut found);
    found.sort();
    Ok(found)
}

fn tagged_from(kind: ResourceKind, id: String, tags: &BTreeMap<String, String>) -> Tagged {
    Tagged {
        kind,
        id,
        resource: tags.get(TAG_RESOURCE).cloned(),
        lineage: tags.get(TAG_LINEAGE).cloned(),
    }
}

async fn tagged_resources(
    aws: &Aws,
    stack: &str,
    reads: &AccountReads,
) -> Result<Vec<Tagged>, DriverError> {
    Ok(reads
        .stack_tagged(aws, stack)
        .await?
        .iter()
        .filter_map(|(arn, tags)| {
            let (kind, id) = classify(arn)?;
            Some(tagged_from(kind, id, tags))
        })
        .collect())
}

async fn tagged_roles(
    aws: &Aws,
    stack: &str,
    reads: &AccountReads,
) -> Result<Vec<Tagged>, DriverError> {
    let mut found = Vec::new();
    for role in reads.role_details(aws).await? {
        let tags: BTreeMap<String, String> = role
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        if tags.get(TAG_STACK).map(String::as_str) != Some(stack) {
            continue;
        }
        if let Some(name) = role.role_name() {
            found.push(tagged_from(ResourceKind::IamRole, name.to_string(), &tags));
        }
    }
    Ok(found)
}

async fn tagged_instances(aws: &Aws, stack: &str) -> Result<Vec<Tagged>, DriverError> {
    use aws_sdk_ec2::types::Filter;
    let mut pages = aws
        .ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name(format!("tag:{TAG_STACK}"))
                .values(stack)
                .build(),
        )
        .filters(
            Filter::builder()
                .name("instance-state-name")
                .values("pending")
                .values("running")
                .values("stopping")
                .values("stopped")
                .build(),
        )
        .into_paginator()
        .send();
    let mut found = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| DriverError::from_sdk("DescribeInstances", e))?;
        for instance in page.reservations().iter().flat_map(|r| r.instances()) {
            let tags = super::tags::from_ec2(instance.tags());
            if let Some(id) = instance.instance_id() {
                found.push(tagged_from(
                    ResourceKind::Ec2Instance,
                    id.to_string(),
                    &tags,
                ));
            }
        }
    }
    Ok(found)
}

async fn tagged_secrets(
    aws: &Aws,
    stack: &str,
    reads: &AccountReads,
) -> Result<Vec<Tagged>, DriverError> {
    let mut found = Vec::new();
    for secret in reads.stack_secrets(aws, stack).await? {
        let tags: BTreeMap<String, String> = secret
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .collect();
        if tags.get(TAG_STACK).map(String::as_str) != Some(stack) || secret.deleted_date().is_some()
        {
            continue;
        }
        if let Some(name) = secret.name() {
            found.push(tagged_from(ResourceKind::Secret, name.to_string(), &tags));
        }
    }
    Ok(found)
}

/// The kind and stackctl id of a resource from its ARN; `None` for what stackctl does not manage
/// (snapshots, parameter groups, ...).
pub fn classify(arn: &str) -> Option<(ResourceKind, String)> {
    let mut parts = arn.splitn(6, ':');
    let (_, _, service, _, _, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    // `security-group/sg-1`, `cluster:name`, `secret:path/name-AbCdEf`: the first separator counts.
    let at = resource.find([':', '/'])?;
    let (kind, id) = (&resource[..at], &resource[at + 1..]);
    let id = id.to_string();
    let kind = ResourceKind::ALL
        .into_iter()
        .find(|k| k.spec().arn_type == Some((service, kind)))?;
    if kind == ResourceKind::Secret {
        // Secrets Manager appends `-` and six random characters to the name in the ARN.
        let name = id
            .rsplit_once('-')
            .filter(|(_, suffix)| suffix.len() == 6)
            .map(|(name, _)| name.to_string())
            .unwrap_or(id);
        return Some((kind, name));
    }
    Some((kind, id))
}

/// The cache clusters of a replication group (`<group>-001`, `<group>-0001-001`) carry its tags but
/// are the group's, not resources of their own.
fn drop_replication_group_members(found: &mut Vec<Tagged>) {
    let groups: Vec<String> = found
        .iter()
        .filter(|t| t.kind == ResourceKind::ElasticacheReplicationGroup)
        .map(|t| format!("{}-", t.id))
        .collect();
    found.retain(|t| {
        t.kind != ResourceKind::ElasticacheCluster
            || !groups
                .iter()
                .any(|prefix| t.id.starts_with(prefix.as_str()))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_kinds_and_ids() {
        let cases = [
            (
                "arn:aws:ec2:us-east-1:1:security-group/sg-1",
                Some((ResourceKind::SecurityGroup, "sg-1")),
            ),
            (
                "arn:aws:ec2:us-east-1:1:instance/i-1",
                Some((ResourceKind::Ec2Instance, "i-1")),
            ),
            (
                "arn:aws:elasticache:us-east-1:1:cluster:demo-cache",
                Some((ResourceKind::ElasticacheCluster, "demo-cache")),
            ),
            (
                "arn:aws:rds:us-east-1:1:db:demo-db",
                Some((ResourceKind::RdsInstance, "demo-db")),
            ),
            (
                "arn:aws:rds:us-east-1:1:subgrp:demo-db-subnets",
                Some((ResourceKind::RdsSubnetGroup, "demo-db-subnets")),
            ),
            (
                "arn:aws:memorydb:us-east-1:1:acl/demo-acl",
                Some((ResourceKind::MemorydbAcl, "demo-acl")),
            ),
            (
                "arn:aws:secretsmanager:us-east-1:1:secret:demo/db-creds-AbC123",
                Some((ResourceKind::Secret, "demo/db-creds")),
            ),
            ("arn:aws:rds:us-east-1:1:snapshot:demo-db-final", None),
        ];
        for (arn, expected) in cases {
            assert_eq!(
                classify(arn),
                expected.map(|(k, id)| (k, id.to_string())),
                "{arn}"
            );
        }
    }
}
