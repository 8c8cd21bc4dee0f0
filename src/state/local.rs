//! The local state file: written atomically (temporary file, fsync, rename, fsync of the directory)
//! so a crash at any instant leaves either the old or the new document. Only one run writes it at a
//! time: the kernel lock beside it (`lock.rs`) sees to that. Steps are appended to the journal
//! beside it (`PATH.journal`, see `journal.rs`), fsynced one by one; rewriting the document removes
//! the journal, after the new document is durable.

use super::location::StateLocation;
use super::store::{Backend, BoxFuture, StateError};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct LocalFile {
    location: StateLocation,
    path: PathBuf,
    journal_path: PathBuf,
    /// The journal, open for appending, from the first append until the next rewrite.
    journal: std::sync::Mutex<Option<std::fs::File>>,
}

impl LocalFile {
    pub fn new(path: PathBuf) -> Self {
        let mut journal_path = path.clone().into_os_string();
        journal_path.push(".journal");
        LocalFile {
            location: StateLocation::Local(path.clone()),
            path,
            journal_path: PathBuf::from(journal_path),
            journal: std::sync::Mutex::new(None),
        }
    }

    fn dir(&self) -> &Path {
        self.path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    fn open_journal(&self) -> std::sync::MutexGuard<'_, Option<std::fs::File>> {
        self.journal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn append_now(&self, record: &[u8]) -> Result<(), StateError> {
        let write_error = |e: std::io::Error| StateError::Write {
            location: format!("{} (its journal)", self.describe()),
            message: e.to_string(),
        };
        let mut journal = self.open_journal();
        if journal.is_none() {
            let mut options = std::fs::OpenOptions::new();
            options.append(true).create(true);
            // Readable by its owner only, like the document.
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let file = options.open(&self.journal_path).map_err(write_error)?;
            // The new file's directory entry must be durable before any record counts.
            if let Ok(handle) = std::fs::File::open(self.dir()) {
                let _ = handle.sync_all();
            }
            *journal = Some(file);
        }
        let file = journal.as_mut().expect("opened above");
        file.write_all(record).map_err(write_error)?;
        file.sync_data().map_err(write_error)
    }

    fn read_journal_now(&self) -> Result<Option<Vec<u8>>, StateError> {
        match std::fs::read(&self.journal_path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StateError::Read {
                location: format!("{} (its journal)", self.describe()),
                message: e.to_string(),
            }),
        }
    }

    fn describe(&self) -> String {
        super::store::describe(&self.location)
    }

    fn read_now(&self) -> Result<Option<Vec<u8>>, StateError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StateError::Read {
                location: self.describe(),
                message: e.to_string(),
            }),
        }
    }

    fn write_now(&self, document: &[u8]) -> Result<(), StateError> {
        let write_error = |e: std::io::Error| StateError::Write {
            location: self.describe(),
            message: e.to_string(),
        };
        let dir = self.dir();
        std::fs::create_dir_all(dir).map_err(write_error)?;
        let mut temp = tempfile::Builder::new()
            .prefix(".state-")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(write_error)?;
        temp.write_all(document).map_err(write_error)?;
        temp.as_file().sync_all().map_err(write_error)?;
        temp.persist(&self.path).map_err(|e| write_error(e.error))?;
        // The rename is durable only once the directory entry is on disk.
        if let Ok(handle) = std::fs::File::open(dir) {
            let _ = handle.sync_all();
        }
        // The document now holds every step: the journal's records are all at or below its
        // serial, so one left behind by a failed removal is harmless (skipped when read, and
        // removed by the next rewrite).
        let mut journal = self.open_journal();
        *journal = None;
        let _ = std::fs::remove_file(&self.journal_path);
        Ok(())
    }
}

impl Backend for LocalFile {
    fn location(&self) -> &StateLocation {
        &self.location
    }

    fn read(&self) -> BoxFuture<'_, Result<Option<Vec<u8>>, StateError>> {
        Box::pin(std::future::ready(self.read_now()))
    }

    fn write(&self, document: Vec<u8>, _serial: u64) -> BoxFuture<'_, Result<(), StateError>> {
        Box::pin(std::future::ready(self.write_now(&document)))
    }

    fn keeps_journal(&self) -> bool {
        true
    }

    fn append(&self, record: Vec<u8>, _serial: u64) -> BoxFuture<'_, Result<(), StateError>> {
        Box::pin(std::future::ready(self.append_now(&record)))
    }

    fn read_journal(&self) -> BoxFuture<'_, Result<Option<Vec<u8>>, StateError>> {
        Box::pin(std::future::ready(self.read_journal_now()))
    }
}
