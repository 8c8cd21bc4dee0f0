//! Subnet groups for ElastiCache, RDS and MemoryDB: the same resource in three services' dialects.

use super::driver::Driver;
use super::{Created, Ctx, DriverError, Observed, outputs};
use crate::resources::subnet_group::SubnetGroupConfig;
use crate::resources::{ResourceKind, decode, encode};
use serde_json::{Map, Value as Json, json};

/// The service a subnet group belongs to: each of the three kinds' drivers names its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    ElastiCache,
    Rds,
    MemoryDb,
}

impl Service {
    fn kind(self) -> ResourceKind {
        match self {
            Service::ElastiCache => ResourceKind::ElasticacheSubnetGroup,
            Service::Rds => ResourceKind::RdsSubnetGroup,
            Service::MemoryDb => ResourceKind::MemorydbSubnetGroup,
        }
    }

    fn tags(self) -> super::tags::TagApi {
        match self {
            Service::ElastiCache => super::tags::TagApi::ElastiCache,
            Service::Rds => super::tags::TagApi::Rds,
            Service::MemoryDb => super::tags::TagApi::MemoryDb,
        }
    }
}

fn config_of(service: Service, value: &Json) -> Result<SubnetGroupConfig, DriverError> {
    decode(service.kind(), value).map_err(DriverError::Invalid)
}

/// What one service reports about a group.
struct Found {
    name: String,
    description: String,
    subnets: Vec<String>,
    arn: String,
}

impl Found {
    fn of_elasticache(g: &aws_sdk_elasticache::types::CacheSubnetGroup) -> Found {
        Found {
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
        }
    }

    fn of_rds(g: &aws_sdk_rds::types::DbSubnetGroup) -> Found {
        Found {
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
        }
    }

    fn of_memorydb(g: &aws_sdk_memorydb::types::SubnetGroup) -> Found {
        Found {
            name: g.name().unwrap_or_default().to_string(),
            description: g.description().unwrap_or_default().to_string(),
            subnets: g
                .subnets()
                .iter()
                .filter_map(|s| s.identifier().map(str::to_string))
                .collect(),
            arn: g.arn().unwrap_or_default().to_string(),
        }
    }
}

fn not_found_code(service: Service) -> &'static str {
    match service {
        Service::ElastiCache => "CacheSubnetGroupNotFoundFault",
        Service::Rds => "DBSubnetGroupNotFoundFault",
        Service::MemoryDb => "SubnetGroupNotFoundFault",
    }
}

async fn describe(service: Service, ctx: &Ctx, name: &str) -> Result<Option<Found>, DriverError> {
    let result = match service {
        Service::ElastiCache => ctx
            .aws
            .elasticache
            .describe_cache_subnet_groups()
            .cache_subnet_group_name(name)
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("DescribeCacheSubnetGroups", e))
            .map(|out| out.cache_subnet_groups().first().map(Found::of_elasticache)),
        Service::Rds => ctx
            .aws
            .rds
            .describe_db_subnet_groups()
            .db_subnet_group_name(name)
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("DescribeDBSubnetGroups", e))
            .map(|out| out.db_subnet_groups().first().map(Found::of_rds)),
        Service::MemoryDb => ctx
            .aws
            .memorydb
            .describe_subnet_groups()
            .subnet_group_name(name)
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("DescribeSubnetGroups", e))
            .map(|out| out.subnet_groups().first().map(Found::of_memorydb)),
    };
    match result {
        Err(e) if e.is_code(&[not_found_code(service)]) => Ok(None),
        other => other,
    }
}

