//! `vpc` lookup: finds the VPC and classifies its subnets as public (route table sends 0.0.0.0/0 to an
//! internet gateway) or private. Subnets with no explicit association use the VPC's main route table.

use super::driver::Driver;
use super::{Ctx, DriverError, Observed, ec2_filter, outputs};
use crate::resources::vpc::{VpcConfig, VpcSelector};
use crate::resources::{ResourceKind, decode};
use aws_sdk_ec2::types::RouteTable;
use serde_json::{Value as Json, json};
use std::collections::{BTreeSet, HashMap};

pub async fn lookup(ctx: &Ctx, config: &Json) -> Result<Observed, DriverError> {
    let selector: VpcConfig = decode(ResourceKind::Vpc, config).map_err(DriverError::Invalid)?;
    let request = ctx.aws.ec2.describe_vpcs();
    let (request, description) = match &selector.select {
        VpcSelector::Id(id) => (request.vpc_ids(id), format!("id {id}")),
        VpcSelector::Name(name) => (
            request.filters(ec2_filter("tag:Name", &[name])),
            format!("Name tag `{name}`"),
        ),
        VpcSelector::Default => (
            request.filters(ec2_filter("is-default", &["true"])),
            "default: true".to_string(),
        ),
    };
    let vpcs = request
        .send()
        .await
        .map_err(|e| DriverError::from_sdk("DescribeVpcs", e))?
        .vpcs
        .unwrap_or_default();
    let vpc = match vpcs.as_slice() {
        [vpc] => vpc,
        [] => {
            return Err(DriverError::Invalid(format!(
                "no VPC with {description} in {}: check the region, or select the VPC by `id`",
                ctx.aws.region
            )));
        }
        many => {
            let ids: Vec<&str> = many.iter().filter_map(|v| v.vpc_id()).collect();
            return Err(DriverError::Invalid(format!(
                "{} VPCs match {description} ({}): select one by `id`",
                many.len(),
                ids.join(", ")
            )));
        }
    };
    let vpc_id = vpc.vpc_id().unwrap_or_default().to_string();
    // Both need only the VPC id: asked together, one round trip.
    let (subnets, tables) = tokio::join!(
        ctx.aws
            .ec2
            .describe_subnets()
            .filters(ec2_filter("vpc-id", &[&vpc_id]))
            .send(),
        ctx.aws
            .ec2
            .describe_route_tables()
            .filters(ec2_filter("vpc-id", &[&vpc_id]))
            .send()
    );
    let subnets = subnets
        .map_err(|e| DriverError::from_sdk("DescribeSubnets", e))?
        .subnets
        .unwrap_or_default();
    let tables = tables
        .map_err(|e| DriverError::from_sdk("DescribeRouteTables", e))?
        .route_tables
        .unwrap_or_default();
    let mut table_of_subnet: HashMap<String, bool> = HashMap::new();
    let mut main_is_public = false;
    for table in &tables {
        let public = routes_to_internet(table);
        for association in table.associations() {
            if association.main().unwrap_or(false) {
                main_is_public = public;
            }
            if let Some(subnet) = association.subnet_id() {
                table_of_subnet.insert(subnet.to_string(), public);
            }
        }
    }
    let mut public = Vec::new();
    let mut private = Vec::new();
    let mut azs = BTreeSet::new();
    for subnet in &subnets {
        let id = subnet.subnet_id().unwrap_or_default().to_string();
        let az = subnet.availability_zone().unwrap_or_default().to_string();
        azs.insert(az.clone());
        let is_public = table_of_subnet.get(&id).copied().unwrap_or(main_is_public);
        if is_public {
            public.push((az, id))
        } else {
            private.push((az, id))
        }
    }
    public.sort();
    private.sort();
    let ids = |list: Vec<(String, String)>| {
        Json::Array(list.into_iter().map(|(_, id)| Json::String(id)).collect())
    };
    Ok(Observed {
        config: config.clone(),
        outputs: outputs(&[
            ("id", json!(vpc_id)),
            ("cidr", json!(vpc.cidr_block().unwrap_or_default())),
            ("public_subnets", ids(public)),
            ("private_subnets", ids(private)),
            ("azs", json!(azs.into_iter().collect::<Vec<_>>())),
            ("owner_id", json!(vpc.owner_id().unwrap_or_default())),
        ]),
    })
}

fn routes_to_internet(table: &RouteTable) -> bool {
    table.routes().iter().any(|route| {
        route.destination_cidr_block() == Some("0.0.0.0/0")
            && route.gateway_id().is_some_and(|g| g.starts_with("igw-"))
    })
}

impl Driver for crate::resources::vpc::Vpc {
    async fn lookup(
        ctx: &super::Ctx,
        config: &serde_json::Value,
    ) -> Result<super::Observed, super::DriverError> {
        lookup(ctx, config).await
    }

    async fn read(
        ctx: &super::Ctx,
        id: &str,
        prior: &crate::state::ResourceState,
    ) -> Result<Option<super::Observed>, super::DriverError> {
        let _ = (ctx, id, prior);
        Ok(None)
    }

    async fn find(
        ctx: &super::Ctx,
        prior: &crate::state::ResourceState,
    ) -> Result<Option<String>, super::DriverError> {
        let _ = (ctx, prior);
        Ok(None)
    }

    async fn create(
        ctx: &super::Ctx,
        desired: &serde_json::Value,
        payload: &super::Payload,
        token: &str,
    ) -> Result<super::Created, super::DriverError> {
        let _ = (ctx, desired, payload, token);
        Err(super::DriverError::Invalid(
            "a vpc is looked up, never created".into(),
        ))
    }

    async fn update(
        ctx: &super::Ctx,
        id: &str,
        observed: &serde_json::Value,
        desired: &serde_json::Value,
        payload: &super::Payload,
    ) -> Result<serde_json::Map<String, serde_json::Value>, super::DriverError> {
        let _ = (ctx, id, observed, desired, payload);
        Err(super::DriverError::Invalid(
            "a vpc is looked up, never changed".into(),
        ))
    }

    async fn delete(
        ctx: &super::Ctx,
        id: &str,
        prior: &crate::state::ResourceState,
    ) -> Result<(), super::DriverError> {
        let _ = (ctx, id, prior);
        Ok(())
    }
}
