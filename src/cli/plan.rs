//! `stackctl plan`: what `up` (or with --destroy, `down`) would do. Reads AWS; changes nothing.

use super::args::PlanArgs;
use super::state_access;
use super::{Failure, GlobalArgs, Printer, Status, context, saved_plan};
use crate::aws::Aws;
use crate::engine::{self, EngineError, Planned};
use crate::plan::render;
use crate::spec::Stack;
use crate::state::State;
use crate::state::store::StateStore;

pub fn engine_failure(error: EngineError) -> Failure {
    let help = error.help();
    let mut failure = Failure::new(error.to_string()).help(help);
    if let EngineError::Invalid {
        diagnostics,
        sources,
    } = error
    {
        failure.diagnostics = Some((diagnostics, sources));
    }
    failure
}

pub async fn plan(
    global: &GlobalArgs,
    args: &PlanArgs,
    printer: &Printer,
) -> Result<Status, Failure> {
    let stack = if args.destroy {
        None
    } else {
        Some(context::load_stack(global, printer)?)
    };
    let stack_region = stack.as_ref().and_then(|s| s.region.as_deref());
    let store = state_access::open_state(global, printer, stack_region).await?;
    // Read before planning: a saved plan records exactly the state it was made from.
    let state_bytes = saved_plan::state_bytes(&store).await?;
    let (planned, stack_bytes, variables) = if let Some(stack) = &stack {
        let bytes = std::fs::read(&global.file).ok();
        let (aws, planned) = plan_up(global, stack, &store, printer).await?;
        printer.aws_calls(&aws, "plan");
        (planned, bytes, stack.variables.clone())
    } else {
        let stack_name = state_access::file_stack(global);
        let Some(state) = state_access::load_state(&store, stack_name.as_deref()).await? else {
            // Nothing deployed: an empty destroy plan, which is success, as `down` says.
            if printer.json {
                let empty = crate::plan::Plan::new(
                    stack_name.as_deref().unwrap_or_default(),
                    global.region.as_deref().unwrap_or_default(),
                    true,
                    vec![],
                );
                printer.data(&serde_json::to_string_pretty(&empty).unwrap_or_default());
            }
            printer.info(&format!(
                "Nothing to remove: no state at {}.",
                store.location()
            ));
            return Ok(Status::Success);
        };
        let (aws, planned) = plan_destroy(global, state, printer).await?;
        printer.aws_calls(&aws, "plan");
        (planned, None, Default::default())
    };
    show(printer, &planned, false);
    if let Some(out) = &args.out {
        saved_plan::write(
            out,
            global,
            &planned,
            stack_bytes.as_deref(),
            variables,
            &store,
            state_bytes.as_deref(),
        )?;
        printer.info(&format!(
            "Plan saved to {}: apply exactly it with `stackctl {} {}`.",
            out.display(),
            if args.destroy { "down" } else { "up" },
            out.display()
        ));
    }
    Ok(if args.detailed_exitcode && planned.plan.has_changes() {
        Status::Changes
    } else {
        Status::Success
    })
}

/// Prints a plan: JSON on stdout with --json; otherwise text (on stdout for `plan`, stderr before `up`/`down`).
pub fn show(printer: &Printer, planned: &Planned, to_stderr: bool) {
    if printer.json {
        if !to_stderr {
            printer.data(&serde_json::to_string_pretty(&planned.plan).unwrap_or_default());
        }
        return;
    }
    let color = if to_stderr {
        printer.color
    } else {
        printer.stdout_color
    };
    let text = render::human(&planned.plan, color);
    if to_stderr {
        printer.info(&text)
    } else {
        printer.data(&text)
    }
}

/// Plans `up` for a loaded stack against the state in `store`; returns the clients for applying it.
pub async fn plan_up(
    global: &GlobalArgs,
    stack: &Stack,
    store: &StateStore,
    printer: &Printer,
) -> Result<(Aws, Planned), Failure> {
    let region = context::region(global, stack.region.as_deref()).await?;
    let loaded = state_access::load_state(store, Some(&stack.name)).await?;
    let no_state = loaded.is_none();
    let state = loaded.unwrap_or_else(|| State::new(&stack.name, &region));
    check_region(&state, &region)?;
    let aws = context::connect(global, &region).await?;
    let planned = engine::plan_up(&aws, stack, state, usize::from(global.parallelism))
        .await
        .map_err(|error| {
            let untracked = matches!(error, EngineError::Untracked { .. });
            let mut failure = engine_failure(error);
            if untracked && no_state {
                // The likeliest cause when the state is remote: a mistyped key.
                let otherwise = failure.help.take().unwrap_or_default();
                failure = failure.help(format!(
                    "there is no state at {}: if this stack is deployed with a state kept elsewhere, check the location (--state, STACKCTL_STATE, `state:`) before anything else. Otherwise: {otherwise}",
                    store.location()
                ));
            }
            failure
        })?;
    let known: Vec<&str> = stack.resources.keys().map(String::as_str).collect();
    let planned = narrow(
        global,
        printer,
        planned,
        &crate::graph::Graph::from_stack(stack),
        &known,
        true,
    )?;
    Ok((aws, planned))
}

/// Applies `--target`: only the named resources and what they need (or, for `down`, what needs them).
fn narrow(
    global: &GlobalArgs,
    printer: &Printer,
    planned: Planned,
    graph: &crate::graph::Graph,
    known: &[&str],
    upstream: bool,
) -> Result<Planned, Failure> {
    if global.targets.is_empty() {
        return Ok(planned);
    }
    for target in &global.targets {
        if !known.contains(&target.as_str()) {
            let help = match crate::diagnostics::did_you_mean(target, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("resources: {}", known.join(", ")),
            };
            return Err(Failure::new(format!("--target {target}: no such resource")).help(help));
        }
    }
    printer.warning(&format!(
        "--target acts on part of the stack ({}); it is for exceptions — run a full `plan` afterwards to see what else differs",
        global.targets.join(", ")
    ));
    Ok(engine::target(planned, graph, &global.targets, upstream))
}

/// Plans the removal of everything in `state`, in the region the state records.
pub async fn plan_destroy(
    global: &GlobalArgs,
    state: State,
    printer: &Printer,
) -> Result<(Aws, Planned), Failure> {
    let region = global
        .region
        .clone()
        .unwrap_or_else(|| state.region.clone());
    check_region(&state, &region)?;
    let aws = context::connect(global, &region).await?;
    let graph = engine::planner::state_graph(&state);
    let known: Vec<String> = state.managed().map(|(name, _)| name.clone()).collect();
    // Without the stack file, the state alone says what is this stack's: only what carries its
    // lineage is deleted.
    let only_marked = state_access::file_stack(global).is_none();
    let planned = engine::plan_down(&aws, state, usize::from(global.parallelism), only_marked)
        .await
        .map_err(engine_failure)?;
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    let planned = narrow(global, printer, planned, &graph, &known, false)?;
    Ok((aws, planned))
}

pub fn check_region(state: &State, region: &str) -> Result<(), Failure> {
    if state.region != region && !state.resources.is_empty() {
        return Err(Failure::new(format!(
            "the state records resources in {}, but this run targets {region}",
            state.region
        ))
        .help(format!(
            "use --region {} (a stack lives in one region)",
            state.region
        )));
    }
    Ok(())
}
