//! `stackctl state list | show | rm | mv | pull | push`: the state itself, on either backend,
//! without touching AWS.

use super::args::StateCommand;
use super::state_access;
use super::state_access::LockedState;
use super::{Failure, GlobalArgs, Printer, Status};
use crate::state::State;
use crate::state::store::{decode, encode};
use serde_json::{Value as Json, json};

pub async fn state(
    global: &GlobalArgs,
    command: &StateCommand,
    printer: &Printer,
) -> Result<Status, Failure> {
    let expected = state_access::file_stack(global);
    let expected = expected.as_deref();
    match command {
        StateCommand::List | StateCommand::Show { .. } | StateCommand::Pull => {
            let store = state_access::open_state(global, printer, None).await?;
            if let StateCommand::Pull = command {
                let bytes = super::saved_plan::state_bytes(&store)
                    .await?
                    .ok_or_else(|| no_state(&store.location().to_string()))?;
                // Checked, so what is pulled can be pushed back.
                decode(&store.describe(), &bytes, expected).map_err(state_access::state_failure)?;
                printer.data(String::from_utf8_lossy(&bytes).trim_end());
                return Ok(Status::Success);
            }
            let Some(state) = state_access::load_state(&store, expected).await? else {
                if let StateCommand::Show { .. } = command {
                    return Err(no_state(&store.location().to_string()));
                }
                printer.info(&format!("No state at {}.", store.location()));
                return Ok(Status::Success);
            };
            match command {
                StateCommand::Show { name } => show(printer, &state, name),
                _ => list(printer, &state),
            }
        }
        StateCommand::Rm { .. } | StateCommand::Mv { .. } | StateCommand::Push { .. } => {
            let operation = match command {
                StateCommand::Rm { .. } => "state rm",
                StateCommand::Mv { .. } => "state mv",
                _ => "state push",
            };
            state_access::with_lock(global, printer, operation, None, async |locked| {
                change(printer, command, expected, locked).await
            })
            .await
        }
    }
}

fn no_state(location: &str) -> Failure {
    Failure::new(format!("no state at {location}"))
        .help("check -f and --state; `stackctl up` creates the state")
}

fn unknown(name: &str) -> Failure {
    Failure::new(format!("the state records no resource `{name}`"))
        .help("`stackctl state list` shows what it records; nothing was changed")
}

fn list(printer: &Printer, state: &State) -> Result<Status, Failure> {
    if printer.json {
        let rows: Vec<Json> = state
            .resources
            .iter()
            .map(|(name, r)| json!({"name": name, "type": r.kind, "status": r.status, "id": r.id}))
            .collect();
        printer.data(&serde_json::to_string_pretty(&rows).unwrap_or_default());
        return Ok(Status::Success);
    }
    for (name, r) in &state.resources {
        let id = r.id.as_deref().unwrap_or("(no id yet)");
        printer.data(&format!("{name}\t{}\t{id}", r.kind));
    }
    Ok(Status::Success)
}

fn show(printer: &Printer, state: &State, name: &str) -> Result<Status, Failure> {
    let entry = state.resources.get(name).ok_or_else(|| unknown(name))?;
    if printer.json {
        printer.data(&serde_json::to_string_pretty(entry).unwrap_or_default());
        return Ok(Status::Success);
    }
    let mut lines = vec![
        format!("{name} ({})", entry.kind),
        format!(
            "  status: {}",
            json!(entry.status).as_str().unwrap_or_default()
        ),
        format!("  id: {}", entry.id.as_deref().unwrap_or("(none yet)")),
    ];
    if let Some(physical) = &entry.physical_name {
        lines.push(format!("  name in AWS: {physical}"));
    }
    if !entry.depends_on.is_empty() {
        lines.push(format!("  depends on: {}", entry.depends_on.join(", ")));
    }
    if entry.imported {
        lines.push("  imported: yes".into());
    }
    lines.push(format!("  updated: {}", entry.updated_at));
    if !entry.outputs.is_empty() {
        lines.push("  outputs:".into());
        for (key, value) in &entry.outputs {
            lines.push(format!("    {key} = {value}"));
        }
    }
    if !entry.config.is_null() {
        lines.push("  configuration:".into());
        let config = serde_json::to_string_pretty(&entry.config).unwrap_or_default();
        lines.extend(config.lines().map(|l| format!("    {l}")));
    }
    printer.data(&lines.join("\n"));
    Ok(Status::Success)
}

