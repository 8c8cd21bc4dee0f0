//! Finding, opening and locking the state: a local file or an S3 object, as `--state`,
//! `STACKCTL_STATE` or the stack file's `state:` says.

use super::context::{check_endpoint, confirm, region};
use super::{Failure, GlobalArgs, Printer, interrupts};
use crate::aws::Connection;
use crate::aws::s3_lock::LeasedLock;
use crate::aws::s3_state::S3State;
use crate::diagnostics::Sources;
use crate::engine::Cancel;
use crate::state::State;
use crate::state::location::{S3Object, StateLocation};
use crate::state::lock::{Lock, LockError, LockInfo};
use crate::state::store::{StateError, StateStore};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Where the state is: `--state`, then the stack file's `state:`, then the default local file.
pub fn state_location(global: &GlobalArgs, printer: &Printer) -> Result<StateLocation, Failure> {
    let location = chosen_location(global, printer)?;
    if let Some(location) = &location
        && let Ok(default) = state_path(global)
        && default.is_file()
        && *location != StateLocation::Local(default.clone())
    {
        printer.warning(&format!(
            "this run uses the state {location}, and {} is another state of this stack file: if the state was moved, remove that file so that no run without --state uses it",
            default.display()
        ));
    }
    match location {
        Some(location) => Ok(location),
        None => state_path(global).map(StateLocation::Local),
    }
}

/// Whether the state was named on the command line (`--state`) rather than by `STACKCTL_STATE`.
fn state_from_flag() -> bool {
    std::env::args().any(|a| a == "--state" || a.starts_with("--state="))
}

/// The location `--state` (or `STACKCTL_STATE`) or the stack file's `state:` gives, if any.
fn chosen_location(
    global: &GlobalArgs,
    printer: &Printer,
) -> Result<Option<StateLocation>, Failure> {
    if let Some(text) = &global.state {
        let source = if state_from_flag() {
            "--state"
        } else {
            "STACKCTL_STATE"
        };
        // Never "no location, so the default": an empty CI variable must not send a run to
        // whatever local state happens to be there.
        if text.trim().is_empty() {
            return Err(Failure::new(format!("{source} is set but empty")).help(format!(
                "give the state's location, or unset {source} to use the stack file's `state:` or the default local file; nothing was changed"
            )));
        }
        return StateLocation::parse(text, Path::new(""))
            .map(Some)
            .map_err(|e| {
                let help = e.help();
                Failure::new(format!("{source}: {e}")).help(help)
            });
    }
    let mut sources = Sources::default();
    crate::spec::load::state_setting(&global.file, &mut sources).map_err(|diagnostics| {
        printer.stderr(&sources.render(&diagnostics, printer.color));
        Failure::new(format!(
            "{} names its state in a way stackctl cannot use",
            global.file.display()
        ))
        .help("fix `state:` in the stack file, or pass --state; nothing was sent to AWS")
    })
}

/// The default state file: `.stackctl/<stack file name>.state.json` beside the stack file. It
/// depends on the file's path, not its content, so `down` finds it even after the file is gone; and
/// on the whole file name, so `app.yaml` and `app.yml` in one folder never share a state.
fn state_path(global: &GlobalArgs) -> Result<PathBuf, Failure> {
    let dir = global.file.parent().map(PathBuf::from).unwrap_or_default();
    let file_name = global
        .file
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "stack".into());
    let path = dir
        .join(".stackctl")
        .join(format!("{file_name}.state.json"));
    match legacy_state_path(&dir, &global.file) {
        Some(legacy) if !path.exists() => {
            let (stem, siblings) = legacy;
            if siblings.len() > 1 {
                return Err(Failure::new(format!(
                    "{} is the state of an earlier stackctl, named after `{stem}` alone, and {} share that name",
                    stem_state(&dir, &stem).display(),
                    siblings.join(" and ")
                ))
                .help(format!(
                    "move it to the state of the stack file it belongs to, e.g. `mv {} {}`",
                    stem_state(&dir, &stem).display(),
                    path.display()
                )));
            }
            Ok(stem_state(&dir, &stem))
        }
        _ => Ok(path),
    }
}

fn stem_state(dir: &Path, stem: &str) -> PathBuf {
    dir.join(".stackctl").join(format!("{stem}.state.json"))
}

