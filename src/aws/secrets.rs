//! Secrets Manager helpers. Secret values pass through memory only: they are never returned in
//! outputs, written to state, logged, or put in an error message (the SDK redacts them in debug logs).

use super::driver::Driver;
use super::{Ctx, DriverError};
use crate::resources::{TAG_LINEAGE, TAG_STACK};
use aws_sdk_secretsmanager::operation::describe_secret::DescribeSecretOutput;
use std::collections::BTreeMap;

/// Characters RDS refuses in a master password, plus quotes that break shell and JSON handling.
pub const EXCLUDED_FOR_DATABASES: &str = "\"'@/\\`";

pub async fn random_password(
    ctx: &Ctx,
    length: i64,
    exclude: &str,
    exclude_punctuation: bool,
) -> Result<String, DriverError> {
    let out = ctx
        .aws
        .secrets
        .get_random_password()
        .password_length(length)
        .set_exclude_characters((!exclude.is_empty()).then(|| exclude.to_string()))
        .exclude_punctuation(exclude_punctuation)
        .include_space(false)
        .require_each_included_type(true)
        .send()
        .await
        .map_err(|e| DriverError::from_sdk("GetRandomPassword", e))?;
    out.random_password
        .ok_or_else(|| DriverError::Invalid("GetRandomPassword returned nothing".into()))
}

/// What Secrets Manager says about a secret, including one scheduled for deletion; `None` when
/// there is no such secret.
async fn described(ctx: &Ctx, name: &str) -> Result<Option<DescribeSecretOutput>, DriverError> {
    if let Some(listed) = ctx.prefetch.as_ref().and_then(|p| p.secrets.get(name)) {
        // ListSecrets answers what refresh reads of DescribeSecret.
        return Ok(Some(
            DescribeSecretOutput::builder()
                .set_arn(listed.arn().map(str::to_string))
                .set_name(listed.name().map(str::to_string))
                .set_description(listed.description().map(str::to_string))
                .set_tags(Some(listed.tags().to_vec()))
                .set_deleted_date(listed.deleted_date().cloned())
                .build(),
        ));
    }
    match ctx
        .aws
        .secrets
        .describe_secret()
        .secret_id(name)
        .send()
        .await
    {
        Ok(out) => Ok(Some(out)),
        Err(e) => {
            let error = DriverError::from_sdk("DescribeSecret", e);
            if error.is_code(&["ResourceNotFoundException"]) {
                Ok(None)
            } else {
                Err(error)
            }
        }
    }
}

/// A secret's ARN and whether this state created it (it carries this state's lineage tag).
pub async fn describe(ctx: &Ctx, name: &str) -> Result<Option<(String, bool)>, DriverError> {
    Ok(described(ctx, name)
        .await?
        .filter(|out| out.deleted_date().is_none())
        .map(|out| {
            let ours = tags_of(&out).get(TAG_LINEAGE) == Some(&ctx.lineage.as_str());
            (out.arn().unwrap_or_default().to_string(), ours)
        }))
}

fn tags_of(out: &DescribeSecretOutput) -> BTreeMap<&str, &str> {
    out.tags()
        .iter()
        .filter_map(|t| Some((t.key()?, t.value()?)))
        .collect()
}

