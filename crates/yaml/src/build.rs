//! Building the tree from parser events, enforcing the [`Options`] bounds as
//! the events arrive (so a hostile document is refused before it is built).

use std::collections::{HashMap, HashSet};

use bulwark_model::Pos;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::node::{Node, NodeKind};
use crate::{Aliases, DuplicateKeys, ErrorKind, Options, YamlError};

/// Parses every document of a YAML stream.
pub fn parse_documents(text: &str, options: &Options) -> Result<Vec<Node>, YamlError> {
    let mut builder = Builder::new(*options);
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, mark) = parser.next_token().map_err(|e| YamlError {
            pos: to_pos(*e.marker()),
            kind: ErrorKind::Syntax(e.info().to_owned()),
        })?;
        if event == Event::StreamEnd {
            break;
        }
        builder.event(event, to_pos(mark))?;
    }
    Ok(builder.docs)
}

/// Parses a text that must hold exactly one document.
pub fn parse_document(text: &str, options: &Options) -> Result<Node, YamlError> {
    let mut docs = parse_documents(text, options)?.into_iter();
    let first = docs.next().ok_or(YamlError {
        pos: Pos::START,
        kind: ErrorKind::Empty,
    })?;
    match docs.next() {
        Some(second) => Err(YamlError {
            pos: second.pos,
            kind: ErrorKind::SecondDocument,
        }),
        None => Ok(first),
    }
}

fn to_pos(m: Marker) -> Pos {
    // yaml-rust2 counts lines from 1 and columns from 0.
    Pos::new(m.line(), m.col() + 1)
}

/// A finished node with what the bounds need to know about it.
struct Built {
    node: Node,
    /// Nodes in the subtree, itself included.
    size: usize,
    /// Levels of collections in the subtree: 0 for a scalar.
    height: usize,
}

enum Body {
    Seq(Vec<Node>),
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        /// Keys seen so far, kept only when duplicates are refused.
        seen: Option<HashSet<String>>,
    },
}

struct Frame {
    body: Body,
    pos: Pos,
    anchor: usize,
    size: usize,
    child_height: usize,
}

struct Builder {
    options: Options,
    docs: Vec<Node>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Built>,
    /// Nodes copied by aliases so far in this stream.
    copied: usize,
}

impl Builder {
    fn new(options: Options) -> Self {
        Builder {
            options,
            docs: Vec::new(),
            stack: Vec::new(),
            anchors: HashMap::new(),
            copied: 0,
        }
    }

    fn event(&mut self, event: Event, pos: Pos) -> Result<(), YamlError> {
        let fail = |kind| Err(YamlError { pos, kind });
        match event {
            Event::Scalar(text, style, anchor, _tag) => {
                self.check_anchor(anchor, pos)?;
                let plain = matches!(style, TScalarStyle::Plain);
                self.finish(
                    Built {
                        node: Node {
                            kind: NodeKind::Scalar { text, plain },
                            pos,
                        },
                        size: 1,
                        height: 0,
                    },
                    anchor,
                )
            }
            Event::SequenceStart(anchor, _) => self.open(Body::Seq(Vec::new()), anchor, pos),
            Event::MappingStart(anchor, _) => {
                let seen = match self.options.duplicate_keys {
                    DuplicateKeys::Refuse => Some(HashSet::new()),
                    DuplicateKeys::Keep => None,
                };
                let body = Body::Map {
                    entries: Vec::new(),
                    key: None,
                    seen,
                };
                self.open(body, anchor, pos)
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(());
                };
                let (kind, pos) = match frame.body {
                    Body::Seq(items) => (NodeKind::Seq(items), frame.pos),
                    Body::Map { entries, .. } => {
                        // The parser marks a block mapping at its first `:`;
                        // the mapping starts at its first key.
                        let pos = entries
                            .first()
                            .map_or(frame.pos, |(k, _)| k.pos.min(frame.pos));
                        (NodeKind::Map(entries), pos)
                    }
                };
                let built = Built {
                    node: Node { kind, pos },
                    size: frame.size,
                    height: frame.child_height + 1,
                };
                self.finish(built, frame.anchor)
            }
            Event::Alias(id) => {
                let Aliases::Expand { max_nodes } = self.options.aliases else {
                    return fail(ErrorKind::AliasRefused);
                };
                if self.stack.iter().any(|f| f.anchor == id) {
                    return fail(ErrorKind::RecursiveAlias);
                }
                let Some(target) = self.anchors.get(&id) else {
                    return fail(ErrorKind::Syntax(
                        "alias refers to an unknown anchor".into(),
                    ));
                };
                if self.stack.len() + target.height > self.options.max_depth {
                    return fail(ErrorKind::TooDeep(self.options.max_depth));
                }
                // Checked before copying: a refused bomb costs at most the budget.
                if self.copied.saturating_add(target.size) > max_nodes {
                    return fail(ErrorKind::AliasBudget(max_nodes));
                }
                let mut node = target.node.clone();
                node.pos = pos;
                let (size, height) = (target.size, target.height);
                self.copied += size;
                self.finish(Built { node, size, height }, 0)
            }
            Event::DocumentStart => {
                // Anchors are scoped to their document (the parser forgets the names too).
                self.anchors.clear();
                Ok(())
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => Ok(()),
        }
    }

    fn check_anchor(&self, anchor: usize, pos: Pos) -> Result<(), YamlError> {
        if anchor != 0 && self.options.aliases == Aliases::Refuse {
            return Err(YamlError {
                pos,
                kind: ErrorKind::AliasRefused,
            });
        }
        Ok(())
    }

    fn open(&mut self, body: Body, anchor: usize, pos: Pos) -> Result<(), YamlError> {
        self.check_anchor(anchor, pos)?;
        if self.stack.len() >= self.options.max_depth {
            return Err(YamlError {
                pos,
                kind: ErrorKind::TooDeep(self.options.max_depth),
            });
        }
        self.stack.push(Frame {
            body,
            pos,
            anchor,
            size: 1,
            child_height: 0,
        });
        Ok(())
    }

    /// Places a finished node in its parent (or as a document) and remembers
    /// it under its anchor.
    fn finish(&mut self, built: Built, anchor: usize) -> Result<(), YamlError> {
        if anchor != 0 {
            let copy = Built {
                node: built.node.clone(),
                size: built.size,
                height: built.height,
            };
            self.anchors.insert(anchor, copy);
        }
        let Some(frame) = self.stack.last_mut() else {
            self.docs.push(built.node);
            return Ok(());
        };
        frame.size = frame.size.saturating_add(built.size);
        frame.child_height = frame.child_height.max(built.height);
        match &mut frame.body {
            Body::Seq(items) => items.push(built.node),
            Body::Map { entries, key, seen } => match key.take() {
                Some(k) => entries.push((k, built.node)),
                None => {
                    if let (Some(seen), Some(text)) = (seen.as_mut(), built.node.as_str()) {
                        if !seen.insert(text.to_owned()) {
                            return Err(YamlError {
                                pos: built.node.pos,
                                kind: ErrorKind::DuplicateKey(text.chars().take(64).collect()),
                            });
                        }
                    }
                    *key = Some(built.node);
                }
            },
        }
        Ok(())
    }
}