/// A state written by stackctl before states were named after the whole file name
/// (`.stackctl/<stem>.state.json`), and the stack files in the folder that share that stem.
fn legacy_state_path(dir: &Path, file: &Path) -> Option<(String, Vec<String>)> {
    let stem = file.file_stem()?.to_string_lossy().into_owned();
    if !stem_state(dir, &stem).is_file() {
        return None;
    }
    let listing = if dir.as_os_str().is_empty() {
        std::fs::read_dir(".")
    } else {
        std::fs::read_dir(dir)
    };
    let mut siblings: Vec<String> = listing
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            Path::new(n)
                .file_stem()
                .is_some_and(|s| s.to_string_lossy() == stem)
                && matches!(
                    Path::new(n).extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml")
                )
        })
        .collect();
    siblings.sort();
    Some((stem, siblings))
}

/// The stack name of the stack file, when there is one: a state of another stack is refused by
/// every command, `down` included. Without a file, the state's own lineage guards what `down` deletes.
pub fn file_stack(global: &GlobalArgs) -> Option<String> {
    crate::spec::load::stack_name(&global.file)
}

pub async fn load_state(store: &StateStore, stack: Option<&str>) -> Result<Option<State>, Failure> {
    store.load(stack).await.map_err(state_failure)
}

pub fn state_failure(error: StateError) -> Failure {
    let help = error.help();
    Failure::new(error.to_string()).help(help)
}

fn lock_failure(error: LockError) -> Failure {
    let help = error.help();
    Failure::new(error.to_string()).help(help)
}

/// `command` with the flags that name this run's state, so a suggested command acts on it.
fn with_state_flags(global: &GlobalArgs, command: &str) -> String {
    let mut words = vec![command.to_string()];
    if global.file != Path::new("stack.yaml") {
        words.push(format!("-f {}", global.file.display()));
    }
    if let (true, Some(state)) = (state_from_flag(), &global.state) {
        words.push(format!("--state {state}"));
    }
    words.join(" ")
}

/// A lock held by another run, with the `force-unlock` command that names this run's state.
fn held_failure(global: &GlobalArgs, error: LockError) -> Failure {
    match &error {
        LockError::Held(info) => {
            let help = error.help().replace(
                &format!("`stackctl force-unlock {}`", info.id),
                &format!(
                    "`{}`",
                    with_state_flags(global, &format!("stackctl force-unlock {}", info.id))
                ),
            );
            Failure::new(error.to_string()).help(help)
        }
        _ => lock_failure(error),
    }
}

/// Opens the state wherever it is kept. `stack_region` is the stack file's region, when known: an
/// S3 state's bucket is reached in the region its URL names, else the run's.
pub async fn open_state(
    global: &GlobalArgs,
    printer: &Printer,
    stack_region: Option<&str>,
) -> Result<StateStore, Failure> {
    Ok(match state_location(global, printer)? {
        StateLocation::Local(path) => StateStore::local(path),
        StateLocation::S3(object) => {
            let client = s3_client(global, &object, stack_region).await?;
            StateStore::new(Box::new(S3State::new(client, object)))
        }
    })
}

async fn s3_client(
    global: &GlobalArgs,
    object: &S3Object,
    stack_region: Option<&str>,
) -> Result<aws_sdk_s3::Client, Failure> {
    check_endpoint(global).await?;
    let file_region = crate::spec::load::literal_region(&global.file);
    let region = match object
        .region
        .as_deref()
        .or(global.region.as_deref())
        .or(stack_region)
        .or(file_region.as_deref())
    {
        Some(region) => region.to_string(),
        // Without a region anywhere in the file or the flags, the configured one; a bucket in
        // another region answers with a redirect, whose error says to add `?region=`.
        None => region(global, None)
            .await
            .unwrap_or_else(|_| "us-east-1".to_string()),
    };
    Ok(crate::aws::s3_state::client(
        &Connection {
            region,
            profile: global.profile.clone(),
            endpoint_url: global.endpoint_url.clone(),
        },
        object,
    )
    .await)
}

/// The state store of a run that changes infrastructure, with its lock held.
pub struct LockedState {
    /// Shared with what an interrupt runs before the process exits.
    pub store: std::sync::Arc<StateStore>,
    lock: HeldLock,
}

enum HeldLock {
    /// A kernel lock: the kernel releases it if the process dies first.
    Local(Lock),
    /// A lease, renewed while the run lives.
    Leased(LeasedLock),
}

impl LockedState {
    /// What stops the engine: an interrupt, or a lease that could not be renewed.
    pub fn cancel(&self) -> Cancel {
        let cancel = interrupts::cancel();
        match &self.lock {
            HeldLock::Local(_) => cancel,
            HeldLock::Leased(lock) => cancel.with_lock(lock.lost()),
        }
    }