/// Brings the tags of a database's credentials secret to `desired` (adding or changing, never
/// removing), when the secret is this state's or was made by another state of this stack (a
/// database imported after its state was lost brings its secret along).
pub async fn claim_tags(
    ctx: &Ctx,
    name: &str,
    desired: &BTreeMap<String, String>,
) -> Result<(), DriverError> {
    let Some(out) = described(ctx, name).await? else {
        return Ok(());
    };
    let tags = tags_of(&out);
    // The database names this secret as its own; made by any state of this stack (under an older
    // key too, before a `moved:`), it comes with the database.
    let ours = tags.get(TAG_LINEAGE) == Some(&ctx.lineage.as_str())
        || tags.get(TAG_STACK) == Some(&ctx.stack.as_str());
    let changed: BTreeMap<String, String> = desired
        .iter()
        .filter(|(k, v)| tags.get(k.as_str()) != Some(&v.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if out.deleted_date().is_some() || !ours {
        return Ok(());
    }
    add_tags(ctx, name, &changed).await
}

/// Adds or changes these tags on a secret; nothing to send when there are none.
async fn add_tags(
    ctx: &Ctx,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), DriverError> {
    if tags.is_empty() {
        return Ok(());
    }
    ctx.aws
        .secrets
        .tag_resource()
        .secret_id(name)
        .set_tags(Some(super::tags::secrets(tags)))
        .send()
        .await
        .map(|_| ())
        .map_err(|e| DriverError::from_sdk("TagResource", e))
}

pub async fn create(
    ctx: &Ctx,
    name: &str,
    value: &str,
    tags: &BTreeMap<String, String>,
) -> Result<String, DriverError> {
    let created = ctx
        .aws
        .secrets
        .create_secret()
        .name(name)
        .secret_string(value)
        .set_tags(Some(super::tags::secrets(tags)))
        .send()
        .await;
    match created {
        Ok(out) => Ok(out.arn().unwrap_or_default().to_string()),
        Err(e) => {
            let error = DriverError::from_sdk("CreateSecret", e);
            // The name is taken by a secret deleted with a recovery window. If this state made it
            // (an `up` after a `down`), it is brought back with the new value.
            if error.is_code(&["InvalidRequestException"])
                && let Some(arn) = restore_own(ctx, name).await?
            {
                put(ctx, name, value).await?;
                return Ok(arn);
            }
            Err(error)
        }
    }
}

/// Restores a secret scheduled for deletion that this state made; `None` when there is no such
/// secret. What another state deleted stays deleted.
async fn restore_own(ctx: &Ctx, name: &str) -> Result<Option<String>, DriverError> {
    let Some(out) = described(ctx, name).await? else {
        return Ok(None);
    };
    let own = tags_of(&out).get(TAG_LINEAGE) == Some(&ctx.lineage.as_str());
    if out.deleted_date().is_none() || !own {
        return Ok(None);
    }
    ctx.status(format!(
        "restoring secret {name}, deleted earlier with a recovery window"
    ));
    ctx.aws
        .secrets
        .restore_secret()
        .secret_id(name)
        .send()
        .await
        .map_err(|e| DriverError::from_sdk("RestoreSecret", e))?;
    Ok(Some(out.arn().unwrap_or_default().to_string()))
}

pub async fn value(ctx: &Ctx, id: &str) -> Result<String, DriverError> {
    let out = ctx
        .aws
        .secrets
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| DriverError::from_sdk("GetSecretValue", e))?;
    out.secret_string
        .ok_or_else(|| DriverError::Invalid(format!("secret {id} holds no string value")))
}

/// The password in a secret: a plain string, or JSON with a `password` key.
pub async fn password(ctx: &Ctx, secret: &str) -> Result<String, DriverError> {
    let value = value(ctx, secret).await?;
    match serde_json::from_str::<serde_json::Value>(&value) {
        Ok(serde_json::Value::Object(map)) => map
            .get("password")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| {
                DriverError::Invalid(format!("secret {secret} is JSON without a `password` key"))
            }),
        _ => Ok(value),
    }
}

pub async fn put(ctx: &Ctx, id: &str, value: &str) -> Result<(), DriverError> {
    ctx.aws
        .secrets
        .put_secret_value()
        .secret_id(id)
        .secret_string(value)
        .send()
        .await
        .map_err(|e| DriverError::from_sdk("PutSecretValue", e))?;
    Ok(())
}

/// Deletes a secret: at once (no recovery window) or scheduled after `recovery_days`.
pub async fn delete(ctx: &Ctx, id: &str, recovery_days: Option<i64>) -> Result<(), DriverError> {
    let request = ctx.aws.secrets.delete_secret().secret_id(id);
    let request = match recovery_days {
        None | Some(0) => request.force_delete_without_recovery(true),
        Some(days) => request.recovery_window_in_days(days),
    };
    match request.send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let error = DriverError::from_sdk("DeleteSecret", e);
            if error.is_code(&["ResourceNotFoundException"]) {
                Ok(())
            } else {
                Err(error)
            }
        }
    }
}

// The `secret` resource.

use super::{Created, Observed, Payload, outputs};
use crate::resources::secret::SecretConfig;
use crate::resources::{ResourceKind, decode, encode};
use crate::state::ResourceState;
use serde_json::{Map, Value as Json, json};

fn config_of(value: &Json) -> Result<SecretConfig, DriverError> {
    decode(ResourceKind::Secret, value).map_err(DriverError::Invalid)
}

fn secret_outputs(arn: &str, name: &str) -> Map<String, Json> {
    outputs(&[("arn", json!(arn)), ("name", json!(name))])
}

/// The value to store: generated now, or the composed value the engine rendered.
async fn new_value(ctx: &Ctx, c: &SecretConfig, payload: &Payload) -> Result<String, DriverError> {
    match (&c.generate, &payload.secret_value) {
        (Some(rules), _) => {
            let exclude = rules.exclude_characters.clone().unwrap_or_default();
            random_password(ctx, rules.length, &exclude, rules.exclude_punctuation).await
        }
        (None, Some(value)) => Ok(value.clone()),
        (None, None) => Err(DriverError::Invalid(format!(
            "secret {} has neither `generate` nor `value`",
            c.name
        ))),
    }
}

