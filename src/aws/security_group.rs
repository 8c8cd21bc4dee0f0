//! `security-group` driver. Rules are authorized and revoked one by one, so a rule change never
//! replaces the group.

use super::driver::Driver;
use super::wait::{self, Poll};
use super::{Created, Ctx, DriverError, Observed, outputs, tags};
use crate::resources::security_group::{Rule, SecurityGroupConfig};
use crate::resources::{ResourceKind, TAG_LINEAGE, TAG_RESOURCE, TAG_STACK, decode, encode};
use crate::state::ResourceState;
use aws_sdk_ec2::types::{
    Filter, IpPermission, IpRange, Ipv6Range, ResourceType, SecurityGroup, UserIdGroupPair,
};
use serde_json::{Map, Value as Json, json};

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Ingress,
    Egress,
}

fn config_of(value: &Json) -> Result<SecurityGroupConfig, DriverError> {
    decode(ResourceKind::SecurityGroup, value).map_err(DriverError::Invalid)
}

async fn describe(ctx: &Ctx, id: &str) -> Result<Option<SecurityGroup>, DriverError> {
    if let Some(group) = ctx.prefetch.as_ref().and_then(|p| p.groups.get(id)) {
        return Ok(Some(group.clone()));
    }
    match ctx
        .aws
        .ec2
        .describe_security_groups()
        .group_ids(id)
        .send()
        .await
    {
        Ok(out) => Ok(out.security_groups.unwrap_or_default().into_iter().next()),
        Err(e) => {
            let error = DriverError::from_sdk("DescribeSecurityGroups", e);
            if error.is_code(&["InvalidGroup.NotFound", "InvalidGroupId.Malformed"]) {
                Ok(None)
            } else {
                Err(error)
            }
        }
    }
}

fn group_outputs(group: &SecurityGroup, region: &str) -> Map<String, Json> {
    let id = group.group_id().unwrap_or_default();
    let arn = format!(
        "arn:{}:ec2:{region}:{}:security-group/{id}",
        crate::resources::partition_of(region),
        group.owner_id().unwrap_or_default()
    );
    outputs(&[
        ("id", json!(id)),
        ("name", json!(group.group_name().unwrap_or_default())),
        ("arn", json!(arn)),
    ])
}

/// Flattens AWS permissions (one per protocol and port range, many peers each) into one rule per peer.
fn rules_of(permissions: &[IpPermission]) -> Vec<Rule> {
    let mut rules = Vec::new();
    for p in permissions {
        let protocol = p.ip_protocol().unwrap_or("-1").to_string();
        let (from_port, to_port) = if protocol == "-1" {
            (-1, -1)
        } else {
            (p.from_port().unwrap_or(-1), p.to_port().unwrap_or(-1))
        };
        let mut push = |peer: Option<&str>, description: Option<&str>| {
            if let Some(peer) = peer {
                rules.push(Rule {
                    protocol: protocol.clone(),
                    from_port,
                    to_port,
                    peer: peer.to_string(),
                    description: description.filter(|d| !d.is_empty()).map(str::to_string),
                });
            }
        };
        p.ip_ranges()
            .iter()
            .for_each(|r| push(r.cidr_ip(), r.description()));
        p.ipv6_ranges()
            .iter()
            .for_each(|r| push(r.cidr_ipv6(), r.description()));
        p.user_id_group_pairs()
            .iter()
            .for_each(|g| push(g.group_id(), g.description()));
        p.prefix_list_ids()
            .iter()
            .for_each(|l| push(l.prefix_list_id(), l.description()));
    }
    rules.sort();
    rules.dedup();
    rules
}

fn permission(rule: &Rule) -> IpPermission {
    let mut builder = IpPermission::builder().ip_protocol(&rule.protocol);
    if rule.protocol != "-1" {
        builder = builder.from_port(rule.from_port).to_port(rule.to_port);
    }
    let description = rule.description.clone();
    if rule.peer_is_group() {
        builder = builder.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(&rule.peer)
                .set_description(description)
                .build(),
        );
    } else if rule.peer.contains(':') {
        builder = builder.ipv6_ranges(
            Ipv6Range::builder()
                .cidr_ipv6(&rule.peer)
                .set_description(description)
                .build(),
        );
    } else {
        builder = builder.ip_ranges(
            IpRange::builder()
                .cidr_ip(&rule.peer)
                .set_description(description)
                .build(),
        );
    }
    builder.build()
}

