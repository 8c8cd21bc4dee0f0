//! Strings with `${...}` references: `${web_sg.id}`, `${vpc.public_subnets[0]}`, `${var.vpc_name}`,
//! `${stack.region}`, `${aws.account_id}`. `$${` writes a literal `${`.

use std::fmt;
use std::ops::Range;

/// What a reference points at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// `${var.name}`: a stack variable.
    Var(String),
    /// `${stack.name}` or `${stack.region}`.
    Stack(String),
    /// `${aws.account_id}`, `${aws.partition}`: facts about the account, known once we talk to AWS.
    Aws(String),
    /// `${resource.attribute}` or `${resource.attribute[index]}`.
    Resource {
        name: String,
        attribute: String,
        index: Option<usize>,
    },
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Var(name) => write!(f, "var.{name}"),
            Target::Stack(attr) => write!(f, "stack.{attr}"),
            Target::Aws(attr) => write!(f, "aws.{attr}"),
            Target::Resource {
                name,
                attribute,
                index: None,
            } => write!(f, "{name}.{attribute}"),
            Target::Resource {
                name,
                attribute,
                index: Some(i),
            } => write!(f, "{name}.{attribute}[{i}]"),
        }
    }
}

/// A reference and where it sits in its string (byte offsets relative to the string's first character).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub target: Target,
    pub range: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Ref(Reference),
}

/// A string split into literal text and references.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    pub pieces: Vec<Piece>,
}

/// A malformed reference, with its byte range inside the string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub message: String,
    pub range: Range<usize>,
}

impl Template {
    pub fn parse(input: &str) -> Result<Template, TemplateError> {
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut rest = 0;
        let bytes = input.as_bytes();
        while rest < input.len() {
            if input[rest..].starts_with("$${") {
                text.push_str("${");
                rest += 3;
            } else if input[rest..].starts_with("${") {
                let close = input[rest..].find('}').ok_or_else(|| TemplateError {
                    message: "unterminated reference: `${` has no closing `}`".into(),
                    range: rest..input.len(),
                })?;
                let inner = &input[rest + 2..rest + close];
                let range = rest..rest + close + 1;
                let target = parse_target(inner.trim()).map_err(|message| TemplateError {
                    message,
                    range: range.clone(),
                })?;
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Ref(Reference { target, range }));
                rest += close + 1;
            } else {
                let ch = input[rest..].chars().next().unwrap_or_default();
                text.push(ch);
                rest += ch.len_utf8().max(1);
                debug_assert!(rest <= bytes.len());
            }
        }
        if !text.is_empty() || pieces.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Template { pieces })
    }

    pub fn references(&self) -> impl Iterator<Item = &Reference> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Ref(r) => Some(r),
            Piece::Text(_) => None,
        })
    }

    /// The reference, when the string is exactly one reference and nothing else.
    /// Such a string takes the type of what it refers to (a list stays a list).
    pub fn sole_reference(&self) -> Option<&Reference> {
        match self.pieces.as_slice() {
            [Piece::Ref(r)] => Some(r),
            _ => None,
        }
    }

    /// The literal text, when the string holds no reference.
    pub fn as_literal(&self) -> Option<String> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Ref(_) => return None,
            }
        }
        Some(out)
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn parse_target(inner: &str) -> Result<Target, String> {
    let hint = "write `${resource.attribute}`, `${resource.attribute[0]}` or `${var.name}`";
    let (head, tail) = inner
        .split_once('.')
        .ok_or_else(|| format!("`${{{inner}}}` is not a reference: {hint}"))?;
    let (attribute, index) = match tail.split_once('[') {
        Some((attr, idx)) => {
            let idx = idx
                .strip_suffix(']')
                .and_then(|i| i.trim().parse::<usize>().ok())
                .ok_or_else(|| {
                    format!(
                        "bad index in `${{{inner}}}`: an index is a number in brackets, like `[0]`"
                    )
                })?;
            (attr, Some(idx))
        }
        None => (tail, None),
    };
    if !is_identifier(head) || !is_identifier(attribute) {
        return Err(format!("`${{{inner}}}` is not a reference: {hint}"));
    }
    let no_index = |target: Target| {
        if index.is_some() {
            Err(format!(
                "`${{{inner}}}` cannot be indexed: only list attributes of resources can"
            ))
        } else {
            Ok(target)
        }
    };
    match head {
        "var" => no_index(Target::Var(attribute.to_string())),
        "stack" => no_index(Target::Stack(attribute.to_string())),
        "aws" => no_index(Target::Aws(attribute.to_string())),
        _ => Ok(Target::Resource {
            name: head.to_string(),
            attribute: attribute.to_string(),
            index,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_text_and_references() {
        let t = Template::parse("arn:${aws.partition}:x:${vpc.public_subnets[1]}-*").unwrap();
        assert_eq!(t.pieces.len(), 5);
        assert_eq!(
            t.references()
                .map(|r| r.target.to_string())
                .collect::<Vec<_>>(),
            vec!["aws.partition", "vpc.public_subnets[1]"]
        );
        let first = t.references().next().unwrap();
        assert_eq!(
            &"arn:${aws.partition}:x"[first.range.clone()],
            "${aws.partition}"
        );
    }

    #[test]
    fn sole_reference_keeps_type() {
        let t = Template::parse("${vpc.private_subnets}").unwrap();
        assert!(t.sole_reference().is_some());
        assert!(
            Template::parse("x${vpc.id}")
                .unwrap()
                .sole_reference()
                .is_none()
        );
    }

    #[test]
    fn escapes_and_literals() {
        let t = Template::parse("echo $${HOME} ok").unwrap();
        assert_eq!(t.as_literal().as_deref(), Some("echo ${HOME} ok"));
        assert_eq!(
            Template::parse("").unwrap().as_literal().as_deref(),
            Some("")
        );
    }

    #[test]
    fn rejects_malformed_references() {
        assert!(
            Template::parse("${vpc")
                .unwrap_err()
                .message
                .contains("unterminated")
        );
        assert!(Template::parse("${novalue}").is_err());
        assert!(Template::parse("${vpc.subnets[x]}").is_err());
        assert!(Template::parse("${var.x[0]}").is_err());
        assert_eq!(Template::parse("a ${1bad.x}").unwrap_err().range, 2..11);
    }
}
