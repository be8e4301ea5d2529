//! Who the data is about: which table holds the store's customers, which
//! tables tie rows to a customer, and where each customer lives — as a
//! [`Plan`] of whole-table reads the shell runs, and a [`Tally`] that turns the
//! rows it reads into counts per jurisdiction and element (discovery) or into
//! the exact customers and the elements they have (scope).
//!
//! The plan is inferred from the schema (declared primary and foreign keys
//! first, names next) and from the column reports of the samples; it is
//! plain data, so it can be saved with an asset and run again for scope.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bulwark_model::{DataElement, Residency};
use serde::{Deserialize, Serialize};

use crate::classify::{ColumnReport, Place};
use crate::names::words;
use crate::residency::{phone_country, Names};

/// A table as the schema declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableShape {
    pub name: String,
    pub columns: Vec<String>,
    pub primary_key: Vec<String>,
    pub foreign_keys: Vec<ForeignKey>,
    pub rows: u64,
}

/// `column` refers to `ref_table.ref_column`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    pub column: String,
    pub ref_table: String,
    pub ref_column: String,
}

/// How a key-value table keeps its keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KvShape {
    /// The key is a column of the table (`wp_usermeta.meta_key`).
    Inline { key: String, value: String },
    /// Magento's EAV: the key is the attribute code of another table
    /// (`customer_entity_varchar.attribute_id` → `eav_attribute.attribute_code`).
    Eav {
        attribute_table: String,
        attribute_id: String,
        attribute_code: String,
        value: String,
    },
}

fn has(t: &TableShape, c: &str) -> bool {
    t.columns.iter().any(|x| x.eq_ignore_ascii_case(c))
}

fn column_named<'a>(t: &'a TableShape, c: &str) -> Option<&'a str> {
    t.columns
        .iter()
        .find(|x| x.eq_ignore_ascii_case(c))
        .map(String::as_str)
}

/// Whether `t` is a key-value table, and how.
pub fn kv_shape(t: &TableShape, all: &[TableShape]) -> Option<KvShape> {
    for (k, v) in [
        ("meta_key", "meta_value"),
        ("option_name", "option_value"),
        ("attribute_code", "value"),
    ] {
        if let (Some(k), Some(v)) = (column_named(t, k), column_named(t, v)) {
            return Some(KvShape::Inline {
                key: k.to_owned(),
                value: v.to_owned(),
            });
        }
    }
    let (id, value) = (column_named(t, "attribute_id")?, column_named(t, "value")?);
    let attrs = all.iter().find(|a| {
        a.name != t.name
            && a.name.to_ascii_lowercase().ends_with("attribute")
            && has(a, "attribute_id")
            && has(a, "attribute_code")
    })?;
    Some(KvShape::Eav {
        attribute_table: attrs.name.clone(),
        attribute_id: id.to_owned(),
        attribute_code: column_named(attrs, "attribute_code")?.to_owned(),
        value: value.to_owned(),
    })
}

/// What one value read by a scan says about its customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Read {
    /// A non-empty value means the customer has this element here.
    Element {
        element: DataElement,
    },
    /// The country of a residency group (0 billing or plain, 1 shipping).
    Country {
        group: u8,
    },
    Region {
        group: u8,
    },
    /// The value is a JSON document: these paths are elements…
    JsonElement {
        path: Vec<String>,
        element: DataElement,
    },
    /// …and these the residency.
    JsonCountry {
        path: Vec<String>,
        group: u8,
    },
    JsonRegion {
        path: Vec<String>,
        group: u8,
    },
}

/// One column of a [`ScanKind::Columns`] read and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnRead {
    pub column: String,
    pub reads: Vec<Read>,
}

/// One key of a key-value read and what its values say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRead {
    pub key: String,
    pub reads: Vec<Read>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ScanKind {
    /// `SELECT key, c1, c2, … FROM table`: rows are `[key, c1, c2, …]`.
    Columns { columns: Vec<ColumnRead> },
    /// The rows of a key-value table under the keys named: rows are
    /// `[customer key, key, value]`.
    Pairs { shape: KvShape, keys: Vec<KeyRead> },
}

/// A whole-table read the shell runs, in the plan's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scan {
    pub table: String,
    /// The column holding the customer's key in this table.
    pub key: String,
    pub kind: ScanKind,
}

