//! Ownership: stackctl adopts, changes and deletes only what its own state created. AWS keeps one
//! thing for us, tags, so every resource carries the `stackctl:lineage` of the state that created it.
//! The tag is read here and taken out of the observed configuration: it is ownership, never a
//! difference a plan should show.

use crate::aws::Observed;
use crate::aws::census::Tagged;
use crate::resources::{ResourceKind, TAG_LINEAGE};
use crate::state::{AwsId, State};
use serde_json::Value as Json;
use std::collections::HashSet;
use std::fmt;

/// What the lineage tag of an existing resource says about who created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It carries this state's lineage.
    Ours,
    /// It carries no lineage, but this state recorded its id (created before stackctl tagged
    /// lineage, or imported): ours, and the next `up` adds the tag.
    Unmarked,
    /// Another state's, or nobody's that we know of.
    Foreign { lineage: Option<String> },
}

/// How the state knows a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// Found by name, tags or client token after an interrupted create.
    Found,
    /// By the id this state recorded when it created the resource.
    Recorded,
    /// By `stackctl import`: the user chose to adopt it, whatever lineage it carries.
    Imported,
}

/// Takes the lineage tag out of `observed` and judges it. Tags AWS reserves (`aws:*`, such as
/// CloudFormation's) go too: nobody can change them, so they are never a difference.
pub fn judge(observed: &mut Observed, lineage: &str, known: Known) -> Verdict {
    let tags = observed
        .config
        .get_mut("tags")
        .and_then(Json::as_object_mut);
    let found = tags.and_then(|tags| {
        tags.retain(|key, _| !key.starts_with("aws:"));
        tags.remove(TAG_LINEAGE)
            .and_then(|v| v.as_str().map(str::to_string))
    });
    match (found, known) {
        (Some(l), _) if l == lineage => Verdict::Ours,
        (_, Known::Imported) => Verdict::Unmarked,
        (Some(other), _) => Verdict::Foreign {
            lineage: Some(other),
        },
        (None, Known::Recorded) => Verdict::Unmarked,
        (None, Known::Found) => Verdict::Foreign { lineage: None },
    }
}

/// A resource in AWS that this state would have adopted, changed or deleted, but did not create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Foreign {
    pub resource: String,
    pub kind: ResourceKind,
    pub id: String,
    /// The lineage it carries, when it carries one.
    pub lineage: Option<String>,
    /// This state let it go (`state rm`, `removal_policy: retain`): it is no longer this state's.
    pub released: bool,
}

impl fmt::Display for Foreign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} {}): ", self.resource, self.kind, self.id)?;
        if self.released {
            return f.write_str(
                "this state let it go (`state rm` or `removal_policy: retain`); `stackctl import` takes it back",
            );
        }
        match &self.lineage {
            Some(l) => write!(
                f,
                "belongs to another state of this stack (lineage {})",
                short(l)
            ),
            None => f.write_str("was not created by stackctl for this state (no lineage tag)"),
        }
    }
}

/// The first block of a lineage, enough to tell states apart in messages.
pub fn short(lineage: &str) -> &str {
    lineage.split('-').next().unwrap_or(lineage)
}

/// Adds this state's lineage to the tags of a configuration about to be sent to AWS.
pub fn with_lineage(mut config: Json, lineage: &str) -> Json {
    if let Some(tags) = config.get_mut("tags").and_then(Json::as_object_mut) {
        tags.insert(TAG_LINEAGE.into(), Json::String(lineage.into()));
    }
    config
}

/// Whether this state let the resource go (`state rm`, `removal_policy: retain`).
pub fn released(retained: &[AwsId], kind: ResourceKind, id: &str) -> bool {
    let wanted = key(&AwsId {
        kind,
        id: id.to_string(),
    });
    retained.iter().any(|kept| key(kept) == wanted)
}

/// How ids are compared: ElastiCache, RDS, MemoryDB and IAM compare names without case.
fn key(id: &AwsId) -> (ResourceKind, String) {
    if id.kind == ResourceKind::Secret {
        (id.kind, id.id.clone())
    } else {
        (id.kind, id.id.to_lowercase())
    }
}

/// Of the resources AWS holds with this stack's tag, those this state neither records nor left in
/// place on purpose: made by a state that was lost, or by another state of the same stack name.
pub fn untracked(state: &State, tagged: Vec<Tagged>) -> Vec<Tagged> {
    let known: HashSet<(ResourceKind, String)> = state
        .resources
        .values()
        .flat_map(|r| r.aws_ids())
        .chain(state.retained.iter().cloned())
        .map(|id| key(&id))
        .collect();
    tagged
        .into_iter()
        .filter(|t| {
            !known.contains(&key(&AwsId {
                kind: t.kind,
                id: t.id.clone(),
            }))
        })
        .collect()
}

/// One line about a tagged resource the state does not record.
pub fn describe_untracked(t: &Tagged, lineage: &str) -> String {
    let made_by = match t.resource.as_deref() {
        Some(r) => format!("made for `{r}`"),
        None => "no stackctl:resource tag".into(),
    };
    let owner = match t.lineage.as_deref() {
        Some(l) if l == lineage => "by this state, which lost track of it".to_string(),
        Some(l) => format!("by another state (lineage {})", short(l)),
        None => "by no state stackctl knows (no lineage tag)".into(),
    };
    format!("{} {} ({made_by}, {owner})", t.kind, t.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn observed(tags: Json) -> Observed {
        Observed {
            config: json!({ "name": "x", "tags": tags }),
            outputs: Default::default(),
        }
    }

    #[test]
    fn the_lineage_tag_decides_and_never_reaches_the_plan() {
        let mut ours = observed(
            json!({ "stackctl:lineage": "L1", "team": "a", "aws:cloudformation:stack-name": "x" }),
        );
        assert_eq!(judge(&mut ours, "L1", Known::Found), Verdict::Ours);
        assert_eq!(ours.config["tags"], json!({ "team": "a" }));

        let mut theirs = observed(json!({ "stackctl:lineage": "L2" }));
        assert_eq!(
            judge(&mut theirs.clone(), "L1", Known::Recorded),
            Verdict::Foreign {
                lineage: Some("L2".into())
            },
            "a recorded id does not make another state's resource ours"
        );
        assert_eq!(
            judge(&mut theirs, "L1", Known::Imported),
            Verdict::Unmarked,
            "an import takes it over: the next up tags it"
        );

        assert_eq!(
            judge(&mut observed(json!({})), "L1", Known::Recorded),
            Verdict::Unmarked
        );
        assert_eq!(
            judge(&mut observed(json!({})), "L1", Known::Found),
            Verdict::Foreign { lineage: None },
            "found by name without a lineage: never adopted"
        );
    }

    #[test]
    fn lineage_is_added_only_to_what_sends_tags() {
        let config = with_lineage(json!({ "tags": { "a": "b" } }), "L1");
        assert_eq!(config["tags"]["stackctl:lineage"], "L1");
        assert_eq!(with_lineage(json!({ "id": 1 }), "L1"), json!({ "id": 1 }));
    }
}
