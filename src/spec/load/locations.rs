//! Where things are: the YAML parser counts characters, diagnostics need byte spans; YAML errors
//! become located diagnostics.

use super::Loader;
use crate::diagnostics::{Diagnostic, Span};
use crate::spec::yaml::YamlError;
use marked_yaml::Node as YamlNode;

impl Loader<'_> {
    pub(super) fn byte(&self, character: usize) -> usize {
        self.char_bytes
            .get(character)
            .copied()
            .unwrap_or(self.text.len())
    }

    pub(super) fn span_of(&self, node: &YamlNode) -> Span {
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

    pub(super) fn key_span(&self, key: &marked_yaml::types::MarkedScalarNode) -> Span {
        let start = key
            .span()
            .start()
            .map(|m| self.byte(m.character()))
            .unwrap_or(0);
        Span::new(self.file, start..start + key.as_str().len().max(1))
    }

    pub(super) fn yaml_error(&mut self, error: YamlError) {
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
                        .help(if again.as_str() == "<<" {
                            "merge several mappings with one merge key: `<<: [*first, *second]` (the first wins)"
                        } else {
                            "each key may appear once in a mapping; remove or rename one of them"
                        }),
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

    /// Finds `needle` inside the file text covered by `within`.
    pub(super) fn locate(&self, within: &Span, needle: &str) -> Option<Span> {
        let end = within.end.min(self.text.len()).max(within.start);
        let hay = self.text.get(within.start..end)?;
        hay.find(needle)
            .map(|i| Span::new(self.file, within.start + i..within.start + i + needle.len()))
    }
}
