//! `stackctl outputs [NAME]`: resource outputs from the state. No AWS call; never a secret value
//! (the state holds none).

use super::args::OutputsArgs;
use super::state_access;
use super::{Failure, GlobalArgs, Printer, Status};
use serde_json::{Map, Value as Json};

pub async fn outputs(
    global: &GlobalArgs,
    args: &OutputsArgs,
    printer: &Printer,
) -> Result<Status, Failure> {
    let store = state_access::open_state(global, printer, None).await?;
    let state = state_access::load_state(&store, state_access::file_stack(global).as_deref())
        .await?
        .ok_or_else(|| {
            Failure::new(format!(
                "no state at {}: the stack has not been created",
                store.location()
            ))
            .help("run `stackctl up` first")
        })?;
    let all: Map<String, Json> = state
        .resources
        .iter()
        .map(|(name, r)| (name.clone(), Json::Object(r.outputs.clone())))
        .collect();
    let Some(wanted) = &args.name else {
        if printer.json {
            printer.data(&serde_json::to_string_pretty(&all).unwrap_or_default());
        } else {
            for (name, outputs) in &all {
                printer.data(&format!("{name}:"));
                for (key, value) in outputs.as_object().into_iter().flatten() {
                    printer.data(&format!("  {key} = {}", plain(value)));
                }
            }
        }
        return Ok(Status::Success);
    };
    let (resource, attribute) = match wanted.split_once('.') {
        Some((r, a)) => (r, Some(a)),
        None => (wanted.as_str(), None),
    };
    let outputs = all.get(resource).ok_or_else(|| {
        Failure::new(format!("no resource `{resource}` in the state")).help(format!(
            "resources: {}",
            all.keys().cloned().collect::<Vec<_>>().join(", ")
        ))
    })?;
    let value = match attribute {
        None => outputs.clone(),
        Some(attr) => outputs.get(attr).cloned().ok_or_else(|| {
            let known: Vec<&String> = outputs
                .as_object()
                .map(|o| o.keys().collect())
                .unwrap_or_default();
            Failure::new(format!("`{resource}` has no output `{attr}`")).help(format!(
                "outputs: {}",
                known
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?,
    };
    if printer.json {
        printer.data(&serde_json::to_string_pretty(&value).unwrap_or_default());
    } else {
        match &value {
            Json::Object(map) => map
                .iter()
                .for_each(|(k, v)| printer.data(&format!("{k} = {}", plain(v)))),
            other => printer.data(&plain(other)),
        }
    }
    Ok(Status::Success)
}

fn plain(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        Json::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}
