//! `iam-role`: a role trusted by one AWS service, with managed and inline policies, and an instance profile
//! of the same name so EC2 instances can use it.

use super::{Kind, Rules};
use super::{KindSpec, Namespace, NormalizeContext, Output, Replaced, ResourceKind};
use crate::model::fields::{Check, Field, Ty};
use crate::model::names::NameRule;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

pub const STATEMENT: &[Field] = &[
    Field::optional(
        "effect",
        Ty::Str(Check::OneOf(&["Allow", "Deny"])),
        "`Allow` (default) or `Deny`.",
    ),
    Field::required(
        "actions",
        Ty::List(&Ty::Str(Check::Any)),
        "Actions such as `secretsmanager:GetSecretValue`.",
    ),
    Field::required(
        "resources",
        Ty::List(&Ty::Str(Check::Any)),
        "ARNs the statement applies to; may reference other resources.",
    ),
    Field::optional(
        "unscoped",
        Ty::Bool,
        "Say `true` to allow `*` or a whole-service ARN such as `arn:aws:secretsmanager:*` in `resources`; refused otherwise.",
    ),
];

pub const SPEC: KindSpec = KindSpec {
    kind: ResourceKind::IamRole,
    arn_type: None,
    replaced: Replaced::CreateFirst,
    // IAM names are unique without regard to case; the instance profile shares the role's name.
    unique_names: Namespace::ignoring_case("IAM role"),
    sweep_wave: 2,
    type_name: "iam-role",
    doc: "An IAM role assumed by an AWS service, with policies, and an instance profile for EC2.",
    fields: &[
        Field::optional(
            "name",
            Ty::Str(Check::Name(NameRule::IamRole)),
            "Role name; defaults to `<stack>-<resource>`.",
        )
        .forces_replacement(),
        Field::required(
            "assumed_by",
            Ty::Str(Check::Any),
            "The service principal trusted to assume the role, such as `ec2.amazonaws.com`.",
        ),
        Field::optional("description", Ty::Str(Check::Any), "What the role is for."),
        Field::optional(
            "managed_policies",
            Ty::List(&Ty::Str(Check::Any)),
            "AWS-managed policies by name (`AmazonSSMManagedInstanceCore`) or ARN.",
        ),
        Field::optional(
            "inline_policies",
            Ty::Map(&Ty::List(&Ty::Obj(STATEMENT))),
            "Inline policies: a name, then a list of statements.",
        ),
        Field::optional(
            "instance_profile",
            Ty::Bool,
            "An instance profile with the role's name (default true); added or removed in place.",
        ),
    ],
    outputs: &[
        Output::scalar("name", "The role name."),
        Output::scalar("arn", "The role ARN."),
        Output::scalar("id", "The role's unique id."),
        Output::scalar(
            "instance_profile",
            "The instance profile name (same as the role's).",
        ),
        Output::scalar("instance_profile_arn", "The instance profile ARN."),
    ],
    lookup: false,
    name_rule: Some(NameRule::IamRole),
    timeouts: [120, 120, 300],
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IamRoleConfig {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub assumed_by: String,
    pub managed_policies: Vec<String>,
    pub inline_policies: BTreeMap<String, Json>,
    pub instance_profile: bool,
    pub tags: BTreeMap<String, String>,
}

pub fn normalize(config: Json, context: &NormalizeContext) -> Result<Json, String> {
    let text = |key: &str| config.get(key).and_then(Json::as_str).map(str::to_string);
    let mut managed: Vec<String> = config
        .get("managed_policies")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .map(|p| managed_policy_arn(p, &context.partition))
        .collect();
    managed.sort();
    managed.dedup();
    let mut inline = BTreeMap::new();
    for (name, statements) in config
        .get("inline_policies")
        .and_then(Json::as_object)
        .into_iter()
        .flatten()
    {
        let statements: Vec<Json> = statements
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                json!({
                    "Effect": s.get("effect").and_then(Json::as_str).unwrap_or("Allow"),
                    "Action": s.get("actions").cloned().unwrap_or(Json::Array(vec![])),
                    "Resource": s.get("resources").cloned().unwrap_or(Json::Array(vec![])),
                })
            })
            .collect();
        inline.insert(
            name.clone(),
            canonical_policy(&json!({ "Version": "2012-10-17", "Statement": statements })),
        );
    }
    let normalized = IamRoleConfig {
        name: text("name").ok_or("an IAM role needs a name")?,
        description: text("description"),
        assumed_by: text("assumed_by").ok_or("an IAM role needs `assumed_by`")?,
        managed_policies: managed,
        inline_policies: inline,
        instance_profile: config
            .get("instance_profile")
            .and_then(Json::as_bool)
            .unwrap_or(true),
        tags: super::security_group::tags(&config),
    };
    Ok(super::encode(&normalized))
}

/// Why a policy resource is too broad: `*`, or an ARN without a specific resource part.
pub fn unscoped_resource(resource: &str) -> Option<&'static str> {
    if resource == "*" {
        return Some("`*` grants the actions on every resource in the account");
    }
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    match parts.as_slice() {
        [_, _, _, _, _, rest] if !rest.is_empty() && *rest != "*" => None,
        [first, ..] if *first == "arn" => {
            Some("this ARN names no specific resource, so it covers every resource of the service")
        }
        _ => None,
    }
}

