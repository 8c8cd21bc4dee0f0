//! MemoryDB drivers: users (password read from Secrets Manager at call time, never stored), ACLs, and
//! clusters whose node type, shard count and replica count change in place.

use super::driver::Driver;
use super::wait::{self, Poll};
use super::{Created, Ctx, DriverError, Observed, outputs, secrets, set_if_changed};
use crate::resources::memorydb::{MemorydbAclConfig, MemorydbClusterConfig, MemorydbUserConfig};
use crate::resources::{ResourceKind, decode, encode};
use crate::state::ResourceState;
use aws_sdk_memorydb::types::{
    Acl, AuthenticationMode, Cluster, InputAuthenticationType, ReplicaConfigurationRequest,
    ShardConfigurationRequest, User,
};
use serde_json::{Map, Value as Json, json};

fn decode_as<T: serde::de::DeserializeOwned>(
    kind: ResourceKind,
    value: &Json,
) -> Result<T, DriverError> {
    decode(kind, value).map_err(DriverError::Invalid)
}

fn named_outputs(name: &str, arn: &str) -> Map<String, Json> {
    outputs(&[("name", json!(name)), ("arn", json!(arn))])
}

fn password_mode(password: String) -> AuthenticationMode {
    AuthenticationMode::builder()
        .r#type(InputAuthenticationType::Password)
        .passwords(password)
        .build()
}

// Users.

async fn describe_user(ctx: &Ctx, name: &str) -> Result<Option<User>, DriverError> {
    if let Some(user) = ctx
        .prefetch
        .as_ref()
        .and_then(|p| p.memorydb_users.get(name))
    {
        return Ok(Some(user.clone()));
    }
    match ctx
        .aws
        .memorydb
        .describe_users()
        .user_name(name)
        .send()
        .await
    {
        Ok(out) => Ok(out.users().first().cloned()),
        Err(e) => {
            let error = DriverError::from_sdk("DescribeUsers", e);
            if error.is_code(&["UserNotFoundFault"]) {
                Ok(None)
            } else {
                Err(error)
            }
        }
    }
}

pub async fn read_user(
    ctx: &Ctx,
    name: &str,
    prior: &ResourceState,
) -> Result<Option<Observed>, DriverError> {
    let Some(user) = describe_user(ctx, name).await? else {
        return Ok(None);
    };
    let arn = user.arn().unwrap_or_default().to_string();
    let observed = MemorydbUserConfig {
        name: user.name().unwrap_or_default().to_string(),
        access_string: user.access_string().unwrap_or_default().to_string(),
        // Which secret the password came from is ours to know; AWS never returns passwords.
        password_secret: prior
            .config
            .get("password_secret")
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string(),
        tags: super::tags::list(ctx, super::tags::TagApi::MemoryDb, &arn).await?,
    };
    Ok(Some(Observed {
        config: encode(&observed),
        outputs: named_outputs(&observed.name, &arn),
    }))
}

pub async fn create_user(ctx: &Ctx, desired: &Json) -> Result<Created, DriverError> {
    let c: MemorydbUserConfig = decode_as(ResourceKind::MemorydbUser, desired)?;
    let password = secrets::password(ctx, &c.password_secret).await?;
    let out = ctx
        .aws
        .memorydb
        .create_user()
        .user_name(&c.name)
        .access_string(&c.access_string)
        .authentication_mode(password_mode(password))
        .set_tags(Some(super::tags::memorydb(&c.tags)))
        .send()
        .await
        .map_err(|e| DriverError::from_sdk("CreateUser", e))?;
    ctx.created(&c.name);
    let arn = out
        .user()
        .and_then(|u| u.arn())
        .unwrap_or_default()
        .to_string();
    wait::until_status(
        ctx,
        &format!("user {}", c.name),
        "active",
        || describe_user(ctx, &c.name),
        User::status,
    )
    .await?;
    Ok(Created {
        id: c.name.clone(),
        outputs: named_outputs(&c.name, &arn),
    })
}

