//! SQLite storage for the vault, ledger, keys and access log.
