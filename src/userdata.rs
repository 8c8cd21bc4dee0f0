//! EC2 user data: a script under `user-data/` and the files it installs from `templates/`, rendered with
//! stack values as `{{ name }}` (a syntax that does not collide with the shell's `${...}`).

use crate::diagnostics::{Diagnostic, Sources, Span};
use crate::resources::{ResourceKind, ec2_instance::USER_DATA_LIMIT};
use crate::spec::{Node, Stack, Value};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Placeholder for values only known once AWS has created something, used when checking templates early.
const NOT_YET_KNOWN: &str = "(known after up)";

#[derive(Debug, thiserror::Error)]
pub enum UserDataError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Render {
        path: String,
        line: Option<usize>,
        range: Option<std::ops::Range<usize>>,
        message: String,
    },
    #[error(
        "rendered user data is {size} bytes ({compressed} gzip-compressed); AWS accepts at most {USER_DATA_LIMIT} bytes"
    )]
    TooLarge { size: usize, compressed: usize },
}

/// The user data block of an instance, with references already resolved.
#[derive(Debug, Clone, Default)]
pub struct UserDataSpec {
    pub file: String,
    pub vars: BTreeMap<String, String>,
    pub templates: BTreeMap<String, String>,
}

impl UserDataSpec {
    pub fn from_json(value: &Json) -> Option<UserDataSpec> {
        let file = value.get("file")?.as_str()?.to_string();
        let strings = |key: &str| crate::resources::string_map(value.get(key));
        Some(UserDataSpec {
            file,
            vars: strings("vars"),
            templates: strings("templates"),
        })
    }
}

/// Renders the script and its templates. The result is checked against AWS's 16 KB limit.
pub fn render(dir: &Path, spec: &UserDataSpec) -> Result<String, UserDataError> {
    let read = |relative: &str| -> Result<(String, String), UserDataError> {
        let path = dir.join(relative);
        let display = path.display().to_string();
        std::fs::read_to_string(&path)
            .map(|text| (display.clone(), text))
            .map_err(|source| UserDataError::Read {
                path: display,
                source,
            })
    };
    let mut rendered_templates = BTreeMap::new();
    for (name, relative) in &spec.templates {
        let (path, text) = read(relative)?;
        rendered_templates.insert(
            name.clone(),
            render_one(&path, &text, &spec.vars, &BTreeMap::new())?,
        );
    }
    let (path, text) = read(&spec.file)?;
    let script = render_one(&path, &text, &spec.vars, &rendered_templates)?;
    let sent = for_ec2(&script);
    if sent.len() > USER_DATA_LIMIT {
        return Err(UserDataError::TooLarge {
            size: script.len(),
            compressed: gzip(&script).len(),
        });
    }
    Ok(script)
}

/// What is sent to EC2: the script itself, or, when it is larger than AWS accepts, the script
/// compressed with gzip, which cloud-init recognizes and expands before running it.
pub fn for_ec2(script: &str) -> Vec<u8> {
    match script.len() > USER_DATA_LIMIT {
        true => gzip(script),
        false => script.as_bytes().to_vec(),
    }
}

/// The script that EC2 holds, expanded when it was sent compressed.
pub fn from_ec2(bytes: &[u8]) -> String {
    const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
    if bytes.starts_with(&GZIP_MAGIC) {
        use std::io::Read;
        let mut script = String::new();
        if flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut script)
            .is_ok()
        {
            return script;
        }
    }
    String::from_utf8_lossy(bytes).into_owned()
}

fn gzip(script: &str) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to memory cannot fail.
    let _ = encoder.write_all(script.as_bytes());
    encoder.finish().unwrap_or_default()
}

fn render_one(
    path: &str,
    text: &str,
    vars: &BTreeMap<String, String>,
    templates: &BTreeMap<String, String>,
) -> Result<String, UserDataError> {
    let mut env = Environment::new();
    // A variable the script uses but the stack does not set is a mistake, not an empty string.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_keep_trailing_newline(true);
    let to_error = |e: minijinja::Error| UserDataError::Render {
        path: path.to_string(),
        line: e.line(),
        range: e.range(),
        message: e
            .detail()
            .map(str::to_string)
            .unwrap_or_else(|| e.kind().to_string()),
    };
    env.add_template("user-data", text).map_err(to_error)?;
    let mut context: BTreeMap<String, minijinja::Value> = vars
        .iter()
        .map(|(k, v)| (k.clone(), minijinja::Value::from(v.clone())))
        .collect();
    context.insert(
        "templates".into(),
        minijinja::Value::from_serialize(templates),
    );
    env.get_template("user-data")
        .and_then(|t| t.render(&context))
        .map_err(to_error)
}

