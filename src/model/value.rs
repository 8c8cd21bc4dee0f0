//! Values from the stack file, each with the place it came from.

use super::template::{Target, Template};
use crate::diagnostics::Span;
use indexmap::IndexMap;

#[derive(Debug, Clone)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

#[derive(Debug, Clone)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// A string; its references' ranges are absolute byte offsets in the file.
    Str(Template),
    List(Vec<Node>),
    Map(IndexMap<String, Node>),
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(map) => map.get(key),
            _ => None,
        }
    }

    /// The items of a list; nothing for anything else.
    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::List(items) => items,
            _ => &[],
        }
    }

    /// A literal whole number.
    pub fn as_int(&self) -> Option<i64> {
        match self.value {
            Value::Int(n) => Some(n),
            _ => None,
        }
    }

    /// A literal boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_literal_str(&self) -> Option<String> {
        match &self.value {
            Value::Str(t) => t.as_literal(),
            _ => None,
        }
    }

    /// Calls `f` for every reference anywhere inside this value, with its place in the file.
    pub fn visit_references(&self, f: &mut dyn FnMut(&Target, &Span)) {
        match &self.value {
            Value::Str(template) => {
                for reference in template.references() {
                    f(
                        &reference.target,
                        &Span::new(self.span.file, reference.range.clone()),
                    );
                }
            }
            Value::List(items) => items.iter().for_each(|i| i.visit_references(f)),
            Value::Map(map) => map.values().for_each(|v| v.visit_references(f)),
            Value::Null | Value::Bool(_) | Value::Int(_) => {}
        }
    }
}
