//! Subnet groups for ElastiCache, RDS and MemoryDB: the same resource in three services' dialects.

use super::{Created, Ctx, DriverError, Observed, outputs};
use crate::resources::subnet_group::SubnetGroupConfig;
use crate::resources::{ResourceKind, decode, encode};
use serde_json::{Map, Value as Json, json};

fn config_of(kind: ResourceKind, value: &Json) -> Result<SubnetGroupConfig, DriverError> {
    decode(kind, value).map_err(DriverError::Invalid)
}

/// What one service reports about a group.
struct Found {
    name: String,
    description: String,
    subnets: Vec<String>,
    arn: String,
}

fn not_found_code(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::ElasticacheSubnetGroup => "CacheSubnetGroupNotFoundFault",
        ResourceKind::RdsSubnetGroup => "DBSubnetGroupNotFoundFault",
        _ => "SubnetGroupNotFoundFault",
    }
}

async fn describe(kind: ResourceKind, ctx: &Ctx, name: &str) -> Result<Option<Found>, DriverError> {
    let result = match kind {
        ResourceKind::ElasticacheSubnetGroup => ctx
            .aws
            .elasticache
            .describe_cache_subnet_groups()
            .cache_subnet_group_name(name)
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("DescribeCacheSubnetGroups", e))
            .map(|out| {
                out.cache_subnet_groups().first().map(|g| Found {
                    name: g.cache_subnet_group_name().unwrap_or_default().to_string(),
                    description: g
                        .cache_subnet_group_description()
                        .unwrap_or_default()
                        .to_string(),
                    subnets: g
                        .subnets()
                        .iter()
                        .filter_map(|s| s.subnet_identifier().map(str::to_string))
                        .collect(),
                    arn: g.arn().unwrap_or_default().to_string(),
                })
            }),
        ResourceKind::RdsSubnetGroup => ctx
            .aws
            .rds
            .describe_db_subnet_groups()
            .db_subnet_group_name(name)
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("DescribeDBSubnetGroups", e))
            .map(|out| {
                out.db_subnet_groups().first().map(|g| Found {
                    name: g.db_subnet_group_name().unwrap_or_default().to_string(),
                    description: g
                        .db_subnet_group_description()
                        .unwrap_or_default()
                        .to_string(),
                    subnets: g
                        .subnets()
                        .iter()
                        .filter_map(|s| s.subnet_identifier().map(str::to_string))
                        .collect(),
                    arn: g.db_subnet_group_arn().unwrap_or_default().to_string(),
                })
            }),
        _ => ctx
            .aws
            .memorydb
            .describe_subnet_groups()
            .subnet_group_name(name)
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("DescribeSubnetGroups", e))
            .map(|out| {
                out.subnet_groups().first().map(|g| Found {
                    name: g.name().unwrap_or_default().to_string(),
                    description: g.description().unwrap_or_default().to_string(),
                    subnets: g
                        .subnets()
                        .iter()
                        .filter_map(|s| s.identifier().map(str::to_string))
                        .collect(),
                    arn: g.arn().unwrap_or_default().to_string(),
                })
            }),
    };
    match result {
        Err(e) if e.is_code(&[not_found_code(kind)]) => Ok(None),
        other => other,
    }
}

pub async fn read(
    kind: ResourceKind,
    ctx: &Ctx,
    name: &str,
) -> Result<Option<Observed>, DriverError> {
    let Some(found) = describe(kind, ctx, name).await? else {
        return Ok(None);
    };
    let tags = super::tags::list(ctx, kind, &found.arn).await?;
    let mut subnets = found.subnets.clone();
    subnets.sort();
    let config = SubnetGroupConfig {
        name: found.name.to_lowercase(),
        description: found.description.clone(),
        subnets,
        tags,
    };
    Ok(Some(Observed {
        config: encode(&config),
        outputs: group_outputs(&found),
    }))
}

fn group_outputs(found: &Found) -> Map<String, Json> {
    outputs(&[
        ("name", json!(found.name.to_lowercase())),
        ("arn", json!(found.arn)),
    ])
}

