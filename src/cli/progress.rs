//! Renders engine events: a line per step for people (stderr), or one JSON object per line (stdout).

use super::Printer;
use crate::engine::{Event, EventSink};
use crate::plan::Action;
use std::sync::Arc;
use std::time::Instant;

fn verbs(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::Create => ("creating", "created"),
        Action::Update => ("updating", "updated"),
        Action::Replace => ("replacing", "replaced (step done)"),
        Action::Delete => ("deleting", "deleted"),
        Action::Read => ("reading", "read"),
        Action::NoOp => ("checking", "unchanged"),
    }
}

pub fn sink(printer: &Printer) -> EventSink {
    let printer = printer.clone();
    let start = Instant::now();
    Arc::new(move |event: Event| {
        if printer.json {
            printer.json_line(&event);
            return;
        }
        let clock = format!("[{:>6.1}s]", start.elapsed().as_secs_f64());
        let line = match &event {
            Event::Started {
                resource,
                kind,
                action,
            } => format!("{clock} {resource} ({kind}): {}...", verbs(*action).0),
            Event::Status {
                resource,
                status,
                elapsed,
            } => format!(
                "{clock} {resource}: {status} ({}s elapsed)",
                elapsed.as_secs()
            ),
            Event::Finished {
                resource,
                action,
                id,
                elapsed,
                ..
            } => {
                let id = id.as_ref().map(|i| format!(" {i}")).unwrap_or_default();
                format!(
                    "{clock} {resource}: {}{id} in {:.1}s",
                    verbs(*action).1,
                    elapsed.as_secs_f64()
                )
            }
            Event::Failed {
                resource, message, ..
            } => format!("{clock} {resource}: FAILED: {message}"),
            Event::Stopping { reason } => format!("{clock} stopping: {reason}"),
        };
        printer.info(&line);
    })
}