impl Scan {
    /// The elements this scan can show.
    pub fn elements(&self) -> BTreeSet<DataElement> {
        let reads: Vec<&Read> = match &self.kind {
            ScanKind::Columns { columns } => columns.iter().flat_map(|c| &c.reads).collect(),
            ScanKind::Pairs { keys, .. } => keys.iter().flat_map(|k| &k.reads).collect(),
        };
        reads
            .into_iter()
            .filter_map(|r| match r {
                Read::Element { element } | Read::JsonElement { element, .. } => Some(*element),
                _ => None,
            })
            .collect()
    }
}

/// How to read the store's customers: the customer table and key, then the
/// scans (the first is the customer table's own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub customer_table: String,
    pub customer_key: String,
    pub scans: Vec<Scan>,
    /// Where residency is read from, in words, for the report.
    pub residency_from: Vec<String>,
}

const PERSON_WORDS: &[&str] = &[
    "customer",
    "customers",
    "user",
    "users",
    "member",
    "members",
    "account",
    "accounts",
    "client",
    "clients",
    "shopper",
    "shoppers",
    "buyer",
    "buyers",
    "people",
    "person",
    "persons",
    "contact",
    "contacts",
];
/// Tables that hold people's e-mail addresses but are not the customer list.
const NOT_CUSTOMER_WORDS: &[&str] = &[
    "order",
    "orders",
    "sales",
    "quote",
    "log",
    "logs",
    "newsletter",
    "subscriber",
    "review",
    "invoice",
    "shipment",
    "history",
    "audit",
    "cart",
    "admin",
    "grid",
    "flat",
    "tmp",
    "backup",
    "archive",
    "queue",
    "session",
    "sessions",
    "token",
    "tokens",
];

fn customer_score(t: &TableShape) -> i32 {
    let w = words(&t.name);
    let mut s = 0;
    if w.iter().any(|x| PERSON_WORDS.contains(&x.as_str())) {
        s += 10;
    }
    if w.iter().any(|x| NOT_CUSTOMER_WORDS.contains(&x.as_str())) {
        s -= 20;
    }
    s
}

fn key_of(t: &TableShape) -> Option<String> {
    if let [pk] = t.primary_key.as_slice() {
        return Some(pk.clone());
    }
    [
        "id",
        "entity_id",
        "customer_id",
        "id_customer",
        "user_id",
        "uuid",
    ]
    .iter()
    .find_map(|c| column_named(t, c).map(str::to_owned))
}

fn singular(table: &str) -> String {
    let last = table
        .rsplit('_')
        .next()
        .unwrap_or(table)
        .to_ascii_lowercase();
    last.strip_suffix('s').unwrap_or(&last).to_owned()
}

/// The column of `l` that holds the key of customer table `t`, if any:
/// a declared foreign key, else a name such as `customer_id`.
pub fn link_column(l: &TableShape, t: &TableShape, key: &str) -> Option<String> {
    if let Some(fk) = l.foreign_keys.iter().find(|f| {
        f.ref_table.eq_ignore_ascii_case(&t.name) && f.ref_column.eq_ignore_ascii_case(key)
    }) {
        return Some(fk.column.clone());
    }
    let one = singular(&t.name);
    let mut names = vec!["customer_id".to_owned(), "id_customer".to_owned()];
    // `customer_entity` → `entity_id` would tie every table to it.
    if !["entity", "data", "table", "main", "info", "list"].contains(&one.as_str()) {
        names.extend([format!("{one}_id"), format!("id_{one}"), format!("{one}id")]);
    }
    let lower = l.name.to_ascii_lowercase();
    if lower.starts_with(&format!("{}_", t.name.to_ascii_lowercase())) {
        // Magento's customer_entity_varchar.entity_id → customer_entity.entity_id.
        names.push(key.to_owned());
        names.push("parent_id".to_owned());
    }
    names
        .iter()
        .find_map(|n| column_named(l, n).map(str::to_owned))
        .filter(|c| !l.primary_key.iter().any(|p| p == c) || l.primary_key.len() > 1)
}