pub async fn create(kind: ResourceKind, ctx: &Ctx, desired: &Json) -> Result<Created, DriverError> {
    let c = config_of(kind, desired)?;
    match kind {
        ResourceKind::ElasticacheSubnetGroup => {
            ctx.aws
                .elasticache
                .create_cache_subnet_group()
                .cache_subnet_group_name(&c.name)
                .cache_subnet_group_description(&c.description)
                .set_subnet_ids(Some(c.subnets.clone()))
                .set_tags(Some(super::tags::elasticache(&c.tags)))
                .send()
                .await
                .map_err(|e| DriverError::from_sdk("CreateCacheSubnetGroup", e))?;
        }
        ResourceKind::RdsSubnetGroup => {
            ctx.aws
                .rds
                .create_db_subnet_group()
                .db_subnet_group_name(&c.name)
                .db_subnet_group_description(&c.description)
                .set_subnet_ids(Some(c.subnets.clone()))
                .set_tags(Some(super::tags::rds(&c.tags)))
                .send()
                .await
                .map_err(|e| DriverError::from_sdk("CreateDBSubnetGroup", e))?;
        }
        _ => {
            ctx.aws
                .memorydb
                .create_subnet_group()
                .subnet_group_name(&c.name)
                .description(&c.description)
                .set_subnet_ids(Some(c.subnets.clone()))
                .set_tags(Some(super::tags::memorydb(&c.tags)))
                .send()
                .await
                .map_err(|e| DriverError::from_sdk("CreateSubnetGroup", e))?;
        }
    }
    ctx.created(&c.name);
    let found = describe(kind, ctx, &c.name).await?.ok_or_else(|| {
        DriverError::Invalid(format!("subnet group {} vanished after creation", c.name))
    })?;
    Ok(Created {
        id: c.name.clone(),
        outputs: group_outputs(&found),
    })
}

pub async fn update(
    kind: ResourceKind,
    ctx: &Ctx,
    name: &str,
    observed: &Json,
    desired: &Json,
) -> Result<Map<String, Json>, DriverError> {
    let (old, new) = (config_of(kind, observed)?, config_of(kind, desired)?);
    if old.description != new.description || old.subnets != new.subnets {
        match kind {
            ResourceKind::ElasticacheSubnetGroup => ctx
                .aws
                .elasticache
                .modify_cache_subnet_group()
                .cache_subnet_group_name(name)
                .cache_subnet_group_description(&new.description)
                .set_subnet_ids(Some(new.subnets.clone()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| DriverError::from_sdk("ModifyCacheSubnetGroup", e))?,
            ResourceKind::RdsSubnetGroup => ctx
                .aws
                .rds
                .modify_db_subnet_group()
                .db_subnet_group_name(name)
                .db_subnet_group_description(&new.description)
                .set_subnet_ids(Some(new.subnets.clone()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| DriverError::from_sdk("ModifyDBSubnetGroup", e))?,
            _ => ctx
                .aws
                .memorydb
                .update_subnet_group()
                .subnet_group_name(name)
                .description(&new.description)
                .set_subnet_ids(Some(new.subnets.clone()))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| DriverError::from_sdk("UpdateSubnetGroup", e))?,
        }
    }
    let found = describe(kind, ctx, name)
        .await?
        .ok_or_else(|| DriverError::Invalid(format!("subnet group {name} no longer exists")))?;
    super::tags::sync(ctx, kind, &found.arn, &old.tags, &new.tags).await?;
    Ok(group_outputs(&found))
}

/// Deletes the group, waiting while a cluster or instance that is itself being deleted still holds it.
pub async fn delete(kind: ResourceKind, ctx: &Ctx, name: &str) -> Result<(), DriverError> {
    super::wait::until(
        ctx,
        &format!("subnet group {name} to be released and deleted"),
        || async {
            let result = match kind {
                ResourceKind::ElasticacheSubnetGroup => ctx
                    .aws
                    .elasticache
                    .delete_cache_subnet_group()
                    .cache_subnet_group_name(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| DriverError::from_sdk("DeleteCacheSubnetGroup", e)),
                ResourceKind::RdsSubnetGroup => ctx
                    .aws
                    .rds
                    .delete_db_subnet_group()
                    .db_subnet_group_name(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| DriverError::from_sdk("DeleteDBSubnetGroup", e)),
                _ => ctx
                    .aws
                    .memorydb
                    .delete_subnet_group()
                    .subnet_group_name(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| DriverError::from_sdk("DeleteSubnetGroup", e)),
            };
            match result {
                Ok(()) => Ok(super::wait::Poll::Done(())),
                Err(e) if e.is_code(&[not_found_code(kind)]) => Ok(super::wait::Poll::Done(())),
                Err(e)
                    if e.is_code(&[
                        "CacheSubnetGroupInUse",
                        "InvalidDBSubnetGroupStateFault",
                        "SubnetGroupInUseFault",
                    ]) =>
                {
                    Ok(super::wait::Poll::Pending(format!(
                        "{}: still in use",
                        e.code().unwrap_or_default()
                    )))
                }
                Err(e) => Err(e),
            }
        },
    )
    .await
}
