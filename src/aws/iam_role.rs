//! `iam-role` driver: the role, its managed and inline policies, and an instance profile of the same
//! name. Deletion undoes each in the order IAM requires (profile, policies, then the role).

use super::driver::Driver;
use super::{Created, Ctx, DriverError, Observed, outputs};
use crate::resources::iam_role::{IamRoleConfig, canonical_policy, trust_policy, trusted_service};
use crate::resources::{ResourceKind, TAG_LINEAGE, decode, encode};
use crate::state::ResourceState;
use aws_sdk_iam::types::Tag;
use serde_json::{Map, Value as Json, json};
use std::collections::{BTreeMap, HashMap};

fn config_of(value: &Json) -> Result<IamRoleConfig, DriverError> {
    decode(ResourceKind::IamRole, value).map_err(DriverError::Invalid)
}

fn not_found(error: &DriverError) -> bool {
    error.is_code(&["NoSuchEntity"])
}

fn iam_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, DriverError> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| DriverError::Invalid(e.to_string()))
        })
        .collect()
}

/// IAM returns policy documents URL-encoded.
fn decode_policy(document: &str) -> Json {
    let decoded = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
    serde_json::from_str(&decoded).unwrap_or(Json::Null)
}

pub async fn read(ctx: &Ctx, name: &str) -> Result<Option<Observed>, DriverError> {
    if let Some(found) = ctx.prefetch.as_ref().and_then(|p| p.roles.get(name)) {
        return Ok(Some(observed_of(found)));
    }
    let iam = &ctx.aws.iam;
    // Every read needs only the role's name: made together, one round trip (two with inline
    // policies, whose documents need their names).
    let (role, managed, inline_names, tags, profile) = tokio::join!(
        iam.get_role().role_name(name).send(),
        async {
            let mut managed = Vec::new();
            let mut pages = iam
                .list_attached_role_policies()
                .role_name(name)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page =
                    page.map_err(|e| DriverError::from_sdk("ListAttachedRolePolicies", e))?;
                managed.extend(
                    page.attached_policies()
                        .iter()
                        .filter_map(|p| p.policy_arn().map(str::to_string)),
                );
            }
            Ok::<_, DriverError>(managed)
        },
        async {
            let mut names = Vec::new();
            let mut pages = iam
                .list_role_policies()
                .role_name(name)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| DriverError::from_sdk("ListRolePolicies", e))?;
                names.extend(page.policy_names().iter().cloned());
            }
            Ok::<_, DriverError>(names)
        },
        iam.list_role_tags().role_name(name).send(),
        instance_profile(ctx, name),
    );
    let role = match role {
        Ok(out) => out.role,
        Err(e) => {
            let error = DriverError::from_sdk("GetRole", e);
            return if not_found(&error) {
                Ok(None)
            } else {
                Err(error)
            };
        }
    };
    let Some(role) = role else { return Ok(None) };
    // Sorted with the batch's roles, in `observed_of`.
    let managed = managed?;
    let documents = inline_names?.into_iter().map(|policy_name| async move {
        let policy = iam
            .get_role_policy()
            .role_name(name)
            .policy_name(&policy_name)
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("GetRolePolicy", e))?;
        Ok::<_, DriverError>((
            policy_name,
            canonical_policy(&decode_policy(policy.policy_document())),
        ))
    });
    let mut inline = BTreeMap::new();
    for document in futures_util::future::join_all(documents).await {
        let (policy_name, policy) = document?;
        inline.insert(policy_name, policy);
    }
    let tags = tags.map_err(|e| DriverError::from_sdk("ListRoleTags", e))?;
    Ok(Some(observed_of(&RoleRead {
        name: role.role_name().to_string(),
        arn: role.arn().to_string(),
        id: role.role_id().to_string(),
        description: role.description().map(str::to_string),
        trust: role.assume_role_policy_document().map(decode_policy),
        managed,
        inline,
        tags: tags
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
        profile_arn: profile?,
    })))
}

/// Everything a refresh needs to know about a role, read one role at a time or for every role of
/// the account at once.
#[derive(Debug, Clone)]
pub struct RoleRead {
    name: String,
    arn: String,
    id: String,
    description: Option<String>,
    trust: Option<Json>,
    managed: Vec<String>,
    inline: BTreeMap<String, Json>,
    tags: BTreeMap<String, String>,
    /// The instance profile of the role's name, when it holds the role.
    profile_arn: Option<String>,
}