/// Residency role of a name: country or region, and the group (0 billing or
/// plain, 1 shipping or delivery).
fn residency_role(name: &str) -> Option<(bool, u8)> {
    let w = words(name);
    let is = |x: &str| w.iter().any(|t| t == x);
    let group = u8::from(is("shipping") || is("delivery") || is("ship"));
    if is("country") || is("countrycode") || (is("iso") && w.len() <= 2) {
        return Some((true, group));
    }
    // `region_id` is the shop's own key into its region table, not a code.
    if (is("region") || is("state") || is("province") || is("subdivision")) && !is("id") {
        return Some((false, group));
    }
    None
}

fn residency_read(role: (bool, u8)) -> Read {
    match role {
        (true, group) => Read::Country { group },
        (false, group) => Read::Region { group },
    }
}

/// Builds the plan from the schema and the column reports of discovery
/// (all of them, including those below the reporting confidence: a
/// country column holds no element but says where the customer lives).
/// `None` when no table looks like a customer list.
pub fn plan(tables: &[TableShape], reports: &[ColumnReport]) -> Option<Plan> {
    let email_tables: BTreeSet<&str> = reports
        .iter()
        .filter(|r| r.element == Some(DataElement::Email) && r.place == Place::Column)
        .map(|r| r.table.as_str())
        .collect();
    let customer = tables
        .iter()
        .filter(|t| email_tables.contains(t.name.as_str()) && key_of(t).is_some())
        .filter(|t| customer_score(t) >= 0)
        .max_by(|a, b| {
            customer_score(a)
                .cmp(&customer_score(b))
                .then(a.rows.cmp(&b.rows))
                .then(b.name.len().cmp(&a.name.len()))
        })?;
    let key = key_of(customer)?;

    fn reports_of<'r>(
        reports: &'r [ColumnReport],
        table: &'r str,
    ) -> impl Iterator<Item = &'r ColumnReport> + 'r {
        reports.iter().filter(move |r| r.table == table)
    }
    let element_reads =
        |table: &str| -> BTreeMap<String, Vec<Read>> {
            let mut by_column: BTreeMap<String, Vec<Read>> = BTreeMap::new();
            for r in reports_of(reports, table) {
                let Some(element) = r.element else { continue };
                match &r.place {
                    Place::Column => by_column
                        .entry(r.column.clone())
                        .or_default()
                        .push(Read::Element { element }),
                    Place::Json { column, path } => by_column
                        .entry(column.clone())
                        .or_default()
                        .push(Read::JsonElement {
                            path: path.clone(),
                            element,
                        }),
                    Place::Key { .. } => {}
                }
            }
            by_column
        };
    let residency_reads = |t: &TableShape| -> BTreeMap<String, Vec<Read>> {
        let mut by_column: BTreeMap<String, Vec<Read>> = BTreeMap::new();
        for c in &t.columns {
            if let Some(role) = residency_role(c) {
                by_column
                    .entry(c.clone())
                    .or_default()
                    .push(residency_read(role));
            }
        }
        for r in reports_of(reports, &t.name) {
            if let Place::Json { column, path } = &r.place {
                if path.iter().any(|p| p == "[]") {
                    continue;
                }
                let Some(last) = path.last() else { continue };
                if let Some((country, group)) = residency_role(last) {
                    let path = path.clone();
                    by_column
                        .entry(column.clone())
                        .or_default()
                        .push(if country {
                            Read::JsonCountry { path, group }
                        } else {
                            Read::JsonRegion { path, group }
                        });
                }
            }
        }
        by_column
    };
    let has_country = |reads: &BTreeMap<String, Vec<Read>>| {
        reads
            .values()
            .flatten()
            .any(|r| matches!(r, Read::Country { .. } | Read::JsonCountry { .. }))
    };

    // Tiers of residency: the customer's own row (and its key-value
    // attributes), else address tables tied to it, else any tied table.
    let mut scans = Vec::new();
    let mut tier: [Vec<usize>; 3] = Default::default();
    let mut residency_columns: Vec<BTreeMap<String, Vec<Read>>> = Vec::new();
    let mut kv_residency: Vec<Vec<KeyRead>> = Vec::new();
    let ordered =
        std::iter::once(customer).chain(tables.iter().filter(|t| t.name != customer.name));
    for t in ordered {
        let link = if t.name == customer.name {
            Some(key.clone())
        } else {
            link_column(t, customer, &key)
        };
        let Some(link) = link else { continue };
        if let Some(shape) = kv_shape(t, tables) {
            let mut keys: BTreeMap<String, Vec<Read>> = BTreeMap::new();
            let mut residency = Vec::new();
            for r in reports_of(reports, &t.name) {
                let Place::Key { key } = &r.place else {
                    continue;
                };
                if let Some(element) = r.element {
                    keys.entry(key.clone())
                        .or_default()
                        .push(Read::Element { element });
                }
                if let Some(role) = residency_role(key) {
                    residency.push(KeyRead {
                        key: key.clone(),
                        reads: vec![residency_read(role)],
                    });
                }
            }
            let n = scans.len();
            if residency
                .iter()
                .any(|k| matches!(k.reads[0], Read::Country { .. }))
            {
                tier[0].push(n);
            }
            kv_residency.push(residency);
            residency_columns.push(BTreeMap::new());
            scans.push(Scan {
                table: t.name.clone(),
                key: link,
                kind: ScanKind::Pairs {
                    shape,
                    keys: keys
                        .into_iter()
                        .map(|(key, reads)| KeyRead { key, reads })
                        .collect(),
                },
            });
            continue;
        }
        let elements = element_reads(&t.name);
        let residency = residency_reads(t);
        let own = t.name == customer.name;
        if !own && elements.is_empty() && !has_country(&residency) {
            continue;
        }
        let n = scans.len();
        if has_country(&residency) {
            let lower = t.name.to_ascii_lowercase();
            tier[if own {
                0
            } else if lower.contains("address") {
                1
            } else {
                2
            }]
            .push(n);
        }
        residency_columns.push(residency);
        kv_residency.push(Vec::new());
        scans.push(Scan {
            table: t.name.clone(),
            key: link,
            kind: ScanKind::Columns {
                columns: elements
                    .into_iter()
                    .map(|(column, reads)| ColumnRead { column, reads })
                    .collect(),
            },
        });
    }
    // Residency is read from the first tier that has any.
    let chosen: Vec<usize> = tier.into_iter().find(|t| !t.is_empty()).unwrap_or_default();
    let mut residency_from = Vec::new();
    for i in chosen {
        let scan = &mut scans[i];
        match &mut scan.kind {
            ScanKind::Columns { columns } => {
                for (column, reads) in std::mem::take(&mut residency_columns[i]) {
                    residency_from.push(format!("{}.{column}", scan.table));
                    match columns.iter_mut().find(|c| c.column == column) {
                        Some(c) => c.reads.extend(reads),
                        None => columns.push(ColumnRead { column, reads }),
                    }
                }
            }
            ScanKind::Pairs { keys, .. } => {
                for k in std::mem::take(&mut kv_residency[i]) {
                    residency_from.push(format!("{}[{}]", scan.table, k.key));
                    match keys.iter_mut().find(|x| x.key == k.key) {
                        Some(x) => x.reads.extend(k.reads),
                        None => keys.push(k),
                    }
                }
            }
        }
    }
    Some(Plan {
        customer_table: customer.name.clone(),
        customer_key: key,
        scans,
        residency_from,
    })
}

