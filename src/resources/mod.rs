//! The resource types stackctl manages: their fields, their outputs, and how a desired configuration is put
//! into the canonical form that is compared with what AWS reports. Pure: no AWS here.

pub mod canonical;
pub mod ec2_instance;
pub mod elasticache_cluster;
pub mod engine_versions;
pub mod iam_role;
pub mod kind;
pub mod memorydb;
pub mod rds_instance;
pub mod replication_group;
pub mod secret;
pub mod security_group;
pub mod subnet_group;
pub mod vpc;

use crate::model::fields::Field;
use crate::model::names::NameRule;
use crate::model::value::Node;
use indexmap::IndexMap;
pub use kind::{Kind, Rules};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::fmt;

/// The one list of resource kinds: `Variant => module::Type`, where `Type` implements [`Kind`]
/// (and, with the AWS drivers, `aws::Driver`). The enum, the list of all kinds and every dispatch
/// from a kind to its implementation are generated from this list, so adding a kind is a module and
/// one line here; the compiler then names every trait method the new kind must provide.
macro_rules! with_kinds {
    ($then:ident) => {
        $then! {
            Vpc => vpc::Vpc,
            SecurityGroup => security_group::SecurityGroup,
            IamRole => iam_role::IamRole,
            Ec2Instance => ec2_instance::Ec2Instance,
            ElasticacheSubnetGroup => subnet_group::ElasticacheSubnetGroup,
            RdsSubnetGroup => subnet_group::RdsSubnetGroup,
            MemorydbSubnetGroup => subnet_group::MemorydbSubnetGroup,
            ElasticacheCluster => elasticache_cluster::ElasticacheCluster,
            RdsInstance => rds_instance::RdsInstance,
            Secret => secret::Secret,
            MemorydbUser => memorydb::MemorydbUser,
            MemorydbAcl => memorydb::MemorydbAcl,
            MemorydbCluster => memorydb::MemorydbCluster,
            ElasticacheReplicationGroup => replication_group::ElasticacheReplicationGroup,
        }
    };
}
pub(crate) use with_kinds;

macro_rules! define_kinds {
    ($($variant:ident => $module:ident :: $kind:ident,)*) => {
        /// A resource type. Its serde name (kebab-case) is the `type:` of the stack file and the
        /// name the state records.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "kebab-case")]
        pub enum ResourceKind {
            $($variant,)*
        }

        impl ResourceKind {
            pub const ALL: [ResourceKind; [$(stringify!($variant),)*].len()] = [$(ResourceKind::$variant,)*];

            pub fn spec(self) -> &'static KindSpec {
                match self {
                    $(ResourceKind::$variant => <$module::$kind as Kind>::spec(),)*
                }
            }

            /// Puts a resolved configuration into canonical form: defaults filled in, sets sorted,
            /// aliases expanded, so that comparing it with what AWS reports shows only real differences.
            pub fn normalize(self, config: Json, context: &NormalizeContext) -> Result<Json, String> {
                match self {
                    $(ResourceKind::$variant => <$module::$kind as Kind>::normalize(config, context),)*
                }
            }

            /// The kind's rules across fields.
            pub fn check(self, rules: &mut Rules<'_>) {
                match self {
                    $(ResourceKind::$variant => <$module::$kind as Kind>::check(rules),)*
                }
            }

            /// Whether a missing `subnets` means the private subnets of the stack's VPC lookup.
            pub fn defaults_to_private_subnets(self) -> bool {
                match self {
                    $(ResourceKind::$variant => <$module::$kind as Kind>::defaults_to_private_subnets(),)*
                }
            }

            /// The engine whose versions apply, for kinds with an `engine_version`.
            pub fn engine(self, config: &IndexMap<String, Node>) -> Option<engine_versions::Engine> {
                match self {
                    $(ResourceKind::$variant => <$module::$kind as Kind>::engine(config),)*
                }
            }
        }
    };
}
with_kinds!(define_kinds);

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
    /// How a replacement goes: the new one first while dependents move, or (for what holds data:
    /// two databases side by side would split writes) the old one deleted first.
    pub replaced: Replaced,
    /// The AWS namespace in which names of this kind are unique, if they must be.
    pub unique_names: Option<Namespace>,
    /// When `sweep` deletes it: every kind of one wave goes before the next wave starts.
    pub sweep_wave: u8,
    /// The service and resource type in its ARNs (`ec2`, `security-group`), by which a tag query's
    /// answer is sorted into kinds; `None` for what the tag query never returns.
    pub arn_type: Option<(&'static str, &'static str)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replaced {
    CreateFirst,
    DeleteFirst,
}

