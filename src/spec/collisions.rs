//! Two resources of one stack file that would get the same name in one AWS namespace (keys `web_sg`
//! and `web-sg`, or two explicit `name:`s) pass every per-resource check and then fail half-way
//! through `up`. They are found here, before anything runs, with both places shown.

use super::ResourceDecl;
use crate::diagnostics::{Diagnostic, Span};
use crate::model::names::physical_name;
use crate::resources::ResourceKind;
use indexmap::IndexMap;
use std::collections::HashMap;

/// The AWS namespace a kind's names live in, and whether AWS compares them without case.
fn namespace(kind: ResourceKind) -> Option<(&'static str, bool)> {
    kind.spec()
        .unique_names
        .map(|space| (space.name, space.ignores_case))
}

/// The key under which AWS keeps `name` for `kind` unique: its namespace, and the name folded the way
/// AWS compares it. `None` for kinds whose names need not be unique.
pub fn name_key(kind: ResourceKind, name: &str) -> Option<(&'static str, String)> {
    namespace(kind).map(|(space, fold)| {
        (
            space,
            if fold {
                name.to_lowercase()
            } else {
                name.to_string()
            },
        )
    })
}

/// The keys of every AWS name a declared resource will use (see [`name_key`]).
pub fn name_keys(stack: &str, decl: &ResourceDecl) -> Vec<(&'static str, String)> {
    names_of(stack, decl)
        .into_iter()
        .map(|(space, fold, name, _)| (space, if fold { name.to_lowercase() } else { name }))
        .collect()
}

/// Every AWS name the resource will create, with where it comes from in the file. Names built from
/// references are known only at plan time and are not checked here.
fn names_of(stack: &str, decl: &ResourceDecl) -> Vec<(&'static str, bool, String, Span)> {
    let mut names = Vec::new();
    if let Some((space, fold)) = namespace(decl.kind) {
        match decl.config.get("name") {
            Some(node) => {
                if let Some(name) = node.as_literal_str() {
                    names.push((space, fold, name, node.span.clone()));
                }
            }
            None => names.push((
                space,
                fold,
                physical_name(stack, &decl.name),
                decl.span.clone(),
            )),
        }
    }
    // A database's generated password goes into a secret it names.
    if decl.kind == ResourceKind::RdsInstance
        && let Some(node) = decl.config.get("password_secret")
        && let Some(name) = node.as_literal_str()
    {
        names.push(("secret", false, name, node.span.clone()));
    }
    names
}

pub fn check(stack: &str, resources: &IndexMap<String, ResourceDecl>) -> Vec<Diagnostic> {
    let mut seen: HashMap<(&'static str, String), (String, Span)> = HashMap::new();
    let mut problems = Vec::new();
    for decl in resources.values() {
        for (space, fold, name, span) in names_of(stack, decl) {
            let key = (
                space,
                if fold {
                    name.to_lowercase()
                } else {
                    name.clone()
                },
            );
            match seen.get(&key) {
                Some((first, first_span)) => problems.push(
                    Diagnostic::error(format!(
                        "`{}` and `{first}` would both use the {space} name `{name}`",
                        decl.name
                    ))
                    .at(span)
                    .related(first_span.clone(), format!("`{first}` uses it here"))
                    .help(if fold {
                        "AWS compares these names without case; give one of them another `name:` (keys become names with `_` turned into `-`)"
                    } else {
                        "give one of them another `name:` (keys become names with `_` turned into `-`)"
                    }),
                ),
                None => {
                    seen.insert(key, (decl.name.clone(), span));
                }
            }
        }
    }
    problems
}
