//! `stackctl up`: create or update everything in the stack file.

use super::plan::{engine_failure, plan_loaded, show};
use super::{Failure, GlobalArgs, Printer, Status, context, progress};
use crate::engine;
use crate::state::store::StateStore;
use std::time::Instant;

pub async fn up(global: &GlobalArgs, printer: &Printer) -> Result<Status, Failure> {
    let stack = context::load_stack(global, printer)?;
    context::require_consent_possible(global, "up")?;
    let store = StateStore::new(context::state_path(global));
    let _lock = context::lock(&store, "up")?;
    let planned = plan_loaded(global, &stack, &store).await?;
    show(printer, &planned, true);
    if planned.plan.has_changes() && !context::confirm(global, "Apply these changes?") {
        printer.info("Cancelled: nothing was changed.");
        return Ok(Status::Failure);
    }
    let region = planned.plan.region.clone();
    let summary = planned.plan.summary;
    let aws = context::connect(global, &region).await;
    let started = Instant::now();
    let outcome = engine::apply(
        &aws,
        Some(&stack),
        planned,
        &store,
        usize::from(global.parallelism),
        progress::sink(printer),
    )
    .await
    .map_err(engine_failure)?;
    finish(printer, outcome, &store, "up", || {
        format!(
            "Up complete in {:.1}s: {} created, {} updated, {} replaced, {} deleted. See `stackctl outputs`.",
            started.elapsed().as_secs_f64(),
            summary.create,
            summary.update,
            summary.replace,
            summary.delete
        )
    })
}

/// Reports how a run ended and picks the exit status.
pub fn finish(
    printer: &Printer,
    outcome: engine::Outcome,
    store: &StateStore,
    command: &str,
    success: impl Fn() -> String,
) -> Result<Status, Failure> {
    if outcome.interrupted {
        printer.failure(
            &Failure::new(format!(
                "interrupted: what finished is recorded in {}",
                store.path().display()
            ))
            .help(format!("run `stackctl {command}` again to resume")),
        );
        return Ok(Status::Interrupted);
    }
    if outcome.failures.is_empty() {
        printer.info(&success());
        return Ok(Status::Success);
    }
    for failure in outcome.failures {
        printer.failure(&engine_failure(failure));
    }
    Ok(Status::Failure)
}