/// `sha256:<hex>` of a rendered script: what state and plans record instead of the script itself.
pub fn digest(script: &str) -> String {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(script.as_bytes());
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// Checks every instance's user data while validating: files exist, templates render, the size fits.
/// Values that come from other resources are not known yet and are rendered as a placeholder.
pub fn check_stack(stack: &Stack, sources: &mut Sources, diagnostics: &mut Vec<Diagnostic>) {
    for decl in stack
        .resources
        .values()
        .filter(|r| r.kind == ResourceKind::Ec2Instance)
    {
        let Some(node) = decl.config.get("user_data") else {
            continue;
        };
        let Some(file_node) = node.get("file") else {
            continue;
        };
        let Some(file) = file_node.as_literal_str() else {
            continue;
        };
        let mut spec = UserDataSpec {
            file: file.clone(),
            ..Default::default()
        };
        let mut files: Vec<(String, Span)> = vec![(file.clone(), file_node.span.clone())];
        if let Some(Node {
            value: Value::Map(vars),
            ..
        }) = node.get("vars")
        {
            for (name, value) in vars {
                spec.vars.insert(
                    name.clone(),
                    value
                        .as_literal_str()
                        .unwrap_or_else(|| NOT_YET_KNOWN.to_string()),
                );
            }
        }
        if let Some(Node {
            value: Value::Map(templates),
            ..
        }) = node.get("templates")
        {
            for (name, value) in templates {
                if let Some(path) = value.as_literal_str() {
                    spec.templates.insert(name.clone(), path.clone());
                    files.push((path, value.span.clone()));
                }
            }
        }
        let mut missing = false;
        for (relative, span) in &files {
            let path: PathBuf = stack.dir.join(relative);
            if !path.is_file() {
                missing = true;
                diagnostics.push(
                    Diagnostic::error(format!("`{}`: file {} not found", decl.name, path.display()))
                        .at(span.clone())
                        .help("paths are relative to the stack file's directory, e.g. `../user-data/web.sh`"),
                );
            }
        }
        if missing {
            continue;
        }
        match render(&stack.dir, &spec) {
            Ok(_) => {}
            Err(UserDataError::Render { path, line, range, message }) => {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let file = sources.add(path.clone(), text.clone());
                let mut diagnostic = Diagnostic::error(format!("`{}`: cannot render {path}: {message}", decl.name))
                    .help("every `{{ name }}` in the script and its templates needs an entry under `user_data.vars` (or `templates`)");
                if let Some(range) = range.filter(|r| r.end <= text.len()) {
                    diagnostic = diagnostic.at(Span::new(file, range));
                } else if let Some(line) = line {
                    let start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
                    let end = text[start..].find('\n').map(|e| start + e).unwrap_or(text.len());
                    diagnostic = diagnostic.at(Span::new(file, start..end.max(start + 1).min(text.len().max(start + 1))));
                } else {
                    diagnostic = diagnostic.at(file_node.span.clone());
                }
                diagnostics.push(diagnostic);
            }
            Err(e) => diagnostics.push(
                Diagnostic::error(format!("`{}`: {e}", decl.name))
                    .at(file_node.span.clone())
                    .help("keep the script small: install files from S3 or a package instead of inlining them"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_vars_and_templates_and_keeps_shell_syntax() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("boot.sh"),
            "#!/bin/bash\necho ${HOME} {{ port }}\ncat <<'EOF'\n{{ templates.unit }}EOF\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("unit"), "Port={{ port }}\n").unwrap();
        let spec = UserDataSpec {
            file: "boot.sh".into(),
            vars: [("port".to_string(), "8080".to_string())].into(),
            templates: [("unit".to_string(), "unit".to_string())].into(),
        };
        let script = render(dir.path(), &spec).unwrap();
        assert_eq!(
            script,
            "#!/bin/bash\necho ${HOME} 8080\ncat <<'EOF'\nPort=8080\nEOF\n"
        );
        assert!(digest(&script).starts_with("sha256:"));
    }

    #[test]
    fn undefined_values_and_size_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.sh"), "echo {{ missing }}\n").unwrap();
        let spec = UserDataSpec {
            file: "a.sh".into(),
            ..Default::default()
        };
        assert!(matches!(
            render(dir.path(), &spec),
            Err(UserDataError::Render { line: Some(1), .. })
        ));
        // Larger than the limit even compressed: digests of counters do not compress.
        let noise: String = (0..1200)
            .map(|n| digest(&n.to_string())[7..].to_string())
            .collect();
        std::fs::write(dir.path().join("big.sh"), &noise).unwrap();
        let spec = UserDataSpec {
            file: "big.sh".into(),
            ..Default::default()
        };
        assert!(matches!(
            render(dir.path(), &spec),
            Err(UserDataError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_shell_length_expansion_is_written_as_the_readme_says() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("len.sh"), "n=\"${{ '{#' }}names[@]}\"\n").unwrap();
        let spec = UserDataSpec {
            file: "len.sh".into(),
            ..Default::default()
        };
        assert_eq!(render(dir.path(), &spec).unwrap(), "n=\"${#names[@]}\"\n");
    }

    #[test]
    fn a_script_over_the_limit_is_sent_compressed_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let script = format!("#!/bin/bash\n{}", "echo a line that repeats\n".repeat(2000));
        assert!(script.len() > USER_DATA_LIMIT);
        std::fs::write(dir.path().join("long.sh"), &script).unwrap();
        let spec = UserDataSpec {
            file: "long.sh".into(),
            ..Default::default()
        };
        let rendered = render(dir.path(), &spec).unwrap();
        let sent = for_ec2(&rendered);
        assert!(sent.len() <= USER_DATA_LIMIT && sent.starts_with(&[0x1f, 0x8b]));
        assert_eq!(from_ec2(&sent), script);
        // A small script goes as it is.
        assert_eq!(for_ec2("echo hi\n"), b"echo hi\n");
        assert_eq!(from_ec2(b"echo hi\n"), "echo hi\n");
    }
}
