//! The stack file: its model, loading with source locations, variables and references.

pub mod collisions;
pub mod json_schema;
pub mod load;
pub mod variables;
pub mod yaml;

use crate::diagnostics::Span;
pub use crate::model::value::{Node, Value};
use crate::resources::ResourceKind;
use indexmap::IndexMap;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// A validated stack file. Variables are already substituted; references to resources remain.
#[derive(Debug, Clone)]
pub struct Stack {
    pub name: String,
    pub region: Option<String>,
    /// Where the file says its state is kept (`state:`); `--state` wins over it.
    pub state: Option<crate::state::location::StateLocation>,
    pub tags: BTreeMap<String, String>,
    pub resources: IndexMap<String, ResourceDecl>,
    /// Renamed resource keys, oldest first: `moved: { old_key: new_key }`.
    pub moved: Vec<Moved>,
    /// Variable values in effect, after defaults, environment and `--var`.
    pub variables: BTreeMap<String, String>,
    pub path: PathBuf,
    /// The directory relative paths in the file (user data, templates) are resolved against.
    pub dir: PathBuf,
    /// The files the stack was read from, for problems found later (at plan time) to point into.
    pub sources: std::sync::Arc<crate::diagnostics::Sources>,
}

/// A resource key renamed in the file: the state's entry follows it, and AWS is not touched.
#[derive(Debug, Clone)]
pub struct Moved {
    pub from: String,
    pub to: String,
    pub span: Span,
}

/// One entry under `resources:`.
#[derive(Debug, Clone)]
pub struct ResourceDecl {
    pub name: String,
    pub kind: ResourceKind,
    /// Where the resource's key is in the file.
    pub span: Span,
    /// The type-specific fields (and `tags`), with references unresolved.
    pub config: IndexMap<String, Node>,
    pub depends_on: Vec<(String, Span)>,
    pub timeouts: Timeouts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub create: Duration,
    pub update: Duration,
    pub delete: Duration,
}

impl ResourceDecl {
    /// Every resource this one needs to exist first: those it references and those in `depends_on`.
    pub fn dependencies(&self) -> Vec<(String, Span)> {
        let mut deps: Vec<(String, Span)> = Vec::new();
        for node in self.config.values() {
            node.visit_references(&mut |target, span| {
                if let crate::model::template::Target::Resource { name, .. } = target {
                    deps.push((name.clone(), span.clone()));
                }
            });
        }
        deps.extend(self.depends_on.iter().cloned());
        deps
    }

    /// The names of the resources this one needs, each once, sorted: what the state records so
    /// `down` can delete in reverse without the file.
    pub fn needs(&self) -> Vec<String> {
        let names: std::collections::BTreeSet<String> =
            self.dependencies().into_iter().map(|(n, _)| n).collect();
        names.into_iter().collect()
    }
}
