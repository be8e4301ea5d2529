//! MySQL and MariaDB (`mysql://user:password@host:port/database`), read in a
//! read-only session, and refused when the account could write (unless the
//! caller says it knows): discovery should run as a reporting user with
//! `SELECT` only.

use std::collections::HashMap;

use bulwark_discover::subjects::KvShape;
use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder, Value};

use crate::{pairs_sql, ColumnInfo, Dialect, Source, SourceError, TableInfo, MAX_TABLES};

const DIALECT: Dialect = Dialect {
    quote,
    text: |e| format!("CAST({e} AS CHAR)"),
    mark: |_| "?".to_owned(),
};

/// A value as text; NULL as `None`. Prepared statements return typed values.
fn text(v: Value) -> Option<String> {
    match v {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Double(f) => Some(f.to_string()),
        Value::Date(y, m, d, h, mi, s, _) => {
            Some(format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}"))
        }
        Value::Time(neg, d, h, m, s, _) => Some(format!(
            "{}{}:{m:02}:{s:02}",
            if neg { "-" } else { "" },
            u32::from(h) + d * 24
        )),
    }
}

/// One value as the server sends it (bytes; NULL as `None`).
type Cell = Option<Vec<u8>>;

pub struct Mysql {
    conn: Conn,
    db: String,
    label: String,
}

/// Privileges that let an account change data or schema.
const WRITE_PRIVILEGES: &[&str] = &[
    "ALL PRIVILEGES",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "ALTER",
    "INDEX",
    "TRIGGER",
    "EXECUTE",
];

fn quote(ident: &str) -> String {
    format!("`{}`", ident.replace('`', "``"))
}

fn read_err(what: impl Into<String>) -> impl FnOnce(mysql::Error) -> SourceError {
    let what = what.into();
    // The server's messages name objects and accounts, never row values or passwords.
    move |e| SourceError::Read {
        what,
        reason: e.to_string(),
    }
}

/// Whether a `SHOW GRANTS` line lets the account write in `db`.
fn grant_writes(line: &str, db: &str) -> bool {
    let upper = line.to_ascii_uppercase();
    let Some(rest) = upper.strip_prefix("GRANT ") else {
        return false;
    };
    let Some((privs, target)) = rest.split_once(" ON ") else {
        return false;
    };
    let target = target.split(" TO ").next().unwrap_or("").trim();
    let db_upper = db.to_ascii_uppercase();
    let applies = target.starts_with("*.*")
        || target.starts_with(&format!("`{db_upper}`."))
        || target.starts_with(&format!("{db_upper}."));
    applies
        && WRITE_PRIVILEGES
            .iter()
            .any(|p| privs.split(',').any(|x| x.trim().starts_with(p)))
}

impl Mysql {
    pub fn open(dsn: &str, allow_write: bool) -> Result<Mysql, SourceError> {
        let url = dsn.replacen("mariadb://", "mysql://", 1);
        let opts = Opts::from_url(&url).map_err(|_| SourceError::Open {
            path: "the mysql:// DSN".into(),
            reason: "not a valid mysql://user:password@host:port/database URL".into(),
        })?;
        let db = opts
            .get_db_name()
            .map(str::to_owned)
            .ok_or_else(|| SourceError::Open {
                path: "the mysql:// DSN".into(),
                reason: "it names no database (…/database at the end)".into(),
            })?;
        let label = format!(
            "mysql:{}@{}/{}",
            opts.get_user().unwrap_or("?"),
            opts.get_ip_or_hostname(),
            db
        );
        let opts = OptsBuilder::from_opts(opts)
            .tcp_connect_timeout(Some(std::time::Duration::from_secs(10)))
            .read_timeout(Some(std::time::Duration::from_secs(300)));
        let mut conn = Conn::new(opts).map_err(|e| SourceError::Open {
            path: label.clone(),
            reason: e.to_string(),
        })?;
        let grants: Vec<String> = conn
            .query("SHOW GRANTS FOR CURRENT_USER()")
            .map_err(read_err("the account's grants"))?;
        if !allow_write && grants.iter().any(|g| grant_writes(g, &db)) {
            return Err(SourceError::CanWrite(label));
        }
        // Belt and braces: the session cannot write even when the account could.
        conn.query_drop("SET SESSION TRANSACTION READ ONLY")
            .map_err(read_err("a read-only session"))?;
        Ok(Mysql { conn, db, label })
    }
}

