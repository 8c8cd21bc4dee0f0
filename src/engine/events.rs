//! What the engine reports as it works; the CLI renders events for people or as JSON lines.

use crate::plan::Action;
use crate::resources::ResourceKind;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Started {
        resource: String,
        #[serde(rename = "type")]
        kind: ResourceKind,
        action: Action,
    },
    /// The service's own status while we wait, with the time spent so far.
    Status {
        resource: String,
        status: String,
        #[serde(serialize_with = "secs")]
        elapsed: Duration,
    },
    Finished {
        resource: String,
        #[serde(rename = "type")]
        kind: ResourceKind,
        action: Action,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        #[serde(serialize_with = "secs")]
        elapsed: Duration,
    },
    Failed {
        resource: String,
        #[serde(rename = "type")]
        kind: ResourceKind,
        action: Action,
        #[serde(skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        message: String,
    },
    /// Stopping early (a failure or an interrupt): nothing new starts, running work finishes.
    Stopping { reason: String },
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((d.as_secs_f64() * 10.0).round() / 10.0)
}

/// Where events go.
pub type EventSink = Arc<dyn Fn(Event) + Send + Sync>;
