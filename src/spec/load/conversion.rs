//! `resources:`: each resource converted by its kind's field table into typed values, with the
//! field checks, the kind's own rules and the offline engine version check.

use super::Loader;
use crate::diagnostics::{Span, did_you_mean};
use crate::model::fields::{COMMON_FIELDS, Check, Field, Ty};
use crate::model::names;
use crate::model::value::{Node, Value};
use crate::resources::{ResourceKind, ec2_instance};
use crate::spec::{ResourceDecl, Timeouts};
use indexmap::IndexMap;
use marked_yaml::Node as YamlNode;
use std::time::Duration;

impl Loader<'_> {
    pub(super) fn resources(
        &mut self,
        node: &YamlNode,
        stack: &str,
    ) -> IndexMap<String, ResourceDecl> {
        let mut out = IndexMap::new();
        let Some(map) = node.as_mapping() else {
            self.error(
                self.span_of(node),
                "`resources` must be a mapping of names to resources",
                "write `resources: { web_sg: { type: security-group, ... } }`",
            );
            return out;
        };
        if map.is_empty() {
            self.error(
                self.span_of(node),
                "`resources` is empty",
                "declare at least one resource",
            );
        }
        for (key, body) in map.iter() {
            let name = key.as_str().to_string();
            let key_span = self.key_span(key);
            if let Some(problem) = names::resource_key_violation(&name) {
                self.error(
                    key_span.clone(),
                    format!("invalid resource name `{name}`"),
                    problem,
                );
                continue;
            }
            if let Some(decl) = self.resource(&name, key_span, body, stack) {
                out.insert(name, decl);
            }
        }
        out
    }

    pub(super) fn resource(
        &mut self,
        name: &str,
        key_span: Span,
        body: &YamlNode,
        stack: &str,
    ) -> Option<ResourceDecl> {
        let Some(fields) = body.as_mapping() else {
            self.error(
                self.span_of(body),
                format!("resource `{name}` must be a mapping"),
                "write `type:` and the type's fields under the resource name",
            );
            return None;
        };
        let Some(type_node) = fields.get_node("type") else {
            let kinds: Vec<&str> = ResourceKind::ALL.iter().map(|k| k.type_name()).collect();
            self.error(
                key_span,
                format!("resource `{name}` has no `type`"),
                format!("add `type:` with one of: {}", kinds.join(", ")),
            );
            return None;
        };
        let type_name = type_node
            .as_scalar()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        let Some(kind) = ResourceKind::from_type_name(&type_name) else {
            let kinds: Vec<&str> = ResourceKind::ALL.iter().map(|k| k.type_name()).collect();
            let help = match did_you_mean(&type_name, kinds.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? Known types: {}", kinds.join(", ")),
                None => format!("known types: {}", kinds.join(", ")),
            };
            self.error(
                self.span_of(type_node),
                format!("unknown resource type `{type_name}`"),
                help,
            );
            return None;
        };
        let spec = kind.spec();
        let mut config = IndexMap::new();
        let mut depends_on = Vec::new();
        let mut timeouts = Timeouts {
            create: Duration::from_secs(spec.timeouts[0]),
            update: Duration::from_secs(spec.timeouts[1]),
            delete: Duration::from_secs(spec.timeouts[2]),
        };
        for (key, value) in fields.iter() {
            let field_name = key.as_str();
            let field = spec
                .fields
                .iter()
                .chain(COMMON_FIELDS)
                .find(|f| f.name == field_name);
            let Some(field) = field else {
                let candidates = spec.fields.iter().chain(COMMON_FIELDS).map(|f| f.name);
                let known: Vec<&str> = spec
                    .fields
                    .iter()
                    .chain(COMMON_FIELDS)
                    .map(|f| f.name)
                    .collect();
                let help = match did_you_mean(field_name, candidates) {
                    Some(s) => format!(
                        "did you mean `{s}`? Fields of `{}`: {}",
                        spec.type_name,
                        known.join(", ")
                    ),
                    None => format!("fields of `{}`: {}", spec.type_name, known.join(", ")),
                };
                self.error(
                    self.key_span(key),
                    format!(
                        "unknown field `{field_name}` in {} `{name}`",
                        spec.type_name
                    ),
                    help,
                );
                continue;
            };
            match field_name {
                "type" => {}
                "depends_on" => {
                    if let Some(node) = self.convert(value, &field.ty, field_name) {
                        for item in list_items(&node) {
                            if let Some(target) = item.as_literal_str() {
                                depends_on.push((target, item.span.clone()));
                            }
                        }
                    }
                }
                "timeouts" => {
                    if let Some(node) = self.convert(value, &field.ty, field_name) {
                        for (which, slot) in [
                            ("create", &mut timeouts.create),
                            ("update", &mut timeouts.update),
                            ("delete", &mut timeouts.delete),
                        ] {
                            if let Some(Value::Int(secs)) = node.get(which).map(|n| &n.value) {
                                *slot = Duration::from_secs(*secs as u64);
                            }
                        }
                    }
                }
                _ => {
                    let node = self.convert(value, &field.ty, field_name).unwrap_or(Node {
                        span: self.span_of(value),
                        value: Value::Null,
                    });
                    self.check_name(kind, field, &node);
                    config.insert(field_name.to_string(), node);
                }
            }
        }
        for field in spec.fields.iter().filter(|f| f.required) {
            if !config.contains_key(field.name) {
                self.error(
                    key_span.clone(),
                    format!(
                        "{} `{name}` is missing required field `{}`",
                        spec.type_name, field.name
                    ),
                    format!("add `{}:` — {}", field.name, field.doc),
                );
            }
        }
        if spec.name_rule.is_some() && !config.contains_key("name") {
            let physical = names::physical_name(stack, name);
            if let Some(rule) = spec.name_rule
                && let Some(problem) = rule.violation(&physical)
            {
                // Too long is mended by shortening; anything else (a group named `sg-...`) by
                // naming it.
                let help = if physical.chars().count() > rule.max_len() {
                    "set a shorter `name:` for this resource, or shorten the stack name"
                } else {
                    "set `name:` for this resource, or rename the stack"
                };
                self.error(
                    key_span.clone(),
                    format!("the generated name `{physical}` for `{name}` is not valid: {problem}"),
                    help,
                );
            }
        }
        self.check_kind_rules(kind, name, &key_span, &config);
        Some(ResourceDecl {
            name: name.to_string(),
            kind,
            span: key_span,
            config,
            depends_on,
            timeouts,
        })
    }

    pub(super) fn check_name(&mut self, kind: ResourceKind, field: &Field, node: &Node) {
        if let (Ty::Str(Check::Name(rule)), Some(text)) = (field.ty, node.as_literal_str())
            && let Some(problem) = rule.violation(&text)
        {
            self.error(
                node.span.clone(),
                format!("invalid {} name `{text}`: {problem}", kind.type_name()),
                "choose a name AWS accepts",
            );
        }
    }

    /// Rules that involve more than one field.
    pub(super) fn check_kind_rules(
        &mut self,
        kind: ResourceKind,
        name: &str,
        key_span: &Span,
        config: &IndexMap<String, Node>,
    ) {
        if let Some(node) = config.get("security_groups")
            && matches!(&node.value, Value::List(items) if items.is_empty())
        {
            self.error(
                node.span.clone(),
                format!("`{name}` sets `security_groups: []`, but AWS requires at least one security group here"),
                "leave `security_groups` out to let AWS choose (the VPC's default group), or list the groups",
            );
        }
        self.check_engine_version(kind, name, config);
        kind.check(&mut crate::resources::Rules {
            name,
            key_span,
            config,
            diagnostics: &mut self.diagnostics,
        });
    }

    /// An engine version must be of a family AWS offers for the engine: `"99.9"` is caught here,
    /// without AWS; the exact version is checked against AWS's own list at plan time.
    pub(super) fn check_engine_version(
        &mut self,
        kind: ResourceKind,
        name: &str,
        config: &IndexMap<String, Node>,
    ) {
        use crate::resources::engine_versions::offline_problem;
        let (Some(engine), Some(node)) = (kind.engine(config), config.get("engine_version")) else {
            return;
        };
        let Some(version) = node.as_literal_str() else {
            return;
        };
        if let Some(families) = offline_problem(&engine, &version) {
            self.error(
                node.span.clone(),
                format!(
                    "`{name}`: engine_version `{version}` is not a {} version {} offers",
                    engine.name,
                    engine.service.name()
                ),
                format!(
                    "{} offers {} {families}: write one of them, or a minor version of one; `stackctl plan` checks the exact version with AWS",
                    engine.service.name(),
                    engine.name,
                ),
            );
        }
    }

    pub(super) fn convert(&mut self, node: &YamlNode, ty: &Ty, field: &str) -> Option<Node> {
        let span = self.span_of(node);
        let type_error = |this: &mut Self, found: &str| {
            this.error(
                span.clone(),
                format!("`{field}` must be {}, found {found}", ty.describe()),
                format!("write `{field}` as {}", ty.describe()),
            );
        };
        match (ty, node) {
            (Ty::List(item_ty), YamlNode::Sequence(items)) => {
                let items: Vec<Node> = items
                    .iter()
                    .filter_map(|i| self.convert(i, item_ty, field))
                    .collect();
                Some(Node {
                    span,
                    value: Value::List(items),
                })
            }
            (Ty::List(_), YamlNode::Scalar(s)) => {
                // A list may come whole from a reference: `subnets: ${vpc.private_subnets}`.
                let template = self.substitute(node, s.as_str())?;
                if template.sole_reference().is_some() {
                    Some(Node {
                        span,
                        value: Value::Str(template),
                    })
                } else {
                    type_error(self, "a single value");
                    None
                }
            }
            (Ty::Map(value_ty), YamlNode::Mapping(map)) => {
                let mut out = IndexMap::new();
                for (key, value) in map.iter() {
                    if let Some(v) = self.convert(value, value_ty, key.as_str()) {
                        out.insert(key.as_str().to_string(), v);
                    }
                }
                Some(Node {
                    span,
                    value: Value::Map(out),
                })
            }
            (Ty::Obj(fields), YamlNode::Mapping(map)) => {
                let mut out = IndexMap::new();
                for (key, value) in map.iter() {
                    match fields.iter().find(|f| f.name == key.as_str()) {
                        Some(f) => {
                            // A field present but invalid stays as null, so no "missing field" error follows the real one.
                            let v = self.convert(value, &f.ty, f.name).unwrap_or(Node {
                                span: self.span_of(value),
                                value: Value::Null,
                            });
                            out.insert(f.name.to_string(), v);
                        }
                        None => {
                            let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
                            let help = match did_you_mean(key.as_str(), names.iter().copied()) {
                                Some(s) => format!(
                                    "did you mean `{s}`? `{field}` holds: {}",
                                    names.join(", ")
                                ),
                                None => format!("`{field}` holds: {}", names.join(", ")),
                            };
                            self.error(
                                self.key_span(key),
                                format!("unknown field `{}` in `{field}`", key.as_str()),
                                help,
                            );
                        }
                    }
                }
                for f in fields.iter().filter(|f| f.required) {
                    if !out.contains_key(f.name) && map.get_node(f.name).is_none() {
                        self.error(
                            span.clone(),
                            format!("`{field}` is missing required field `{}`", f.name),
                            format!("add `{}:` — {}", f.name, f.doc),
                        );
                    }
                }
                Some(Node {
                    span,
                    value: Value::Map(out),
                })
            }
            (Ty::Str(check), YamlNode::Scalar(s)) => {
                let template = self.substitute(node, s.as_str())?;
                if let Some(text) = template.as_literal() {
                    self.check_string(check, &text, &span, field);
                }
                Some(Node {
                    span,
                    value: Value::Str(template),
                })
            }
            (Ty::Int { min, max }, YamlNode::Scalar(s)) => {
                let text = self.substitute(node, s.as_str())?.as_literal();
                let Some(text) = text else {
                    self.error(
                        span,
                        format!("`{field}` must be a number known before anything is created"),
                        "use a literal number or `${var.name}`",
                    );
                    return None;
                };
                match text.trim().parse::<i64>() {
                    Ok(n) if (*min..=*max).contains(&n) => Some(Node {
                        span,
                        value: Value::Int(n),
                    }),
                    Ok(n) => {
                        self.error(
                            span,
                            format!("`{field}` is {n}, outside {min} to {max}"),
                            format!("use a number from {min} to {max}"),
                        );
                        None
                    }
                    Err(_) => {
                        type_error(self, &format!("`{text}`"));
                        None
                    }
                }
            }
            (Ty::Bool, YamlNode::Scalar(s)) => {
                let text = self
                    .substitute(node, s.as_str())?
                    .as_literal()
                    .unwrap_or_default();
                match text.as_str() {
                    "true" => Some(Node {
                        span,
                        value: Value::Bool(true),
                    }),
                    "false" => Some(Node {
                        span,
                        value: Value::Bool(false),
                    }),
                    _ => {
                        type_error(self, &format!("`{text}`"));
                        None
                    }
                }
            }
            (Ty::Duration, YamlNode::Scalar(s)) => match s.as_str().parse::<jiff::SignedDuration>()
            {
                Ok(d) if d.is_positive() => Some(Node {
                    span,
                    value: Value::Int(d.as_secs().max(1)),
                }),
                _ => {
                    type_error(self, &format!("`{}`", s.as_str()));
                    None
                }
            },
            (_, YamlNode::Sequence(_)) => {
                type_error(self, "a list");
                None
            }
            (_, YamlNode::Mapping(_)) => {
                type_error(self, "a mapping");
                None
            }
            (_, YamlNode::Scalar(s)) => {
                type_error(self, &format!("`{}`", s.as_str()));
                None
            }
        }
    }

    pub(super) fn check_string(&mut self, check: &Check, text: &str, span: &Span, field: &str) {
        match check {
            Check::Cidr => {
                if text.parse::<ipnet::IpNet>().is_err() {
                    self.error(
                        span.clone(),
                        format!("`{text}` is not a valid CIDR block"),
                        "write an address and prefix length, such as 10.0.0.0/16 or 0.0.0.0/0",
                    );
                }
            }
            Check::CidrOrGroup => {
                if !text.starts_with("sg-") && text.parse::<ipnet::IpNet>().is_err() {
                    self.error(
                        span.clone(),
                        format!("`{text}` is neither a CIDR block nor a security group"),
                        "write a CIDR block such as 0.0.0.0/0, a group id (sg-...), or a reference such as ${web_sg.id}",
                    );
                }
            }
            Check::OneOf(values) => {
                if !values.contains(&text) {
                    let help = match did_you_mean(text, values.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`? Use one of: {}", values.join(", ")),
                        None => format!("use one of: {}", values.join(", ")),
                    };
                    self.error(
                        span.clone(),
                        format!("`{text}` is not a valid `{field}`"),
                        help,
                    );
                }
            }
            Check::Image => {
                if let Some(problem) = ec2_instance::image_violation(text) {
                    self.error(
                        span.clone(),
                        format!("`{text}` is not an image stackctl can resolve"),
                        problem,
                    );
                }
            }
            // Engine versions are checked with the kind's engine (`check_engine_version`).
            Check::Any | Check::Name(_) | Check::File | Check::Version => {}
        }
    }
}

fn list_items(node: &Node) -> Vec<&Node> {
    match &node.value {
        Value::List(items) => items.iter().collect(),
        _ => Vec::new(),
    }
}
