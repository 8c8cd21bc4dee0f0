//! The stack file's JSON Schema, generated from the kinds' field tables, for editors (through the
//! `# yaml-language-server: $schema=...` line) to complete and check fields as they are typed.
//!
//! stackctl's own validation stays the authority (it knows references, names and rules across
//! fields); the schema accepts everything stackctl accepts, so an editor never marks a valid file.

use crate::model::fields::{COMMON_FIELDS, Check, Field, Ty};
use crate::model::names::NameRule;
use crate::resources::ResourceKind;
use serde_json::{Map, Value as Json, json};

/// Where the schema is published in this repository, as stack files name it.
pub const SCHEMA_PATH: &str = "schemas/stack.schema.json";

/// A `${...}` reference, accepted wherever a value may come from a variable or another resource.
const REFERENCE: &str = r"\$\{[^}]+\}";

/// The schema of a stack file.
pub fn stack_schema() -> Json {
    // `type` picks the kind's schema (if/then rather than oneOf): an editor then reports the one
    // field that is wrong, not that the resource matches none of the kinds.
    let names: Vec<&str> = ResourceKind::ALL.iter().map(|k| k.type_name()).collect();
    let by_type: Vec<Json> = names
        .iter()
        .map(|name| {
            json!({
                "if": { "properties": { "type": { "const": name } }, "required": ["type"] },
                "then": { "$ref": format!("#/$defs/{name}") }
            })
        })
        .collect();
    let mut defs = Map::new();
    for kind in ResourceKind::ALL {
        defs.insert(kind.type_name().to_string(), kind_schema(kind));
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/stackctl/stackctl/schemas/stack.schema.json",
        "title": "stackctl stack file",
        "description": "A stack: the AWS resources stackctl creates, changes and deletes together.",
        "type": "object",
        "required": ["stack", "resources"],
        "properties": {
            "stack": {
                "type": "string",
                "description": "The stack's name: a letter, then letters, digits and hyphens; up to 32 characters.",
                "pattern": "^[A-Za-z][A-Za-z0-9-]{0,31}$"
            },
            "description": { "type": "string", "description": "What the stack is for." },
            "region": { "type": "string", "description": "AWS region; --region overrides it." },
            "state": {
                "type": "string",
                "description": "Where the state is kept: s3://BUCKET/KEY (shared, locked, versioned) or a path relative to this file. --state and STACKCTL_STATE override it. Written in full: no ${...}."
            },
            "tags": string_map("Tags added to every resource stackctl creates."),
            "variables": {
                "type": "object",
                "description": "Values given with --var, STACKCTL_VAR_<name> or a default; used as `${var.name}`.",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": false,
                    "properties": {
                        "type": { "enum": ["string", "number", "bool"], "description": "The variable's type (default string)." },
                        "default": { "type": ["string", "number", "boolean"], "description": "The value when none is given." },
                        "description": { "type": "string" }
                    }
                }
            },
            "resources": {
                "type": "object",
                "description": "The resources, by key. Keys are letters, digits and underscores.",
                "minProperties": 1,
                "propertyNames": { "pattern": "^[A-Za-z][A-Za-z0-9_]*$" },
                "additionalProperties": {
                    "type": "object",
                    "required": ["type"],
                    "properties": { "type": { "enum": names, "description": "The resource type." } },
                    "allOf": by_type
                }
            },
            "moved": {
                "type": "object",
                "description": "Resource keys renamed in the file: `old_key: new_key`. AWS is not touched.",
                "additionalProperties": { "type": "string" }
            }
        },
        "patternProperties": {
            "^x-": { "description": "Yours: ignored by stackctl, a place for YAML anchors." }
        },
        "additionalProperties": false,
        "$defs": defs
    })
}

