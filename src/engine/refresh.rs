//! Reads every resource the state records, in parallel, finds again those whose create was
//! interrupted before their id was recorded, and checks that each one is this state's to touch.

use super::ownership::{self, Foreign, Known, Verdict};
use crate::aws::account_reads::AccountReads;
use crate::aws::prefetch::{Prefetch, Wanted};
use crate::aws::{self, Aws, Ctx, DriverError, Observed};
use crate::state::{ResourceState, State, Status};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

/// What AWS says about each recorded resource.
#[derive(Debug, Default)]
pub struct Refreshed {
    /// `None` when the resource does not exist.
    observed: HashMap<String, Option<Observed>>,
    /// Resources this state recorded that do not carry its lineage tag yet: the plan adds it.
    pub unmarked: BTreeSet<String>,
}

impl Refreshed {
    pub fn get(&self, name: &str) -> Option<&Option<Observed>> {
        self.observed.get(name)
    }

    /// Follows `State::swap`.
    pub fn swap(&mut self, a: &str, b: &str) {
        let first = self.observed.remove(a);
        let second = self.observed.remove(b);
        if let Some(second) = second {
            self.observed.insert(a.to_string(), second);
        }
        if let Some(first) = first {
            self.observed.insert(b.to_string(), first);
        }
        let (has_a, has_b) = (self.unmarked.remove(a), self.unmarked.remove(b));
        if has_a {
            self.unmarked.insert(b.to_string());
        }
        if has_b {
            self.unmarked.insert(a.to_string());
        }
    }
}

#[derive(Debug)]
pub enum RefreshError {
    Driver(String, DriverError),
    /// Resources that exist but that this state did not create: nothing may be changed.
    Foreign(Vec<Foreign>),
}

pub async fn refresh(
    aws: &Aws,
    state: &mut State,
    parallelism: usize,
    reads: Arc<AccountReads>,
) -> Result<Refreshed, RefreshError> {
    let semaphore = Arc::new(tokio::sync::Semaphore::new(parallelism.max(1)));
    let mut wanted = Wanted {
        stack: state.stack.clone(),
        ..Wanted::default()
    };
    for (_, resource) in state.managed() {
        *wanted.counts.entry(resource.kind).or_default() += 1;
        if resource.kind == crate::resources::ResourceKind::Secret
            && resource.config.get("value").is_some()
            && let Some(id) = &resource.id
        {
            wanted.composed_secrets.push(id.clone());
        }
        if let Some(id) = &resource.id {
            wanted
                .ids
                .entry(resource.kind)
                .or_default()
                .push(id.clone());
        }
    }
    // Loaded by the first resource of a batched kind that needs it, while resources of other
    // kinds are read at the same time: a plan waits for one round trip less.
    let prefetch = Arc::new(tokio::sync::OnceCell::<Arc<Prefetch>>::new());
    let wanted = Arc::new(wanted);
    let owner = state.owner();
    let mut tasks = tokio::task::JoinSet::new();
    for (name, resource) in state.managed() {
        let mut ctx = Ctx::new(aws.clone(), &owner, name, Duration::from_secs(60), None)
            .with_account_reads(reads.clone());
        let (name, resource, semaphore) = (name.clone(), resource.clone(), semaphore.clone());
        let (prefetch, wanted, aws) = (prefetch.clone(), wanted.clone(), aws.clone());
        let reads = reads.clone();
        tasks.spawn(async move {
            if wanted.batches(resource.kind) {
                let loaded = prefetch
                    .get_or_init(|| async { Arc::new(Prefetch::load(&aws, &wanted, &reads).await) })
                    .await;
                ctx = ctx.with_prefetch(loaded.clone());
            }
            let _permit = semaphore.acquire_owned().await;
            let result = refresh_one(&ctx, &resource).await;
            (name, result)
        });
    }
    let mut refreshed = Refreshed::default();
    let mut foreign = Vec::new();
    let retained = state.retained.clone();
    while let Some(joined) = tasks.join_next().await {
        let (name, result) = joined.map_err(|e| {
            RefreshError::Driver("refresh".into(), DriverError::Invalid(e.to_string()))
        })?;
        let (found_id, mut observed) = result.map_err(|e| RefreshError::Driver(name.clone(), e))?;
        let Some(entry) = state.resources.get_mut(&name) else {
            continue;
        };
        if let Some(found) = observed.as_mut() {
            let id = found_id.clone().or(entry.id.clone()).unwrap_or_default();
            // Found by name, but this state let it go: never taken back without `import`.
            if found_id.is_some() && ownership::released(&retained, entry.kind, &id) {
                foreign.push(Foreign {
                    resource: name.clone(),
                    kind: entry.kind,
                    id,
                    lineage: Some(owner.lineage.clone()),
                    released: true,
                });
                continue;
            }
            let known = match (found_id.is_some(), entry.imported) {
                (true, _) => Known::Found,
                (false, true) => Known::Imported,
                (false, false) => Known::Recorded,
            };
            match ownership::judge(found, &owner.lineage, known) {
                Verdict::Ours => {}
                Verdict::Unmarked => {
                    refreshed.unmarked.insert(name.clone());
                }
                Verdict::Foreign { lineage } => {
                    foreign.push(Foreign {
                        resource: name.clone(),
                        kind: entry.kind,
                        id,
                        lineage,
                        released: false,
                    });
                    continue;
                }
            }
        }
        // Found again by name, tags or token, and ours: its id is known now. The status stays
        // `creating` until the plan has finished what the interrupted create left undone.
        if found_id.is_some() {
            entry.id = found_id;
        }
        refreshed.observed.insert(name, observed);
    }
    if !foreign.is_empty() {
        foreign.sort_by(|a, b| a.resource.cmp(&b.resource));
        return Err(RefreshError::Foreign(foreign));
    }
    Ok(refreshed)
}

/// Returns the id when it had to be found, and what exists.
async fn refresh_one(
    ctx: &Ctx,
    resource: &ResourceState,
) -> Result<(Option<String>, Option<Observed>), DriverError> {
    tracing::debug!(resource = %ctx.resource, kind = %resource.kind, id = ?resource.id, status = ?resource.status, "refreshing");
    let (id, found) = match &resource.id {
        Some(id) => (Some(id.clone()), false),
        None => (aws::find(resource.kind, ctx, resource).await?, true),
    };
    let Some(id) = id else {
        return Ok((None, None));
    };
    let observed = aws::read(resource.kind, ctx, &id, resource).await?;
    if observed.is_none() && resource.status == Status::Creating && !found {
        // The id was recorded but the resource is not visible: look it up once more by name and tags.
        if let Some(other) = aws::find(resource.kind, ctx, resource).await? {
            return Ok((
                Some(other.clone()),
                aws::read(resource.kind, ctx, &other, resource).await?,
            ));
        }
    }
    Ok((found.then_some(id), observed))
}
