//! `elasticache-cluster` driver: create, wait with the service's own status, modify in place, delete
//! and wait until gone (its subnet group and security groups can only go after that).

use super::driver::Driver;
use super::wait;
use super::{Created, Ctx, DriverError, Observed, outputs, set_if_changed};
use crate::resources::elasticache_cluster::ElasticacheClusterConfig;
use crate::resources::{ResourceKind, decode, encode};
use crate::state::ResourceState;
use aws_sdk_elasticache::types::CacheCluster;
use serde_json::{Map, Value as Json, json};

fn config_of(value: &Json) -> Result<ElasticacheClusterConfig, DriverError> {
    decode(ResourceKind::ElasticacheCluster, value).map_err(DriverError::Invalid)
}

async fn describe(ctx: &Ctx, id: &str) -> Result<Option<CacheCluster>, DriverError> {
    if let Some(cluster) = ctx
        .prefetch
        .as_ref()
        .and_then(|p| p.cache_clusters.get(&id.to_lowercase()))
    {
        return Ok(Some(cluster.clone()).filter(|c| c.cache_cluster_status() != Some("deleted")));
    }
    match ctx
        .aws
        .elasticache
        .describe_cache_clusters()
        .cache_cluster_id(id)
        .show_cache_node_info(true)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .cache_clusters()
            .first()
            .cloned()
            .filter(|c| c.cache_cluster_status() != Some("deleted"))),
        Err(e) => {
            let error = DriverError::from_sdk("DescribeCacheClusters", e);
            if error.is_code(&["CacheClusterNotFound"]) {
                Ok(None)
            } else {
                Err(error)
            }
        }
    }
}

fn cluster_outputs(cluster: &CacheCluster) -> Map<String, Json> {
    let nodes: Vec<String> = cluster
        .cache_nodes()
        .iter()
        .filter_map(|n| n.endpoint())
        .map(|e| {
            format!(
                "{}:{}",
                e.address().unwrap_or_default(),
                e.port().unwrap_or_default()
            )
        })
        .collect();
    let first = cluster.cache_nodes().iter().find_map(|n| n.endpoint());
    outputs(&[
        ("id", json!(cluster.cache_cluster_id().unwrap_or_default())),
        ("arn", json!(cluster.arn().unwrap_or_default())),
        (
            "address",
            json!(first.and_then(|e| e.address()).unwrap_or_default()),
        ),
        (
            "port",
            json!(first.and_then(|e| e.port()).unwrap_or_default()),
        ),
        ("nodes", json!(nodes)),
    ])
}

pub async fn read(
    ctx: &Ctx,
    id: &str,
    prior: &ResourceState,
) -> Result<Option<Observed>, DriverError> {
    let Some(cluster) = describe(ctx, id).await? else {
        return Ok(None);
    };
    let tags = super::tags::list(
        ctx,
        super::tags::TagApi::ElastiCache,
        cluster.arn().unwrap_or_default(),
    )
    .await?;
    let mut groups: Vec<String> = cluster
        .security_groups()
        .iter()
        .filter_map(|g| g.security_group_id().map(str::to_string))
        .collect();
    groups.sort();
    let port = cluster
        .cache_nodes()
        .iter()
        .find_map(|n| n.endpoint())
        .and_then(|e| e.port())
        .or(prior
            .config
            .get("port")
            .and_then(Json::as_i64)
            .map(|p| p as i32));
    let observed = ElasticacheClusterConfig {
        name: cluster
            .cache_cluster_id()
            .unwrap_or_default()
            .to_lowercase(),
        engine: cluster.engine().unwrap_or_default().to_string(),
        engine_version: cluster.engine_version().map(str::to_string),
        node_type: cluster.cache_node_type().unwrap_or_default().to_string(),
        nodes: cluster.num_cache_nodes().unwrap_or_default(),
        port: port.unwrap_or_default(),
        parameter_group: cluster
            .cache_parameter_group()
            .and_then(|p| p.cache_parameter_group_name())
            .map(str::to_string),
        subnet_group: cluster
            .cache_subnet_group_name()
            .unwrap_or_default()
            .to_lowercase(),
        security_groups: Some(groups),
        snapshot_retention: cluster.snapshot_retention_limit().unwrap_or_default(),
        snapshot_window: cluster.snapshot_window().map(str::to_string),
        maintenance_window: cluster.preferred_maintenance_window().map(str::to_string),
        tags,
    };
    Ok(Some(Observed {
        config: encode(&observed),
        outputs: cluster_outputs(&cluster),
    }))
}

