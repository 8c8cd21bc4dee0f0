//! Reading and writing the state document, wherever it is kept. A [`Backend`] moves bytes (a local
//! file, an S3 object); [`StateStore`] turns them into a [`State`] with clear errors, and keeps a
//! writer that has lost the right to write from losing its work: its view goes to a rescue file.

use super::location::StateLocation;
use super::{FORMAT_VERSION, State};
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;

/// A future a backend returns; boxed so the engine can hold any backend behind one pointer.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read {location}: {message}")]
    Read { location: String, message: String },
    #[error("{location} is not valid JSON at line {line}, column {column}: {message}")]
    Corrupt {
        location: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{location} is not a stackctl state: {reason}")]
    NotAState { location: String, reason: String },
    #[error("{location} has format_version {found}; this stackctl reads up to {FORMAT_VERSION}")]
    UnsupportedVersion { location: String, found: u64 },
    #[error("{location} belongs to stack `{found}`, not `{expected}`")]
    WrongStack {
        location: String,
        expected: String,
        found: String,
    },
    #[error("cannot write {location}: {message}")]
    Write { location: String, message: String },
    /// The stored document is no longer the one this run read or last wrote: another run wrote
    /// it, so this run no longer holds the lock it started with.
    #[error(
        "{location} was changed by another run since this one read it: the write was refused, so nothing newer was overwritten{}",
        rescued_note(.rescued)
    )]
    Stale {
        location: String,
        rescued: Option<PathBuf>,
    },
}

fn rescued_note(rescued: &Option<PathBuf>) -> String {
    match rescued {
        Some(path) => format!(
            "; this run's own view of the state is in {}",
            path.display()
        ),
        None => "; this run's own view of the state could not be saved locally".into(),
    }
}

impl StateError {
    pub fn help(&self) -> &'static str {
        match self {
            StateError::Read { .. } | StateError::Write { .. } => {
                "check the location, your credentials and permissions for it, and run again"
            }
            StateError::Corrupt { .. } => {
                "the document was not written by stackctl or was edited by hand; restore an earlier version (stackctl never leaves a half-written document)"
            }
            StateError::NotAState { .. } => {
                "give a state document, as `stackctl state pull` prints it; check --state and the stack file's `state:`"
            }
            StateError::UnsupportedVersion { .. } => {
                "upgrade stackctl to the version that wrote this state"
            }
            StateError::WrongStack { .. } => {
                "pass the right stack file with -f, or the right state with --state"
            }
            StateError::Stale { .. } => {
                "this run lost its lock (its lease expired or it was force-unlocked) and another run took over. Run `stackctl plan` to see where things stand; compare the rescue file with `stackctl state pull`, and only if it is the one to keep, `stackctl state push --force` it"
            }
        }
    }
}

/// Where the state document's bytes live. Reads and writes pair up: a write replaces only the
/// version this backend last read or wrote, and fails with [`StateError::Stale`] otherwise.
pub trait Backend: Send + Sync {
    fn location(&self) -> &StateLocation;
    /// The document, or `None` when there is none yet.
    fn read(&self) -> BoxFuture<'_, Result<Option<Vec<u8>>, StateError>>;
    /// Replaces the document with `document`, which records `serial`.
    fn write(&self, document: Vec<u8>, serial: u64) -> BoxFuture<'_, Result<(), StateError>>;
}

/// The state of one stack, read and written through its backend.
pub struct StateStore {
    backend: Box<dyn Backend>,
    /// The state as last loaded or saved: a save that would change nothing but the serial is
    /// skipped, so a run that changes nothing leaves the state (and plans saved against it) as is.
    last: std::sync::Mutex<Option<State>>,
}

impl StateStore {
    pub fn new(backend: Box<dyn Backend>) -> Self {
        StateStore {
            backend,
            last: std::sync::Mutex::new(None),
        }
    }

    fn remember(&self, state: &State) {
        if let Ok(mut last) = self.last.lock() {
            *last = Some(state.clone());
        }
    }

    /// The serial of the stored state when `state` differs from it only in its serial.
    fn unchanged(&self, state: &State) -> Option<u64> {
        let last = self.last.lock().ok()?;
        let last = last.as_ref()?;
        let same = State {
            serial: last.serial,
            ..state.clone()
        } == *last;
        same.then_some(last.serial)
    }

    /// A local state file.
    pub fn local(path: PathBuf) -> Self {
        StateStore::new(Box::new(super::local::LocalFile::new(path)))
    }

    pub fn location(&self) -> &StateLocation {
        self.backend.location()
    }

    /// How messages name this state: `state file PATH` or `state s3://bucket/key`.
    pub fn describe(&self) -> String {
        describe(self.location())
    }

    /// The stored document as it is, for fingerprints and `state pull`.
    pub async fn read_bytes(&self) -> Result<Option<Vec<u8>>, StateError> {
        self.backend.read().await
    }

