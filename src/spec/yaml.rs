//! YAML text to a tree whose every node knows where it was written.
//!
//! marked-yaml gives us located nodes but refuses anchors by design, and no maintained crate offers
//! located nodes together with aliases and merge keys. So the tree is built here from yaml-rust2's
//! parser events (the parser marked-yaml itself uses): an alias becomes a copy of the anchored node,
//! keeping the anchor's locations, so an error in shared content points at the text that holds it;
//! `<<: *defaults` merges mappings as YAML 1.1 defines (keys written in the mapping win, then
//! earlier merged mappings over later ones).

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode, MarkedSequenceNode};
use marked_yaml::{Marker, Node, Span};
use std::collections::{HashMap, HashSet};
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker as ScanMarker, TScalarStyle};

/// Nesting deeper than this is refused: no stack file comes close, and the builder recurses.
const MAX_DEPTH: usize = 128;
/// How many nodes aliases may copy in all: a few aliases of aliases would otherwise expand a small
/// file into billions of nodes.
const MAX_ALIAS_NODES: usize = 100_000;

/// Why the text is not a stack file's YAML. Markers count characters, as the parser does.
#[derive(Debug)]
pub enum YamlError {
    Syntax {
        at: Marker,
        info: String,
    },
    /// An alias naming no anchor defined before it.
    UndefinedAlias {
        at: Marker,
        name: String,
    },
    TopLevelNotMapping(Marker),
    KeyNotScalar(Marker),
    Tag(Marker),
    DuplicateKey {
        first: Box<MarkedScalarNode>,
        again: Box<MarkedScalarNode>,
    },
    /// A merge key whose value is not a mapping or a list of mappings.
    BadMerge(Marker),
    TooDeep(Marker),
    AliasesTooLarge(Marker),
}

/// Parses the first document of `text`; an empty document is an empty mapping.
pub fn parse(source: usize, text: &str) -> Result<Node, YamlError> {
    let mut builder = Builder {
        text,
        parser: Parser::new_from_str(text),
        source,
        anchors: HashMap::new(),
        copied: 0,
    };
    builder.document()
}

struct Builder<'a> {
    text: &'a str,
    parser: Parser<std::str::Chars<'a>>,
    source: usize,
    /// Anchored nodes by the parser's anchor id, with their size in nodes.
    anchors: HashMap<usize, (Node, usize)>,
    copied: usize,
}

/// One entry of a mapping as written, before merge keys are applied.
enum Entry {
    Written(Box<(MarkedScalarNode, Node)>),
    Merged(Vec<MarkedMappingNode>),
}