fn observed_of(group: &SecurityGroup) -> SecurityGroupConfig {
    SecurityGroupConfig {
        name: group.group_name().unwrap_or_default().to_string(),
        description: group.description().unwrap_or_default().to_string(),
        vpc: group.vpc_id().unwrap_or_default().to_string(),
        ingress: rules_of(group.ip_permissions()),
        egress: rules_of(group.ip_permissions_egress()),
        tags: tags::from_ec2(group.tags()),
    }
}

pub async fn read(ctx: &Ctx, id: &str) -> Result<Option<Observed>, DriverError> {
    Ok(describe(ctx, id).await?.map(|group| Observed {
        config: encode(&observed_of(&group)),
        outputs: group_outputs(&group, &ctx.aws.region),
    }))
}

pub async fn find(ctx: &Ctx, prior: &ResourceState) -> Result<Option<String>, DriverError> {
    let Some(name) = &prior.physical_name else {
        return Ok(None);
    };
    let groups = ctx
        .aws
        .ec2
        .describe_security_groups()
        .filters(Filter::builder().name("group-name").values(name).build())
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
        .send()
        .await
        .map_err(|e| DriverError::from_sdk("DescribeSecurityGroups", e))?;
    Ok(groups
        .security_groups()
        .first()
        .and_then(|g| g.group_id())
        .map(str::to_string))
}

pub async fn create(ctx: &Ctx, desired: &Json) -> Result<Created, DriverError> {
    let config = config_of(desired)?;
    let created = ctx
        .aws
        .ec2
        .create_security_group()
        .group_name(&config.name)
        .description(&config.description)
        .vpc_id(&config.vpc)
        .tag_specifications(tags::specification(
            ResourceType::SecurityGroup,
            &config.tags,
        ))
        .send()
        .await
        .map_err(|e| DriverError::from_sdk("CreateSecurityGroup", e))?;
    let id = created.group_id().unwrap_or_default().to_string();
    ctx.created(&id);
    // A new group has no inbound rules (only one allowing all outbound traffic): the inbound rules
    // are authorized while the group is described for its outbound ones, one round trip sooner.
    let (group, ingress) = tokio::join!(
        describe(ctx, &id),
        sync_rules(ctx, &id, Direction::Ingress, &[], &config.ingress)
    );
    ingress?;
    let group = group?.ok_or_else(|| {
        DriverError::Invalid(format!("security group {id} vanished right after creation"))
    })?;
    let observed = observed_of(&group);
    sync_rules(
        ctx,
        &id,
        Direction::Egress,
        &observed.egress,
        &config.egress,
    )
    .await?;
    Ok(Created {
        id,
        outputs: group_outputs(&group, &ctx.aws.region),
    })
}

pub async fn update(
    ctx: &Ctx,
    id: &str,
    observed: &Json,
    desired: &Json,
) -> Result<Map<String, Json>, DriverError> {
    let (observed, desired) = (config_of(observed)?, config_of(desired)?);
    sync_rules(
        ctx,
        id,
        Direction::Ingress,
        &observed.ingress,
        &desired.ingress,
    )
    .await?;
    sync_rules(
        ctx,
        id,
        Direction::Egress,
        &observed.egress,
        &desired.egress,
    )
    .await?;
    tags::sync_ec2(ctx, id, &observed.tags, &desired.tags).await?;
    let group = describe(ctx, id)
        .await?
        .ok_or_else(|| DriverError::Invalid(format!("security group {id} no longer exists")))?;
    Ok(group_outputs(&group, &ctx.aws.region))
}

/// Authorizes the rules that are missing and revokes those no longer wanted. New rules go first, so
/// traffic the file allows is never cut off while a rule moves (to a replaced group, say); a rule
/// whose description alone changed is revoked first and re-added, as AWS refuses a duplicate.
async fn sync_rules(
    ctx: &Ctx,
    id: &str,
    direction: Direction,
    observed: &[Rule],
    desired: &[Rule],
) -> Result<(), DriverError> {
    let same_traffic = |a: &Rule, b: &Rule| {
        (&a.protocol, a.from_port, a.to_port, &a.peer)
            == (&b.protocol, b.from_port, b.to_port, &b.peer)
    };
    let stale: Vec<&Rule> = observed.iter().filter(|r| !desired.contains(r)).collect();
    let missing: Vec<&Rule> = desired.iter().filter(|r| !observed.contains(r)).collect();
    let (redescribed, new): (Vec<&Rule>, Vec<&Rule>) = missing
        .into_iter()
        .partition(|r| stale.iter().any(|s| same_traffic(r, s)));
    change_rules(ctx, id, direction, true, &new).await?;
    change_rules(ctx, id, direction, false, &stale).await?;
    change_rules(ctx, id, direction, true, &redescribed).await
}

