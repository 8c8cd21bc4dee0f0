//! An exclusive lock beside the state file: a kernel lock (`flock`) on the lock file, held for as
//! long as the run that took it. The kernel releases it when that process ends however it ends
//! (Ctrl-C, SIGKILL, a crash), so a dead run never leaves a lock behind. The file's content names
//! the holder, so a second run can say who it is waiting for.

use serde::{Deserialize, Serialize};
use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LockInfo {
    pub id: String,
    pub pid: u32,
    pub host: String,
    pub operation: String,
    pub since: jiff::Timestamp,
    /// When a leased lock (S3) ends unless its holder renews it first. A local kernel lock has none:
    /// it ends with its process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<jiff::Timestamp>,
    /// The holder's process namespace (Linux): with the host, it says whether another run can see
    /// the holder's pid at all. Containers sharing a host name have different ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_namespace: Option<String>,
}

impl LockInfo {
    /// A new lock for `operation` by this process, starting now, without a lease.
    pub fn for_this_process(operation: &str) -> LockInfo {
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            pid: std::process::id(),
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            operation: operation.to_string(),
            since: jiff::Timestamp::now(),
            expires: None,
            pid_namespace: pid_namespace(),
        }
    }
}

/// This process's pid namespace, where the system names it (`pid:[4026531836]` on Linux).
pub fn pid_namespace() -> Option<String> {
    std::fs::read_link("/proc/self/ns/pid")
        .ok()
        .map(|link| link.display().to_string())
}

