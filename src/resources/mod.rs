//! The resource types stackctl manages: their fields, their outputs, and how a desired configuration is put
//! into the canonical form that is compared with what AWS reports. Pure: no AWS here.

pub mod canonical;
pub mod ec2_instance;
pub mod elasticache_cluster;
pub mod engine_versions;
pub mod iam_role;
pub mod memorydb;
pub mod rds_instance;
pub mod replication_group;
pub mod secret;
pub mod security_group;
pub mod subnet_group;
pub mod vpc;

use crate::model::fields::Field;
use crate::model::names::NameRule;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResourceKind {
    Vpc,
    SecurityGroup,
    IamRole,
    Ec2Instance,
    ElasticacheSubnetGroup,
    RdsSubnetGroup,
    MemorydbSubnetGroup,
    ElasticacheCluster,
    RdsInstance,
    Secret,
    MemorydbUser,
    MemorydbAcl,
    MemorydbCluster,
    ElasticacheReplicationGroup,
}

/// An attribute a resource exposes to references, such as `${web_sg.id}`.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub name: &'static str,
    pub list: bool,
    pub doc: &'static str,
}

impl Output {
    pub const fn scalar(name: &'static str, doc: &'static str) -> Output {
        Output {
            name,
            list: false,
            doc,
        }
    }

    pub const fn list(name: &'static str, doc: &'static str) -> Output {
        Output {
            name,
            list: true,
            doc,
        }
    }
}

/// Everything stackctl knows about one resource type, independent of AWS.
#[derive(Debug)]
pub struct KindSpec {
    pub kind: ResourceKind,
    pub type_name: &'static str,
    pub doc: &'static str,
    pub fields: &'static [Field],
    pub outputs: &'static [Output],
    /// Looked up, never created or deleted (the VPC).
    pub lookup: bool,
    /// The rule for the `name` field, when the type has one; unnamed resources get a deterministic name.
    pub name_rule: Option<NameRule>,
    /// Default create, update and delete timeouts in seconds.
    pub timeouts: [u64; 3],
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 14] = [
        ResourceKind::Vpc,
        ResourceKind::SecurityGroup,
        ResourceKind::IamRole,
        ResourceKind::Ec2Instance,
        ResourceKind::ElasticacheSubnetGroup,
        ResourceKind::RdsSubnetGroup,
        ResourceKind::MemorydbSubnetGroup,
        ResourceKind::ElasticacheCluster,
        ResourceKind::RdsInstance,
        ResourceKind::Secret,
        ResourceKind::MemorydbUser,
        ResourceKind::MemorydbAcl,
        ResourceKind::MemorydbCluster,
        ResourceKind::ElasticacheReplicationGroup,
    ];

    pub fn spec(self) -> &'static KindSpec {
        match self {
            ResourceKind::Vpc => &vpc::SPEC,
            ResourceKind::SecurityGroup => &security_group::SPEC,
            ResourceKind::IamRole => &iam_role::SPEC,
            ResourceKind::Ec2Instance => &ec2_instance::SPEC,
            ResourceKind::ElasticacheSubnetGroup => &subnet_group::ELASTICACHE_SPEC,
            ResourceKind::RdsSubnetGroup => &subnet_group::RDS_SPEC,
            ResourceKind::MemorydbSubnetGroup => &subnet_group::MEMORYDB_SPEC,
            ResourceKind::ElasticacheCluster => &elasticache_cluster::SPEC,
            ResourceKind::RdsInstance => &rds_instance::SPEC,
            ResourceKind::Secret => &secret::SPEC,
            ResourceKind::MemorydbUser => &memorydb::USER_SPEC,
            ResourceKind::MemorydbAcl => &memorydb::ACL_SPEC,
            ResourceKind::MemorydbCluster => &memorydb::CLUSTER_SPEC,
            ResourceKind::ElasticacheReplicationGroup => &replication_group::SPEC,
        }
    }

    pub fn type_name(self) -> &'static str {
        self.spec().type_name
    }

    pub fn from_type_name(name: &str) -> Option<ResourceKind> {
        Self::ALL.into_iter().find(|k| k.type_name() == name)
    }

    pub fn output(self, name: &str) -> Option<&'static Output> {
        self.spec().outputs.iter().find(|o| o.name == name)
    }

    pub fn field(self, name: &str) -> Option<&'static Field> {
        self.spec().fields.iter().find(|f| f.name == name)
    }

    /// Puts a resolved configuration into canonical form: defaults filled in, sets sorted, aliases expanded,
    /// so that comparing it with what AWS reports shows only real differences.
    pub fn normalize(self, config: Json, context: &NormalizeContext) -> Result<Json, String> {
        match self {
            ResourceKind::Vpc => vpc::normalize(config),
            ResourceKind::SecurityGroup => security_group::normalize(config),
            ResourceKind::IamRole => iam_role::normalize(config, context),
            ResourceKind::Ec2Instance => ec2_instance::normalize(config),
            ResourceKind::ElasticacheSubnetGroup
            | ResourceKind::RdsSubnetGroup
            | ResourceKind::MemorydbSubnetGroup => subnet_group::normalize(config),
            ResourceKind::ElasticacheCluster => elasticache_cluster::normalize(config),
            ResourceKind::RdsInstance => rds_instance::normalize(config),
            ResourceKind::Secret => secret::normalize(config),
            ResourceKind::ElasticacheReplicationGroup => replication_group::normalize(config),
            ResourceKind::MemorydbUser
            | ResourceKind::MemorydbAcl
            | ResourceKind::MemorydbCluster => memorydb::normalize(self, config),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_and_found_by_its_type_name() {
        for kind in ResourceKind::ALL {
            assert_eq!(ResourceKind::from_type_name(kind.type_name()), Some(kind));
            assert_eq!(kind.spec().kind, kind);
        }
        let json = serde_json::to_string(&ResourceKind::ALL).unwrap();
        let names: Vec<String> = ResourceKind::ALL
            .iter()
            .map(|k| format!("\"{}\"", k.type_name()))
            .collect();
        assert_eq!(
            json,
            format!("[{}]", names.join(",")),
            "serde names match type names"
        );
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.type_name())
    }
}

