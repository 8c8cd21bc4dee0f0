//! The dependency graph between resources: topological order for `up`, the reverse for `down`,
//! cycles reported with their path, and Graphviz output.

use crate::diagnostics::Diagnostic;
use crate::spec::Stack;
use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{BTreeSet, HashMap};

/// Resources and the edges "must exist before". Edges to names that are not nodes are dropped.
#[derive(Debug, Clone)]
pub struct Graph {
    graph: DiGraph<String, ()>,
    index: HashMap<String, NodeIndex>,
}

impl Graph {
    /// Builds the graph from `(resource, dependencies)` pairs, keeping the order nodes were given in.
    pub fn new<I, D>(nodes: I) -> Graph
    where
        I: IntoIterator<Item = (String, D)>,
        D: IntoIterator<Item = String>,
    {
        let mut graph = DiGraph::new();
        let mut index = HashMap::new();
        let nodes: Vec<(String, Vec<String>)> = nodes
            .into_iter()
            .map(|(n, d)| (n, d.into_iter().collect()))
            .collect();
        for (name, _) in &nodes {
            index
                .entry(name.clone())
                .or_insert_with(|| graph.add_node(name.clone()));
        }
        for (name, deps) in &nodes {
            let to = index[name];
            let unique: BTreeSet<&String> = deps.iter().collect();
            for dep in unique {
                if let Some(&from) = index.get(dep) {
                    graph.add_edge(from, to, ());
                }
            }
        }
        Graph { graph, index }
    }

    pub fn from_stack(stack: &Stack) -> Graph {
        Graph::new(
            stack
                .resources
                .values()
                .map(|r| (r.name.clone(), r.dependencies().into_iter().map(|(n, _)| n))),
        )
    }

    /// What `name` needs to exist first.
    pub fn dependencies(&self, name: &str) -> Vec<&str> {
        self.neighbors(name, petgraph::Direction::Incoming)
    }

    /// What needs `name` to exist.
    pub fn dependents(&self, name: &str) -> Vec<&str> {
        self.neighbors(name, petgraph::Direction::Outgoing)
    }

