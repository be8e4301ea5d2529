use bulwark_model::DataElement;

/// Storage and vault-operation errors. Messages name fields and ids, never values.
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
    #[error("invalid input: {0}")]
    Invalid(#[from] crate::ValidationErrors),
    #[error("customer {0} not found")]
    CustomerNotFound(uuid::Uuid),
    #[error("another customer already has this external_id")]
    DuplicateExternalId,
    #[error("API key {0} not found")]
    KeyNotFound(String),
    #[error("reveal refused: {0}")]
    Denied(crate::Denial),
    #[error("incident {0} not found")]
    IncidentNotFound(u64),
    #[error("{0}")]
    Incident(String),
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("the writer has stopped; the server is shutting down")]
    WriterGone,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("ledger: {0}")]
    Ledger(String),
    #[error("{0} ciphertexts are still sealed below version {1}; run `bulwark keys rewrap` first")]
    VersionsRemain(u64, u32),
    #[error("data element {0} cannot be stored: {1}")]
    ElementRefused(DataElement, &'static str),
    #[error("notices: {0}")]
    Notice(String),
    /// Asset names are system names from the operator's inventory, not personal data.
    #[error("{}", unknown_asset(.name, .known))]
    UnknownAsset { name: String, known: Vec<String> },
}

fn unknown_asset(name: &str, known: &[String]) -> String {
    if known.is_empty() {
        format!("no asset named `{name}`: the asset inventory is empty (add systems with `bulwark assets add`)")
    } else {
        format!(
            "no asset named `{name}` in the inventory; known: {}",
            known.join(", ")
        )
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
