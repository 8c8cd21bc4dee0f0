//! Reads a stack file into a [`Stack`], reporting every problem at once with its location.

use super::variables::{VarInputs, VarType};
use super::yaml::{self, YamlError};
use super::{ResourceDecl, Stack, Timeouts};
use crate::diagnostics::{Diagnostic, FileId, Sources, Span, did_you_mean};
use crate::model::fields::{COMMON_FIELDS, Check, Field, Ty};
use crate::model::names::{self, NameRule};
use crate::model::template::{Piece, Target, Template};
use crate::model::value::{Node, Value};
use crate::resources::{ResourceKind, ec2_instance, partition_of};
use indexmap::IndexMap;
use marked_yaml::Node as YamlNode;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Stack files larger than this are refused before parsing: no real stack comes close.
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

const TOP_LEVEL: &[&str] = &[
    "stack",
    "description",
    "region",
    "tags",
    "variables",
    "resources",
    "moved",
];
const VARIABLE_FIELDS: &[&str] = &["type", "default", "description"];

/// Loads and validates a stack file. Makes no AWS call.
pub fn load(
    path: &Path,
    inputs: &VarInputs,
    sources: &mut Sources,
) -> Result<Stack, Vec<Diagnostic>> {
    let display = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        let help = if e.kind() == std::io::ErrorKind::NotFound {
            "pass the stack file with -f/--file (the default is ./stack.yaml)"
        } else {
            "check the file's permissions"
        };
        vec![Diagnostic::error(format!("cannot read stack file {display}: {e}")).help(help)]
    })?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(vec![
            Diagnostic::error(format!(
                "stack file {display} is {} bytes; the limit is {MAX_FILE_BYTES}",
                bytes.len()
            ))
            .help("split the stack, or check that this is the right file"),
        ]);
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        vec![
            Diagnostic::error(format!(
                "stack file {display} is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
            .help("stack files are YAML text; check that this is the right file"),
        ]
    })?;
    // A byte-order mark (some Windows editors write one) is not part of the YAML.
    parse(
        path,
        text.strip_prefix('\u{feff}').unwrap_or(&text),
        inputs,
        sources,
    )
}

/// The `stack:` name a stack file declares, read without validating the rest: `down` needs only
/// this to refuse a state of another stack, and must work while the rest of the file is broken.
pub fn stack_name(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let root = yaml::parse(0, text.trim_start_matches('\u{feff}')).ok()?;
    root.as_mapping()?
        .get_scalar("stack")
        .map(|name| name.as_str().to_string())
}

/// Validates stack file text that was read from `path` (relative paths in it resolve against its
/// directory). Makes no AWS call. Never panics, whatever the text: the fuzz target holds it to that.
pub fn parse(
    path: &Path,
    text: &str,
    inputs: &VarInputs,
    sources: &mut Sources,
) -> Result<Stack, Vec<Diagnostic>> {
    let display = path.display().to_string();
    if text.contains('\0') {
        return Err(vec![
            Diagnostic::error(format!(
                "stack file {display} holds NUL bytes: it is not a text file"
            ))
            .help("stack files are YAML text; check that this is the right file"),
        ]);
    }
    if text.trim().is_empty() {
        return Err(vec![
            Diagnostic::error(format!("stack file {display} is empty"))
                .help("a stack file needs at least `stack:` and `resources:`; see the examples in stacks/"),
        ]);
    }
    let file = sources.add(display, text.to_string());
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut loader = Loader::new(file, text, inputs);
    let stack = loader.load_stack(path, dir);
    let mut diagnostics = loader.diagnostics;
    match stack {
        Some(mut stack) if diagnostics.is_empty() => {
            crate::userdata::check_stack(&stack, sources, &mut diagnostics);
            crate::graph::check_cycles(&stack, &mut diagnostics);
            if diagnostics.is_empty() {
                stack.sources = std::sync::Arc::new(sources.clone());
                Ok(stack)
            } else {
                Err(diagnostics)
            }
        }
        _ => {
            if diagnostics.is_empty() {
                diagnostics.push(Diagnostic::error("the stack file could not be read"));
            }
            Err(diagnostics)
        }
    }
}

struct Loader<'a> {
    file: FileId,
    text: &'a str,
    /// Byte offset of each character: the YAML parser counts characters, diagnostics need bytes.
    char_bytes: Vec<usize>,
    inputs: &'a VarInputs,
    diagnostics: Vec<Diagnostic>,
    /// Values known before any AWS call: variables, `stack.*`, `aws.partition`.
    known: HashMap<Target, String>,
    /// Every variable the file declares, also those whose value was refused: one bad value is one
    /// error, not also an "unknown variable" at each use.
    declared: std::collections::BTreeSet<String>,
}