pub async fn update_user(
    ctx: &Ctx,
    name: &str,
    observed: &Json,
    desired: &Json,
) -> Result<Map<String, Json>, DriverError> {
    let old: MemorydbUserConfig = decode_as(ResourceKind::MemorydbUser, observed)?;
    let new: MemorydbUserConfig = decode_as(ResourceKind::MemorydbUser, desired)?;
    let mut request = ctx.aws.memorydb.update_user().user_name(name);
    let mut any = false;
    if old.access_string != new.access_string {
        request = request.access_string(&new.access_string);
        any = true;
    }
    if old.password_secret != new.password_secret {
        request = request.authentication_mode(password_mode(
            secrets::password(ctx, &new.password_secret).await?,
        ));
        any = true;
    }
    if any {
        request
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("UpdateUser", e))?;
    }
    let user = describe_user(ctx, name)
        .await?
        .ok_or_else(|| DriverError::Invalid(format!("user {name} no longer exists")))?;
    let arn = user.arn().unwrap_or_default().to_string();
    super::tags::sync(
        ctx,
        super::tags::TagApi::MemoryDb,
        &arn,
        &old.tags,
        &new.tags,
    )
    .await?;
    Ok(named_outputs(name, &arn))
}

pub async fn delete_user(ctx: &Ctx, name: &str) -> Result<(), DriverError> {
    wait::until(ctx, &format!("user {name} to be deleted"), || async {
        match ctx.aws.memorydb.delete_user().user_name(name).send().await {
            Ok(_) => {}
            Err(e) => {
                let error = DriverError::from_sdk("DeleteUser", e);
                if error.is_code(&["UserNotFoundFault"]) {
                    return Ok(Poll::Done(()));
                }
                // Still in an ACL that is being changed or deleted: try again.
                if !error.is_code(&["InvalidUserStateFault"]) {
                    return Err(error);
                }
                return Ok(Poll::Pending(
                    "InvalidUserStateFault: user still in use".into(),
                ));
            }
        }
        Ok(match describe_user(ctx, name).await? {
            None => Poll::Done(()),
            Some(user) => Poll::Pending(user.status().unwrap_or("deleting").to_string()),
        })
    })
    .await
}

// ACLs.

async fn describe_acl(ctx: &Ctx, name: &str) -> Result<Option<Acl>, DriverError> {
    if let Some(acl) = ctx
        .prefetch
        .as_ref()
        .and_then(|p| p.memorydb_acls.get(name))
    {
        return Ok(Some(acl.clone()));
    }
    match ctx.aws.memorydb.describe_acls().acl_name(name).send().await {
        Ok(out) => Ok(out.acls().first().cloned()),
        Err(e) => {
            let error = DriverError::from_sdk("DescribeACLs", e);
            if error.is_code(&["ACLNotFoundFault"]) {
                Ok(None)
            } else {
                Err(error)
            }
        }
    }
}

pub async fn read_acl(ctx: &Ctx, name: &str) -> Result<Option<Observed>, DriverError> {
    let Some(acl) = describe_acl(ctx, name).await? else {
        return Ok(None);
    };
    let arn = acl.arn().unwrap_or_default().to_string();
    let mut users: Vec<String> = acl.user_names().to_vec();
    users.sort();
    let observed = MemorydbAclConfig {
        name: acl.name().unwrap_or_default().to_string(),
        users,
        tags: super::tags::list(ctx, super::tags::TagApi::MemoryDb, &arn).await?,
    };
    Ok(Some(Observed {
        config: encode(&observed),
        outputs: named_outputs(&observed.name, &arn),
    }))
}

