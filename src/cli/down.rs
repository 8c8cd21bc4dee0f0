//! `stackctl down`: delete everything the state records, dependents first. Needs only the state, so it
//! works after the stack file has changed or is gone.

use super::args::ApplyArgs;
use super::plan::plan_destroy;
use super::state_access;
use super::up::apply_planned;
use super::{Failure, GlobalArgs, Printer, Status, context, saved_plan};

pub async fn down(
    global: &GlobalArgs,
    args: &ApplyArgs,
    printer: &Printer,
) -> Result<Status, Failure> {
    let saved = args.plan.as_deref().map(saved_plan::read).transpose()?;
    if saved.as_ref().is_some_and(|s| !s.plan.destroy) {
        return Err(Failure::new("this saved plan does not remove the stack")
            .help("apply it with `stackctl up <plan>`"));
    }
    let global = &match &saved {
        Some(saved) => saved_plan::globals_for(global, saved)?,
        None => global.clone(),
    };
    context::require_consent_possible(global, "down")?;
    state_access::with_lock(global, printer, "down", None, async |locked| {
        down_locked(global, printer, saved.as_ref(), locked).await
    })
    .await
}

async fn down_locked(
    global: &GlobalArgs,
    printer: &Printer,
    saved: Option<&crate::plan::saved::SavedPlan>,
    locked: &state_access::LockedState,
) -> Result<Status, Failure> {
    if let Some(saved) = saved {
        saved_plan::check_state(saved, locked.store.location())?;
        let state_bytes = saved_plan::state_bytes(&locked.store).await?;
        saved
            .check_inputs(None, &Default::default(), state_bytes.as_deref())
            .map_err(saved_plan::stale)?;
    }
    let Some(state) =
        state_access::load_state(&locked.store, state_access::file_stack(global).as_deref())
            .await?
    else {
        printer.info(&format!(
            "Nothing to remove: no state at {}.",
            locked.store.location()
        ));
        return Ok(Status::Success);
    };
    let (aws, mut planned) = plan_destroy(global, state, printer).await?;
    if let Some(saved) = saved {
        saved
            .check_same_plan(&mut planned.plan)
            .map_err(saved_plan::stale)?;
    }
    apply_planned(global, printer, &aws, None, planned, locked, "down").await
}