impl Source for Mysql {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn tables(&mut self) -> Result<Vec<TableInfo>, SourceError> {
        let names: Vec<(String, Option<u64>)> = self
            .conn
            .exec(
                "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
                (&self.db,),
            )
            .map_err(read_err("the schema"))?;
        // Keys of the whole schema in one query.
        /// Table, constraint, column, referenced table and column.
        type KeyRow = (String, String, String, Option<String>, Option<String>);
        let keys: Vec<KeyRow> = self
            .conn
            .exec(
                "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION",
                (&self.db,),
            )
            .map_err(read_err("the schema's keys"))?;
        type Keys = (Vec<String>, Vec<(String, String, String)>);
        let mut by_table: HashMap<String, Keys> = HashMap::new();
        for (table, constraint, column, ref_table, ref_column) in keys {
            let e = by_table.entry(table).or_default();
            match (ref_table, ref_column) {
                (Some(t), Some(c)) => e.1.push((column, t, c)),
                _ if constraint == "PRIMARY" => e.0.push(column),
                _ => {}
            }
        }
        let mut out = Vec::new();
        for (name, rows) in names.into_iter().take(MAX_TABLES) {
            let columns: Vec<(String, String)> = self
                .conn
                .exec(
                    "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                    (&self.db, &name),
                )
                .map_err(read_err(format!("the columns of {name}")))?;
            let (primary_key, foreign_keys) = by_table.remove(&name).unwrap_or_default();
            out.push(TableInfo {
                name,
                primary_key,
                foreign_keys,
                columns: columns
                    .into_iter()
                    .map(|(name, declared_type)| ColumnInfo {
                        name,
                        declared_type,
                    })
                    .collect(),
                rows: rows.unwrap_or(0),
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
        let sql = format!(
            "SELECT {c} FROM {t} WHERE {c} IS NOT NULL LIMIT {limit}",
            c = quote(column),
            t = quote(&table.name)
        );
        let rows: Vec<Cell> = self
            .conn
            .query(sql)
            .map_err(read_err(format!("{}.{column}", table.name)))?;
        Ok(rows
            .into_iter()
            .flatten()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .collect())
    }

    fn sample_pairs(
        &mut self,
        table: &TableInfo,
        shape: &KvShape,
        limit: usize,
    ) -> Result<Vec<(String, String)>, SourceError> {
        let sql = pairs_sql(&table.name, shape, limit, &DIALECT);
        let rows: Vec<(Cell, Cell)> = self
            .conn
            .query(sql)
            .map_err(read_err(format!("the key-value rows of {}", table.name)))?;
        Ok(rows
            .into_iter()
            .filter_map(|(k, v)| {
                Some((
                    String::from_utf8_lossy(&k?).into_owned(),
                    String::from_utf8_lossy(&v?).into_owned(),
                ))
            })
            .collect())
    }

    fn dialect(&self) -> &'static Dialect {
        &DIALECT
    }

    /// A prepared statement, so a filter cannot smuggle in a second statement.
    fn rows(
        &mut self,
        sql: &str,
        params: &[String],
        what: &str,
        each: &mut dyn FnMut(&[Option<&str>]),
    ) -> Result<(), SourceError> {
        let params: Vec<Value> = params.iter().map(|p| Value::from(p.as_str())).collect();
        let params = if params.is_empty() {
            mysql::Params::Empty
        } else {
            mysql::Params::Positional(params)
        };
        let result = self.conn.exec_iter(sql, params).map_err(read_err(what))?;
        let mut cells: Vec<Option<String>> = Vec::new();
        for row in result {
            let row = row.map_err(read_err(what))?;
            cells.clear();
            cells.extend(row.unwrap_raw().into_iter().map(|v| v.and_then(text)));
            let refs: Vec<Option<&str>> = cells.iter().map(Option::as_deref).collect();
            each(&refs);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::grant_writes;

    #[test]
    fn grants_that_write() {
        assert!(grant_writes(
            "GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` WITH GRANT OPTION",
            "shop"
        ));
        assert!(grant_writes(
            "GRANT SELECT, INSERT ON `shop`.* TO `app`@`%`",
            "shop"
        ));
        assert!(!grant_writes(
            "GRANT SELECT ON `shop`.* TO `report`@`%`",
            "shop"
        ));
        assert!(!grant_writes(
            "GRANT USAGE ON *.* TO `report`@`%` IDENTIFIED BY PASSWORD '*AB'",
            "shop"
        ));
        assert!(!grant_writes(
            "GRANT ALL PRIVILEGES ON `other`.* TO `report`@`%`",
            "shop"
        ));
    }
}