/// `AmazonSSMManagedInstanceCore` → `arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore`; ARNs pass through.
pub fn managed_policy_arn(policy: &str, partition: &str) -> String {
    if policy.starts_with("arn:") {
        policy.to_string()
    } else {
        format!("arn:{partition}:iam::aws:policy/{policy}")
    }
}

/// The trust policy letting one service principal assume the role.
pub fn trust_policy(service: &str) -> Json {
    canonical_policy(&json!({
        "Version": "2012-10-17",
        "Statement": [ { "Effect": "Allow", "Principal": { "Service": service }, "Action": "sts:AssumeRole" } ],
    }))
}

/// The service principal a trust policy names, if it is the single-service form stackctl writes.
pub fn trusted_service(policy: &Json) -> Option<String> {
    let canonical = canonical_policy(policy);
    let statements = canonical.get("Statement")?.as_array()?;
    let [statement] = statements.as_slice() else {
        return None;
    };
    match statement.get("Principal")?.get("Service")? {
        Json::Array(services) if services.len() == 1 => services[0].as_str().map(str::to_string),
        Json::String(service) => Some(service.clone()),
        _ => None,
    }
}

/// A policy document in one spelling: `Statement`, `Action`, `Resource` and principals always lists,
/// lists sorted, so that documents AWS hands back compare equal to the ones we sent.
pub fn canonical_policy(policy: &Json) -> Json {
    let as_sorted_list = |value: &Json| -> Json {
        let mut items: Vec<Json> = match value {
            Json::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        items.sort_by_key(|v| v.to_string());
        Json::Array(items)
    };
    let mut out = serde_json::Map::new();
    out.insert(
        "Version".into(),
        policy
            .get("Version")
            .cloned()
            .unwrap_or_else(|| json!("2012-10-17")),
    );
    let statements = policy
        .get("Statement")
        .map(as_sorted_list)
        .unwrap_or(Json::Array(vec![]));
    let statements: Vec<Json> = statements
        .as_array()
        .into_iter()
        .flatten()
        .map(|statement| {
            let mut s = serde_json::Map::new();
            for (key, value) in statement.as_object().into_iter().flatten() {
                let value = match key.as_str() {
                    "Action" | "NotAction" | "Resource" | "NotResource" => as_sorted_list(value),
                    "Principal" => match value {
                        Json::Object(principals) => Json::Object(
                            principals
                                .iter()
                                .map(|(k, v)| (k.clone(), as_sorted_list(v)))
                                .collect(),
                        ),
                        other => other.clone(),
                    },
                    _ => value.clone(),
                };
                s.insert(key.clone(), value);
            }
            Json::Object(s)
        })
        .collect();
    out.insert("Statement".into(), Json::Array(statements));
    Json::Object(out)
}

/// The `iam-role` kind (with its instance profile).
pub struct IamRole;

impl Kind for IamRole {
    fn spec() -> &'static KindSpec {
        &SPEC
    }

    fn normalize(config: Json, context: &NormalizeContext) -> Result<Json, String> {
        normalize(config, context)
    }

    /// Least privilege by default: a statement's resources must be scoped to something, unless
    /// the statement says `unscoped: true`.
    fn check(rules: &mut Rules<'_>) {
        let Some(crate::model::value::Value::Map(policies)) =
            rules.config.get("inline_policies").map(|n| &n.value)
        else {
            return;
        };
        for statement in policies.values().flat_map(|p| p.items()) {
            if statement
                .get("unscoped")
                .and_then(crate::model::value::Node::as_bool)
                == Some(true)
            {
                continue;
            }
            let Some(resources) = statement.get("resources") else {
                continue;
            };
            for resource in resources.items() {
                let Some(text) = resource.as_literal_str() else {
                    continue;
                };
                if let Some(problem) = unscoped_resource(&text) {
                    rules.error(
                        resource.span.clone(),
                        format!("`{text}` is not scoped to this stack's resources: {problem}"),
                        "name the resource (e.g. `${db.secret_arn}` or `arn:...:secret:<name>-*`); if the breadth is intended, add `unscoped: true` to the statement",
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_policies_become_arns() {
        assert_eq!(
            managed_policy_arn("AmazonSSMManagedInstanceCore", "aws"),
            "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
        );
        assert_eq!(
            managed_policy_arn("arn:aws:iam::1:policy/x", "aws"),
            "arn:aws:iam::1:policy/x"
        );
    }

    #[test]
    fn broad_resources_are_found() {
        assert!(unscoped_resource("*").is_some());
        assert!(unscoped_resource("arn:aws:secretsmanager:*").is_some());
        assert!(unscoped_resource("arn:aws:secretsmanager:us-east-1:1:*").is_some());
        assert!(unscoped_resource("arn:aws:secretsmanager:us-east-1:1:secret:db-*").is_none());
        assert!(unscoped_resource("arn:aws:s3:::bucket/key").is_none());
    }

    #[test]
    fn canonical_policies_compare_equal() {
        let sent = json!({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["b","a"],"Resource":"*"}]});
        let returned = json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["a","b"],"Resource":["*"]}});
        assert_eq!(canonical_policy(&sent), canonical_policy(&returned));
        assert_eq!(
            trusted_service(&trust_policy("ec2.amazonaws.com")).as_deref(),
            Some("ec2.amazonaws.com")
        );
    }
}
