//! `import`: records in the state a resource that exists in AWS but that this state did not create
//! (made by hand, by another tool, or by a state that was lost), after checking that it exists and is
//! of the kind the stack file declares. AWS is only read; the next `up` brings the resource to the
//! file's configuration and tags it as this state's.

use super::EngineError;
use super::desired;
use super::ownership::{self, Known};
use crate::aws::census::{Tagged, census};
use crate::aws::{self, Aws, Ctx, DriverError};
use crate::resources::ResourceKind;
use crate::spec::Stack;
use crate::state::{ResourceState, State, Status};
use std::time::Duration;

/// A resource now recorded in the state.
#[derive(Debug, Clone)]
pub struct Imported {
    pub name: String,
    pub kind: ResourceKind,
    pub id: String,
    /// The lineage it carried when it was another state's.
    pub taken_from: Option<String>,
}

fn failure(name: &str, kind: ResourceKind, error: DriverError) -> EngineError {
    EngineError::Driver {
        resource: name.to_string(),
        kind: kind.to_string(),
        error,
    }
}

/// Imports the AWS resource `id` as the file's resource `name`.
pub async fn import_one(
    aws: &Aws,
    stack: &Stack,
    state: &mut State,
    name: &str,
    id: &str,
) -> Result<Imported, EngineError> {
    let config_error = |message: String| EngineError::Import {
        resource: name.to_string(),
        message,
    };
    let decl = stack.resources.get(name).ok_or_else(|| {
        config_error("is not a resource of the stack file: declare it first, then import it".into())
    })?;
    let kind = decl.kind;
    if kind.spec().lookup {
        return Err(config_error(format!(
            "a {kind} is looked up on every run, never imported"
        )));
    }
    if let Some(recorded) = state.resources.get(name).and_then(|r| r.id.clone()) {
        return Err(config_error(format!(
            "is already in the state as {recorded}; stackctl imports only what the state does not record (`stackctl state rm {name}` forgets it first)"
        )));
    }
    let wanted = desired::compute(
        stack,
        &aws.region,
        decl,
        &crate::resolve::Known::default(),
        None,
    )
    .map_err(config_error)?;
    let mut entry = ResourceState {
        kind,
        status: Status::Created,
        id: Some(id.to_string()),
        physical_name: wanted.physical_name.as_ref().map(|_| id.to_string()),
        client_token: None,
        depends_on: decl.needs(),
        config: wanted.config,
        outputs: Default::default(),
        delete_timeout_secs: Some(decl.timeouts.delete.as_secs()),
        final_snapshot: None,
        imported: true,
        updated_at: jiff::Timestamp::now(),
    };
    let ctx = Ctx::new(
        aws.clone(),
        &state.owner(),
        name,
        Duration::from_secs(60),
        None,
    );
    let not_found = || {
        config_error(format!(
            "no {kind} `{id}` exists in {}; check the id (and --region)",
            aws.region
        ))
    };
    let first = aws::read(kind, &ctx, id, &entry)
        .await
        .map_err(|e| failure(name, kind, e))?
        .ok_or_else(not_found)?;
    // Drivers take what AWS cannot report (a removal policy, the secret a password was generated
    // into) from the recorded configuration: the file's, with what is known only after a plan (a
    // subnet group's name from a reference) filled in from AWS. Read again with that.
    if let (Some(fields), Some(reported)) = (entry.config.as_object_mut(), first.config.as_object())
    {
        for (key, value) in fields.iter_mut() {
            if let Some(seen) = reported
                .get(key)
                .filter(|_| !crate::resolve::is_fully_known(value))
            {
                *value = seen.clone();
            }
        }
    }
    let mut observed = aws::read(kind, &ctx, id, &entry)
        .await
        .map_err(|e| failure(name, kind, e))?
        .ok_or_else(not_found)?;
    let carried = observed
        .config
        .get("tags")
        .and_then(|t| t.get(crate::resources::TAG_LINEAGE))
        .and_then(|l| l.as_str())
        .map(str::to_string);
    ownership::judge(&mut observed, &state.lineage, Known::Imported);
    let mut recorded = observed.config;
    // An image written as an SSM parameter stands for the instance's AMI only if the parameter
    // names that AMI now; otherwise the plan must show the difference.
    if kind == ResourceKind::Ec2Instance
        && let (Some(wanted), Some(running)) = (
            entry.config.get("image").and_then(|v| v.as_str()),
            observed.outputs.get("image_id").and_then(|v| v.as_str()),
        )
        && aws::ec2_instance::resolve_image(&ctx, wanted)
            .await
            .map_err(|e| failure(name, kind, e))?
            == running
        && let Some(fields) = recorded.as_object_mut()
    {
        fields.insert("image".into(), wanted.into());
    }
    // The name AWS knows it by (a group's or instance's name, not its id): what a file that does not
    // name the resource keeps calling it.
    entry.physical_name = recorded
        .get("name")
        .and_then(|n| n.as_str())
        .map(str::to_string)
        .or(entry.physical_name);
    entry.config = recorded;
    entry.outputs = observed.outputs;
    // Managed again, if `state rm` or a retain policy had let it go.
    let ids = entry.aws_ids();
    state.retained.retain(|kept| !ids.contains(kept));
    state.resources.insert(name.to_string(), entry);
    Ok(Imported {
        name: name.to_string(),
        kind,
        id: id.to_string(),
        taken_from: carried.filter(|l| *l != state.lineage),
    })
}

