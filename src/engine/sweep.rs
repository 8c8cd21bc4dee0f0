//! `sweep`: deletes what AWS holds under a stack's tag that no state records (left by a lost state
//! file, or by a run whose state was thrown away). It works from tags alone, dependents first: what
//! runs on a network (instances, clusters, databases) before the groups it uses.

use super::events::{Event, EventSink};
use super::ownership;
use crate::aws::census::{Tagged, census};
use crate::aws::{self, Aws, Ctx, DriverError};
use crate::plan::{Action, DataLoss, data_loss};
use crate::resources::ResourceKind;
use crate::state::{Owner, ResourceState, State, Status};
use std::time::{Duration, Instant};

/// A resource to sweep, and what deleting it destroys.
#[derive(Debug, Clone)]
pub struct Swept {
    pub tagged: Tagged,
    pub data_loss: Option<DataLoss>,
    final_snapshot: Option<String>,
}

/// The order of deletion: everything in one wave before the next starts.
fn wave(kind: ResourceKind) -> u8 {
    kind.spec().sweep_wave
}

/// What `sweep` would do with the stack's tagged resources that `state` does not record.
#[derive(Debug, Default)]
pub struct SweepPlan {
    pub delete: Vec<Swept>,
    /// Resources another state made: a live state elsewhere (another folder, another team) may
    /// still own them, so they are deleted only when their lineage is named.
    pub left_alone: Vec<Tagged>,
}

/// Plans a sweep. What carries no lineage, or this state's, is swept; what carries another
/// state's lineage only when `lineages` names it (in full or by its first block).
pub async fn plan_sweep(
    aws: &Aws,
    stack: &str,
    state: &State,
    lineages: &[String],
) -> Result<SweepPlan, DriverError> {
    let now = jiff::Timestamp::now();
    let named = |lineage: &str| {
        lineage == state.lineage
            || lineages
                .iter()
                .any(|l| l == lineage || l == ownership::short(lineage))
    };
    let (delete, left_alone): (Vec<Tagged>, Vec<Tagged>) =
        ownership::untracked(state, census(aws, stack).await?)
            .into_iter()
            .filter(|t| t.kind != ResourceKind::Vpc)
            .partition(|t| t.lineage.as_deref().is_none_or(named));
    let mut delete: Vec<Swept> = delete
        .into_iter()
        .map(|tagged| {
            let final_snapshot = (tagged.kind == ResourceKind::RdsInstance)
                .then(|| data_loss::final_snapshot_name(&tagged.id, now));
            // Nothing recorded says otherwise: databases keep a final snapshot, secrets their
            // recovery window.
            let config = serde_json::json!({});
            let data_loss = data_loss::assess(tagged.kind, &config, final_snapshot.as_deref());
            Swept {
                tagged,
                data_loss,
                final_snapshot,
            }
        })
        .collect();
    delete.sort_by_key(|s| (wave(s.tagged.kind), s.tagged.clone()));
    Ok(SweepPlan { delete, left_alone })
}

/// Deletes, wave by wave, each wave in parallel. Returns the failures.
pub async fn sweep(
    aws: &Aws,
    owner: &Owner,
    items: Vec<Swept>,
    timeout: Option<Duration>,
    events: EventSink,
) -> Vec<(Tagged, DriverError)> {
    let mut failures = Vec::new();
    let mut waves: Vec<Vec<Swept>> = Vec::new();
    for item in items {
        match waves.last_mut() {
            Some(last) if wave(last[0].tagged.kind) == wave(item.tagged.kind) => last.push(item),
            _ => waves.push(vec![item]),
        }
    }
    for items in waves {
        let mut tasks = tokio::task::JoinSet::new();
        for item in items {
            let kind = item.tagged.kind;
            let label = format!("{} {}", kind, item.tagged.id);
            let timeout = timeout.unwrap_or(Duration::from_secs(kind.spec().timeouts[2]));
            let ctx = Ctx::new(aws.clone(), owner, &label, timeout, None);
            let prior = ResourceState {
                kind,
                status: Status::Deleting,
                id: Some(item.tagged.id.clone()),
                physical_name: None,
                client_token: None,
                depends_on: vec![],
                config: serde_json::json!({}),
                outputs: Default::default(),
                delete_timeout_secs: None,
                final_snapshot: item.final_snapshot.clone(),
                imported: false,
                updated_at: jiff::Timestamp::now(),
            };
            let events = events.clone();
            tasks.spawn(async move {
                events(Event::Started {
                    resource: label.clone(),
                    kind,
                    action: Action::Delete,
                });
                let started = Instant::now();
                let result = aws::delete(kind, &ctx, &item.tagged.id, &prior).await;
                match &result {
                    Ok(()) => events(Event::Finished {
                        resource: label,
                        kind,
                        action: Action::Delete,
                        id: Some(item.tagged.id.clone()),
                        elapsed: started.elapsed(),
                    }),
                    Err(error) => events(Event::Failed {
                        resource: label,
                        kind,
                        action: Action::Delete,
                        code: error.code().map(str::to_string),
                        message: error.to_string(),
                    }),
                }
                (item.tagged, result)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            if let Ok((tagged, Err(error))) = joined {
                failures.push((tagged, error));
            }
        }
        if !failures.is_empty() {
            break;
        }
    }
    failures
}