pub async fn create_acl(ctx: &Ctx, desired: &Json) -> Result<Created, DriverError> {
    let c: MemorydbAclConfig = decode_as(ResourceKind::MemorydbAcl, desired)?;
    let out = ctx
        .aws
        .memorydb
        .create_acl()
        .acl_name(&c.name)
        .set_user_names(Some(c.users.clone()))
        .set_tags(Some(super::tags::memorydb(&c.tags)))
        .send()
        .await
        .map_err(|e| DriverError::from_sdk("CreateACL", e))?;
    ctx.created(&c.name);
    let arn = out
        .acl()
        .and_then(|a| a.arn())
        .unwrap_or_default()
        .to_string();
    wait::until_status(
        ctx,
        &format!("ACL {}", c.name),
        "active",
        || describe_acl(ctx, &c.name),
        Acl::status,
    )
    .await?;
    Ok(Created {
        id: c.name.clone(),
        outputs: named_outputs(&c.name, &arn),
    })
}

pub async fn update_acl(
    ctx: &Ctx,
    name: &str,
    observed: &Json,
    desired: &Json,
) -> Result<Map<String, Json>, DriverError> {
    let old: MemorydbAclConfig = decode_as(ResourceKind::MemorydbAcl, observed)?;
    let new: MemorydbAclConfig = decode_as(ResourceKind::MemorydbAcl, desired)?;
    let add: Vec<String> = new
        .users
        .iter()
        .filter(|u| !old.users.contains(u))
        .cloned()
        .collect();
    let remove: Vec<String> = old
        .users
        .iter()
        .filter(|u| !new.users.contains(u))
        .cloned()
        .collect();
    if !add.is_empty() || !remove.is_empty() {
        ctx.aws
            .memorydb
            .update_acl()
            .acl_name(name)
            .set_user_names_to_add((!add.is_empty()).then_some(add))
            .set_user_names_to_remove((!remove.is_empty()).then_some(remove))
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("UpdateACL", e))?;
        wait::until_status(
            ctx,
            &format!("ACL {name}"),
            "active",
            || describe_acl(ctx, name),
            Acl::status,
        )
        .await?;
    }
    let acl = describe_acl(ctx, name)
        .await?
        .ok_or_else(|| DriverError::Invalid(format!("ACL {name} no longer exists")))?;
    let arn = acl.arn().unwrap_or_default().to_string();
    super::tags::sync(
        ctx,
        super::tags::TagApi::MemoryDb,
        &arn,
        &old.tags,
        &new.tags,
    )
    .await?;
    Ok(named_outputs(name, &arn))
}

pub async fn delete_acl(ctx: &Ctx, name: &str) -> Result<(), DriverError> {
    wait::until(ctx, &format!("ACL {name} to be deleted"), || async {
        match ctx.aws.memorydb.delete_acl().acl_name(name).send().await {
            Ok(_) => {}
            Err(e) => {
                let error = DriverError::from_sdk("DeleteACL", e);
                if error.is_code(&["ACLNotFoundFault"]) {
                    return Ok(Poll::Done(()));
                }
                // A cluster being deleted still holds it.
                if !error.is_code(&["InvalidACLStateFault"]) {
                    return Err(error);
                }
                return Ok(Poll::Pending(
                    "InvalidACLStateFault: ACL still used by a cluster".into(),
                ));
            }
        }
        Ok(match describe_acl(ctx, name).await? {
            None => Poll::Done(()),
            Some(acl) => Poll::Pending(acl.status().unwrap_or("deleting").to_string()),
        })
    })
    .await
}

// Clusters.

async fn describe_cluster(ctx: &Ctx, name: &str) -> Result<Option<Cluster>, DriverError> {
    if let Some(cluster) = ctx
        .prefetch
        .as_ref()
        .and_then(|p| p.memorydb_clusters.get(name))
    {
        return Ok(Some(cluster.clone()));
    }
    match ctx
        .aws
        .memorydb
        .describe_clusters()
        .cluster_name(name)
        .show_shard_details(true)
        .send()
        .await
    {
        Ok(out) => Ok(out.clusters().first().cloned()),
        Err(e) => {
            let error = DriverError::from_sdk("DescribeClusters", e);
            if error.is_code(&["ClusterNotFoundFault"]) {
                Ok(None)
            } else {
                Err(error)
            }
        }
    }
}

