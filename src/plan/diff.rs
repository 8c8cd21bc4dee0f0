//! Compares a desired configuration with the observed one, field by field.

use super::{Action, Change};
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

/// A change AWS refuses: a number that can only grow, asked to shrink. Says what and what to do.
pub fn refused(kind: ResourceKind, changes: &[Change]) -> Option<String> {
    changes.iter().find_map(|change| {
        let field = kind.field(&change.attribute).filter(|f| f.only_grows)?;
        let before = change.before.as_ref()?.as_i64()?;
        let after = change.after.as_ref()?.as_i64()?;
        (after < before).then(|| {
            format!(
                "`{}` can only grow: AWS cannot lower it from {before} to {after}. Keep {before} or more; to shrink, create a new {kind} and move the data",
                field.name
            )
        })
    })
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
    use crate::resolve::unknown;
    use serde_json::json;

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
