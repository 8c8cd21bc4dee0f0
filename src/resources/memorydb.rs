//! MemoryDB for Redis as the primary database: `memorydb-user`, `memorydb-acl`, `memorydb-cluster`.

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

pub const USER_SPEC: KindSpec = KindSpec {
    kind: ResourceKind::MemorydbUser,
    arn_type: Some(("memorydb", "user")),
    replaced: Replaced::CreateFirst,
    unique_names: Namespace::ignoring_case("MemoryDB user"),
    sweep_wave: 2,
    type_name: "memorydb-user",
    doc: "A MemoryDB user whose password comes from a Secrets Manager secret.",
    fields: &[
        Field::optional(
            "name",
            Ty::Str(Check::Name(NameRule::DataName)),
            "User name; defaults to `<stack>-<resource>`.",
        )
        .forces_replacement(),
        Field::optional(
            "access_string",
            Ty::Str(Check::Any),
            "Redis ACL rules; default `on ~* &* +@all`.",
        ),
        Field::required(
            "password_secret",
            Ty::Str(Check::Any),
            "ARN or name of the secret holding the password (a plain string, or JSON with a `password` key), e.g. `${app_password.arn}`.",
        ),
    ],
    outputs: &[
        Output::scalar("name", "The user name."),
        Output::scalar("arn", "The user ARN."),
    ],
    lookup: false,
    name_rule: Some(NameRule::DataName),
    timeouts: [300, 300, 300],
};

pub const ACL_SPEC: KindSpec = KindSpec {
    kind: ResourceKind::MemorydbAcl,
    arn_type: Some(("memorydb", "acl")),
    replaced: Replaced::CreateFirst,
    unique_names: Namespace::ignoring_case("MemoryDB ACL"),
    sweep_wave: 1,
    type_name: "memorydb-acl",
    doc: "A MemoryDB access control list: the users a cluster accepts.",
    fields: &[
        Field::optional(
            "name",
            Ty::Str(Check::Name(NameRule::DataName)),
            "ACL name; defaults to `<stack>-<resource>`.",
        )
        .forces_replacement(),
        Field::optional(
            "users",
            Ty::List(&Ty::Str(Check::Any)),
            "User names, e.g. `${app_user.name}`.",
        ),
    ],
    outputs: &[
        Output::scalar("name", "The ACL name."),
        Output::scalar("arn", "The ACL ARN."),
    ],
    lookup: false,
    name_rule: Some(NameRule::DataName),
    timeouts: [300, 300, 300],
};

