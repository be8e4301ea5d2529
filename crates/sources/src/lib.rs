//! The store's own databases as discovery reads them (issue 15): the schema
//! and bounded samples of each column, through a connection that cannot
//! write. Part of the shell: it does I/O; `bulwark-discover` decides what the
//! samples are.
//!
//! DSNs: `sqlite:///path/to/shop.db` (or a plain path ending in `.db`,
//! `.sqlite`, `.sqlite3`), `mysql://user:password@host:port/database` (MySQL
//! and MariaDB) and `postgres://user:password@host:port/database` (the
//! current schema). An account that can write is refused unless the caller
//! allows it, and sessions are read-only either way.
//!
//! Sampled values are handed to the engine and dropped; nothing here logs,
//! prints or keeps them. Errors name tables and columns, never values.
#![forbid(unsafe_code)]

pub mod import;
mod mysql;
mod postgres;
mod sqlite;

use bulwark_discover::classify::{self, ColumnReport, Options};
use bulwark_discover::findings::{self, Finding};
use bulwark_discover::residency::Names;
use bulwark_discover::subjects::{
    self, Counts, ForeignKey, KvShape, Plan, Scan, ScanKind, Subject, TableShape, Tally,
};
use serde::Serialize;

pub use mysql::Mysql;
pub use postgres::Postgres;
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
    #[error("`{0}` DSNs are not read: give sqlite:///path/to/file.db, mysql://… or postgres://…")]
    Unknown(String),
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
    pub primary_key: Vec<String>,
    /// `(column, referenced table, referenced column)`.
    pub foreign_keys: Vec<(String, String, String)>,
}

impl TableInfo {
    /// The shape the engine plans with.
    pub fn shape(&self) -> TableShape {
        TableShape {
            name: self.name.clone(),
            columns: self.columns.iter().map(|c| c.name.clone()).collect(),
            primary_key: self.primary_key.clone(),
            foreign_keys: self
                .foreign_keys
                .iter()
                .map(|(column, ref_table, ref_column)| ForeignKey {
                    column: column.clone(),
                    ref_table: ref_table.clone(),
                    ref_column: ref_column.clone(),
                })
                .collect(),
            rows: self.rows,
        }
    }
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
        shape: &KvShape,
        limit: usize,
    ) -> Result<Vec<(String, String)>, SourceError>;
    /// How this database's SQL is written.
    fn dialect(&self) -> &'static Dialect;
    /// Every row of one SELECT built with [`Source::dialect`], values as text,
    /// with `params` bound in order; `what` names it in errors. Values go to
    /// `each` and are dropped.
    fn rows(
        &mut self,
        sql: &str,
        params: &[String],
        what: &str,
        each: &mut dyn FnMut(&[Option<&str>]),
    ) -> Result<(), SourceError>;
    /// Every row of a plan's scan (rows as [`ScanKind`] says), restricted by
    /// `filter` (an SQL condition on the scanned table) when given.
    fn scan(
        &mut self,
        scan: &Scan,
        filter: Option<&str>,
        each: &mut dyn FnMut(&[Option<&str>]),
    ) -> Result<(), SourceError> {
        let (sql, params) = scan_sql(scan, filter, self.dialect());
        self.rows(&sql, &params, &format!("the rows of {}", scan.table), each)
    }
    /// Every row of one SELECT without parameters.
    fn query(
        &mut self,
        sql: &str,
        each: &mut dyn FnMut(&[Option<&str>]),
    ) -> Result<(), SourceError> {
        self.rows(sql, &[], "the customers", each)
    }
}

