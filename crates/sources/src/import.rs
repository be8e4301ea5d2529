//! Reading the store's customers for `bulwark vault import`: a mapping file
//! says which column (of the customer table, of a table tied to it, or a key
//! of a key-value table) holds each vault field and the residency; customers
//! are read in key order, a batch at a time, so an import can stop and
//! resume after the last key it finished.
//!
//! ```toml
//! table = "customer_entity"
//! key = "entity_id"
//! external_id_prefix = "magento:"
//! [fields]
//! email = "email"
//! name = ["firstname", "lastname"]             # joined with a space
//! phone = "customer_address_entity.telephone"  # a tied table: its first row
//! tax_id = "customer_entity_varchar[taxvat]"   # a key of a key-value table
//! [residency]
//! country = "customer_address_entity.country_id"
//! region = "customer_address_entity.region"
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bulwark_discover::residency::Names;
use bulwark_discover::subjects::{self, KvShape, TableShape};
use bulwark_model::{DataElement, Residency};
use serde::Deserialize;

use crate::{Source, SourceError, TableInfo};

/// Most customers read per batch.
pub const BATCH: usize = 5000;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub table: String,
    pub key: String,
    /// Put before the key to make the vault's external id (`magento:42`).
    #[serde(default)]
    pub external_id_prefix: String,
    pub fields: BTreeMap<String, Parts>,
    pub residency: ResidencyMapping,
}

/// One source, or several joined with a space.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Parts {
    One(String),
    Many(Vec<String>),
}

impl Parts {
    fn list(&self) -> Vec<&str> {
        match self {
            Parts::One(s) => vec![s.as_str()],
            Parts::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResidencyMapping {
    pub country: String,
    #[serde(default)]
    pub region: Option<String>,
}

/// Why a mapping cannot be used with this database. Names columns, never values.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("the mapping is not valid TOML: {0}")]
    Syntax(String),
    #[error("fields.{0}: not a data element (see `bulwark law elements`)")]
    Element(String),
    #[error("{0}")]
    Unknown(String),
}

/// Where one part of a field is read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum At {
    /// A column of the customer table.
    Own(String),
    /// A column of a tied table (its first row per customer, in the table's key order).
    Tied { table: String, column: String },
    /// A key of a key-value table.
    Key { table: String, key: String },
}

/// A mapping checked against the schema.
#[derive(Debug, Clone)]
pub struct Resolved {
    mapping: Mapping,
    fields: Vec<(DataElement, Vec<At>)>,
    country: At,
    region: Option<At>,
    /// Tied tables: the column holding the customer's key.
    links: BTreeMap<String, String>,
    kv: BTreeMap<String, KvShape>,
}

/// One customer as read: never logged, only handed to the vault.
#[derive(Debug, Clone)]
pub struct Record {
    pub key: String,
    pub external_id: String,
    pub residency: Option<Residency>,
    /// Field code → value.
    pub fields: BTreeMap<String, String>,
}

impl Mapping {
    pub fn parse(text: &str) -> Result<Mapping, MappingError> {
        // toml's messages quote the offending line, which is mapping, not customer data.
        toml::from_str(text).map_err(|e| MappingError::Syntax(e.to_string()))
    }

