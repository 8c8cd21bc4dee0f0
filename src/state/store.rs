//! The local state file: read with clear errors, written atomically (temporary file, fsync, rename,
//! fsync of the directory) so a crash at any instant leaves either the old or the new document.

use super::{FORMAT_VERSION, State};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read state file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("state file {path} is not valid JSON at line {line}, column {column}: {message}")]
    Corrupt {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "state file {path} has format_version {found}; this stackctl reads up to {FORMAT_VERSION}"
    )]
    UnsupportedVersion { path: String, found: u64 },
    #[error("state file {path} belongs to stack `{found}`, not `{expected}`")]
    WrongStack {
        path: String,
        expected: String,
        found: String,
    },
    #[error("cannot write state file {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

impl StateError {
    pub fn help(&self) -> &'static str {
        match self {
            StateError::Read { .. } | StateError::Write { .. } => {
                "check the path and permissions of the state directory"
            }
            StateError::Corrupt { .. } => {
                "the file was not written by stackctl or was edited by hand; restore it from version control or a backup (stackctl never leaves a half-written file)"
            }
            StateError::UnsupportedVersion { .. } => {
                "upgrade stackctl to the version that wrote this state"
            }
            StateError::WrongStack { .. } => {
                "pass the right stack file with -f, or the right state file with --state"
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct StateStore {
    path: PathBuf,
}

impl StateStore {
    pub fn new(path: PathBuf) -> Self {
        StateStore { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn display(&self) -> String {
        self.path.display().to_string()
    }

    /// The state, or `None` when the stack has never been applied.
    pub fn load(&self, expected_stack: Option<&str>) -> Result<Option<State>, StateError> {
        let text = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StateError::Read {
                    path: self.display(),
                    source,
                });
            }
        };
        let value: serde_json::Value =
            serde_json::from_slice(&text).map_err(|e| self.corrupt(e))?;
        let version = value
            .get("format_version")
            .and_then(serde_json::Value::as_u64)
            .unwrap_or(0);
        if version != u64::from(FORMAT_VERSION) {
            return Err(StateError::UnsupportedVersion {
                path: self.display(),
                found: version,
            });
        }
        let state: State = serde_json::from_value(value).map_err(|e| StateError::Corrupt {
            path: self.display(),
            line: 0,
            column: 0,
            message: e.to_string(),
        })?;
        if let Some(expected) = expected_stack
            && state.stack != expected
        {
            return Err(StateError::WrongStack {
                path: self.display(),
                expected: expected.to_string(),
                found: state.stack,
            });
        }
        Ok(Some(state))
    }

    fn corrupt(&self, e: serde_json::Error) -> StateError {
        StateError::Corrupt {
            path: self.display(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        }
    }

    /// Writes the whole document atomically and durably.
    pub fn save(&self, state: &State) -> Result<(), StateError> {
        let write_error = |source| StateError::Write {
            path: self.display(),
            source,
        };
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(write_error)?;
        let mut json =
            serde_json::to_vec_pretty(state).map_err(|e| write_error(std::io::Error::other(e)))?;
        json.push(b'\n');
        let mut temp = tempfile::Builder::new()
            .prefix(".state-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(write_error)?;
        temp.write_all(&json).map_err(write_error)?;
        temp.as_file().sync_all().map_err(write_error)?;
        temp.persist(&self.path).map_err(|e| write_error(e.error))?;
        // The rename is durable only once the directory entry is on disk.
        if let Ok(handle) = std::fs::File::open(dir) {
            let _ = handle.sync_all();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_checks_the_stack() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path().join("nested/s.json"));
        assert!(store.load(None).unwrap().is_none());
        let state = State::new("demo", "us-east-1");
        store.save(&state).unwrap();
        assert_eq!(store.load(Some("demo")).unwrap().unwrap(), state);
        assert!(matches!(
            store.load(Some("other")),
            Err(StateError::WrongStack { .. })
        ));
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("nested"))
            .unwrap()
            .collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn rejects_truncated_and_future_documents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(&path, "{\"format_version\": 1, \"stack\": ").unwrap();
        assert!(matches!(
            StateStore::new(path.clone()).load(None),
            Err(StateError::Corrupt { .. })
        ));
        std::fs::write(&path, "{\"format_version\": 99}").unwrap();
        assert!(matches!(
            StateStore::new(path).load(None),
            Err(StateError::UnsupportedVersion { found: 99, .. })
        ));
    }
}
