//! Reads a stack file into a [`Stack`], reporting every problem at once with its location.
//!
//! By job: [`locations`] (YAML and where things are), [`variables`], [`conversion`] (by each
//! kind's field table and rules), [`references`]; this file holds the stack file as a whole.

mod conversion;
mod locations;
mod references;
mod variables;

use super::variables::VarInputs;
use super::yaml;
use super::{ResourceDecl, Stack};
use crate::diagnostics::{Diagnostic, FileId, Sources, Span, did_you_mean};
use crate::model::names::NameRule;
use crate::model::template::{Piece, Target, Template};
use crate::model::value::{Node, Value};
use crate::resources::partition_of;
use crate::state::location::StateLocation;
use indexmap::IndexMap;
use marked_yaml::Node as YamlNode;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

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
    "state",
];

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
    top_level_scalar(path, "stack")
}

/// The stack file's `region:` when it is written out (no variables), read without validating the
/// file: where an S3 state's bucket is looked for when nothing else names a region.
pub fn literal_region(path: &Path) -> Option<String> {
    top_level_scalar(path, "region").filter(|region| !region.contains("${"))
}

fn top_level_scalar(path: &Path, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let root = yaml::parse(0, text.trim_start_matches('\u{feff}')).ok()?;
    root.as_mapping()?
        .get_scalar(key)
        .map(|value| value.as_str().to_string())
}

/// The state location the stack file names (`state:`), read without validating the rest of the
/// file: `down` and the `state` commands need it even when the file no longer validates, or is
/// gone. A file that cannot be read or parsed names none; the commands that load it say why.
pub fn state_setting(
    path: &Path,
    sources: &mut Sources,
) -> Result<Option<StateLocation>, Vec<Diagnostic>> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(None);
    };
    let text = text.trim_start_matches('\u{feff}');
    let Ok(root) = yaml::parse(0, text) else {
        return Ok(None);
    };
    let Some(node) = root.as_mapping().and_then(|m| m.get_node("state")) else {
        return Ok(None);
    };
    let file = sources.add(path.display().to_string(), text.to_string());
    let inputs = VarInputs::default();
    let mut loader = Loader::new(file, text, &inputs);
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let location = loader.state_location(node, &dir);
    match location {
        Some(location) if loader.diagnostics.is_empty() => Ok(Some(location)),
        _ => Err(loader.diagnostics),
    }
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
                Err(distinct(diagnostics))
            }
        }
        _ => {
            if diagnostics.is_empty() {
                diagnostics.push(Diagnostic::error("the stack file could not be read"));
            }
            Err(distinct(diagnostics))
        }
    }
}

/// Each problem once: a mistake in values shared through an anchor is found again in every resource
/// that merges them, at the same place with the same words.
fn distinct(mut diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut seen = std::collections::HashSet::new();
    diagnostics.retain(|d| {
        seen.insert((
            d.message.clone(),
            d.span.as_ref().map(|s| (s.file, s.start, s.end)),
        ))
    });
    diagnostics
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
        let state = map
            .get_node("state")
            .and_then(|node| self.state_location(node, &dir));
        Some(Stack {
            name,
            region,
            state,
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

    /// A scalar string with no references (names that must be known before anything runs).
    /// `state:` — a path (relative to the stack file) or `s3://bucket/key`. Written out in full:
    /// the state must be found before variables are known (`down` works without them).
    fn state_location(&mut self, node: &YamlNode, dir: &Path) -> Option<StateLocation> {
        let Some(text) = node.as_scalar().map(|s| s.as_str().to_string()) else {
            self.error(
                self.span_of(node),
                "`state` must be a string",
                "write `state: s3://my-bucket/stacks/web.json`, or a path such as `state: .stackctl/web.json`",
            );
            return None;
        };
        if text.contains("${") {
            self.error(
                self.span_of(node),
                "`state` cannot use variables or references",
                "write the location in full: the state is read before anything else, even by `down` without variables; pass --state to choose it per run",
            );
            return None;
        }
        match StateLocation::parse(&text, dir) {
            Ok(location) => Some(location),
            Err(e) => {
                self.error(self.span_of(node), e.to_string(), e.help());
                None
            }
        }
    }

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
