//! Errors. [`StoreError`] is what can go wrong underneath any operation — the
//! database, the files, the keyring, corrupt stored data. Each operation a
//! caller must answer differently for has its own error type (in the module
//! of the operation, e.g. [`RevealError`](crate::RevealError)) carrying its
//! causes and, with `#[from]`, a `StoreError` for the rest. Messages name
//! fields, ids and files, never a value.

use std::sync::Arc;

/// A failure of the storage itself: nothing the caller asked for was wrong.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Vault(#[from] bulwark_vault::VaultError),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    DataFile(#[from] crate::DataFileError),
    #[error("{0} is not a Bulwark data directory (run `bulwark init --data-dir {0}` first)")]
    NotInitialised(String),
    #[error("{0} already exists and is not empty; refusing to initialise over it")]
    AlreadyExists(String),
    #[error("the data directory was written by schema version {found}; this binary knows {known}")]
    SchemaVersion { found: i64, known: i64 },
    #[error(
        "this operation needs the unlocked keyring (set BULWARK_PASSPHRASE or BULWARK_KEY_FILE)"
    )]
    Locked,
    /// The batch's transaction could not begin or commit; nothing of it was written.
    #[error("the database is unavailable, nothing was written: {0}")]
    Unavailable(#[source] Arc<StoreError>),
    #[error("cannot start the writer thread: {0}")]
    WriterStart(#[source] std::io::Error),
    #[error("the writer has stopped; the server is shutting down")]
    WriterGone,
    /// Stored data that does not have the shape this binary wrote; names what.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(what.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Lets `?` carry the storage's own failures (SQLite, the vault's crypto) into
/// an operation's error through its `Store` variant.
macro_rules! storage_causes {
    ($($t:ty),* $(,)?) => {
        $(
            impl From<rusqlite::Error> for $t {
                fn from(e: rusqlite::Error) -> Self {
                    <$t>::Store(StoreError::from(e))
                }
            }
            impl From<bulwark_vault::VaultError> for $t {
                fn from(e: bulwark_vault::VaultError) -> Self {
                    <$t>::Store(StoreError::from(e))
                }
            }
        )*
    };
}

storage_causes!(
    crate::CustomerWriteError,
    crate::CustomerError,
    crate::RevealError,
    crate::LookupError,
    crate::AuthError,
    crate::CreateKeyError,
    crate::RevokeKeyError,
    crate::IncidentReadError,
    crate::OpenIncidentError,
    crate::IncidentChangeError,
    crate::AutoOpenError,
    crate::ContainError,
    crate::EvidenceError,
    crate::ScopeQueryError,
    crate::VerifyLedgerError,
    crate::SetMinVersionError,
    crate::AlertQueryError,
    crate::AddWebhookError,
    crate::WebhookError,
    crate::RenderNoticesError,
    crate::ApproveNoticesError,
    crate::OutboxError,
    crate::OperatorError,
    crate::EnrolError,
    crate::LoginError,
    crate::SessionError,
    crate::StepUpError,
    crate::PasswordChangeError,
);
