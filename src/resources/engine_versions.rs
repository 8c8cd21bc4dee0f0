//! Engine versions: the families AWS offers per engine, known without calling AWS, and how a version
//! the file writes matches one AWS lists.
//!
//! The families are checked offline so `validate` catches `"99.9"` or MySQL `"5.1"`; the exact
//! version is checked at plan time against the service's own list (Describe*EngineVersions), which
//! also knows the minor versions and anything AWS adds after this release of stackctl.

use crate::model::value::Node;
use indexmap::IndexMap;

/// The service whose engine versions apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    Rds,
    Elasticache,
    Memorydb,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Rds => "RDS",
            Service::Elasticache => "ElastiCache",
            Service::Memorydb => "MemoryDB",
        }
    }
}

/// One engine of one service: what a version is checked against.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Engine {
    pub service: Service,
    pub name: String,
}

/// Major versions (families) per service and engine, as AWS offers them in standard or extended
/// support. A version matches a family when it is the family or starts with it and a dot.
const FAMILIES: &[(Service, &str, &[&str])] = &[
    (Service::Rds, "mysql", &["5.7", "8.0", "8.4"]),
    (
        Service::Rds,
        "mariadb",
        &["10.5", "10.6", "10.11", "11.4", "11.8"],
    ),
    (
        Service::Rds,
        "postgres",
        &["11", "12", "13", "14", "15", "16", "17", "18"],
    ),
    (
        Service::Elasticache,
        "redis",
        &["4.0", "5.0", "6.0", "6.2", "7.0", "7.1"],
    ),
    (Service::Elasticache, "valkey", &["7.2", "8.0", "8.1"]),
    (Service::Memorydb, "redis", &["6.2", "7.0", "7.1"]),
    (Service::Memorydb, "valkey", &["7.2", "7.3"]),
];

/// The engine a resource of `service` runs: its `engine`, or the service's default.
pub fn engine(service: Service, config: &IndexMap<String, Node>, default: &str) -> Engine {
    let name = config
        .get("engine")
        .and_then(Node::as_literal_str)
        .unwrap_or_else(|| default.to_string());
    Engine { service, name }
}

/// The families AWS offers for an engine (empty for an engine the file's own checks refuse).
pub fn families(engine: &Engine) -> &'static [&'static str] {
    FAMILIES
        .iter()
        .find(|(service, name, _)| *service == engine.service && *name == engine.name)
        .map(|(_, _, families)| *families)
        .unwrap_or(&[])
}

/// Whether `offered`, a version AWS lists, is what the file's `wanted` asks for: the same version,
/// or a version of the family `wanted` names (`8.0` asks for the current `8.0.x`).
pub fn matches(offered: &str, wanted: &str) -> bool {
    crate::model::fields::version_satisfies(offered, wanted)
}

/// Whether going from `from` to `to` changes the family (`8.0` to `8.4`): RDS makes such an
/// upgrade only when asked with AllowMajorVersionUpgrade.
pub fn is_major_upgrade(engine: &Engine, from: &str, to: &str) -> bool {
    let family = |version: &str| families(engine).iter().find(|f| matches(version, f));
    family(from) != family(to)
}

/// When `version` is not of a family AWS offers for `engine`: the families it does offer.
pub fn offline_problem(engine: &Engine, version: &str) -> Option<String> {
    let families = families(engine);
    if families.is_empty() || families.iter().any(|family| matches(version, family)) {
        return None;
    }
    Some(families.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(service: Service, name: &str) -> Engine {
        Engine {
            service,
            name: name.into(),
        }
    }

    #[test]
    fn families_accept_their_minor_versions_only() {
        let mysql = engine(Service::Rds, "mysql");
        assert_eq!(offline_problem(&mysql, "8.0"), None);
        assert_eq!(offline_problem(&mysql, "8.0.39"), None);
        assert!(offline_problem(&mysql, "5.1").is_some());
        assert!(offline_problem(&mysql, "8.01").is_some());
        let redis = engine(Service::Elasticache, "redis");
        assert_eq!(
            offline_problem(&redis, "99.9").as_deref(),
            Some("4.0, 5.0, 6.0, 6.2, 7.0, 7.1")
        );
        assert_eq!(
            offline_problem(&engine(Service::Rds, "postgres"), "16.3"),
            None
        );
        assert!(offline_problem(&engine(Service::Memorydb, "redis"), "7.2").is_some());
    }

    #[test]
    fn a_change_of_family_is_a_major_upgrade() {
        let mysql = engine(Service::Rds, "mysql");
        assert!(is_major_upgrade(&mysql, "8.0.39", "8.4"));
        assert!(!is_major_upgrade(&mysql, "8.0.36", "8.0.39"));
        let postgres = engine(Service::Rds, "postgres");
        assert!(is_major_upgrade(&postgres, "16.3", "17.1"));
        assert!(!is_major_upgrade(&postgres, "16.3", "16.4"));
    }

    #[test]
    fn a_family_matches_the_versions_aws_lists_for_it() {
        assert!(matches("8.0.39", "8.0"));
        assert!(matches("7.1", "7.1"));
        assert!(!matches("10.11.8", "10.1"));
        assert!(!matches("7.1.0", "7.1.1"));
    }
}