fn cluster_outputs(cluster: &Cluster) -> Map<String, Json> {
    let endpoint = cluster.cluster_endpoint();
    outputs(&[
        ("id", json!(cluster.name().unwrap_or_default())),
        ("arn", json!(cluster.arn().unwrap_or_default())),
        (
            "address",
            json!(endpoint.and_then(|e| e.address()).unwrap_or_default()),
        ),
        (
            "port",
            json!(endpoint.map(|e| e.port()).unwrap_or_default()),
        ),
    ])
}

pub async fn read_cluster(
    ctx: &Ctx,
    name: &str,
    prior: &ResourceState,
) -> Result<Option<Observed>, DriverError> {
    let Some(cluster) = describe_cluster(ctx, name).await? else {
        return Ok(None);
    };
    if cluster.status() == Some("deleting") {
        return Ok(None);
    }
    let arn = cluster.arn().unwrap_or_default().to_string();
    let prior_config: Option<MemorydbClusterConfig> =
        serde_json::from_value(prior.config.clone()).ok();
    let replicas = cluster
        .shards()
        .first()
        .and_then(|s| s.number_of_nodes())
        .map(|nodes| nodes - 1)
        .or(prior_config.as_ref().map(|c| c.replicas_per_shard))
        .unwrap_or_default();
    let mut groups: Vec<String> = cluster
        .security_groups()
        .iter()
        .filter_map(|g| g.security_group_id().map(str::to_string))
        .collect();
    groups.sort();
    let observed = MemorydbClusterConfig {
        name: cluster.name().unwrap_or_default().to_lowercase(),
        node_type: cluster.node_type().unwrap_or_default().to_string(),
        shards: cluster.number_of_shards().unwrap_or_default(),
        replicas_per_shard: replicas,
        engine: cluster.engine().unwrap_or("redis").to_string(),
        engine_version: cluster.engine_version().map(str::to_string),
        port: cluster
            .cluster_endpoint()
            .map(|e| e.port())
            .unwrap_or_default(),
        parameter_group: cluster.parameter_group_name().map(str::to_string),
        acl: cluster.acl_name().unwrap_or_default().to_string(),
        subnet_group: cluster
            .subnet_group_name()
            .unwrap_or_default()
            .to_lowercase(),
        security_groups: Some(groups),
        tls: cluster.tls_enabled().unwrap_or(false),
        snapshot_retention: cluster.snapshot_retention_limit().unwrap_or_default(),
        snapshot_window: cluster.snapshot_window().map(str::to_string),
        maintenance_window: cluster.maintenance_window().map(str::to_string),
        sns_topic_arn: cluster
            .sns_topic_arn()
            .filter(|a| !a.is_empty())
            .map(str::to_string),
        // Only meaningful at creation: whatever the cluster was seeded from.
        restore_from: prior_config.map(|c| c.restore_from).unwrap_or_default(),
        tags: super::tags::list(ctx, super::tags::TagApi::MemoryDb, &arn).await?,
    };
    Ok(Some(Observed {
        config: encode(&observed),
        outputs: cluster_outputs(&cluster),
    }))
}

