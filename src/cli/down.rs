//! `stackctl down`: delete everything the state records, dependents first. Needs only the state, so it
//! works after the stack file has changed or is gone.

use super::plan::{check_region, engine_failure, show};
use super::up::finish;
use super::{Failure, GlobalArgs, Printer, Status, context, progress};
use crate::engine;
use crate::state::store::StateStore;
use std::time::Instant;

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
    let region = global
        .region
        .clone()
        .unwrap_or_else(|| state.region.clone());
    check_region(&state, &region)?;
    let aws = context::connect(global, &region).await;
    let planned = engine::plan_down(&aws, state, usize::from(global.parallelism))
        .await
        .map_err(engine_failure)?;
    show(printer, &planned, true);
    let count = planned.plan.summary.delete;
    if count > 0 && !context::confirm(global, "Delete these resources?") {
        printer.info("Cancelled: nothing was changed.");
        return Ok(Status::Failure);
    }
    let started = Instant::now();
    let outcome = engine::apply(
        &aws,
        None,
        planned,
        &store,
        usize::from(global.parallelism),
        progress::sink(printer),
    )
    .await
    .map_err(engine_failure)?;
    finish(printer, outcome, &store, "down", || {
        format!(
            "Down complete in {:.1}s: {count} deleted.",
            started.elapsed().as_secs_f64()
        )
    })
}