/// Facts normalization needs beyond the configuration itself.
#[derive(Debug, Clone)]
pub struct NormalizeContext {
    pub partition: String,
}

/// The AWS partition a region belongs to, for building ARNs without asking AWS.
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else {
        "aws"
    }
}

/// The tags every created resource carries: the stack's, the resource's own, and the two that let stackctl
/// (and anyone auditing the account) find what belongs to which stack and resource.
pub fn merged_tags(
    stack: &str,
    resource: &str,
    stack_tags: &BTreeMap<String, String>,
    resource_tags: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut tags = stack_tags.clone();
    tags.extend(resource_tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    tags.insert(TAG_STACK.to_string(), stack.to_string());
    tags.insert(TAG_RESOURCE.to_string(), resource.to_string());
    tags
}

pub const TAG_STACK: &str = "stackctl:stack";
pub const TAG_RESOURCE: &str = "stackctl:resource";
/// The lineage of the state that created a resource. stackctl adopts, changes and deletes only what
/// carries its own state's lineage (or what that state recorded by id); it is kept out of plans and
/// recorded configurations because it is ownership, not configuration.
pub const TAG_LINEAGE: &str = "stackctl:lineage";

/// Reads a typed configuration out of its JSON form, with a message naming the resource type.
pub fn decode<T: serde::de::DeserializeOwned>(
    kind: ResourceKind,
    config: &Json,
) -> Result<T, String> {
    serde_json::from_value(config.clone()).map_err(|e| format!("invalid {kind} configuration: {e}"))
}

/// A JSON object as a map of strings; non-string values are written out as JSON text.
pub fn string_map(value: Option<&Json>) -> BTreeMap<String, String> {
    value
        .and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn encode<T: Serialize>(value: &T) -> Json {
    serde_json::to_value(value).unwrap_or(Json::Null)
}
