//! `stackctl state list`, `state rm NAME...` and `state mv OLD NEW`: the state itself, without AWS.

use super::args::StateCommand;
use super::{Failure, GlobalArgs, Printer, Status, context};
use crate::state::store::StateStore;

pub async fn state(
    global: &GlobalArgs,
    command: &StateCommand,
    printer: &Printer,
) -> Result<Status, Failure> {
    let expected = context::file_stack(global);
    match command {
        StateCommand::List => {
            let store = StateStore::new(context::state_path(global)?);
            let Some(state) = context::load_state(&store, expected.as_deref())? else {
                printer.info(&format!("No state at {}.", store.path().display()));
                return Ok(Status::Success);
            };
            for (name, r) in &state.resources {
                let id = r.id.as_deref().unwrap_or("(no id yet)");
                printer.data(&format!("{name}\t{}\t{id}", r.kind));
            }
            Ok(Status::Success)
        }
        StateCommand::Rm { names } => {
            let locked = context::lock_state(global, "state rm")?;
            let mut state =
                context::load_state(&locked.store, expected.as_deref())?.ok_or_else(|| {
                    Failure::new(format!("no state at {}", locked.store.path().display()))
                })?;
            if let Some(unknown) = names.iter().find(|n| !state.resources.contains_key(*n)) {
                return Err(
                    Failure::new(format!("the state records no resource `{unknown}`"))
                        .help("`stackctl state list` shows what it records; nothing was changed"),
                );
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
            save(&locked.store, &mut state)?;
            printer.info(&format!(
                "forgot {}: AWS was not touched; they stay there, no longer managed by this state (`stackctl import NAME ID` takes one back).",
                forgotten.join(", ")
            ));
            Ok(Status::Success)
        }
        StateCommand::Mv { from, to } => {
            let locked = context::lock_state(global, "state mv")?;
            let mut state =
                context::load_state(&locked.store, expected.as_deref())?.ok_or_else(|| {
                    Failure::new(format!("no state at {}", locked.store.path().display()))
                })?;
            if !state.resources.contains_key(from) {
                return Err(
                    Failure::new(format!("the state records no resource `{from}`"))
                        .help("`stackctl state list` shows what it records"),
                );
            }
            if state.resources.contains_key(to) {
                return Err(
                    Failure::new(format!("the state already records a resource `{to}`"))
                        .help("choose a key the state does not use"),
                );
            }
            state.rename(from, to);
            save(&locked.store, &mut state)?;
            printer.info(&format!(
                "moved `{from}` to `{to}` in {}; AWS was not touched. The stack file must call it `{to}` too (or keep `moved: {{ {from}: {to} }}` there instead of this command).",
                locked.store.path().display()
            ));
            Ok(Status::Success)
        }
    }
}

fn save(store: &StateStore, state: &mut crate::state::State) -> Result<(), Failure> {
    state.serial += 1;
    store.save(state).map_err(|e| {
        let help = e.help();
        Failure::new(e.to_string()).help(help)
    })
}
