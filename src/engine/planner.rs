//! Computes plans: refresh, then compare each resource's desired configuration with what exists.

use super::EngineError;
use super::desired;
use super::ownership;
use super::refresh::{RefreshError, Refreshed, refresh};
use crate::aws::{self, Aws, Ctx, Observed};
use crate::graph::Graph;
use crate::plan::diff::{creation, diff, refused};
use crate::plan::{Action, Change, DataLoss, Plan, ResourcePlan, data_loss, replacement};
use crate::resolve::Known;
use crate::spec::Stack;
use crate::state::{ResourceState, State, Status};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// A plan and everything needed to carry it out.
pub struct Planned {
    pub plan: Plan,
    /// The state after refresh (ids found again for interrupted creates), not yet saved.
    pub state: State,
    pub observed: Refreshed,
    /// Lookup results, recorded in state when the plan is applied.
    pub lookups: HashMap<String, Observed>,
    /// Outputs known before anything runs: lookups and resources that stay as they are.
    pub known: Known,
    /// Resources that leave the state without being deleted, and why (`removal_policy: retain`, or
    /// a retained resource still uses them).
    pub retained: BTreeMap<String, String>,
}

pub async fn plan_up(
    aws: &Aws,
    stack: &Stack,
    mut state: State,
    parallelism: usize,
) -> Result<Planned, EngineError> {
    let moves = apply_moves(stack, &mut state);
    let decls: Vec<_> = stack.resources.values().collect();
    let needs_account = crate::resolve::needs_account_id(&decls);
    // Everything a plan reads that does not depend on something else read is read at once, so a
    // plan waits for a few round trips to AWS whatever the stack holds: what the state records,
    // what AWS holds under this stack's tag, the engine versions AWS offers (for the check once
    // the plan is known), the account id, and the lookups the file alone defines.
    let owner = state.owner();
    let reads = std::sync::Arc::new(crate::aws::account_reads::AccountReads::default());
    let images_to_launch = super::images::to_launch(stack, &aws.region, &state.resources);
    let (refreshed, tagged, offered, account_id, mut early, images) = tokio::join!(
        refresh(aws, &mut state, parallelism, reads.clone()),
        crate::aws::census::census_sharing(aws, &stack.name, &reads),
        super::versions::fetch(aws, super::versions::engines(stack)),
        async {
            match needs_account {
                true => Some(aws.account_id().await),
                false => None,
            }
        },
        early_lookups(aws, stack, &owner),
        super::images::read(aws, &images_to_launch),
    );
    let mut observed = refreshed.map_err(driver_error(&state))?;
    let tagged = tagged.map_err(|error| EngineError::Driver {
        resource: "stack census".into(),
        kind: "tagging".into(),
        error,
    })?;
    let untracked = ownership::untracked(&state, tagged);
    if !untracked.is_empty() {
        return Err(EngineError::Untracked {
            stack: stack.name.clone(),
            resources: untracked
                .iter()
                .map(|t| ownership::describe_untracked(t, &state.lineage))
                .collect(),
        });
    }
    let now = jiff::Timestamp::now();
    let mut known = Known::default();
    if let Some(account_id) = account_id {
        known.account_id = Some(account_id.map_err(|error| EngineError::Driver {
            resource: "aws.account_id".into(),
            kind: "sts".into(),
            error,
        })?);
    }
    let order = Graph::from_stack(stack)
        .order()
        .map_err(|cycle| EngineError::Config {
            resource: cycle.first().cloned().unwrap_or_default(),
            message: format!("dependency cycle: {}", cycle.join(" -> ")),
        })?;
    let mut lookups = HashMap::new();
    let mut resources = Vec::new();
    // Resources with a replaced predecessor still waiting in the state (rare): only those can take one back.
    let with_deposed: std::collections::HashSet<String> = state
        .resources
        .keys()
        .filter_map(|key| deposed_of(key).map(str::to_string))
        .collect();
    for name in &order {
        let decl = &stack.resources[name];
        let config_error = |message: String| EngineError::Config {
            resource: name.clone(),
            message,
        };
        let recorded_name = state
            .resources
            .get(name)
            .and_then(|r| r.physical_name.as_deref());
        let mut wanted = desired::compute(stack, &aws.region, decl, &known, recorded_name)
            .map_err(config_error)?;
        if with_deposed.contains(name)
            && let Some(restored) = restore_deposed(
                stack,
                &aws.region,
                &known,
                &mut state,
                &mut observed,
                name,
                &wanted,
            )
        {
            wanted = restored;
        }
        if decl.kind.spec().lookup {
            let ctx = Ctx::new(
                aws.clone(),
                &state.owner(),
                name,
                Duration::from_secs(60),
                None,
            );
            let found = match early.remove(name) {
                Some((config, found)) if config == wanted.config => found,
                _ => aws::lookup(decl.kind, &ctx, &wanted.config).await,
            };
            let found = found.map_err(|error| EngineError::Driver {
                resource: name.clone(),
                kind: decl.kind.to_string(),
                error,
            })?;
            known.outputs.insert(name.clone(), found.outputs.clone());
            let id = found
                .outputs
                .get("id")
                .and_then(|v| v.as_str())
                .map(str::to_string);
            resources.push(ResourcePlan {
                name: name.clone(),
                kind: decl.kind,
                action: Action::Read,
                id,
                reason: None,
                changes: vec![],
                moved_from: None,
                data_loss: None,
                replacement: None,
            });
            lookups.insert(name.clone(), found);
            continue;
        }
        let recorded = state.resources.get(name);
        let existing = observed.get(name).and_then(Option::as_ref);
        let (action, changes, reason) = match (recorded, existing) {
            (None, _) => (Action::Create, creation(&wanted.config), None),
            // AWS may still be deleting it (a database takes minutes): the delete is finished, waiting
            // until it is gone, and only then is the resource created again under its name.
            (Some(entry), None) if entry.status == Status::Deleting => (
                Action::Replace,
                creation(&wanted.config),
                Some(FINISHING_DELETE.to_string()),
            ),
            (Some(entry), None) => {
                let reason = match entry.status {
                    Status::Creating => "an interrupted create left nothing behind",
                    Status::Deleting | Status::Created | Status::Updating => {
                        "deleted outside stackctl"
                    }
                };
                (
                    Action::Create,
                    creation(&wanted.config),
                    Some(reason.to_string()),
                )
            }
            (Some(entry), Some(found)) => {
                let (action, changes) = diff(decl.kind, &found.config, &wanted.config);
                match entry.status {
                    Status::Deleting => (
                        Action::Replace,
                        changes,
                        Some("a delete was interrupted; it is finished, then the resource is created again".into()),
                    ),
                    // Found again after a crash: whatever the create did not get to (rules, policies, the
                    // secret's connection details) is done by an update, which changes nothing already right.
                    Status::Creating if action != Action::Replace => {
                        (Action::Update, changes, Some("finishing a create that was interrupted".into()))
                    }
                    Status::Updating if action == Action::NoOp => {
                        (Action::Update, changes, Some("finishing an update that was interrupted".into()))
                    }
                    _ => (action, changes, None),
                }
            }
        };
        if matches!(action, Action::Update | Action::Replace)
            && let Some(message) = refused(decl.kind, &changes)
        {
            return Err(EngineError::Config {
                resource: name.clone(),
                message,
            });
        }
        if action == Action::Create
            && let Some(taken) = wanted
                .physical_name
                .as_deref()
                .filter(|n| ownership::released(&state.retained, decl.kind, n))
        {
            return Err(EngineError::Config {
                resource: name.clone(),
                message: format!(
                    "would be created as `{taken}`, a name this state let go of (`state rm` or `removal_policy: retain`; that {} may still exist): take it back with `stackctl import {name} <id>`, or give the resource another `name:`",
                    decl.kind
                ),
            });
        }
        let (action, changes, reason) = if existing.is_some() && observed.unmarked.contains(name) {
            mark_ownership(action, changes, reason, &state.lineage)
        } else {
            (action, changes, reason)
        };
        if matches!(action, Action::NoOp | Action::Update)
            && let Some(found) = existing
        {
            known.outputs.insert(name.clone(), found.outputs.clone());
        }
        let id = recorded
            .and_then(|r| r.id.clone())
            .filter(|_| existing.is_some());
        let data_loss = recorded
            .filter(|_| action == Action::Replace && existing.is_some())
            .and_then(|entry| data_loss(entry, now));
        resources.push(ResourcePlan {
            name: name.clone(),
            kind: decl.kind,
            action,
            id,
            reason,
            changes,
            moved_from: moves.get(name).cloned(),
            data_loss,
            replacement: None,
        });
    }
    order_replacements(stack, &state, &observed, &mut resources)?;
    let leaving: Vec<String> = removal_order(&state)
        .into_iter()
        .filter(|n| !stack.resources.contains_key(n))
        .collect();
    let retained = retained(&state, &leaving);
    for name in leaving {
        let entry = &state.resources[&name];
        let gone = observed.get(&name).is_none_or(Option::is_none);
        let reason = match retained.get(&name) {
            Some(why) => why.clone(),
            None if gone && entry.status == Status::Deleting => FINISHING_DELETE_ONLY.into(),
            None if gone => "already gone; only the state entry is removed".into(),
            None if deposed_of(&name).is_some_and(|of| stack.resources.contains_key(of)) => {
                format!(
                    "left over from a replacement of `{}`; deleted once nothing uses it",
                    deposed_of(&name).unwrap_or_default()
                )
            }
            None => match renamed_to(&resources, entry.kind) {
                Some(new) => format!(
                    "no longer in the stack file; if it was renamed to `{new}`, add `moved: {{ {name}: {new} }}` to the file to keep it"
                ),
                None => "no longer in the stack file".into(),
            },
        };
        let data_loss = (!gone && !retained.contains_key(&name))
            .then(|| data_loss(entry, now))
            .flatten();
        resources.push(ResourcePlan {
            name: name.clone(),
            kind: entry.kind,
            action: Action::Delete,
            id: entry.id.clone(),
            reason: Some(reason),
            changes: vec![],
            moved_from: None,
            data_loss,
            replacement: None,
        });
    }
    for r in &resources {
        tracing::debug!(resource = %r.name, action = ?r.action, changes = r.changes.len(), "planned");
    }
    let plan = Plan::new(&stack.name, &aws.region, false, resources);
    super::versions::check(stack, &plan, &offered)?;
    super::images::check(stack, &plan, &images)?;
    Ok(Planned {
        plan,
        state,
        observed,
        lookups,
        known,
        retained,
    })
}

