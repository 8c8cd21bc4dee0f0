//! `ec2-instance` driver: resolves the AMI, launches with a client token (a repeated call returns the
//! same instance), retries while a new instance profile propagates, and waits until running.

use super::driver::Driver;
use super::wait::{self, Poll};
use super::{Created, Ctx, DriverError, Observed, Payload, outputs, tags};
use crate::resources::ec2_instance::Ec2InstanceConfig;
use crate::resources::{ResourceKind, TAG_LINEAGE, TAG_RESOURCE, TAG_STACK, decode, encode};
use crate::state::{ResourceState, Status};
use aws_sdk_ec2::types::{
    AttributeValue, Filter, IamInstanceProfileSpecification, Instance, InstanceAttributeName,
    InstanceStateName, InstanceType, ResourceType,
};
use serde_json::{Map, Value as Json, json};
use std::time::{Duration, Instant};

/// How long a new instance profile may stay invisible to EC2 before we give up (IAM is eventually consistent).
const PROFILE_PROPAGATION: Duration = Duration::from_secs(120);

fn config_of(value: &Json) -> Result<Ec2InstanceConfig, DriverError> {
    decode(ResourceKind::Ec2Instance, value).map_err(DriverError::Invalid)
}

async fn describe(ctx: &Ctx, id: &str) -> Result<Option<Instance>, DriverError> {
    if let Some(instance) = ctx.prefetch.as_ref().and_then(|p| p.instances.get(id)) {
        return Ok(Some(instance.clone()));
    }
    match ctx
        .aws
        .ec2
        .describe_instances()
        .instance_ids(id)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .next()
            .cloned()),
        Err(e) => {
            let error = DriverError::from_sdk("DescribeInstances", e);
            if error.is_code(&["InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"]) {
                Ok(None)
            } else {
                Err(error)
            }
        }
    }
}

fn state_of(instance: &Instance) -> InstanceStateName {
    instance
        .state()
        .and_then(|s| s.name())
        .cloned()
        .unwrap_or(InstanceStateName::Pending)
}

fn gone(state: &InstanceStateName) -> bool {
    matches!(
        state,
        InstanceStateName::Terminated | InstanceStateName::ShuttingDown
    )
}

fn instance_outputs(instance: &Instance) -> Map<String, Json> {
    outputs(&[
        ("id", json!(instance.instance_id().unwrap_or_default())),
        (
            "public_ip",
            json!(instance.public_ip_address().unwrap_or_default()),
        ),
        (
            "private_ip",
            json!(instance.private_ip_address().unwrap_or_default()),
        ),
        (
            "public_dns",
            json!(instance.public_dns_name().unwrap_or_default()),
        ),
        (
            "private_dns",
            json!(instance.private_dns_name().unwrap_or_default()),
        ),
        (
            "az",
            json!(
                instance
                    .placement()
                    .and_then(|p| p.availability_zone())
                    .unwrap_or_default()
            ),
        ),
        ("image_id", json!(instance.image_id().unwrap_or_default())),
    ])
}

pub async fn read(
    ctx: &Ctx,
    id: &str,
    prior: &ResourceState,
) -> Result<Option<Observed>, DriverError> {
    let Some(instance) = describe(ctx, id).await? else {
        return Ok(None);
    };
    if gone(&state_of(&instance)) {
        return Ok(None);
    }
    let user_data = ctx
        .aws
        .ec2
        .describe_instance_attribute()
        .instance_id(id)
        .attribute(InstanceAttributeName::UserData)
        .send()
        .await
        .map_err(|e| DriverError::from_sdk("DescribeInstanceAttribute", e))?
        .user_data
        .and_then(|v| v.value)
        .and_then(|encoded| aws_smithy_types::base64::decode(encoded).ok())
        .map(|bytes| crate::userdata::digest(&crate::userdata::from_ec2(&bytes)));
    let image_id = instance.image_id().unwrap_or_default().to_string();
    let prior_config: Option<Ec2InstanceConfig> = serde_json::from_value(prior.config.clone()).ok();
    // The image is recorded as written (e.g. an SSM parameter): newer AMIs behind the parameter do not
    // replace a running server. Only an instance on a different AMI than the one launched counts as drift.
    let launched = prior.outputs.get("image_id").and_then(Json::as_str);
    let image = match &prior_config {
        Some(config) if launched == Some(image_id.as_str()) => config.image.clone(),
        // Found again after a crash by the client token of the recorded create (`find`): launched
        // from the image that create resolved, whatever the parameter says now.
        Some(config) if launched.is_none() && prior.status == Status::Creating => {
            config.image.clone()
        }
        _ => image_id,
    };
    let mut groups: Vec<String> = instance
        .security_groups()
        .iter()
        .filter_map(|g| g.group_id().map(str::to_string))
        .collect();
    groups.sort();
    let mut tags = tags::from_ec2(instance.tags());
    // The Name tag is the `name` field, not one of the stack's tags.
    let name = tags.remove("Name").unwrap_or_default();
    let observed = Ec2InstanceConfig {
        name,
        instance_type: instance
            .instance_type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        image,
        subnet: instance.subnet_id().unwrap_or_default().to_string(),
        security_groups: Some(groups),
        instance_profile: instance
            .iam_instance_profile()
            .and_then(|p| p.arn())
            .and_then(|arn| arn.rsplit('/').next())
            .map(str::to_string),
        key_name: instance.key_name().map(str::to_string),
        user_data,
        tags,
    };
    Ok(Some(Observed {
        config: encode(&observed),
        outputs: instance_outputs(&instance),
    }))
}

