//! `elasticache-replication-group` driver. What the group itself does not report (subnet group,
//! security groups, maintenance window, parameter group) is read from its first member cluster.

use super::driver::Driver;
use super::wait::{self, Poll};
use super::{Created, Ctx, DriverError, Observed, outputs, secrets, set_if_changed};
use crate::resources::replication_group::ReplicationGroupConfig;
use crate::resources::{ResourceKind, decode, encode};
use crate::state::ResourceState;
use aws_sdk_elasticache::types::{
    AuthTokenUpdateStrategyType, AutomaticFailoverStatus, CacheCluster, ClusterMode,
    ReplicationGroup,
};
use serde_json::{Map, Value as Json, json};

fn config_of(value: &Json) -> Result<ReplicationGroupConfig, DriverError> {
    decode(ResourceKind::ElasticacheReplicationGroup, value).map_err(DriverError::Invalid)
}

async fn describe(ctx: &Ctx, id: &str) -> Result<Option<ReplicationGroup>, DriverError> {
    if let Some(group) = ctx
        .prefetch
        .as_ref()
        .and_then(|p| p.replication_groups.get(&id.to_lowercase()))
    {
        return Ok(Some(group.clone()).filter(|g| g.status() != Some("deleted")));
    }
    match ctx
        .aws
        .elasticache
        .describe_replication_groups()
        .replication_group_id(id)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .replication_groups()
            .first()
            .cloned()
            .filter(|g| g.status() != Some("deleted"))),
        Err(e) => {
            let error = DriverError::from_sdk("DescribeReplicationGroups", e);
            if error.is_code(&["ReplicationGroupNotFoundFault"]) {
                Ok(None)
            } else {
                Err(error)
            }
        }
    }
}

async fn first_member(
    ctx: &Ctx,
    group: &ReplicationGroup,
) -> Result<Option<CacheCluster>, DriverError> {
    let Some(member) = group.member_clusters().first() else {
        return Ok(None);
    };
    if let Some(cluster) = ctx
        .prefetch
        .as_ref()
        .and_then(|p| p.cache_clusters.get(&member.to_lowercase()))
    {
        return Ok(Some(cluster.clone()));
    }
    let out = ctx
        .aws
        .elasticache
        .describe_cache_clusters()
        .cache_cluster_id(member)
        .send()
        .await
        .map_err(|e| DriverError::from_sdk("DescribeCacheClusters", e))?;
    Ok(out.cache_clusters().first().cloned())
}

fn group_outputs(group: &ReplicationGroup) -> Map<String, Json> {
    let node_group = group.node_groups().first();
    let primary = node_group.and_then(|n| n.primary_endpoint());
    let reader = node_group.and_then(|n| n.reader_endpoint());
    let configuration = group.configuration_endpoint();
    let port = configuration
        .or(primary)
        .and_then(|e| e.port())
        .unwrap_or_default();
    outputs(&[
        (
            "id",
            json!(group.replication_group_id().unwrap_or_default()),
        ),
        ("arn", json!(group.arn().unwrap_or_default())),
        (
            "primary_address",
            json!(primary.and_then(|e| e.address()).unwrap_or_default()),
        ),
        (
            "reader_address",
            json!(reader.and_then(|e| e.address()).unwrap_or_default()),
        ),
        (
            "configuration_address",
            json!(configuration.and_then(|e| e.address()).unwrap_or_default()),
        ),
        ("port", json!(port)),
    ])
}

