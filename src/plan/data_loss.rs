//! What a delete or a replacement destroys. A plan that removes a resource holding data says so, and
//! says what remains afterwards, before anything is asked of AWS.

use super::DataLoss;
use crate::resources::ResourceKind;
use serde_json::Value as Json;

/// The data lost by deleting a resource recorded with `config`, or `None` when it holds no data (or
/// nothing is deleted, as with `removal_policy: retain`). `final_snapshot` names the snapshot a
/// database with `removal_policy: snapshot` leaves.
pub fn assess(kind: ResourceKind, config: &Json, final_snapshot: Option<&str>) -> Option<DataLoss> {
    let text = |key: &str| config.get(key).and_then(Json::as_str);
    let lost = |what: &str, remains: String| {
        Some(DataLoss {
            what: what.to_string(),
            remains,
            final_snapshot: None,
        })
    };
    match kind {
        ResourceKind::Vpc
        | ResourceKind::SecurityGroup
        | ResourceKind::IamRole
        | ResourceKind::Ec2Instance
        | ResourceKind::ElasticacheSubnetGroup
        | ResourceKind::RdsSubnetGroup
        | ResourceKind::MemorydbSubnetGroup
        | ResourceKind::MemorydbUser
        | ResourceKind::MemorydbAcl => None,
        ResourceKind::ElasticacheCluster | ResourceKind::ElasticacheReplicationGroup => lost(
            "every key in the cache",
            "nothing: no final snapshot is taken".into(),
        ),
        ResourceKind::MemorydbCluster => lost(
            "the cluster's data",
            "nothing: no final snapshot is taken (automatic snapshots are deleted with the cluster)"
                .into(),
        ),
        ResourceKind::Secret => {
            let days = config
                .get("recovery_window_days")
                .and_then(Json::as_i64)
                .unwrap_or(30);
            let remains = if days == 0 {
                "nothing: deleted at once (recovery_window_days: 0)".to_string()
            } else {
                format!("nothing after {days} days; until then `aws secretsmanager restore-secret` brings it back")
            };
            lost("the secret's value", remains)
        }
        ResourceKind::RdsInstance => {
            let secret = text("password_secret");
            match text("removal_policy").unwrap_or("snapshot") {
                "retain" => None,
                "destroy" => lost(
                    "the database and its data",
                    match secret {
                        Some(s) => format!("nothing: no final snapshot; the secret `{s}` is deleted too"),
                        None => "nothing: no final snapshot".into(),
                    },
                ),
                _ => {
                    let snapshot = final_snapshot.unwrap_or("<id>-final-<time>").to_string();
                    let remains = match secret {
                        Some(s) => format!("the final snapshot `{snapshot}`, and the secret `{s}` with its credentials"),
                        None => format!("the final snapshot `{snapshot}`"),
                    };
                    Some(DataLoss {
                        what: "the database (its data is kept in a final snapshot)".into(),
                        remains,
                        final_snapshot: Some(snapshot),
                    })
                }
            }
        }
    }
}

/// A final snapshot identifier unique per deletion: a stack torn down twice gets two snapshots, never
/// `DBSnapshotAlreadyExists`. The UTC time to the millisecond; letters, digits and single hyphens, as
/// RDS requires.
pub fn final_snapshot_name(identifier: &str, at: jiff::Timestamp) -> String {
    format!(
        "{identifier}-final-{}{:03}",
        at.strftime("%Y%m%d%H%M%S"),
        at.subsec_millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn databases_say_what_remains_and_groups_hold_no_data() {
        let at: jiff::Timestamp = "2026-12-01T21:30:05.042Z".parse().unwrap();
        let name = final_snapshot_name("demo-db", at);
        assert_eq!(name, "demo-db-final-20261201213005042");
        let loss = assess(
            ResourceKind::RdsInstance,
            &json!({ "removal_policy": "snapshot", "password_secret": "demo/db" }),
            Some(&name),
        )
        .unwrap();
        assert_eq!(loss.final_snapshot.as_deref(), Some(name.as_str()));
        assert!(loss.remains.contains("demo/db"), "{}", loss.remains);
        assert!(
            assess(
                ResourceKind::RdsInstance,
                &json!({ "removal_policy": "destroy" }),
                None
            )
            .unwrap()
            .remains
            .starts_with("nothing")
        );
        assert!(
            assess(
                ResourceKind::RdsInstance,
                &json!({ "removal_policy": "retain" }),
                None
            )
            .is_none()
        );
        assert!(assess(ResourceKind::SecurityGroup, &json!({}), None).is_none());
        assert!(assess(ResourceKind::ElasticacheCluster, &json!({}), None).is_some());
    }
}
