//! The desired configuration of one resource: references resolved with what is known, the defaults
//! every resource gets (deterministic name, stack tags), user data rendered, then canonical form.

use crate::aws::Payload;
use crate::model::names::physical_name;
use crate::resolve::{Known, UNKNOWN_KEY, is_fully_known, is_unknown, unknown};
use crate::resources::{NormalizeContext, ResourceKind, merged_tags, partition_of};
use crate::spec::{ResourceDecl, Stack};
use crate::userdata::{self, UserDataSpec};
use serde_json::{Map, Value as Json};

/// Stands in for an unknown value while a configuration is normalized, so normalization can treat it as
/// an ordinary string; turned back into an unknown marker afterwards.
const UNKNOWN_SENTINEL: &str = "\u{1}unknown:";

pub struct Desired {
    pub config: Json,
    pub payload: Payload,
    pub physical_name: Option<String>,
}

/// `recorded_name` is the name the state recorded for this resource: when the file does not name it,
/// it keeps that name, so a key renamed with `moved:` keeps its resource.
pub fn compute(
    stack: &Stack,
    region: &str,
    decl: &ResourceDecl,
    known: &Known,
    recorded_name: Option<&str>,
) -> Result<Desired, String> {
    let mut config = known.resolve_config(decl);
    let fields = config
        .as_object_mut()
        .ok_or("configuration is not a mapping")?;
    let spec = decl.kind.spec();
    let mut physical = None;
    if spec.name_rule.is_some() {
        let name = fields
            .get("name")
            .and_then(Json::as_str)
            .map(str::to_string)
            .or_else(|| recorded_name.map(str::to_string))
            .unwrap_or_else(|| physical_name(&stack.name, &decl.name));
        fields.insert("name".into(), Json::String(name.clone()));
        physical = Some(name);
    }
    if !spec.lookup {
        let own = crate::resources::string_map(fields.get("tags"));
        let tags = merged_tags(&stack.name, &decl.name, &stack.tags, &own);
        fields.insert(
            "tags".into(),
            serde_json::to_value(tags).unwrap_or_default(),
        );
    }
    let mut payload = Payload::default();
    if decl.kind == ResourceKind::Ec2Instance
        && let Some(user_data) = fields.get("user_data").cloned()
    {
        let digest = if is_fully_known(&user_data) {
            let spec = UserDataSpec::from_json(&user_data).ok_or("user_data needs a `file`")?;
            let script = userdata::render(&stack.dir, &spec).map_err(|e| e.to_string())?;
            let digest = userdata::digest(&script);
            payload.user_data = Some(script);
            Json::String(digest)
        } else {
            unknown("user_data")
        };
        fields.insert("user_data".into(), digest);
    }
    if decl.kind == ResourceKind::Secret
        && let Some(value) = fields.get("value").cloned()
    {
        // The composed value goes to AWS through the payload; state and plans see only its digest.
        let digest = if is_fully_known(&value) {
            let text = value.to_string();
            let digest = userdata::digest(&text);
            payload.secret_value = Some(text);
            Json::String(digest)
        } else {
            unknown("value")
        };
        fields.insert("value".into(), digest);
    }
    let context = NormalizeContext {
        partition: partition_of(region).to_string(),
    };
    let normalized = decl.kind.normalize(hide_unknowns(config), &context)?;
    Ok(Desired {
        config: restore_unknowns(normalized),
        payload,
        physical_name: physical,
    })
}

fn hide_unknowns(value: Json) -> Json {
    match value {
        v if is_unknown(&v) => {
            let reference = v
                .get(UNKNOWN_KEY)
                .and_then(Json::as_str)
                .unwrap_or("?")
                .to_string();
            Json::String(format!("{UNKNOWN_SENTINEL}{reference}"))
        }
        Json::Array(items) => Json::Array(items.into_iter().map(hide_unknowns).collect()),
        Json::Object(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| (k, hide_unknowns(v)))
                .collect::<Map<_, _>>(),
        ),
        other => other,
    }
}

fn restore_unknowns(value: Json) -> Json {
    match value {
        Json::String(s) if s.starts_with(UNKNOWN_SENTINEL) => unknown(&s[UNKNOWN_SENTINEL.len()..]),
        Json::String(s) if s.contains(UNKNOWN_SENTINEL) => unknown("interpolated value"),
        Json::Array(items) => Json::Array(items.into_iter().map(restore_unknowns).collect()),
        Json::Object(map) => Json::Object(
            map.into_iter()
                .map(|(k, v)| (k, restore_unknowns(v)))
                .collect::<Map<_, _>>(),
        ),
        other => other,
    }
}