pub async fn read(
    service: Service,
    ctx: &Ctx,
    name: &str,
) -> Result<Option<Observed>, DriverError> {
    let Some(found) = describe(service, ctx, name).await? else {
        return Ok(None);
    };
    let tags = super::tags::list(ctx, service.tags(), &found.arn).await?;
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

pub async fn create(service: Service, ctx: &Ctx, desired: &Json) -> Result<Created, DriverError> {
    let c = config_of(service, desired)?;
    // Each create answers with the group, so what the resources waiting for it need is known
    // without another round trip.
    let created = match service {
        Service::ElastiCache => ctx
            .aws
            .elasticache
            .create_cache_subnet_group()
            .cache_subnet_group_name(&c.name)
            .cache_subnet_group_description(&c.description)
            .set_subnet_ids(Some(c.subnets.clone()))
            .set_tags(Some(super::tags::elasticache(&c.tags)))
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("CreateCacheSubnetGroup", e))?
            .cache_subnet_group()
            .map(Found::of_elasticache),
        Service::Rds => ctx
            .aws
            .rds
            .create_db_subnet_group()
            .db_subnet_group_name(&c.name)
            .db_subnet_group_description(&c.description)
            .set_subnet_ids(Some(c.subnets.clone()))
            .set_tags(Some(super::tags::rds(&c.tags)))
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("CreateDBSubnetGroup", e))?
            .db_subnet_group()
            .map(Found::of_rds),
        Service::MemoryDb => ctx
            .aws
            .memorydb
            .create_subnet_group()
            .subnet_group_name(&c.name)
            .description(&c.description)
            .set_subnet_ids(Some(c.subnets.clone()))
            .set_tags(Some(super::tags::memorydb(&c.tags)))
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("CreateSubnetGroup", e))?
            .subnet_group()
            .map(Found::of_memorydb),
    };
    ctx.created(&c.name);
    let found = match created.filter(|f| !f.arn.is_empty()) {
        Some(found) => found,
        None => describe(service, ctx, &c.name).await?.ok_or_else(|| {
            DriverError::Invalid(format!("subnet group {} vanished after creation", c.name))
        })?,
    };
    Ok(Created {
        id: c.name.clone(),
        outputs: group_outputs(&found),
    })
}

pub async fn update(
    service: Service,
    ctx: &Ctx,
    name: &str,
    observed: &Json,
    desired: &Json,
) -> Result<Map<String, Json>, DriverError> {
    let (old, new) = (config_of(service, observed)?, config_of(service, desired)?);
    if old.description != new.description || old.subnets != new.subnets {
        match service {
            Service::ElastiCache => ctx
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
            Service::Rds => ctx
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
            Service::MemoryDb => ctx
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
    let found = describe(service, ctx, name)
        .await?
        .ok_or_else(|| DriverError::Invalid(format!("subnet group {name} no longer exists")))?;
    super::tags::sync(ctx, service.tags(), &found.arn, &old.tags, &new.tags).await?;
    Ok(group_outputs(&found))
}

/// Deletes the group, waiting while a cluster or instance that is itself being deleted still holds it.
pub async fn delete(service: Service, ctx: &Ctx, name: &str) -> Result<(), DriverError> {
    super::wait::until(
        ctx,
        &format!("subnet group {name} to be released and deleted"),
        || async {
            let result = match service {
                Service::ElastiCache => ctx
                    .aws
                    .elasticache
                    .delete_cache_subnet_group()
                    .cache_subnet_group_name(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| DriverError::from_sdk("DeleteCacheSubnetGroup", e)),
                Service::Rds => ctx
                    .aws
                    .rds
                    .delete_db_subnet_group()
                    .db_subnet_group_name(name)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| DriverError::from_sdk("DeleteDBSubnetGroup", e)),
                Service::MemoryDb => ctx
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
                Err(e) if e.is_code(&[not_found_code(service)]) => Ok(super::wait::Poll::Done(())),
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

/// The three subnet group kinds are one driver in three services' dialects.
macro_rules! subnet_group_driver {
    ($kind:ident, $service:expr) => {
        impl Driver for crate::resources::subnet_group::$kind {
            async fn read(
                ctx: &super::Ctx,
                id: &str,
                _prior: &crate::state::ResourceState,
            ) -> Result<Option<super::Observed>, super::DriverError> {
                read($service, ctx, id).await
            }

            async fn create(
                ctx: &super::Ctx,
                desired: &serde_json::Value,
                _payload: &super::Payload,
                _token: &str,
            ) -> Result<super::Created, super::DriverError> {
                create($service, ctx, desired).await
            }

            async fn update(
                ctx: &super::Ctx,
                id: &str,
                observed: &serde_json::Value,
                desired: &serde_json::Value,
                _payload: &super::Payload,
            ) -> Result<serde_json::Map<String, serde_json::Value>, super::DriverError> {
                update($service, ctx, id, observed, desired).await
            }

            async fn delete(
                ctx: &super::Ctx,
                id: &str,
                _prior: &crate::state::ResourceState,
            ) -> Result<(), super::DriverError> {
                delete($service, ctx, id).await
            }
        }
    };
}

subnet_group_driver!(ElasticacheSubnetGroup, Service::ElastiCache);
subnet_group_driver!(RdsSubnetGroup, Service::Rds);
subnet_group_driver!(MemorydbSubnetGroup, Service::MemoryDb);
