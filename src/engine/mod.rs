//! Runs plans against AWS: refreshes what the state records, computes the plan, then walks the graph
//! with independent resources in parallel, recording state after every step. Reports through events
//! and never prints.

pub mod cancel;
pub mod desired;
pub mod events;
pub mod executor;
pub mod images;
pub mod import;
pub mod ownership;
pub mod planner;
pub mod refresh;
pub mod sweep;
pub mod versions;

pub use cancel::Cancel;
pub use events::{Event, EventSink};
pub use executor::{Outcome, apply};
pub use planner::{Planned, plan_down, plan_up, target};

use crate::aws::DriverError;
use crate::state::store::StateError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{resource} ({kind}): {error}")]
    Driver {
        resource: String,
        kind: String,
        error: DriverError,
    },
    #[error(transparent)]
    State(#[from] StateError),
    #[error("the state lock was lost: {reason}; this run stopped starting new work")]
    LockLost { reason: String },
    #[error("{resource}: {message}")]
    Config { resource: String, message: String },
    /// Resources this state would touch but did not create: nothing is changed.
    #[error("{} not created by this state of stack `{stack}`; nothing was changed:\n{}", plural(.resources.len()), list(.resources))]
    Foreign {
        stack: String,
        resources: Vec<ownership::Foreign>,
    },
    /// The stack file asks for what AWS does not offer (an engine version, an image), found at plan
    /// time.
    #[error("the stack file asks for what AWS does not offer; nothing was changed")]
    Invalid {
        diagnostics: Vec<crate::diagnostics::Diagnostic>,
        sources: std::sync::Arc<crate::diagnostics::Sources>,
    },
    /// `stackctl import` could not record the resource.
    #[error("import {resource}: {message}")]
    Import { resource: String, message: String },
    /// Without the stack file, `down` deletes only what carries the state's lineage.
    #[error("without the stack file, `down` deletes only what carries this state's lineage tag, and {} not: {}; nothing was changed", if .resources.len() == 1 { "this does" } else { "these do" }, .resources.join(", "))]
    Unmarked { resources: Vec<String> },
    /// AWS holds resources tagged with this stack that the state does not record.
    #[error("AWS holds {} tagged with stack `{stack}` that this state does not record; nothing was changed:\n{}", count(.resources.len()), .resources.iter().map(|r| format!("  - {r}")).collect::<Vec<_>>().join("\n"))]
    Untracked {
        stack: String,
        resources: Vec<String>,
    },
}

impl EngineError {
    /// A plan-time check's result: fine when it found nothing, else its diagnostics located in
    /// the stack's files.
    pub fn invalid_unless_empty(
        diagnostics: Vec<crate::diagnostics::Diagnostic>,
        stack: &crate::spec::Stack,
    ) -> Result<(), EngineError> {
        if diagnostics.is_empty() {
            Ok(())
        } else {
            Err(EngineError::Invalid {
                diagnostics,
                sources: stack.sources.clone(),
            })
        }
    }
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 resource".into()
    } else {
        format!("{n} resources")
    }
}

fn plural(n: usize) -> String {
    format!(
        "{} in AWS {}",
        count(n),
        if n == 1 { "was" } else { "were" }
    )
}

fn list(resources: &[ownership::Foreign]) -> String {
    resources
        .iter()
        .map(|r| format!("  - {r}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl EngineError {
    pub fn help(&self) -> String {
        match self {
            EngineError::Driver { error: DriverError::Timeout { .. }, .. } => {
                "the resource stays in state: run `stackctl up` again to keep waiting, or `stackctl down` to remove it; raise `timeouts:` in the stack file if AWS is just slow".into()
            }
            EngineError::Driver { error: DriverError::Transport { .. }, .. } => {
                "check the endpoint, network and credentials (AWS_PROFILE, --profile, --endpoint-url)".into()
            }
            EngineError::Driver { .. } => {
                "what was created is recorded in state: fix the cause and run `stackctl up` again to resume, or `stackctl down` to remove it".into()
            }
            EngineError::State(e) => e.help().into(),
            EngineError::LockLost { .. } => "another run may be working on this stack now. What this run finished is recorded; once no other run holds the lock, `stackctl plan` shows where things stand and `stackctl up` resumes".into(),
            EngineError::Config { .. } | EngineError::Invalid { .. } => {
                "fix the stack file and run again".into()
            }
            EngineError::Import { .. } => "name a resource of the stack file and its AWS id: a group or instance id, or the name of a named resource (cluster, database, subnet group, role, secret); check --region too".into(),
            EngineError::Unmarked { .. } => "they were recorded before stackctl tagged ownership, or imported: pass the stack file with -f (or run `stackctl up` with it once, which adds the tag)".into(),
            EngineError::Untracked { stack, .. } => format!(
                "if this stack's state file was lost, adopt them with `stackctl import --all` (each one's stackctl:resource tag names its resource in the file), or delete them with `stackctl sweep` (what another state made only with `--lineage <id>`, once that state is gone for good); if another team's stack is also called `{stack}`, give this one another `stack:` name"
            ),
            EngineError::Foreign { resources, .. } => {
                let first = &resources[0];
                format!(
                    "stackctl never adopts, changes or deletes what another state created. If that state is lost, adopt what it made with `stackctl import --all` (or one resource: `stackctl import {} {}`); if it is another team's stack, give this one another `stack:` name",
                    first.resource, first.id
                )
            }
        }
    }
}
