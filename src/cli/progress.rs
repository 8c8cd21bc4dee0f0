//! Renders engine events. On a terminal: one live line per resource in flight with AWS's status and
//! the time so far, and a line per finished step. Otherwise (CI logs, pipes, `-q`, `-v`): one
//! timestamped line per event on stderr. With `--json`: one JSON object per event on stdout.

use super::Printer;
use crate::engine::{Event, EventSink};
use crate::plan::Action;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn verbs(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::Create => ("creating", "created"),
        Action::Update => ("updating", "updated"),
        Action::Replace => ("replacing", "replaced"),
        Action::Delete => ("deleting", "deleted"),
        Action::Read => ("reading", "read"),
        Action::NoOp => ("checking", "unchanged"),
    }
}

/// The one-line description of an event, shared by both renderings.
fn describe(event: &Event) -> String {
    match event {
        Event::Started {
            resource,
            kind,
            action,
        } => format!("{resource} ({kind}): {}...", verbs(*action).0),
        Event::Status {
            resource,
            status,
            elapsed,
        } => format!("{resource}: {status} ({}s elapsed)", elapsed.as_secs()),
        Event::Finished {
            resource,
            action,
            id,
            elapsed,
            ..
        } => {
            let id = id.as_ref().map(|i| format!(" {i}")).unwrap_or_default();
            format!(
                "{resource}: {}{id} in {:.1}s",
                verbs(*action).1,
                elapsed.as_secs_f64()
            )
        }
        Event::Failed {
            resource, message, ..
        } => format!("{resource}: FAILED: {message}"),
        Event::Stopping { reason } => format!("stopping: {reason}"),
    }
}

pub fn sink(printer: &Printer) -> EventSink {
    let printer = printer.clone();
    if printer.json {
        return Arc::new(move |event: Event| printer.json_line(&event));
    }
    if printer.stderr_is_terminal && !printer.quiet && printer.verbose == 0 {
        return live();
    }
    let start = Instant::now();
    Arc::new(move |event: Event| {
        printer.info(&format!(
            "[{:>6.1}s] {}",
            start.elapsed().as_secs_f64(),
            describe(&event)
        ));
    })
}

/// Live lines on a terminal: a spinner per resource in flight, replaced by a line once it finishes.
fn live() -> EventSink {
    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let bars: Mutex<HashMap<String, (ProgressBar, String)>> = Mutex::new(HashMap::new());
    Arc::new(move |event: Event| {
        let mut bars = bars.lock().unwrap_or_else(|e| e.into_inner());
        match &event {
            Event::Started {
                resource,
                kind,
                action,
            } => {
                let bar = multi.add(ProgressBar::new_spinner().with_style(style.clone()));
                let label = format!("{resource} ({kind})");
                bar.set_message(format!("{label}: {}", verbs(*action).0));
                bar.enable_steady_tick(Duration::from_millis(120));
                bars.insert(resource.clone(), (bar, label));
            }
            Event::Status {
                resource, status, ..
            } => match bars.get(resource) {
                Some((bar, label)) => bar.set_message(format!("{label}: {status}")),
                None => {
                    let _ = multi.println(describe(&event));
                }
            },
            Event::Finished { resource, .. } | Event::Failed { resource, .. } => {
                if let Some((bar, _)) = bars.remove(resource) {
                    bar.finish_and_clear();
                    multi.remove(&bar);
                }
                let mark = if matches!(event, Event::Failed { .. }) {
                    "✗"
                } else {
                    "✓"
                };
                let _ = multi.println(format!("{mark} {}", describe(&event)));
            }
            Event::Stopping { .. } => {
                let _ = multi.println(describe(&event));
            }
        }
    })
}
