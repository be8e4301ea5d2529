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
//! past [`Aliases::Expand`]'s budgets of nodes and of bytes (a "billion
//! laughs" document is refused after copying at most that many nodes and
//! bytes; anchoring itself copies nothing, so memory stays within the input's
//! tree plus the budgets).
//!
//! Pure: text in, tree or positioned error out.
#![forbid(unsafe_code)]

mod build;
mod node;

pub use build::{parse_document, parse_documents};
pub use bulwark_model::Pos;
pub use node::{Node, NodeKind, Scalar};

/// How much a document may ask of the loader.
///
/// The default ([`Options::default`]) bounds what aliases may copy by two
/// budgets, both checked before a copy is made:
/// - **nodes**: 100,000 nodes copied by aliases, over the whole stream;
/// - **bytes**: 16 MiB ([`DEFAULT_ALIAS_BYTES`]) of scalar text (keys and
///   values) copied by aliases, over the whole stream. The node count alone
///   does not bound memory: one anchored 1 MiB scalar copied by 100,000
///   aliases is 100,000 nodes but 100 GB.
///
/// A refused document costs at most its own tree plus those budgets (a few
/// tens of megabytes), refused in milliseconds; the error says which budget
/// ([`ErrorKind::AliasBudget`], [`ErrorKind::AliasBytes`]) and quotes nothing
/// of the file's content.
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
    /// together add at most `max_nodes` nodes and at most `max_bytes` bytes of
    /// scalar text. Both are checked before a copy is made, so refusing costs
    /// no more than the budgets.
    Expand { max_nodes: usize, max_bytes: usize },
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

/// The default byte budget of [`Aliases::Expand`]: 16 MiB of copied text.
pub const DEFAULT_ALIAS_BYTES: usize = 16 << 20;

/// The default node budget of [`Aliases::Expand`].
pub const DEFAULT_ALIAS_NODES: usize = 100_000;

impl Default for Options {
    /// 64 levels, 100,000 alias-copied nodes and 16 MiB of alias-copied text:
    /// far beyond any real rule or playbook (SigmaHQ rules nest under 10
    /// levels and rarely use aliases), yet small enough that the worst case is
    /// some tens of megabytes and milliseconds.
    fn default() -> Self {
        Options {
            max_depth: 64,
            aliases: Aliases::Expand {
                max_nodes: DEFAULT_ALIAS_NODES,
                max_bytes: DEFAULT_ALIAS_BYTES,
            },
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
    #[error("aliases would copy more than {0} nodes (an alias bomb?); expand them by hand if this is intended")]
    AliasBudget(usize),
    /// The byte budget: the text that aliases copy.
    #[error("aliases would copy more than {} of text (an alias bomb?); expand them by hand if this is intended", human_bytes(*.0))]
    AliasBytes(usize),
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

/// `16 MiB`, `1.5 KiB`, `700 bytes`: for messages.
fn human_bytes(n: usize) -> String {
    const UNITS: [(&str, usize); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if n >= size {
            return if n.is_multiple_of(size) {
                format!("{} {unit}", n / size)
            } else {
                format!("{:.1} {unit}", n as f64 / size as f64)
            };
        }
    }
    format!("{n} bytes")
}