impl std::fmt::Display for LockInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` by pid {} on {} since {} (lock id {})",
            self.operation, self.pid, self.host, self.since, self.id
        )?;
        if let Some(expires) = self.expires {
            write!(f, ", lease until {expires}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("the state is locked: {0}")]
    Held(Box<LockInfo>),
    #[error("the state is locked by a running process that has not yet said who it is ({path})")]
    Starting { path: String },
    #[error("no lock with id {id}: {detail}")]
    NotFound { id: String, detail: String },
    #[error("the lock with id {id} is held by a running process: {info}")]
    Live { id: String, info: Box<LockInfo> },
    #[error("cannot lock {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot use the lock {location}: {message}")]
    Remote { location: String, message: String },
}

impl LockError {
    pub fn help(&self) -> String {
        match self {
            LockError::Held(info) => match info.expires {
                Some(expires) => format!(
                    "wait for that run to finish. If it was killed, its lease ends at {expires} and the next run takes over; `stackctl force-unlock {}` ends it now, but only do that when that run is surely gone",
                    info.id
                ),
                None => format!(
                    "wait for that run to finish; if it hangs, stop it (pid {} on {}): its lock ends with the process",
                    info.pid, info.host
                ),
            },
            LockError::Starting { .. } => "run again in a moment".into(),
            LockError::NotFound { detail, .. } if detail.starts_with("the current lock") => {
                "pass the id of the current lock, as printed by the run that found the state locked".into()
            }
            LockError::NotFound { .. } => "nothing to unlock".into(),
            LockError::Live { info, .. } => format!(
                "a kernel lock ends only with its process: wait for it, or stop pid {} on {}",
                info.pid, info.host
            ),
            LockError::Io { .. } => {
                "check the permissions of the state directory, and that its file system supports file locks".into()
            }
            LockError::Remote { .. } => {
                "check the bucket, your credentials and their permissions (s3:GetObject, s3:PutObject, s3:DeleteObject on the state's objects)".into()
            }
        }
    }
}

/// A held lock: released (and its file removed) when dropped, or by the kernel when the process ends.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    // Holds the kernel lock for as long as it is open.
    file: File,
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

/// What trying to lock the file found.
enum Attempt {
    Locked(File),
    HeldByAnother(File),
}

impl Lock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn acquire(state_path: &Path, operation: &str) -> Result<Lock, LockError> {
        let path = lock_path(state_path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io_error(&path))?;
        }
        let mut file = match try_lock(&path)? {
            Attempt::Locked(file) => file,
            Attempt::HeldByAnother(mut file) => return Err(holder(&mut file, &path)),
        };
        let info = LockInfo::for_this_process(operation);
        let body = serde_json::to_vec_pretty(&info).unwrap_or_default();
        file.set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| file.write_all(&body))
            .and_then(|_| file.sync_all())
            .map_err(io_error(&path))?;
        Ok(Lock { path, file, info })
    }

    /// Clears the record of a lock whose run has ended. A lock still held by a live process is
    /// refused: removing its file would not end a kernel lock, only hide it.
    pub fn force_unlock(state_path: &Path, id: &str) -> Result<Option<LockInfo>, LockError> {
        let path = lock_path(state_path);
        if !path.exists() {
            return Err(LockError::NotFound {
                id: id.to_string(),
                detail: format!("{} is not locked", state_path.display()),
            });
        }
        match try_lock(&path)? {
            Attempt::HeldByAnother(mut file) => match holder(&mut file, &path) {
                LockError::Held(info) if info.id == id => Err(LockError::Live {
                    id: id.to_string(),
                    info,
                }),
                LockError::Held(info) => Err(LockError::NotFound {
                    id: id.to_string(),
                    detail: format!("the current lock is {}", info.id),
                }),
                other => Err(other),
            },
            Attempt::Locked(mut file) => {
                // Nobody holds it: whatever the file says is a run that has ended.
                let ended = read_info(&mut file);
                std::fs::remove_file(&path).map_err(io_error(&path))?;
                Ok(ended)
            }
        }
    }
}

/// Opens the lock file and tries to lock it without waiting. A file removed by a holder releasing
/// it between our open and our lock is opened again, so two runs can never lock different files.
fn try_lock(path: &Path) -> Result<Attempt, LockError> {
    let io = io_error(path);
    loop {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(&io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(Attempt::HeldByAnother(file)),
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        if still_at(&file, path) {
            return Ok(Attempt::Locked(file));
        }
    }
}

/// Whether `path` still names the open `file`.
fn still_at(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> LockError + '_ {
    move |source| LockError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn read_info(file: &mut File) -> Option<LockInfo> {
    let mut bytes = Vec::new();
    file.rewind().ok()?;
    file.read_to_end(&mut bytes).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Who holds the lock, from the file's content. A holder writes it right after locking, so an empty
/// file is read again a few times before giving up.
fn holder(file: &mut File, path: &Path) -> LockError {
    for _ in 0..20 {
        if let Some(info) = read_info(file) {
            return LockError::Held(Box::new(info));
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    LockError::Starting {
        path: path.display().to_string(),
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still locked; a run that opened the old file notices it is gone (`still_at`).
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
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
        assert!(!lock_path(&state).exists(), "released locks leave no file");
        assert!(Lock::acquire(&state, "down").is_ok());
    }

    #[test]
    fn a_lock_file_nobody_holds_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("s.json");
        let lock = Lock::acquire(&state, "up").unwrap();
        // As if the process had been killed: the file stays, the kernel lock goes.
        let Lock { file, path, .. } = &lock;
        file.unlock().unwrap();
        assert!(path.exists());
        let second = Lock::acquire(&state, "down").unwrap();
        assert_eq!(second.info.operation, "down");
        std::mem::forget(lock);
    }

    #[test]
    fn force_unlock_refuses_a_live_lock_and_clears_an_ended_one() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("s.json");
        let lock = Lock::acquire(&state, "up").unwrap();
        let id = lock.info.id.clone();
        assert!(matches!(
            Lock::force_unlock(&state, "wrong"),
            Err(LockError::NotFound { .. })
        ));
        assert!(matches!(
            Lock::force_unlock(&state, &id),
            Err(LockError::Live { .. })
        ));
        lock.file.unlock().unwrap();
        std::mem::forget(lock);
        assert_eq!(Lock::force_unlock(&state, &id).unwrap().unwrap().id, id);
        assert!(!lock_path(&state).exists());
        assert!(matches!(
            Lock::force_unlock(&state, &id),
            Err(LockError::NotFound { .. })
        ));
    }
}
