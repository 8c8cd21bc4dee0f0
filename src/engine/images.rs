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
use crate::spec::Stack;
use std::collections::{BTreeMap, BTreeSet};

/// What each parameter read answered: the AMI id, or why not.
pub type ImageReads = BTreeMap<String, Result<String, DriverError>>;

/// The SSM parameters naming the images of instances the plan may launch: those the state does not
/// hold yet, and those whose image the file changed (a replacement launches the new one).
pub fn to_launch(
    stack: &Stack,
    region: &str,
    recorded: &crate::state::Resources,
) -> BTreeSet<String> {
    let nothing_known = Known::default();
    let mut parameters = BTreeSet::new();
    for (name, decl) in stack.resources.iter() {
        if decl.kind != ResourceKind::Ec2Instance {
            continue;
        }
        let Ok(wanted) = desired::compute(stack, region, decl, &nothing_known, None) else {
            continue;
        };
        let Some(image) = wanted.config.get("image") else {
            continue;
        };
        let launched = recorded
            .get(name)
            .and_then(|resource| resource.config.get("image"));
        if launched == Some(image) {
            continue;
        }
        if let Some(parameter) = image.as_str().and_then(|image| image.strip_prefix("ssm:")) {
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

/// Every instance the plan creates or replaces whose image names an SSM parameter AWS does not have, located
/// in the file. Other failed reads (throttling, a network error) are left for the create to make
/// again and report.
pub fn check(stack: &Stack, plan: &Plan, reads: &ImageReads) -> Result<(), EngineError> {
    let mut diagnostics = Vec::new();
    for resource in &plan.resources {
        if !matches!(resource.action, Action::Create | Action::Replace) {
            continue;
        }
        let Some(decl) = stack.resources.get(&resource.name) else {
            continue;
        };
        let Some(node) = decl.config.get("image") else {
            continue;
        };
        let Some(written) = node.as_literal_str() else {
            continue;
        };
        let image = crate::resources::ec2_instance::expand_image(&written);
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
