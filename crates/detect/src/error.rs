//! Typed errors. Messages name the rule element at fault; [`RuleError::pos`]
//! says where it is, so `rules lint` prints `file:line:col: error: …` and is
//! actionable without opening a debugger.

use bulwark_model::Pos;

/// Why a rule (or a document of a rule file) could not be loaded or compiled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleError {
    /// The text is not YAML, or YAML that the loader refuses to build (an
    /// alias bomb, nesting too deep); `message` says which.
    #[error("{message}")]
    Yaml { pos: Pos, message: String },
    /// The document is valid YAML but not a valid Sigma rule.
    #[error("{message}")]
    Invalid { pos: Pos, message: String },
    #[error("unsupported modifier '{modifier}' in '{key}'")]
    UnsupportedModifier {
        pos: Pos,
        key: String,
        modifier: String,
    },
    #[error("bad condition '{condition}' at character {offset}: {message}")]
    Condition {
        pos: Pos,
        condition: String,
        offset: usize,
        message: String,
    },
    #[error("invalid regular expression in '{key}': {message}")]
    Regex {
        pos: Pos,
        key: String,
        message: String,
    },
    #[error("unresolved placeholder '%{name}%' in '{key}' (pass it in the placeholder map)")]
    UnresolvedPlaceholder { pos: Pos, key: String, name: String },
    /// A correlation or filter refers to a rule that is not loaded.
    #[error("rule reference '{reference}' names no loaded rule (unknown, or rejected itself)")]
    UnknownReference { pos: Pos, reference: String },
}

impl RuleError {
    pub(crate) fn invalid(pos: Pos, message: impl Into<String>) -> Self {
        RuleError::Invalid {
            pos,
            message: message.into(),
        }
    }

    /// Where in the rule file the problem is.
    pub fn pos(&self) -> Pos {
        match self {
            RuleError::Yaml { pos, .. }
            | RuleError::Invalid { pos, .. }
            | RuleError::UnsupportedModifier { pos, .. }
            | RuleError::Condition { pos, .. }
            | RuleError::Regex { pos, .. }
            | RuleError::UnresolvedPlaceholder { pos, .. }
            | RuleError::UnknownReference { pos, .. } => *pos,
        }
    }
}
