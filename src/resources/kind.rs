//! What a resource type is without AWS: one implementation per kind, listed once in the registry
//! ([`super::with_kinds`]).

use super::engine_versions::Engine;
use super::{KindSpec, NormalizeContext};
use crate::diagnostics::{Diagnostic, Span};
use crate::model::value::Node;
use indexmap::IndexMap;
use serde_json::Value as Json;

pub trait Kind {
    /// Fields with their types and docs, outputs, naming rule and default timeouts.
    fn spec() -> &'static KindSpec;

    /// The configuration in canonical form: defaults filled in, sets sorted, aliases expanded, so
    /// that comparing it with what AWS reports shows only real differences.
    fn normalize(config: Json, context: &NormalizeContext) -> Result<Json, String>;

    /// Rules across fields that the field table cannot say (one way to make a password, no shards
    /// without cluster mode). Checked by `validate`, before any AWS call.
    fn check(_rules: &mut Rules<'_>) {}

    /// Whether a missing `subnets` means the private subnets of the stack's VPC lookup.
    fn defaults_to_private_subnets() -> bool {
        false
    }

    /// The engine whose versions `engine_version` must be one of, for kinds that have one.
    fn engine(_config: &IndexMap<String, Node>) -> Option<Engine> {
        None
    }
}

/// One resource of the file, as its kind's rules see it, and where their problems go.
pub struct Rules<'a> {
    pub name: &'a str,
    /// Where the resource's key is in the file.
    pub key_span: &'a Span,
    pub config: &'a IndexMap<String, Node>,
    pub diagnostics: &'a mut Vec<Diagnostic>,
}

impl Rules<'_> {
    pub fn error(&mut self, span: Span, message: impl Into<String>, help: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::error(message).at(span).help(help));
    }

    /// A problem with the resource as a whole, shown at its key.
    pub fn error_at_key(&mut self, message: impl Into<String>, help: impl Into<String>) {
        let span = self.key_span.clone();
        self.error(span, message, help);
    }

    /// A boolean field as written, when it is a literal.
    pub fn flag(&self, field: &str) -> Option<bool> {
        match self.config.get(field).map(|n| &n.value) {
            Some(crate::model::value::Value::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    /// A whole-number field as written, when it is a literal.
    pub fn int(&self, field: &str) -> Option<i64> {
        match self.config.get(field).map(|n| &n.value) {
            Some(crate::model::value::Value::Int(n)) => Some(*n),
            _ => None,
        }
    }
}
