//! `${...}` references: parsed and substituted where already known (variables, `stack.*`), then
//! checked to name a resource and an attribute it has.

use super::Loader;
use crate::diagnostics::{Diagnostic, Span, did_you_mean};
use crate::model::fields::Ty;
use crate::model::template::{Piece, Target, Template};
use crate::model::value::{Node, Value};
use crate::spec::ResourceDecl;
use indexmap::IndexMap;
use marked_yaml::Node as YamlNode;

impl Loader<'_> {
    /// Parses a scalar into a template and replaces what is already known (variables, `stack.*`).
    pub(super) fn substitute(&mut self, node: &YamlNode, raw: &str) -> Option<Template> {
        let span = self.span_of(node);
        let template = match Template::parse(raw) {
            Ok(t) => t,
            Err(e) => {
                let at = self
                    .locate(&span, &raw[e.range.clone()])
                    .unwrap_or(span.clone());
                self.error(at, e.message, "references look like `${resource.attribute}` or `${var.name}`; write `$${` for a literal `${`");
                return None;
            }
        };
        let mut pieces: Vec<Piece> = Vec::new();
        let mut cursor = span.start;
        for piece in template.pieces {
            match piece {
                Piece::Text(t) => push_text(&mut pieces, &t),
                Piece::Ref(mut reference) => {
                    let source_text = &raw[reference.range.clone()];
                    let absolute = self
                        .locate(&Span::new(self.file, cursor..span.end), source_text)
                        .unwrap_or(span.clone());
                    cursor = absolute.end;
                    reference.range = absolute.start..absolute.end;
                    match &reference.target {
                        Target::Resource { .. } | Target::Aws(_)
                            if !self.known.contains_key(&reference.target) =>
                        {
                            if let Target::Aws(attr) = &reference.target
                                && attr != "account_id"
                                && attr != "partition"
                            {
                                self.error(
                                    absolute,
                                    format!("unknown attribute `aws.{attr}`"),
                                    "`aws` has `account_id` and `partition`",
                                );
                                return None;
                            }
                            pieces.push(Piece::Ref(reference));
                        }
                        target => {
                            match self.known.get(target) {
                                Some(value) => {
                                    let value = value.clone();
                                    push_text(&mut pieces, &value);
                                }
                                // Its value was refused where it is declared: said once, there.
                                None if matches!(target, Target::Var(name) if self.declared.contains(name)) =>
                                {
                                    return None;
                                }
                                None => {
                                    let (message, help) = match target {
                                    Target::Var(name) => {
                                        let declared: Vec<String> = self.known.keys().filter_map(|k| match k {
                                            Target::Var(v) => Some(v.clone()),
                                            _ => None,
                                        }).collect();
                                        let help = match did_you_mean(name, declared.iter().map(String::as_str)) {
                                            Some(s) => format!("did you mean `${{var.{s}}}`?"),
                                            None => "declare it under `variables:`".to_string(),
                                        };
                                        (format!("unknown variable `{name}`"), help)
                                    }
                                    Target::Stack(attr) if attr == "region" => (
                                        "`${stack.region}` is used but the stack has no `region:`".to_string(),
                                        "add `region:` to the stack file".to_string(),
                                    ),
                                    Target::Aws(_) => (
                                        "`${aws.partition}` needs the stack's `region:`".to_string(),
                                        "add `region:` to the stack file".to_string(),
                                    ),
                                    other => (format!("unknown reference `{other}`"), "`stack` has `name` and `region`".to_string()),
                                };
                                    self.error(absolute, message, help);
                                    return None;
                                }
                            }
                        }
                    }
                }
            }
        }
        if pieces.is_empty() {
            pieces.push(Piece::Text(String::new()));
        }
        Some(Template { pieces })
    }

    pub(super) fn check_references(&mut self, resources: &IndexMap<String, ResourceDecl>) {
        let mut problems = Vec::new();
        for decl in resources.values() {
            for (target, span) in decl.dependencies() {
                if !resources.contains_key(&target) {
                    let help = match did_you_mean(&target, resources.keys().map(String::as_str)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!(
                            "declared resources: {}",
                            resources.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    };
                    problems.push(
                        Diagnostic::error(format!(
                            "`{}` refers to unknown resource `{target}`",
                            decl.name
                        ))
                        .at(span)
                        .help(help),
                    );
                }
            }
            for (field, node) in &decl.config {
                let list_field = decl
                    .kind
                    .field(field)
                    .map(|f| matches!(f.ty, Ty::List(_)))
                    .unwrap_or(false);
                check_node_references(node, resources, list_field, &mut problems);
            }
        }
        self.diagnostics.extend(problems);
    }
}

fn check_node_references(
    node: &Node,
    resources: &IndexMap<String, ResourceDecl>,
    list_context: bool,
    problems: &mut Vec<Diagnostic>,
) {
    match &node.value {
        Value::Str(template) => {
            let sole = template.sole_reference().is_some();
            for reference in template.references() {
                let Target::Resource {
                    name,
                    attribute,
                    index,
                } = &reference.target
                else {
                    continue;
                };
                let Some(target) = resources.get(name) else {
                    continue;
                };
                let span = Span::new(node.span.file, reference.range.clone());
                match target.kind.output(attribute) {
                    None => {
                        let outputs: Vec<&str> = target.kind.spec().outputs.iter().map(|o| o.name).collect();
                        let help = match did_you_mean(attribute, outputs.iter().copied()) {
                            Some(s) => format!("did you mean `${{{name}.{s}}}`? A {} has: {}", target.kind, outputs.join(", ")),
                            None => format!("a {} has: {}", target.kind, outputs.join(", ")),
                        };
                        problems.push(Diagnostic::error(format!("{} `{name}` has no attribute `{attribute}`", target.kind)).at(span).help(help));
                    }
                    Some(output) if !output.list && index.is_some() => problems.push(
                        Diagnostic::error(format!("`{name}.{attribute}` is a single value and cannot be indexed"))
                            .at(span)
                            .help(format!("write `${{{name}.{attribute}}}`")),
                    ),
                    Some(output) if output.list && index.is_none() && !(sole && list_context) => problems.push(
                        Diagnostic::error(format!("`{name}.{attribute}` is a list and cannot be used as a single value here"))
                            .at(span)
                            .help(format!("pick one element, such as `${{{name}.{attribute}[0]}}`")),
                    ),
                    Some(_) => {}
                }
            }
        }
        Value::List(items) => items
            .iter()
            .for_each(|i| check_node_references(i, resources, false, problems)),
        Value::Map(map) => map
            .values()
            .for_each(|v| check_node_references(v, resources, false, problems)),
        Value::Null | Value::Bool(_) | Value::Int(_) => {}
    }
}

fn push_text(pieces: &mut Vec<Piece>, text: &str) {
    if let Some(Piece::Text(last)) = pieces.last_mut() {
        last.push_str(text);
    } else {
        pieces.push(Piece::Text(text.to_string()));
    }
}
