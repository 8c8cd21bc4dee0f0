//! `vpc`: looks up an existing VPC by id, by `Name` tag, or the account's default VPC. Never created or deleted.

use super::{Kind, NormalizeContext, Rules};
use super::{KindSpec, Output, Replaced, ResourceKind};
use crate::model::fields::{Check, Field, Ty};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

pub const SPEC: KindSpec = KindSpec {
    kind: ResourceKind::Vpc,
    arn_type: None,
    replaced: Replaced::DeleteFirst,
    unique_names: None,
    sweep_wave: 3,
    type_name: "vpc",
    doc: "Looks up an existing VPC (by `id`, by `name` tag, or the default VPC) and its public and private subnets.",
    fields: &[
        Field::optional("id", Ty::Str(Check::Any), "The VPC id, such as `vpc-0abc`."),
        Field::optional(
            "name",
            Ty::Str(Check::Any),
            "The value of the VPC's `Name` tag.",
        ),
        Field::optional(
            "default",
            Ty::Bool,
            "Use the account's default VPC (the choice when neither `id` nor `name` is given).",
        ),
    ],
    outputs: &[
        Output::scalar("id", "The VPC id."),
        Output::scalar("cidr", "The VPC's primary IPv4 CIDR block."),
        Output::list(
            "public_subnets",
            "Subnets whose route table sends 0.0.0.0/0 to an internet gateway, ordered by AZ.",
        ),
        Output::list("private_subnets", "All other subnets, ordered by AZ."),
        Output::list("azs", "The availability zones the VPC's subnets are in."),
        Output::scalar("owner_id", "The account that owns the VPC."),
    ],
    lookup: true,
    name_rule: None,
    timeouts: [60, 60, 60],
};

/// How to find the VPC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VpcSelector {
    Id(String),
    Name(String),
    Default,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VpcConfig {
    pub select: VpcSelector,
}

pub fn normalize(config: Json) -> Result<Json, String> {
    let select = if let Some(id) = config.get("id").and_then(Json::as_str) {
        VpcSelector::Id(id.to_string())
    } else if let Some(name) = config.get("name").and_then(Json::as_str) {
        VpcSelector::Name(name.to_string())
    } else {
        VpcSelector::Default
    };
    Ok(super::encode(&VpcConfig { select }))
}

/// The `vpc` kind: looked up, never created.
pub struct Vpc;

impl Kind for Vpc {
    fn spec() -> &'static KindSpec {
        &SPEC
    }

    fn normalize(config: Json, _: &NormalizeContext) -> Result<Json, String> {
        normalize(config)
    }

    fn check(rules: &mut Rules<'_>) {
        let given: Vec<&str> = ["id", "name", "default"]
            .into_iter()
            .filter(|k| rules.config.contains_key(*k))
            .collect();
        if given.len() > 1 {
            let message = format!(
                "vpc `{}` sets {}: choose one way to find the VPC",
                rules.name,
                given.join(" and ")
            );
            rules.error_at_key(message, "keep only one of `id`, `name` or `default`");
        }
    }
}
