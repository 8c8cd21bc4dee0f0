//! Reading and writing the state document, wherever it is kept. A [`Backend`] moves bytes (a local
//! file, an S3 object); [`StateStore`] turns them into a [`State`] with clear errors, and keeps a
//! writer that has lost the right to write from losing its work: its view goes to a rescue file.

use super::journal::{self, Record};
use super::location::StateLocation;
use super::{FORMAT_VERSION, State};
use std::collections::BTreeSet;
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
    #[error("the journal of {location} cannot be replayed, at line {line}: {message}")]
    Journal {
        location: String,
        line: usize,
        message: String,
    },
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
            StateError::Journal { .. } => {
                "the journal beside the state holds the steps of a run that ended before it rewrote the state; it was changed by something other than stackctl. Restore it from a backup; removing it loses the steps it records"
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
    /// Replaces the document with `document`, which records `serial`, and drops the journal.
    fn write(&self, document: Vec<u8>, serial: u64) -> BoxFuture<'_, Result<(), StateError>>;
    /// Whether this backend keeps a journal beside the document ([`journal`]): then a step is
    /// saved by appending what it changed, and the document is rewritten only now and then.
    fn keeps_journal(&self) -> bool {
        false
    }
    /// Appends one record, which brings the state to `serial`, to the journal, durably, before it
    /// returns. A backend that other runs can write refuses it as [`StateError::Stale`] when the
    /// state moved on since this run last read or wrote it.
    fn append(&self, _record: Vec<u8>, _serial: u64) -> BoxFuture<'_, Result<(), StateError>> {
        let location = describe(self.location());
        Box::pin(std::future::ready(Err(StateError::Write {
            location,
            message: "this backend keeps no journal".into(),
        })))
    }
    /// The journal, or `None` when there is none.
    fn read_journal(&self) -> BoxFuture<'_, Result<Option<Vec<u8>>, StateError>> {
        Box::pin(std::future::ready(Ok(None)))
    }
}

/// The state as last loaded or saved, and how many journal records follow the stored document.
struct Persisted {
    state: State,
    journal_records: usize,
}

/// The state of one stack, read and written through its backend.
pub struct StateStore {
    backend: Box<dyn Backend>,
    /// What is stored: a save writes only what differs from it, and a save that would change
    /// nothing but the serial is skipped, so a run that changes nothing leaves the state (and
    /// plans saved against it) as is. Taken out while a save runs, so no lock is held across it.
    last: std::sync::Mutex<Option<Persisted>>,
}

/// A journal longer than the stack (and than this floor) is compacted into the document: the
/// rewrite costs as much as the steps since the last one, so each step still costs the same.
const COMPACT_AFTER_AT_LEAST: usize = 64;

impl StateStore {
    pub fn new(backend: Box<dyn Backend>) -> Self {
        StateStore {
            backend,
            last: std::sync::Mutex::new(None),
        }
    }

