//! Typed errors. Messages name the file and position and never quote data
//! values beyond the offending key or code.

use std::fmt;

/// A position in a catalogue file (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Why a catalogue could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("{path}{}: {message}", position.map(|p| format!(":{p}")).unwrap_or_default())]
    Parse {
        path: String,
        position: Option<Position>,
        message: String,
    },
    #[error("{path}: law id `{id}` is also defined in {other}")]
    DuplicateId {
        path: String,
        id: String,
        other: String,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// Why a scenario could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error(
        "affected[{index}].jurisdiction `{code}` is not an ISO 3166 country or subdivision code"
    )]
    UnknownJurisdiction { index: usize, code: String },
    #[error("a deadline falls outside the supported date range")]
    DateOutOfRange,
}
