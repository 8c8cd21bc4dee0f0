//! The human rendering of a plan.

use super::{Action, Change, Plan, ResourcePlan};
use crate::resolve::is_unknown;
use anstyle::{AnsiColor, Style};
use serde_json::Value as Json;
use std::fmt::Write;

fn style(action: Action) -> Style {
    let color = match action {
        Action::Create => AnsiColor::Green,
        Action::Update => AnsiColor::Yellow,
        Action::Replace => AnsiColor::Magenta,
        Action::Delete => AnsiColor::Red,
        Action::Read => AnsiColor::Cyan,
        Action::NoOp => return Style::new(),
    };
    Style::new().fg_color(Some(color.into()))
}

fn paint(text: &str, style: Style, color: bool) -> String {
    if color {
        format!("{style}{text}{style:#}")
    } else {
        text.to_string()
    }
}

/// A value as shown in a plan: unknowns as `(known after up)`, strings quoted, rules compact.
pub fn show(value: &Json) -> String {
    match value {
        v if is_unknown(v) => "(known after up)".into(),
        Json::String(s) => format!("{s:?}"),
        Json::Object(map) if map.contains_key("protocol") && map.contains_key("peer") => {
            show_rule(map)
        }
        Json::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k} = {}", show(v)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        Json::Array(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

fn show_rule(rule: &serde_json::Map<String, Json>) -> String {
    let protocol = rule.get("protocol").and_then(Json::as_str).unwrap_or("?");
    let from = rule.get("from_port").and_then(Json::as_i64).unwrap_or(-1);
    let to = rule.get("to_port").and_then(Json::as_i64).unwrap_or(-1);
    let peer = rule.get("peer").map(show).unwrap_or_default();
    let ports = match (protocol, from, to) {
        ("-1", _, _) => "all traffic".to_string(),
        (p, f, t) if f == t => format!("{p} {f}"),
        (p, f, t) => format!("{p} {f}-{t}"),
    };
    let description = rule
        .get("description")
        .and_then(Json::as_str)
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    format!("{ports} {peer}{description}").replace('"', "")
}

/// Renders the plan as text for people, in graph order, with a closing summary line.
pub fn human(plan: &Plan, color: bool) -> String {
    let mut out = String::new();
    let verb = if plan.destroy { "down" } else { "up" };
    let _ = writeln!(
        out,
        "Plan for stack `{}` in {} (stackctl {verb}):\n",
        plan.stack, plan.region
    );
    for resource in &plan.resources {
        render_resource(&mut out, resource, color);
    }
    let s = plan.summary;
    let _ = writeln!(
        out,
        "Plan: {} to create, {} to update, {} to replace, {} to delete.",
        s.create, s.update, s.replace, s.delete
    );
    if !plan.has_changes() {
        let _ = writeln!(
            out,
            "{}",
            if plan.destroy {
                "Nothing to remove."
            } else {
                "No changes: the infrastructure matches the stack file."
            }
        );
    }
    out
}

fn render_resource(out: &mut String, resource: &ResourcePlan, color: bool) {
    let headline = match resource.action {
        Action::Read => "read".to_string(),
        Action::Create => "create".to_string(),
        Action::Update => "update in place".to_string(),
        Action::Replace => {
            let forcing: Vec<&str> = resource
                .changes
                .iter()
                .filter(|c| c.forces_replacement)
                .map(|c| c.attribute.as_str())
                .collect();
            if forcing.is_empty() {
                // Replaced for a reason of its own (an interrupted delete), given after the dash.
                "replace".to_string()
            } else {
                format!("replace ({} forces replacement)", forcing.join(", "))
            }
        }
        Action::Delete => "delete".to_string(),
        Action::NoOp => "no changes".to_string(),
    };
    let id = resource
        .id
        .as_ref()
        .map(|id| format!(" [{id}]"))
        .unwrap_or_default();
    let reason = resource
        .reason
        .as_ref()
        .map(|r| format!(" — {r}"))
        .unwrap_or_default();
    let symbol = paint(
        &format!("{:>3}", resource.action.symbol()),
        style(resource.action),
        color,
    );
    let moved = resource
        .moved_from
        .as_ref()
        .map(|from| format!(" (moved from `{from}`)"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{symbol} {}{moved} ({}){id}: {headline}{reason}",
        resource.name, resource.kind
    );
    if let Some(loss) = &resource.data_loss {
        let warning = paint("! data loss:", style(Action::Delete), color);
        let _ = writeln!(
            out,
            "      {warning} {} is deleted; what remains: {}",
            loss.what, loss.remains
        );
    }
    if let Some(replacement) = &resource.replacement {
        let _ = writeln!(
            out,
            "      order: {}",
            super::replacement::describe(replacement, resource.kind)
        );
    }
    if matches!(
        resource.action,
        Action::Read | Action::NoOp | Action::Delete
    ) {
        return;
    }
    for change in &resource.changes {
        render_change(out, change, resource.action, color);
    }
    out.push('\n');
}

fn render_change(out: &mut String, change: &Change, action: Action, color: bool) {
    let marker = if change.forces_replacement {
        "  # forces replacement"
    } else {
        ""
    };
    match (&change.before, &change.after) {
        (Some(Json::Array(before)), Some(Json::Array(after))) if action != Action::Create => {
            let _ = writeln!(out, "      {}:{marker}", change.attribute);
            for item in before.iter().filter(|i| !after.contains(i)) {
                let _ = writeln!(
                    out,
                    "        {} {}",
                    paint("-", style(Action::Delete), color),
                    show(item)
                );
            }
            for item in after.iter().filter(|i| !before.contains(i)) {
                let _ = writeln!(
                    out,
                    "        {} {}",
                    paint("+", style(Action::Create), color),
                    show(item)
                );
            }
        }
        (None, Some(after)) => {
            let _ = writeln!(out, "      {} = {}{marker}", change.attribute, show(after));
        }
        (Some(before), None) => {
            let _ = writeln!(
                out,
                "      {} = {} -> (none){marker}",
                change.attribute,
                show(before)
            );
        }
        (Some(before), Some(after)) => {
            let _ = writeln!(
                out,
                "      {} = {} -> {}{marker}",
                change.attribute,
                show(before),
                show(after)
            );
        }
        (None, None) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Plan, ResourcePlan};
    use crate::resources::ResourceKind;
    use serde_json::json;

    #[test]
    fn shows_rule_level_changes_and_summary() {
        let rule = |port: i64| json!({ "protocol": "tcp", "from_port": port, "to_port": port, "peer": "0.0.0.0/0" });
        let plan = Plan::new(
            "demo",
            "us-east-1",
            false,
            vec![ResourcePlan {
                name: "web_sg".into(),
                kind: ResourceKind::SecurityGroup,
                action: Action::Update,
                id: Some("sg-1".into()),
                reason: None,
                changes: vec![Change {
                    attribute: "ingress".into(),
                    before: Some(json!([rule(8080)])),
                    after: Some(json!([rule(8081)])),
                    forces_replacement: false,
                }],
                moved_from: None,
                data_loss: None,
                replacement: None,
            }],
        );
        let text = human(&plan, false);
        assert!(
            text.contains("~ web_sg (security-group) [sg-1]: update in place"),
            "{text}"
        );
        assert!(text.contains("- tcp 8080 0.0.0.0/0"), "{text}");
        assert!(text.contains("+ tcp 8081 0.0.0.0/0"), "{text}");
        assert!(
            text.contains("Plan: 0 to create, 1 to update, 0 to replace, 0 to delete."),
            "{text}"
        );
    }

    #[test]
    fn a_replacement_without_a_forcing_attribute_gives_its_reason() {
        let plan = Plan::new(
            "demo",
            "us-east-1",
            false,
            vec![ResourcePlan {
                name: "web_sg".into(),
                kind: ResourceKind::SecurityGroup,
                action: Action::Replace,
                id: Some("sg-1".into()),
                reason: Some("a delete was interrupted".into()),
                changes: vec![],
                moved_from: None,
                data_loss: None,
                replacement: None,
            }],
        );
        let text = human(&plan, false);
        assert!(
            text.contains("web_sg (security-group) [sg-1]: replace — a delete was interrupted"),
            "{text}"
        );
    }
}
