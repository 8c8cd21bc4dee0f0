//! `elasticache-replication-group`: what a single cache cluster cannot do — replicas with automatic
//! failover, cluster mode (shards), encryption in transit and at rest, and an AUTH token kept in
//! Secrets Manager.

use super::canonical::Canonical;
use super::engine_versions::{self, Engine, Service};
use super::{Kind, NormalizeContext, Rules};
use super::{KindSpec, Namespace, Output, Replaced, ResourceKind};
use crate::model::fields::{Check, Field, Ty};
use crate::model::names::NameRule;
use crate::model::value::Node;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

pub const SPEC: KindSpec = KindSpec {
    kind: ResourceKind::ElasticacheReplicationGroup,
    arn_type: Some(("elasticache", "replicationgroup")),
    replaced: Replaced::DeleteFirst,
    // Cache clusters and replication groups share ElastiCache's cluster ids.
    unique_names: Namespace::ignoring_case("ElastiCache cluster"),
    sweep_wave: 0,
    type_name: "elasticache-replication-group",
    doc: "An ElastiCache replication group: replicas, failover, cluster mode, encryption, AUTH token.",
    fields: &[
        Field::optional(
            "name",
            Ty::Str(Check::Name(NameRule::DataName)),
            "Group id; defaults to `<stack>-<resource>` (lower case).",
        )
        .forces_replacement(),
        Field::optional(
            "description",
            Ty::Str(Check::Any),
            "Default `Managed by stackctl`; changed in place.",
        ),
        Field::optional(
            "engine",
            Ty::Str(Check::OneOf(super::elasticache_cluster::ENGINES)),
            "`redis` (default) or `valkey`.",
        )
        .forces_replacement(),
        Field::optional(
            "engine_version",
            Ty::Str(Check::Any),
            "Upgraded in place, never downgraded.",
        )
        .only_grows(),
        Field::required(
            "node_type",
            Ty::Str(Check::Any),
            "Such as `cache.r6g.large`; changed in place.",
        ),
        Field::optional(
            "replicas",
            Ty::Int { min: 0, max: 5 },
            "Read replicas per shard (default 1); changed in place.",
        ),
        Field::optional(
            "cluster_mode",
            Ty::Bool,
            "Shard the keyspace (default false).",
        )
        .forces_replacement(),
        Field::optional(
            "shards",
            Ty::Int { min: 1, max: 500 },
            "Shards in cluster mode (default 1); changed in place.",
        ),
        Field::optional(
            "automatic_failover",
            Ty::Bool,
            "Promote a replica when the primary fails (default: on when there are replicas).",
        ),
        Field::optional(
            "transit_encryption",
            Ty::Bool,
            "TLS between clients and nodes (default true).",
        )
        .forces_replacement(),
        Field::optional(
            "at_rest_encryption",
            Ty::Bool,
            "Encrypt data on disk (default true).",
        )
        .forces_replacement(),
        Field::optional(
            "auth_token_secret",
            Ty::Str(Check::Any),
            "ARN or name of a secret holding the Redis AUTH token (a string, or JSON with `password`); needs transit encryption.",
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
            "Days to keep automatic snapshots (default 0).",
        ),
        Field::optional(
            "snapshot_window",
            Ty::Str(Check::Any),
            "Daily snapshot window (UTC).",
        ),
        Field::optional(
            "maintenance_window",
            Ty::Str(Check::Any),
            "Weekly maintenance window (UTC).",
        ),
    ],
    outputs: &[
        Output::scalar("id", "The replication group id."),
        Output::scalar("arn", "The replication group ARN."),
        Output::scalar("primary_address", "Where writes go (not in cluster mode)."),
        Output::scalar(
            "reader_address",
            "Where reads are spread over the replicas (not in cluster mode).",
        ),
        Output::scalar("configuration_address", "The cluster-mode endpoint."),
        Output::scalar("port", "The port."),
    ],
    lookup: false,
    name_rule: Some(NameRule::DataName),
    timeouts: [2400, 2400, 1800],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicationGroupConfig {
    pub name: String,
    pub description: String,
    pub engine: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    pub node_type: String,
    pub replicas: i32,
    pub cluster_mode: bool,
    pub shards: i32,
    pub automatic_failover: bool,
    pub transit_encryption: bool,
    pub at_rest_encryption: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_token_secret: Option<String>,
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
    let replicas = config.get("replicas").and_then(Json::as_i64).unwrap_or(1);
    Ok(Canonical {
        defaults: &[
            ("description", json!("Managed by stackctl")),
            ("engine", json!("redis")),
            ("replicas", json!(replicas)),
            ("cluster_mode", json!(false)),
            ("shards", json!(1)),
            ("automatic_failover", json!(replicas > 0)),
            ("transit_encryption", json!(true)),
            ("at_rest_encryption", json!(true)),
            ("port", json!(6379)),
            ("snapshot_retention", json!(0)),
        ],
        sets: &["security_groups"],
        lowercase: &["name", "subnet_group"],
    }
    .apply(config))
}

/// The `elasticache-replication-group` kind.
pub struct ElasticacheReplicationGroup;

impl Kind for ElasticacheReplicationGroup {
    fn spec() -> &'static KindSpec {
        &SPEC
    }

    fn normalize(config: Json, _: &NormalizeContext) -> Result<Json, String> {
        normalize(config)
    }

    fn check(rules: &mut Rules<'_>) {
        let name = rules.name.to_string();
        if rules.config.contains_key("auth_token_secret")
            && rules.flag("transit_encryption") == Some(false)
        {
            rules.error_at_key(
                format!("`{name}` sets an AUTH token without transit encryption"),
                "ElastiCache accepts an AUTH token only with `transit_encryption: true` (the default)",
            );
        }
        let replicas = rules.int("replicas").unwrap_or(1);
        let shards = rules.int("shards").unwrap_or(1);
        if shards > 1 && rules.flag("cluster_mode") != Some(true) {
            rules.error_at_key(
                format!("`{name}` asks for {shards} shards without cluster mode"),
                "only a cluster-mode group spreads its keys over shards: set `cluster_mode: true`, or leave `shards` out",
            );
        }
        if rules.flag("automatic_failover") == Some(true) && replicas == 0 {
            rules.error_at_key(
                format!("`{name}` asks for automatic failover with no replica to fail over to"),
                "set `replicas: 1` or more, or `automatic_failover: false`",
            );
        }
    }

    fn engine(config: &IndexMap<String, Node>) -> Option<Engine> {
        Some(engine_versions::engine(
            Service::Elasticache,
            config,
            "redis",
        ))
    }
}
