//! EC2 tags: conversion and in-place sync (only what changed is added or removed).

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
pub async fn sync(
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

pub fn from_json(config: &serde_json::Value) -> BTreeMap<String, String> {
    crate::resources::security_group::tags(config)
}