fn observed_of(role: &RoleRead) -> Observed {
    let trust = role.trust.clone().unwrap_or(Json::Null);
    let mut managed = role.managed.clone();
    managed.sort();
    let observed = IamRoleConfig {
        name: role.name.clone(),
        description: role.description.clone().filter(|d| !d.is_empty()),
        assumed_by: trusted_service(&trust).unwrap_or_else(|| trust.to_string()),
        managed_policies: managed,
        inline_policies: role.inline.clone(),
        instance_profile: role.profile_arn.is_some(),
        tags: role.tags.clone(),
    };
    Observed {
        config: encode(&observed),
        outputs: role_outputs(&role.name, &role.arn, &role.id, role.profile_arn.as_deref()),
    }
}

/// Every role of the account with its policies, tags and instance profiles, in two paginated
/// reads made together: ListRoles (descriptions) and GetAccountAuthorizationDetails (the rest,
/// which the census of the same plan reads too). Cheaper than five calls per role.
pub async fn read_all(
    aws: &super::Aws,
    reads: &super::account_reads::AccountReads,
) -> Result<HashMap<String, RoleRead>, DriverError> {
    let iam = &aws.iam;
    let (descriptions, details) = tokio::join!(
        async {
            let mut descriptions = HashMap::new();
            let mut pages = iam.list_roles().max_items(1000).into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| DriverError::from_sdk("ListRoles", e))?;
                for role in page.roles() {
                    descriptions.insert(
                        role.role_name().to_string(),
                        role.description().map(str::to_string),
                    );
                }
            }
            Ok::<_, DriverError>(descriptions)
        },
        reads.role_details(aws)
    );
    let mut descriptions = descriptions?;
    let mut roles = HashMap::new();
    for detail in details? {
        let detail = detail.clone();
        let Some(name) = detail.role_name().map(str::to_string) else {
            continue;
        };
        let profile_arn = detail
            .instance_profile_list()
            .iter()
            .find(|p| {
                p.instance_profile_name() == name && p.roles().iter().any(|r| r.role_name() == name)
            })
            .map(|p| p.arn().to_string());
        let role = RoleRead {
            arn: detail.arn().unwrap_or_default().to_string(),
            id: detail.role_id().unwrap_or_default().to_string(),
            description: descriptions.remove(&name).flatten(),
            trust: detail.assume_role_policy_document().map(decode_policy),
            managed: detail
                .attached_managed_policies()
                .iter()
                .filter_map(|p| p.policy_arn().map(str::to_string))
                .collect(),
            inline: detail
                .role_policy_list()
                .iter()
                .filter_map(|p| {
                    Some((
                        p.policy_name()?.to_string(),
                        canonical_policy(&decode_policy(p.policy_document()?)),
                    ))
                })
                .collect(),
            tags: detail
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
            profile_arn,
            name: name.clone(),
        };
        roles.insert(name, role);
    }
    Ok(roles)
}

fn role_outputs(name: &str, arn: &str, id: &str, profile_arn: Option<&str>) -> Map<String, Json> {
    outputs(&[
        ("name", json!(name)),
        ("arn", json!(arn)),
        ("id", json!(id)),
        (
            "instance_profile",
            json!(if profile_arn.is_some() { name } else { "" }),
        ),
        ("instance_profile_arn", json!(profile_arn.unwrap_or(""))),
    ])
}

/// The ARN of the role's instance profile, when it exists and holds the role.
async fn instance_profile(ctx: &Ctx, name: &str) -> Result<Option<String>, DriverError> {
    match ctx
        .aws
        .iam
        .get_instance_profile()
        .instance_profile_name(name)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .instance_profile
            .filter(|p| p.roles().iter().any(|r| r.role_name() == name))
            .map(|p| p.arn().to_string())),
        Err(e) => {
            let error = DriverError::from_sdk("GetInstanceProfile", e);
            if not_found(&error) {
                Ok(None)
            } else {
                Err(error)
            }
        }
    }
}

/// A role of this name that carries this state's lineage tag is ours from an interrupted create.
pub async fn find(ctx: &Ctx, prior: &ResourceState) -> Result<Option<String>, DriverError> {
    let Some(name) = &prior.physical_name else {
        return Ok(None);
    };
    match ctx.aws.iam.list_role_tags().role_name(name).send().await {
        Ok(out) => Ok(out
            .tags()
            .iter()
            .any(|t| t.key() == TAG_LINEAGE && t.value() == ctx.lineage)
            .then(|| name.clone())),
        Err(e) => {
            let error = DriverError::from_sdk("ListRoleTags", e);
            if not_found(&error) {
                Ok(None)
            } else {
                Err(error)
            }
        }
    }
}