async fn change(
    printer: &Printer,
    command: &StateCommand,
    expected: Option<&str>,
    locked: &LockedState,
) -> Result<Status, Failure> {
    // `push --force` is also how a state overwritten with another stack's document is mended.
    let current_stack = match command {
        StateCommand::Push { force: true, .. } => None,
        _ => expected,
    };
    let current = state_access::load_state(&locked.store, current_stack).await?;
    let location = locked.store.location().to_string();
    let (mut state, message) = match command {
        StateCommand::Push { document, force } => {
            push(document, *force, expected, current, &location)?
        }
        _ => {
            let mut state = current.ok_or_else(|| no_state(&location))?;
            let message = match command {
                StateCommand::Rm { names } => forget(&mut state, names)?,
                StateCommand::Mv { from, to } => rename(&mut state, from, to, &location)?,
                _ => unreachable!("only changes reach here"),
            };
            (state, message)
        }
    };
    state.format_version = crate::state::FORMAT_VERSION;
    let before = state.serial;
    locked
        .store
        .save_whole(&mut state)
        .await
        .map_err(state_access::state_failure)?;
    if state.serial == before && matches!(command, StateCommand::Push { .. }) {
        printer.info(&format!(
            "{location} already holds that document (serial {}); nothing was written.",
            state.serial
        ));
    } else {
        printer.info(&message.replace("{serial}", &state.serial.to_string()));
    }
    Ok(Status::Success)
}

fn forget(state: &mut State, names: &[String]) -> Result<String, Failure> {
    if let Some(missing) = names.iter().find(|n| !state.resources.contains_key(*n)) {
        return Err(unknown(missing));
    }
    let mut forgotten = Vec::new();
    for name in names {
        if let Some(entry) = state.resources.remove(name) {
            // Left in AWS on purpose: not something the state lost track of.
            state.retained.extend(entry.aws_ids());
            forgotten.push(format!(
                "{name} ({} {})",
                entry.kind,
                entry.id.as_deref().unwrap_or("with no id yet")
            ));
        }
    }
    Ok(format!(
        "forgot {}: AWS was not touched; they stay there, no longer managed by this state (`stackctl import NAME ID` takes one back).",
        forgotten.join(", ")
    ))
}

fn rename(state: &mut State, from: &str, to: &str, location: &str) -> Result<String, Failure> {
    if !state.resources.contains_key(from) {
        return Err(unknown(from));
    }
    if state.resources.contains_key(to) {
        return Err(
            Failure::new(format!("the state already records a resource `{to}`"))
                .help("choose a key the state does not use"),
        );
    }
    state.rename(from, to);
    Ok(format!(
        "moved `{from}` to `{to}` in {location}; AWS was not touched. The stack file must call it `{to}` too (or keep `moved: {{ {from}: {to} }}` there instead of this command)."
    ))
}

/// The state `file` holds, checked against the current one: a push never silently replaces a
/// newer state, or another stack's.
fn push(
    file: &std::path::Path,
    force: bool,
    expected: Option<&str>,
    current: Option<State>,
    location: &str,
) -> Result<(State, String), Failure> {
    let bytes = std::fs::read(file).map_err(|e| {
        Failure::new(format!("cannot read {}: {e}", file.display()))
            .help("give the path of a state document, as written by `stackctl state pull`")
    })?;
    let pushed = decode(&format!("state file {}", file.display()), &bytes, expected)
        .map_err(state_access::state_failure)?;
    let Some(current) = current else {
        let mut state = pushed;
        // The save counts one up from here: the document keeps its own serial.
        state.serial = state.serial.saturating_sub(1);
        return Ok((
            state,
            format!(
                "wrote {} to {location} (serial {{serial}}); AWS was not touched.",
                file.display()
            ),
        ));
    };
    let refuse = |why: String| {
        Failure::new(format!("{}: {why}; nothing was written", file.display())).help(
            "`stackctl state pull` shows the current state; pass --force only if the pushed one is surely the one to keep",
        )
    };
    if !force {
        if pushed.stack != current.stack || pushed.region != current.region {
            return Err(refuse(format!(
                "it is the state of stack `{}` in {}, and {location} of stack `{}` in {}",
                pushed.stack, pushed.region, current.stack, current.region
            )));
        }
        if pushed.lineage != current.lineage {
            return Err(refuse(format!(
                "it is of another lineage ({}) than {location} ({}): another state, not a version of this one",
                pushed.lineage, current.lineage
            )));
        }
        if pushed.serial < current.serial {
            return Err(refuse(format!(
                "it is older (serial {}) than {location} (serial {})",
                pushed.serial, current.serial
            )));
        }
        if pushed.serial == current.serial && encode(&pushed) != encode(&current) {
            return Err(refuse(format!(
                "it has the serial of {location} ({}) but other content",
                current.serial
            )));
        }
    }
    // Written as the newest version, so what was there stays in the history under its own serial.
    // The save counts one up from the current serial, or keeps a newer document's own.
    let mut state = pushed;
    state.serial = state.serial.saturating_sub(1).max(current.serial);
    Ok((
        state,
        format!(
            "wrote {} to {location} as serial {{serial}} (it was serial {}); AWS was not touched.",
            file.display(),
            current.serial
        ),
    ))
}
