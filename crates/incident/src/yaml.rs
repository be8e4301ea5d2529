//! A small YAML tree that keeps each node's position, so that playbook errors
//! can point at the line and column of the offending value (generic loaders
//! drop positions once the document is built). Anchors and aliases are refused:
//! playbooks are short and hand-written, and aliases would make positions lie.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A 1-based position in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    /// `plain` is false for quoted scalars, which are always strings.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: NodeKind,
    pub pos: Pos,
}

impl Node {
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            NodeKind::Scalar { text, plain: true } => match text.as_str() {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { text, plain: true } if matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL"))
    }

    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar { .. } => "a scalar",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }
}

/// A syntax error with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct YamlError {
    pub pos: Pos,
    pub message: String,
}

/// Deeper nesting than any playbook needs is refused, which also keeps hostile
/// input from exhausting the stack.
const MAX_DEPTH: usize = 32;

fn to_pos(m: Marker) -> Pos {
    Pos {
        line: m.line(),
        column: m.col() + 1,
    }
}

/// Parses a single-document YAML text.
pub(crate) fn parse_document(text: &str) -> Result<Node, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    loop {
        let (ev, mark) = parser.next_token().map_err(|e| YamlError {
            pos: to_pos(*e.marker()),
            message: e.info().to_string(),
        })?;
        let end = ev == Event::StreamEnd;
        builder.on_event(ev, mark);
        if let Some(err) = builder.error.take() {
            return Err(err);
        }
        if builder.stack.len() > MAX_DEPTH {
            return Err(YamlError {
                pos: to_pos(mark),
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
        }
        if end {
            break;
        }
    }
    let mut docs = builder.docs.into_iter();
    let first = docs.next().ok_or(YamlError {
        pos: Pos { line: 1, column: 1 },
        message: "the file is empty".into(),
    })?;
    if let Some(second) = docs.next() {
        return Err(YamlError {
            pos: second.pos,
            message: "one playbook per file: found a second YAML document".into(),
        });
    }
    Ok(first)
}

enum Frame {
    Seq(Vec<Node>, Pos),
    /// Entries plus a pending key.
    Map(Vec<(Node, Node)>, Option<Node>, Pos),
}

#[derive(Default)]
struct Builder {
    docs: Vec<Node>,
    stack: Vec<Frame>,
    error: Option<YamlError>,
}

impl Builder {
    fn fail(&mut self, pos: Pos, message: &str) {
        if self.error.is_none() {
            self.error = Some(YamlError {
                pos,
                message: message.to_owned(),
            });
        }
    }

    fn push_node(&mut self, node: Node) {
        let mut dup = None;
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Frame::Seq(items, _)) => items.push(node),
            Some(Frame::Map(entries, key, _)) => match key.take() {
                None => {
                    if entries
                        .iter()
                        .any(|(k, _)| k.as_str().is_some() && k.as_str() == node.as_str())
                    {
                        dup = Some((node.pos, node.as_str().unwrap_or("").to_owned()));
                    }
                    *key = Some(node);
                }
                Some(k) => entries.push((k, node)),
            },
        }
        if let Some((pos, key)) = dup {
            self.fail(pos, &format!("duplicate key `{key}`"));
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let pos = to_pos(mark);
        match ev {
            Event::Scalar(text, style, anchor, _tag) => {
                if anchor != 0 {
                    self.fail(pos, "anchors and aliases are not supported in playbooks");
                }
                let plain = matches!(style, TScalarStyle::Plain);
                self.push_node(Node {
                    kind: NodeKind::Scalar { text, plain },
                    pos,
                });
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) if anchor != 0 => {
                self.fail(pos, "anchors and aliases are not supported in playbooks");
            }
            Event::SequenceStart(..) => self.stack.push(Frame::Seq(Vec::new(), pos)),
            Event::MappingStart(..) => self.stack.push(Frame::Map(Vec::new(), None, pos)),
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Frame::Seq(items, pos)) => Node {
                        kind: NodeKind::Seq(items),
                        pos,
                    },
                    Some(Frame::Map(entries, _, pos)) => Node {
                        kind: NodeKind::Map(entries),
                        pos,
                    },
                    None => return,
                };
                self.push_node(node);
            }
            Event::Alias(_) => self.fail(pos, "anchors and aliases are not supported in playbooks"),
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions() {
        let doc = parse_document("a: 1\nb:\n  - x\n  - 'y'\n").unwrap();
        let map = doc.as_map().unwrap();
        assert_eq!(
            map[1].1.as_seq().unwrap()[1].pos,
            Pos { line: 4, column: 5 }
        );
    }

    #[test]
    fn rejects_duplicates_and_aliases() {
        let e = parse_document("a: 1\na: 2\n").unwrap_err();
        assert_eq!((e.pos.line, e.message.as_str()), (2, "duplicate key `a`"));
        assert!(parse_document("a: &x 1\nb: *x\n").is_err());
    }

    #[test]
    fn syntax_error_has_position() {
        let e = parse_document("a: b\n  c: [\n").unwrap_err();
        assert!(e.pos.line >= 2, "{e:?}");
    }
}
