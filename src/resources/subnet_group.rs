//! `elasticache-subnet-group`, `rds-subnet-group`, `memorydb-subnet-group`: the subnets a cache or
//! database may place nodes in. Subnets default to the private subnets of the stack's VPC lookup.

use super::canonical::Canonical;
use super::{Kind, NormalizeContext};
use super::{KindSpec, Namespace, Output, Replaced, ResourceKind};
use crate::model::fields::{Check, Field, Ty};
use crate::model::names::NameRule;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

const FIELDS: &[Field] = &[
    Field::optional(
        "name",
        Ty::Str(Check::Name(NameRule::DataName)),
        "Group name; defaults to `<stack>-<resource>` (stored in lower case).",
    )
    .forces_replacement(),
    Field::optional("description", Ty::Str(Check::Any), "What the group is for."),
    Field::optional(
        "subnets",
        Ty::List(&Ty::Str(Check::Any)),
        "Subnet ids; default: the private subnets of the stack's `vpc` lookup (`${vpc.private_subnets}`).",
    ),
];

const OUTPUTS: &[Output] = &[
    Output::scalar("name", "The group name."),
    Output::scalar("arn", "The group ARN."),
];

const fn spec(
    kind: ResourceKind,
    type_name: &'static str,
    doc: &'static str,
    unique_names: Option<Namespace>,
    arn_type: (&'static str, &'static str),
) -> KindSpec {
    KindSpec {
        kind,
        arn_type: Some(arn_type),
        replaced: Replaced::CreateFirst,
        unique_names,
        sweep_wave: 2,
        type_name,
        doc,
        fields: FIELDS,
        outputs: OUTPUTS,
        lookup: false,
        name_rule: Some(NameRule::DataName),
        timeouts: [300, 300, 600],
    }
}

pub const ELASTICACHE_SPEC: KindSpec = spec(
    ResourceKind::ElasticacheSubnetGroup,
    "elasticache-subnet-group",
    "Subnets an ElastiCache cluster or replication group uses.",
    Namespace::ignoring_case("ElastiCache subnet group"),
    ("elasticache", "subnetgroup"),
);
pub const RDS_SPEC: KindSpec = spec(
    ResourceKind::RdsSubnetGroup,
    "rds-subnet-group",
    "Subnets an RDS instance uses (two AZs at least).",
    Namespace::ignoring_case("RDS subnet group"),
    ("rds", "subgrp"),
);
pub const MEMORYDB_SPEC: KindSpec = spec(
    ResourceKind::MemorydbSubnetGroup,
    "memorydb-subnet-group",
    "Subnets a MemoryDB cluster uses.",
    Namespace::ignoring_case("MemoryDB subnet group"),
    ("memorydb", "subnetgroup"),
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubnetGroupConfig {
    pub name: String,
    pub description: String,
    pub subnets: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

pub fn normalize(config: Json) -> Result<Json, String> {
    Ok(Canonical {
        defaults: &[("description", json!("Managed by stackctl"))],
        sets: &["subnets"],
        lowercase: &["name"],
    }
    .apply(config))
}

macro_rules! subnet_group_kind {
    ($kind:ident, $spec:ident, $doc:literal) => {
        #[doc = $doc]
        pub struct $kind;

        impl Kind for $kind {
            fn spec() -> &'static KindSpec {
                &$spec
            }

            fn normalize(config: Json, _: &NormalizeContext) -> Result<Json, String> {
                normalize(config)
            }

            fn defaults_to_private_subnets() -> bool {
                true
            }
        }
    };
}

subnet_group_kind!(
    ElasticacheSubnetGroup,
    ELASTICACHE_SPEC,
    "The `elasticache-subnet-group` kind."
);
subnet_group_kind!(RdsSubnetGroup, RDS_SPEC, "The `rds-subnet-group` kind.");
subnet_group_kind!(
    MemorydbSubnetGroup,
    MEMORYDB_SPEC,
    "The `memorydb-subnet-group` kind."
);