    fn take_last(&self) -> Option<Persisted> {
        self.last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    fn put_last(&self, persisted: Option<Persisted>) {
        *self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = persisted;
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

    /// The stored document, with the journal of an unfinished run replayed over it, for
    /// fingerprints and `state pull`: the same bytes the run would have written at its end.
    pub async fn read_bytes(&self) -> Result<Option<Vec<u8>>, StateError> {
        // The journal first: a run that compacts in between leaves a newer document whose serial
        // covers the records read, never an older one missing them.
        let journal = self.backend.read_journal().await?;
        let Some(bytes) = self.backend.read().await? else {
            return Ok(None);
        };
        let Some(journal) = journal else {
            return Ok(Some(bytes));
        };
        // A document that is not a state is reported as such by whoever decodes it.
        let Ok(mut state) = decode(&self.describe(), &bytes, None) else {
            return Ok(Some(bytes));
        };
        match self.replay(&mut state, &journal)? {
            0 => Ok(Some(bytes)),
            _ => Ok(Some(encode(&state))),
        }
    }

    fn replay(&self, state: &mut State, journal: &[u8]) -> Result<usize, StateError> {
        journal::replay(state, journal).map_err(|e| StateError::Journal {
            location: self.describe(),
            line: e.line,
            message: e.message,
        })
    }

    /// The state, or `None` when the stack has never been applied.
    pub async fn load(&self, expected_stack: Option<&str>) -> Result<Option<State>, StateError> {
        // The journal first, as in `read_bytes`.
        let journal = self.backend.read_journal().await?;
        let Some(bytes) = self.backend.read().await? else {
            return Ok(None);
        };
        let mut state = decode(&self.describe(), &bytes, expected_stack)?;
        let journal_records = match journal {
            Some(journal) => self.replay(&mut state, &journal)?,
            None => 0,
        };
        self.put_last(Some(Persisted {
            state: state.clone(),
            journal_records,
        }));
        Ok(Some(state))
    }

    /// Saves a step: only the entries changed since the last save (as `state.resources` marks
    /// them) are compared and written, appended to the journal where the backend keeps one, so the
    /// cost does not grow with the stack. A state this store did not load or save, or one whose
    /// identity changed, is written whole. Nothing is written when nothing but the serial differs.
    /// A write the backend refuses as stale leaves this run's view in a rescue file, named in the
    /// error.
    pub async fn save(&self, state: &mut State) -> Result<(), StateError> {
        let changed = state.resources.take_changed();
        let Some(mut last) = self.take_last() else {
            return self.save_whole(state).await;
        };
        let Some(mut record) = step_record(&last.state, state, &changed) else {
            self.put_last(Some(last));
            return self.save_whole(state).await;
        };
        if record.put.is_empty() && record.remove.is_empty() && record.retained.is_none() {
            state.serial = last.state.serial;
            self.put_last(Some(last));
            return Ok(());
        }
        record.serial = last.state.serial + 1;
        let journal = self.backend.keeps_journal()
            && last.journal_records < COMPACT_AFTER_AT_LEAST.max(last.state.resources.len());
        let written = if journal {
            match self.backend.append(record.encode(), record.serial).await {
                Err(StateError::Stale { location, .. }) => {
                    state.serial = record.serial;
                    let rescued = rescue(state, &encode(state));
                    Err(StateError::Stale { location, rescued })
                }
                other => other,
            }
        } else {
            state.serial = record.serial;
            self.write_whole(state).await
        };
        match written {
            Ok(()) => {
                state.serial = record.serial;
                record.apply_to(&mut last.state);
                last.state.resources.take_changed();
                last.journal_records = if journal { last.journal_records + 1 } else { 0 };
                self.put_last(Some(last));
                Ok(())
            }
            Err(error) => {
                // Not written: the next save must still see these entries as changed.
                state.serial = last.state.serial;
                state.resources.mark_changed(changed);
                self.put_last(Some(last));
                Err(error)
            }
        }
    }

    /// Writes the whole document as the next serial, unless it is the stored one (compared whole).
    /// For states read from elsewhere: a pushed document, an imported entry.
    pub async fn save_whole(&self, state: &mut State) -> Result<(), StateError> {
        state.resources.take_changed();
        let last = self.take_last();
        if let Some(stored) = &last
            && (State {
                serial: stored.state.serial,
                ..state.clone()
            }) == stored.state
        {
            state.serial = stored.state.serial;
            self.put_last(last);
            return Ok(());
        }
        let previous_serial = state.serial;
        state.serial += 1;
        match self.write_whole(state).await {
            Ok(()) => {
                self.put_last(Some(Persisted {
                    state: state.clone(),
                    journal_records: 0,
                }));
                Ok(())
            }
            Err(error) => {
                state.serial = previous_serial;
                self.put_last(last);
                Err(error)
            }
        }
    }

    async fn write_whole(&self, state: &State) -> Result<(), StateError> {
        let document = encode(state);
        match self.backend.write(document.clone(), state.serial).await {
            Ok(()) => Ok(()),
            Err(StateError::Stale { location, .. }) => Err(StateError::Stale {
                location,
                rescued: rescue(state, &document),
            }),
            Err(other) => Err(other),
        }
    }

    /// Rewrites the document with the journal folded in, and drops the journal: at the end of a
    /// run, so the next reader has one document to read.
    pub async fn compact(&self) -> Result<(), StateError> {
        let Some(mut last) = self.take_last() else {
            return Ok(());
        };
        let result = if last.journal_records > 0 {
            self.write_whole(&last.state).await
        } else {
            Ok(())
        };
        if result.is_ok() {
            last.journal_records = 0;
        }
        self.put_last(Some(last));
        result
    }
}

/// What a step changed since `stored`, for the entries `changed` names; `None` when `state` is not
/// the stored state moved on (another lineage, stack or region, or entries added or removed that
/// were not marked), and must be compared and written whole.
fn step_record(stored: &State, state: &State, changed: &BTreeSet<String>) -> Option<Record> {
    let same_identity = stored.lineage == state.lineage
        && stored.stack == state.stack
        && stored.region == state.region
        && stored.format_version == state.format_version;
    if !same_identity {
        return None;
    }
    let mut record = Record {
        serial: stored.serial,
        lineage: state.lineage.clone(),
        put: Default::default(),
        remove: Vec::new(),
        retained: (stored.retained != state.retained).then(|| state.retained.clone()),
    };
    let (mut added, mut removed) = (0usize, 0usize);
    for name in changed {
        match (state.resources.get(name), stored.resources.get(name)) {
            (Some(now), Some(before)) if now == before => {}
            (Some(now), before) => {
                added += usize::from(before.is_none());
                record.put.insert(name.clone(), now.clone());
            }
            (None, Some(_)) => {
                removed += 1;
                record.remove.push(name.clone());
            }
            (None, None) => {}
        }
    }
    (stored.resources.len() + added - removed == state.resources.len()).then_some(record)
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
    use crate::state::Resources;

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

    fn entry(id: &str) -> crate::state::ResourceState {
        serde_json::from_value(serde_json::json!({
            "type": "security-group", "status": "created", "id": id,
            "updated_at": "2026-01-01T00:00:00Z"
        }))
        .unwrap()
    }

    fn journal_lines(path: &std::path::Path) -> usize {
        let mut journal = path.as_os_str().to_owned();
        journal.push(".journal");
        std::fs::read(journal)
            .map(|bytes| bytes.iter().filter(|&&b| b == b'\n').count())
            .unwrap_or(0)
    }

    #[test]
    fn steps_go_to_the_journal_and_a_reader_sees_them_before_compaction() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let store = StateStore::local(path.clone());
        let mut state = State::new("demo", "us-east-1");
        block_on(store.save(&mut state)).unwrap();
        let document = std::fs::read(&path).unwrap();
        for n in 0..5 {
            state
                .resources
                .insert(format!("g{n}"), entry(&format!("sg-{n}")));
            block_on(store.save(&mut state)).unwrap();
        }
        state.resources.remove("g0");
        state.resources.get_mut("g1").unwrap().id = Some("sg-changed".into());
        block_on(store.save(&mut state)).unwrap();
        // Marked but unchanged: nothing written.
        state.resources.get_mut("g2");
        block_on(store.save(&mut state)).unwrap();
        assert_eq!(state.serial, 7);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            document,
            "steps never rewrite the document"
        );
        assert_eq!(journal_lines(&path), 6);

        // Another reader (a crash before compaction): the journal is replayed.
        let reader = StateStore::local(path.clone());
        let seen = block_on(reader.load(Some("demo"))).unwrap().unwrap();
        assert_eq!(seen, state);
        assert_eq!(
            block_on(reader.read_bytes()).unwrap().unwrap(),
            encode(&state),
            "fingerprints see the replayed state"
        );

        block_on(store.compact()).unwrap();
        assert_eq!(journal_lines(&path), 0, "compaction drops the journal");
        assert_eq!(std::fs::read(&path).unwrap(), encode(&state));
        assert_eq!(block_on(reader.load(None)).unwrap().unwrap(), state);
    }

