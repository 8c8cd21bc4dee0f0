//! The local state file: written atomically (temporary file, fsync, rename, fsync of the directory)
//! so a crash at any instant leaves either the old or the new document. Only one run writes it at a
//! time: the kernel lock beside it (`lock.rs`) sees to that.

use super::location::StateLocation;
use super::store::{Backend, BoxFuture, StateError};
use std::io::Write;
use std::path::{Path, PathBuf};

pub struct LocalFile {
    location: StateLocation,
    path: PathBuf,
}

impl LocalFile {
    pub fn new(path: PathBuf) -> Self {
        LocalFile {
            location: StateLocation::Local(path.clone()),
            path,
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
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
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
}
