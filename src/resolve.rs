//! Turns a resource's configuration into JSON by substituting references with the values other
//! resources expose. Values not known yet (the resource they come from is still to be created) become
//! an `{"$unknown": "<reference>"}` marker, shown in plans as `(known after up)`.

use crate::model::template::{Piece, Target};
use crate::spec::{Node, ResourceDecl, Value};
use serde_json::{Map, Value as Json, json};
use std::collections::HashMap;

pub const UNKNOWN_KEY: &str = "$unknown";

/// What is known so far: each resource's outputs and facts about the account.
#[derive(Debug, Default, Clone)]
pub struct Known {
    pub outputs: HashMap<String, Map<String, Json>>,
    pub account_id: Option<String>,
}

pub fn unknown(reference: &str) -> Json {
    json!({ UNKNOWN_KEY: reference })
}

pub fn is_unknown(value: &Json) -> bool {
    value
        .as_object()
        .is_some_and(|o| o.len() == 1 && o.contains_key(UNKNOWN_KEY))
}

/// True when no part of `value` waits on something unknown.
pub fn is_fully_known(value: &Json) -> bool {
    match value {
        v if is_unknown(v) => false,
        Json::Array(items) => items.iter().all(is_fully_known),
        Json::Object(map) => map.values().all(is_fully_known),
        _ => true,
    }
}

impl Known {
    fn lookup(&self, target: &Target) -> Option<Json> {
        match target {
            Target::Resource {
                name,
                attribute,
                index,
            } => {
                let value = self.outputs.get(name)?.get(attribute)?;
                match index {
                    None => Some(value.clone()),
                    Some(i) => value.as_array()?.get(*i).cloned(),
                }
            }
            Target::Aws(attr) if attr == "account_id" => self.account_id.clone().map(Json::String),
            _ => None,
        }
    }

    pub fn resolve(&self, node: &Node) -> Json {
        match &node.value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(n) => Json::from(*n),
            Value::List(items) => Json::Array(items.iter().map(|i| self.resolve(i)).collect()),
            Value::Map(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.resolve(v)))
                    .collect(),
            ),
            Value::Str(template) => {
                if let Some(reference) = template.sole_reference() {
                    return self
                        .lookup(&reference.target)
                        .unwrap_or_else(|| unknown(&reference.target.to_string()));
                }
                let mut out = String::new();
                for piece in &template.pieces {
                    match piece {
                        Piece::Text(t) => out.push_str(t),
                        Piece::Ref(r) => match self.lookup(&r.target) {
                            Some(Json::String(s)) => out.push_str(&s),
                            Some(other) => out.push_str(&other.to_string()),
                            None => return unknown(&r.target.to_string()),
                        },
                    }
                }
                Json::String(out)
            }
        }
    }

    /// The resource's fields as one JSON object.
    pub fn resolve_config(&self, decl: &ResourceDecl) -> Json {
        Json::Object(
            decl.config
                .iter()
                .map(|(k, v)| (k.clone(), self.resolve(v)))
                .collect(),
        )
    }
}

/// Whether any field of the stack refers to `${aws.account_id}` (which needs one call to STS).
pub fn needs_account_id(decls: &[&ResourceDecl]) -> bool {
    let mut found = false;
    for decl in decls {
        for node in decl.config.values() {
            node.visit_references(&mut |target, _| {
                found |= matches!(target, Target::Aws(a) if a == "account_id")
            });
        }
    }
    found
}
