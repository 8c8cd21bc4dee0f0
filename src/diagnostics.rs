//! Problems found in user input, each tied to a place in a file, rendered the way compilers do:
//! `file:line:column`, the offending line with a caret, and a `help:` line saying what to do.

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config};
use serde::Serialize;
use std::ops::Range;

/// Identifies a file registered in [`Sources`].
pub type FileId = usize;

/// A byte range inside one source file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Span {
    pub file: FileId,
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(file: FileId, range: Range<usize>) -> Self {
        Span {
            file,
            start: range.start,
            end: range.end.max(range.start),
        }
    }
}

/// One problem with user input.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnostic {
    pub message: String,
    #[serde(skip)]
    pub span: Option<Span>,
    /// What the label under the caret says; defaults to the message.
    pub label: Option<String>,
    /// What the user should do about it.
    pub help: Option<String>,
    /// Secondary places worth showing, such as the other end of a cycle.
    #[serde(skip)]
    pub related: Vec<(Span, String)>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            message: message.into(),
            span: None,
            label: None,
            help: None,
            related: Vec::new(),
        }
    }

    pub fn at(mut self, span: Span) -> Self {
        self.span = Some(span);
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn related(mut self, span: Span, note: impl Into<String>) -> Self {
        self.related.push((span, note.into()));
        self
    }
}

/// The files diagnostics can point into (the stack file, user data scripts, templates).
#[derive(Default, Clone)]
pub struct Sources {
    files: SimpleFiles<String, String>,
}

impl std::fmt::Debug for Sources {
    // The texts are the user's files: a debug print names them only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sources")
    }
}

impl Sources {
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        self.files.add(name.into(), text.into())
    }

    pub fn name(&self, id: FileId) -> &str {
        self.files
            .get(id)
            .map(|f| f.name().as_str())
            .unwrap_or("<unknown>")
    }

    pub fn text(&self, id: FileId) -> &str {
        self.files
            .get(id)
            .map(|f| f.source().as_str())
            .unwrap_or("")
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, id: FileId, byte: usize) -> (usize, usize) {
        let text = self.text(id);
        let byte = byte.min(text.len());
        let before = &text[..floor_char_boundary(text, byte)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = before[line_start..].chars().count() + 1;
        (line, column)
    }

    /// `file:line:column` for a span, the form editors and CI annotations understand.
    pub fn location(&self, span: &Span) -> String {
        let (line, column) = self.line_column(span.file, span.start);
        format!("{}:{}:{}", self.name(span.file), line, column)
    }

    /// Renders diagnostics for a terminal (or plain text when `color` is false).
    pub fn render(&self, diagnostics: &[Diagnostic], color: bool) -> String {
        let mut out = codespan_reporting::term::termcolor::Buffer::no_color();
        let mut colored = codespan_reporting::term::termcolor::Buffer::ansi();
        let writer = if color { &mut colored } else { &mut out };
        let config = Config::default();
        for diagnostic in diagnostics {
            let mut cs = CsDiagnostic::error().with_message(&diagnostic.message);
            let mut labels = Vec::new();
            if let Some(span) = &diagnostic.span {
                let text = diagnostic.label.clone().unwrap_or_default();
                labels.push(Label::primary(span.file, span.start..span.end).with_message(text));
            }
            for (span, note) in &diagnostic.related {
                labels.push(Label::secondary(span.file, span.start..span.end).with_message(note));
            }
            cs = cs.with_labels(labels);
            if let Some(help) = &diagnostic.help {
                cs = cs.with_notes(vec![format!("help: {help}")]);
            }
            // Rendering into an in-memory buffer cannot fail except on a bad span, which we clamp above.
            let _ = term::emit_to_write_style(writer, &config, &self.files, &cs);
        }
        let bytes = if color {
            colored.into_inner()
        } else {
            out.into_inner()
        };
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Diagnostics as JSON values for `--json`, each with its location.
    pub fn to_json(&self, diagnostics: &[Diagnostic]) -> serde_json::Value {
        let items: Vec<serde_json::Value> = diagnostics
            .iter()
            .map(|d| {
                let mut value = serde_json::json!({ "severity": "error", "message": d.message });
                if let Some(span) = &d.span {
                    let (line, column) = self.line_column(span.file, span.start);
                    value["file"] = self.name(span.file).into();
                    value["line"] = line.into();
                    value["column"] = column.into();
                }
                if let Some(help) = &d.help {
                    value["help"] = help.clone().into();
                }
                value
            })
            .collect();
        serde_json::json!({ "valid": diagnostics.is_empty(), "diagnostics": items })
    }
}

fn floor_char_boundary(text: &str, mut byte: usize) -> usize {
    while byte > 0 && !text.is_char_boundary(byte) {
        byte -= 1;
    }
    byte
}

/// "did you mean `x`?" for a misspelt name, when one candidate is close enough.
pub fn did_you_mean<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(wrong, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