/// Authorizes (`add`) or revokes `rules` in one call.
async fn change_rules(
    ctx: &Ctx,
    id: &str,
    direction: Direction,
    add: bool,
    rules: &[&Rule],
) -> Result<(), DriverError> {
    if rules.is_empty() {
        return Ok(());
    }
    let permissions: Option<Vec<IpPermission>> =
        Some(rules.iter().map(|r| permission(r)).collect());
    let ec2 = &ctx.aws.ec2;
    let (operation, sent) = match (direction, add) {
        (Direction::Ingress, true) => (
            "AuthorizeSecurityGroupIngress",
            ec2.authorize_security_group_ingress()
                .group_id(id)
                .set_ip_permissions(permissions)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| DriverError::from_sdk("AuthorizeSecurityGroupIngress", e)),
        ),
        (Direction::Egress, true) => (
            "AuthorizeSecurityGroupEgress",
            ec2.authorize_security_group_egress()
                .group_id(id)
                .set_ip_permissions(permissions)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| DriverError::from_sdk("AuthorizeSecurityGroupEgress", e)),
        ),
        (Direction::Ingress, false) => (
            "RevokeSecurityGroupIngress",
            ec2.revoke_security_group_ingress()
                .group_id(id)
                .set_ip_permissions(permissions)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| DriverError::from_sdk("RevokeSecurityGroupIngress", e)),
        ),
        (Direction::Egress, false) => (
            "RevokeSecurityGroupEgress",
            ec2.revoke_security_group_egress()
                .group_id(id)
                .set_ip_permissions(permissions)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| DriverError::from_sdk("RevokeSecurityGroupEgress", e)),
        ),
    };
    tracing::debug!(operation, group = id, rules = rules.len(), "rules changed");
    sent
}

/// Deletes the group, retrying while something still uses it (a network interface AWS has not released
/// yet after an instance or cache node went away, or another group's rule) and saying what holds it.
pub async fn delete(ctx: &Ctx, id: &str) -> Result<(), DriverError> {
    wait::until(
        ctx,
        &format!("security group {id} to be released and deleted"),
        || async {
            match ctx
                .aws
                .ec2
                .delete_security_group()
                .group_id(id)
                .send()
                .await
            {
                Ok(_) => Ok(Poll::Done(())),
                Err(e) => {
                    let error = DriverError::from_sdk("DeleteSecurityGroup", e);
                    if error.is_code(&["InvalidGroup.NotFound"]) {
                        Ok(Poll::Done(()))
                    } else if error.is_code(&["DependencyViolation"]) {
                        Ok(Poll::Pending(format!(
                            "DependencyViolation: {}",
                            holders(ctx, id, error.message()).await
                        )))
                    } else {
                        Err(error)
                    }
                }
            }
        },
    )
    .await
}

/// Names what keeps a group from being deleted: network interfaces (and their instances) and groups whose rules point at it.
/// Network interfaces AWS manages for a database or cache may not be listed; AWS's own message then says.
async fn holders(ctx: &Ctx, id: &str, aws_says: &str) -> String {
    let mut found = Vec::new();
    if let Ok(out) = ctx
        .aws
        .ec2
        .describe_network_interfaces()
        .filters(Filter::builder().name("group-id").values(id).build())
        .send()
        .await
    {
        for eni in out.network_interfaces() {
            let owner = eni
                .attachment()
                .and_then(|a| a.instance_id())
                .map(|i| format!(" ({i})"))
                .unwrap_or_default();
            found.push(format!(
                "{}{owner}",
                eni.network_interface_id().unwrap_or("?")
            ));
        }
    }
    for filter in ["ip-permission.group-id", "egress.ip-permission.group-id"] {
        if let Ok(out) = ctx
            .aws
            .ec2
            .describe_security_groups()
            .filters(Filter::builder().name(filter).values(id).build())
            .send()
            .await
        {
            for group in out
                .security_groups()
                .iter()
                .filter(|g| g.group_id() != Some(id))
            {
                found.push(format!("rules of {}", group.group_id().unwrap_or("?")));
            }
        }
    }
    if found.is_empty() {
        format!("{aws_says}; waiting for AWS to release it")
    } else {
        format!("held by {}", found.join(", "))
    }
}

impl Driver for crate::resources::security_group::SecurityGroup {
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