fn kind_schema(kind: ResourceKind) -> Json {
    let spec = kind.spec();
    let mut properties = Map::new();
    properties.insert(
        "type".into(),
        json!({ "const": spec.type_name, "description": spec.doc }),
    );
    let fields = spec
        .fields
        .iter()
        .chain(COMMON_FIELDS.iter().filter(|f| f.name != "type"));
    let mut required = vec![json!("type")];
    for field in fields {
        properties.insert(field.name.into(), field_schema(field));
        if field.required {
            required.push(json!(field.name));
        }
    }
    json!({
        "type": "object",
        "description": spec.doc,
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}

fn field_schema(field: &Field) -> Json {
    let mut schema = ty_schema(&field.ty);
    let mut doc = field.doc.to_string();
    if field.replaces {
        doc.push_str(" Changing it replaces the resource.");
    }
    if let Json::Object(map) = &mut schema {
        map.insert("description".into(), json!(doc));
    }
    schema
}

fn ty_schema(ty: &Ty) -> Json {
    let reference = json!({ "type": "string", "pattern": REFERENCE });
    match ty {
        Ty::Str(Check::OneOf(values)) => json!({ "anyOf": [{ "enum": values }, reference] }),
        Ty::Str(Check::Name(rule)) => name_schema(*rule),
        // stackctl reads a plain `8080` or `true` where text is expected as that text.
        Ty::Str(_) => json!({ "type": ["string", "number", "boolean"] }),
        Ty::Int { min, max } => json!({
            "anyOf": [{ "type": "integer", "minimum": min, "maximum": max }, reference]
        }),
        Ty::Bool => json!({ "anyOf": [{ "type": "boolean" }, reference] }),
        Ty::Duration => json!({
            "type": "string",
            "pattern": r"^\s*(\d+\s*[smh]\s*)+$",
            "examples": ["90s", "10m", "1h 30m"]
        }),
        // A whole list may come from one reference (`${vpc.private_subnets}`).
        Ty::List(item) => json!({
            "anyOf": [{ "type": "array", "items": ty_schema(item) }, reference]
        }),
        Ty::Map(value) => json!({ "type": "object", "additionalProperties": ty_schema(value) }),
        Ty::Obj(fields) => {
            let properties: Map<String, Json> = fields
                .iter()
                .map(|f| (f.name.to_string(), field_schema(f)))
                .collect();
            let required: Vec<&str> = fields
                .iter()
                .filter(|f| f.required)
                .map(|f| f.name)
                .collect();
            json!({
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": false
            })
        }
    }
}

/// A name field: a string within the rule's length limit.
fn name_schema(rule: NameRule) -> Json {
    json!({ "type": "string", "maxLength": rule.max_len() })
}

/// The schema as committed: pretty JSON with a final newline.
pub fn rendered() -> String {
    let mut text = serde_json::to_string_pretty(&stack_schema()).unwrap_or_default();
    text.push('\n');
    text
}

fn string_map(description: &str) -> Json {
    json!({
        "type": "object",
        "description": description,
        "additionalProperties": { "type": ["string", "number", "boolean"] }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use marked_yaml::Node as YamlNode;
    use std::path::Path;

    const FIRST_LINE: &str = "# yaml-language-server: $schema=../schemas/stack.schema.json";

    /// A YAML tree as the JSON an editor checks: plain scalars that read as numbers or booleans
    /// become them, as YAML 1.2's core schema reads them.
    fn to_json(node: &YamlNode) -> Json {
        match node {
            YamlNode::Scalar(scalar) => {
                let text = scalar.as_str();
                if scalar.may_coerce() {
                    if let Ok(n) = text.parse::<i64>() {
                        return json!(n);
                    }
                    if let Ok(f) = text.parse::<f64>() {
                        return json!(f);
                    }
                    if let Ok(b) = text.parse::<bool>() {
                        return json!(b);
                    }
                }
                json!(text)
            }
            YamlNode::Sequence(items) => Json::Array(items.iter().map(to_json).collect()),
            YamlNode::Mapping(map) => Json::Object(
                map.iter()
                    .map(|(k, v)| (k.as_str().to_string(), to_json(v)))
                    .collect(),
            ),
        }
    }

    #[test]
    fn the_committed_schema_is_the_generated_one() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let committed = std::fs::read_to_string(root.join(SCHEMA_PATH)).unwrap_or_default();
        assert!(
            committed == rendered(),
            "{SCHEMA_PATH} is out of date: run `cargo run -- schema > {SCHEMA_PATH}`"
        );
    }

    #[test]
    fn every_example_stack_names_the_schema_and_satisfies_it() {
        let validator = jsonschema::validator_for(&stack_schema()).expect("a valid schema");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut checked = 0;
        for entry in std::fs::read_dir(root.join("stacks")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(
                text.lines().next(),
                Some(FIRST_LINE),
                "{} must start with the schema line",
                path.display()
            );
            let instance = to_json(&crate::spec::yaml::parse(0, &text).unwrap());
            let errors: Vec<String> = validator
                .iter_errors(&instance)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
            checked += 1;
        }
        assert!(checked >= 3);
    }

    #[test]
    fn the_schema_catches_what_editors_should_flag() {
        let validator = jsonschema::validator_for(&stack_schema()).expect("a valid schema");
        let bad = [
            "stack: a\nresources: { web: { type: ec2-instance, instance_typo: t3.micro } }\n",
            "stack: a\nresources: { db: { type: rds-instance, engine: oracle } }\n",
            "stack: a\nsurprise: 1\nresources: { vpc: { type: vpc } }\n",
            "stack: a\nresources: { c: { type: elasticache-cluster, node_type: x, subnet_group: y, nodes: 99 } }\n",
        ];
        for text in bad {
            let instance = to_json(&crate::spec::yaml::parse(0, text).unwrap());
            assert!(!validator.is_valid(&instance), "should be flagged: {text}");
        }
        let good = "stack: a\nx-defaults: &d { type: vpc }\nresources:\n  vpc: { <<: *d, name: \"${var.v}\" }\n  c: { type: elasticache-cluster, node_type: x, subnet_group: y, port: \"${var.port}\" }\n";
        let instance = to_json(&crate::spec::yaml::parse(0, good).unwrap());
        assert!(validator.is_valid(&instance), "{instance}");
    }
}