impl<'a> Loader<'a> {
    fn new(file: FileId, text: &'a str, inputs: &'a VarInputs) -> Self {
        let mut char_bytes: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        char_bytes.push(text.len());
        Loader {
            file,
            text,
            char_bytes,
            inputs,
            diagnostics: Vec::new(),
            known: HashMap::new(),
            declared: Default::default(),
        }
    }

    fn error(&mut self, span: Span, message: impl Into<String>, help: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::error(message).at(span).help(help));
    }

    fn byte(&self, character: usize) -> usize {
        self.char_bytes
            .get(character)
            .copied()
            .unwrap_or(self.text.len())
    }

    fn span_of(&self, node: &YamlNode) -> Span {
        let span = node.span();
        let start = span.start().map(|m| self.byte(m.character())).unwrap_or(0);
        let end = match (span.end(), node) {
            (Some(end), _) => self.byte(end.character()),
            (None, YamlNode::Scalar(s)) => start + s.as_str().len(),
            (None, _) => start + 1,
        };
        Span::new(
            self.file,
            start..end.max(start + 1).min(self.text.len().max(start + 1)),
        )
    }

    fn key_span(&self, key: &marked_yaml::types::MarkedScalarNode) -> Span {
        let start = key
            .span()
            .start()
            .map(|m| self.byte(m.character()))
            .unwrap_or(0);
        Span::new(self.file, start..start + key.as_str().len().max(1))
    }

    fn load_stack(&mut self, path: &Path, dir: PathBuf) -> Option<Stack> {
        let root = match yaml::parse(self.file, self.text) {
            Ok(root) => root,
            Err(error) => {
                self.yaml_error(error);
                return None;
            }
        };
        let map = root.as_mapping()?;
        if map.is_empty() {
            self.diagnostics.push(
                Diagnostic::error("the stack file is empty: it holds only comments or blank lines")
                    .at(Span::new(self.file, 0..1))
                    .help("a stack file needs at least `stack:` and `resources:`; see the examples in stacks/"),
            );
            return None;
        }
        for (key, _) in map.iter() {
            // `x-` keys are the user's own (Docker Compose's convention): a place for anchors.
            if !TOP_LEVEL.contains(&key.as_str()) && !key.as_str().starts_with("x-") {
                let help = match did_you_mean(key.as_str(), TOP_LEVEL.iter().copied()) {
                    Some(s) => format!(
                        "did you mean `{s}`? A stack file holds: {}",
                        TOP_LEVEL.join(", ")
                    ),
                    None => format!(
                        "a stack file holds: {}; keys starting with `x-` are yours and ignored",
                        TOP_LEVEL.join(", ")
                    ),
                };
                self.error(
                    self.key_span(key),
                    format!("unknown top-level field `{}`", key.as_str()),
                    help,
                );
            }
        }
        let whole = self.span_of(&root);
        let name = match map.get_node("stack") {
            Some(node) => self.plain_string(node, "stack").unwrap_or_default(),
            None => {
                self.error(
                    Span::new(self.file, 0..whole.end.min(1)),
                    "missing `stack:` (the stack's name)",
                    "add a line such as `stack: web-demo`",
                );
                String::new()
            }
        };
        if let (Some(node), Some(problem)) =
            (map.get_node("stack"), NameRule::Stack.violation(&name))
            && !name.is_empty()
        {
            self.error(
                self.span_of(node),
                format!("invalid stack name `{name}`: {problem}"),
                "rename the stack, for example `web-demo`",
            );
        }
        let region = map
            .get_node("region")
            .and_then(|n| self.plain_string(n, "region"));
        let tags = map
            .get_node("tags")
            .map(|n| self.string_map(n, "tags"))
            .unwrap_or_default();
        self.known
            .insert(Target::Stack("name".into()), name.clone());
        if let Some(region) = &region {
            self.known
                .insert(Target::Stack("region".into()), region.clone());
            self.known.insert(
                Target::Aws("partition".into()),
                partition_of(region).to_string(),
            );
        }
        let variables = map
            .get_node("variables")
            .map(|n| self.variables(n))
            .unwrap_or_default();
        for (name, _) in self.inputs.cli.iter() {
            if !self.declared.contains(name) {
                let declared: Vec<&str> = variables.keys().map(String::as_str).collect();
                let help = match did_you_mean(name, declared.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "declare it under `variables:` or drop the --var".to_string(),
                };
                self.diagnostics.push(
                    Diagnostic::error(format!(
                        "--var {name}: the stack declares no variable `{name}`"
                    ))
                    .help(help),
                );
            }
        }
        let mut resources = match map.get_node("resources") {
            Some(node) => self.resources(node, &name),
            None => {
                self.error(
                    Span::new(self.file, 0..1),
                    "missing `resources:`",
                    "add a `resources:` mapping naming what the stack creates",
                );
                IndexMap::new()
            }
        };
        self.default_subnets(&mut resources);
        self.check_references(&resources);
        self.diagnostics
            .extend(super::collisions::check(&name, &resources));
        let moved = map
            .get_node("moved")
            .map(|n| self.moved(n, &resources))
            .unwrap_or_default();
        Some(Stack {
            name,
            region,
            tags,
            resources,
            moved,
            variables,
            path: path.to_path_buf(),
            dir,
            sources: Default::default(),
        })
    }

    /// Subnet groups without `subnets` take the private subnets of the stack's one VPC lookup.
    fn default_subnets(&mut self, resources: &mut IndexMap<String, ResourceDecl>) {
        let vpcs: Vec<String> = resources
            .values()
            .filter(|r| r.kind.spec().lookup && r.kind.output("private_subnets").is_some())
            .map(|r| r.name.clone())
            .collect();
        for decl in resources.values_mut() {
            if !decl.kind.defaults_to_private_subnets() || decl.config.contains_key("subnets") {
                continue;
            }
            match vpcs.as_slice() {
                [vpc] => {
                    let target = Target::Resource { name: vpc.clone(), attribute: "private_subnets".into(), index: None };
                    let reference = crate::model::template::Reference { target, range: decl.span.start..decl.span.end };
                    let template = Template { pieces: vec![Piece::Ref(reference)] };
                    decl.config.insert("subnets".into(), Node { span: decl.span.clone(), value: Value::Str(template) });
                }
                _ => self.error(
                    decl.span.clone(),
                    format!("{} `{}` needs `subnets`", decl.kind, decl.name),
                    "set `subnets: ${vpc.private_subnets}`; the default needs exactly one `vpc` lookup in the stack",
                ),
            }
        }
    }

    fn yaml_error(&mut self, error: YamlError) {
        let (marker, message, help) = match error {
            YamlError::TopLevelNotMapping(m) => (
                m,
                "a stack file must be a YAML mapping (`stack:`, `resources:`, ...)".to_string(),
                "start from one of the examples in stacks/".to_string(),
            ),
            YamlError::KeyNotScalar(m) => (
                m,
                "mapping keys must be plain strings".into(),
                "use a simple key".into(),
            ),
            YamlError::Tag(m) => (
                m,
                "YAML tags (`!tag`) are not supported".into(),
                "remove the tag".into(),
            ),
            YamlError::Syntax { at, info } => (
                at,
                format!("YAML syntax error: {info}"),
                "fix the YAML syntax at this place".into(),
            ),
            YamlError::UndefinedAlias { at, name } => (
                at,
                format!("alias `*{name}` names no anchor"),
                format!(
                    "define `&{name}` before this alias, for example under a top-level `x-` key: `x-defaults: &{name} {{ ... }}`"
                ),
            ),
            YamlError::BadMerge(m) => (
                m,
                "a merge key (`<<`) takes a mapping or a list of mappings".into(),
                "merge an anchored mapping, such as `<<: *defaults`".into(),
            ),
            YamlError::TooDeep(m) => (
                m,
                "the YAML is nested too deeply".into(),
                "check that this is the right file".into(),
            ),
            YamlError::AliasesTooLarge(m) => (
                m,
                "aliases here expand to more values than any stack needs".into(),
                "write the shared values out, or alias fewer levels deep".into(),
            ),
            YamlError::DuplicateKey { first, again } => {
                let first = self.key_span(&first);
                let second = self.key_span(&again);
                self.diagnostics.push(
                    Diagnostic::error(format!("duplicate key `{}`", again.as_str()))
                        .at(second)
                        .label("defined again here")
                        .related(first, "first defined here")
                        .help(
                            "each key may appear once in a mapping; remove or rename one of them",
                        ),
                );
                return;
            }
        };
        let mut start = self.byte(marker.character()).min(self.text.len());
        // Errors found at the end of the input (an unclosed bracket) point at the last thing written.
        let content_end = self.text.trim_end().len();
        if start >= content_end && content_end > 0 {
            start = self.text[..content_end]
                .char_indices()
                .last()
                .map(|(i, _)| i)
                .unwrap_or(0);
        }
        let span = Span::new(
            self.file,
            start..(start + 1).min(self.text.len()).max(start),
        );
        self.error(span, message, help);
    }

    /// A scalar string with no references (names that must be known before anything runs).
    fn plain_string(&mut self, node: &YamlNode, what: &str) -> Option<String> {
        match node {
            YamlNode::Scalar(s) => {
                let value = self.substitute(node, s.as_str())?;
                match value.as_literal() {
                    Some(text) => Some(text),
                    None => {
                        self.error(
                            self.span_of(node),
                            format!("`{what}` cannot reference resources"),
                            "use a literal value or `${var.name}`",
                        );
                        None
                    }
                }
            }
            _ => {
                self.error(
                    self.span_of(node),
                    format!("`{what}` must be a string"),
                    format!("write `{what}: <value>`"),
                );
                None
            }
        }
    }

    fn string_map(&mut self, node: &YamlNode, what: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let Some(map) = node.as_mapping() else {
            self.error(
                self.span_of(node),
                format!("`{what}` must be a mapping"),
                format!("write `{what}: {{ key: value }}`"),
            );
            return out;
        };
        for (key, value) in map.iter() {
            if let Some(text) = self.plain_string(value, what) {
                out.insert(key.as_str().to_string(), text);
            }
        }
        out
    }

    /// `moved: { old_key: new_key }`: renames kept in the file as history. Each new key must be a
    /// resource of the file or renamed again (`a: b`, `b: c`), and each old key must not be a
    /// resource any more.
    fn moved(
        &mut self,
        node: &YamlNode,
        resources: &IndexMap<String, ResourceDecl>,
    ) -> Vec<super::Moved> {
        let mut moves: Vec<super::Moved> = Vec::new();
        let renames = self.string_map(node, "moved");
        for (from, to) in renames.clone() {
            let key = node
                .as_mapping()
                .and_then(|m| m.iter().find(|(k, _)| k.as_str() == from))
                .map(|(k, v)| (self.key_span(k), self.span_of(v)));
            let Some((from_span, to_span)) = key else {
                continue;
            };
            if resources.contains_key(&from) {
                self.error(
                    from_span,
                    format!("`moved` renames `{from}`, but `{from}` is still a resource of this file"),
                    format!("a move records that `{from}` is now called `{to}`: rename the resource's key, or drop this line"),
                );
            } else if !reaches_resource(&to, &renames, resources) {
                let help = match did_you_mean(&to, resources.keys().map(String::as_str)) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "the new key must be a resource of this file".into(),
                };
                self.error(
                    to_span,
                    format!(
                        "`moved` renames `{from}` to `{to}`, which is not a resource of this file"
                    ),
                    help,
                );
            } else if let Some(other) = moves.iter().find(|m| m.to == to) {
                self.error(
                    to_span,
                    format!("`{from}` and `{}` are both moved to `{to}`", other.from),
                    "one resource can take over only one old key",
                );
            } else {
                moves.push(super::Moved {
                    from,
                    to,
                    span: from_span,
                });
            }
        }
        moves
    }

    fn variables(&mut self, node: &YamlNode) -> BTreeMap<String, String> {
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

    fn resources(&mut self, node: &YamlNode, stack: &str) -> IndexMap<String, ResourceDecl> {
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

    fn resource(
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
            if let Some(problem) = spec.name_rule.and_then(|rule| rule.violation(&physical)) {
                self.error(
                    key_span.clone(),
                    format!("the generated name `{physical}` for `{name}` is not valid: {problem}"),
                    "set a shorter `name:` for this resource, or shorten the stack name",
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

    fn check_name(&mut self, kind: ResourceKind, field: &Field, node: &Node) {
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
    fn check_kind_rules(
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
    fn check_engine_version(
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

    /// Parses a scalar into a template and replaces what is already known (variables, `stack.*`).
    fn substitute(&mut self, node: &YamlNode, raw: &str) -> Option<Template> {
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

    /// Finds `needle` inside the file text covered by `within`.
    fn locate(&self, within: &Span, needle: &str) -> Option<Span> {
        let end = within.end.min(self.text.len()).max(within.start);
        let hay = self.text.get(within.start..end)?;
        hay.find(needle)
            .map(|i| Span::new(self.file, within.start + i..within.start + i + needle.len()))
    }

    fn convert(&mut self, node: &YamlNode, ty: &Ty, field: &str) -> Option<Node> {
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

    fn check_string(&mut self, check: &Check, text: &str, span: &Span, field: &str) {
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
            Check::Any | Check::Name(_) | Check::File => {}
        }
    }

    fn check_references(&mut self, resources: &IndexMap<String, ResourceDecl>) {
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

/// Whether following `moved:` renames from `key` ends at a resource of the file (and not in a loop).
fn reaches_resource(
    key: &str,
    renames: &BTreeMap<String, String>,
    resources: &IndexMap<String, ResourceDecl>,
) -> bool {
    let mut key = key;
    for _ in 0..=renames.len() {
        if resources.contains_key(key) {
            return true;
        }
        match renames.get(key) {
            Some(next) => key = next,
            None => return false,
        }
    }
    false
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

fn list_items(node: &Node) -> Vec<&Node> {
    match &node.value {
        Value::List(items) => items.iter().collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> (Result<Stack, Vec<Diagnostic>>, Sources) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stack.yaml");
        std::fs::write(&path, text).unwrap();
        let mut sources = Sources::default();
        let result = load(&path, &VarInputs::default(), &mut sources);
        (result, sources)
    }

    fn errors(text: &str) -> Vec<String> {
        let (result, sources) = load_text(text);
        result
            .unwrap_err()
            .iter()
            .map(|d| {
                format!(
                    "{} @ {}",
                    d.message,
                    d.span
                        .as_ref()
                        .map(|s| sources.location(s))
                        .unwrap_or_default()
                )
            })
            .collect()
    }

    const GOOD: &str = "stack: demo\nregion: us-east-1\nvariables:\n  vpc_name: { default: demo-vpc }\nresources:\n  vpc: { type: vpc, name: \"${var.vpc_name}\" }\n  sg:\n    type: security-group\n    vpc: ${vpc.id}\n    ingress:\n      - { port: 8080, from: 0.0.0.0/0 }\n";

    #[test]
    fn loads_a_valid_stack_and_substitutes_variables() {
        let (result, _) = load_text(GOOD);
        let stack = result.unwrap();
        assert_eq!(stack.name, "demo");
        assert_eq!(
            stack.resources["vpc"].config["name"]
                .as_literal_str()
                .as_deref(),
            Some("demo-vpc")
        );
        assert_eq!(stack.resources["sg"].dependencies()[0].0, "vpc");
    }

    #[test]
    fn reports_every_problem_with_its_location() {
        let text = "stack: demo\nresources:\n  sg:\n    type: security-group\n    vpc: ${nope.id}\n    ingress:\n      - { port: 99999, from: 10.0.0.300/8 }\n    colour: red\n";
        let found = errors(text);
        assert!(
            found
                .iter()
                .any(|e| e.contains("unknown resource `nope`") && e.ends_with(":5:10")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|e| e.contains("outside 0 to 65535") && e.ends_with(":7:17")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|e| e.contains("not a valid CIDR") || e.contains("neither a CIDR")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|e| e.contains("unknown field `colour`") && e.ends_with(":8:5")),
            "{found:?}"
        );
    }

    #[test]
    fn unknown_attribute_and_bad_index() {
        let text = "stack: demo\nresources:\n  vpc: { type: vpc }\n  sg: { type: security-group, vpc: \"${vpc.idd}\", name: \"${vpc.public_subnets}\" }\n";
        let found = errors(text);
        assert!(
            found.iter().any(|e| e.contains("no attribute `idd`")),
            "{found:?}"
        );
        assert!(found.iter().any(|e| e.contains("is a list")), "{found:?}");
    }

    #[test]
    fn duplicate_keys_and_syntax_errors() {
        assert!(errors("stack: a\nstack: b\nresources: {}\n")[0].contains("duplicate key `stack`"));
        assert!(errors("stack: [unclosed\n")[0].contains("YAML syntax error"));
        assert!(errors("")[0].contains("empty"));
    }

    #[test]
    fn variables_without_values() {
        let found = errors(
            "stack: demo\nvariables:\n  x: { type: string }\nresources:\n  vpc: { type: vpc, name: \"${var.x}\" }\n",
        );
        assert!(
            found
                .iter()
                .any(|e| e.contains("variable `x` has no value") && e.ends_with(":3:3")),
            "{found:?}"
        );
    }
}
