//! `elasticache-cluster`: a Redis (or Valkey) cache cluster — the seed's single-node cache in front of RDS.

use super::canonical::Canonical;
use super::engine_versions::{self, Engine, Service};
use super::{Kind, NormalizeContext};
use super::{KindSpec, Namespace, Output, Replaced, ResourceKind};
use crate::model::fields::{Check, Field, Ty};
use crate::model::names::NameRule;
use crate::model::value::Node;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

pub const ENGINES: &[&str] = &["redis", "valkey"];

pub const SPEC: KindSpec = KindSpec {
    kind: ResourceKind::ElasticacheCluster,
    arn_type: Some(("elasticache", "cluster")),
    replaced: Replaced::DeleteFirst,
    // Cache clusters and replication groups share ElastiCache's cluster ids.
    unique_names: Namespace::ignoring_case("ElastiCache cluster"),
    sweep_wave: 0,
    type_name: "elasticache-cluster",
    doc: "An ElastiCache cluster (Redis or Valkey). Waits until available.",
    fields: &[
        Field::optional(
            "name",
            Ty::Str(Check::Name(NameRule::DataName)),
            "Cluster id; defaults to `<stack>-<resource>` (stored in lower case).",
        )
        .forces_replacement(),
        Field::optional(
            "engine",
            Ty::Str(Check::OneOf(ENGINES)),
            "`redis` (default) or `valkey`.",
        )
        .forces_replacement(),
        Field::optional(
            "engine_version",
            Ty::Str(Check::Version),
            "Such as `7.1`; upgraded in place, never downgraded.",
        )
        .only_grows(),
        Field::required(
            "node_type",
            Ty::Str(Check::Any),
            "Such as `cache.t3.small`; changed in place.",
        ),
        Field::optional(
            "nodes",
            Ty::Int { min: 1, max: 40 },
            "Number of cache nodes (Redis: 1).",
        ),
        Field::optional(
            "port",
            Ty::Int {
                min: 1024,
                max: 65535,
            },
            "Default 6379.",
        )
        .forces_replacement(),
        Field::optional(
            "parameter_group",
            Ty::Str(Check::Any),
            "Cache parameter group name.",
        ),
        Field::required(
            "subnet_group",
            Ty::Str(Check::Any),
            "Usually `${cache_subnets.name}`.",
        )
        .forces_replacement(),
        Field::optional(
            "security_groups",
            Ty::List(&Ty::Str(Check::Any)),
            "Security group ids.",
        ),
        Field::optional(
            "snapshot_retention",
            Ty::Int { min: 0, max: 35 },
            "Days to keep automatic snapshots (0: none).",
        ),
        Field::optional(
            "snapshot_window",
            Ty::Str(Check::Any),
            "Daily snapshot window, such as `05:00-06:00` (UTC).",
        ),
        Field::optional(
            "maintenance_window",
            Ty::Str(Check::Any),
            "Weekly window, such as `sun:06:00-sun:07:00` (UTC).",
        ),
    ],
    outputs: &[
        Output::scalar("id", "The cluster id."),
        Output::scalar("arn", "The cluster ARN."),
        Output::scalar(
            "address",
            "The first node's address: where the application connects.",
        ),
        Output::scalar("port", "The port."),
        Output::list("nodes", "Every node as `address:port`."),
    ],
    lookup: false,
    name_rule: Some(NameRule::DataName),
    timeouts: [1200, 1800, 1200],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElasticacheClusterConfig {
    pub name: String,
    pub engine: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    pub node_type: String,
    pub nodes: i32,
    pub port: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_group: Option<String>,
    pub subnet_group: String,
    /// Left out: AWS's to choose (the VPC's default group), never compared or stripped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_groups: Option<Vec<String>>,
    pub snapshot_retention: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_window: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_window: Option<String>,
    pub tags: BTreeMap<String, String>,
}

pub fn normalize(config: Json) -> Result<Json, String> {
    Ok(Canonical {
        defaults: &[
            ("engine", json!("redis")),
            ("nodes", json!(1)),
            ("port", json!(6379)),
            ("snapshot_retention", json!(0)),
        ],
        sets: &["security_groups"],
        lowercase: &["name", "subnet_group"],
    }
    .apply(config))
}

/// The `elasticache-cluster` kind.
pub struct ElasticacheCluster;

impl Kind for ElasticacheCluster {
    fn spec() -> &'static KindSpec {
        &SPEC
    }

    fn normalize(config: Json, _: &NormalizeContext) -> Result<Json, String> {
        normalize(config)
    }

    fn engine(config: &IndexMap<String, Node>) -> Option<Engine> {
        Some(engine_versions::engine(
            Service::Elasticache,
            config,
            "redis",
        ))
    }
}
