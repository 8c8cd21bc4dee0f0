//! `stackctl down`: delete everything the state records, dependents first. Needs only the state, so it
//! works after the stack file has changed or is gone.

use super::plan::plan_destroy;
use super::up::apply_planned;
use super::{Failure, GlobalArgs, Printer, Status, context};

pub async fn down(global: &GlobalArgs, printer: &Printer) -> Result<Status, Failure> {
    context::require_consent_possible(global, "down")?;
    let locked = context::lock_state(global, "down")?;
    let Some(state) = context::load_state(&locked.store, None)? else {
        printer.info(&format!(
            "Nothing to remove: no state at {}.",
            locked.store.path().display()
        ));
        return Ok(Status::Success);
    };
    let (aws, planned) = plan_destroy(global, state).await?;
    apply_planned(global, printer, &aws, None, planned, &locked, "down").await
}
