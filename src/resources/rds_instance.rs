//! `rds-instance`: an RDS database instance, its master password generated into a named Secrets Manager
//! secret (or managed by RDS). The secret ends up holding everything an application needs to connect.

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

pub const ENGINES: &[&str] = &["mysql", "mariadb", "postgres"];
pub const REMOVAL_POLICIES: &[&str] = &["destroy", "snapshot", "retain"];

pub const SPEC: KindSpec = KindSpec {
    kind: ResourceKind::RdsInstance,
    arn_type: Some(("rds", "db")),
    replaced: Replaced::DeleteFirst,
    unique_names: Namespace::ignoring_case("RDS instance"),
    sweep_wave: 0,
    type_name: "rds-instance",
    doc: "An RDS database instance. Waits until it is available.",
    fields: &[
        Field::optional("name", Ty::Str(Check::Name(NameRule::RdsIdentifier)), "Instance identifier; defaults to `<stack>-<resource>` (lower case).")
            .forces_replacement(),
        Field::optional("engine", Ty::Str(Check::OneOf(ENGINES)), "`mysql` (default), `mariadb` or `postgres`.").forces_replacement(),
        Field::optional("engine_version", Ty::Str(Check::Version), "Such as `8.0`; upgraded in place (major versions too), never downgraded.").only_grows(),
        Field::required("instance_class", Ty::Str(Check::Any), "Such as `db.t3.medium`; changed in place."),
        Field::optional("allocated_storage", Ty::Int { min: 20, max: 65536 }, "GiB; default 20; grows in place, never shrinks.").only_grows(),
        Field::optional("storage_type", Ty::Str(Check::OneOf(&["gp2", "gp3", "io1", "io2", "standard"])), "Default `gp2`."),
        Field::optional("database_name", Ty::Str(Check::Any), "A database created with the instance, such as `covid`.").forces_replacement(),
        Field::optional("port", Ty::Int { min: 1150, max: 65535 }, "Default: the engine's (3306 for MySQL)."),
        Field::optional("master_username", Ty::Str(Check::Any), "Default `admin`.").forces_replacement(),
        Field::optional(
            "password_secret",
            Ty::Str(Check::Any),
            "Name of a Secrets Manager secret to generate the master password into (the CDK's `fromGeneratedSecret`).",
        )
        .forces_replacement(),
        Field::optional("manage_master_password", Ty::Bool, "Let RDS generate and rotate the password in its own secret.")
            .forces_replacement(),
        Field::optional("iam_auth", Ty::Bool, "IAM database authentication (default false)."),
        Field::optional("storage_encrypted", Ty::Bool, "Encrypt storage (default true).").forces_replacement(),
        Field::optional("deletion_protection", Ty::Bool, "Refuse deletion (default false)."),
        Field::optional("publicly_accessible", Ty::Bool, "Reachable from the internet (default false)."),
        Field::optional("backup_retention", Ty::Int { min: 0, max: 35 }, "Days of automated backups (default 1)."),
        Field::required("subnet_group", Ty::Str(Check::Any), "Usually `${db_subnets.name}`.").forces_replacement(),
        Field::optional("security_groups", Ty::List(&Ty::Str(Check::Any)), "Security group ids."),
        Field::optional(
            "removal_policy",
            Ty::Str(Check::OneOf(REMOVAL_POLICIES)),
            "On `down`: `snapshot` (default: a final snapshot `<id>-final-<UTC time>`, named in the plan), `destroy`, or `retain` (left running, dropped from state).",
        ),
    ],
    outputs: &[
        Output::scalar("id", "The instance identifier."),
        Output::scalar("arn", "The instance ARN."),
        Output::scalar("address", "The endpoint address."),
        Output::scalar("port", "The endpoint port."),
        Output::scalar("secret_arn", "ARN of the secret holding the credentials (never the password itself)."),
        Output::scalar("secret_name", "Name of that secret."),
    ],
    lookup: false,
    name_rule: Some(NameRule::RdsIdentifier),
    timeouts: [2400, 2400, 2400],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RdsInstanceConfig {
    pub name: String,
    pub engine: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    pub instance_class: String,
    pub allocated_storage: i32,
    pub storage_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_name: Option<String>,
    pub port: i32,
    pub master_username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_secret: Option<String>,
    pub manage_master_password: bool,
    pub iam_auth: bool,
    pub storage_encrypted: bool,
    pub deletion_protection: bool,
    pub publicly_accessible: bool,
    pub backup_retention: i32,
    pub subnet_group: String,
    /// Left out: AWS's to choose (the VPC's default group), never compared or stripped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_groups: Option<Vec<String>>,
    pub removal_policy: String,
    pub tags: BTreeMap<String, String>,
}

pub fn default_port(engine: &str) -> i64 {
    if engine == "postgres" { 5432 } else { 3306 }
}

pub fn normalize(config: Json) -> Result<Json, String> {
    let engine = config
        .get("engine")
        .and_then(Json::as_str)
        .unwrap_or("mysql")
        .to_string();
    Ok(Canonical {
        defaults: &[
            ("engine", json!(engine)),
            ("allocated_storage", json!(20)),
            ("storage_type", json!("gp2")),
            ("port", json!(default_port(&engine))),
            ("master_username", json!("admin")),
            ("manage_master_password", json!(false)),
            ("iam_auth", json!(false)),
            ("storage_encrypted", json!(true)),
            ("deletion_protection", json!(false)),
            ("publicly_accessible", json!(false)),
            ("backup_retention", json!(1)),
            ("removal_policy", json!("snapshot")),
        ],
        sets: &["security_groups"],
        lowercase: &["name", "subnet_group"],
    }
    .apply(config))
}

/// The `rds-instance` kind.
pub struct RdsInstance;

impl Kind for RdsInstance {
    fn spec() -> &'static KindSpec {
        &SPEC
    }

    fn normalize(config: Json, _: &NormalizeContext) -> Result<Json, String> {
        normalize(config)
    }

    fn check(rules: &mut Rules<'_>) {
        let generated = rules.config.contains_key("password_secret");
        let managed = rules.flag("manage_master_password") == Some(true);
        if generated == managed {
            let message = format!(
                "rds-instance `{}` needs exactly one way to make its master password",
                rules.name
            );
            rules.error_at_key(
                message,
                "set `password_secret: <secret name>` (generated into that secret) or `manage_master_password: true` (managed by RDS)",
            );
        }
    }

    fn engine(config: &IndexMap<String, Node>) -> Option<Engine> {
        Some(engine_versions::engine(Service::Rds, config, "mysql"))
    }
}
