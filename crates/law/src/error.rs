//! Typed errors. Messages name the file and position and never quote data
//! values beyond the offending key or code.

use bulwark_model::Pos;

/// Why a catalogue could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("{path}{}: {message}", position.map(|p| format!(":{p}")).unwrap_or_default())]
    Parse {
        path: String,
        position: Option<Pos>,
        message: String,
    },
    #[error("{path}: law id `{id}` is also defined in {other}")]
    DuplicateId {
        path: String,
        id: String,
        other: String,
    },
    #[error("{path}{}: {message}", position.map(|p| format!(":{p}")).unwrap_or_default())]
    Invalid {
        path: String,
        position: Option<Pos>,
        message: String,
    },
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
