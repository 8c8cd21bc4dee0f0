//! Saved plans: `plan -o plan.json` records the plan with fingerprints of everything it was made from
//! (the stack file, the variable values, the state), so that `up plan.json` applies exactly that plan
//! or refuses, saying what changed since.

use super::Plan;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SAVED_PLAN_KIND: &str = "stackctl-plan";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SavedPlan {
    /// Always `stackctl-plan`: tells a saved plan from other JSON files.
    pub kind: String,
    pub format_version: u32,
    /// The stack file the plan was made from, as given on the command line.
    pub stack_file: String,
    /// `sha256:<hex>` of the stack file's bytes (`None` for a destroy plan).
    pub stack_file_digest: Option<String>,
    /// Variable values in effect (none of them secret: secrets live in Secrets Manager).
    pub variables: BTreeMap<String, String>,
    /// The state file and `sha256:<hex>` of its bytes (`None` when there was no state yet).
    pub state_file: String,
    pub state_digest: Option<String>,
    pub plan: Plan,
}

/// Why a saved plan cannot be applied any more.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Stale {
    #[error("the stack file {0} changed since the plan was made")]
    StackFile(String),
    #[error("variable values changed since the plan was made: {0}")]
    Variables(String),
    #[error("the state {0} changed since the plan was made (another run applied changes)")]
    State(String),
    #[error("what exists in AWS changed since the plan was made: {0}")]
    Infrastructure(String),
}

/// `sha256:<hex>` of some bytes.
pub fn digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(bytes);
    format!(
        "sha256:{}",
        hash.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

impl SavedPlan {
    /// Checks the inputs of a run against those the plan was made from.
    pub fn check_inputs(
        &self,
        stack_file_bytes: Option<&[u8]>,
        variables: &BTreeMap<String, String>,
        state_bytes: Option<&[u8]>,
    ) -> Result<(), Stale> {
        if self.stack_file_digest.as_deref() != stack_file_bytes.map(digest).as_deref() {
            return Err(Stale::StackFile(self.stack_file.clone()));
        }
        if &self.variables != variables {
            let changed: Vec<&str> = self
                .variables
                .keys()
                .chain(variables.keys())
                .filter(|k| self.variables.get(*k) != variables.get(*k))
                .map(String::as_str)
                .collect();
            let mut changed = changed;
            changed.sort();
            changed.dedup();
            return Err(Stale::Variables(changed.join(", ")));
        }
        if self.state_digest.as_deref() != state_bytes.map(digest).as_deref() {
            return Err(Stale::State(self.state_file.clone()));
        }
        Ok(())
    }

    /// Checks that planning again gives the same plan: nothing changed in AWS meanwhile. A final
    /// snapshot is named when a plan is made; the saved plan's names are the ones applied.
    pub fn check_same_plan(&self, fresh: &mut Plan) -> Result<(), Stale> {
        for (saved, now) in self.plan.resources.iter().zip(fresh.resources.iter_mut()) {
            if let (Some(promised), Some(loss)) = (&saved.data_loss, &mut now.data_loss)
                && promised.what == loss.what
            {
                *loss = promised.clone();
            }
            keep_promised_name(saved, now);
            if saved != now {
                let change = if now.action == saved.action {
                    "changed differently".to_string()
                } else {
                    format!("{} instead of {}", now.action.word(), saved.action.word())
                };
                return Err(Stale::Infrastructure(format!(
                    "`{}` would now be {change}",
                    now.name
                )));
            }
        }
        if self.plan.resources.len() != fresh.resources.len() {
            return Err(Stale::Infrastructure("the set of resources differs".into()));
        }
        Ok(())
    }
}

/// A replacement created beside the old resource gets a name with a random suffix: applying a saved
/// plan uses the name it showed.
fn keep_promised_name(saved: &crate::plan::ResourcePlan, now: &mut crate::plan::ResourcePlan) {
    let promised = saved.replacement.as_ref().and_then(|r| r.new_name.clone());
    let Some(fresh) = now.replacement.as_mut().and_then(|r| r.new_name.as_mut()) else {
        return;
    };
    let Some(promised) = promised else {
        return;
    };
    let drawn = std::mem::replace(fresh, promised.clone());
    for change in now.changes.iter_mut().filter(|c| {
        c.attribute == "name" && c.after.as_ref().and_then(|v| v.as_str()) == Some(drawn.as_str())
    }) {
        change.after = Some(serde_json::Value::String(promised.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved() -> SavedPlan {
        SavedPlan {
            kind: SAVED_PLAN_KIND.into(),
            format_version: 1,
            stack_file: "stack.yaml".into(),
            stack_file_digest: Some(digest(b"stack: a")),
            variables: [("x".to_string(), "1".to_string())].into(),
            state_file: "s.json".into(),
            state_digest: None,
            plan: Plan::new("a", "us-east-1", false, vec![]),
        }
    }

    #[test]
    fn any_changed_input_makes_a_plan_stale() {
        let plan = saved();
        let vars: BTreeMap<String, String> = [("x".to_string(), "1".to_string())].into();
        assert!(plan.check_inputs(Some(b"stack: a"), &vars, None).is_ok());
        assert!(matches!(
            plan.check_inputs(Some(b"stack: b"), &vars, None),
            Err(Stale::StackFile(_))
        ));
        let other: BTreeMap<String, String> = [("x".to_string(), "2".to_string())].into();
        assert_eq!(
            plan.check_inputs(Some(b"stack: a"), &other, None),
            Err(Stale::Variables("x".into()))
        );
        assert!(matches!(
            plan.check_inputs(Some(b"stack: a"), &vars, Some(b"{}")),
            Err(Stale::State(_))
        ));
    }
}