/// What `import --all` did with each resource tagged with the stack that the state does not record.
#[derive(Debug, Default)]
pub struct ImportAll {
    pub imported: Vec<Imported>,
    /// Resources left alone, and why.
    pub skipped: Vec<(Tagged, String)>,
}

/// Imports every resource tagged with this stack whose `stackctl:resource` tag names a resource of
/// the file of the same kind: the way back from a lost state file.
pub async fn import_all(
    aws: &Aws,
    stack: &Stack,
    state: &mut State,
) -> Result<ImportAll, EngineError> {
    let tagged = census(aws, &stack.name)
        .await
        .map_err(|e| failure("stack census", ResourceKind::Vpc, e))?;
    let mut result = ImportAll::default();
    for t in ownership::untracked(state, tagged) {
        // The key it was made for may have been renamed since (`moved:`).
        let key = t.resource.as_deref().map(|r| renamed(stack, r));
        let decl = key.as_deref().and_then(|r| stack.resources.get(r));
        let skip = match decl {
            None => Some(match &t.resource {
                Some(r) => format!(
                    "its stackctl:resource tag names `{r}`, which the stack file does not declare"
                ),
                None => "it has no stackctl:resource tag".into(),
            }),
            Some(d) if t.kind == ResourceKind::Secret && d.kind == ResourceKind::RdsInstance => {
                Some(format!(
                    "it holds the credentials of database `{}`, and comes with it",
                    d.name
                ))
            }
            Some(d) if d.kind != t.kind => Some(format!(
                "`{}` is a {} in the stack file, not a {}",
                d.name, d.kind, t.kind
            )),
            Some(d) if state.resources.get(&d.name).is_some_and(|r| r.id.is_some()) => {
                Some(format!(
                    "the state already records `{}`; two resources carry its tag",
                    d.name
                ))
            }
            Some(_) => None,
        };
        if let Some(why) = skip {
            result.skipped.push((t, why));
            continue;
        }
        let name = key.unwrap_or_default();
        result
            .imported
            .push(import_one(aws, stack, state, &name, &t.id).await?);
    }
    Ok(result)
}

/// The key a resource made for `key` has now, following the file's `moved:` renames.
fn renamed(stack: &Stack, key: &str) -> String {
    let mut current = key.to_string();
    for _ in 0..=stack.moved.len() {
        match stack.moved.iter().find(|m| m.from == current) {
            Some(m) => current = m.to.clone(),
            None => break,
        }
    }
    current
}