    fn neighbors(&self, name: &str, direction: petgraph::Direction) -> Vec<&str> {
        let Some(&i) = self.index.get(name) else {
            return Vec::new();
        };
        let mut out: Vec<&str> = self
            .graph
            .neighbors_directed(i, direction)
            .map(|n| self.graph[n].as_str())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// `roots` and everything they need (`upstream`), or everything that needs them (downstream).
    pub fn closure<'a>(
        &self,
        roots: impl IntoIterator<Item = &'a str>,
        upstream: bool,
    ) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut queue: Vec<String> = roots.into_iter().map(str::to_string).collect();
        while let Some(name) = queue.pop() {
            if !seen.insert(name.clone()) {
                continue;
            }
            let next = if upstream {
                self.dependencies(&name)
            } else {
                self.dependents(&name)
            };
            queue.extend(next.into_iter().map(str::to_string));
        }
        seen
    }

    /// Dependencies before dependents; `Err` holds a cycle.
    pub fn order(&self) -> Result<Vec<String>, Vec<String>> {
        match toposort(&self.graph, None) {
            Ok(order) => Ok(order.into_iter().map(|i| self.graph[i].clone()).collect()),
            Err(_) => Err(self.find_cycle().unwrap_or_default()),
        }
    }

    /// One cycle, as the path `a -> b -> ... -> a` (the first name is repeated at the end).
    pub fn find_cycle(&self) -> Option<Vec<String>> {
        for component in tarjan_scc(&self.graph) {
            let self_loop =
                component.len() == 1 && self.graph.contains_edge(component[0], component[0]);
            if component.len() < 2 && !self_loop {
                continue;
            }
            let members: BTreeSet<NodeIndex> = component.iter().copied().collect();
            let start = *members.iter().next()?;
            // Walk inside the component until we return to a node already on the path.
            let mut path = vec![start];
            let mut current = start;
            loop {
                let next = self
                    .graph
                    .neighbors(current)
                    .filter(|n| members.contains(n))
                    .min()?;
                if let Some(pos) = path.iter().position(|p| *p == next) {
                    let mut cycle: Vec<String> =
                        path[pos..].iter().map(|i| self.graph[*i].clone()).collect();
                    cycle.push(self.graph[next].clone());
                    return Some(cycle);
                }
                path.push(next);
                current = next;
            }
        }
        None
    }

    /// The graph in Graphviz DOT, edges pointing from a dependency to what needs it.
    pub fn to_dot(&self, title: &str, label: impl Fn(&str) -> String) -> String {
        let mut out = format!(
            "digraph \"{}\" {{\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n",
            escape(title)
        );
        for i in self.graph.node_indices() {
            let name = &self.graph[i];
            out.push_str(&format!(
                "  \"{}\" [label=\"{}\"];\n",
                escape(name),
                escape(&label(name))
            ));
        }
        let mut edges: Vec<(String, String)> = self
            .graph
            .edge_indices()
            .filter_map(|e| self.graph.edge_endpoints(e))
            .map(|(a, b)| (self.graph[a].clone(), self.graph[b].clone()))
            .collect();
        edges.sort();
        for (a, b) in edges {
            out.push_str(&format!("  \"{}\" -> \"{}\";\n", escape(&a), escape(&b)));
        }
        out.push_str("}\n");
        out
    }
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Adds a diagnostic for a dependency cycle in the stack, pointing at each reference that closes it.
pub fn check_cycles(stack: &Stack, diagnostics: &mut Vec<Diagnostic>) {
    let graph = Graph::from_stack(stack);
    let Some(cycle) = graph.find_cycle() else {
        return;
    };
    let first = &stack.resources[&cycle[0]];
    let mut diagnostic = Diagnostic::error(format!("dependency cycle: {}", cycle.join(" -> ")))
        .help("break the cycle: one of these resources must not need the other (move a rule into a separate group, or drop a depends_on)");
    for pair in cycle.windows(2) {
        let (from, to) = (&pair[0], &pair[1]);
        // The edge from -> to is a reference inside `to` that names `from`.
        if let Some((_, span)) = stack.resources[to]
            .dependencies()
            .into_iter()
            .find(|(name, _)| name == from)
        {
            if diagnostic.span.is_none() {
                diagnostic = diagnostic
                    .at(span)
                    .label(format!("`{to}` needs `{from}` here"));
            } else {
                diagnostic = diagnostic.related(span, format!("`{to}` needs `{from}` here"));
            }
        }
    }
    if diagnostic.span.is_none() {
        diagnostic = diagnostic.at(first.span.clone());
    }
    diagnostics.push(diagnostic);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> Graph {
        Graph::new(edges.iter().map(|(n, deps)| {
            (
                n.to_string(),
                deps.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            )
        }))
    }

    #[test]
    fn orders_dependencies_first() {
        let g = graph(&[
            ("web", &["sg", "role"]),
            ("sg", &["vpc"]),
            ("role", &[]),
            ("vpc", &[]),
        ]);
        let order = g.order().unwrap();
        let pos = |n: &str| order.iter().position(|o| o == n).unwrap();
        assert!(pos("vpc") < pos("sg") && pos("sg") < pos("web") && pos("role") < pos("web"));
        assert_eq!(g.dependents("sg"), vec!["web"]);
        assert_eq!(g.dependencies("web"), vec!["role", "sg"]);
    }

    #[test]
    fn closures_follow_edges_one_way() {
        let g = graph(&[
            ("web", &["sg", "role"]),
            ("sg", &["vpc"]),
            ("role", &[]),
            ("vpc", &[]),
        ]);
        assert_eq!(
            g.closure(["sg"], true).into_iter().collect::<Vec<_>>(),
            vec!["sg", "vpc"]
        );
        assert_eq!(
            g.closure(["sg"], false).into_iter().collect::<Vec<_>>(),
            vec!["sg", "web"]
        );
    }

    #[test]
    fn reports_cycles_as_paths() {
        let g = graph(&[("a", &["c"]), ("b", &["a"]), ("c", &["b"]), ("d", &[])]);
        let cycle = g.order().unwrap_err();
        assert_eq!(cycle.first(), cycle.last());
        assert_eq!(cycle.len(), 4);
        assert!(graph(&[("a", &["a"])]).find_cycle().is_some());
    }

    #[test]
    fn dot_output_lists_edges() {
        let dot = graph(&[("web", &["sg"]), ("sg", &[])]).to_dot("demo", |n| n.to_string());
        assert!(dot.contains("\"sg\" -> \"web\""));
    }
}
