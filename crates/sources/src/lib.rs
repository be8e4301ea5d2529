//! The store's own databases as discovery reads them (issue 15): the schema
//! and bounded samples of each column, through a connection that cannot
//! write. Part of the shell: it does I/O; `bulwark-discover` decides what the
//! samples are.
//!
//! DSNs: `sqlite:///path/to/shop.db` (or a plain path ending in `.db`,
//! `.sqlite`, `.sqlite3`) and `mysql://user:password@host:port/database`
//! (MySQL and MariaDB; an account that can write is refused unless the
//! caller allows it). PostgreSQL (`postgres://`) is named in the issue and
//! not built yet: it is refused with a message saying so.
//!
//! Sampled values are handed to the engine and dropped; nothing here logs,
//! prints or keeps them. Errors name tables and columns, never values.
#![forbid(unsafe_code)]

mod mysql;
mod sqlite;

use bulwark_discover::classify::{self, ColumnReport, Options};
use bulwark_discover::findings::{self, Finding};
use serde::Serialize;

pub use mysql::Mysql;
pub use sqlite::Sqlite;

/// Most values sampled per column by default.
pub const DEFAULT_SAMPLE: usize = 200;
/// Most values sampled per column at all.
pub const MAX_SAMPLE: usize = 100_000;
/// Most tables read from one database.
pub const MAX_TABLES: usize = 5000;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Only the scheme is named: a DSN may carry a password.
    #[error("`{0}` DSNs are not read by this build: give sqlite:///path/to/file.db")]
    Unknown(String),
    #[error("{0} databases are not supported yet (issue 15 is in progress): SQLite files and MySQL/MariaDB are read for now")]
    NotBuilt(&'static str),
    #[error("{0}: this account can write (INSERT, UPDATE, DELETE or more); give discovery a reporting account with SELECT only, or --i-know to read with this one in a read-only session")]
    CanWrite(String),
    #[error("cannot open {path} read-only: {reason}")]
    Open { path: String, reason: String },
    #[error("reading {what}: {reason}")]
    Read { what: String, reason: String },
    #[error("--sample must be 1 to {MAX_SAMPLE}")]
    BadSample,
}

/// A column as the schema declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnInfo {
    pub name: String,
    pub declared_type: String,
}

/// A table and its columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableInfo {
    pub name: String,
    pub columns: Vec<ColumnInfo>,
    pub rows: u64,
}

/// A database discovery can read.
pub trait Source {
    /// What it is, for reports (`sqlite:shop.db`), without credentials.
    fn label(&self) -> String;
    fn tables(&mut self) -> Result<Vec<TableInfo>, SourceError>;
    /// Up to `limit` non-null values of a column as text, spread over the table.
    fn sample(
        &mut self,
        table: &TableInfo,
        column: &str,
        limit: usize,
    ) -> Result<Vec<String>, SourceError>;
    /// Up to `limit` `(key, value)` rows of a key-value table.
    fn sample_pairs(
        &mut self,
        table: &TableInfo,
        key: &str,
        value: &str,
        limit: usize,
    ) -> Result<Vec<(String, String)>, SourceError>;
}

/// Opens a DSN read-only. `allow_write`: read with an account that could
/// write (its session is still read-only).
pub fn open(dsn: &str, allow_write: bool) -> Result<Box<dyn Source>, SourceError> {
    let lower = dsn.to_ascii_lowercase();
    if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
        return Ok(Box::new(Mysql::open(dsn, allow_write)?));
    }
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        return Err(SourceError::NotBuilt("PostgreSQL"));
    }
    let path = if let Some(rest) = dsn.strip_prefix("sqlite://") {
        rest.to_owned()
    } else if [".db", ".sqlite", ".sqlite3"]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        dsn.to_owned()
    } else {
        let scheme = dsn
            .split_once("://")
            .map(|(s, _)| format!("{}://", s.chars().take(20).collect::<String>()))
            .unwrap_or_else(|| "this kind of".to_owned());
        return Err(SourceError::Unknown(scheme));
    };
    Ok(Box::new(Sqlite::open(&path)?))
}

/// What discovery found in one database.
#[derive(Debug, Clone, Serialize)]
pub struct Discovery {
    pub source: String,
    pub tables: usize,
    pub columns_read: usize,
    /// Columns (and keys of key-value tables, paths of JSON columns) that hold
    /// personal data, most confident first.
    pub columns: Vec<ColumnReport>,
    pub findings: Vec<Finding>,
}

/// A key-value table's key and value columns, if it is one (`meta_key` and
/// `meta_value`, as WordPress and WooCommerce keep them).
fn key_value_columns(t: &TableInfo) -> Option<(&str, &str)> {
    let has = |n: &str| t.columns.iter().any(|c| c.name.eq_ignore_ascii_case(n));
    [
        ("meta_key", "meta_value"),
        ("option_name", "option_value"),
        ("attribute_code", "value"),
    ]
    .into_iter()
    .find(|(k, v)| has(k) && has(v))
}

fn looks_json(declared: &str, samples: &[String]) -> bool {
    let d = declared.to_ascii_lowercase();
    d.contains("json")
        || (!samples.is_empty()
            && samples.iter().all(|s| {
                let t = s.trim_start();
                t.starts_with('{') || t.starts_with('[')
            }))
}

/// Reads every table of `source` and classifies its columns. `progress` is
/// called after each table with (done, total).
pub fn discover(
    source: &mut dyn Source,
    sample: usize,
    opts: Options,
    mut progress: impl FnMut(usize, usize),
) -> Result<Discovery, SourceError> {
    if sample == 0 || sample > MAX_SAMPLE {
        return Err(SourceError::BadSample);
    }
    let tables = source.tables()?;
    let mut columns = Vec::new();
    let mut read = 0usize;
    for (i, t) in tables.iter().enumerate() {
        if let Some((k, v)) = key_value_columns(t) {
            let pairs = source.sample_pairs(t, k, v, sample.saturating_mul(20))?;
            read += 1;
            columns.extend(classify::key_values(
                &t.name,
                v,
                pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())),
                opts,
            ));
        }
        for c in &t.columns {
            if key_value_columns(t).is_some_and(|(k, v)| c.name == k || c.name == v) {
                continue;
            }
            let values = source.sample(t, &c.name, sample)?;
            read += 1;
            if looks_json(&c.declared_type, &values) {
                columns.extend(classify::json_column(
                    &t.name,
                    &c.name,
                    values.iter().map(String::as_str),
                    opts,
                ));
            } else {
                columns.push(classify::column(
                    &t.name,
                    &c.name,
                    values.iter().map(String::as_str),
                    opts,
                ));
            }
        }
        progress(i + 1, tables.len());
    }
    let findings: Vec<Finding> = columns.iter().flat_map(findings::of).collect();
    columns.retain(|c| c.element.is_some());
    columns.sort_by(|a, b| {
        b.confidence
            .cmp(&a.confidence)
            .then(a.table.cmp(&b.table))
            .then(a.column.cmp(&b.column))
    });
    Ok(Discovery {
        source: source.label(),
        tables: tables.len(),
        columns_read: read,
        columns,
        findings,
    })
}
