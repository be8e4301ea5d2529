//! A small YAML tree for Bulwark's hand-edited data files (Sigma rules,
//! playbooks). It keeps what generic loaders lose:
//! - the position of every node ([`Pos`]), so a finding points at its line and column;
//! - whether a scalar was written plainly or quoted, so `0x17` written plainly
//!   can still be compared as the text the author wrote, while only plain
//!   scalars can be null, booleans or numbers ([`Node::scalar`], YAML 1.2 core
//!   schema);
//!
//! and it refuses what would let a hostile file exhaust memory or the stack:
//! nesting deeper than [`Options::max_depth`], and aliases that would expand
//! past [`Aliases::Expand`]'s node budget (a "billion laughs" document is
//! refused after building at most that many nodes).
//!
//! Pure: text in, tree or positioned error out.
#![forbid(unsafe_code)]

mod build;
mod node;

pub use build::{parse_document, parse_documents};
pub use bulwark_model::Pos;
pub use node::{Node, NodeKind, Scalar};

/// How much a document may ask of the loader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The deepest nesting of sequences and mappings accepted, counting
    /// nodes copied in by aliases.
    pub max_depth: usize,
    pub aliases: Aliases,
    pub duplicate_keys: DuplicateKeys,
}

/// What to do with anchors (`&a`) and aliases (`*a`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aliases {
    /// Copy the anchored node at each alias, as long as all copies in the file
    /// together add at most `max_nodes` nodes. The count is checked before a
    /// copy is made, so refusing costs no more than the budget.
    Expand { max_nodes: usize },
    /// Any anchor or alias is an error (files where sharing would only make
    /// positions harder to follow).
    Refuse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DuplicateKeys {
    /// Keep every entry; [`Node::get`] finds the first.
    Keep,
    /// A key given twice in one mapping is an error.
    Refuse,
}

impl Default for Options {
    /// 64 levels and 100,000 alias-copied nodes: far beyond any real rule or
    /// playbook (SigmaHQ rules nest under 10 levels and rarely use aliases),
    /// yet small enough that the worst case is a few megabytes and milliseconds.
    fn default() -> Self {
        Options {
            max_depth: 64,
            aliases: Aliases::Expand { max_nodes: 100_000 },
            duplicate_keys: DuplicateKeys::Keep,
        }
    }
}

/// Why a text is not an acceptable YAML document, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pos}: {kind}")]
pub struct YamlError {
    pub pos: Pos,
    pub kind: ErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    /// The parser's own message (it names YAML syntax, never data).
    #[error("{0}")]
    Syntax(String),
    #[error("nesting deeper than {0} levels")]
    TooDeep(usize),
    #[error("aliases would copy more than {0} nodes; expand them by hand if this is intended")]
    AliasBudget(usize),
    #[error("an alias refers to the node that contains it")]
    RecursiveAlias,
    #[error("anchors and aliases are not supported")]
    AliasRefused,
    #[error("duplicate key `{0}`")]
    DuplicateKey(String),
    #[error("the file is empty")]
    Empty,
    #[error("found a second YAML document where one was expected")]
    SecondDocument,
}
