//! `stackctl up`: create or update everything in the stack file.

use super::args::ApplyArgs;
use super::plan::{engine_failure, plan_up, show};
use super::state_access;
use super::state_access::LockedState;
use super::{Failure, GlobalArgs, Printer, Status, context, interrupts, progress, saved_plan};
use crate::aws::Aws;
use crate::engine::{self, Planned};
use crate::spec::Stack;
use std::time::Instant;

pub async fn up(
    global: &GlobalArgs,
    args: &ApplyArgs,
    printer: &Printer,
) -> Result<Status, Failure> {
    let saved = args.plan.as_deref().map(saved_plan::read).transpose()?;
    if saved.as_ref().is_some_and(|s| s.plan.destroy) {
        return Err(Failure::new("this saved plan removes the stack")
            .help("apply it with `stackctl down <plan>`"));
    }
    let global = &match &saved {
        Some(saved) => {
            saved_plan::check_stack_file(saved)?;
            saved_plan::globals_for(global, saved)?
        }
        None => global.clone(),
    };
    let stack = context::load_stack(global, printer)?;
    context::require_consent_possible(global, "up")?;
    state_access::with_lock(
        global,
        printer,
        "up",
        stack.region.as_deref(),
        async |locked| up_locked(global, printer, saved.as_ref(), &stack, locked).await,
    )
    .await
}

async fn up_locked(
    global: &GlobalArgs,
    printer: &Printer,
    saved: Option<&crate::plan::saved::SavedPlan>,
    stack: &Stack,
    locked: &LockedState,
) -> Result<Status, Failure> {
    if let Some(saved) = saved {
        saved_plan::check_state(saved, locked.store.location())?;
        let stack_bytes = std::fs::read(&global.file).ok();
        let state_bytes = saved_plan::state_bytes(&locked.store).await?;
        saved
            .check_inputs(
                stack_bytes.as_deref(),
                &stack.variables,
                state_bytes.as_deref(),
            )
            .map_err(saved_plan::stale)?;
    }
    let (aws, mut planned) = plan_up(global, stack, &locked.store, printer).await?;
    if let Some(saved) = saved {
        saved
            .check_same_plan(&mut planned.plan)
            .map_err(saved_plan::stale)?;
    }
    apply_planned(global, printer, &aws, Some(stack), planned, locked, "up").await
}

/// Shows the plan, asks for confirmation when it changes anything, applies it and reports how it ended.
pub async fn apply_planned(
    global: &GlobalArgs,
    printer: &Printer,
    aws: &Aws,
    stack: Option<&Stack>,
    planned: Planned,
    locked: &LockedState,
    command: &str,
) -> Result<Status, Failure> {
    let store = &locked.store;
    printer.aws_calls(aws, "plan");
    show(printer, &planned, true);
    if planned.plan.has_changes() && !context::confirm(global, "Apply these changes?") {
        printer.info("Cancelled: nothing was changed.");
        return Ok(Status::Failure);
    }
    let summary = planned.plan.summary;
    let started = Instant::now();
    let _applying = interrupts::applying();
    let outcome = engine::apply(
        aws,
        stack,
        planned,
        store,
        usize::from(global.parallelism),
        progress::sink(printer),
        locked.cancel(),
    )
    .await
    .map_err(engine_failure)?;
    printer.aws_calls(aws, command);
    if outcome.interrupted {
        printer.failure(
            &Failure::new(format!(
                "interrupted: what finished is recorded in {}",
                store.location()
            ))
            .help(format!("run `{}` to resume", invocation(global, command))),
        );
        return Ok(Status::Interrupted);
    }
    if !outcome.failures.is_empty() {
        for failure in outcome.failures {
            printer.failure(&engine_failure(failure));
        }
        return Ok(Status::Failure);
    }
    printer.info(&format!(
        "{command} complete in {:.1}s: {} created, {} updated, {} replaced, {} deleted.",
        started.elapsed().as_secs_f64(),
        summary.create,
        summary.update,
        summary.replace,
        summary.delete
    ));
    Ok(Status::Success)
}

/// The command that resumes this run: the same stack file, state, variables, region and targets. A
/// saved plan is spent once applied, so the resume plans afresh.
fn invocation(global: &GlobalArgs, command: &str) -> String {
    let mut words = vec![
        "stackctl".to_string(),
        command.to_string(),
        "-f".into(),
        global.file.display().to_string(),
    ];
    let mut option = |name: &str, value: String| {
        words.push(name.to_string());
        words.push(value);
    };
    if let Some(state) = &global.state {
        option("--state", state.clone());
    }
    for var in &global.vars {
        option("--var", var.clone());
    }
    if let Some(region) = &global.region {
        option("--region", region.clone());
    }
    if let Some(profile) = &global.profile {
        option("--profile", profile.clone());
    }
    if let Some(endpoint) = &global.endpoint_url {
        option("--endpoint-url", endpoint.clone());
    }
    for target in &global.targets {
        option("--target", target.clone());
    }
    if global.yes {
        words.push("--yes".into());
    }
    let quoted: Vec<String> = words
        .iter()
        .map(|w| {
            if !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,".contains(c))
            {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', "'\\''"))
            }
        })
        .collect();
    quoted.join(" ")
}
