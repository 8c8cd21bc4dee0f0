//! The order of a replacement. When resources that stay keep using the replaced resource, AWS refuses
//! to delete it while they do (a security group held by an instance's network interface or another
//! group's rule, a subnet group, an ACL, an instance profile): the new one is created first, they move
//! to it, and only then is the old one deleted. That needs both to exist at once: a name stackctl chose
//! gets a short suffix; a name the file fixes must change, or the plan says what to do.

use super::{ReplaceOrder, Replacement};
use crate::model::names::{NameRule, replacement_name};
use crate::resources::ResourceKind;

/// What decides the order of one replacement.
#[derive(Debug)]
pub struct Candidate<'a> {
    pub kind: ResourceKind,
    /// Resources of the file that use it and stay (updated or unchanged).
    pub staying: Vec<String>,
    /// Resources that use it now and whose new configuration does not.
    pub moving_off: Vec<String>,
    /// The name the file gives it, if any.
    pub fixed_name: Option<&'a str>,
    /// The name the existing resource has.
    pub old_name: Option<&'a str>,
    /// The name stackctl gives it when the file does not.
    pub base_name: &'a str,
}

/// Whether the old and new resource may exist side by side while dependents move (each kind says
/// so in its spec).
fn creates_first(kind: ResourceKind) -> bool {
    kind.spec().replaced == crate::resources::Replaced::CreateFirst
}

/// The rule of a name AWS holds one resource of at a time, if the kind has one.
fn unique_name(kind: ResourceKind) -> Option<NameRule> {
    kind.spec()
        .name_rule
        .filter(|rule| *rule != NameRule::NameTag)
}

/// Decides the order; an error says why the replacement cannot be done safely and what to do.
pub fn decide(candidate: &Candidate, suffix: &str) -> Result<Replacement, String> {
    let delete_first = || Replacement {
        order: ReplaceOrder::DestroyBeforeCreate,
        new_name: None,
        moves: candidate.moving_off.clone(),
        left_out: vec![],
    };
    if candidate.staying.is_empty() || !creates_first(candidate.kind) {
        return Ok(delete_first());
    }
    let create_first = |new_name: Option<String>| Replacement {
        order: ReplaceOrder::CreateBeforeDestroy,
        new_name,
        moves: candidate.staying.clone(),
        left_out: vec![],
    };
    let Some(rule) = unique_name(candidate.kind) else {
        return Ok(create_first(None));
    };
    match candidate.fixed_name {
        None => Ok(create_first(Some(replacement_name(
            candidate.base_name,
            rule,
            suffix,
        )))),
        Some(fixed) if !same_name(rule, Some(fixed), candidate.old_name) => Ok(create_first(None)),
        Some(fixed) => {
            let users = list(&candidate.staying);
            Err(format!(
                "must be replaced while {users} keep{} using it, and the file fixes its name `{fixed}`: AWS holds one {} of that name at a time and refuses to delete one in use. Change its `name:` (or remove it, and stackctl names the new one) so the new one is created beside the old one and {users} move to it; or first move {users} off it in a run of its own",
                if candidate.staying.len() == 1 {
                    "s"
                } else {
                    ""
                },
                candidate.kind,
            ))
        }
    }
}

/// AWS compares ElastiCache, MemoryDB and RDS names without case.
fn same_name(rule: NameRule, a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) if matches!(rule, NameRule::DataName | NameRule::RdsIdentifier) => {
            a.eq_ignore_ascii_case(b)
        }
        (a, b) => a == b,
    }
}

/// `a`, `a and b`, `a, b and c`.
pub fn list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// The order in words, for the human plan.
pub fn describe(replacement: &Replacement, kind: ResourceKind) -> String {
    let moves = list(&replacement.moves);
    let what = kind.type_name().replace('-', " ");
    let one = |names: &[String], singular: &'static str, plural: &'static str| {
        if names.len() == 1 { singular } else { plural }
    };
    match (replacement.order, replacement.moves.is_empty()) {
        (ReplaceOrder::CreateBeforeDestroy, _) if !replacement.left_out.is_empty() => format!(
            "the new {what} is created first; {} {} left out of this run, so the old one stays (in the state as `~old`) until a run moves {}",
            list(&replacement.left_out),
            one(&replacement.left_out, "is", "are"),
            one(&replacement.left_out, "it", "them"),
        ),
        (ReplaceOrder::CreateBeforeDestroy, _) => format!(
            "the new {what} is created first; {moves} move{} to it before the old one is deleted",
            if replacement.moves.len() == 1 {
                "s"
            } else {
                ""
            }
        ),
        (ReplaceOrder::DestroyBeforeCreate, true) => {
            format!("the old {what} is deleted, then the new one created")
        }
        (ReplaceOrder::DestroyBeforeCreate, false) => format!(
            "{moves} stop{} using it first; then the old {what} is deleted and the new one created",
            if replacement.moves.len() == 1 {
                "s"
            } else {
                ""
            }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(staying: &[&str], fixed: Option<&'static str>) -> Candidate<'static> {
        Candidate {
            kind: ResourceKind::SecurityGroup,
            staying: staying.iter().map(|s| s.to_string()).collect(),
            moving_off: vec![],
            fixed_name: fixed,
            old_name: Some("demo-web-sg"),
            base_name: "demo-web-sg",
        }
    }

    #[test]
    fn a_group_in_use_is_created_first_under_a_suffixed_name() {
        let decided = decide(&candidate(&["web", "redis_sg"], None), "a1b2c3").unwrap();
        assert_eq!(decided.order, ReplaceOrder::CreateBeforeDestroy);
        assert_eq!(decided.new_name.as_deref(), Some("demo-web-sg-a1b2c3"));
        assert_eq!(
            describe(&decided, ResourceKind::SecurityGroup),
            "the new security group is created first; `web` and `redis_sg` move to it before the old one is deleted"
        );
    }

    #[test]
    fn nothing_in_use_keeps_the_name_and_deletes_first() {
        let decided = decide(&candidate(&[], None), "a1b2c3").unwrap();
        assert_eq!(decided.order, ReplaceOrder::DestroyBeforeCreate);
        assert_eq!(decided.new_name, None);
    }

    #[test]
    fn a_fixed_name_that_changes_needs_no_suffix() {
        let decided = decide(&candidate(&["web"], Some("other")), "a1b2c3").unwrap();
        assert_eq!(decided.order, ReplaceOrder::CreateBeforeDestroy);
        assert_eq!(decided.new_name, None);
    }

    #[test]
    fn a_fixed_name_in_use_is_refused_with_the_way_out() {
        let error = decide(&candidate(&["web"], Some("demo-web-sg")), "a1b2c3").unwrap_err();
        assert!(error.contains("`web` keeps using it"), "{error}");
        assert!(error.contains("Change its `name:`"), "{error}");
    }

    #[test]
    fn databases_are_deleted_first() {
        let mut db = candidate(&["web_role"], None);
        db.kind = ResourceKind::RdsInstance;
        let decided = decide(&db, "a1b2c3").unwrap();
        assert_eq!(decided.order, ReplaceOrder::DestroyBeforeCreate);
    }
}
