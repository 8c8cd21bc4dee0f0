//! Secrets Manager helpers. Secret values pass through memory only: they are never returned in
//! outputs, written to state, logged, or put in an error message (the SDK redacts them in debug logs).

use super::{Ctx, DriverError};
use crate::resources::{TAG_RESOURCE, TAG_STACK};
use std::collections::BTreeMap;

/// Characters RDS refuses in a master password, plus quotes that break shell and JSON handling.
pub const EXCLUDED_FOR_DATABASES: &str = "\"'@/\\`";

pub async fn random_password(ctx: &Ctx, length: i64, exclude: &str) -> Result<String, DriverError> {
    let out = ctx
        .aws
        .secrets
        .get_random_password()
        .password_length(length)
        .exclude_characters(exclude)
        .include_space(false)
        .require_each_included_type(true)
        .send()
        .await
        .map_err(|e| DriverError::from_sdk("GetRandomPassword", e))?;
    out.random_password.ok_or_else(|| DriverError::Invalid("GetRandomPassword returned nothing".into()))
}

/// A secret's ARN and whether it belongs to this stack's resource (by its tags).
pub async fn describe(ctx: &Ctx, name: &str) -> Result<Option<(String, bool)>, DriverError> {
    match ctx.aws.secrets.describe_secret().secret_id(name).send().await {
        Ok(out) => {
            if out.deleted_date().is_some() {
                return Ok(None);
            }
            let tags: BTreeMap<&str, &str> = out.tags().iter().filter_map(|t| Some((t.key()?, t.value()?))).collect();
            let ours = tags.get(TAG_STACK) == Some(&ctx.stack.as_str()) && tags.get(TAG_RESOURCE) == Some(&ctx.resource.as_str());
            Ok(Some((out.arn().unwrap_or_default().to_string(), ours)))
        }
        Err(e) => {
            let error = DriverError::from_sdk("DescribeSecret", e);
            if error.is_code(&["ResourceNotFoundException"]) { Ok(None) } else { Err(error) }
        }
    }
}

pub async fn create(ctx: &Ctx, name: &str, value: &str, tags: &BTreeMap<String, String>) -> Result<String, DriverError> {
    let out = ctx
        .aws
        .secrets
        .create_secret()
        .name(name)
        .secret_string(value)
        .set_tags(Some(super::tags::secrets(tags)))
        .send()
        .await
        .map_err(|e| DriverError::from_sdk("CreateSecret", e))?;
    Ok(out.arn().unwrap_or_default().to_string())
}

pub async fn value(ctx: &Ctx, id: &str) -> Result<String, DriverError> {
    let out = ctx.aws.secrets.get_secret_value().secret_id(id).send().await.map_err(|e| DriverError::from_sdk("GetSecretValue", e))?;
    out.secret_string.ok_or_else(|| DriverError::Invalid(format!("secret {id} holds no string value")))
}

pub async fn put(ctx: &Ctx, id: &str, value: &str) -> Result<(), DriverError> {
    ctx.aws.secrets.put_secret_value().secret_id(id).secret_string(value).send().await.map_err(|e| DriverError::from_sdk("PutSecretValue", e))?;
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
            if error.is_code(&["ResourceNotFoundException"]) { Ok(()) } else { Err(error) }
        }
    }
}
