//! `variables:`: declarations, their values from `--var`, the environment and defaults, and one
//! error per bad value.

use super::Loader;
use crate::model::template::Target;
use crate::spec::variables::VarType;
use marked_yaml::Node as YamlNode;
use std::collections::BTreeMap;

const VARIABLE_FIELDS: &[&str] = &["type", "default", "description"];

impl Loader<'_> {
    pub(super) fn variables(&mut self, node: &YamlNode) -> BTreeMap<String, String> {
        let mut values = BTreeMap::new();
        let Some(map) = node.as_mapping() else {
            self.error(
                self.span_of(node),
                "`variables` must be a mapping",
                "write `variables: { name: { type: string, default: x } }`",
            );
            return values;
        };
        // Declarations first, then values: a default may not reference another variable.
        for (key, decl) in map.iter() {
            let name = key.as_str().to_string();
            let key_span = self.key_span(key);
            self.declared.insert(name.clone());
            let Some(fields) = decl.as_mapping() else {
                self.error(
                    self.span_of(decl),
                    format!("variable `{name}` must be a mapping"),
                    "write `name: { type: string, default: value }`",
                );
                continue;
            };
            for (field, _) in fields.iter() {
                if !VARIABLE_FIELDS.contains(&field.as_str()) {
                    self.error(
                        self.key_span(field),
                        format!("unknown field `{}` in variable `{name}`", field.as_str()),
                        format!("a variable holds: {}", VARIABLE_FIELDS.join(", ")),
                    );
                }
            }
            let var_type = match fields.get_node("type") {
                Some(t) => match t.as_scalar().and_then(|s| VarType::from_name(s.as_str())) {
                    Some(vt) => vt,
                    None => {
                        self.error(
                            self.span_of(t),
                            format!("unknown variable type in `{name}`"),
                            format!("use one of: {}", VarType::NAMES.join(", ")),
                        );
                        continue;
                    }
                },
                None => VarType::String,
            };
            let default = fields.get_node("default").and_then(|d| match d {
                YamlNode::Scalar(s) => Some((s.as_str().to_string(), self.span_of(d))),
                _ => {
                    self.error(
                        self.span_of(d),
                        format!("the default of `{name}` must be a single value"),
                        "lists and mappings cannot be variables",
                    );
                    None
                }
            });
            let (value, source_span) = match self.inputs.lookup(&name) {
                Some((value, source)) => match var_type.check(value) {
                    Ok(v) => (v, None),
                    Err(problem) => {
                        self.error(
                            key_span.clone(),
                            format!("{source}: {problem}"),
                            format!(
                                "variable `{name}` is a {}",
                                VarType::NAMES[var_type as usize]
                            ),
                        );
                        continue;
                    }
                },
                None => match default {
                    Some((value, span)) => match var_type.check(&value) {
                        Ok(v) => (v, Some(span)),
                        Err(problem) => {
                            self.error(
                                span,
                                format!("default of `{name}`: {problem}"),
                                "make the default match the variable's type",
                            );
                            continue;
                        }
                    },
                    None => {
                        self.error(
                            key_span.clone(),
                            format!("variable `{name}` has no value"),
                            format!("give it a `default:`, pass --var {name}=..., or set STACKCTL_VAR_{name}"),
                        );
                        continue;
                    }
                },
            };
            let _ = source_span;
            self.known.insert(Target::Var(name.clone()), value.clone());
            values.insert(name, value);
        }
        values
    }
}