impl Builder<'_> {
    fn marker(&self, mark: ScanMarker) -> Marker {
        Marker::new(self.source, mark.index(), mark.line(), mark.col() + 1)
    }

    fn next(&mut self) -> Result<(Event, Marker), YamlError> {
        match self.parser.next_token() {
            Ok((event, mark)) => Ok((event, self.marker(mark))),
            // yaml-rust2 reports an unknown anchor only through its message; the name is read
            // from the text at the alias.
            Err(error) if error.info().contains("unknown anchor") => {
                let at = *error.marker();
                let name: String = self
                    .text
                    .chars()
                    .skip(at.index() + 1)
                    .take_while(|c| !c.is_whitespace() && !",[]{}".contains(*c))
                    .collect();
                Err(YamlError::UndefinedAlias {
                    at: self.marker(at),
                    name,
                })
            }
            Err(error) => Err(YamlError::Syntax {
                at: self.marker(*error.marker()),
                info: error.info().to_string(),
            }),
        }
    }

    fn document(&mut self) -> Result<Node, YamlError> {
        loop {
            let (event, at) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentStart => {}
                Event::StreamEnd => {
                    return Ok(MarkedMappingNode::new_empty(Span::new_with_marks(at, at)).into());
                }
                Event::MappingStart(..) => return self.node(event, at, 0),
                _ => return Err(YamlError::TopLevelNotMapping(at)),
            }
        }
    }

    fn node(&mut self, event: Event, at: Marker, depth: usize) -> Result<Node, YamlError> {
        if depth > MAX_DEPTH {
            return Err(YamlError::TooDeep(at));
        }
        let (node, anchor) = match event {
            Event::Scalar(value, style, anchor, tag) => {
                if tag.is_some() {
                    return Err(YamlError::Tag(at));
                }
                // A quoted scalar's text starts after its quote: locations inside it (a reference,
                // a bad value) point at the text.
                let at = match style {
                    TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => {
                        Marker::new(self.source, at.character() + 1, at.line(), at.column() + 1)
                    }
                    _ => at,
                };
                let mut scalar = MarkedScalarNode::new(Span::new_start(at), value);
                // Only a plain scalar may be read as a number or a boolean: `"8.0"` stays text.
                scalar.set_coerce(style == TScalarStyle::Plain);
                (scalar.into(), anchor)
            }
            Event::Alias(id) => return self.alias(id, at),
            Event::SequenceStart(anchor, tag) => {
                if tag.is_some() {
                    return Err(YamlError::Tag(at));
                }
                (self.sequence(at, depth)?, anchor)
            }
            Event::MappingStart(anchor, tag) => {
                if tag.is_some() {
                    return Err(YamlError::Tag(at));
                }
                (self.mapping(at, depth)?, anchor)
            }
            _ => {
                return Err(YamlError::Syntax {
                    at,
                    info: "unexpected end of a collection".into(),
                });
            }
        };
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), size(&node)));
        }
        Ok(node)
    }

    fn alias(&mut self, id: usize, at: Marker) -> Result<Node, YamlError> {
        // The parser refuses an alias to an anchor it has not seen, at the alias; an anchor still
        // open (an alias inside its own anchored node) is not in the map yet.
        let Some((node, nodes)) = self.anchors.get(&id) else {
            return Err(YamlError::Syntax {
                at,
                info: "an alias cannot refer to the node that contains it".into(),
            });
        };
        self.copied += nodes;
        if self.copied > MAX_ALIAS_NODES {
            return Err(YamlError::AliasesTooLarge(at));
        }
        Ok(node.clone())
    }

    fn sequence(&mut self, start: Marker, depth: usize) -> Result<Node, YamlError> {
        let mut items = Vec::new();
        loop {
            let (event, at) = self.next()?;
            if matches!(event, Event::SequenceEnd) {
                let mut node: MarkedSequenceNode = items.into_iter().collect();
                *node.span_mut() = Span::new_with_marks(start, at);
                return Ok(node.into());
            }
            items.push(self.node(event, at, depth + 1)?);
        }
    }

    fn mapping(&mut self, start: Marker, depth: usize) -> Result<Node, YamlError> {
        let mut entries = Vec::new();
        let mut written: HashMap<String, MarkedScalarNode> = HashMap::new();
        // A second `<<` in one mapping is a duplicate key, as in go-yaml: readers disagree on which
        // one wins. Several mappings are merged with one key: `<<: [*a, *b]`.
        let mut merge_key: Option<MarkedScalarNode> = None;
        loop {
            let (event, at) = self.next()?;
            let key_at = at;
            let key = match event {
                Event::MappingEnd => {
                    let mut node = merge(entries, &written);
                    *node.span_mut() = Span::new_with_marks(start, at);
                    return Ok(node.into());
                }
                Event::Scalar(ref text, TScalarStyle::Plain, 0, None) if text == "<<" => None,
                Event::Scalar(..) | Event::Alias(_) => match self.node(event, at, depth + 1)? {
                    Node::Scalar(key) => Some(key),
                    _ => return Err(YamlError::KeyNotScalar(at)),
                },
                _ => return Err(YamlError::KeyNotScalar(at)),
            };
            let (event, at) = self.next()?;
            let value = self.node(event, at, depth + 1)?;
            match key {
                None => {
                    let this = MarkedScalarNode::new(Span::new_start(key_at), "<<");
                    if let Some(first) = &merge_key {
                        return Err(YamlError::DuplicateKey {
                            first: Box::new(first.clone()),
                            again: Box::new(this),
                        });
                    }
                    merge_key = Some(this);
                    entries.push(Entry::Merged(merged_mappings(value, key_at)?));
                }
                Some(key) => {
                    if let Some(first) = written.get(key.as_str()) {
                        return Err(YamlError::DuplicateKey {
                            first: Box::new(first.clone()),
                            again: Box::new(key),
                        });
                    }
                    written.insert(key.as_str().to_string(), key.clone());
                    entries.push(Entry::Written(Box::new((key, value))));
                }
            }
        }
    }
}

/// The mappings a merge key's value names: one mapping, or a list of them. A wrong value is
/// reported at the merge key: the value is often an alias whose text is elsewhere.
fn merged_mappings(value: Node, merge_key: Marker) -> Result<Vec<MarkedMappingNode>, YamlError> {
    match value {
        Node::Mapping(map) => Ok(vec![map]),
        Node::Sequence(list) => list
            .iter()
            .map(|item| match item {
                Node::Mapping(map) => Ok(map.clone()),
                _ => Err(YamlError::BadMerge(merge_key)),
            })
            .collect(),
        Node::Scalar(_) => Err(YamlError::BadMerge(merge_key)),
    }
}

