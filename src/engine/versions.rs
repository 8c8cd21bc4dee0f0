//! Engine versions checked against what AWS offers before any change: a plan that would create a
//! database with a version AWS does not run fails at plan time, pointing at the file, instead of
//! half-way through `up`.
//!
//! Only versions the plan sends to AWS are judged (creates, replacements, version upgrades): a
//! resource that keeps running a version AWS has since stopped offering for new resources is left
//! alone.

use super::EngineError;
use crate::aws::{Aws, DriverError, engine_versions::offered};
use crate::diagnostics::Diagnostic;
use crate::plan::{Action, Plan};
use crate::resources::engine_versions::{Engine, families, matches};
use crate::spec::Stack;
use std::collections::{BTreeMap, BTreeSet};

/// What each engine offers, read from AWS.
pub type Offered = BTreeMap<Engine, Result<Vec<String>, DriverError>>;

/// The engines the stack writes a version for: what the check may need, read while the plan refreshes.
pub fn engines(stack: &Stack) -> BTreeSet<Engine> {
    stack
        .resources
        .values()
        .filter(|decl| decl.config.contains_key("engine_version"))
        .filter_map(|decl| decl.kind.engine(&decl.config))
        .collect()
}

/// One describe per engine (a page or two each).
pub async fn fetch(aws: &Aws, engines: BTreeSet<Engine>) -> Offered {
    let mut found = Offered::new();
    for engine in engines {
        let versions = offered(aws, &engine).await;
        found.insert(engine, versions);
    }
    found
}

/// Every version the plan would send to AWS that AWS does not offer, located in the file.
pub fn check(stack: &Stack, plan: &Plan, offered: &Offered) -> Result<(), EngineError> {
    let mut diagnostics = Vec::new();
    for resource in &plan.resources {
        let sends_version = match resource.action {
            Action::Create | Action::Replace => true,
            Action::Update => resource
                .changes
                .iter()
                .any(|c| c.attribute == "engine_version"),
            Action::Read | Action::Delete | Action::NoOp => false,
        };
        let Some(decl) = stack.resources.get(&resource.name) else {
            continue;
        };
        let (true, Some(engine), Some(node)) = (
            sends_version,
            decl.kind.engine(&decl.config),
            decl.config.get("engine_version"),
        ) else {
            continue;
        };
        let Some(version) = node.as_literal_str() else {
            continue;
        };
        let listed = match offered.get(&engine) {
            Some(Ok(listed)) => listed,
            Some(Err(error)) => {
                return Err(EngineError::Driver {
                    resource: resource.name.clone(),
                    kind: format!("{} engine versions", engine.service.name()),
                    error: error.clone(),
                });
            }
            None => continue,
        };
        if listed.iter().any(|offered| matches(offered, &version)) {
            continue;
        }
        let families = offered_families(&engine, listed);
        diagnostics.push(
            Diagnostic::error(format!(
                "`{}`: {} does not offer {} {version} in {}",
                resource.name,
                engine.service.name(),
                engine.name,
                plan.region
            ))
            .at(node.span.clone())
            .help(
                if let Some(minors) = same_family(&engine, &version, listed) {
                    format!(
                        "{} offers {} {} here; nothing was changed",
                        engine.service.name(),
                        engine.name,
                        minors.join(", ")
                    )
                } else if families.is_empty() {
                    format!(
                        "{} lists no {} versions in {}: check the engine and the region",
                        engine.service.name(),
                        engine.name,
                        plan.region
                    )
                } else {
                    format!(
                        "{} offers {} {} here (and their minor versions); nothing was changed",
                        engine.service.name(),
                        engine.name,
                        families.join(", ")
                    )
                },
            ),
        );
    }
    EngineError::invalid_unless_empty(diagnostics, stack)
}

/// The versions AWS lists of the family `version` belongs to (`8.0.99` → the `8.0.x` offered), when
/// it lists any: the help names exactly what could be written instead.
fn same_family(engine: &Engine, version: &str, listed: &[String]) -> Option<Vec<String>> {
    let family = families(engine).iter().find(|f| matches(version, f))?;
    let minors: Vec<String> = listed
        .iter()
        .filter(|v| matches(v, family))
        .cloned()
        .collect();
    (!minors.is_empty()).then_some(minors)
}

/// The families AWS lists for the help line: the known ones it has versions of, or, for one this
/// release does not know, the listed versions themselves.
fn offered_families(engine: &Engine, listed: &[String]) -> Vec<String> {
    let known: Vec<String> = families(engine)
        .iter()
        .filter(|family| listed.iter().any(|v| matches(v, family)))
        .map(|family| family.to_string())
        .collect();
    if known.is_empty() {
        listed.to_vec()
    } else {
        known
    }
}