/// Opens a DSN read-only. `allow_write`: read with an account that could
/// write (its session is still read-only).
pub fn open(dsn: &str, allow_write: bool) -> Result<Box<dyn Source>, SourceError> {
    let lower = dsn.to_ascii_lowercase();
    if lower.starts_with("mysql://") || lower.starts_with("mariadb://") {
        return Ok(Box::new(Mysql::open(dsn, allow_write)?));
    }
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        return Ok(Box::new(Postgres::open(dsn, allow_write)?));
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

/// How one SQL dialect quotes, casts to text and marks parameters.
pub struct Dialect {
    pub quote: fn(&str) -> String,
    /// `expr` as text.
    pub text: fn(&str) -> String,
    /// The `n`-th parameter (from 1).
    pub mark: fn(usize) -> String,
}

/// The SQL of a scan, and the keys of a key-value scan as its parameters.
pub(crate) fn scan_sql(scan: &Scan, filter: Option<&str>, d: &Dialect) -> (String, Vec<String>) {
    let quote = d.quote;
    let text = d.text;
    let t = quote(&scan.table);
    let cond = filter.map(|f| format!(" AND ({f})")).unwrap_or_default();
    match &scan.kind {
        ScanKind::Columns { columns } => {
            let mut cols = vec![text(&quote(&scan.key))];
            cols.extend(columns.iter().map(|c| text(&quote(&c.column))));
            (
                format!(
                    "SELECT {} FROM {t} WHERE {} IS NOT NULL{cond}",
                    cols.join(", "),
                    quote(&scan.key)
                ),
                Vec::new(),
            )
        }
        ScanKind::Pairs { shape, keys } => {
            let marks = (1..=keys.len().max(1))
                .map(d.mark)
                .collect::<Vec<_>>()
                .join(", ");
            let mut params: Vec<String> = keys.iter().map(|k| k.key.clone()).collect();
            if params.is_empty() {
                // No key to read: a condition no row meets.
                params.push(String::new());
            }
            let sql = match shape {
                KvShape::Inline { key, value } => format!(
                    "SELECT {}, {}, {} FROM {t} WHERE {k} IN ({marks}){cond}",
                    text(&quote(&scan.key)),
                    text(&quote(key)),
                    text(&quote(value)),
                    k = quote(key),
                ),
                KvShape::Eav {
                    attribute_table,
                    attribute_id,
                    attribute_code,
                    value,
                } => format!(
                    "SELECT {}, {}, {} FROM {t} v JOIN {a} a ON a.{id} = v.{id} WHERE a.{code} IN ({marks}){cond}",
                    text(&format!("v.{}", quote(&scan.key))),
                    text(&format!("a.{}", quote(attribute_code))),
                    text(&format!("v.{}", quote(value))),
                    code = quote(attribute_code),
                    a = quote(attribute_table),
                    id = quote(attribute_id),
                ),
            };
            (sql, params)
        }
    }
}

/// The SQL that samples a key-value table's `(key, value)` rows.
pub(crate) fn pairs_sql(table: &str, shape: &KvShape, limit: usize, d: &Dialect) -> String {
    let (quote, text) = (d.quote, d.text);
    let t = quote(table);
    match shape {
        KvShape::Inline { key, value } => format!(
            "SELECT {}, {} FROM {t} WHERE {v} IS NOT NULL LIMIT {limit}",
            text(&quote(key)),
            text(&quote(value)),
            v = quote(value)
        ),
        KvShape::Eav {
            attribute_table,
            attribute_id,
            attribute_code,
            value,
        } => format!(
            "SELECT {}, {} FROM {t} v JOIN {a} a ON a.{id} = v.{id} WHERE v.{val} IS NOT NULL LIMIT {limit}",
            text(&format!("a.{}", quote(attribute_code))),
            text(&format!("v.{}", quote(value))),
            val = quote(value),
            a = quote(attribute_table),
            id = quote(attribute_id)
        ),
    }
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
    /// Who the data is about, when a customer table was found.
    pub customers: Option<CustomerFacts>,
    /// Tables with personal data that no column ties to a customer.
    pub untied_tables: Vec<String>,
}

/// The customers of a database: how they were read and the counts.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerFacts {
    pub plan: Plan,
    pub counts: Counts,
}

/// What discovery is doing, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Tables sampled of all.
    Sampled(usize, usize),
    /// Rows counted so far in a scan of a table (the index of the scan of all).
    Counting(usize, usize, u64),
}