pub async fn create_cluster(ctx: &Ctx, desired: &Json) -> Result<Created, DriverError> {
    let c: MemorydbClusterConfig = decode_as(ResourceKind::MemorydbCluster, desired)?;
    ctx.aws
        .memorydb
        .create_cluster()
        .cluster_name(&c.name)
        .node_type(&c.node_type)
        .num_shards(c.shards)
        .num_replicas_per_shard(c.replicas_per_shard)
        .engine(&c.engine)
        .set_engine_version(c.engine_version.clone())
        .port(c.port)
        .set_parameter_group_name(c.parameter_group.clone())
        .acl_name(&c.acl)
        .subnet_group_name(&c.subnet_group)
        .set_security_group_ids(c.security_groups.clone())
        .tls_enabled(c.tls)
        .snapshot_retention_limit(c.snapshot_retention)
        .set_snapshot_window(c.snapshot_window.clone())
        .set_maintenance_window(c.maintenance_window.clone())
        .set_sns_topic_arn(c.sns_topic_arn.clone())
        .set_snapshot_arns((!c.restore_from.is_empty()).then(|| c.restore_from.clone()))
        .set_tags(Some(super::tags::memorydb(&c.tags)))
        .send()
        .await
        .map_err(|e| DriverError::from_sdk("CreateCluster", e))?;
    ctx.created(&c.name);
    let cluster = wait_cluster(ctx, &c.name).await?;
    Ok(Created {
        id: c.name.clone(),
        outputs: cluster_outputs(&cluster),
    })
}

async fn wait_cluster(ctx: &Ctx, name: &str) -> Result<Cluster, DriverError> {
    wait::until_status(
        ctx,
        &format!("MemoryDB cluster {name}"),
        "available",
        || describe_cluster(ctx, name),
        Cluster::status,
    )
    .await
}

pub async fn update_cluster(
    ctx: &Ctx,
    name: &str,
    observed: &Json,
    desired: &Json,
) -> Result<Map<String, Json>, DriverError> {
    let old: MemorydbClusterConfig = decode_as(ResourceKind::MemorydbCluster, observed)?;
    let mut new: MemorydbClusterConfig = decode_as(ResourceKind::MemorydbCluster, desired)?;
    new.engine_version = super::running_version(&old.engine_version, &new.engine_version);
    // A modification still in progress (an earlier run stopped mid-way) must end before AWS takes another.
    wait_cluster(ctx, name).await?;
    let mut request = ctx.aws.memorydb.update_cluster().cluster_name(name);
    let mut any = false;
    if old.shards != new.shards {
        request = request.shard_configuration(
            ShardConfigurationRequest::builder()
                .shard_count(new.shards)
                .build(),
        );
        any = true;
    }
    if old.replicas_per_shard != new.replicas_per_shard {
        request = request.replica_configuration(
            ReplicaConfigurationRequest::builder()
                .replica_count(new.replicas_per_shard)
                .build(),
        );
        any = true;
    }
    set_if_changed!(request, any, old, new, node_type => node_type);
    set_if_changed!(request, any, old, new, optional engine_version => engine_version);
    set_if_changed!(request, any, old, new, optional parameter_group => parameter_group_name);
    set_if_changed!(request, any, old, new, acl => acl_name);
    set_if_changed!(request, any, old, new, list security_groups => set_security_group_ids);
    set_if_changed!(request, any, old, new, snapshot_retention => snapshot_retention_limit);
    set_if_changed!(request, any, old, new, optional snapshot_window => snapshot_window);
    set_if_changed!(request, any, old, new, optional maintenance_window => maintenance_window);
    set_if_changed!(request, any, old, new, optional sns_topic_arn => sns_topic_arn);
    let cluster = if any {
        request
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("UpdateCluster", e))?;
        wait::until_applied(
            ctx,
            &format!("MemoryDB cluster {name}"),
            "available",
            || describe_cluster(ctx, name),
            Cluster::status,
            |cluster| {
                cluster.node_type() == Some(new.node_type.as_str())
                    && cluster.number_of_shards() == Some(new.shards)
                    && cluster.acl_name() == Some(new.acl.as_str())
            },
        )
        .await?
    } else {
        wait_cluster(ctx, name).await?
    };
    super::tags::sync(
        ctx,
        super::tags::TagApi::MemoryDb,
        cluster.arn().unwrap_or_default(),
        &old.tags,
        &new.tags,
    )
    .await?;
    Ok(cluster_outputs(&cluster))
}

