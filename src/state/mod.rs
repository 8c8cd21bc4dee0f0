//! What stackctl has created: one versioned JSON document per stack, written after every change.
//! It holds ids, names, configuration and outputs — never a secret value.

pub mod journal;
pub mod local;
pub mod location;
pub mod lock;
pub mod resources;
pub mod store;

pub use resources::Resources;

use crate::resources::ResourceKind;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// The state document layout version; a newer stackctl upgrades older documents, an older one refuses newer ones.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct State {
    pub format_version: u32,
    pub stack: String,
    pub region: String,
    /// Random id given when the state is first written; tells two stacks of the same name apart.
    pub lineage: String,
    /// Incremented on every write.
    pub serial: u64,
    pub resources: Resources,
    /// What this state created and then left in AWS on purpose (`removal_policy: retain`): no longer
    /// managed, and not mistaken for something the state lost track of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retained: Vec<AwsId>,
}

/// A resource in AWS by kind and the id stackctl records for it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct AwsId {
    #[serde(rename = "type")]
    pub kind: ResourceKind,
    pub id: String,
}

/// Where a resource is in its life, as far as stackctl knows.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A create call is about to be made or was made; the resource may or may not exist.
    /// The next run looks for it by its deterministic name and tags before creating anything.
    Creating,
    /// The resource exists with the recorded id.
    Created,
    /// A delete was started; the next run finishes it.
    Deleting,
    /// An update was started; until it succeeds the next run finishes it (an instance stopped to
    /// change its type is started again, a modification still in progress is waited for).
    Updating,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResourceState {
    #[serde(rename = "type")]
    pub kind: ResourceKind,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The name the resource has (or will have) in AWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_name: Option<String>,
    /// The idempotency token of the create call, reused if that call has to be repeated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    /// What this resource needed when it was created: `down` deletes in reverse without the stack file.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// The configuration last applied, in canonical form.
    #[serde(default)]
    pub config: Json,
    #[serde(default)]
    pub outputs: serde_json::Map<String, Json>,
    /// Longest wait for deletion, in seconds, so `down` honours the file's timeouts even without the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_timeout_secs: Option<u64>,
    /// The final snapshot a delete takes, recorded before the delete call so an interrupted delete
    /// is finished under the same name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_snapshot: Option<String>,
    /// Adopted with `stackctl import`: taken over whatever lineage it carries, until the next
    /// update tags it with this state's.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub imported: bool,
    pub updated_at: jiff::Timestamp,
}

/// Who a run works for: the stack's name and the lineage of its state. Two states of one stack name
/// (two folders, a lost file) have different lineages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub stack: String,
    pub lineage: String,
}

impl ResourceState {
    /// The AWS resources this entry stands for: its own id (or, before the id is known, its name)
    /// and the secret a database generates its password into.
    pub fn aws_ids(&self) -> Vec<AwsId> {
        let mut ids: Vec<AwsId> = self
            .id
            .iter()
            .chain(self.physical_name.iter())
            .map(|id| AwsId {
                kind: self.kind,
                id: id.clone(),
            })
            .collect();
        if self.kind == ResourceKind::RdsInstance
            && let Some(secret) = self.config.get("password_secret").and_then(Json::as_str)
        {
            ids.push(AwsId {
                kind: ResourceKind::Secret,
                id: secret.to_string(),
            });
        }
        ids
    }
}

impl ResourceState {
    /// What deleting this resource leaves in AWS on purpose: the credentials secret a database's
    /// final snapshot needs.
    pub fn left_behind(&self) -> Vec<AwsId> {
        let policy = self
            .config
            .get("removal_policy")
            .and_then(Json::as_str)
            .unwrap_or("snapshot");
        match self.config.get("password_secret").and_then(Json::as_str) {
            Some(secret) if self.kind == ResourceKind::RdsInstance && policy != "destroy" => {
                vec![AwsId {
                    kind: ResourceKind::Secret,
                    id: secret.to_string(),
                }]
            }
            _ => Vec::new(),
        }
    }
}

impl State {
    pub fn owner(&self) -> Owner {
        Owner {
            stack: self.stack.clone(),
            lineage: self.lineage.clone(),
        }
    }

    pub fn new(stack: &str, region: &str) -> State {
        State {
            format_version: FORMAT_VERSION,
            stack: stack.to_string(),
            region: region.to_string(),
            lineage: uuid::Uuid::new_v4().to_string(),
            serial: 0,
            resources: Resources::default(),
            retained: Vec::new(),
        }
    }

    /// Names of resources that exist (or may exist) in AWS, as opposed to lookups.
    /// Renames a resource's key, and every recorded dependency on it. AWS is not asked anything.
    pub fn rename(&mut self, from: &str, to: &str) -> bool {
        if self.resources.contains_key(to) {
            return false;
        }
        let Some(entry) = self.resources.remove(from) else {
            return false;
        };
        self.resources.insert(to.to_string(), entry);
        self.resources.update_where(
            |entry| entry.depends_on.iter().any(|d| d == from),
            |entry| {
                for dependency in &mut entry.depends_on {
                    if dependency == from {
                        *dependency = to.to_string();
                    }
                }
            },
        );
        true
    }

    /// Swaps the entries of `a` and `b` (a resource and the one it replaced, waiting under its deposed
    /// key). Whatever depended on either may use either in AWS until it is updated, so it now depends
    /// on both.
    pub fn swap(&mut self, a: &str, b: &str) {
        let (Some(first), Some(second)) = (self.resources.remove(a), self.resources.remove(b))
        else {
            return;
        };
        self.resources.insert(a.to_string(), second);
        self.resources.insert(b.to_string(), first);
        let uses = |entry: &ResourceState, key: &str| entry.depends_on.iter().any(|d| d == key);
        self.resources.update_where(
            |entry| uses(entry, a) != uses(entry, b),
            |entry| {
                let missing = if uses(entry, a) { b } else { a };
                entry.depends_on.push(missing.to_string());
            },
        );
    }

    pub fn managed(&self) -> impl Iterator<Item = (&String, &ResourceState)> {
        self.resources.iter().filter(|(_, r)| !r.kind.spec().lookup)
    }
}