    #[test]
    fn a_long_journal_is_folded_into_the_document_as_it_goes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let store = StateStore::local(path.clone());
        let mut state = State::new("demo", "us-east-1");
        block_on(store.save(&mut state)).unwrap();
        for n in 0..(COMPACT_AFTER_AT_LEAST * 3) {
            state
                .resources
                .insert(format!("g{n}"), entry(&format!("sg-{n}")));
            block_on(store.save(&mut state)).unwrap();
            assert!(journal_lines(&path) <= COMPACT_AFTER_AT_LEAST.max(n + 1));
        }
        let reader = StateStore::local(path);
        assert_eq!(block_on(reader.load(None)).unwrap().unwrap(), state);
    }

    #[test]
    fn a_whole_save_replaces_what_a_step_save_would_miss() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let store = StateStore::local(path.clone());
        let mut state = State::new("demo", "us-east-1");
        state.resources.insert("a".into(), entry("sg-1"));
        block_on(store.save(&mut state)).unwrap();
        // A document read from elsewhere carries no marks: it must be compared whole.
        let mut pushed: State = serde_json::from_slice(&encode(&state)).unwrap();
        pushed.resources = Resources::default();
        pushed.resources.take_changed();
        block_on(store.save_whole(&mut pushed)).unwrap();
        assert_eq!(pushed.serial, 2);
        let reader = StateStore::local(path);
        assert!(
            block_on(reader.load(None))
                .unwrap()
                .unwrap()
                .resources
                .is_empty()
        );
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
