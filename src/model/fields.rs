//! The shape of every field a stack file may hold: its type, whether it is required, whether changing it
//! forces a replacement, and the checks its literal values must pass. One table drives validation, the
//! plan (what forces replacement) and the README reference.

use super::names::NameRule;

/// The type of a field.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Str(Check),
    Int {
        min: i64,
        max: i64,
    },
    Bool,
    /// A duration such as `90s`, `10m` or `1h 30m`.
    Duration,
    List(&'static Ty),
    /// A mapping with free-form keys.
    Map(&'static Ty),
    Obj(&'static [Field]),
}

/// Checks on a string's literal value (values that come from other resources are checked by AWS).
#[derive(Debug, Clone, Copy)]
pub enum Check {
    Any,
    /// An IPv4 or IPv6 CIDR block.
    Cidr,
    /// A CIDR block, a security group id (`sg-...`) or a reference to a group.
    CidrOrGroup,
    OneOf(&'static [&'static str]),
    Name(NameRule),
    /// `ami-...`, `ssm:/path`, or an alias such as `amazon-linux-2` / `al2023`.
    Image,
    /// A file path relative to the stack file.
    File,
    /// An engine version. AWS reports the full version it runs: a version written as a family
    /// (`8.0`) is met by any version of it (`8.0.43`), whatever minor upgrade AWS made itself.
    Version,
}

/// Whether `running`, a version AWS reports, is what `wanted` asks for: the same, or of the family
/// `wanted` names.
pub fn version_satisfies(running: &str, wanted: &str) -> bool {
    running == wanted
        || running
            .strip_prefix(wanted)
            .is_some_and(|rest| rest.starts_with('.'))
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    /// Changing this field replaces the resource (AWS cannot change it in place).
    pub replaces: bool,
    /// A value AWS can raise in place but never lower: a number (a database's storage) or a
    /// version (an engine's).
    pub only_grows: bool,
    pub doc: &'static str,
}

impl Field {
    pub const fn optional(name: &'static str, ty: Ty, doc: &'static str) -> Field {
        Field {
            name,
            ty,
            required: false,
            replaces: false,
            only_grows: false,
            doc,
        }
    }

    pub const fn required(name: &'static str, ty: Ty, doc: &'static str) -> Field {
        Field {
            name,
            ty,
            required: true,
            replaces: false,
            only_grows: false,
            doc,
        }
    }

    pub const fn forces_replacement(self) -> Field {
        Field {
            replaces: true,
            ..self
        }
    }

    pub const fn only_grows(self) -> Field {
        Field {
            only_grows: true,
            ..self
        }
    }
}

impl Ty {
    /// How the type reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Ty::Str(Check::Cidr) => "a CIDR block such as 10.0.0.0/16".into(),
            Ty::Str(Check::CidrOrGroup) => "a CIDR block or a security group reference".into(),
            Ty::Str(Check::OneOf(values)) => format!("one of {}", values.join(", ")),
            Ty::Str(_) => "a string".into(),
            Ty::Int { min, max } => format!("a whole number from {min} to {max}"),
            Ty::Bool => "true or false".into(),
            Ty::Duration => "a duration such as 90s, 10m or 1h 30m".into(),
            Ty::List(item) => format!("a list of {}", item.describe_plural()),
            Ty::Map(_) => "a mapping of names to values".into(),
            Ty::Obj(_) => "a mapping".into(),
        }
    }

    fn describe_plural(&self) -> String {
        match self {
            Ty::Str(_) => "strings".into(),
            Ty::Int { .. } => "numbers".into(),
            Ty::Obj(_) | Ty::Map(_) => "mappings".into(),
            other => other.describe(),
        }
    }
}

/// Fields every resource accepts, whatever its type.
pub const COMMON_FIELDS: &[Field] = &[
    Field::required(
        "type",
        Ty::Str(Check::Any),
        "The resource type, such as `security-group`.",
    ),
    Field::optional(
        "depends_on",
        Ty::List(&Ty::Str(Check::Any)),
        "Other resources this one must wait for, beyond those it references.",
    ),
    Field::optional(
        "tags",
        Ty::Map(&Ty::Str(Check::Any)),
        "Tags added to the stack's default tags.",
    ),
    Field::optional(
        "timeouts",
        Ty::Obj(TIMEOUT_FIELDS),
        "How long to wait for `create`, `update` and `delete`.",
    ),
];

pub const TIMEOUT_FIELDS: &[Field] = &[
    Field::optional(
        "create",
        Ty::Duration,
        "Longest wait for the resource to become available.",
    ),
    Field::optional(
        "update",
        Ty::Duration,
        "Longest wait for an in-place change.",
    ),
    Field::optional(
        "delete",
        Ty::Duration,
        "Longest wait for the resource to be gone.",
    ),
];