pub async fn delete_cluster(ctx: &Ctx, name: &str) -> Result<(), DriverError> {
    let delete = || async {
        ctx.aws
            .memorydb
            .delete_cluster()
            .cluster_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| DriverError::from_sdk("DeleteCluster", e))
    };
    wait::delete_when_ready(
        ctx,
        &format!("MemoryDB cluster {name}"),
        || describe_cluster(ctx, name),
        Cluster::status,
        delete,
        &["InvalidClusterStateFault", "ClusterNotFoundFault"],
    )
    .await
}

impl Driver for crate::resources::memorydb::MemorydbUser {
    async fn read(
        ctx: &super::Ctx,
        id: &str,
        prior: &crate::state::ResourceState,
    ) -> Result<Option<super::Observed>, super::DriverError> {
        read_user(ctx, id, prior).await
    }

    async fn create(
        ctx: &super::Ctx,
        desired: &serde_json::Value,
        payload: &super::Payload,
        token: &str,
    ) -> Result<super::Created, super::DriverError> {
        let _ = (payload, token);
        create_user(ctx, desired).await
    }

    async fn update(
        ctx: &super::Ctx,
        id: &str,
        observed: &serde_json::Value,
        desired: &serde_json::Value,
        payload: &super::Payload,
    ) -> Result<serde_json::Map<String, serde_json::Value>, super::DriverError> {
        let _ = payload;
        update_user(ctx, id, observed, desired).await
    }

    async fn delete(
        ctx: &super::Ctx,
        id: &str,
        prior: &crate::state::ResourceState,
    ) -> Result<(), super::DriverError> {
        let _ = prior;
        delete_user(ctx, id).await
    }
}

impl Driver for crate::resources::memorydb::MemorydbAcl {
    async fn read(
        ctx: &super::Ctx,
        id: &str,
        prior: &crate::state::ResourceState,
    ) -> Result<Option<super::Observed>, super::DriverError> {
        let _ = prior;
        read_acl(ctx, id).await
    }

    async fn create(
        ctx: &super::Ctx,
        desired: &serde_json::Value,
        payload: &super::Payload,
        token: &str,
    ) -> Result<super::Created, super::DriverError> {
        let _ = (payload, token);
        create_acl(ctx, desired).await
    }

    async fn update(
        ctx: &super::Ctx,
        id: &str,
        observed: &serde_json::Value,
        desired: &serde_json::Value,
        payload: &super::Payload,
    ) -> Result<serde_json::Map<String, serde_json::Value>, super::DriverError> {
        let _ = payload;
        update_acl(ctx, id, observed, desired).await
    }

    async fn delete(
        ctx: &super::Ctx,
        id: &str,
        prior: &crate::state::ResourceState,
    ) -> Result<(), super::DriverError> {
        let _ = prior;
        delete_acl(ctx, id).await
    }
}

impl Driver for crate::resources::memorydb::MemorydbCluster {
    async fn read(
        ctx: &super::Ctx,
        id: &str,
        prior: &crate::state::ResourceState,
    ) -> Result<Option<super::Observed>, super::DriverError> {
        read_cluster(ctx, id, prior).await
    }

    async fn create(
        ctx: &super::Ctx,
        desired: &serde_json::Value,
        payload: &super::Payload,
        token: &str,
    ) -> Result<super::Created, super::DriverError> {
        let _ = (payload, token);
        create_cluster(ctx, desired).await
    }

    async fn update(
        ctx: &super::Ctx,
        id: &str,
        observed: &serde_json::Value,
        desired: &serde_json::Value,
        payload: &super::Payload,
    ) -> Result<serde_json::Map<String, serde_json::Value>, super::DriverError> {
        let _ = payload;
        update_cluster(ctx, id, observed, desired).await
    }

    async fn delete(
        ctx: &super::Ctx,
        id: &str,
        prior: &crate::state::ResourceState,
    ) -> Result<(), super::DriverError> {
        let _ = prior;
        delete_cluster(ctx, id).await
    }
}