pub async fn create(ctx: &Ctx, desired: &Json) -> Result<Created, DriverError> {
    let c = config_of(desired)?;
    ctx.aws
        .elasticache
        .create_cache_cluster()
        .cache_cluster_id(&c.name)
        .engine(&c.engine)
        .set_engine_version(c.engine_version.clone())
        .cache_node_type(&c.node_type)
        .num_cache_nodes(c.nodes)
        .port(c.port)
        .set_cache_parameter_group_name(c.parameter_group.clone())
        .cache_subnet_group_name(&c.subnet_group)
        .set_security_group_ids(c.security_groups.clone())
        .snapshot_retention_limit(c.snapshot_retention)
        .set_snapshot_window(c.snapshot_window.clone())
        .set_preferred_maintenance_window(c.maintenance_window.clone())
        .set_tags(Some(super::tags::elasticache(&c.tags)))
        .send()
        .await
        .map_err(|e| DriverError::from_sdk("CreateCacheCluster", e))?;
    ctx.created(&c.name);
    let cluster = wait_available(ctx, &c.name).await?;
    Ok(Created {
        id: c.name.clone(),
        outputs: cluster_outputs(&cluster),
    })
}

async fn wait_available(ctx: &Ctx, id: &str) -> Result<CacheCluster, DriverError> {
    wait::until_status(
        ctx,
        &format!("cache cluster {id}"),
        "available",
        || describe(ctx, id),
        CacheCluster::cache_cluster_status,
    )
    .await
}

pub async fn update(
    ctx: &Ctx,
    id: &str,
    observed: &Json,
    desired: &Json,
) -> Result<Map<String, Json>, DriverError> {
    let (old, mut new) = (config_of(observed)?, config_of(desired)?);
    new.engine_version = super::running_version(&old.engine_version, &new.engine_version);
    // A modification still in progress (an earlier run stopped mid-way) must end before AWS takes another.
    wait_available(ctx, id).await?;
    let mut request = ctx
        .aws
        .elasticache
        .modify_cache_cluster()
        .cache_cluster_id(id)
        .apply_immediately(true);
    let mut any = false;
    set_if_changed!(request, any, old, new, node_type => cache_node_type);
    set_if_changed!(request, any, old, new, nodes => num_cache_nodes);
    set_if_changed!(request, any, old, new, optional engine_version => engine_version);
    set_if_changed!(request, any, old, new, optional parameter_group => cache_parameter_group_name);
    set_if_changed!(request, any, old, new, list security_groups => set_security_group_ids);
    set_if_changed!(request, any, old, new, snapshot_retention => snapshot_retention_limit);
    set_if_changed!(request, any, old, new, optional snapshot_window => snapshot_window);
    set_if_changed!(request, any, old, new, optional maintenance_window => preferred_maintenance_window);
    let cluster = if any {
        request
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("ModifyCacheCluster", e))?;
        wait::until_applied(
            ctx,
            &format!("cache cluster {id}"),
            "available",
            || describe(ctx, id),
            CacheCluster::cache_cluster_status,
            |cluster| {
                cluster.pending_modified_values().is_none_or(|p| {
                    p.cache_node_type().is_none()
                        && p.engine_version().is_none()
                        && p.num_cache_nodes().is_none()
                }) && cluster.cache_node_type() == Some(new.node_type.as_str())
            },
        )
        .await?
    } else {
        wait_available(ctx, id).await?
    };
    super::tags::sync(
        ctx,
        super::tags::TagApi::ElastiCache,
        cluster.arn().unwrap_or_default(),
        &old.tags,
        &new.tags,
    )
    .await?;
    Ok(cluster_outputs(&cluster))
}

pub async fn delete(ctx: &Ctx, id: &str) -> Result<(), DriverError> {
    let delete = || async {
        ctx.aws
            .elasticache
            .delete_cache_cluster()
            .cache_cluster_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| DriverError::from_sdk("DeleteCacheCluster", e))
    };
    // A cluster still being created or modified cannot be deleted yet: wait for it, then delete.
    wait::delete_when_ready(
        ctx,
        &format!("cache cluster {id}"),
        || describe(ctx, id),
        CacheCluster::cache_cluster_status,
        delete,
        &["InvalidCacheClusterState", "CacheClusterNotFound"],
    )
    .await
}

impl Driver for crate::resources::elasticache_cluster::ElasticacheCluster {
    async fn read(
        ctx: &super::Ctx,
        id: &str,
        prior: &crate::state::ResourceState,
    ) -> Result<Option<super::Observed>, super::DriverError> {
        read(ctx, id, prior).await
    }

    async fn create(
        ctx: &super::Ctx,
        desired: &serde_json::Value,
        payload: &super::Payload,
        token: &str,
    ) -> Result<super::Created, super::DriverError> {
        let _ = (payload, token);
        create(ctx, desired).await
    }

    async fn update(
        ctx: &super::Ctx,
        id: &str,
        observed: &serde_json::Value,
        desired: &serde_json::Value,
        payload: &super::Payload,
    ) -> Result<serde_json::Map<String, serde_json::Value>, super::DriverError> {
        let _ = payload;
        update(ctx, id, observed, desired).await
    }

    async fn delete(
        ctx: &super::Ctx,
        id: &str,
        prior: &crate::state::ResourceState,
    ) -> Result<(), super::DriverError> {
        let _ = prior;
        delete(ctx, id).await
    }
}