/// Customers in one jurisdiction, and per element.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JurisdictionCount {
    pub customers: u64,
    pub by_element: BTreeMap<DataElement, u64>,
}

/// How residency was known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidencyCounts {
    /// From country (and region) columns.
    pub from_records: u64,
    /// Only from the international prefix of a phone number (weaker).
    pub from_phone: u64,
    pub unknown: u64,
    /// Counted in more than one jurisdiction (addresses in several countries).
    pub several: u64,
}

/// The counts the obligations engine needs, without a single value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub customers: u64,
    pub by_element: BTreeMap<DataElement, u64>,
    /// Subdivision code when known (`US-CA`), else country (`DE`).
    pub by_jurisdiction: BTreeMap<String, JurisdictionCount>,
    pub residency: ResidencyCounts,
    /// Rows of tied tables whose key is no customer of the customer table.
    pub orphan_rows: u64,
}

/// One customer as a tally knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub key: String,
    pub residencies: Vec<Residency>,
    /// Residency only from a phone prefix.
    pub residency_from_phone: bool,
    pub elements: BTreeSet<DataElement>,
}

#[derive(Default)]
struct Facts {
    customer: bool,
    /// Elements present in rows that count (bit per `DataElement::ALL` index).
    elements: u32,
    residencies: Vec<Residency>,
    phone: Option<&'static str>,
}