const FINISHING_DELETE: &str = "a delete was interrupted: it is finished (waiting until AWS has deleted it), then the resource is created again";
const FINISHING_DELETE_ONLY: &str =
    "a delete was interrupted: it is finished, waiting until AWS has deleted it";

/// When the resource would be replaced (or created again) while the one it replaced still waits in
/// the state for its deletion and matches the file (a change reverted after an interrupted
/// replacement), that one is taken back instead: the newer one is deleted once nothing uses it.
/// Returns the desired configuration under the restored resource's name.
fn restore_deposed(
    stack: &Stack,
    region: &str,
    known: &Known,
    state: &mut State,
    observed: &mut Refreshed,
    name: &str,
    wanted: &desired::Desired,
) -> Option<desired::Desired> {
    let decl = stack.resources.get(name)?;
    let current = observed.get(name).and_then(Option::as_ref);
    if let Some(found) = current
        && diff(decl.kind, &found.config, &wanted.config).0 != Action::Replace
    {
        return None;
    }
    let candidates: Vec<String> = state
        .resources
        .keys()
        .filter(|key| deposed_of(key) == Some(name))
        .cloned()
        .collect();
    for key in candidates {
        let entry = &state.resources[&key];
        let Some(found) = observed.get(&key).and_then(Option::as_ref) else {
            continue;
        };
        let Ok(restored) =
            desired::compute(stack, region, decl, known, entry.physical_name.as_deref())
        else {
            continue;
        };
        if entry.kind == decl.kind
            && diff(decl.kind, &found.config, &restored.config).0 != Action::Replace
        {
            tracing::debug!(resource = name, deposed = %key, "taking back the resource it replaced");
            state.swap(name, &key);
            observed.swap(name, &key);
            return Some(restored);
        }
    }
    None
}

