//! `stackctl sweep`: plans, and after confirmation deletes, what AWS holds under this stack's tag
//! that no state records.

use super::args::SweepArgs;
use super::plan::check_region;
use super::state_access;
use super::{Failure, GlobalArgs, Printer, Status, context, progress};
use crate::engine::ownership::{describe_untracked, short};
use crate::engine::sweep::{plan_sweep, sweep as delete_all};
use crate::state::State;

pub async fn sweep(
    global: &GlobalArgs,
    args: &SweepArgs,
    printer: &Printer,
) -> Result<Status, Failure> {
    let stack = context::load_stack(global, printer)?;
    context::require_consent_possible(global, "sweep")?;
    state_access::with_lock(
        global,
        printer,
        "sweep",
        stack.region.as_deref(),
        async |locked| sweep_locked(global, args, printer, &stack, locked).await,
    )
    .await
}

async fn sweep_locked(
    global: &GlobalArgs,
    args: &SweepArgs,
    printer: &Printer,
    stack: &crate::spec::Stack,
    locked: &state_access::LockedState,
) -> Result<Status, Failure> {
    let region = context::region(global, stack.region.as_deref()).await?;
    let state = state_access::load_state(&locked.store, Some(&stack.name))
        .await?
        .unwrap_or_else(|| State::new(&stack.name, &region));
    check_region(&state, &region)?;
    let aws = context::connect(global, &region).await?;
    let planned = plan_sweep(&aws, &stack.name, &state, &args.lineages).await.map_err(|e| {
        Failure::new(format!("cannot list what is tagged with stack `{}`: {e}", stack.name))
            .help("check the endpoint, network and credentials (tag:GetResources, iam:GetAccountAuthorizationDetails, secretsmanager:ListSecrets)")
    })?;
    for tagged in &planned.left_alone {
        let lineage = tagged.lineage.as_deref().map(short).unwrap_or_default();
        printer.info(&format!(
            "left alone: {}: if that state is gone for good, `stackctl sweep --lineage {lineage}` deletes what it made",
            describe_untracked(tagged, &state.lineage)
        ));
    }
    let items = planned.delete;
    if items.is_empty() {
        printer.info(&format!(
            "Nothing to sweep: nothing tagged with stack `{}` in {region} is both untracked and this state's to delete.",
            stack.name
        ));
        return Ok(Status::Success);
    }
    let mut text = format!(
        "Sweep for stack `{}` in {region}: {} resource{} tagged with this stack that no state records will be deleted:\n",
        stack.name,
        items.len(),
        if items.len() == 1 { "" } else { "s" }
    );
    for item in &items {
        text.push_str(&format!(
            "  - {}\n",
            describe_untracked(&item.tagged, &state.lineage)
        ));
        if let Some(loss) = &item.data_loss {
            text.push_str(&format!(
                "      ! data loss: {} is deleted; what remains: {}\n",
                loss.what, loss.remains
            ));
        }
    }
    printer.info(&text);
    if !context::confirm(global, "Delete these resources?") {
        printer.info("Cancelled: nothing was deleted.");
        return Ok(Status::Failure);
    }
    let count = items.len();
    let failures = delete_all(&aws, &state.owner(), items, None, progress::sink(printer)).await;
    if failures.is_empty() {
        printer.info(&format!("sweep complete: {count} deleted."));
        return Ok(Status::Success);
    }
    for (tagged, error) in &failures {
        printer.failure(
            &Failure::new(format!("{} {}: {error}", tagged.kind, tagged.id)).help(
                "fix the cause and run `stackctl sweep` again: it lists only what is still there",
            ),
        );
    }
    Ok(Status::Failure)
}
