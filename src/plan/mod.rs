//! A plan: for every resource, what `up` or `down` will do and why, attribute by attribute.
//! One value with two renderings: human text and versioned JSON.

pub mod data_loss;
pub mod diff;
pub mod render;
pub mod replacement;
pub mod saved;

use crate::resources::ResourceKind;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// The JSON plan layout version.
pub const PLAN_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// A lookup, read on every run.
    Read,
    Create,
    Update,
    Replace,
    Delete,
    NoOp,
}

impl Action {
    pub fn symbol(self) -> &'static str {
        match self {
            Action::Read => "<=",
            Action::Create => "+",
            Action::Update => "~",
            Action::Replace => "-/+",
            Action::Delete => "-",
            Action::NoOp => " ",
        }
    }

    /// The action in words, as plans and messages say it.
    pub fn word(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "created",
            Action::Update => "updated in place",
            Action::Replace => "replaced",
            Action::Delete => "deleted",
            Action::NoOp => "left unchanged",
        }
    }

    pub fn is_change(self) -> bool {
        matches!(
            self,
            Action::Create | Action::Update | Action::Replace | Action::Delete
        )
    }
}

/// One attribute that differs between what exists and what the file asks for.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Change {
    pub attribute: String,
    pub before: Option<Json>,
    pub after: Option<Json>,
    pub forces_replacement: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ResourcePlan {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ResourceKind,
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Why this action, when it is not evident from the changes (e.g. "deleted outside stackctl").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub changes: Vec<Change>,
    /// Set when the resource's key was renamed (`moved:` or `stackctl state mv`): its key before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<String>,
    /// Set when this step deletes a resource that holds data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_loss: Option<DataLoss>,
    /// How a replacement is carried out (set for `replace` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<Replacement>,
}

/// The order of a replacement, and who moves.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Replacement {
    pub order: ReplaceOrder,
    /// The name the new resource gets beside the old one, when stackctl chose the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_name: Option<String>,
    /// Resources that keep using it: they move to the new one before the old one is deleted
    /// (create first), or stop using it before it is deleted (delete first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moves: Vec<String>,
    /// Users left out of this run (`--target`): the old resource waits in the state (as `<key>~old`)
    /// until a run moves them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReplaceOrder {
    /// The new resource is created, dependents move to it, then the old one is deleted.
    CreateBeforeDestroy,
    /// The old resource is deleted, then the new one created (its name is fixed, or nothing uses it).
    DestroyBeforeCreate,
}

/// What a delete or replacement destroys, and what is left afterwards.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DataLoss {
    pub what: String,
    pub remains: String,
    /// The final snapshot the delete takes, recorded in state before the delete starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_snapshot: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Plan {
    pub format_version: u32,
    pub stack: String,
    pub region: String,
    pub destroy: bool,
    /// In dependency order for `up`, reverse order for `down`.
    pub resources: Vec<ResourcePlan>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
}

impl Plan {
    pub fn new(stack: &str, region: &str, destroy: bool, resources: Vec<ResourcePlan>) -> Plan {
        let mut summary = Summary::default();
        for r in &resources {
            match r.action {
                Action::Create => summary.create += 1,
                Action::Update => summary.update += 1,
                Action::Replace => summary.replace += 1,
                Action::Delete => summary.delete += 1,
                Action::Read | Action::NoOp => {}
            }
        }
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            stack: stack.into(),
            region: region.into(),
            destroy,
            resources,
            summary,
        }
    }

    pub fn has_changes(&self) -> bool {
        self.resources
            .iter()
            .any(|r| r.action.is_change() || r.moved_from.is_some())
    }
}
