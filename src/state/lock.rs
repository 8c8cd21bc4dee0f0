//! An exclusive lock beside the state file. Created with `O_EXCL`, so two runs can never both hold it,
//! and it records who holds it so a second run can say so. A lock left behind by a killed run stays
//! until `stackctl force-unlock <id>` removes it: guessing that its holder is gone is how state gets lost.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LockInfo {
    pub id: String,
    pub pid: u32,
    pub host: String,
    pub operation: String,
    pub since: jiff::Timestamp,
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` by pid {} on {} since {} (lock id {})",
            self.operation, self.pid, self.host, self.since, self.id
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("the state is locked: {0}")]
    Held(LockInfo),
    #[error("the state is locked by {path}, which cannot be read: {message}")]
    Unreadable { path: String, message: String },
    #[error("no lock with id {id}: {detail}")]
    NotFound { id: String, detail: String },
    #[error("cannot lock {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl LockError {
    pub fn help(&self) -> String {
        match self {
            LockError::Held(info) => format!(
                "wait for that run to finish; if it is gone (killed, machine lost), run `stackctl force-unlock {}`",
                info.id
            ),
            LockError::Unreadable { .. } => {
                "remove the lock file by hand once you are sure no stackctl run is active".into()
            }
            LockError::NotFound { .. } => {
                "run `stackctl up` or `down` to see the current lock id".into()
            }
            LockError::Io { .. } => "check the permissions of the state directory".into(),
        }
    }
}

/// A held lock; released when dropped.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    pub info: LockInfo,
}

pub fn lock_path(state_path: &Path) -> PathBuf {
    let mut name = state_path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    state_path.with_file_name(name)
}

impl Lock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn acquire(state_path: &Path, operation: &str) -> Result<Lock, LockError> {
        let path = lock_path(state_path);
        let io = |source| LockError::Io {
            path: path.display().to_string(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let info = LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            pid: std::process::id(),
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            operation: operation.to_string(),
            since: jiff::Timestamp::now(),
        };
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                let body = serde_json::to_vec_pretty(&info).unwrap_or_default();
                file.write_all(&body)
                    .and_then(|_| file.sync_all())
                    .map_err(io)?;
                Ok(Lock { path, info })
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(read_holder(&path)),
            Err(e) => Err(io(e)),
        }
    }

    /// Removes a lock left behind, after checking the id the user gave matches it.
    pub fn force_unlock(state_path: &Path, id: &str) -> Result<LockInfo, LockError> {
        let path = lock_path(state_path);
        match read_holder(&path) {
            LockError::Held(info) if info.id == id => {
                std::fs::remove_file(&path).map_err(|source| LockError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
                Ok(info)
            }
            LockError::Held(info) => Err(LockError::NotFound {
                id: id.to_string(),
                detail: format!("the current lock is {}", info.id),
            }),
            LockError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                Err(LockError::NotFound {
                    id: id.to_string(),
                    detail: format!("{} is not locked", state_path.display()),
                })
            }
            other => Err(other),
        }
    }
}

fn read_holder(path: &Path) -> LockError {
    match std::fs::read(path) {
        Ok(bytes) => match serde_json::from_slice::<LockInfo>(&bytes) {
            Ok(info) => LockError::Held(info),
            Err(e) => LockError::Unreadable {
                path: path.display().to_string(),
                message: e.to_string(),
            },
        },
        Err(source) => LockError::Io {
            path: path.display().to_string(),
            source,
        },
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_with_the_first_holders_details() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("s.json");
        let first = Lock::acquire(&state, "up").unwrap();
        match Lock::acquire(&state, "down") {
            Err(LockError::Held(info)) => {
                assert_eq!(info.pid, std::process::id());
                assert_eq!(info.operation, "up");
            }
            other => panic!("expected the lock to be held, got {other:?}"),
        }
        drop(first);
        assert!(Lock::acquire(&state, "down").is_ok());
    }

    #[test]
    fn force_unlock_needs_the_right_id() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("s.json");
        let lock = Lock::acquire(&state, "up").unwrap();
        let id = lock.info.id.clone();
        std::mem::forget(lock); // as if the process had been killed
        assert!(matches!(
            Lock::force_unlock(&state, "wrong"),
            Err(LockError::NotFound { .. })
        ));
        assert_eq!(Lock::force_unlock(&state, &id).unwrap().id, id);
        assert!(Lock::acquire(&state, "up").is_ok());
    }
}
