//! `security-group`: an EC2 security group whose rules are managed one by one, so adding or removing a rule
//! is an in-place change and never a replacement.

use super::{Kind, NormalizeContext, Rules};
use super::{KindSpec, Namespace, Output, Replaced, ResourceKind};
use crate::model::fields::{Check, Field, Ty};
use crate::model::names::NameRule;
use crate::model::value::Node;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::BTreeMap;

const PROTOCOLS: &[&str] = &["tcp", "udp", "icmp", "all"];
const PORT: Ty = Ty::Int { min: 0, max: 65535 };

pub const INGRESS_RULE: &[Field] = &[
    Field::optional(
        "protocol",
        Ty::Str(Check::OneOf(PROTOCOLS)),
        "`tcp` (default), `udp`, `icmp` or `all`.",
    ),
    Field::optional(
        "port",
        PORT,
        "The port, or the first port of a range. Required unless the protocol is `all`.",
    ),
    Field::optional(
        "to_port",
        PORT,
        "The last port of a range (defaults to `port`).",
    ),
    Field::required(
        "from",
        Ty::Str(Check::CidrOrGroup),
        "Who may connect: a CIDR block or a security group (`${web_sg.id}`).",
    ),
    Field::optional(
        "description",
        Ty::Str(Check::Any),
        "A note stored with the rule.",
    ),
    Field::optional(
        "public",
        Ty::Bool,
        "Say `true` to open a database or cache port (3306, 5432, 6379, 6380, 11211) to 0.0.0.0/0 or ::/0; refused otherwise.",
    ),
];

pub const EGRESS_RULE: &[Field] = &[
    Field::optional(
        "protocol",
        Ty::Str(Check::OneOf(PROTOCOLS)),
        "`tcp` (default), `udp`, `icmp` or `all`.",
    ),
    Field::optional(
        "port",
        PORT,
        "The port, or the first port of a range. Required unless the protocol is `all`.",
    ),
    Field::optional(
        "to_port",
        PORT,
        "The last port of a range (defaults to `port`).",
    ),
    Field::required(
        "to",
        Ty::Str(Check::CidrOrGroup),
        "Where traffic may go: a CIDR block or a security group.",
    ),
    Field::optional(
        "description",
        Ty::Str(Check::Any),
        "A note stored with the rule.",
    ),
];

pub const SPEC: KindSpec = KindSpec {
    kind: ResourceKind::SecurityGroup,
    arn_type: Some(("ec2", "security-group")),
    replaced: Replaced::CreateFirst,
    unique_names: Namespace::exact("security group"),
    sweep_wave: 2,
    type_name: "security-group",
    doc: "An EC2 security group in a VPC, with ingress and egress rules.",
    fields: &[
        Field::optional(
            "name",
            Ty::Str(Check::Name(NameRule::SecurityGroup)),
            "Group name; defaults to `<stack>-<resource>`.",
        )
        .forces_replacement(),
        Field::optional(
            "description",
            Ty::Str(Check::Any),
            "Group description (AWS cannot change it later).",
        )
        .forces_replacement(),
        Field::required(
            "vpc",
            Ty::Str(Check::Any),
            "The VPC id, usually `${vpc.id}`.",
        )
        .forces_replacement(),
        Field::optional(
            "ingress",
            Ty::List(&Ty::Obj(INGRESS_RULE)),
            "Inbound rules. None by default.",
        ),
        Field::optional(
            "egress",
            Ty::List(&Ty::Obj(EGRESS_RULE)),
            "Outbound rules. Default: all traffic to anywhere.",
        ),
    ],
    outputs: &[
        Output::scalar("id", "The group id, such as `sg-0abc`."),
        Output::scalar("name", "The group name."),
        Output::scalar("arn", "The group ARN."),
    ],
    lookup: false,
    name_rule: Some(NameRule::SecurityGroup),
    timeouts: [300, 300, 900],
};

pub const DEFAULT_DESCRIPTION: &str = "Managed by stackctl";