/// Runs `plan`'s scans and folds them into a tally. `compromised`: the
/// tables whose elements count (all when `None`); `filter` applies to the
/// scans of those tables.
pub fn run_plan<'n>(
    source: &mut dyn Source,
    plan: &Plan,
    names: &'n Names,
    compromised: Option<&[String]>,
    filter: Option<&str>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Tally<'n>, SourceError> {
    let mut tally = Tally::new(names);
    let counts = |t: &str| compromised.is_none_or(|c| c.iter().any(|x| x == t));
    for (i, scan) in plan.scans.iter().enumerate() {
        let base = i == 0;
        let counted = counts(&scan.table);
        if !base && !counted && !scan_reads_residency(scan) {
            continue;
        }
        let f = if counted { filter } else { None };
        let mut n = 0u64;
        source.scan(scan, f, &mut |row| {
            tally.row(scan, base, counted, row);
            n += 1;
            if n.is_multiple_of(100_000) {
                progress(Progress::Counting(i, plan.scans.len(), n));
            }
        })?;
        tally.end_scan();
        progress(Progress::Counting(i + 1, plan.scans.len(), n));
    }
    Ok(tally)
}

fn scan_reads_residency(scan: &Scan) -> bool {
    use bulwark_discover::subjects::Read;
    let reads: Vec<&Read> = match &scan.kind {
        ScanKind::Columns { columns } => columns.iter().flat_map(|c| &c.reads).collect(),
        ScanKind::Pairs { keys, .. } => keys.iter().flat_map(|k| &k.reads).collect(),
    };
    reads
        .iter()
        .any(|r| !matches!(r, Read::Element { .. } | Read::JsonElement { .. }))
}

/// The customers a compromise of `tables` (all of the plan's when `None`)
/// exposed, restricted by `filter`, each with residency and elements.
pub fn subjects_of(
    source: &mut dyn Source,
    plan: &Plan,
    tables: Option<&[String]>,
    filter: Option<&str>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Vec<Subject>, SourceError> {
    let names = Names::new();
    let tally = run_plan(source, plan, &names, tables, filter, progress)?;
    Ok(tally.subjects(true))
}

/// The columns of a key-value shape that are read as pairs, not one by one.
fn kv_columns(shape: &KvShape) -> Vec<&str> {
    match shape {
        KvShape::Inline { key, value } => vec![key, value],
        KvShape::Eav {
            attribute_id,
            value,
            ..
        } => vec![attribute_id, value],
    }
}

fn kv_value(shape: &KvShape) -> &str {
    match shape {
        KvShape::Inline { value, .. } | KvShape::Eav { value, .. } => value,
    }
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

/// Reads every table of `source` and classifies its columns, then, when a
/// customer table is found, counts customers per jurisdiction and element
/// over whole tables (the counts are exact; the classification is from
/// samples).
pub fn discover(
    source: &mut dyn Source,
    sample: usize,
    opts: Options,
    mut progress: impl FnMut(Progress),
) -> Result<Discovery, SourceError> {
    if sample == 0 || sample > MAX_SAMPLE {
        return Err(SourceError::BadSample);
    }
    let tables = source.tables()?;
    let shapes: Vec<TableShape> = tables.iter().map(TableInfo::shape).collect();
    let mut columns = Vec::new();
    let mut read = 0usize;
    for (i, t) in tables.iter().enumerate() {
        let kv = subjects::kv_shape(&shapes[i], &shapes);
        if let Some(shape) = &kv {
            let pairs = source.sample_pairs(t, shape, sample.saturating_mul(20))?;
            read += 1;
            columns.extend(classify::key_values(
                &t.name,
                kv_value(shape),
                pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())),
                opts,
            ));
        }
        for c in &t.columns {
            if kv
                .as_ref()
                .is_some_and(|s| kv_columns(s).contains(&c.name.as_str()))
            {
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
        progress(Progress::Sampled(i + 1, tables.len()));
    }
    let findings: Vec<Finding> = columns.iter().flat_map(findings::of).collect();
    let customers = match subjects::plan(&shapes, &columns) {
        Some(plan) => {
            let names = Names::new();
            let tally = run_plan(source, &plan, &names, None, None, &mut progress)?;
            Some(CustomerFacts {
                counts: tally.counts(),
                plan,
            })
        }
        None => None,
    };
    columns.retain(|c| c.element.is_some());
    let tied: Vec<&str> = customers
        .iter()
        .flat_map(|c| c.plan.scans.iter().map(|s| s.table.as_str()))
        .collect();
    let untied_tables: Vec<String> = columns
        .iter()
        .filter(|c| !tied.contains(&c.table.as_str()))
        .map(|c| c.table.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
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
        customers,
        untied_tables,
    })
}