pub async fn create(ctx: &Ctx, desired: &Json) -> Result<Created, DriverError> {
    let config = config_of(desired)?;
    let iam = &ctx.aws.iam;
    let role = iam
        .create_role()
        .role_name(&config.name)
        .assume_role_policy_document(trust_policy(&config.assumed_by).to_string())
        .set_description(config.description.clone())
        .set_tags(Some(iam_tags(&config.tags)?))
        .send()
        .await
        .map_err(|e| DriverError::from_sdk("CreateRole", e))?
        .role
        .ok_or_else(|| DriverError::Invalid("CreateRole returned no role".into()))?;
    ctx.created(&config.name);
    let empty = IamRoleConfig {
        managed_policies: vec![],
        inline_policies: BTreeMap::new(),
        instance_profile: false,
        ..config.clone()
    };
    // The instance profile does not touch the role's policies: both are made at once. A role's
    // policies are changed one call at a time, as IAM refuses concurrent changes to one role
    // (ConcurrentModification).
    let (policies, profile_arn) =
        tokio::join!(sync_policies(ctx, &config.name, &empty, &config), async {
            match config.instance_profile {
                true => ensure_instance_profile(ctx, &config).await.map(Some),
                false => Ok(None),
            }
        });
    policies?;
    let profile_arn = profile_arn?;
    Ok(Created {
        id: config.name.clone(),
        outputs: role_outputs(
            role.role_name(),
            role.arn(),
            role.role_id(),
            profile_arn.as_deref(),
        ),
    })
}

async fn ensure_instance_profile(ctx: &Ctx, config: &IamRoleConfig) -> Result<String, DriverError> {
    let iam = &ctx.aws.iam;
    // A profile made now has no role yet; one found (an interrupted create) is asked.
    let (arn, made_now) = match iam
        .create_instance_profile()
        .instance_profile_name(&config.name)
        .set_tags(Some(iam_tags(&config.tags)?))
        .send()
        .await
    {
        Ok(out) => (
            out.instance_profile
                .map(|p| p.arn().to_string())
                .unwrap_or_default(),
            true,
        ),
        Err(e) => {
            let error = DriverError::from_sdk("CreateInstanceProfile", e);
            if !error.is_code(&["EntityAlreadyExists"]) {
                return Err(error);
            }
            let arn = iam
                .get_instance_profile()
                .instance_profile_name(&config.name)
                .send()
                .await
                .map_err(|e| DriverError::from_sdk("GetInstanceProfile", e))?
                .instance_profile
                .map(|p| p.arn().to_string())
                .unwrap_or_default();
            (arn, false)
        }
    };
    if made_now || instance_profile(ctx, &config.name).await?.is_none() {
        iam.add_role_to_instance_profile()
            .instance_profile_name(&config.name)
            .role_name(&config.name)
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("AddRoleToInstanceProfile", e))?;
    }
    Ok(arn)
}

async fn sync_policies(
    ctx: &Ctx,
    name: &str,
    observed: &IamRoleConfig,
    desired: &IamRoleConfig,
) -> Result<(), DriverError> {
    let iam = &ctx.aws.iam;
    for arn in desired
        .managed_policies
        .iter()
        .filter(|p| !observed.managed_policies.contains(p))
    {
        iam.attach_role_policy()
            .role_name(name)
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("AttachRolePolicy", e))?;
    }
    for arn in observed
        .managed_policies
        .iter()
        .filter(|p| !desired.managed_policies.contains(p))
    {
        iam.detach_role_policy()
            .role_name(name)
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("DetachRolePolicy", e))?;
    }
    for (policy, document) in &desired.inline_policies {
        if observed.inline_policies.get(policy) != Some(document) {
            iam.put_role_policy()
                .role_name(name)
                .policy_name(policy)
                .policy_document(document.to_string())
                .send()
                .await
                .map_err(|e| DriverError::from_sdk("PutRolePolicy", e))?;
        }
    }
    for policy in observed
        .inline_policies
        .keys()
        .filter(|p| !desired.inline_policies.contains_key(*p))
    {
        iam.delete_role_policy()
            .role_name(name)
            .policy_name(policy)
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("DeleteRolePolicy", e))?;
    }
    Ok(())
}