impl Facts {
    /// A present value of `element`; a phone also says a country, weakly.
    fn hold(&mut self, element: DataElement, v: &str, counts: bool) {
        if counts {
            self.elements |= bit(element);
        }
        if element == DataElement::Phone && self.phone.is_none() {
            self.phone = phone_country(v);
        }
    }
}

/// A residency group's country and region as read so far.
type Parts = [(Option<String>, Option<String>); 2];

fn bit(e: DataElement) -> u32 {
    let i = DataElement::ALL.iter().position(|x| *x == e).unwrap_or(0);
    1 << i
}

fn present(v: Option<&str>) -> Option<&str> {
    v.map(str::trim)
        .filter(|v| !v.is_empty() && *v != "0000-00-00" && !v.eq_ignore_ascii_case("null"))
}

fn json_at<'a>(doc: &'a serde_json::Value, path: &[String]) -> Vec<&'a serde_json::Value> {
    let mut cur = vec![doc];
    for p in path {
        let mut next = Vec::new();
        for v in cur {
            if p == "[]" {
                if let serde_json::Value::Array(a) = v {
                    next.extend(a.iter().take(100));
                }
            } else if let Some(x) = v.get(p) {
                next.push(x);
            }
        }
        cur = next;
    }
    cur
}

fn json_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Folds the rows of a plan's scans into per-customer facts. Rows of scans
/// that do not `count` still give residency but no exposed element (scope
/// from some compromised tables).
pub struct Tally<'n> {
    names: &'n Names,
    facts: HashMap<String, Facts>,
    /// Key-value residency parts per customer, until the scan ends.
    pending: HashMap<String, Parts>,
    orphan_rows: u64,
}

