//! Typed errors. Messages name the rule element at fault and where it is, so
//! `rules lint` output is actionable without opening a debugger.

use crate::yaml::Pos;

/// Why a rule (or a document of a rule file) could not be loaded or compiled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleError {
    #[error("YAML syntax error at {pos}: {message}")]
    Yaml { pos: Pos, message: String },
    /// The document is valid YAML but not a valid Sigma rule.
    #[error("{pos}: {message}")]
    Invalid { pos: Pos, message: String },
    #[error("{pos}: unsupported modifier '{modifier}' in '{key}'")]
    UnsupportedModifier {
        pos: Pos,
        key: String,
        modifier: String,
    },
    #[error("{pos}: bad condition '{condition}' at character {offset}: {message}")]
    Condition {
        pos: Pos,
        condition: String,
        offset: usize,
        message: String,
    },
    #[error("{pos}: invalid regular expression in '{key}': {message}")]
    Regex {
        pos: Pos,
        key: String,
        message: String,
    },
    #[error(
        "{pos}: unresolved placeholder '%{name}%' in '{key}' (pass it in the placeholder map)"
    )]
    UnresolvedPlaceholder { pos: Pos, key: String, name: String },
    /// A correlation or filter refers to a rule that is not loaded.
    #[error(
        "{pos}: rule reference '{reference}' names no loaded rule (unknown, or rejected itself)"
    )]
    UnknownReference { pos: Pos, reference: String },
}

impl RuleError {
    pub(crate) fn invalid(pos: Pos, message: impl Into<String>) -> Self {
        RuleError::Invalid {
            pos,
            message: message.into(),
        }
    }
}