pub async fn update(
    ctx: &Ctx,
    name: &str,
    observed: &Json,
    desired: &Json,
) -> Result<Map<String, Json>, DriverError> {
    let (observed, desired) = (config_of(observed)?, config_of(desired)?);
    let iam = &ctx.aws.iam;
    if observed.assumed_by != desired.assumed_by {
        iam.update_assume_role_policy()
            .role_name(name)
            .policy_document(trust_policy(&desired.assumed_by).to_string())
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("UpdateAssumeRolePolicy", e))?;
    }
    if observed.description != desired.description {
        iam.update_role()
            .role_name(name)
            .description(desired.description.clone().unwrap_or_default())
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("UpdateRole", e))?;
    }
    sync_policies(ctx, name, &observed, &desired).await?;
    let stale: Vec<String> = observed
        .tags
        .keys()
        .filter(|k| !desired.tags.contains_key(*k))
        .cloned()
        .collect();
    if !stale.is_empty() {
        iam.untag_role()
            .role_name(name)
            .set_tag_keys(Some(stale))
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("UntagRole", e))?;
    }
    let changed: BTreeMap<String, String> = desired
        .tags
        .iter()
        .filter(|(k, v)| observed.tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !changed.is_empty() {
        iam.tag_role()
            .role_name(name)
            .set_tags(Some(iam_tags(&changed)?))
            .send()
            .await
            .map_err(|e| DriverError::from_sdk("TagRole", e))?;
    }
    if desired.instance_profile {
        ensure_instance_profile(ctx, &desired).await?;
    } else if observed.instance_profile {
        remove_instance_profile(ctx, name).await?;
    }
    read(ctx, name)
        .await?
        .map(|o| o.outputs)
        .ok_or_else(|| DriverError::Invalid(format!("role {name} no longer exists")))
}

/// Takes the role out of its same-named instance profile and deletes that profile.
async fn remove_instance_profile(ctx: &Ctx, name: &str) -> Result<(), DriverError> {
    let iam = &ctx.aws.iam;
    for result in [
        iam.remove_role_from_instance_profile()
            .instance_profile_name(name)
            .role_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| DriverError::from_sdk("RemoveRoleFromInstanceProfile", e)),
        iam.delete_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| DriverError::from_sdk("DeleteInstanceProfile", e)),
    ] {
        match result {
            Err(e) if !not_found(&e) => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

pub async fn delete(ctx: &Ctx, name: &str) -> Result<(), DriverError> {
    let iam = &ctx.aws.iam;
    let ignore_missing = |result: Result<(), DriverError>| match result {
        Err(e) if not_found(&e) => Ok(()),
        other => other,
    };
    let profiles = match iam
        .list_instance_profiles_for_role()
        .role_name(name)
        .send()
        .await
    {
        Ok(out) => out
            .instance_profiles()
            .iter()
            .map(|p| p.instance_profile_name().to_string())
            .collect::<Vec<_>>(),
        Err(e) => {
            let error = DriverError::from_sdk("ListInstanceProfilesForRole", e);
            if not_found(&error) {
                return Ok(());
            } else {
                return Err(error);
            }
        }
    };
    for profile in &profiles {
        ignore_missing(
            iam.remove_role_from_instance_profile()
                .instance_profile_name(profile)
                .role_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| DriverError::from_sdk("RemoveRoleFromInstanceProfile", e)),
        )?;
        // Only the profile created with the role (same name) is ours to delete.
        if profile == name {
            ignore_missing(
                iam.delete_instance_profile()
                    .instance_profile_name(profile)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| DriverError::from_sdk("DeleteInstanceProfile", e)),
            )?;
        }
    }
    if let Some(observed) = read(ctx, name).await? {
        let observed = config_of(&observed.config)?;
        let nothing = IamRoleConfig {
            managed_policies: vec![],
            inline_policies: BTreeMap::new(),
            ..observed.clone()
        };
        sync_policies(ctx, name, &observed, &nothing).await?;
    }
    ignore_missing(
        iam.delete_role()
            .role_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| DriverError::from_sdk("DeleteRole", e)),
    )?;
    // An instance profile left from an interrupted create, not attached to the role any more.
    ignore_missing(
        iam.delete_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| DriverError::from_sdk("DeleteInstanceProfile", e)),
    )
}

impl Driver for crate::resources::iam_role::IamRole {
    async fn read(
        ctx: &super::Ctx,
        id: &str,
        prior: &crate::state::ResourceState,
    ) -> Result<Option<super::Observed>, super::DriverError> {
        let _ = prior;
        read(ctx, id).await
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