    /// Releases the lock; a lease that cannot be released is said, and ends by itself.
    pub async fn release(self, printer: &Printer) {
        interrupts::forget_release();
        match self.lock {
            HeldLock::Local(lock) => drop(lock),
            HeldLock::Leased(lock) => {
                if let Some(warning) = lock.release().await {
                    printer.warning(&warning);
                }
            }
        }
    }
}

/// Before an interrupt ends the process: the journal is folded into the document, so whoever reads
/// the document alone (not the next stackctl run, which replays the journal) sees every step.
async fn fold_journal(store: std::sync::Arc<StateStore>) {
    let _ = store.compact().await;
}

/// How long an S3 lock's lease lasts unless renewed: STACKCTL_LOCK_LEASE_SECONDS, or 120 s.
fn lease() -> Result<std::time::Duration, Failure> {
    const DEFAULT: u64 = 120;
    let Ok(text) = std::env::var("STACKCTL_LOCK_LEASE_SECONDS") else {
        return Ok(std::time::Duration::from_secs(DEFAULT));
    };
    match text.trim().parse::<u64>() {
        Ok(seconds @ 3..=86_400) => Ok(std::time::Duration::from_secs(seconds)),
        _ => Err(Failure::new(format!(
            "STACKCTL_LOCK_LEASE_SECONDS is `{text}`: it must be a whole number of seconds from 3 to 86400"
        ))
        .help(format!("unset it for the default of {DEFAULT} s"))),
    }
}

/// Runs `work` with the state locked for `operation`, and releases the lock however it ends.
pub async fn with_lock<T>(
    global: &GlobalArgs,
    printer: &Printer,
    operation: &str,
    stack_region: Option<&str>,
    work: impl AsyncFnOnce(&LockedState) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let locked = lock_state(global, printer, operation, stack_region).await?;
    let result = work(&locked).await;
    locked.release(printer).await;
    result
}

/// Finds the state and takes its lock for `operation`; fails at once when another run holds it.
async fn lock_state(
    global: &GlobalArgs,
    printer: &Printer,
    operation: &str,
    stack_region: Option<&str>,
) -> Result<LockedState, Failure> {
    match state_location(global, printer)? {
        StateLocation::Local(path) => {
            let lock = Lock::acquire(&path, operation).map_err(lock_failure)?;
            let store = std::sync::Arc::new(StateStore::local(path));
            interrupts::release_on_exit(fold_journal(store.clone()));
            Ok(LockedState {
                store,
                lock: HeldLock::Local(lock),
            })
        }
        StateLocation::S3(object) => {
            let lease = lease()?;
            let client = s3_client(global, &object, stack_region).await?;
            let lock = LeasedLock::acquire(&client, &object, operation, lease)
                .await
                .map_err(|e| held_failure(global, e))?;
            if let Some(ended) = &lock.took_over {
                let why = if ended
                    .expires
                    .is_some_and(|end| end > jiff::Timestamp::now())
                {
                    "whose process on this machine has exited"
                } else {
                    "whose lease had ended"
                };
                printer.warning(&format!("took over the lock of {object}, {why}: {ended}"));
            }
            let store =
                std::sync::Arc::new(StateStore::new(Box::new(S3State::new(client, object))));
            let release = lock.releaser();
            let folded = fold_journal(store.clone());
            interrupts::release_on_exit(async move {
                folded.await;
                release.await;
            });
            Ok(LockedState {
                store,
                lock: HeldLock::Leased(lock),
            })
        }
    }
}

/// Clears a lock: a local lock file a killed run left, or an S3 lock by its id, even with a
/// live lease.
pub async fn force_unlock(
    global: &GlobalArgs,
    printer: &Printer,
    id: &str,
) -> Result<Option<LockInfo>, Failure> {
    match state_location(global, printer)? {
        StateLocation::Local(path) => Lock::force_unlock(&path, id).map_err(lock_failure),
        StateLocation::S3(object) => {
            if !global.yes && !std::io::stdin().is_terminal() {
                return Err(Failure::new(format!(
                    "removing the lock of {object} needs confirmation, but stdin is not a terminal"
                ))
                .help(format!(
                    "if its run is surely gone, pass --yes: `{} --yes`",
                    with_state_flags(global, &format!("stackctl force-unlock {id}"))
                )));
            }
            let question = format!(
                "Remove lock {id} of {object}, even if its lease has not ended? If its run is still alive, it notices at its next renewal and starts nothing new."
            );
            if !confirm(global, &question) {
                return Err(Failure::new("cancelled: the lock was left as it is"));
            }
            let client = s3_client(global, &object, None).await?;
            LeasedLock::force_unlock(&client, &object, id)
                .await
                .map(Some)
                .map_err(lock_failure)
        }
    }
}
