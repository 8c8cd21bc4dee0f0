//! `stackctl down`: delete everything the state records, dependents first. Needs only the state, so it
//! works after the stack file has changed or is gone.

use super::plan::plan_destroy;
use super::up::apply_planned;
use super::{Failure, GlobalArgs, Printer, Status, context};
use crate::state::store::StateStore;

pub async fn down(global: &GlobalArgs, printer: &Printer) -> Result<Status, Failure> {
    context::require_consent_possible(global, "down")?;
    let store = StateStore::new(context::state_path(global));
    let _lock = context::lock(&store, "down")?;
    let Some(state) = context::load_state(&store, None)? else {
        printer.info(&format!(
            "Nothing to remove: no state at {}.",
            store.path().display()
        ));
        return Ok(Status::Success);
    };
    let (aws, planned) = plan_destroy(global, state).await?;
    apply_planned(global, printer, &aws, None, planned, &store, "down").await
}
