//! Carries out a plan: a graph of jobs (create, update, destroy) run concurrently up to the parallelism
//! limit. The state is saved before every create (intent) and after every change. A failure or an
//! interrupt stops new work; running work finishes and is recorded.

use super::desired;
use super::ownership;
use super::planner::{Planned, deposed_key, state_graph};
use super::{Cancel, EngineError, Event, EventSink};
use crate::aws::{self, Aws, Created, Ctx, DriverError, Progress};
use crate::graph::Graph;
use crate::plan::{Action, ReplaceOrder};
use crate::resolve::is_fully_known;
use crate::resources::ResourceKind;
use crate::spec::Stack;
use crate::state::store::StateStore;
use crate::state::{ResourceState, State, Status};
use serde_json::{Map, Value as Json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Step {
    Destroy,
    Create,
    Update,
}

type JobKey = (String, Step);

fn key_name(key: &JobKey) -> String {
    let step = match key.1 {
        Step::Destroy => "destroy",
        Step::Create => "create",
        Step::Update => "update",
    };
    format!("{step}:{}", key.0)
}

/// How a run ended.
#[derive(Debug, Default)]
pub struct Outcome {
    pub failures: Vec<EngineError>,
    /// Stopped by Ctrl-C or SIGTERM.
    pub interrupted: bool,
    pub state: Option<State>,
}

enum Done {
    Created(Created),
    Updated {
        outputs: Map<String, Json>,
        config: Json,
        depends_on: Vec<String>,
    },
    Destroyed,
}

/// Applies a plan. `stack` is `None` for `down`, which needs only the state.
pub async fn apply(
    aws: &Aws,
    stack: Option<&Stack>,
    planned: Planned,
    store: &StateStore,
    parallelism: usize,
    events: EventSink,
    mut cancel: Cancel,
) -> Result<Outcome, EngineError> {
    let Planned {
        plan,
        mut state,
        observed,
        lookups,
        mut known,
        retained,
    } = planned;
    store.save(&mut state).await?;
    let deposing = deposing(&plan.resources, &state);
    let jobs = build_jobs(&plan.resources, stack, &state, &observed, &deposing);
    // Named in the plan, recorded in state before the delete: an interrupted delete keeps the name.
    let final_snapshots: HashMap<String, String> = plan
        .resources
        .iter()
        .filter_map(|r| {
            let snapshot = r.data_loss.as_ref()?.final_snapshot.clone()?;
            Some((r.name.clone(), snapshot))
        })
        .collect();
    let job_graph = Graph::new(
        jobs.iter()
            .map(|(k, deps)| (key_name(k), deps.iter().map(key_name).collect::<Vec<_>>())),
    );
    if let Err(cycle) = job_graph.order() {
        return Err(EngineError::Config {
            resource: cycle.first().cloned().unwrap_or_default(),
            message: format!(
                "the steps of this plan depend on each other in a cycle: {}",
                cycle.join(" -> ")
            ),
        });
    }
    let inputs = RunInputs {
        aws,
        stack,
        observed: &observed,
        deposing: &deposing,
    };
    let (progress_tx, mut progress_rx) = mpsc::unbounded_channel::<(String, Progress)>();
    let mut pending: BTreeMap<JobKey, Vec<JobKey>> = jobs;
    let mut finished: HashSet<JobKey> = HashSet::new();
    let mut started_at: HashMap<String, Instant> = HashMap::new();
    let mut running = tokio::task::JoinSet::new();
    let mut outcome = Outcome::default();
    let mut stopping = false;
    let mut lock_lost = false;
    let mut lock_watch = cancel.clone();
    loop {
        if !lock_lost && let Some(reason) = cancel.lock_lost() {
            lock_lost = true;
            stopping = true;
            events(Event::Stopping {
                reason: format!(
                    "the state lock was lost ({reason}): starting nothing new, finishing what is in flight"
                ),
            });
            outcome.failures.push(EngineError::LockLost { reason });
        }
        if !stopping {
            let ready: Vec<JobKey> = pending
                .iter()
                .filter(|(_, deps)| deps.iter().all(|d| finished.contains(d)))
                .map(|(k, _)| k.clone())
                .take(parallelism.saturating_sub(running.len()))
                .collect();
            // Every step started here is saved in one write, before any of their calls is made.
            let mut launching = Vec::new();
            let mut after_save = Vec::new();
            for key in ready {
                pending.remove(&key);
                let name = key.0.clone();
                let action = step_action(&key);
                started_at.insert(name.clone(), Instant::now());
                tracing::debug!(step = %key_name(&key), "starting");
                if key.1 == Step::Destroy
                    && let Some(why) = retained.get(&name)
                {
                    // Kept in AWS on purpose: it only leaves the state, which remembers not to
                    // take it for something it lost track of.
                    if let Some(entry) = state.resources.remove(&name) {
                        state.retained.extend(entry.aws_ids());
                    }
                    after_save.push(Event::Status {
                        resource: name.clone(),
                        status: why.clone(),
                        elapsed: Duration::ZERO,
                    });
                    finished.insert(key);
                    continue;
                }
                if key.1 == Step::Destroy
                    && let Some(snapshot) = final_snapshots.get(&name)
                    && let Some(entry) = state.resources.get_mut(&name)
                {
                    // Saved with the step's start, before the delete call.
                    entry.final_snapshot = Some(snapshot.clone());
                }
                match start(&inputs, &key, &mut state, &known, progress_tx.clone()) {
                    Ok(Started::Spawned(kind, future)) => {
                        events(Event::Started {
                            resource: name.clone(),
                            kind,
                            action,
                        });
                        launching.push((key.clone(), kind, future));
                    }
                    Ok(Started::Nothing(kind)) => {
                        after_save.push(Event::Finished {
                            resource: name.clone(),
                            kind,
                            action,
                            id: None,
                            elapsed: Duration::ZERO,
                        });
                        finished.insert(key);
                    }
                    Err(error) => {
                        outcome.failures.push(error);
                        stopping = true;
                        after_save.push(Event::Stopping {
                            reason: format!("{name} could not start"),
                        });
                        break;
                    }
                }
            }
            store_save(store, &mut state).await?;
            after_save.into_iter().for_each(|event| events(event));
            for (key, kind, future) in launching {
                running.spawn(async move { (key, kind, future.await) });
            }
        }
        if running.is_empty() {
            let more_ready = !stopping
                && pending
                    .iter()
                    .any(|(_, deps)| deps.iter().all(|d| finished.contains(d)));
            if more_ready {
                continue;
            }
            break;
        }
        tokio::select! {
            Some(first) = progress_rx.recv() => {
                // Ids reported together are saved together.
                let mut batch = vec![first];
                while let Ok(more) = progress_rx.try_recv() {
                    batch.push(more);
                }
                let mut created = false;
                for (resource, progress) in batch {
                    match progress {
                        Progress::Created(id) => {
                            if let Some(entry) = state.resources.get_mut(&resource) {
                                entry.id = Some(id);
                            }
                            created = true;
                        }
                        Progress::Status(status) => {
                            let elapsed = started_at.get(&resource).map(Instant::elapsed).unwrap_or_default();
                            events(Event::Status { resource, status, elapsed });
                        }
                    }
                }
                if created {
                    store_save(store, &mut state).await?;
                }
            },
            Some(first) = running.join_next() => {
                // Steps that finished together are recorded in one write.
                let mut batch = vec![first];
                while let Some(more) = running.try_join_next() {
                    batch.push(more);
                }
                let mut after_save = Vec::new();
                for joined in batch {
                    let (key, kind, result) = joined.map_err(|e| EngineError::Config { resource: "engine".into(), message: e.to_string() })?;
                    let name = key.0.clone();
                    let action = step_action(&key);
                    let elapsed = started_at.get(&name).map(Instant::elapsed).unwrap_or_default();
                    match result {
                        Ok(done) => {
                            let id = record(&mut state, &key, done, &mut known);
                            after_save.push(Event::Finished { resource: name, kind, action, id, elapsed });
                            finished.insert(key);
                        }
                        Err(error) => {
                            after_save.push(Event::Failed { resource: name.clone(), kind, action, code: error.code().map(str::to_string), message: error.to_string() });
                            if !stopping {
                                after_save.push(Event::Stopping { reason: format!("{name} failed") });
                            }
                            stopping = true;
                            outcome.failures.push(EngineError::Driver { resource: name, kind: kind.to_string(), error });
                        }
                    }
                }
                store_save(store, &mut state).await?;
                after_save.into_iter().for_each(|event| events(event));
            }
            _ = lock_watch.wait_lock_lost(), if !lock_lost => {
                // Noticed at the top of the loop.
            }
            () = cancel.wait(), if !outcome.interrupted => {
                outcome.interrupted = true;
                let reason = if stopping {
                    "interrupted: waiting for the steps in flight (interrupt again to exit at once)"
                } else {
                    "interrupted: finishing what is in flight (interrupt again to exit at once)"
                };
                stopping = true;
                events(Event::Stopping { reason: reason.into() });
            }
        }
    }
    if outcome.failures.is_empty() && !outcome.interrupted {
        record_lookups(&mut state, stack, lookups);
        store_save(store, &mut state).await?;
    }
    // One document for the next reader; after a crash before this, it replays the journal.
    store.compact().await?;
    outcome.state = Some(state);
    Ok(outcome)
}

/// The action a step carries out: a replacement is reported as its delete and then its create.
fn step_action(key: &JobKey) -> Action {
    match key.1 {
        Step::Destroy => Action::Delete,
        Step::Create => Action::Create,
        Step::Update => Action::Update,
    }
}

async fn store_save(store: &StateStore, state: &mut State) -> Result<(), EngineError> {
    store.save(state).await?;
    Ok(())
}

/// The jobs for a plan and what each must wait for.
fn build_jobs(
    resources: &[crate::plan::ResourcePlan],
    stack: Option<&Stack>,
    state: &State,
    observed: &super::refresh::Refreshed,
    deposing: &HashMap<String, Deposing>,
) -> BTreeMap<JobKey, Vec<JobKey>> {
    let mut jobs: BTreeMap<JobKey, Vec<JobKey>> = BTreeMap::new();
    // Deposed key → the resource it was.
    let deposed: HashMap<&str, &str> = deposing
        .iter()
        .map(|(name, d)| (d.old_key.as_str(), name.as_str()))
        .collect();
    let destroy_job = |name: &str| -> JobKey {
        let key = deposing.get(name).map_or(name, |d| d.old_key.as_str());
        (key.to_string(), Step::Destroy)
    };
    for r in resources {
        if r.action == Action::Replace
            && let Some(d) = deposing.get(&r.name)
        {
            // Create first; the old one goes once its users have moved (edges below). When some of
            // them are left out of this run (`--target`), it waits in the state as `<key>~old` for
            // the run that moves them.
            jobs.insert((r.name.clone(), Step::Create), vec![]);
            let all_move = r.replacement.iter().all(|x| x.left_out.is_empty())
                && r.replacement.iter().flat_map(|x| &x.moves).all(|user| {
                    resources
                        .iter()
                        .any(|p| &p.name == user && p.action.is_change())
                });
            if all_move {
                jobs.insert(
                    (d.old_key.clone(), Step::Destroy),
                    vec![(r.name.clone(), Step::Create)],
                );
            }
            continue;
        }
        match r.action {
            Action::Create => {
                jobs.insert((r.name.clone(), Step::Create), vec![]);
            }
            Action::Update => {
                jobs.insert((r.name.clone(), Step::Update), vec![]);
            }
            Action::Replace => {
                jobs.insert((r.name.clone(), Step::Destroy), vec![]);
                jobs.insert(
                    (r.name.clone(), Step::Create),
                    vec![(r.name.clone(), Step::Destroy)],
                );
            }
            Action::Delete => {
                jobs.insert((r.name.clone(), Step::Destroy), vec![]);
            }
            Action::Read | Action::NoOp => {}
        }
    }
    let apply_job = |name: &str| -> Option<JobKey> {
        [Step::Create, Step::Update]
            .into_iter()
            .map(|s| (name.to_string(), s))
            .find(|k| jobs.contains_key(k))
    };
    let stack_graph = stack.map(Graph::from_stack);
    let recorded = state_graph(state);
    let mut edges: Vec<(JobKey, JobKey)> = Vec::new();
    for key in jobs.keys() {
        let (name, step) = key;
        match step {
            Step::Create | Step::Update => {
                for dep in stack_graph
                    .as_ref()
                    .map(|g| g.dependencies(name))
                    .unwrap_or_default()
                {
                    if let Some(dep_job) = apply_job(dep) {
                        edges.push((key.clone(), dep_job));
                    }
                }
            }
            Step::Destroy => {
                let replaced_by_new = deposed.get(name.as_str()).copied();
                let resource = replaced_by_new.unwrap_or(name);
                for dependent in recorded.dependents(resource) {
                    let destroy = destroy_job(dependent);
                    if jobs.contains_key(&destroy) {
                        edges.push((key.clone(), destroy));
                    } else if let Some(apply) = apply_job(dependent) {
                        // The dependent is being changed to stop using this resource (or, when the new
                        // one was created first, to use the new one): let it go first, unless its new
                        // configuration still needs this very resource (that would wait on itself).
                        let still_needed = replaced_by_new.is_none()
                            && stack_graph.as_ref().is_some_and(|g| {
                                g.dependencies(dependent).contains(&name.as_str())
                            });
                        if !still_needed {
                            edges.push((key.clone(), apply));
                        }
                    }
                }
            }
        }
    }
    // A resource created under an AWS name that a resource being deleted still holds (a key renamed
    // without `moved:`, with the same `name:` or `password_secret`) waits for that delete.
    if let Some(stack) = stack {
        let mut held: HashMap<(&'static str, String), String> = HashMap::new();
        for (key, entry) in jobs
            .keys()
            .filter(|(_, step)| *step == Step::Destroy)
            // What AWS no longer has holds no name.
            .filter(|key| observed.get(&key.0).is_none_or(Option::is_some))
            .filter_map(|key| state.resources.get(&key.0).map(|entry| (key, entry)))
        {
            for id in entry.aws_ids() {
                if let Some(name) = crate::spec::collisions::name_key(id.kind, &id.id) {
                    held.insert(name, key.0.clone());
                }
            }
        }
        for key in jobs.keys().filter(|(_, step)| *step == Step::Create) {
            let Some(decl) = stack.resources.get(&key.0) else {
                continue;
            };
            for name in crate::spec::collisions::name_keys(&stack.name, decl) {
                if let Some(holder) = held.get(&name).filter(|h| **h != key.0) {
                    edges.push((key.clone(), (holder.clone(), Step::Destroy)));
                }
            }
        }
    }
    for (from, to) in edges {
        if let Some(deps) = jobs.get_mut(&from) {
            deps.push(to);
        }
    }
    jobs
}

/// A resource replaced create-first: the state key its old self moves to, and its new name.
#[derive(Debug, Clone)]
struct Deposing {
    old_key: String,
    new_name: Option<String>,
}

fn deposing(resources: &[crate::plan::ResourcePlan], state: &State) -> HashMap<String, Deposing> {
    resources
        .iter()
        .filter(|r| r.action == Action::Replace)
        .filter_map(|r| {
            let replacement = r.replacement.as_ref()?;
            (replacement.order == ReplaceOrder::CreateBeforeDestroy).then(|| {
                (
                    r.name.clone(),
                    Deposing {
                        old_key: deposed_key(state, &r.name),
                        new_name: replacement.new_name.clone(),
                    },
                )
            })
        })
        .collect()
}

/// Moves the resource `name` replaced create-first to its deposed key, which its users now also
/// depend on until they have moved to the new one. Saved with the create's intent, in one write.
fn depose(state: &mut State, name: &str, deposing: &Deposing, delete_timeout: Duration) {
    let Some(mut old) = state.resources.remove(name) else {
        return;
    };
    old.delete_timeout_secs = Some(delete_timeout.as_secs());
    state.resources.update_where(
        |entry| entry.depends_on.iter().any(|d| d == name),
        |entry| entry.depends_on.push(deposing.old_key.clone()),
    );
    state.resources.insert(deposing.old_key.clone(), old);
}

type DriverFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Done, DriverError>> + Send>>;

enum Started {
    Spawned(ResourceKind, DriverFuture),
    /// Nothing to ask AWS (deleting what is already gone).
    Nothing(ResourceKind),
}

/// What every step of one run reads.
struct RunInputs<'a> {
    aws: &'a Aws,
    stack: Option<&'a Stack>,
    observed: &'a super::refresh::Refreshed,
    deposing: &'a HashMap<String, Deposing>,
}

fn start(
    run: &RunInputs,
    key: &JobKey,
    state: &mut State,
    known: &crate::resolve::Known,
    progress: mpsc::UnboundedSender<(String, Progress)>,
) -> Result<Started, EngineError> {
    let RunInputs {
        aws,
        stack,
        observed,
        deposing,
    } = *run;
    let (name, step) = key;
    let deposing = deposing.get(name);
    let config_error = |message: String| EngineError::Config {
        resource: name.clone(),
        message,
    };
    let owner = state.owner();
    match step {
        Step::Destroy => {
            let entry = state
                .resources
                .get_mut(name)
                .ok_or_else(|| config_error("not in state".into()))?;
            let kind = entry.kind;
            // Even when the resource itself is gone, its driver runs: deletes are idempotent, and this
            // finishes what an interrupted delete left behind (a generated secret, an instance profile).
            let Some(id) = entry.id.clone() else {
                state.resources.remove(name);
                return Ok(Started::Nothing(kind));
            };
            entry.status = Status::Deleting;
            entry.updated_at = jiff::Timestamp::now();
            let timeout =
                Duration::from_secs(entry.delete_timeout_secs.unwrap_or(kind.spec().timeouts[2]));
            let ctx = Ctx::new(aws.clone(), &owner, name, timeout, Some(progress));
            let prior = entry.clone();
            Ok(Started::Spawned(
                kind,
                Box::pin(async move {
                    aws::delete(kind, &ctx, &id, &prior)
                        .await
                        .map(|_| Done::Destroyed)
                }),
            ))
        }
        Step::Create | Step::Update => {
            let stack = stack.ok_or_else(|| config_error("no stack file".into()))?;
            let decl = stack
                .resources
                .get(name)
                .ok_or_else(|| config_error("not in the stack file".into()))?;
            if *step == Step::Create
                && let Some(deposing) = deposing
            {
                depose(state, name, deposing, decl.timeouts.delete);
            }
            let recorded_name = deposing
                .filter(|_| *step == Step::Create)
                .and_then(|d| d.new_name.clone())
                .or_else(|| {
                    state
                        .resources
                        .get(name)
                        .and_then(|r| r.physical_name.clone())
                });
            let wanted =
                desired::compute(stack, &aws.region, decl, known, recorded_name.as_deref())
                    .map_err(config_error)?;
            if !is_fully_known(&wanted.config) {
                return Err(config_error(
                    "some values are still unknown when they are needed".into(),
                ));
            }
            let kind = decl.kind;
            let depends_on = decl.needs();
            if *step == Step::Create {
                let timeout = decl.timeouts.create;
                // Intent first: if we crash after AWS creates it, the next run finds it by name, tags and token.
                let previous = state
                    .resources
                    .get(name)
                    .filter(|r| r.status == Status::Creating);
                let token = previous
                    .and_then(|r| r.client_token.clone())
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                state.resources.insert(
                    name.clone(),
                    ResourceState {
                        kind,
                        status: Status::Creating,
                        id: None,
                        physical_name: wanted.physical_name.clone(),
                        client_token: Some(token.clone()),
                        depends_on,
                        config: wanted.config.clone(),
                        outputs: Map::new(),
                        delete_timeout_secs: Some(decl.timeouts.delete.as_secs()),
                        final_snapshot: None,
                        imported: false,
                        updated_at: jiff::Timestamp::now(),
                    },
                );
                let ctx = Ctx::new(aws.clone(), &owner, name, timeout, Some(progress));
                let config = ownership::with_lineage(wanted.config, &owner.lineage);
                let payload = wanted.payload;
                Ok(Started::Spawned(
                    kind,
                    Box::pin(async move {
                        aws::create(kind, &ctx, &config, &payload, &token)
                            .await
                            .map(Done::Created)
                    }),
                ))
            } else {
                let entry = state
                    .resources
                    .get_mut(name)
                    .ok_or_else(|| config_error("not in state".into()))?;
                let id = entry
                    .id
                    .clone()
                    .ok_or_else(|| config_error("no id recorded".into()))?;
                let mut current = observed
                    .get(name)
                    .and_then(Option::as_ref)
                    .map(|o| o.config.clone())
                    .unwrap_or(Json::Null);
                if !observed.unmarked.contains(name.as_str()) {
                    // Refresh took the tag out of what it read; AWS has it, so the update leaves it be.
                    current = ownership::with_lineage(current, &owner.lineage);
                }
                entry.status = Status::Updating;
                entry.updated_at = jiff::Timestamp::now();
                // Until the update is done it may still use what it used before.
                for dep in &depends_on {
                    if !entry.depends_on.contains(dep) {
                        entry.depends_on.push(dep.clone());
                    }
                }
                entry.delete_timeout_secs = Some(decl.timeouts.delete.as_secs());
                let ctx = Ctx::new(
                    aws.clone(),
                    &owner,
                    name,
                    decl.timeouts.update,
                    Some(progress),
                );
                let (config, payload) = (wanted.config, wanted.payload);
                let sent = ownership::with_lineage(config.clone(), &owner.lineage);
                Ok(Started::Spawned(
                    kind,
                    Box::pin(async move {
                        // The recorded configuration changes only once the update succeeds.
                        aws::update(kind, &ctx, &id, &current, &sent, &payload)
                            .await
                            .map(|outputs| Done::Updated {
                                outputs,
                                config,
                                depends_on,
                            })
                    }),
                ))
            }
        }
    }
}

/// Records a finished job in state and makes its outputs available to later jobs. Returns the id.
fn record(
    state: &mut State,
    key: &JobKey,
    done: Done,
    known: &mut crate::resolve::Known,
) -> Option<String> {
    let name = &key.0;
    match done {
        Done::Destroyed => {
            let removed = state.resources.remove(name);
            for kept in removed.iter().flat_map(ResourceState::left_behind) {
                if !state.retained.contains(&kept) {
                    state.retained.push(kept);
                }
            }
            let id = removed.and_then(|r| r.id);
            known.outputs.remove(name);
            state.resources.update_where(
                |entry| entry.depends_on.iter().any(|d| d == name),
                |entry| entry.depends_on.retain(|d| d != name),
            );
            id
        }
        Done::Created(created) => {
            let entry = state.resources.get_mut(name)?;
            entry.status = Status::Created;
            entry.id = Some(created.id.clone());
            entry.outputs = created.outputs.clone();
            entry.updated_at = jiff::Timestamp::now();
            known.outputs.insert(name.clone(), created.outputs);
            Some(created.id)
        }
        Done::Updated {
            outputs,
            config,
            depends_on,
        } => {
            let entry = state.resources.get_mut(name)?;
            entry.config = config;
            entry.depends_on = depends_on;
            // The update wrote this state's lineage tag.
            entry.imported = false;
            entry.status = Status::Created;
            entry.outputs = outputs.clone();
            entry.updated_at = jiff::Timestamp::now();
            known.outputs.insert(name.clone(), outputs);
            entry.id.clone()
        }
    }
}

/// Lookups are recorded so `outputs` and `down` can show and use them without AWS; those the file
/// no longer has are dropped.
fn record_lookups(
    state: &mut State,
    stack: Option<&Stack>,
    lookups: HashMap<String, aws::Observed>,
) {
    state.resources.retain(|name, r| {
        !r.kind.spec().lookup || stack.is_some_and(|s| s.resources.contains_key(name))
    });
    for (name, found) in lookups {
        let Some(decl) = stack.and_then(|s| s.resources.get(&name)) else {
            continue;
        };
        let recorded = state.resources.get(&name);
        if recorded.is_some_and(|r| r.config == found.config && r.outputs == found.outputs) {
            // Found as recorded: the entry (and its time) stays, so the state is not rewritten.
            continue;
        }
        state.resources.insert(
            name,
            ResourceState {
                kind: decl.kind,
                status: Status::Created,
                id: found
                    .outputs
                    .get("id")
                    .and_then(Json::as_str)
                    .map(str::to_string),
                physical_name: None,
                client_token: None,
                depends_on: vec![],
                config: found.config,
                outputs: found.outputs,
                delete_timeout_secs: None,
                final_snapshot: None,
                imported: false,
                updated_at: jiff::Timestamp::now(),
            },
        );
    }
}

/// The order of the jobs a plan becomes, pinned without AWS: what each job waits for, for creates,
/// updates, both kinds of replacement and destroys.
#[cfg(test)]
mod job_order {
    use super::*;
    use crate::diagnostics::Sources;
    use crate::plan::{Replacement, ResourcePlan};
    use crate::spec::variables::VarInputs;
    use serde_json::json;

    const STACK: &str = r#"stack: order-demo
region: us-east-1
resources:
  vpc: { type: vpc, name: demo-vpc }
  web_sg: { type: security-group, vpc: "${vpc.id}" }
  db_sg:
    type: security-group
    vpc: ${vpc.id}
    ingress: [ { port: 3306, from: "${web_sg.id}" } ]
  db_subnets: { type: rds-subnet-group }
  db:
    type: rds-instance
    instance_class: db.t3.micro
    password_secret: order-demo-db
    subnet_group: ${db_subnets.name}
    security_groups: ["${db_sg.id}"]
  role: { type: iam-role, assumed_by: ec2.amazonaws.com }
  web:
    type: ec2-instance
    instance_type: t3.micro
    image: ami-0123456789abcdef0
    subnet: ${vpc.public_subnets[0]}
    security_groups: ["${web_sg.id}"]
    instance_profile: ${role.instance_profile}
"#;

    /// What each resource was created with, as the state records it.
    const RECORDED: &[(&str, &str, &[&str])] = &[
        ("web_sg", "security-group", &[]),
        ("db_sg", "security-group", &["web_sg"]),
        ("db_subnets", "rds-subnet-group", &[]),
        ("db", "rds-instance", &["db_subnets", "db_sg"]),
        ("role", "iam-role", &[]),
        ("web", "ec2-instance", &["web_sg", "role"]),
    ];

    fn stack() -> Stack {
        crate::spec::load::parse(
            std::path::Path::new("stacks/order.yaml"),
            STACK,
            &VarInputs::default(),
            &mut Sources::default(),
        )
        .expect("a valid stack")
    }

    fn deployed() -> State {
        let mut state = State::new("order-demo", "us-east-1");
        for (name, kind, depends_on) in RECORDED {
            let entry: ResourceState = serde_json::from_value(json!({
                "type": kind,
                "status": "created",
                "id": format!("{name}-id"),
                "depends_on": depends_on,
                "updated_at": "2026-01-01T00:00:00Z",
            }))
            .unwrap();
            state.resources.insert(name.to_string(), entry);
        }
        state
    }

    fn planned(name: &str, action: Action) -> ResourcePlan {
        let kind = RECORDED
            .iter()
            .find(|(n, ..)| *n == name)
            .and_then(|(_, kind, _)| ResourceKind::from_type_name(kind))
            .unwrap();
        ResourcePlan {
            name: name.into(),
            kind,
            action,
            id: None,
            reason: None,
            changes: vec![],
            moved_from: None,
            data_loss: None,
            replacement: None,
        }
    }

    fn jobs_for(resources: &[ResourcePlan], stack: Option<&Stack>, state: &State) -> Jobs {
        let deposing = deposing(resources, state);
        Jobs(build_jobs(
            resources,
            stack,
            state,
            &super::super::refresh::Refreshed::default(),
            &deposing,
        ))
    }

    struct Jobs(BTreeMap<JobKey, Vec<JobKey>>);

    impl Jobs {
        fn waits(&self, job: &str) -> Vec<String> {
            let key = self
                .0
                .keys()
                .find(|k| key_name(k) == job)
                .unwrap_or_else(|| panic!("no job {job} in {:?}", self.names()));
            let mut waits: Vec<String> = self.0[key].iter().map(key_name).collect();
            waits.sort();
            waits.dedup();
            waits
        }

        fn names(&self) -> Vec<String> {
            let mut names: Vec<String> = self.0.keys().map(key_name).collect();
            names.sort();
            names
        }
    }

    #[test]
    fn creates_wait_for_what_they_reference() {
        let all: Vec<ResourcePlan> = RECORDED
            .iter()
            .map(|(name, ..)| planned(name, Action::Create))
            .collect();
        let jobs = jobs_for(&all, Some(&stack()), &State::new("order-demo", "us-east-1"));
        assert_eq!(jobs.waits("create:web_sg"), Vec::<String>::new());
        assert_eq!(jobs.waits("create:db_sg"), ["create:web_sg"]);
        assert_eq!(
            jobs.waits("create:db"),
            ["create:db_sg", "create:db_subnets"]
        );
        assert_eq!(jobs.waits("create:web"), ["create:role", "create:web_sg"]);
    }

    #[test]
    fn destroys_wait_for_what_depends_on_them() {
        let all: Vec<ResourcePlan> = RECORDED
            .iter()
            .map(|(name, ..)| planned(name, Action::Delete))
            .collect();
        // `down` needs only the state: no stack file.
        let jobs = jobs_for(&all, None, &deployed());
        assert_eq!(jobs.waits("destroy:db"), Vec::<String>::new());
        assert_eq!(jobs.waits("destroy:db_sg"), ["destroy:db"]);
        assert_eq!(
            jobs.waits("destroy:web_sg"),
            ["destroy:db_sg", "destroy:web"]
        );
        assert_eq!(jobs.waits("destroy:role"), ["destroy:web"]);
    }

    #[test]
    fn an_update_waits_for_the_new_resource_it_uses() {
        let mut state = deployed();
        state.resources.remove("role");
        let plans = [
            planned("role", Action::Create),
            planned("web", Action::Update),
        ];
        let jobs = jobs_for(&plans, Some(&stack()), &state);
        assert_eq!(jobs.waits("update:web"), ["create:role"]);
        assert_eq!(jobs.waits("create:role"), Vec::<String>::new());
    }

    #[test]
    fn a_group_in_use_is_replaced_create_first_and_deleted_after_its_users_move() {
        let mut replaced = planned("web_sg", Action::Replace);
        replaced.replacement = Some(Replacement {
            order: ReplaceOrder::CreateBeforeDestroy,
            new_name: Some("order-demo-web-sg-a1b2c3".into()),
            moves: vec!["db_sg".into(), "web".into()],
            left_out: vec![],
        });
        let plans = [
            replaced,
            planned("db_sg", Action::Update),
            planned("web", Action::Update),
        ];
        let jobs = jobs_for(&plans, Some(&stack()), &deployed());
        assert_eq!(
            jobs.names(),
            [
                "create:web_sg",
                "destroy:web_sg~old",
                "update:db_sg",
                "update:web"
            ]
        );
        assert_eq!(jobs.waits("create:web_sg"), Vec::<String>::new());
        assert_eq!(jobs.waits("update:web"), ["create:web_sg"]);
        assert_eq!(jobs.waits("update:db_sg"), ["create:web_sg"]);
        assert_eq!(
            jobs.waits("destroy:web_sg~old"),
            ["create:web_sg", "update:db_sg", "update:web"]
        );
    }

    #[test]
    fn a_left_out_user_keeps_the_old_group() {
        let mut replaced = planned("web_sg", Action::Replace);
        replaced.replacement = Some(Replacement {
            order: ReplaceOrder::CreateBeforeDestroy,
            new_name: None,
            moves: vec!["db_sg".into(), "web".into()],
            left_out: vec!["web".into()],
        });
        let plans = [replaced, planned("db_sg", Action::Update)];
        let jobs = jobs_for(&plans, Some(&stack()), &deployed());
        assert_eq!(jobs.names(), ["create:web_sg", "update:db_sg"]);
    }

    #[test]
    fn a_database_is_replaced_delete_first() {
        let mut replaced = planned("db", Action::Replace);
        replaced.replacement = Some(Replacement {
            order: ReplaceOrder::DestroyBeforeCreate,
            new_name: None,
            moves: vec![],
            left_out: vec![],
        });
        let jobs = jobs_for(&[replaced], Some(&stack()), &deployed());
        assert_eq!(jobs.waits("destroy:db"), Vec::<String>::new());
        assert_eq!(jobs.waits("create:db"), ["destroy:db"]);
    }
}
