//! `stackctl import NAME AWS_ID` and `stackctl import --all`: record existing resources in the state.

use super::args::ImportArgs;
use super::plan::{check_region, engine_failure};
use super::state_access;
use super::{Failure, GlobalArgs, Printer, Status, context};
use crate::engine::import::{Imported, import_all, import_one};
use crate::engine::ownership::{describe_untracked, short};
use crate::state::State;

pub async fn import(
    global: &GlobalArgs,
    args: &ImportArgs,
    printer: &Printer,
) -> Result<Status, Failure> {
    let stack = context::load_stack(global, printer)?;
    state_access::with_lock(
        global,
        printer,
        "import",
        stack.region.as_deref(),
        async |locked| import_locked(global, args, printer, &stack, locked).await,
    )
    .await
}

async fn import_locked(
    global: &GlobalArgs,
    args: &ImportArgs,
    printer: &Printer,
    stack: &crate::spec::Stack,
    locked: &state_access::LockedState,
) -> Result<Status, Failure> {
    let region = context::region(global, stack.region.as_deref()).await?;
    let mut state = state_access::load_state(&locked.store, Some(&stack.name))
        .await?
        .unwrap_or_else(|| State::new(&stack.name, &region));
    check_region(&state, &region)?;
    let aws = context::connect(global, &region).await?;
    let imported = match (&args.name, &args.id) {
        (Some(name), Some(id)) if !args.all => {
            vec![
                import_one(&aws, stack, &mut state, name, id)
                    .await
                    .map_err(engine_failure)?,
            ]
        }
        _ => {
            let result = import_all(&aws, stack, &mut state)
                .await
                .map_err(engine_failure)?;
            for (tagged, why) in &result.skipped {
                printer.info(&format!(
                    "left alone: {}: {why}",
                    describe_untracked(tagged, &state.lineage)
                ));
            }
            result.imported
        }
    };
    if imported.is_empty() {
        printer.info("Nothing imported: AWS holds nothing tagged with this stack that the state does not record.");
        return Ok(Status::Success);
    }
    locked
        .store
        .save_whole(&mut state)
        .await
        .map_err(state_access::state_failure)?;
    for Imported {
        name,
        kind,
        id,
        taken_from,
    } in &imported
    {
        let from = taken_from
            .as_deref()
            .map(|l| {
                format!(
                    "; it carries the lineage of another state ({}): once the next `up` tags it as this state's, that state will refuse to touch it",
                    short(l)
                )
            })
            .unwrap_or_default();
        printer.info(&format!("imported {name} ({kind} {id}){from}"));
    }
    printer.info(&format!(
        "{} resource{} recorded in {}; AWS was only read. Run `stackctl plan` to see how {} from the stack file.",
        imported.len(),
        if imported.len() == 1 { "" } else { "s" },
        locked.store.location(),
        if imported.len() == 1 { "it differs" } else { "they differ" }
    ));
    Ok(Status::Success)
}
