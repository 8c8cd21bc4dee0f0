//! `ec2-instance`: one EC2 instance with an AMI from an SSM public parameter, a role, security groups and
//! user data rendered from a script under `user-data/`.

use super::{Kind, NormalizeContext};
use super::{KindSpec, Output, Replaced, ResourceKind};
use crate::model::fields::{Check, Field, Ty};
use crate::model::names::NameRule;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::collections::BTreeMap;

pub const USER_DATA: &[Field] = &[
    Field::required(
        "file",
        Ty::Str(Check::File),
        "The script, relative to the stack file (e.g. `../user-data/web.sh`).",
    ),
    Field::optional(
        "vars",
        Ty::Map(&Ty::Str(Check::Any)),
        "Values the script and its templates use as `{{ name }}`.",
    ),
    Field::optional(
        "templates",
        Ty::Map(&Ty::Str(Check::File)),
        "Files rendered with the same values and available to the script as `{{ templates.<name> }}`.",
    ),
];

pub const SPEC: KindSpec = KindSpec {
    kind: ResourceKind::Ec2Instance,
    arn_type: Some(("ec2", "instance")),
    replaced: Replaced::CreateFirst,
    // The Name tag of an instance need not be unique.
    unique_names: None,
    sweep_wave: 0,
    type_name: "ec2-instance",
    doc: "An EC2 instance. Waits until it is running.",
    fields: &[
        Field::optional("name", Ty::Str(Check::Name(NameRule::NameTag)), "The `Name` tag; defaults to `<stack>-<resource>`."),
        Field::required("instance_type", Ty::Str(Check::Any), "Such as `t3.small`. Changed in place (the instance is stopped and started)."),
        Field::required(
            "image",
            Ty::Str(Check::Image),
            "`amazon-linux-2`, `al2023`, `ssm:/path/to/public/parameter` or an AMI id. Resolved once, at create.",
        )
        .forces_replacement(),
        Field::required("subnet", Ty::Str(Check::Any), "The subnet id, usually `${vpc.public_subnets[0]}`.").forces_replacement(),
        Field::optional("security_groups", Ty::List(&Ty::Str(Check::Any)), "Security group ids, such as `${web_sg.id}`."),
        Field::optional("instance_profile", Ty::Str(Check::Any), "Instance profile name, usually `${role.instance_profile}`."),
        Field::optional("key_name", Ty::Str(Check::Any), "An EC2 key pair name for SSH.").forces_replacement(),
        Field::optional("user_data", Ty::Obj(USER_DATA), "A boot script, rendered with stack values (16 KB at most, gzip-compressed when larger).")
            .forces_replacement(),
    ],
    outputs: &[
        Output::scalar("id", "The instance id."),
        Output::scalar("public_ip", "The public IPv4 address (empty in a private subnet)."),
        Output::scalar("private_ip", "The private IPv4 address."),
        Output::scalar("public_dns", "The public DNS name."),
        Output::scalar("private_dns", "The private DNS name."),
        Output::scalar("az", "The availability zone."),
        Output::scalar("image_id", "The AMI the instance was launched from."),
    ],
    lookup: false,
    name_rule: Some(NameRule::NameTag),
    timeouts: [600, 600, 900],
};

/// SSM public parameters for the images users ask for by alias.
pub const IMAGE_ALIASES: &[(&str, &str)] = &[
    (
        "amazon-linux-2",
        "/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2",
    ),
    (
        "al2023",
        "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
    ),
];

/// AWS's limit on user data before base64 encoding.
pub const USER_DATA_LIMIT: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ec2InstanceConfig {
    pub name: String,
    pub instance_type: String,
    /// `ssm:<parameter>` or an AMI id, as written (aliases expanded).
    pub image: String,
    pub subnet: String,
    /// Left out: AWS's to choose (the VPC's default group), never compared or stripped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_groups: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    /// `sha256:<hex>` of the rendered script: the script itself may hold values that do not belong in state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// `amazon-linux-2` → `ssm:/aws/service/...`; `ssm:` paths and AMI ids pass through.
fn expand_image(image: &str) -> String {
    IMAGE_ALIASES
        .iter()
        .find(|(alias, _)| *alias == image)
        .map(|(_, parameter)| format!("ssm:{parameter}"))
        .unwrap_or_else(|| image.to_string())
}

/// Why an image value is not one stackctl understands.
pub fn image_violation(image: &str) -> Option<String> {
    let known = IMAGE_ALIASES.iter().any(|(alias, _)| *alias == image);
    let ok = known || image.starts_with("ami-") || image.starts_with("ssm:/");
    (!ok).then(|| "an image is `amazon-linux-2`, `al2023`, `ssm:/path/to/parameter` or an AMI id (`ami-...`)".to_string())
}

pub fn normalize(config: Json) -> Result<Json, String> {
    let text = |key: &str| config.get(key).and_then(Json::as_str).map(str::to_string);
    let groups: Option<Vec<String>> =
        config
            .get("security_groups")
            .and_then(Json::as_array)
            .map(|items| {
                let mut groups: Vec<String> = items
                    .iter()
                    .filter_map(Json::as_str)
                    .map(str::to_string)
                    .collect();
                groups.sort();
                groups.dedup();
                groups
            });
    let normalized = Ec2InstanceConfig {
        name: text("name").ok_or("an instance needs a name")?,
        instance_type: text("instance_type").ok_or("an instance needs an instance_type")?,
        image: expand_image(&text("image").ok_or("an instance needs an image")?),
        subnet: text("subnet").ok_or("an instance needs a subnet")?,
        security_groups: groups,
        instance_profile: text("instance_profile").filter(|p| !p.is_empty()),
        key_name: text("key_name"),
        user_data: text("user_data"),
        tags: super::security_group::tags(&config),
    };
    Ok(super::encode(&normalized))
}

/// The `ec2-instance` kind.
pub struct Ec2Instance;

impl Kind for Ec2Instance {
    fn spec() -> &'static KindSpec {
        &SPEC
    }

    fn normalize(config: Json, _: &NormalizeContext) -> Result<Json, String> {
        normalize(config)
    }
}