/// Decides the order of every replacement in the plan (see `plan::replacement`): create first when
/// resources that stay keep using the replaced one, delete first otherwise. Fails before any change
/// when neither is safe.
fn order_replacements(
    stack: &Stack,
    state: &State,
    observed: &Refreshed,
    resources: &mut [ResourcePlan],
) -> Result<(), EngineError> {
    let stack_graph = Graph::from_stack(stack);
    let recorded = state_graph(state);
    let actions: HashMap<String, Action> = resources
        .iter()
        .map(|r| (r.name.clone(), r.action))
        .collect();
    let suffix = || uuid::Uuid::new_v4().simple().to_string()[..6].to_string();
    for planned in resources.iter_mut().filter(|r| r.action == Action::Replace) {
        let name = planned.name.as_str();
        let Some(decl) = stack.resources.get(name) else {
            continue;
        };
        let uses_now = |user: &str| stack_graph.dependencies(user).contains(&name);
        let mut staying: Vec<String> = stack_graph
            .dependents(name)
            .into_iter()
            .filter(|user| matches!(actions.get(*user), Some(Action::Update | Action::NoOp)))
            .map(str::to_string)
            .collect();
        staying.sort();
        let mut moving_off: Vec<String> = recorded
            .dependents(name)
            .into_iter()
            .filter(|user| !uses_now(user) && actions.get(*user) == Some(&Action::Update))
            .map(str::to_string)
            .collect();
        moving_off.sort();
        let fixed_name = decl
            .config
            .contains_key("name")
            .then(|| {
                planned
                    .changes
                    .iter()
                    .find(|c| c.attribute == "name")
                    .and_then(|c| c.after.as_ref())
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
                    .or_else(|| state.resources.get(name)?.physical_name.clone())
            })
            .flatten();
        let old_name = state
            .resources
            .get(name)
            .and_then(|r| r.physical_name.clone());
        let base_name = crate::model::names::physical_name(&stack.name, name);
        let candidate = replacement::Candidate {
            kind: decl.kind,
            staying,
            moving_off,
            fixed_name: fixed_name.as_deref(),
            old_name: old_name.as_deref(),
            base_name: &base_name,
        };
        if let Some(fixed) = fixed_name.as_deref()
            && let Some(holder) = state.resources.iter().find_map(|(key, entry)| {
                // One already gone in AWS holds nothing.
                let exists = observed.get(key).is_some_and(Option::is_some);
                (key != name
                    && exists
                    && entry.kind == decl.kind
                    && entry
                        .physical_name
                        .as_deref()
                        .is_some_and(|held| held.eq_ignore_ascii_case(fixed)))
                .then_some(key)
            })
        {
            return Err(EngineError::Config {
                resource: name.to_string(),
                message: format!(
                    "its new name `{fixed}` is still held by `{holder}`, which goes only once nothing uses it: give `{name}` another name, or apply the file with the name it had before"
                ),
            });
        }
        if planned.id.is_none() {
            // Nothing of the old one is left to hold its users or its name.
            planned.replacement = Some(crate::plan::Replacement {
                order: crate::plan::ReplaceOrder::DestroyBeforeCreate,
                new_name: None,
                moves: vec![],
                left_out: vec![],
            });
            continue;
        }
        let decided =
            replacement::decide(&candidate, &suffix()).map_err(|message| EngineError::Config {
                resource: name.to_string(),
                message,
            })?;
        if let Some(new_name) = &decided.new_name {
            planned.changes.push(Change {
                attribute: "name".into(),
                before: old_name.map(serde_json::Value::String),
                after: Some(serde_json::Value::String(new_name.clone())),
                forces_replacement: false,
            });
        }
        planned.replacement = Some(decided);
    }
    Ok(())
}

