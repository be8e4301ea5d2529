//! MySQL and MariaDB (`mysql://user:password@host:port/database`), read in a
//! read-only session, and refused when the account could write (unless the
//! caller says it knows): discovery should run as a reporting user with
//! `SELECT` only.

use mysql::prelude::Queryable;
use mysql::{Conn, Opts, OptsBuilder};

use crate::{ColumnInfo, Source, SourceError, TableInfo, MAX_TABLES};

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
        let mut out = Vec::new();
        for (name, rows) in names.into_iter().take(MAX_TABLES) {
            let columns: Vec<(String, String)> = self
                .conn
                .exec(
                    "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
                    (&self.db, &name),
                )
                .map_err(read_err(format!("the columns of {name}")))?;
            out.push(TableInfo {
                name,
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
        key: &str,
        value: &str,
        limit: usize,
    ) -> Result<Vec<(String, String)>, SourceError> {
        let sql = format!(
            "SELECT {k}, {v} FROM {t} WHERE {v} IS NOT NULL LIMIT {limit}",
            k = quote(key),
            v = quote(value),
            t = quote(&table.name)
        );
        let rows: Vec<(Cell, Cell)> = self
            .conn
            .query(sql)
            .map_err(read_err(format!("{}.{key}/{value}", table.name)))?;
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
