//! PostgreSQL (`postgres://user:password@host:port/database`), the tables of
//! the connection's current schema (`search_path`), read in a session whose
//! transactions are read-only, and refused when the account could write
//! (superuser, or INSERT/UPDATE/DELETE on a table) unless the caller says it
//! knows. The catalogue is read from `pg_catalog`, not `information_schema`,
//! whose constraint views hide the keys from an account with SELECT only.

use std::collections::HashMap;
use std::str::FromStr;

use bulwark_discover::subjects::KvShape;
use postgres::types::ToSql;
use postgres::{Client, Config, NoTls};

use crate::{pairs_sql, ColumnInfo, Dialect, Source, SourceError, TableInfo, MAX_TABLES};

const DIALECT: Dialect = Dialect {
    quote,
    text: |e| format!("({e})::text"),
    mark: |n| format!("${n}"),
};

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn read_err(what: impl Into<String>) -> impl FnOnce(postgres::Error) -> SourceError {
    let what = what.into();
    // The server's messages name objects and roles, never row values or passwords.
    move |e| SourceError::Read {
        what,
        reason: e.to_string(),
    }
}

pub struct Postgres {
    client: Client,
    label: String,
}

impl Postgres {
    pub fn open(dsn: &str, allow_write: bool) -> Result<Postgres, SourceError> {
        let mut config = Config::from_str(dsn).map_err(|_| SourceError::Open {
            path: "the postgres:// DSN".into(),
            reason: "not a valid postgres://user:password@host:port/database URL".into(),
        })?;
        let host = config
            .get_hosts()
            .first()
            .map(|h| match h {
                postgres::config::Host::Tcp(h) => h.clone(),
                postgres::config::Host::Unix(p) => p.display().to_string(),
            })
            .unwrap_or_else(|| "localhost".into());
        let label = format!(
            "postgres:{}@{host}/{}",
            config.get_user().unwrap_or("?"),
            config.get_dbname().unwrap_or("?")
        );
        config.connect_timeout(std::time::Duration::from_secs(10));
        let mut client = config.connect(NoTls).map_err(|e| SourceError::Open {
            path: label.clone(),
            reason: e.to_string(),
        })?;
        let row = client
            .query_one(
                "SELECT r.rolsuper, EXISTS (
                     SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
                       AND (has_table_privilege(c.oid, 'INSERT') OR has_table_privilege(c.oid, 'UPDATE')
                            OR has_table_privilege(c.oid, 'DELETE') OR has_table_privilege(c.oid, 'TRUNCATE')))
                 FROM pg_roles r WHERE r.rolname = current_user",
                &[],
            )
            .map_err(read_err("the account's privileges"))?;
        let (superuser, writes): (bool, bool) = (row.get(0), row.get(1));
        if !allow_write && (superuser || writes) {
            return Err(SourceError::CanWrite(label));
        }
        // Belt and braces: no transaction of this session can write.
        client
            .batch_execute(
                "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY; SET statement_timeout = '300s'",
            )
            .map_err(read_err("a read-only session"))?;
        Ok(Postgres { client, label })
    }
}

impl Source for Postgres {
    fn label(&self) -> String {
        self.label.clone()
    }

    fn tables(&mut self) -> Result<Vec<TableInfo>, SourceError> {
        let tables = self
            .client
            .query(
                "SELECT c.relname::text, greatest(c.reltuples, 0)::bigint FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
                 ORDER BY 1",
                &[],
            )
            .map_err(read_err("the schema"))?;
        let columns = self
            .client
            .query(
                "SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod)
                 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
                   AND a.attnum > 0 AND NOT a.attisdropped
                 ORDER BY 1, a.attnum",
                &[],
            )
            .map_err(read_err("the columns"))?;
        let keys = self
            .client
            .query(
                "SELECT cl.relname::text, con.contype::text, a.attname::text, rcl.relname::text, ra.attname::text
                 FROM pg_constraint con
                 JOIN pg_class cl ON cl.oid = con.conrelid
                 JOIN pg_namespace n ON n.oid = cl.relnamespace
                 CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
                 LEFT JOIN pg_class rcl ON rcl.oid = con.confrelid
                 LEFT JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = con.confkey[k.ord]
                 WHERE n.nspname = current_schema() AND con.contype IN ('p', 'f')
                 ORDER BY 1, con.conname, k.ord",
                &[],
            )
            .map_err(read_err("the schema's keys"))?;
        /// Columns, primary key, foreign keys.
        type Parts = (Vec<ColumnInfo>, Vec<String>, Vec<(String, String, String)>);
        let mut by_table: HashMap<String, Parts> = HashMap::new();
        for r in &columns {
            by_table.entry(r.get(0)).or_default().0.push(ColumnInfo {
                name: r.get(1),
                declared_type: r.get(2),
            });
        }
        for r in &keys {
            let e = by_table.entry(r.get(0)).or_default();
            let kind: String = r.get(1);
            let column: String = r.get(2);
            match (
                kind.as_str(),
                r.get::<_, Option<String>>(3),
                r.get::<_, Option<String>>(4),
            ) {
                ("p", _, _) => e.1.push(column),
                ("f", Some(t), Some(c)) => e.2.push((column, t, c)),
                _ => {}
            }
        }
        Ok(tables
            .iter()
            .take(MAX_TABLES)
            .map(|r| {
                let name: String = r.get(0);
                let rows: i64 = r.get(1);
                let (columns, primary_key, foreign_keys) =
                    by_table.remove(&name).unwrap_or_default();
                TableInfo {
                    name,
                    columns,
                    rows: rows.max(0) as u64,
                    primary_key,
                    foreign_keys,
                }
            })
            .collect())
    }

    fn sample(
        &mut self,
        table: &TableInfo,
        column: &str,
        limit: usize,
    ) -> Result<Vec<String>, SourceError> {
        let sql = format!(
            "SELECT ({c})::text FROM {t} WHERE {c} IS NOT NULL LIMIT {limit}",
            c = quote(column),
            t = quote(&table.name)
        );
        let rows = self
            .client
            .query(&sql, &[])
            .map_err(read_err(format!("{}.{column}", table.name)))?;
        Ok(rows
            .iter()
            .filter_map(|r| r.get::<_, Option<String>>(0))
            .collect())
    }

    fn sample_pairs(
        &mut self,
        table: &TableInfo,
        shape: &KvShape,
        limit: usize,
    ) -> Result<Vec<(String, String)>, SourceError> {
        let sql = pairs_sql(&table.name, shape, limit, &DIALECT);
        let rows = self
            .client
            .query(&sql, &[])
            .map_err(read_err(format!("the key-value rows of {}", table.name)))?;
        Ok(rows
            .iter()
            .filter_map(|r| {
                Some((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, Option<String>>(1)?,
                ))
            })
            .collect())
    }

    fn dialect(&self) -> &'static Dialect {
        &DIALECT
    }

    /// An extended-protocol query: a filter cannot smuggle in a second statement.
    fn rows(
        &mut self,
        sql: &str,
        params: &[String],
        what: &str,
        each: &mut dyn FnMut(&[Option<&str>]),
    ) -> Result<(), SourceError> {
        use postgres::fallible_iterator::FallibleIterator;
        let params: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        let mut rows = self.client.query_raw(sql, params).map_err(read_err(what))?;
        while let Some(row) = rows.next().map_err(read_err(what))? {
            let mut refs: Vec<Option<&str>> = Vec::with_capacity(row.len());
            for i in 0..row.len() {
                refs.push(row.try_get::<_, Option<&str>>(i).map_err(read_err(what))?);
            }
            each(&refs);
        }
        Ok(())
    }
}