/// An instance launched with this run's client token, or tagged for this stack and resource, that is not terminated.
pub async fn find(ctx: &Ctx, prior: &ResourceState) -> Result<Option<String>, DriverError> {
    let alive = Filter::builder()
        .name("instance-state-name")
        .values("pending")
        .values("running")
        .values("stopping")
        .values("stopped")
        .build();
    let by_tags = ctx
        .aws
        .ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name(format!("tag:{TAG_STACK}"))
                .values(&ctx.stack)
                .build(),
        )
        .filters(
            Filter::builder()
                .name(format!("tag:{TAG_RESOURCE}"))
                .values(&ctx.resource)
                .build(),
        )
        .filters(
            Filter::builder()
                .name(format!("tag:{TAG_LINEAGE}"))
                .values(&ctx.lineage)
                .build(),
        )
        .filters(alive)
        .send()
        .await
        .map_err(|e| DriverError::from_sdk("DescribeInstances", e))?;
    let mut found: Vec<&Instance> = by_tags
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .collect();
    // Only the instance launched by the recorded create call: another live instance of this resource
    // may be the one it replaces, waiting for its users to move before it is terminated.
    if let Some(token) = prior.client_token.as_deref() {
        found.retain(|i| i.client_token() == Some(token));
    }
    Ok(found
        .first()
        .and_then(|i| i.instance_id())
        .map(str::to_string))
}

/// The AMI an image stands for: an `ssm:` parameter's current value, or the AMI id itself.
pub async fn resolve_image(ctx: &Ctx, image: &str) -> Result<String, DriverError> {
    match image.strip_prefix("ssm:") {
        Some(parameter) => ctx.aws.images.resolve(&ctx.aws.ssm, parameter).await,
        None => Ok(image.to_string()),
    }
}

pub async fn create(
    ctx: &Ctx,
    desired: &Json,
    payload: &Payload,
    token: &str,
) -> Result<Created, DriverError> {
    let config = config_of(desired)?;
    let image_id = resolve_image(ctx, &config.image).await?;
    let mut tags_with_name = config.tags.clone();
    tags_with_name.insert("Name".into(), config.name.clone());
    let started = Instant::now();
    let reservation = loop {
        let request =
            ctx.aws
                .ec2
                .run_instances()
                .image_id(&image_id)
                .instance_type(InstanceType::from(config.instance_type.as_str()))
                .min_count(1)
                .max_count(1)
                .subnet_id(&config.subnet)
                .set_security_group_ids(config.security_groups.clone())
                .set_key_name(config.key_name.clone())
                .set_iam_instance_profile(
                    config
                        .instance_profile
                        .as_ref()
                        .map(|p| IamInstanceProfileSpecification::builder().name(p).build()),
                )
                .set_user_data(payload.user_data.as_ref().map(|script| {
                    aws_smithy_types::base64::encode(crate::userdata::for_ec2(script))
                }))
                .client_token(token)
                .tag_specifications(tags::specification(ResourceType::Instance, &tags_with_name))
                .tag_specifications(tags::specification(ResourceType::Volume, &config.tags));
        match request.send().await {
            Ok(out) => break out,
            Err(e) => {
                let error = DriverError::from_sdk("RunInstances", e);
                if profile_not_visible_yet(&error, &config)
                    && started.elapsed() < PROFILE_PROPAGATION
                {
                    ctx.status("waiting for the instance profile to reach EC2");
                    tokio::time::sleep(super::wait::next_poll_gap(started.elapsed())).await;
                    continue;
                }
                return Err(error);
            }
        }
    };
    let id = reservation
        .instances()
        .first()
        .and_then(|i| i.instance_id())
        .map(str::to_string)
        .ok_or_else(|| DriverError::Invalid("RunInstances returned no instance".into()))?;
    ctx.created(&id);
    let instance = wait_for(ctx, &id, InstanceStateName::Running).await?;
    Ok(Created {
        id,
        outputs: instance_outputs(&instance),
    })
}