impl<'n> Tally<'n> {
    pub fn new(names: &'n Names) -> Tally<'n> {
        Tally {
            names,
            facts: HashMap::new(),
            pending: HashMap::new(),
            orphan_rows: 0,
        }
    }

    /// Feeds one row of `scan` (`[key, values…]` as [`ScanKind`] says).
    /// `base`: the scan is the customer table's own (its keys are the
    /// customers); `counts`: its elements count as held or exposed.
    pub fn row(&mut self, scan: &Scan, base: bool, counts: bool, row: &[Option<&str>]) {
        let Some(key) = row
            .first()
            .copied()
            .flatten()
            .map(str::trim)
            .filter(|k| !k.is_empty())
        else {
            return;
        };
        if !base && !self.facts.contains_key(key) {
            self.orphan_rows += 1;
            return;
        }
        let names = self.names;
        let f = self.facts.entry(key.to_owned()).or_default();
        f.customer |= base;
        match &scan.kind {
            ScanKind::Columns { columns } => {
                let mut parts: Parts = Default::default();
                for (c, v) in columns.iter().zip(row.iter().skip(1)) {
                    let Some(v) = present(v.as_deref()) else {
                        continue;
                    };
                    let mut doc: Option<Option<serde_json::Value>> = None;
                    for r in &c.reads {
                        match r {
                            Read::Element { element } => f.hold(*element, v, counts),
                            Read::Country { group } => {
                                parts[usize::from(*group).min(1)]
                                    .0
                                    .get_or_insert(v.to_owned());
                            }
                            Read::Region { group } => {
                                parts[usize::from(*group).min(1)]
                                    .1
                                    .get_or_insert(v.to_owned());
                            }
                            Read::JsonElement { path, element } => {
                                let d = doc.get_or_insert_with(|| parse_json(v));
                                if let Some(d) = d {
                                    if counts
                                        && json_at(d, path).iter().any(|x| json_text(x).is_some())
                                    {
                                        f.elements |= bit(*element);
                                    }
                                }
                            }
                            Read::JsonCountry { path, group }
                            | Read::JsonRegion { path, group } => {
                                let d = doc.get_or_insert_with(|| parse_json(v));
                                let Some(d) = d else { continue };
                                let Some(text) =
                                    json_at(d, path).first().and_then(|x| json_text(x))
                                else {
                                    continue;
                                };
                                let slot = &mut parts[usize::from(*group).min(1)];
                                if matches!(r, Read::JsonCountry { .. }) {
                                    slot.0.get_or_insert(text);
                                } else {
                                    slot.1.get_or_insert(text);
                                }
                            }
                        }
                    }
                }
                if let Some(r) = parts
                    .iter()
                    .find_map(|(c, r)| names.residency(c.as_deref()?, r.as_deref()))
                {
                    if !f.residencies.contains(&r) {
                        f.residencies.push(r);
                    }
                }
            }
            ScanKind::Pairs { keys, .. } => {
                let (Some(k), Some(v)) = (
                    row.get(1).copied().flatten(),
                    present(row.get(2).copied().flatten()),
                ) else {
                    return;
                };
                let Some(kr) = keys.iter().find(|x| x.key == k) else {
                    return;
                };
                for r in &kr.reads {
                    match r {
                        Read::Element { element } => f.hold(*element, v, counts),
                        Read::Country { group } => {
                            let p = self.pending.entry(key.to_owned()).or_default();
                            p[usize::from(*group).min(1)].0 = Some(v.to_owned());
                        }
                        Read::Region { group } => {
                            let p = self.pending.entry(key.to_owned()).or_default();
                            p[usize::from(*group).min(1)].1 = Some(v.to_owned());
                        }
                        _ => {}
                    }
                }
            }
        }
    }

    /// Ends a key-value scan: its residency parts become residencies.
    pub fn end_scan(&mut self) {
        let names = self.names;
        for (key, parts) in std::mem::take(&mut self.pending) {
            let Some(f) = self.facts.get_mut(&key) else {
                continue;
            };
            if let Some(r) = parts
                .iter()
                .find_map(|(c, r)| names.residency(c.as_deref()?, r.as_deref()))
            {
                if !f.residencies.contains(&r) {
                    f.residencies.push(r);
                }
            }
        }
    }

    /// Every customer with its residencies and elements (those with
    /// `only_exposed` keep only customers that have an element).
    pub fn subjects(self, only_exposed: bool) -> Vec<Subject> {
        let mut out: Vec<Subject> = self
            .facts
            .into_iter()
            .filter(|(_, f)| f.customer && (!only_exposed || f.elements != 0))
            .map(|(key, f)| {
                let from_phone = f.residencies.is_empty() && f.phone.is_some();
                let residencies = if from_phone {
                    f.phone
                        .map(|c| {
                            vec![Residency {
                                country: c.to_owned(),
                                subdivision: None,
                            }]
                        })
                        .unwrap_or_default()
                } else {
                    f.residencies
                };
                Subject {
                    key,
                    residencies,
                    residency_from_phone: from_phone,
                    elements: DataElement::ALL
                        .iter()
                        .copied()
                        .filter(|e| f.elements & bit(*e) != 0)
                        .collect(),
                }
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }

    /// The counts per jurisdiction and element.
    pub fn counts(self) -> Counts {
        let orphan_rows = self.orphan_rows;
        let mut c = Counts {
            orphan_rows,
            ..Counts::default()
        };
        for s in self.subjects(false) {
            c.customers += 1;
            for e in &s.elements {
                *c.by_element.entry(*e).or_default() += 1;
            }
            match (s.residencies.len(), s.residency_from_phone) {
                (0, _) => c.residency.unknown += 1,
                (_, true) => c.residency.from_phone += 1,
                (n, false) => {
                    c.residency.from_records += 1;
                    if n > 1 {
                        c.residency.several += 1;
                    }
                }
            }
            for r in &s.residencies {
                let j = r.subdivision.clone().unwrap_or_else(|| r.country.clone());
                let jc = c.by_jurisdiction.entry(j).or_default();
                jc.customers += 1;
                for e in &s.elements {
                    *jc.by_element.entry(*e).or_default() += 1;
                }
            }
        }
        c
    }
}

fn parse_json(v: &str) -> Option<serde_json::Value> {
    if v.len() > crate::classify::MAX_JSON_BYTES {
        return None;
    }
    serde_json::from_str(v).ok()
}
