//! Names AWS accepts, and the deterministic names stackctl gives resources the file does not name.

/// A naming rule of one AWS resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// EC2 security group names: up to 255 characters, not starting with `sg-`.
    SecurityGroup,
    /// IAM role and instance profile names: 1-64 of `A-Za-z0-9+=,.@_-`.
    IamRole,
    /// The `Name` tag of an EC2 resource: up to 256 characters.
    NameTag,
    /// A stack name: a letter, then letters, digits and hyphens, up to 32 characters.
    Stack,
    /// ElastiCache and MemoryDB ids, and subnet group names: a letter, then letters, digits and single
    /// hyphens, not ending in a hyphen, up to 40 characters (AWS stores them in lower case).
    DataName,
    /// RDS instance identifiers: the same rules, up to 63 characters.
    RdsIdentifier,
    /// Secrets Manager names: 1-512 of `A-Za-z0-9/_+=.@-`.
    SecretName,
}

impl NameRule {
    /// The longest name AWS accepts.
    pub fn max_len(self) -> usize {
        match self {
            NameRule::SecurityGroup => 255,
            NameRule::IamRole => 64,
            NameRule::NameTag => 256,
            NameRule::Stack => 32,
            NameRule::DataName => 40,
            NameRule::RdsIdentifier => 63,
            NameRule::SecretName => 512,
        }
    }

    /// Why `name` is not acceptable, or `None` when it is.
    pub fn violation(self, name: &str) -> Option<String> {
        match self {
            NameRule::SecurityGroup => {
                let allowed =
                    |c: char| c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(c);
                if name.is_empty() || name.len() > 255 {
                    Some(format!(
                        "security group names are 1 to 255 characters; this one has {}",
                        name.len()
                    ))
                } else if name.to_ascii_lowercase().starts_with("sg-") {
                    Some("security group names cannot start with `sg-`".into())
                } else {
                    name.chars()
                        .find(|c| !allowed(*c))
                        .map(|bad| format!("security group names cannot contain `{bad}`"))
                }
            }
            NameRule::IamRole => {
                let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
                if name.is_empty() || name.len() > 64 {
                    Some(format!(
                        "IAM role names are 1 to 64 characters; this one has {}",
                        name.len()
                    ))
                } else {
                    name.chars()
                        .find(|c| !allowed(*c))
                        .map(|bad| format!("IAM role names may only hold letters, digits and `+=,.@_-`, not `{bad}`"))
                }
            }
            NameRule::NameTag => (name.chars().count() > 256).then(|| {
                format!(
                    "a Name tag holds at most 256 characters; this one has {}",
                    name.chars().count()
                )
            }),
            NameRule::DataName => data_name_violation(name, 40),
            NameRule::RdsIdentifier => data_name_violation(name, 63),
            NameRule::SecretName => {
                let allowed = |c: char| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c);
                if name.is_empty() || name.len() > 512 {
                    Some(format!(
                        "secret names are 1 to 512 characters; this one has {}",
                        name.len()
                    ))
                } else {
                    name.chars().find(|c| !allowed(*c)).map(|bad| {
                        format!(
                            "secret names may only hold letters, digits and `/_+=.@-`, not `{bad}`"
                        )
                    })
                }
            }
            NameRule::Stack => {
                let mut chars = name.chars();
                let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
                if name.is_empty() || name.len() > 32 {
                    Some(format!(
                        "stack names are 1 to 32 characters; this one has {}",
                        name.len()
                    ))
                } else if !starts_with_letter
                    || !chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    Some("a stack name starts with a letter and holds only letters, digits and hyphens".into())
                } else {
                    None
                }
            }
        }
    }
}

fn data_name_violation(name: &str, max: usize) -> Option<String> {
    let starts_with_letter = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if name.is_empty() || name.len() > max {
        Some(format!(
            "these names are 1 to {max} characters; this one has {}",
            name.len()
        ))
    } else if !starts_with_letter || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Some("these names start with a letter and hold only letters, digits and hyphens".into())
    } else if name.ends_with('-') || name.contains("--") {
        Some("these names cannot end with a hyphen or hold two hyphens in a row".into())
    } else {
        None
    }
}

/// The name a resource gets when the file does not name it: `<stack>-<resource>`, underscores as hyphens.
/// Deterministic, so a run that crashed after a create finds the same resource again instead of making another.
pub fn physical_name(stack: &str, resource: &str) -> String {
    format!("{stack}-{}", resource.replace('_', "-"))
}

/// The name of a resource created beside the one it replaces, which still holds `base`: `base` and a
/// short suffix, `base` shortened where the whole would be too long for AWS.
pub fn replacement_name(base: &str, rule: NameRule, suffix: &str) -> String {
    let room = rule.max_len().saturating_sub(suffix.len() + 1);
    let kept: String = base.chars().take(room).collect();
    format!("{}-{suffix}", kept.trim_end_matches('-'))
}

/// Resource keys in the stack file: used in references, so identifier-like.
pub fn resource_key_violation(key: &str) -> Option<String> {
    let mut chars = key.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && key.len() <= 64;
    (!ok).then(|| "resource names start with a letter or `_` and hold up to 64 letters, digits, `_` or `-`".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replacement_names_fit_the_rule() {
        assert_eq!(
            replacement_name("demo-web-sg", NameRule::SecurityGroup, "a1b2c3"),
            "demo-web-sg-a1b2c3"
        );
        let long = "a-very-long-stack-name-cache-subnets-x";
        let name = replacement_name(long, NameRule::DataName, "a1b2c3");
        assert_eq!(name.len(), 40);
        assert_eq!(NameRule::DataName.violation(&name), None, "{name}");
        // Shortened right after a hyphen: never two in a row.
        let name = replacement_name(
            "abcdefghijklmnopqrstuvwxyz-abcdefghijk-xy",
            NameRule::DataName,
            "a1b2c3",
        );
        assert_eq!(NameRule::DataName.violation(&name), None, "{name}");
    }

    #[test]
    fn security_group_names() {
        assert!(NameRule::SecurityGroup.violation("web-sg").is_none());
        assert!(NameRule::SecurityGroup.violation("sg-web").is_some());
        assert!(
            NameRule::SecurityGroup
                .violation(&"a".repeat(256))
                .is_some()
        );
        assert!(NameRule::SecurityGroup.violation("caf\u{e9}").is_some());
    }

    #[test]
    fn iam_role_names() {
        assert!(
            NameRule::IamRole
                .violation("RoleForEc2AccessRdsRedisDemo")
                .is_none()
        );
        assert!(NameRule::IamRole.violation(&"r".repeat(65)).is_some());
        assert!(NameRule::IamRole.violation("has space").is_some());
    }

    #[test]
    fn stack_names_and_physical_names() {
        assert!(NameRule::Stack.violation("web-demo").is_none());
        assert!(NameRule::Stack.violation("1web").is_some());
        assert!(NameRule::Stack.violation("web_demo").is_some());
        assert_eq!(physical_name("web", "web_sg"), "web-web-sg");
        assert!(NameRule::DataName.violation("RedisClusterDemo").is_none());
        assert!(NameRule::DataName.violation("redis--demo").is_some());
        assert!(NameRule::DataName.violation(&"r".repeat(41)).is_some());
        assert!(NameRule::RdsIdentifier.violation(&"r".repeat(63)).is_none());
    }
}
