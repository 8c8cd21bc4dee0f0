//! The images of the instances a plan will launch: their SSM parameters are read with the plan's
//! first reads, and one that does not exist stops the plan before any change, pointing at the
//! `image:` that names it. Without this, `up` would build everything the instance depends on (a
//! database, a cache: minutes of billed creates) before `RunInstances` met the same error.

use super::EngineError;
use super::desired;
use crate::aws::{Aws, DriverError};
use crate::diagnostics::Diagnostic;
use crate::plan::{Action, Plan};
use crate::resolve::Known;
use crate::resources::ResourceKind;
use crate::spec::{ResourceDecl, Stack};
use std::collections::{BTreeMap, BTreeSet};

/// What each parameter read answered: the AMI id, or why not.
pub type ImageReads = BTreeMap<String, Result<String, DriverError>>;

/// The image `decl` asks for, as the plan sends it (`al2023` expanded to its `ssm:` parameter).
fn wanted_image(stack: &Stack, region: &str, decl: &ResourceDecl) -> Option<String> {
    let wanted = desired::compute(stack, region, decl, &Known::default(), None).ok()?;
    wanted.config.get("image")?.as_str().map(str::to_string)
}

/// The SSM parameters naming the images of instances the plan may launch: those the state does not
/// hold yet, and those whose image the file changed (a replacement launches the new one).
pub fn to_launch(
    stack: &Stack,
    region: &str,
    recorded: &crate::state::Resources,
) -> BTreeSet<String> {
    let mut parameters = BTreeSet::new();
    for (name, decl) in stack.resources.iter() {
        if decl.kind != ResourceKind::Ec2Instance {
            continue;
        }
        let Some(image) = wanted_image(stack, region, decl) else {
            continue;
        };
        let launched = recorded
            .get(name)
            .and_then(|resource| resource.config.get("image"))
            .and_then(|image| image.as_str());
        if launched == Some(image.as_str()) {
            continue;
        }
        if let Some(parameter) = image.strip_prefix("ssm:") {
            parameters.insert(parameter.to_string());
        }
    }
    parameters
}

/// Reads the AMI ids the parameters hold into the run's [`crate::aws::images::Images`], so the
/// creates find them instead of reading them on the critical path.
pub async fn read(aws: &Aws, parameters: &BTreeSet<String>) -> ImageReads {
    let reads = parameters.iter().map(|parameter| async move {
        let ami = aws.images.resolve(&aws.ssm, parameter).await;
        (parameter.clone(), ami)
    });
    futures_util::future::join_all(reads)
        .await
        .into_iter()
        .collect()
}

/// Every instance the plan creates or replaces whose image names an SSM parameter AWS does not
/// have, located in the file. Other failed reads (throttling, a network error) are left for the
/// create to make again and report.
pub fn check(stack: &Stack, plan: &Plan, reads: &ImageReads) -> Result<(), EngineError> {
    let mut diagnostics = Vec::new();
    for resource in &plan.resources {
        if !matches!(resource.action, Action::Create | Action::Replace) {
            continue;
        }
        let Some(decl) = stack.resources.get(&resource.name) else {
            continue;
        };
        let (Some(node), Some(image)) = (
            decl.config.get("image"),
            wanted_image(stack, &plan.region, decl),
        ) else {
            continue;
        };
        let Some(parameter) = image.strip_prefix("ssm:") else {
            continue;
        };
        let Some(Err(error)) = reads.get(parameter) else {
            continue;
        };
        if !error.is_code(&["ParameterNotFound"]) {
            continue;
        }
        diagnostics.push(
            Diagnostic::error(format!(
                "`{}`: the SSM parameter {parameter} does not exist in {}",
                resource.name, plan.region
            ))
            .at(node.span.clone())
            .help(
                "write `al2023`, `amazon-linux-2`, an existing `ssm:/path/to/parameter` or an \
                 AMI id (`ami-...`); nothing was changed",
            ),
        );
    }
    EngineError::invalid_unless_empty(diagnostics, stack)
}