    /// The state, or `None` when the stack has never been applied.
    pub async fn load(&self, expected_stack: Option<&str>) -> Result<Option<State>, StateError> {
        match self.backend.read().await? {
            None => Ok(None),
            Some(bytes) => {
                let state = decode(&self.describe(), &bytes, expected_stack)?;
                self.remember(&state);
                Ok(Some(state))
            }
        }
    }

    /// Writes the whole document as the next serial, unless it is the stored one. A write the
    /// backend refuses as stale leaves this run's view in a rescue file, named in the error.
    pub async fn save(&self, state: &mut State) -> Result<(), StateError> {
        if let Some(serial) = self.unchanged(state) {
            state.serial = serial;
            return Ok(());
        }
        state.serial += 1;
        let document = encode(state);
        match self.backend.write(document.clone(), state.serial).await {
            Ok(()) => {
                self.remember(state);
                Ok(())
            }
            Err(StateError::Stale { location, .. }) => Err(StateError::Stale {
                location,
                rescued: rescue(state, &document),
            }),
            Err(other) => Err(other),
        }
    }
}

pub fn describe(location: &StateLocation) -> String {
    match location {
        StateLocation::Local(path) => format!("state file {}", path.display()),
        StateLocation::S3(object) => format!("state {object}"),
    }
}

pub fn encode(state: &State) -> Vec<u8> {
    let mut json = serde_json::to_vec_pretty(state).unwrap_or_default();
    json.push(b'\n');
    json
}

/// Parses a state document, refusing one of another layout version or another stack.
pub fn decode(
    location: &str,
    bytes: &[u8],
    expected_stack: Option<&str>,
) -> Result<State, StateError> {
    let not_a_state = |reason: String| StateError::NotAState {
        location: location.to_string(),
        reason,
    };
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| StateError::Corrupt {
            location: location.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
    if value.get("kind").and_then(serde_json::Value::as_str) == Some("stackctl-plan") {
        return Err(not_a_state(
            "it is a saved plan (`stackctl up FILE` applies one)".into(),
        ));
    }
    let Some(version) = value
        .get("format_version")
        .and_then(serde_json::Value::as_u64)
    else {
        return Err(not_a_state("it has no `format_version`".into()));
    };
    if version != u64::from(FORMAT_VERSION) {
        return Err(StateError::UnsupportedVersion {
            location: location.to_string(),
            found: version,
        });
    }
    let state: State = serde_json::from_value(value).map_err(|e| not_a_state(e.to_string()))?;
    if let Some(expected) = expected_stack
        && state.stack != expected
    {
        return Err(StateError::WrongStack {
            location: location.to_string(),
            expected: expected.to_string(),
            found: state.stack,
        });
    }
    Ok(state)
}

/// Writes a refused document to `stackctl-rescue-<stack>-<serial>.json` in the working directory
/// (or the temporary directory when that is read-only), never over an earlier rescue.
fn rescue(state: &State, document: &[u8]) -> Option<PathBuf> {
    let name = format!(
        "stackctl-rescue-{}-{}-{}.json",
        state.stack,
        state.serial,
        jiff::Timestamp::now().as_second()
    );
    [PathBuf::from("."), std::env::temp_dir()]
        .into_iter()
        .map(|dir| dir.join(&name))
        .find(|path| {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            // Readable by its owner only, like the local state files.
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            options
                .open(path)
                .and_then(|mut file| std::io::Write::write_all(&mut file, document))
                .is_ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: Future>(future: F) -> F::Output {
        // The local backend never awaits anything, so one poll finishes it.
        let mut future = std::pin::pin!(future);
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(output) => output,
            std::task::Poll::Pending => panic!("the local backend does not wait"),
        }
    }

    #[test]
    fn round_trips_and_checks_the_stack() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::local(dir.path().join("nested/s.json"));
        assert!(block_on(store.load(None)).unwrap().is_none());
        let mut state = State::new("demo", "us-east-1");
        block_on(store.save(&mut state)).unwrap();
        assert_eq!(state.serial, 1);
        assert_eq!(block_on(store.load(Some("demo"))).unwrap().unwrap(), state);
        block_on(store.save(&mut state)).unwrap();
        assert_eq!(state.serial, 1, "an unchanged state is not written again");
        state.region = "eu-west-1".into();
        block_on(store.save(&mut state)).unwrap();
        assert_eq!(block_on(store.load(None)).unwrap().unwrap().serial, 2);
        assert!(matches!(
            block_on(store.load(Some("other"))),
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
            block_on(StateStore::local(path.clone()).load(None)),
            Err(StateError::Corrupt { .. })
        ));
        std::fs::write(&path, "{\"format_version\": 99}").unwrap();
        assert!(matches!(
            block_on(StateStore::local(path).load(None)),
            Err(StateError::UnsupportedVersion { found: 99, .. })
        ));
    }
}
