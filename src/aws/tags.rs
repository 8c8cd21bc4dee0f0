//! Tags in each service's dialect: conversion and in-place sync (only what changed is added or removed).

use super::{Ctx, DriverError};
use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use std::collections::BTreeMap;

pub fn to_ec2(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub fn from_ec2(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
        .collect()
}

pub fn specification(
    resource_type: ResourceType,
    tags: &BTreeMap<String, String>,
) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource_type)
        .set_tags(Some(to_ec2(tags)))
        .build()
}

/// Brings an EC2 resource's tags from `observed` to `desired`.
pub async fn sync_ec2(
    ctx: &Ctx,
    id: &str,
    observed: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
) -> Result<(), DriverError> {
    let stale: Vec<Tag> = observed
        .keys()
        .filter(|k| !desired.contains_key(*k))
        .map(|k| Tag::builder().key(k).build())
        .collect();
    if !stale.is_empty() {
        ctx.aws
            .ec2
            .delete_tags()
            .resources(id)
            .set_tags(Some(stale))
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("DeleteTags", e))?;
    }
    let changed: BTreeMap<String, String> = desired
        .iter()
        .filter(|(k, v)| observed.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !changed.is_empty() {
        ctx.aws
            .ec2
            .create_tags()
            .resources(id)
            .set_tags(Some(to_ec2(&changed)))
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("CreateTags", e))?;
    }
    Ok(())
}

pub fn elasticache(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_elasticache::types::Tag> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_elasticache::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
        })
        .collect()
}

pub fn rds(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_rds::types::Tag> {
    tags.iter()
        .map(|(k, v)| aws_sdk_rds::types::Tag::builder().key(k).value(v).build())
        .collect()
}

pub fn memorydb(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_memorydb::types::Tag> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_memorydb::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
        })
        .collect()
}

pub fn secrets(tags: &BTreeMap<String, String>) -> Vec<aws_sdk_secretsmanager::types::Tag> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_secretsmanager::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
        })
        .collect()
}

/// The tags on an ElastiCache, RDS or MemoryDB resource, by ARN. Within a plan, they are taken from
/// the census's GetResources when it lists the resource with this state's lineage; anything else
/// (an imported resource, one the tagging API has not indexed yet) is asked for by ARN.
pub async fn list(
    ctx: &Ctx,
    api: TagApi,
    arn: &str,
) -> Result<BTreeMap<String, String>, DriverError> {
    if let Some(reads) = &ctx.reads
        && let Ok(tagged) = reads.stack_tagged(&ctx.aws, &ctx.stack).await
        && let Some(tags) = tagged.get(arn).filter(|tags| ctx.owns(tags))
    {
        return Ok(tags.clone());
    }
    let pairs: Vec<(String, String)> = match api {
        TagApi::ElastiCache => ctx
            .aws
            .elasticache
            .list_tags_for_resource()
            .resource_name(arn)
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("ListTagsForResource", e))?
            .tag_list()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        TagApi::Rds => ctx
            .aws
            .rds
            .list_tags_for_resource()
            .resource_name(arn)
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("ListTagsForResource", e))?
            .tag_list()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        TagApi::MemoryDb => ctx
            .aws
            .memorydb
            .list_tags()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("ListTags", e))?
            .tag_list()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect(),
    };
    Ok(pairs.into_iter().collect())
}

/// Brings an ElastiCache, RDS or MemoryDB resource's tags from `observed` to `desired`.
pub async fn sync(
    ctx: &Ctx,
    api: TagApi,
    arn: &str,
    observed: &BTreeMap<String, String>,
    desired: &BTreeMap<String, String>,
) -> Result<(), DriverError> {
    let stale: Vec<String> = observed
        .keys()
        .filter(|k| !desired.contains_key(*k))
        .cloned()
        .collect();
    let changed: BTreeMap<String, String> = desired
        .iter()
        .filter(|(k, v)| observed.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !stale.is_empty() {
        match api {
            TagApi::ElastiCache => ctx
                .aws
                .elasticache
                .remove_tags_from_resource()
                .resource_name(arn)
                .set_tag_keys(Some(stale))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| DriverError::from_sdk("RemoveTagsFromResource", e))?,
            TagApi::Rds => ctx
                .aws
                .rds
                .remove_tags_from_resource()
                .resource_name(arn)
                .set_tag_keys(Some(stale))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| DriverError::from_sdk("RemoveTagsFromResource", e))?,
            TagApi::MemoryDb => ctx
                .aws
                .memorydb
                .untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(stale))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| DriverError::from_sdk("UntagResource", e))?,
        }
    }
    if !changed.is_empty() {
        match api {
            TagApi::ElastiCache => ctx
                .aws
                .elasticache
                .add_tags_to_resource()
                .resource_name(arn)
                .set_tags(Some(elasticache(&changed)))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| DriverError::from_sdk("AddTagsToResource", e))?,
            TagApi::Rds => ctx
                .aws
                .rds
                .add_tags_to_resource()
                .resource_name(arn)
                .set_tags(Some(rds(&changed)))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| DriverError::from_sdk("AddTagsToResource", e))?,
            TagApi::MemoryDb => ctx
                .aws
                .memorydb
                .tag_resource()
                .resource_arn(arn)
                .set_tags(Some(memorydb(&changed)))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| DriverError::from_sdk("TagResource", e))?,
        }
    }
    Ok(())
}

/// Which tagging dialect a resource speaks: each driver names its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagApi {
    ElastiCache,
    Rds,
    MemoryDb,
}
