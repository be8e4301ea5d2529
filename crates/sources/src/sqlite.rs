//! SQLite files, opened read-only (the connection cannot write: the file is
//! opened with `SQLITE_OPEN_READ_ONLY` and `query_only` is on).

use rusqlite::{Connection, OpenFlags};

use bulwark_discover::subjects::KvShape;

use crate::{pairs_sql, ColumnInfo, Dialect, Source, SourceError, TableInfo, MAX_TABLES};

const DIALECT: Dialect = Dialect {
    quote,
    text: |e| format!("CAST({e} AS TEXT)"),
    mark: |n| format!("?{n}"),
};

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
            let what = || format!("the columns of {name}");
            let described: Vec<(String, String, i64)> = {
                let mut stmt = self
                    .conn
                    .prepare("SELECT name, type, pk FROM pragma_table_info(?1)")
                    .map_err(read_err(what()))?;
                let rows = stmt
                    .query_map([&name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .map_err(read_err(what()))?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(read_err(what()))?
            };
            let mut pk: Vec<(i64, String)> = described
                .iter()
                .filter(|(_, _, p)| *p > 0)
                .map(|(n, _, p)| (*p, n.clone()))
                .collect();
            pk.sort();
            let columns = described
                .into_iter()
                .map(|(name, declared_type, _)| ColumnInfo {
                    name,
                    declared_type,
                })
                .collect();
            let foreign_keys: Vec<(String, String, String)> = {
                let mut stmt = self
                    .conn
                    .prepare("SELECT \"from\", \"table\", coalesce(\"to\", '') FROM pragma_foreign_key_list(?1)")
                    .map_err(read_err(what()))?;
                let rows = stmt
                    .query_map([&name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .map_err(read_err(what()))?;
                rows.collect::<rusqlite::Result<Vec<_>>>()
                    .map_err(read_err(what()))?
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
                primary_key: pk.into_iter().map(|(_, n)| n).collect(),
                foreign_keys,
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
        shape: &KvShape,
        limit: usize,
    ) -> Result<Vec<(String, String)>, SourceError> {
        let sql = pairs_sql(&table.name, shape, limit, &DIALECT);
        let what = || format!("the key-value rows of {}", table.name);
        let mut stmt = self.conn.prepare(&sql).map_err(read_err(what()))?;
        let rows = stmt
            .query_map([], |r| {
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

    fn dialect(&self) -> &'static Dialect {
        &DIALECT
    }

    fn rows(
        &mut self,
        sql: &str,
        params: &[String],
        what: &str,
        each: &mut dyn FnMut(&[Option<&str>]),
    ) -> Result<(), SourceError> {
        let mut stmt = self.conn.prepare(sql).map_err(read_err(what))?;
        let width = stmt.column_count();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.iter()))
            .map_err(read_err(what))?;
        let mut cells: Vec<Option<String>> = Vec::with_capacity(width);
        while let Some(r) = rows.next().map_err(read_err(what))? {
            cells.clear();
            for i in 0..width {
                cells.push(r.get::<_, Option<String>>(i).map_err(read_err(what))?);
            }
            let refs: Vec<Option<&str>> = cells.iter().map(Option::as_deref).collect();
            each(&refs);
        }
        Ok(())
    }
}