    /// Checks every named table and column against the schema.
    pub fn resolve(self, tables: &[TableInfo]) -> Result<Resolved, MappingError> {
        let shapes: Vec<TableShape> = tables.iter().map(TableInfo::shape).collect();
        let find = |name: &str| shapes.iter().find(|t| t.name == name);
        let unknown = |m: String| MappingError::Unknown(m);
        let customer = find(&self.table)
            .ok_or_else(|| unknown(format!("table = \"{}\": no such table", self.table)))?;
        if !customer.columns.contains(&self.key) {
            return Err(unknown(format!(
                "key = \"{}\": {} has no such column",
                self.key, self.table
            )));
        }
        let mut links = BTreeMap::new();
        let mut kv = BTreeMap::new();
        let mut at = |what: &str, spec: &str| -> Result<At, MappingError> {
            if let Some((table, rest)) = spec.split_once('[') {
                let key = rest
                    .strip_suffix(']')
                    .ok_or_else(|| unknown(format!("{what}: `{spec}` should be table[key]")))?;
                let t = find(table).ok_or_else(|| unknown(format!("{what}: no table {table}")))?;
                let shape = subjects::kv_shape(t, &shapes)
                    .ok_or_else(|| unknown(format!("{what}: {table} is not a key-value table")))?;
                let link = subjects::link_column(t, customer, &self.key).ok_or_else(|| {
                    unknown(format!("{what}: nothing ties {table} to {}", self.table))
                })?;
                links.insert(table.to_owned(), link);
                kv.insert(table.to_owned(), shape);
                return Ok(At::Key {
                    table: table.to_owned(),
                    key: key.to_owned(),
                });
            }
            if let Some((table, column)) = spec.split_once('.') {
                if table != self.table {
                    let t =
                        find(table).ok_or_else(|| unknown(format!("{what}: no table {table}")))?;
                    if !t.columns.iter().any(|c| c == column) {
                        return Err(unknown(format!("{what}: {table} has no column {column}")));
                    }
                    let link = subjects::link_column(t, customer, &self.key).ok_or_else(|| {
                        unknown(format!("{what}: nothing ties {table} to {}", self.table))
                    })?;
                    links.insert(table.to_owned(), link);
                    return Ok(At::Tied {
                        table: table.to_owned(),
                        column: column.to_owned(),
                    });
                }
                return own(customer, what, column);
            }
            own(customer, what, spec)
        };
        let mut fields = Vec::new();
        for (code, parts) in &self.fields {
            let e: DataElement = code
                .parse()
                .map_err(|_| MappingError::Element(code.clone()))?;
            let ats = parts
                .list()
                .into_iter()
                .map(|p| at(&format!("fields.{code}"), p))
                .collect::<Result<Vec<_>, _>>()?;
            fields.push((e, ats));
        }
        let country = at("residency.country", &self.residency.country)?;
        let region = self
            .residency
            .region
            .as_deref()
            .map(|r| at("residency.region", r))
            .transpose()?;
        Ok(Resolved {
            mapping: self,
            fields,
            country,
            region,
            links,
            kv,
        })
    }
}

fn own(customer: &TableShape, what: &str, column: &str) -> Result<At, MappingError> {
    if customer.columns.iter().any(|c| c == column) {
        Ok(At::Own(column.to_owned()))
    } else {
        Err(MappingError::Unknown(format!(
            "{what}: {} has no column {column}",
            customer.name
        )))
    }
}

/// An SQL string literal (keys come from the database itself; quoting keeps
/// an odd one from breaking the statement). Literals take the column's type
/// in every dialect read here.
fn literal(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

impl Resolved {
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    fn all(&self) -> impl Iterator<Item = &At> {
        self.fields
            .iter()
            .flat_map(|(_, a)| a)
            .chain(std::iter::once(&self.country))
            .chain(&self.region)
    }

    /// The next batch of customers after `after` (from the first when `None`),
    /// in key order. Empty at the end.
    pub fn batch(
        &self,
        source: &mut dyn Source,
        names: &Names,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Record>, SourceError> {
        let d = source.dialect();
        let q = d.quote;
        let text = d.text;
        let m = &self.mapping;
        // The customer table's own columns, in key order.
        let own: Vec<String> = self
            .all()
            .filter_map(|a| match a {
                At::Own(c) => Some(c.clone()),
                _ => None,
            })
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut cols = vec![text(&q(&m.key))];
        cols.extend(own.iter().map(|c| text(&q(c))));
        let sql = format!(
            "SELECT {} FROM {} WHERE {k} IS NOT NULL{} ORDER BY {k} LIMIT {limit}",
            cols.join(", "),
            q(&m.table),
            after
                .map(|a| format!(" AND {} > {}", q(&m.key), literal(a)))
                .unwrap_or_default(),
            k = q(&m.key),
        );
        let mut order: Vec<String> = Vec::new();
        let mut values: HashMap<String, HashMap<At, String>> = HashMap::new();
        source.query(&sql, &mut |row| {
            let Some(key) = row.first().copied().flatten() else {
                return;
            };
            let v = values.entry(key.to_owned()).or_default();
            for (c, x) in own.iter().zip(row.iter().skip(1)) {
                if let Some(x) = x.filter(|x| !x.trim().is_empty()) {
                    v.insert(At::Own(c.clone()), x.to_owned());
                }
            }
            order.push(key.to_owned());
        })?;
        let (Some(first), Some(last)) = (order.first(), order.last()) else {
            return Ok(Vec::new());
        };
        let range = |link: &str, prefix: &str| {
            format!(
                "{prefix}{l} >= {} AND {prefix}{l} <= {}",
                literal(first),
                literal(last),
                l = q(link)
            )
        };
        // Tied tables: the first non-empty value per customer and column.
        let mut tied: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        let mut keyed: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for a in self.all() {
            match a {
                At::Tied { table, column } => {
                    tied.entry(table).or_default().insert(column);
                }
                At::Key { table, key } => {
                    keyed.entry(table).or_default().insert(key);
                }
                At::Own(_) => {}
            }
        }
        for (table, columns) in tied {
            let link = &self.links[table];
            let columns: Vec<&str> = columns.into_iter().collect();
            let mut cols = vec![text(&q(link))];
            cols.extend(columns.iter().map(|c| text(&q(c))));
            let sql = format!(
                "SELECT {} FROM {} WHERE {} ORDER BY {}",
                cols.join(", "),
                q(table),
                range(link, ""),
                q(link)
            );
            // The first row per customer gives all of its columns, so an
            // address is never pieced together from two.
            let mut seen: BTreeSet<String> = BTreeSet::new();
            source.query(&sql, &mut |row| {
                let Some(k) = row.first().copied().flatten() else {
                    return;
                };
                let Some(v) = values.get_mut(k) else { return };
                if !seen.insert(k.to_owned()) {
                    return;
                }
                for (c, x) in columns.iter().zip(row.iter().skip(1)) {
                    if let Some(x) = x.filter(|x| !x.trim().is_empty()) {
                        v.insert(
                            At::Tied {
                                table: table.to_owned(),
                                column: (*c).to_owned(),
                            },
                            x.to_owned(),
                        );
                    }
                }
            })?;
        }
        for (table, keys) in keyed {
            let link = &self.links[table];
            let list = keys
                .iter()
                .map(|k| literal(k))
                .collect::<Vec<_>>()
                .join(", ");
            // Read by the customer's key range only and filter the keys here:
            // with the key filter in SQL, a planner may walk the key's index
            // across the whole table for every batch.
            let mut codes: HashMap<String, String> = HashMap::new();
            let sql = match &self.kv[table] {
                KvShape::Inline { key, value } => format!(
                    "SELECT {}, {}, {} FROM {} WHERE {}",
                    text(&q(link)),
                    text(&q(key)),
                    text(&q(value)),
                    q(table),
                    range(link, "")
                ),
                KvShape::Eav {
                    attribute_table,
                    attribute_id,
                    attribute_code,
                    value,
                } => {
                    source.query(
                        &format!(
                            "SELECT {}, {} FROM {} WHERE {} IN ({list})",
                            text(&q(attribute_id)),
                            text(&q(attribute_code)),
                            q(attribute_table),
                            q(attribute_code)
                        ),
                        &mut |row| {
                            if let (Some(id), Some(code)) = (
                                row.first().copied().flatten(),
                                row.get(1).copied().flatten(),
                            ) {
                                codes.insert(id.to_owned(), code.to_owned());
                            }
                        },
                    )?;
                    format!(
                        "SELECT {}, {}, {} FROM {} WHERE {}",
                        text(&q(link)),
                        text(&q(attribute_id)),
                        text(&q(value)),
                        q(table),
                        range(link, "")
                    )
                }
            };
            let eav = matches!(self.kv[table], KvShape::Eav { .. });
            source.query(&sql, &mut |row| {
                let (Some(k), Some(name), Some(x)) = (
                    row.first().copied().flatten(),
                    row.get(1).copied().flatten(),
                    row.get(2).copied().flatten(),
                ) else {
                    return;
                };
                let name = if eav {
                    match codes.get(name) {
                        Some(code) => code.as_str(),
                        None => return,
                    }
                } else if keys.contains(name) {
                    name
                } else {
                    return;
                };
                if x.trim().is_empty() {
                    return;
                }
                if let Some(v) = values.get_mut(k) {
                    v.entry(At::Key {
                        table: table.to_owned(),
                        key: name.to_owned(),
                    })
                    .or_insert_with(|| x.to_owned());
                }
            })?;
        }
        Ok(order
            .into_iter()
            .map(|key| {
                let v = values.remove(&key).unwrap_or_default();
                let get = |a: &At| v.get(a).map(String::as_str);
                let mut fields = BTreeMap::new();
                for (e, ats) in &self.fields {
                    let parts: Vec<&str> = ats.iter().filter_map(get).map(str::trim).collect();
                    if !parts.is_empty() {
                        fields.insert(e.code().to_owned(), parts.join(" "));
                    }
                }
                let residency = get(&self.country)
                    .and_then(|c| names.residency(c, self.region.as_ref().and_then(get)));
                Record {
                    external_id: format!("{}{key}", m.external_id_prefix),
                    key,
                    residency,
                    fields,
                }
            })
            .collect())
    }
}
