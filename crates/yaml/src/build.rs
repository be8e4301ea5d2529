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
    /// Bytes of scalar text in the subtree (keys included).
    bytes: usize,
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

/// Where a finished node sits inside its parent: an item of a sequence, or
/// the key or value of a mapping's entry (`Key(entries.len())` is the key
/// still waiting for its value).
#[derive(Debug, Clone, Copy)]
enum Step {
    Item(usize),
    Key(usize),
    Value(usize),
}

/// An anchored node, found again through the tree rather than kept as a
/// copy: copying at every anchor would let nested anchors multiply memory
/// without any alias (each level copying everything inside it).
struct Anchor {
    /// The serial of the frame the node was placed in, and where in it.
    frame: usize,
    step: Step,
    size: usize,
    height: usize,
    bytes: usize,
}

struct Frame {
    /// Serial number, increasing from the bottom of the stack to the top.
    id: usize,
    body: Body,
    pos: Pos,
    anchor: usize,
    size: usize,
    child_height: usize,
    bytes: usize,
    /// Whether an anchored node sits somewhere inside (then where this frame
    /// ends up is recorded, so the anchor can be found from the stack).
    holds_anchors: bool,
}

struct Builder {
    options: Options,
    docs: Vec<Node>,
    stack: Vec<Frame>,
    next_frame: usize,
    /// Anchors of the current document by the parser's anchor id.
    anchors: HashMap<usize, Anchor>,
    /// For each finished frame that holds anchors: the frame it was placed
    /// in, and where.
    placed: HashMap<usize, (usize, Step)>,
    /// Nodes copied by aliases so far in this stream.
    copied: usize,
    /// Bytes of scalar text copied by aliases so far in this stream.
    copied_bytes: usize,
}

impl Builder {
    fn new(options: Options) -> Self {
        Builder {
            options,
            docs: Vec::new(),
            stack: Vec::new(),
            next_frame: 0,
            anchors: HashMap::new(),
            placed: HashMap::new(),
            copied: 0,
            copied_bytes: 0,
        }
    }

    fn event(&mut self, event: Event, pos: Pos) -> Result<(), YamlError> {
        let fail = |kind| Err(YamlError { pos, kind });
        match event {
            Event::Scalar(text, style, anchor, _tag) => {
                self.check_anchor(anchor, pos)?;
                let plain = matches!(style, TScalarStyle::Plain);
                let bytes = text.len();
                let built = Built {
                    node: Node {
                        kind: NodeKind::Scalar { text, plain },
                        pos,
                    },
                    size: 1,
                    height: 0,
                    bytes,
                };
                self.finish(built, anchor, None)
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
                    bytes: frame.bytes,
                };
                let inner = frame.holds_anchors.then_some(frame.id);
                self.finish(built, frame.anchor, inner)
            }
            Event::Alias(id) => {
                let Aliases::Expand {
                    max_nodes,
                    max_bytes,
                } = self.options.aliases
                else {
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
                // Checked before copying: a refused bomb costs at most the
                // budgets. Nodes bound the tree's shape, bytes the text in it
                // (one anchored megabyte copied a thousand times is few nodes).
                if self.copied.saturating_add(target.size) > max_nodes {
                    return fail(ErrorKind::AliasBudget(max_nodes));
                }
                if self.copied_bytes.saturating_add(target.bytes) > max_bytes {
                    return fail(ErrorKind::AliasBytes(max_bytes));
                }
                let (size, height, bytes) = (target.size, target.height, target.bytes);
                let Some(found) = self.anchored(target) else {
                    return fail(ErrorKind::Syntax(
                        "alias refers to an unknown anchor".into(),
                    ));
                };
                let mut node = found.clone();
                node.pos = pos;
                self.copied += size;
                self.copied_bytes += bytes;
                let built = Built {
                    node,
                    size,
                    height,
                    bytes,
                };
                self.finish(built, 0, None)
            }
            Event::DocumentStart => {
                // Anchors are scoped to their document (the parser forgets the names too).
                self.anchors.clear();
                self.placed.clear();
                Ok(())
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => Ok(()),
        }
    }

    /// The anchored node, found from the open frame it ended up in.
    fn anchored(&self, anchor: &Anchor) -> Option<&Node> {
        let mut steps = vec![anchor.step];
        let mut frame = anchor.frame;
        let top = loop {
            // Serials grow up the stack.
            if let Ok(i) = self.stack.binary_search_by_key(&frame, |f| f.id) {
                break &self.stack[i];
            }
            let (parent, step) = *self.placed.get(&frame)?;
            steps.push(step);
            frame = parent;
        };
        let mut steps = steps.into_iter().rev();
        let mut node = match (&top.body, steps.next()?) {
            (Body::Seq(items), Step::Item(i)) => items.get(i)?,
            (Body::Map { entries, key, .. }, Step::Key(i)) => match entries.get(i) {
                Some((k, _)) => k,
                None if i == entries.len() => key.as_ref()?,
                None => return None,
            },
            (Body::Map { entries, .. }, Step::Value(i)) => &entries.get(i)?.1,
            _ => return None,
        };
        for step in steps {
            node = match (&node.kind, step) {
                (NodeKind::Seq(items), Step::Item(i)) => items.get(i)?,
                (NodeKind::Map(entries), Step::Key(i)) => &entries.get(i)?.0,
                (NodeKind::Map(entries), Step::Value(i)) => &entries.get(i)?.1,
                _ => return None,
            };
        }
        Some(node)
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
        self.next_frame += 1;
        self.stack.push(Frame {
            id: self.next_frame,
            body,
            pos,
            anchor,
            size: 1,
            child_height: 0,
            bytes: 0,
            holds_anchors: false,
        });
        Ok(())
    }

    /// Places a finished node in its parent (or as a document) and remembers
    /// where it went if it is anchored or holds anchored nodes (`inner`: the
    /// serial of the frame it was built in).
    fn finish(
        &mut self,
        built: Built,
        anchor: usize,
        inner: Option<usize>,
    ) -> Result<(), YamlError> {
        let Some(frame) = self.stack.last_mut() else {
            // A document: its anchors cannot be referred to any more.
            self.docs.push(built.node);
            return Ok(());
        };
        frame.size = frame.size.saturating_add(built.size);
        frame.bytes = frame.bytes.saturating_add(built.bytes);
        frame.child_height = frame.child_height.max(built.height);
        let step = match &mut frame.body {
            Body::Seq(items) => {
                items.push(built.node);
                Step::Item(items.len() - 1)
            }
            Body::Map { entries, key, seen } => match key.take() {
                Some(k) => {
                    entries.push((k, built.node));
                    Step::Value(entries.len() - 1)
                }
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
                    Step::Key(entries.len())
                }
            },
        };
        let parent = frame.id;
        if let Some(child) = inner {
            self.placed.insert(child, (parent, step));
            frame.holds_anchors = true;
        }
        if anchor != 0 {
            let anchor_record = Anchor {
                frame: parent,
                step,
                size: built.size,
                height: built.height,
                bytes: built.bytes,
            };
            self.anchors.insert(anchor, anchor_record);
            frame.holds_anchors = true;
        }
        Ok(())
    }
}