/// The state key under which a replaced resource waits for its deletion, while the new one takes
/// its key: `web_sg~old` (resource keys in files never hold `~`).
pub fn deposed_key(state: &State, name: &str) -> String {
    let mut key = format!("{name}{DEPOSED}");
    let mut n = 2;
    while state.resources.contains_key(&key) {
        key = format!("{name}{DEPOSED}{n}");
        n += 1;
    }
    key
}

const DEPOSED: &str = "~old";

/// The resource a deposed state key was replaced by.
pub fn deposed_of(key: &str) -> Option<&str> {
    key.rfind(DEPOSED).map(|at| &key[..at])
}

/// Follows the file's `moved:` renames in the state: the old key's entry becomes the new key's, so
/// the resource is kept. Returns new key → old key for the plan.
fn apply_moves(stack: &Stack, state: &mut State) -> BTreeMap<String, String> {
    let mut moves: BTreeMap<String, String> = BTreeMap::new();
    // Until nothing moves: a chain (`a: b`, `b: c`) may be written in any order.
    let mut moved_any = true;
    while moved_any {
        moved_any = false;
        for moved in &stack.moved {
            if state.rename(&moved.from, &moved.to) {
                let original = moves.remove(&moved.from).unwrap_or(moved.from.clone());
                moves.insert(moved.to.clone(), original);
                moved_any = true;
            }
        }
    }
    moves
}

