//! Compares a desired configuration with the observed one, field by field.

use super::{Action, Change};
use crate::model::fields::{Check, Ty, version_satisfies};
use crate::resolve::is_fully_known;
use crate::resources::ResourceKind;
use serde_json::Value as Json;

/// The changes between `observed` and `desired` (both canonical), and whether they need a replacement.
pub fn diff(kind: ResourceKind, observed: &Json, desired: &Json) -> (Action, Vec<Change>) {
    let mut changes = Vec::new();
    let empty = serde_json::Map::new();
    let desired_fields = desired.as_object().unwrap_or(&empty);
    let observed_fields = observed.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = desired_fields
        .keys()
        .chain(observed_fields.keys())
        .collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let before = observed_fields.get(key).filter(|v| !v.is_null());
        // A field the file leaves unset (and normalization gives no default) is AWS's to choose.
        let Some(after) = desired_fields.get(key).filter(|v| !v.is_null()) else {
            continue;
        };
        if before == Some(after) && is_fully_known(after) {
            continue;
        }
        // `8.0` is met by the `8.0.43` AWS runs.
        if let (Some(field), Some(running), Some(wanted)) = (
            kind.field(key),
            before.and_then(Json::as_str),
            after.as_str(),
        ) && matches!(field.ty, Ty::Str(Check::Version))
            && version_satisfies(running, wanted)
        {
            continue;
        }
        let forces_replacement = kind.field(key).is_some_and(|f| f.replaces);
        changes.push(Change {
            attribute: key.clone(),
            before: before.cloned(),
            after: Some(after.clone()),
            forces_replacement,
        });
    }
    let action = if changes.is_empty() {
        Action::NoOp
    } else if changes.iter().any(|c| c.forces_replacement) {
        Action::Replace
    } else {
        Action::Update
    };
    (action, changes)
}

/// A change AWS refuses: a number that can only grow asked to shrink, or a version asked to go
/// back. Says what and what to do.
pub fn refused(kind: ResourceKind, changes: &[Change]) -> Option<String> {
    changes.iter().find_map(|change| {
        let field = kind.field(&change.attribute).filter(|f| f.only_grows)?;
        let (before, after) = (change.before.as_ref()?, change.after.as_ref()?);
        if let (Some(before), Some(after)) = (before.as_i64(), after.as_i64()) {
            return (after < before).then(|| {
                format!(
                    "`{}` can only grow: AWS cannot lower it from {before} to {after}. Keep {before} or more; to shrink, create a new {kind} and move the data",
                    field.name
                )
            });
        }
        let (before, after) = (before.as_str()?, after.as_str()?);
        (version_parts(after)? < version_parts(before)?).then(|| {
            format!(
                "`{}` can only be upgraded: AWS cannot go back from {before} to {after} (AWS may have applied a minor upgrade itself). Write {before} or later; to go back, restore a snapshot into a new {kind}",
                field.name
            )
        })
    })
}

/// `8.0.39` as numbers, for comparing versions; `None` when a part is not a number.
fn version_parts(version: &str) -> Option<Vec<u64>> {
    version.split('.').map(|part| part.parse().ok()).collect()
}

/// Every attribute of a resource about to be created, as changes from nothing.
pub fn creation(desired: &Json) -> Vec<Change> {
    desired
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| Change {
            attribute: k.clone(),
            before: None,
            after: Some(v.clone()),
            forces_replacement: false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn change(attribute: &str, before: Json, after: Json) -> Change {
        Change {
            attribute: attribute.into(),
            before: Some(before),
            after: Some(after),
            forces_replacement: false,
        }
    }

    #[test]
    fn engine_versions_only_go_up() {
        let kind = ResourceKind::RdsInstance;
        let down = [change("engine_version", json!("8.0.43"), json!("5.7"))];
        assert!(refused(kind, &down).unwrap().contains("from 8.0.43 to 5.7"));
        let up = [change("engine_version", json!("8.0"), json!("8.4"))];
        assert_eq!(refused(kind, &up), None);
        let minor = [change("engine_version", json!("7.1.0"), json!("7.0"))];
        assert!(refused(ResourceKind::ElasticacheCluster, &minor).is_some());
        let storage = [change("allocated_storage", json!(30), json!(20))];
        assert!(refused(kind, &storage).is_some());
    }

    #[test]
    fn a_version_family_is_met_by_the_version_aws_runs() {
        let kind = ResourceKind::RdsInstance;
        let running = json!({ "engine_version": "8.0.43" });
        assert!(
            diff(kind, &running, &json!({ "engine_version": "8.0" }))
                .1
                .is_empty()
        );
        assert!(
            diff(kind, &running, &json!({ "engine_version": "8.0.43" }))
                .1
                .is_empty()
        );
        let (_, pinned) = diff(kind, &running, &json!({ "engine_version": "8.0.36" }));
        assert!(
            refused(kind, &pinned)
                .unwrap()
                .contains("from 8.0.43 to 8.0.36")
        );
        let (_, major) = diff(kind, &running, &json!({ "engine_version": "8.4" }));
        assert_eq!(major.len(), 1);
        assert_eq!(refused(kind, &major), None);
    }
    use crate::resolve::unknown;

    #[test]
    fn rule_changes_are_updates_and_name_changes_replace() {
        let observed = json!({ "name": "a", "ingress": [1], "vpc": "v" });
        let (action, changes) = diff(
            ResourceKind::SecurityGroup,
            &observed,
            &json!({ "name": "a", "ingress": [1, 2], "vpc": "v" }),
        );
        assert_eq!(action, Action::Update);
        assert_eq!(changes.len(), 1);
        let (action, changes) = diff(
            ResourceKind::SecurityGroup,
            &observed,
            &json!({ "name": "b", "ingress": [1], "vpc": "v" }),
        );
        assert_eq!(action, Action::Replace);
        assert!(changes[0].forces_replacement);
        assert_eq!(
            diff(ResourceKind::SecurityGroup, &observed, &observed).0,
            Action::NoOp
        );
    }

    #[test]
    fn unknown_values_count_as_changes() {
        let (action, _) = diff(
            ResourceKind::Ec2Instance,
            &json!({ "subnet": "s" }),
            &json!({ "subnet": unknown("vpc.id") }),
        );
        assert_eq!(action, Action::Replace);
    }
}