/// One permission for one peer, the unit AWS authorizes and revokes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Rule {
    /// `tcp`, `udp`, `icmp` or `-1` for all traffic (AWS's spelling).
    pub protocol: String,
    pub from_port: i32,
    pub to_port: i32,
    /// A CIDR block (IPv4 or IPv6) or a security group id.
    pub peer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Rule {
    pub fn peer_is_group(&self) -> bool {
        self.peer.starts_with("sg-")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SecurityGroupConfig {
    pub name: String,
    pub description: String,
    pub vpc: String,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
    pub tags: BTreeMap<String, String>,
}

pub fn normalize(config: Json) -> Result<Json, String> {
    let text = |key: &str| config.get(key).and_then(Json::as_str).map(str::to_string);
    let ingress = rules(config.get("ingress"), "from")?;
    let egress = match config.get("egress") {
        Some(list) => rules(Some(list), "to")?,
        // AWS gives every new group this rule; stating it keeps plans quiet about it.
        None => vec![Rule {
            protocol: "-1".into(),
            from_port: -1,
            to_port: -1,
            peer: "0.0.0.0/0".into(),
            description: None,
        }],
    };
    let normalized = SecurityGroupConfig {
        name: text("name").ok_or("a security group needs a name")?,
        description: text("description").unwrap_or_else(|| DEFAULT_DESCRIPTION.to_string()),
        vpc: text("vpc").ok_or("a security group needs a vpc")?,
        ingress,
        egress,
        tags: tags(&config),
    };
    Ok(super::encode(&normalized))
}

fn rules(list: Option<&Json>, peer_key: &str) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    for item in list.and_then(Json::as_array).into_iter().flatten() {
        let protocol = item.get("protocol").and_then(Json::as_str).unwrap_or("tcp");
        let port = item.get("port").and_then(Json::as_i64);
        let to_port = item.get("to_port").and_then(Json::as_i64).or(port);
        let (protocol, from_port, to_port) = match (protocol, port) {
            ("all", _) => ("-1".to_string(), -1, -1),
            ("icmp", None) => ("icmp".to_string(), -1, -1),
            (p, Some(port)) => (p.to_string(), port as i32, to_port.unwrap_or(port) as i32),
            (p, None) => return Err(format!("a `{p}` rule needs a `port`")),
        };
        let peer = item
            .get(peer_key)
            .and_then(Json::as_str)
            .ok_or_else(|| format!("every rule needs `{peer_key}`"))?;
        rules.push(Rule {
            protocol,
            from_port,
            to_port,
            peer: peer.to_string(),
            description: item
                .get("description")
                .and_then(Json::as_str)
                .map(str::to_string),
        });
    }
    rules.sort();
    rules.dedup();
    Ok(rules)
}

pub fn tags(config: &Json) -> BTreeMap<String, String> {
    super::string_map(config.get("tags"))
}

/// Ports of the databases and caches stackctl deploys, never opened to the internet by accident.
const DATA_PORTS: &[(i64, &str)] = &[
    (3306, "MySQL"),
    (5432, "PostgreSQL"),
    (6379, "Redis"),
    (6380, "Redis TLS"),
    (11211, "Memcached"),
];

/// The `security-group` kind.
pub struct SecurityGroup;

impl Kind for SecurityGroup {
    fn spec() -> &'static KindSpec {
        &SPEC
    }

    fn normalize(config: Json, _: &NormalizeContext) -> Result<Json, String> {
        normalize(config)
    }

    fn check(rules: &mut Rules<'_>) {
        for field in ["ingress", "egress"] {
            let Some(list) = rules.config.get(field) else {
                continue;
            };
            for rule in list.items() {
                let protocol = rule
                    .get("protocol")
                    .and_then(Node::as_literal_str)
                    .unwrap_or_else(|| "tcp".into());
                let port = rule.get("port");
                if port.is_none() && protocol != "all" && protocol != "icmp" {
                    rules.error(
                        rule.span.clone(),
                        format!("a `{protocol}` rule needs a `port`"),
                        "add `port: <number>`, or `protocol: all` for all traffic",
                    );
                }
                if let (Some(from), Some(to_port)) =
                    (port.and_then(Node::as_int), rule.get("to_port"))
                    && let Some(to) = to_port.as_int()
                    && to < from
                {
                    rules.error(
                        to_port.span.clone(),
                        format!("`to_port` {to} is below `port` {from}"),
                        "a range runs from `port` up to `to_port`",
                    );
                }
                if field == "ingress" {
                    check_public_data_port(rules, rule, &protocol);
                }
            }
        }
    }
}

/// Secure by default: a rule that opens a database or cache port to the whole internet is refused
/// unless the rule itself says `public: true`.
fn check_public_data_port(rules: &mut Rules<'_>, rule: &Node, protocol: &str) {
    let Some(from) = rule.get("from").and_then(Node::as_literal_str) else {
        return;
    };
    if from != "0.0.0.0/0" && from != "::/0" {
        return;
    }
    if rule.get("public").and_then(Node::as_bool) == Some(true) || protocol == "icmp" {
        return;
    }
    let int = |key: &str| rule.get(key).and_then(Node::as_int);
    let (low, high) = match (protocol, int("port")) {
        ("all", _) => (0, 65535),
        (_, Some(port)) => (port, int("to_port").unwrap_or(port)),
        _ => return,
    };
    let exposed: Vec<String> = DATA_PORTS
        .iter()
        .filter(|(port, _)| (low..=high).contains(port))
        .map(|(port, service)| format!("{port} ({service})"))
        .collect();
    if !exposed.is_empty() {
        rules.error(
            rule.span.clone(),
            format!("this rule opens {} to the whole internet ({from})", exposed.join(", ")),
            "allow only the application's security group (`from: ${web_sg.id}`); if the internet really must reach it, add `public: true` to this rule",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_defaults_and_sorts_rules() {
        let config = json!({
            "name": "web", "vpc": "vpc-1",
            "ingress": [ { "port": 8080, "from": "0.0.0.0/0" }, { "port": 22, "from": "10.0.0.0/8", "protocol": "tcp" } ],
        });
        let normalized: SecurityGroupConfig =
            serde_json::from_value(normalize(config).unwrap()).unwrap();
        assert_eq!(normalized.description, DEFAULT_DESCRIPTION);
        assert_eq!(normalized.ingress[0].from_port, 22);
        assert_eq!(normalized.egress[0].protocol, "-1");
    }

    #[test]
    fn all_traffic_has_no_ports() {
        let config = json!({ "name": "x", "vpc": "v", "ingress": [ { "protocol": "all", "from": "sg-1" } ] });
        let normalized: SecurityGroupConfig =
            serde_json::from_value(normalize(config).unwrap()).unwrap();
        assert_eq!(
            (
                normalized.ingress[0].from_port,
                normalized.ingress[0].to_port
            ),
            (-1, -1)
        );
        assert!(normalized.ingress[0].peer_is_group());
    }
}