pub async fn read(
    ctx: &Ctx,
    name: &str,
    prior: &ResourceState,
) -> Result<Option<Observed>, DriverError> {
    let Some(out) = described(ctx, name).await? else {
        return Ok(None);
    };
    if out.deleted_date().is_some() {
        return Ok(None);
    }
    let prior_config: Option<SecretConfig> = serde_json::from_value(prior.config.clone()).ok();
    // A composed value is compared by digest, so a change made outside stackctl shows up as drift.
    let value = match prior_config.as_ref().and_then(|c| c.value.as_ref()) {
        Some(_) => match ctx
            .prefetch
            .as_ref()
            .and_then(|p| p.secret_digests.get(name))
        {
            Some(digest) => Some(digest.clone()),
            None => Some(crate::userdata::digest(&value(ctx, name).await?)),
        },
        None => None,
    };
    let observed = SecretConfig {
        name: out.name().unwrap_or_default().to_string(),
        description: out
            .description()
            .filter(|d| !d.is_empty())
            .map(str::to_string),
        generate: prior_config.as_ref().and_then(|c| c.generate.clone()),
        value,
        recovery_window_days: prior_config
            .as_ref()
            .map(|c| c.recovery_window_days)
            .unwrap_or(30),
        tags: out
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .collect(),
    };
    let arn = out.arn().unwrap_or_default().to_string();
    Ok(Some(Observed {
        config: encode(&observed),
        outputs: secret_outputs(&arn, &observed.name),
    }))
}

pub async fn create_resource(
    ctx: &Ctx,
    desired: &Json,
    payload: &Payload,
) -> Result<Created, DriverError> {
    let c = config_of(desired)?;
    let arn = match describe(ctx, &c.name).await? {
        // Made by an interrupted run of this very resource: keep it, and its value.
        Some((arn, true)) => arn,
        Some((arn, false)) => {
            return Err(DriverError::Invalid(format!(
                "secret {} ({arn}) already exists and was not created by this state of stack `{}`: stackctl never adopts what it did not create; choose another name, or adopt it with `stackctl import {} {}`",
                c.name, ctx.stack, ctx.resource, c.name
            )));
        }
        None => {
            let secret = new_value(ctx, &c, payload).await?;
            let arn = create(ctx, &c.name, &secret, &c.tags).await?;
            if let Some(description) = &c.description {
                ctx.aws
                    .secrets
                    .update_secret()
                    .secret_id(&arn)
                    .description(description)
                    .send()
                    .await
                    .map_err(|e| DriverError::from_sdk("UpdateSecret", e))?;
            }
            arn
        }
    };
    ctx.created(&c.name);
    Ok(Created {
        id: c.name.clone(),
        outputs: secret_outputs(&arn, &c.name),
    })
}

pub async fn update(
    ctx: &Ctx,
    name: &str,
    observed: &Json,
    desired: &Json,
    payload: &Payload,
) -> Result<Map<String, Json>, DriverError> {
    let (old, new) = (config_of(observed)?, config_of(desired)?);
    if new.description.is_some() && old.description != new.description {
        ctx.aws
            .secrets
            .update_secret()
            .secret_id(name)
            .set_description(new.description.clone())
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("UpdateSecret", e))?;
    }
    if new.value.is_some() && old.value != new.value {
        put(ctx, name, &new_value(ctx, &new, payload).await?).await?;
    }
    let stale: Vec<String> = old
        .tags
        .keys()
        .filter(|k| !new.tags.contains_key(*k))
        .cloned()
        .collect();
    if !stale.is_empty() {
        ctx.aws
            .secrets
            .untag_resource()
            .secret_id(name)
            .set_tag_keys(Some(stale))
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("UntagResource", e))?;
    }
    let changed: BTreeMap<String, String> = new
        .tags
        .iter()
        .filter(|(k, v)| old.tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    add_tags(ctx, name, &changed).await?;
    let arn = describe(ctx, name)
        .await?
        .map(|(arn, _)| arn)
        .unwrap_or_default();
    Ok(secret_outputs(&arn, name))
}

/// Deletes with the recovery window the file asked for (0: at once).
pub async fn delete_resource(
    ctx: &Ctx,
    name: &str,
    prior: &ResourceState,
) -> Result<(), DriverError> {
    let days = prior
        .config
        .get("recovery_window_days")
        .and_then(Json::as_i64)
        .unwrap_or(30);
    delete(ctx, name, Some(days)).await
}

impl Driver for crate::resources::secret::Secret {
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
        let _ = ctx;
        // A secret's name keeps its case.
        Ok(prior.physical_name.clone())
    }

    async fn create(
        ctx: &super::Ctx,
        desired: &serde_json::Value,
        payload: &super::Payload,
        token: &str,
    ) -> Result<super::Created, super::DriverError> {
        let _ = token;
        create_resource(ctx, desired, payload).await
    }

    async fn update(
        ctx: &super::Ctx,
        id: &str,
        observed: &serde_json::Value,
        desired: &serde_json::Value,
        payload: &super::Payload,
    ) -> Result<serde_json::Map<String, serde_json::Value>, super::DriverError> {
        update(ctx, id, observed, desired, payload).await
    }

    async fn delete(
        ctx: &super::Ctx,
        id: &str,
        prior: &crate::state::ResourceState,
    ) -> Result<(), super::DriverError> {
        delete_resource(ctx, id, prior).await
    }
}