/// EC2 answers a generic `InvalidParameterValue` for an instance profile IAM has created but EC2 cannot
/// see yet; no distinct code exists, so the parameter named in the message tells it apart.
fn profile_not_visible_yet(error: &DriverError, config: &Ec2InstanceConfig) -> bool {
    match error {
        DriverError::Aws { code, message, .. } => {
            config.instance_profile.is_some()
                && code == "InvalidParameterValue"
                && message.contains("iamInstanceProfile")
        }
        _ => false,
    }
}

async fn wait_for(ctx: &Ctx, id: &str, target: InstanceStateName) -> Result<Instance, DriverError> {
    wait::until(
        ctx,
        &format!("instance {id} to be {}", target.as_str()),
        || {
            let target = target.clone();
            async move {
                let Some(instance) = describe(ctx, id).await? else {
                    return Ok(Poll::Pending("not visible yet".into()));
                };
                let state = state_of(&instance);
                if gone(&state) && target != InstanceStateName::Terminated {
                    return Err(DriverError::Invalid(format!(
                        "instance {id} is {}: {}",
                        state.as_str(),
                        instance
                            .state_reason()
                            .and_then(|r| r.message())
                            .unwrap_or("no reason given")
                    )));
                }
                Ok(if state == target {
                    Poll::Done(instance)
                } else {
                    Poll::Pending(state.as_str().to_string())
                })
            }
        },
    )
    .await
}

pub async fn update(
    ctx: &Ctx,
    id: &str,
    observed: &Json,
    desired: &Json,
) -> Result<Map<String, Json>, DriverError> {
    let (observed, desired) = (config_of(observed)?, config_of(desired)?);
    let ec2 = &ctx.aws.ec2;
    if observed.instance_type != desired.instance_type {
        // EC2 changes the type only while the instance is stopped.
        ensure_stopped(ctx, id).await?;
        ec2.modify_instance_attribute()
            .instance_id(id)
            .instance_type(
                AttributeValue::builder()
                    .value(&desired.instance_type)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("ModifyInstanceAttribute", e))?;
    }
    // Also after an interrupted update (stopped to change its type) or create (still pending).
    ensure_running(ctx, id).await?;
    if let Some(groups) = desired
        .security_groups
        .clone()
        .filter(|groups| Some(groups) != observed.security_groups.as_ref())
    {
        ec2.modify_instance_attribute()
            .instance_id(id)
            .set_groups(Some(groups))
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("ModifyInstanceAttribute", e))?;
    }
    if observed.instance_profile != desired.instance_profile {
        sync_instance_profile(ctx, id, desired.instance_profile.as_deref()).await?;
    }
    let mut observed_tags = observed.tags.clone();
    observed_tags.remove("Name");
    let mut desired_tags = desired.tags.clone();
    desired_tags.insert("Name".into(), desired.name.clone());
    observed_tags.insert("Name".into(), observed.name.clone());
    tags::sync_ec2(ctx, id, &observed_tags, &desired_tags).await?;
    let instance = describe(ctx, id)
        .await?
        .ok_or_else(|| DriverError::Invalid(format!("instance {id} no longer exists")))?;
    Ok(instance_outputs(&instance))
}

/// The instance's state now.
async fn current_state(ctx: &Ctx, id: &str) -> Result<InstanceStateName, DriverError> {
    let instance = describe(ctx, id)
        .await?
        .ok_or_else(|| DriverError::Invalid(format!("instance {id} no longer exists")))?;
    Ok(state_of(&instance))
}