/// A resource this state recorded that does not carry its lineage tag (made before stackctl tagged
/// ownership, or imported) gets the tag with its next update.
fn mark_ownership(
    action: Action,
    mut changes: Vec<Change>,
    reason: Option<String>,
    lineage: &str,
) -> (Action, Vec<Change>, Option<String>) {
    if !matches!(action, Action::NoOp | Action::Update) {
        return (action, changes, reason);
    }
    changes.push(Change {
        attribute: format!("tags.{}", crate::resources::TAG_LINEAGE),
        before: None,
        after: Some(serde_json::Value::String(lineage.to_string())),
        forces_replacement: false,
    });
    let reason = reason.or_else(|| Some("records that this state owns it".into()));
    (Action::Update, changes, reason)
}

/// A resource of `kind` this plan creates anew: what a removed key of that kind may have been renamed to.
fn renamed_to(planned: &[ResourcePlan], kind: crate::resources::ResourceKind) -> Option<&str> {
    planned
        .iter()
        .find(|r| r.kind == kind && r.action == Action::Create && r.reason.is_none())
        .map(|r| r.name.as_str())
}

/// What deleting a recorded resource destroys. A database's final snapshot gets a name unique to this
/// deletion, or keeps the one an interrupted delete already recorded.
fn data_loss(entry: &ResourceState, now: jiff::Timestamp) -> Option<DataLoss> {
    let snapshot = entry.final_snapshot.clone().or_else(|| {
        entry
            .id
            .as_deref()
            .map(|id| data_loss::final_snapshot_name(id, now))
    });
    data_loss::assess(entry.kind, &entry.config, snapshot.as_deref())
}

/// Plans the removal of everything the state records. Needs no stack file; `only_marked` (no stack
/// file to vouch for the state) refuses resources that do not carry the state's lineage tag.
pub async fn plan_down(
    aws: &Aws,
    mut state: State,
    parallelism: usize,
    only_marked: bool,
) -> Result<Planned, EngineError> {
    let observed = refresh(aws, &mut state, parallelism, Default::default())
        .await
        .map_err(driver_error(&state))?;
    if only_marked && !observed.unmarked.is_empty() {
        return Err(EngineError::Unmarked {
            resources: observed.unmarked.iter().cloned().collect(),
        });
    }
    let order = removal_order(&state);
    let retained = retained(&state, &order);
    let now = jiff::Timestamp::now();
    let resources = order
        .into_iter()
        .map(|name| {
            let entry = &state.resources[&name];
            let gone = observed.get(&name).is_none_or(Option::is_none);
            let reason = match retained.get(&name) {
                Some(why) => Some(why.clone()),
                None if gone && entry.status == Status::Deleting => {
                    Some(FINISHING_DELETE_ONLY.to_string())
                }
                None => gone.then(|| "already gone; only the state entry is removed".to_string()),
            };
            let data_loss = (!gone && !retained.contains_key(&name))
                .then(|| data_loss(entry, now))
                .flatten();
            ResourcePlan {
                name: name.clone(),
                kind: entry.kind,
                action: Action::Delete,
                id: entry.id.clone(),
                reason,
                changes: vec![],
                moved_from: None,
                data_loss,
                replacement: None,
            }
        })
        .collect();
    let plan = Plan::new(&state.stack, &state.region, true, resources);
    Ok(Planned {
        plan,
        state,
        observed,
        lookups: HashMap::new(),
        known: Known::default(),
        retained,
    })
}