pub async fn read(
    ctx: &Ctx,
    id: &str,
    prior: &ResourceState,
) -> Result<Option<Observed>, DriverError> {
    let Some(group) = describe(ctx, id).await? else {
        return Ok(None);
    };
    if group.status() == Some("deleting") {
        return Ok(None);
    }
    let member = first_member(ctx, &group).await?;
    let prior_config: Option<ReplicationGroupConfig> =
        serde_json::from_value(prior.config.clone()).ok();
    let mut groups: Vec<String> = member
        .as_ref()
        .map(|m| {
            m.security_groups()
                .iter()
                .filter_map(|g| g.security_group_id().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    groups.sort();
    let members_per_shard = group
        .node_groups()
        .first()
        .map(|n| n.node_group_members().len() as i32)
        .unwrap_or(1);
    let port = group
        .configuration_endpoint()
        .or(group
            .node_groups()
            .first()
            .and_then(|n| n.primary_endpoint()))
        .and_then(|e| e.port());
    let observed = ReplicationGroupConfig {
        name: group
            .replication_group_id()
            .unwrap_or_default()
            .to_lowercase(),
        description: group.description().unwrap_or_default().to_string(),
        engine: group
            .engine()
            .or(member.as_ref().and_then(|m| m.engine()))
            .unwrap_or("redis")
            .to_string(),
        engine_version: member
            .as_ref()
            .and_then(|m| m.engine_version())
            .map(str::to_string),
        node_type: group.cache_node_type().unwrap_or_default().to_string(),
        replicas: (members_per_shard - 1).max(0),
        cluster_mode: group.cluster_enabled().unwrap_or(false),
        shards: group.node_groups().len().max(1) as i32,
        automatic_failover: matches!(
            group.automatic_failover(),
            Some(AutomaticFailoverStatus::Enabled | AutomaticFailoverStatus::Enabling)
        ),
        transit_encryption: group.transit_encryption_enabled().unwrap_or(false),
        at_rest_encryption: group.at_rest_encryption_enabled().unwrap_or(false),
        // AWS says only whether a token is set; which secret it came from is ours to know.
        auth_token_secret: if group.auth_token_enabled().unwrap_or(false) {
            prior_config
                .as_ref()
                .and_then(|c| c.auth_token_secret.clone())
        } else {
            None
        },
        port: port.unwrap_or_else(|| prior_config.as_ref().map(|c| c.port).unwrap_or(6379)),
        parameter_group: member
            .as_ref()
            .and_then(|m| m.cache_parameter_group())
            .and_then(|p| p.cache_parameter_group_name())
            .map(str::to_string),
        subnet_group: member
            .as_ref()
            .and_then(|m| m.cache_subnet_group_name())
            .unwrap_or_default()
            .to_lowercase(),
        security_groups: Some(groups),
        snapshot_retention: group.snapshot_retention_limit().unwrap_or_default(),
        snapshot_window: group.snapshot_window().map(str::to_string),
        maintenance_window: member
            .as_ref()
            .and_then(|m| m.preferred_maintenance_window())
            .map(str::to_string),
        tags: super::tags::list(
            ctx,
            super::tags::TagApi::ElastiCache,
            group.arn().unwrap_or_default(),
        )
        .await?,
    };
    Ok(Some(Observed {
        config: encode(&observed),
        outputs: group_outputs(&group),
    }))
}

pub async fn create(ctx: &Ctx, desired: &Json) -> Result<Created, DriverError> {
    let c = config_of(desired)?;
    let token = match &c.auth_token_secret {
        Some(secret) => Some(secrets::password(ctx, secret).await?),
        None => None,
    };
    let mut request = ctx
        .aws
        .elasticache
        .create_replication_group()
        .replication_group_id(&c.name)
        .replication_group_description(&c.description)
        .engine(&c.engine)
        .set_engine_version(c.engine_version.clone())
        .cache_node_type(&c.node_type)
        .port(c.port)
        .set_cache_parameter_group_name(c.parameter_group.clone())
        .cache_subnet_group_name(&c.subnet_group)
        .set_security_group_ids(c.security_groups.clone())
        .automatic_failover_enabled(c.automatic_failover)
        .transit_encryption_enabled(c.transit_encryption)
        .at_rest_encryption_enabled(c.at_rest_encryption)
        .set_auth_token(token)
        .snapshot_retention_limit(c.snapshot_retention)
        .set_snapshot_window(c.snapshot_window.clone())
        .set_preferred_maintenance_window(c.maintenance_window.clone())
        .set_tags(Some(super::tags::elasticache(&c.tags)));
    request = if c.cluster_mode {
        request
            .cluster_mode(ClusterMode::Enabled)
            .num_node_groups(c.shards)
            .replicas_per_node_group(c.replicas)
    } else {
        request.num_cache_clusters(c.replicas + 1)
    };
    request
        .send()
        .await
        .map_err(|e| DriverError::from_sdk("CreateReplicationGroup", e))?;
    ctx.created(&c.name);
    let group = wait_available(ctx, &c.name).await?;
    Ok(Created {
        id: c.name.clone(),
        outputs: group_outputs(&group),
    })
}

async fn wait_available(ctx: &Ctx, id: &str) -> Result<ReplicationGroup, DriverError> {
    wait::until_status(
        ctx,
        &format!("replication group {id}"),
        "available",
        || describe(ctx, id),
        ReplicationGroup::status,
    )
    .await
}

/// Shards and replicas per shard, as the group reports them.
fn shape(group: &ReplicationGroup) -> (i32, i32) {
    let shards = group.node_groups().len().max(1) as i32;
    let members = group
        .node_groups()
        .first()
        .map(|n| n.node_group_members().len() as i32)
        .unwrap_or(1);
    (shards, (members - 1).max(0))
}

/// Waits until the group is available with the shape asked for: a status alone may still be the one
/// from before the change began.
async fn wait_for_shape(ctx: &Ctx, id: &str, wanted: (i32, i32)) -> Result<(), DriverError> {
    wait::until(
        ctx,
        &format!(
            "replication group {id} to have {} shard(s) of {} replica(s)",
            wanted.0, wanted.1
        ),
        || async {
            let Some(group) = describe(ctx, id).await? else {
                return Ok(Poll::Pending("not visible".into()));
            };
            let status = group.status().unwrap_or("unknown");
            Ok(if status == "available" && shape(&group) == wanted {
                Poll::Done(())
            } else {
                let (shards, replicas) = shape(&group);
                Poll::Pending(format!(
                    "{status}, {shards} shard(s) of {replicas} replica(s)"
                ))
            })
        },
    )
    .await
}

/// Replicas per shard: IncreaseReplicaCount / DecreaseReplicaCount, in place.
async fn change_replicas(
    ctx: &Ctx,
    id: &str,
    shards: i32,
    to: i32,
    growing: bool,
) -> Result<(), DriverError> {
    // The two calls take the same parameters but are different request types.
    macro_rules! send {
        ($request:expr, $operation:literal) => {
            $request
                .replication_group_id(id)
                .new_replica_count(to)
                .apply_immediately(true)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| DriverError::from_sdk($operation, e))
        };
    }
    let client = &ctx.aws.elasticache;
    let sent = if growing {
        send!(client.increase_replica_count(), "IncreaseReplicaCount")
    } else {
        send!(client.decrease_replica_count(), "DecreaseReplicaCount")
    };
    sent?;
    wait_for_shape(ctx, id, (shards, to)).await
}

/// Shards of a cluster-mode group: ModifyReplicationGroupShardConfiguration, in place. Shrinking
/// removes the highest-numbered node groups; AWS moves their slots to the others.
async fn change_shards(ctx: &Ctx, id: &str, to: i32, replicas: i32) -> Result<(), DriverError> {
    let group = describe(ctx, id)
        .await?
        .ok_or_else(|| DriverError::Invalid(format!("replication group {id} is gone")))?;
    let mut ids: Vec<String> = group
        .node_groups()
        .iter()
        .filter_map(|n| n.node_group_id().map(str::to_string))
        .collect();
    ids.sort();
    let leaving: Vec<String> = ids.iter().skip(to.max(0) as usize).cloned().collect();
    ctx.aws
        .elasticache
        .modify_replication_group_shard_configuration()
        .replication_group_id(id)
        .node_group_count(to)
        .apply_immediately(true)
        .set_node_groups_to_remove((!leaving.is_empty()).then_some(leaving))
        .send()
        .await
        .map_err(|e| DriverError::from_sdk("ModifyReplicationGroupShardConfiguration", e))?;
    wait_for_shape(ctx, id, (to, replicas)).await
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
    // The shape as it is now, not as the plan read it: an interrupted resize may have finished since.
    let (shards, replicas) = shape(&wait_available(ctx, id).await?);
    // Growth first and shrinking last, with the other settings between: a replica added before
    // automatic failover is switched on, failover switched off before the last replica goes.
    if new.replicas > replicas {
        change_replicas(ctx, id, shards, new.replicas, true).await?;
    }
    if new.cluster_mode && new.shards > shards {
        change_shards(ctx, id, new.shards, new.replicas.max(replicas)).await?;
    }
    let mut request = ctx
        .aws
        .elasticache
        .modify_replication_group()
        .replication_group_id(id)
        .apply_immediately(true);
    let mut any = false;
    set_if_changed!(request, any, old, new, description => replication_group_description);
    set_if_changed!(request, any, old, new, node_type => cache_node_type);
    set_if_changed!(request, any, old, new, automatic_failover => automatic_failover_enabled);
    set_if_changed!(request, any, old, new, optional engine_version => engine_version);
    set_if_changed!(request, any, old, new, optional parameter_group => cache_parameter_group_name);
    set_if_changed!(request, any, old, new, list security_groups => set_security_group_ids);
    set_if_changed!(request, any, old, new, snapshot_retention => snapshot_retention_limit);
    set_if_changed!(request, any, old, new, optional snapshot_window => snapshot_window);
    set_if_changed!(request, any, old, new, optional maintenance_window => preferred_maintenance_window);
    if let Some(secret) = new
        .auth_token_secret
        .clone()
        .filter(|s| Some(s) != old.auth_token_secret.as_ref())
    {
        // ROTATE keeps the old token valid until clients have moved to the new one.
        request = request
            .auth_token(secrets::password(ctx, &secret).await?)
            .auth_token_update_strategy(AuthTokenUpdateStrategyType::Rotate);
        any = true;
    }
    if any {
        request
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("ModifyReplicationGroup", e))?;
        wait::until_applied(
            ctx,
            &format!("replication group {id}"),
            "available",
            || describe(ctx, id),
            ReplicationGroup::status,
            |group| {
                group.pending_modified_values().is_none_or(|p| {
                    p.automatic_failover_status().is_none() && p.resharding().is_none()
                }) && group.cache_node_type() == Some(new.node_type.as_str())
            },
        )
        .await?;
    }
    if new.cluster_mode && new.shards < shards {
        change_shards(ctx, id, new.shards, new.replicas.max(replicas)).await?;
    }
    if new.replicas < replicas {
        change_replicas(ctx, id, new.shards, new.replicas, false).await?;
    }
    let group = wait_available(ctx, id).await?;
    super::tags::sync(
        ctx,
        super::tags::TagApi::ElastiCache,
        group.arn().unwrap_or_default(),
        &old.tags,
        &new.tags,
    )
    .await?;
    Ok(group_outputs(&group))
}

pub async fn delete(ctx: &Ctx, id: &str) -> Result<(), DriverError> {
    let delete = || async {
        ctx.aws
            .elasticache
            .delete_replication_group()
            .replication_group_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| DriverError::from_sdk("DeleteReplicationGroup", e))
    };
    wait::delete_when_ready(
        ctx,
        &format!("replication group {id}"),
        || describe(ctx, id),
        ReplicationGroup::status,
        delete,
        &[
            "InvalidReplicationGroupState",
            "ReplicationGroupNotFoundFault",
        ],
    )
    .await
}

impl Driver for crate::resources::replication_group::ElasticacheReplicationGroup {
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