/// The mapping with merged keys placed where their `<<` was written, skipping keys the mapping
/// writes itself and keys an earlier merge already gave.
fn merge(entries: Vec<Entry>, written: &HashMap<String, MarkedScalarNode>) -> MarkedMappingNode {
    let mut seen: HashSet<String> = HashSet::new();
    let mut pairs: Vec<(MarkedScalarNode, Node)> = Vec::new();
    for entry in entries {
        match entry {
            Entry::Written(pair) => {
                let (key, value) = *pair;
                seen.insert(key.as_str().to_string());
                pairs.push((key, value));
            }
            Entry::Merged(maps) => {
                for map in maps {
                    for (key, value) in map.iter() {
                        let name = key.as_str();
                        if !written.contains_key(name) && seen.insert(name.to_string()) {
                            pairs.push((key.clone(), value.clone()));
                        }
                    }
                }
            }
        }
    }
    pairs.into_iter().collect()
}

fn size(node: &Node) -> usize {
    1 + match node {
        Node::Scalar(_) => 0,
        Node::Sequence(list) => list.iter().map(size).sum(),
        Node::Mapping(map) => map.values().map(size).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(node: &Node) -> Vec<String> {
        node.as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().to_string())
            .collect()
    }

    #[test]
    fn aliases_copy_the_anchored_node_with_its_location() {
        let root = parse(0, "a: &x {p: 1}\nb: *x\n").unwrap();
        let b = root.as_mapping().unwrap().get_node("b").unwrap();
        assert_eq!(
            b.as_mapping().unwrap().get_scalar("p").unwrap().as_str(),
            "1"
        );
        assert_eq!(b.span().start().unwrap().line(), 1);
    }

    #[test]
    fn merge_keys_give_way_to_written_keys_and_earlier_merges() {
        let text = "d1: &d1 {a: 1, b: 1}\nd2: &d2 {b: 2, c: 2}\nm:\n  <<: [*d1, *d2]\n  a: 0\n";
        let root = parse(0, text).unwrap();
        let m = root.as_mapping().unwrap().get_node("m").unwrap();
        assert_eq!(keys(m), ["b", "c", "a"]);
        let map = m.as_mapping().unwrap();
        let value = |k: &str| map.get_scalar(k).unwrap().as_str().to_string();
        assert_eq!(
            (value("a"), value("b"), value("c")),
            ("0".into(), "1".into(), "2".into())
        );
    }

    #[test]
    fn a_quoted_merge_key_is_an_ordinary_key() {
        let root = parse(0, "'<<': x\n").unwrap();
        assert_eq!(keys(&root), ["<<"]);
    }

    #[test]
    fn an_undefined_alias_is_an_error_at_the_alias() {
        match parse(0, "a: 1\nb: *nowhere\n") {
            Err(YamlError::UndefinedAlias { at, name }) => {
                assert_eq!((at.line(), at.column(), name.as_str()), (2, 4, "nowhere"))
            }
            other => panic!("expected an undefined alias, got {other:?}"),
        }
    }

    #[test]
    fn merging_a_scalar_is_refused_at_the_value() {
        match parse(0, "a: &s text\nb:\n  <<: *s\n") {
            Err(YamlError::BadMerge(at)) => assert_eq!((at.line(), at.column()), (3, 3)),
            other => panic!("expected a merge error, got {other:?}"),
        }
    }

    #[test]
    fn duplicate_written_keys_are_refused_but_merged_ones_are_not() {
        assert!(matches!(
            parse(0, "a: 1\na: 2\n"),
            Err(YamlError::DuplicateKey { .. })
        ));
        assert!(parse(0, "d: &d {a: 1}\nm: {<<: *d, a: 2}\n").is_ok());
    }

    #[test]
    fn two_merge_keys_in_one_mapping_are_a_duplicate_key() {
        match parse(0, "a: &a {x: 1}\nb: &b {x: 2}\nm:\n  <<: *a\n  <<: *b\n") {
            Err(YamlError::DuplicateKey { first, again }) => {
                let line = |n: &MarkedScalarNode| n.span().start().unwrap().line();
                assert_eq!((line(&first), line(&again)), (4, 5));
            }
            other => panic!("expected a duplicate key, got {other:?}"),
        }
    }

    #[test]
    fn a_quoted_value_is_located_at_its_text() {
        let root = parse(0, "a: \"xyz\"\nb: 'q'\n").unwrap();
        let column = |k: &str| {
            let node = root.as_mapping().unwrap().get_node(k).unwrap();
            node.span().start().unwrap().column()
        };
        assert_eq!((column("a"), column("b")), (5, 5));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        assert!(matches!(
            parse(0, &text),
            Err(YamlError::AliasesTooLarge(_))
        ));
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let text = format!("a:\n  {}x\n", "- ".repeat(1_000));
        let result = parse(0, &text);
        assert!(matches!(result, Err(YamlError::TooDeep(_))), "{result:?}");
    }
}
