//! Reading and writing saved plans, and checking that one still applies.

use super::{Failure, GlobalArgs};
use crate::engine::Planned;
use crate::plan::saved::{SAVED_PLAN_KIND, SavedPlan, Stale, digest};
use crate::state::location::StateLocation;
use crate::state::store::StateStore;
use std::collections::BTreeMap;
use std::path::Path;

/// Writes `planned` with the fingerprints of what it was made from.
pub fn write(
    path: &Path,
    global: &GlobalArgs,
    planned: &Planned,
    stack_file_bytes: Option<&[u8]>,
    variables: BTreeMap<String, String>,
    store: &StateStore,
    state_bytes: Option<&[u8]>,
) -> Result<(), Failure> {
    let saved = SavedPlan {
        kind: SAVED_PLAN_KIND.into(),
        format_version: crate::plan::PLAN_FORMAT_VERSION,
        stack_file: global.file.display().to_string(),
        stack_file_digest: stack_file_bytes.map(digest),
        variables,
        state_file: store.location().to_string(),
        state_digest: state_bytes.map(digest),
        plan: planned.plan.clone(),
    };
    let json = serde_json::to_string_pretty(&saved).unwrap_or_default();
    std::fs::write(path, json + "\n")
        .map_err(|e| Failure::new(format!("cannot write the plan to {}: {e}", path.display())))
}

pub fn read(path: &Path) -> Result<SavedPlan, Failure> {
    let help = "make one with `stackctl plan -o plan.json`";
    let text = std::fs::read(path).map_err(|e| {
        Failure::new(format!("cannot read the plan {}: {e}", path.display())).help(help)
    })?;
    let saved: SavedPlan = serde_json::from_slice(&text).map_err(|e| {
        Failure::new(format!(
            "{} is not a saved stackctl plan: {e}",
            path.display()
        ))
        .help(help)
    })?;
    if saved.kind != SAVED_PLAN_KIND || saved.format_version != crate::plan::PLAN_FORMAT_VERSION {
        return Err(Failure::new(format!(
            "{} is not a saved plan this stackctl can apply",
            path.display()
        ))
        .help(help));
    }
    Ok(saved)
}

/// The state document's bytes, when there is one.
pub async fn state_bytes(store: &StateStore) -> Result<Option<Vec<u8>>, Failure> {
    store
        .read_bytes()
        .await
        .map_err(super::state_access::state_failure)
}

/// Refuses a saved plan made against another state than the one this run locked (another
/// `--state` or `STACKCTL_STATE`): its fingerprint would differ, but "changed since" would be the
/// wrong reason.
pub fn check_state(saved: &SavedPlan, location: &StateLocation) -> Result<(), Failure> {
    let planned = StateLocation::parse(&saved.state_file, Path::new(""));
    let same = match (&planned, location) {
        (Ok(StateLocation::S3(a)), StateLocation::S3(b)) => a.bucket == b.bucket && a.key == b.key,
        (Ok(StateLocation::Local(a)), StateLocation::Local(b)) => {
            std::path::absolute(a).ok() == std::path::absolute(b).ok()
        }
        _ => false,
    };
    if same {
        return Ok(());
    }
    Err(Failure::new(format!(
        "the saved plan was made against the state {}, but this run's state is {location}",
        saved.state_file
    ))
    .help(format!(
        "apply it with the state it was made against (--state {}), or make a new plan against this one",
        saved.state_file
    )))
}

pub fn stale(error: Stale) -> Failure {
    Failure::new(format!("the saved plan no longer applies: {error}"))
        .help("make a new plan (`stackctl plan -o plan.json`), review it, and apply that one")
}

/// The global arguments a saved plan was made with: its stack file, whatever `-f` says now.
/// The global arguments a saved plan is applied with: its stack file (relative to the directory it
/// was made in, as a checkout's root is in CI), its state unless another is named (then refused by
/// [`check_state`]), and, when no `--var` is given and the stack file is the one planned, the
/// variable values it was made with, as Terraform applies a saved plan.
pub fn globals_for(global: &GlobalArgs, saved: &SavedPlan) -> Result<GlobalArgs, Failure> {
    let explicit_file = std::env::args().any(|a| {
        a == "-f"
            || a == "--file"
            || a.starts_with("--file=")
            || (a.starts_with("-f") && a.len() > 2)
    });
    if explicit_file && global.file != Path::new(&saved.stack_file) {
        return Err(Failure::new(format!(
            "a saved plan applies to the stack file it was made from ({}), not {}",
            saved.stack_file,
            global.file.display()
        ))
        .help("leave out -f, or make a plan of that stack file"));
    }
    let mut global = global.clone();
    global.file = saved.stack_file.clone().into();
    if global.state.is_none() {
        global.state = Some(saved.state_file.clone());
    }
    let stack_bytes = std::fs::read(&global.file).ok();
    if global.vars.is_empty() && stack_bytes.as_deref().map(digest) == saved.stack_file_digest {
        global.vars = saved
            .variables
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
    }
    Ok(global)
}

/// Refuses a saved plan whose stack file is not where it was when the plan was made.
pub fn check_stack_file(saved: &SavedPlan) -> Result<(), Failure> {
    if saved.stack_file_digest.is_none() || Path::new(&saved.stack_file).is_file() {
        return Ok(());
    }
    Err(Failure::new(format!(
        "the saved plan was made from the stack file {}, which is not there from this directory",
        saved.stack_file
    ))
    .help("run `stackctl up PLAN` from the directory the plan was made in (in CI, the checkout's root)"))
}