/// Stops the instance, from whatever state it is in (a pending one cannot be stopped yet).
async fn ensure_stopped(ctx: &Ctx, id: &str) -> Result<(), DriverError> {
    match current_state(ctx, id).await? {
        InstanceStateName::Stopped => return Ok(()),
        InstanceStateName::Stopping => {}
        state => {
            if state == InstanceStateName::Pending {
                wait_for(ctx, id, InstanceStateName::Running).await?;
            }
            ctx.aws
                .ec2
                .stop_instances()
                .instance_ids(id)
                .send()
                .await
                .map_err(|e| DriverError::from_sdk("StopInstances", e))?;
        }
    }
    wait_for(ctx, id, InstanceStateName::Stopped)
        .await
        .map(|_| ())
}

/// Starts the instance if it is stopped (or stopping) and waits until it runs.
async fn ensure_running(ctx: &Ctx, id: &str) -> Result<(), DriverError> {
    match current_state(ctx, id).await? {
        InstanceStateName::Running => return Ok(()),
        InstanceStateName::Pending => {}
        state => {
            if state == InstanceStateName::Stopping {
                wait_for(ctx, id, InstanceStateName::Stopped).await?;
            }
            ctx.aws
                .ec2
                .start_instances()
                .instance_ids(id)
                .send()
                .await
                .map_err(|e| DriverError::from_sdk("StartInstances", e))?;
        }
    }
    wait_for(ctx, id, InstanceStateName::Running)
        .await
        .map(|_| ())
}

async fn sync_instance_profile(
    ctx: &Ctx,
    id: &str,
    desired: Option<&str>,
) -> Result<(), DriverError> {
    let ec2 = &ctx.aws.ec2;
    let associations = ec2
        .describe_iam_instance_profile_associations()
        .filters(Filter::builder().name("instance-id").values(id).build())
        .send()
        .await
        .map_err(|e| DriverError::from_sdk("DescribeIamInstanceProfileAssociations", e))?;
    let current = associations
        .iam_instance_profile_associations()
        .first()
        .and_then(|a| a.association_id())
        .map(str::to_string);
    match (current, desired) {
        (Some(association), Some(profile)) => {
            ec2.replace_iam_instance_profile_association()
                .association_id(association)
                .iam_instance_profile(
                    IamInstanceProfileSpecification::builder()
                        .name(profile)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| DriverError::from_sdk("ReplaceIamInstanceProfileAssociation", e))?;
        }
        (None, Some(profile)) => {
            ec2.associate_iam_instance_profile()
                .instance_id(id)
                .iam_instance_profile(
                    IamInstanceProfileSpecification::builder()
                        .name(profile)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| DriverError::from_sdk("AssociateIamInstanceProfile", e))?;
        }
        (Some(association), None) => {
            ec2.disassociate_iam_instance_profile()
                .association_id(association)
                .send()
                .await
                .map_err(|e| DriverError::from_sdk("DisassociateIamInstanceProfile", e))?;
        }
        (None, None) => {}
    }
    Ok(())
}

pub async fn delete(ctx: &Ctx, id: &str) -> Result<(), DriverError> {
    match ctx
        .aws
        .ec2
        .terminate_instances()
        .instance_ids(id)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e) => {
            let error = DriverError::from_sdk("TerminateInstances", e);
            if error.is_code(&["InvalidInstanceID.NotFound"]) {
                return Ok(());
            }
            return Err(error);
        }
    }
    wait::until(ctx, &format!("instance {id} to terminate"), || async {
        match describe(ctx, id).await? {
            None => Ok(Poll::Done(())),
            Some(instance) => {
                let state = state_of(&instance);
                Ok(if state == InstanceStateName::Terminated {
                    Poll::Done(())
                } else {
                    Poll::Pending(state.as_str().to_string())
                })
            }
        }
    })
    .await
}

impl Driver for crate::resources::ec2_instance::Ec2Instance {
    async fn read(
        ctx: &super::Ctx,
        id: &str,
        prior: &crate::state::ResourceState,
    ) -> Result<Option<super::Observed>, super::DriverError> {
        read(ctx, id, prior).await
    }

    async fn find(
        ctx: &super::Ctx,
        prior: &crate::state::ResourceState,
    ) -> Result<Option<String>, super::DriverError> {
        find(ctx, prior).await
    }

    async fn create(
        ctx: &super::Ctx,
        desired: &serde_json::Value,
        payload: &super::Payload,
        token: &str,
    ) -> Result<super::Created, super::DriverError> {
        create(ctx, desired, payload, token).await
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