/// An AWS namespace of unique names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Namespace {
    /// How messages name it (`security group`, `ElastiCache cluster`).
    pub name: &'static str,
    /// Whether AWS compares names in it without regard to case.
    pub ignores_case: bool,
}

impl Namespace {
    pub const fn exact(name: &'static str) -> Option<Namespace> {
        Some(Namespace {
            name,
            ignores_case: false,
        })
    }

    pub const fn ignoring_case(name: &'static str) -> Option<Namespace> {
        Some(Namespace {
            name,
            ignores_case: true,
        })
    }
}

impl ResourceKind {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project_file(path: &str) -> String {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
            .unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The README documents every kind of the registry, and every field of each, in the section
    /// whose heading names it; and documents no field the kind does not have.
    #[test]
    fn the_readme_documents_every_kind_and_field_of_the_registry() {
        let readme = project_file("README.md");
        let sections: Vec<(&str, &str)> = readme
            .split("\n### ")
            .skip(1)
            .map(|s| s.split_once('\n').unwrap_or((s, "")))
            .map(|(heading, body)| (heading, body.split("\n## ").next().unwrap_or(body)))
            .collect();
        let mut problems = Vec::new();
        for kind in ResourceKind::ALL {
            let spec = kind.spec();
            let quoted = format!("`{}`", spec.type_name);
            let Some((heading, body)) = sections.iter().find(|(h, _)| h.contains(&quoted)) else {
                panic!("README.md has no `### ...{quoted}...` section");
            };
            // A section may document several kinds (the three subnet groups): a field of any.
            let section_kinds: Vec<&KindSpec> = ResourceKind::ALL
                .iter()
                .map(|k| k.spec())
                .filter(|s| heading.contains(&format!("`{}`", s.type_name)))
                .collect();
            for field in spec.fields {
                if !body.contains(&format!("`{}`", field.name)) {
                    problems.push(format!("{quoted}: `{}` is not documented", field.name));
                }
            }
            // The first cell of each table row names fields: each must exist.
            for line in body.lines().filter(|l| l.starts_with("| `")) {
                let cell = line.split('|').nth(1).unwrap_or("");
                for name in cell.split('`').skip(1).step_by(2) {
                    if !section_kinds
                        .iter()
                        .any(|s| s.fields.iter().any(|f| f.name == name))
                    {
                        problems.push(format!(
                            "{quoted}: `{name}` is documented but no such field"
                        ));
                    }
                }
            }
        }
        assert!(
            problems.is_empty(),
            "README.md, field tables:\n{}",
            problems.join("\n")
        );
    }

    /// The plan's JSON Schema lists exactly the registry's kinds.
    #[test]
    fn the_plan_schema_lists_the_registry_kinds() {
        let schema: Json = serde_json::from_str(&project_file("schemas/plan.schema.json")).unwrap();
        let listed: Vec<&str> = schema["$defs"]["kind"]["enum"]
            .as_array()
            .map(|a| a.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        let registry: Vec<&str> = ResourceKind::ALL.iter().map(|k| k.type_name()).collect();
        assert_eq!(listed, registry, "schemas/plan.schema.json `kind` enum");
    }

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
