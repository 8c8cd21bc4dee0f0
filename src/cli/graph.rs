//! `stackctl graph`: the dependency graph in Graphviz DOT.

use super::{Failure, GlobalArgs, Printer, Status, context};
use crate::graph::Graph;

pub async fn graph(global: &GlobalArgs, printer: &Printer) -> Result<Status, Failure> {
    let stack = context::load_stack(global, printer)?;
    let graph = Graph::from_stack(&stack);
    let dot = graph.to_dot(&stack.name, |name| {
        format!("{name}\n({})", stack.resources[name].kind)
    });
    printer.data(&dot);
    Ok(Status::Success)
}