/// Of the resources leaving the state, those to keep in AWS: the ones whose `removal_policy` is
/// `retain`, and everything they depend on (AWS would refuse to delete a subnet group or security
/// group a retained database still uses).
fn retained(state: &State, leaving: &[String]) -> BTreeMap<String, String> {
    let graph = state_graph(state);
    let mut kept = BTreeMap::new();
    let mut queue: Vec<(String, String)> = leaving
        .iter()
        .filter(|n| {
            state.resources[*n]
                .config
                .get("removal_policy")
                .and_then(|p| p.as_str())
                == Some("retain")
        })
        .map(|n| {
            (
                n.clone(),
                "removal_policy is retain: left in place, dropped from state".to_string(),
            )
        })
        .collect();
    while let Some((name, why)) = queue.pop() {
        if kept.contains_key(&name) || !leaving.contains(&name) {
            continue;
        }
        for dependency in graph.dependencies(&name) {
            queue.push((
                dependency.to_string(),
                format!("left in place: retained `{name}` still uses it; dropped from state"),
            ));
        }
        kept.insert(name, why);
    }
    kept.retain(|name, _| !state.resources[name].kind.spec().lookup);
    kept
}

/// Narrows a plan to `targets` and what they depend on (`up`), or what depends on them (`down`).
/// Everything else is left exactly as it is.
pub fn target(mut planned: Planned, graph: &Graph, targets: &[String], upstream: bool) -> Planned {
    let keep = graph.closure(targets.iter().map(String::as_str), upstream);
    let resources: Vec<ResourcePlan> = planned
        .plan
        .resources
        .into_iter()
        .filter(|r| keep.contains(&r.name))
        .map(|mut r| {
            // Users of a replaced resource left out of this run keep the old one until a run moves them.
            if let Some(replacement) = r.replacement.as_mut()
                && replacement.order == crate::plan::ReplaceOrder::CreateBeforeDestroy
            {
                let (moving, left): (Vec<String>, Vec<String>) = replacement
                    .moves
                    .drain(..)
                    .partition(|user| keep.contains(user));
                replacement.moves = moving;
                replacement.left_out = left;
            }
            r
        })
        .collect();
    planned.plan = Plan::new(
        &planned.plan.stack,
        &planned.plan.region,
        planned.plan.destroy,
        resources,
    );
    planned.retained.retain(|name, _| keep.contains(name));
    planned
}

/// The lookups whose arguments the stack file alone gives (a VPC by name), made together: each
/// with the configuration it was made for, which the plan checks before using the answer.
async fn early_lookups(
    aws: &Aws,
    stack: &Stack,
    owner: &crate::state::Owner,
) -> HashMap<String, (serde_json::Value, Result<Observed, aws::DriverError>)> {
    let nothing_known = Known::default();
    let mut lookups = tokio::task::JoinSet::new();
    for (name, decl) in stack.resources.iter() {
        if !decl.kind.spec().lookup {
            continue;
        }
        let Ok(wanted) = desired::compute(stack, &aws.region, decl, &nothing_known, None) else {
            continue;
        };
        if !crate::resolve::is_fully_known(&wanted.config) {
            continue;
        }
        let ctx = Ctx::new(aws.clone(), owner, name, Duration::from_secs(60), None);
        let (name, kind) = (name.clone(), decl.kind);
        lookups.spawn(async move {
            let found = aws::lookup(kind, &ctx, &wanted.config).await;
            (name, (wanted.config, found))
        });
    }
    let mut found = HashMap::new();
    while let Some(joined) = lookups.join_next().await {
        // A lookup that could not finish is made again, in order, where its error is reported.
        if let Ok((name, answer)) = joined {
            found.insert(name, answer);
        }
    }
    found
}

/// Managed resources in the state, dependents before what they depend on.
pub fn removal_order(state: &State) -> Vec<String> {
    let graph = state_graph(state);
    let mut order = graph
        .order()
        .unwrap_or_else(|_| state.resources.keys().cloned().collect());
    order.reverse();
    order
        .into_iter()
        .filter(|n| {
            state
                .resources
                .get(n)
                .is_some_and(|r| !r.kind.spec().lookup)
        })
        .collect()
}

pub fn state_graph(state: &State) -> Graph {
    Graph::new(
        state
            .resources
            .iter()
            .map(|(n, r)| (n.clone(), r.depends_on.clone())),
    )
}

fn driver_error(state: &State) -> impl Fn(RefreshError) -> EngineError + '_ {
    move |error| match error {
        RefreshError::Driver(resource, error) => {
            let kind = state
                .resources
                .get(&resource)
                .map(|r| r.kind.to_string())
                .unwrap_or_default();
            EngineError::Driver {
                resource,
                kind,
                error,
            }
        }
        RefreshError::Foreign(resources) => EngineError::Foreign {
            stack: state.stack.clone(),
            resources,
        },
    }
}
