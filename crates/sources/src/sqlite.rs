//! SQLite files, opened read-only (the connection cannot write: the file is
//! opened with `SQLITE_OPEN_READ_ONLY` and `query_only` is on).

use rusqlite::{Connection, OpenFlags};

use crate::{ColumnInfo, Source, SourceError, TableInfo, MAX_TABLES};

pub struct Sqlite {
    conn: Connection,
    label: String,
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn read_err(what: impl Into<String>) -> impl FnOnce(rusqlite::Error) -> SourceError {
    let what = what.into();
    move |e| SourceError::Read {
        what,
        // SQLite's messages name objects, not row values.
        reason: e.to_string(),
    }
}

impl Sqlite {
    pub fn open(path: &str) -> Result<Sqlite, SourceError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| SourceError::Open {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        conn.pragma_update(None, "query_only", true)
            .map_err(read_err("the query_only pragma"))?;
        // A file that is not a database fails here, not halfway through.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_err(|e| SourceError::Open {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let label = format!(
            "sqlite:{}",
            std::path::Path::new(path)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.to_owned())
        );
        Ok(Sqlite { conn, label })
    }
}

impl Source for Sqlite {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn tables(&mut self) -> Result<Vec<TableInfo>, SourceError> {
        let names: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
                .map_err(read_err("the schema"))?;
            let rows = stmt
                .query_map([], |r| r.get(0))
                .map_err(read_err("the schema"))?;
            rows.take(MAX_TABLES)
                .collect::<rusqlite::Result<_>>()
                .map_err(read_err("the schema"))?
        };
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let columns = {
                let mut stmt = self
                    .conn
                    .prepare("SELECT name, type FROM pragma_table_info(?1)")
                    .map_err(read_err(format!("the columns of {name}")))?;
                let rows = stmt
                    .query_map([&name], |r| {
                        Ok(ColumnInfo {
                            name: r.get(0)?,
                            declared_type: r.get(1)?,
                        })
                    })
                    .map_err(read_err(format!("the columns of {name}")))?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(read_err(format!("the columns of {name}")))?
            };
            let rows: i64 = self
                .conn
                .query_row(&format!("SELECT count(*) FROM {}", quote(&name)), [], |r| {
                    r.get(0)
                })
                .map_err(read_err(format!("the size of {name}")))?;
            out.push(TableInfo {
                name,
                columns,
                rows: rows.max(0) as u64,
            });
        }
        Ok(out)
    }

    fn sample(
        &mut self,
        table: &TableInfo,
        column: &str,
        limit: usize,
    ) -> Result<Vec<String>, SourceError> {
        // Spread over the table: every n-th row by rowid (no ORDER BY RANDOM()
        // over a million rows).
        let step = (table.rows / limit.max(1) as u64).max(1);
        let sql = format!(
            "SELECT CAST({c} AS TEXT) FROM {t} WHERE {c} IS NOT NULL AND (rowid % ?1) = 0 LIMIT ?2",
            c = quote(column),
            t = quote(&table.name)
        );
        let what = || format!("{}.{column}", table.name);
        let mut stmt = match self.conn.prepare(&sql) {
            Ok(s) => s,
            // A WITHOUT ROWID table: the first rows instead.
            Err(_) => self
                .conn
                .prepare(&format!(
                    "SELECT CAST({c} AS TEXT) FROM {t} WHERE {c} IS NOT NULL AND ?1 > 0 LIMIT ?2",
                    c = quote(column),
                    t = quote(&table.name)
                ))
                .map_err(read_err(what()))?,
        };
        let rows = stmt
            .query_map(rusqlite::params![step as i64, limit as i64], |r| {
                r.get::<_, Option<String>>(0)
            })
            .map_err(read_err(what()))?;
        let mut out = Vec::new();
        for r in rows {
            if let Some(v) = r.map_err(read_err(what()))? {
                out.push(v);
            }
        }
        Ok(out)
    }

    fn sample_pairs(
        &mut self,
        table: &TableInfo,
        key: &str,
        value: &str,
        limit: usize,
    ) -> Result<Vec<(String, String)>, SourceError> {
        let sql = format!(
            "SELECT CAST({k} AS TEXT), CAST({v} AS TEXT) FROM {t} WHERE {v} IS NOT NULL LIMIT ?1",
            k = quote(key),
            v = quote(value),
            t = quote(&table.name)
        );
        let what = || format!("{}.{key}/{value}", table.name);
        let mut stmt = self.conn.prepare(&sql).map_err(read_err(what()))?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                ))
            })
            .map_err(read_err(what()))?;
        let mut out = Vec::new();
        for r in rows {
            if let (Some(k), Some(v)) = r.map_err(read_err(what()))? {
                out.push((k, v));
            }
        }
        Ok(out)
    }
}