pub const CLUSTER_SPEC: KindSpec = KindSpec {
    kind: ResourceKind::MemorydbCluster,
    arn_type: Some(("memorydb", "cluster")),
    replaced: Replaced::DeleteFirst,
    unique_names: Namespace::ignoring_case("MemoryDB cluster"),
    sweep_wave: 0,
    type_name: "memorydb-cluster",
    doc: "A MemoryDB cluster: shards with replicas, TLS, snapshots. Waits until available.",
    fields: &[
        Field::optional("name", Ty::Str(Check::Name(NameRule::DataName)), "Cluster name; defaults to `<stack>-<resource>`.").forces_replacement(),
        Field::required("node_type", Ty::Str(Check::Any), "Such as `db.r6g.large`; changed in place."),
        Field::optional("shards", Ty::Int { min: 1, max: 500 }, "Number of shards (default 1); changed in place."),
        Field::optional("replicas_per_shard", Ty::Int { min: 0, max: 5 }, "Replicas in each shard (default 1); changed in place."),
        Field::optional("engine", Ty::Str(Check::OneOf(ENGINES)), "`redis` (default) or `valkey`.").forces_replacement(),
        Field::optional("engine_version", Ty::Str(Check::Version), "Such as `7.1`; upgraded in place, never downgraded.").only_grows(),
        Field::optional("port", Ty::Int { min: 1024, max: 65535 }, "Default 6379.").forces_replacement(),
        Field::optional("parameter_group", Ty::Str(Check::Any), "Parameter group name."),
        Field::required("acl", Ty::Str(Check::Any), "ACL name, e.g. `${app_acl.name}` (or `open-access`)."),
        Field::required("subnet_group", Ty::Str(Check::Any), "Usually `${db_subnets.name}`.").forces_replacement(),
        Field::optional("security_groups", Ty::List(&Ty::Str(Check::Any)), "Security group ids."),
        Field::optional("tls", Ty::Bool, "Encryption in transit (default true).").forces_replacement(),
        Field::optional("snapshot_retention", Ty::Int { min: 0, max: 35 }, "Days to keep daily snapshots (default 0)."),
        Field::optional("snapshot_window", Ty::Str(Check::Any), "Daily snapshot window, such as `05:00-06:00` (UTC)."),
        Field::optional("maintenance_window", Ty::Str(Check::Any), "Weekly window, such as `sun:23:00-mon:01:30` (UTC)."),
        Field::optional("sns_topic_arn", Ty::Str(Check::Any), "SNS topic for cluster events."),
        Field::optional(
            "restore_from",
            Ty::List(&Ty::Str(Check::Any)),
            "Snapshot ARNs to seed the cluster from, such as an RDB file in S3 (`arn:aws:s3:::bucket/dump.rdb`).",
        )
        .forces_replacement(),
    ],
    outputs: &[
        Output::scalar("id", "The cluster name."),
        Output::scalar("arn", "The cluster ARN."),
        Output::scalar("address", "The cluster endpoint address."),
        Output::scalar("port", "The cluster endpoint port."),
    ],
    lookup: false,
    name_rule: Some(NameRule::DataName),
    timeouts: [2700, 2700, 1800],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemorydbUserConfig {
    pub name: String,
    pub access_string: String,
    pub password_secret: String,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemorydbAclConfig {
    pub name: String,
    pub users: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemorydbClusterConfig {
    pub name: String,
    pub node_type: String,
    pub shards: i32,
    pub replicas_per_shard: i32,
    pub engine: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    pub port: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter_group: Option<String>,
    pub acl: String,
    pub subnet_group: String,
    /// Left out: AWS's to choose (the VPC's default group), never compared or stripped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_groups: Option<Vec<String>>,
    pub tls: bool,
    pub snapshot_retention: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_window: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_window: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sns_topic_arn: Option<String>,
    pub restore_from: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

/// The `memorydb-user` kind.
pub struct MemorydbUser;

impl Kind for MemorydbUser {
    fn spec() -> &'static KindSpec {
        &USER_SPEC
    }

    fn normalize(config: Json, _: &NormalizeContext) -> Result<Json, String> {
        let canonical = Canonical {
            defaults: &[("access_string", json!("on ~* &* +@all"))],
            sets: &[],
            lowercase: &["name"],
        };
        Ok(canonical.apply(config))
    }
}

/// The `memorydb-acl` kind.
pub struct MemorydbAcl;

impl Kind for MemorydbAcl {
    fn spec() -> &'static KindSpec {
        &ACL_SPEC
    }

    fn normalize(config: Json, _: &NormalizeContext) -> Result<Json, String> {
        let canonical = Canonical {
            defaults: &[("users", json!([]))],
            sets: &["users"],
            lowercase: &["name"],
        };
        Ok(canonical.apply(config))
    }
}

/// The `memorydb-cluster` kind.
pub struct MemorydbCluster;

impl Kind for MemorydbCluster {
    fn spec() -> &'static KindSpec {
        &CLUSTER_SPEC
    }

    fn normalize(config: Json, _: &NormalizeContext) -> Result<Json, String> {
        let canonical = Canonical {
            defaults: &[
                ("shards", json!(1)),
                ("replicas_per_shard", json!(1)),
                ("engine", json!("redis")),
                ("port", json!(6379)),
                ("tls", json!(true)),
                ("snapshot_retention", json!(0)),
                ("restore_from", json!([])),
            ],
            sets: &["security_groups"],
            lowercase: &["name", "subnet_group"],
        };
        Ok(canonical.apply(config))
    }

    fn engine(config: &IndexMap<String, Node>) -> Option<Engine> {
        Some(engine_versions::engine(Service::Memorydb, config, "redis"))
    }
}
