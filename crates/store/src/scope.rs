//! Who was affected, and with what:
//! - from the access log: every customer a principal (or source address)
//!   actually revealed in a window, with the elements revealed and where the
//!   customer lives. Refused reveals and lookups expose no PII and do not count;
//! - from a compromised system in the asset inventory (`assets.json`): every
//!   vault customer whose data that system held (see [`Store::scope_from_asset`]).
//!
//! [`ScopeResult::summary`] turns either into the counts an incident's scope
//! snapshot records (the CLI and the API write the same shape), and
//! [`Store::scope_snapshot`] reads a snapshot back without any PII value.

use std::collections::{BTreeMap, BTreeSet};

use bulwark_incident::Asset;
use bulwark_model::{DataElement, Residency};
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::Result;
use crate::{Pending, Store, StoreError};

#[derive(Debug, Clone, Default)]
pub struct ScopeQuery {
    /// `key:<id>` or `operator:<name>`; any of them.
    pub principals: Vec<String>,
    /// Source addresses; any of them.
    pub sources: Vec<String>,
    pub since_ms: i64,
    pub until_ms: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AffectedCustomer {
    pub id: String,
    /// `None` when the customer has been erased since (residency unknown).
    pub residency: Option<Residency>,
    pub elements: BTreeSet<DataElement>,
    pub reveals: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScopeResult {
    pub customers: Vec<AffectedCustomer>,
    pub reveals: u64,
    pub by_element: BTreeMap<DataElement, u64>,
}

/// Why a scope could not be computed from the access log.
#[derive(Debug, thiserror::Error)]
pub enum ScopeQueryError {
    #[error("invalid input: {0}")]
    Invalid(#[from] crate::ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Exact scope from the access log. Uses the (principal, time) index for
    /// principals; source addresses are matched within the window.
    pub fn scope_from_access_log(&self, q: &ScopeQuery) -> Result<ScopeResult, ScopeQueryError> {
        if q.principals.is_empty() && q.sources.is_empty() {
            let mut e = crate::ValidationErrors::default();
            e.push("principal", "name at least one principal or source address");
            return Err(ScopeQueryError::Invalid(e));
        }
        let encode = |e: serde_json::Error| StoreError::corrupt(format!("a scope query: {e}"));
        let principals = serde_json::to_string(&q.principals).map_err(encode)?;
        let sources = serde_json::to_string(&q.sources).map_err(encode)?;
        Ok(self.read(|c| {
            // Two indexed arms (principal, source) rather than one OR, so each uses its index.
            let mut stmt = c.prepare_cached(
                "WITH hits AS (
                     SELECT a.customer_id, a.elements FROM access_log a
                     WHERE a.principal IN (SELECT value FROM json_each(?1))
                       AND a.at_ms >= ?3 AND a.at_ms < ?4 AND a.action = 'reveal' AND a.outcome = 'allowed'
                     UNION ALL
                     SELECT a.customer_id, a.elements FROM access_log a
                     WHERE a.source IN (SELECT value FROM json_each(?2))
                       AND a.principal NOT IN (SELECT value FROM json_each(?1))
                       AND a.at_ms >= ?3 AND a.at_ms < ?4 AND a.action = 'reveal' AND a.outcome = 'allowed'
                 )
                 SELECT h.customer_id, group_concat(h.elements, ','), COUNT(*), c.country, c.subdivision
                 FROM hits h LEFT JOIN customers c ON c.id = h.customer_id
                 WHERE h.customer_id IS NOT NULL
                 GROUP BY h.customer_id",
            )?;
            let mut rows = stmt.query(params![principals, sources, q.since_ms, q.until_ms])?;
            let mut customers = Vec::new();
            let mut by_element: BTreeMap<DataElement, u64> = BTreeMap::new();
            let mut reveals = 0u64;
            while let Some(r) = rows.next()? {
                let id: String = r.get(0)?;
                let codes: String = r.get(1)?;
                let n: i64 = r.get(2)?;
                let country: Option<String> = r.get(3)?;
                let elements: BTreeSet<DataElement> =
                    codes.split(',').filter_map(|c| c.parse().ok()).collect();
                for e in &elements {
                    *by_element.entry(*e).or_default() += 1;
                }
                reveals += n as u64;
                customers.push(AffectedCustomer {
                    id,
                    residency: country.map(|country| Residency { country, subdivision: r.get(4).ok().flatten() }),
                    elements,
                    reveals: n as u64,
                });
            }
            Ok(ScopeResult { customers, reveals, by_element })
        })?)
    }
}

/// What a scope was computed from; recorded as the snapshot summary's `source`
/// and `query`.
#[derive(Debug, Clone)]
pub enum ScopeBasis {
    /// The vault's access log (`source: "access_log"`).
    AccessLog(ScopeQuery),
    /// A compromised system from the asset inventory (`source: "asset"`).
    Asset(Asset),
    /// A compromised system's own database, queried for the customers of the
    /// compromised tables (`source: "database"`).
    Database {
        asset: String,
        /// The database, without credentials.
        database: String,
        tables: Vec<String>,
        filter: Option<String>,
        elements: BTreeSet<DataElement>,
    },
    /// An imported export of a compromised system (`source: "import"`), taken at `at_ms`.
    Import {
        elements: BTreeSet<DataElement>,
        at_ms: i64,
    },
}

impl ScopeBasis {
    fn source(&self) -> &'static str {
        match self {
            ScopeBasis::AccessLog(_) => "access_log",
            ScopeBasis::Asset(_) => "asset",
            ScopeBasis::Database { .. } => "database",
            ScopeBasis::Import { .. } => "import",
        }
    }

    fn query(&self) -> serde_json::Value {
        match self {
            ScopeBasis::AccessLog(q) => serde_json::json!({
                "principals": q.principals, "sources": q.sources, "since_ms": q.since_ms, "until_ms": q.until_ms,
            }),
            ScopeBasis::Asset(a) => serde_json::json!({
                "asset": a.name, "elements": a.elements, "declared_customers": a.customers,
            }),
            ScopeBasis::Database {
                asset,
                database,
                tables,
                filter,
                elements,
            } => serde_json::json!({
                "asset": asset, "database": database, "tables": tables, "where": filter, "elements": elements,
            }),
            ScopeBasis::Import { elements, at_ms } => serde_json::json!({
                "principals": [], "sources": [], "since_ms": at_ms, "until_ms": at_ms, "elements": elements,
            }),
        }
    }
}

/// The counts of a scope, as stored in an incident's scope snapshot (`summary`)
/// and answered by the API. No customer ids and no PII: counts, elements and
/// jurisdiction codes only.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScopeSummary {
    /// What was asked: for `access_log` the principals, sources and window; for
    /// `asset` the system; for `import` the elements and when.
    pub query: serde_json::Value,
    /// `access_log`, `asset`, `database` or `import`.
    pub source: String,
    /// Affected customers, including those whose residency is unknown.
    pub customers: usize,
    pub reveals: u64,
    /// Customers per exposed element.
    pub by_element: BTreeMap<DataElement, u64>,
    /// Customers per jurisdiction (subdivision when known, else country).
    pub by_jurisdiction: BTreeMap<String, u64>,
    /// Jurisdiction × element-combination groups (`bulwark_law::aggregate`):
    /// the `affected` of an obligations scenario.
    pub affected: Vec<bulwark_law::Affected>,
    /// Customers erased since (no residency, so in no jurisdiction group).
    pub residency_unknown: usize,
    pub encrypted: bool,
    pub key_compromised: bool,
}

impl ScopeResult {
    /// Keeps the customers `keep` says, with the counts recomputed.
    pub fn retain(&mut self, mut keep: impl FnMut(&AffectedCustomer) -> bool) {
        self.customers.retain(|c| keep(c));
        self.reveals = self.customers.iter().map(|c| c.reveals).sum();
        self.by_element.clear();
        for c in &self.customers {
            for e in &c.elements {
                *self.by_element.entry(*e).or_default() += 1;
            }
        }
    }

    /// The snapshot summary of this result: counts by element, by jurisdiction
    /// and by jurisdiction × element combination.
    pub fn summary(
        &self,
        basis: &ScopeBasis,
        encrypted: bool,
        key_compromised: bool,
    ) -> ScopeSummary {
        let known: Vec<(String, Vec<DataElement>)> = self
            .customers
            .iter()
            .filter_map(|c| {
                c.residency.as_ref().map(|r| {
                    (
                        bulwark_law::jurisdiction_of(r),
                        c.elements.iter().copied().collect(),
                    )
                })
            })
            .collect();
        let residency_unknown = self.customers.len() - known.len();
        let affected =
            bulwark_law::aggregate(known.iter().map(|(j, e)| (j.as_str(), e.as_slice())));
        let mut by_jurisdiction: BTreeMap<String, u64> = BTreeMap::new();
        for g in &affected {
            *by_jurisdiction.entry(g.jurisdiction.clone()).or_default() += g.count;
        }
        ScopeSummary {
            query: basis.query(),
            source: basis.source().to_owned(),
            customers: self.customers.len(),
            reveals: self.reveals,
            by_element: self.by_element.clone(),
            by_jurisdiction,
            affected,
            residency_unknown,
            encrypted,
            key_compromised,
        }
    }
}

/// One customer of a stored scope snapshot: id, residency and exposed elements;
/// never a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScopedCustomer {
    pub id: String,
    pub residency: Option<Residency>,
    pub elements: BTreeSet<DataElement>,
}

/// A stored scope snapshot of an incident.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScopeSnapshot {
    pub incident: u64,
    pub version: u32,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    pub summary: ScopeSummary,
    pub customers: Vec<ScopedCustomer>,
}

impl Store {
    /// Scope of a compromised system: every vault customer whose data `asset`
    /// held, with residency from the vault and `reveals` 0.
    ///
    /// Which customers and elements: the asset's elements, intersected per
    /// customer with the elements the vault holds for that customer (a card
    /// processor did not hold a card for a customer without one). An asset
    /// element the vault holds for *no* customer (e.g. purchase history kept
    /// only in the shop system) is one the vault cannot tell anything about, so
    /// it is counted as exposed for every customer rather than dropped: scope may
    /// be overstated, never silently understated. A customer left with no element
    /// is not affected. Customers erased before this runs are not in the vault
    /// and so not in scope.
    pub fn scope_from_asset(&self, asset: &Asset) -> Result<ScopeResult> {
        let codes: Vec<&str> = asset.elements.iter().map(|e| e.code()).collect();
        let codes = serde_json::to_string(&codes)
            .map_err(|e| StoreError::corrupt(format!("an asset's elements: {e}")))?;
        let mut customers = self.read(|c| {
            // One indexed probe of customer_fields (customer_id, element) per customer.
            let mut stmt = c.prepare_cached(
                "SELECT c.id, c.country, c.subdivision,
                        (SELECT group_concat(f.element) FROM customer_fields f
                         WHERE f.customer_id = c.id AND f.element IN (SELECT value FROM json_each(?1)))
                 FROM customers c ORDER BY c.id",
            )?;
            let mut rows = stmt.query([codes])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                let held: Option<String> = r.get(3)?;
                out.push(AffectedCustomer {
                    id: r.get(0)?,
                    residency: Some(Residency {
                        country: r.get(1)?,
                        subdivision: r.get(2)?,
                    }),
                    elements: held
                        .as_deref()
                        .unwrap_or("")
                        .split(',')
                        .filter_map(|c| c.parse().ok())
                        .collect(),
                    reveals: 0,
                });
            }
            Ok(out)
        })?;
        let tracked: BTreeSet<DataElement> = customers
            .iter()
            .flat_map(|c| c.elements.iter().copied())
            .collect();
        let untracked: Vec<DataElement> = asset.elements.difference(&tracked).copied().collect();
        let mut by_element: BTreeMap<DataElement, u64> = BTreeMap::new();
        customers.retain_mut(|c| {
            c.elements.extend(untracked.iter().copied());
            for e in &c.elements {
                *by_element.entry(*e).or_default() += 1;
            }
            !c.elements.is_empty()
        });
        Ok(ScopeResult {
            customers,
            reveals: 0,
            by_element,
        })
    }

    /// Saves `result` as the next scope snapshot of incident `id` (summary from
    /// [`ScopeResult::summary`]). Returns the version.
    pub fn save_scope(
        &self,
        id: u64,
        result: &ScopeResult,
        summary: &ScopeSummary,
        actor: &str,
    ) -> Result<Pending<u32, crate::IncidentChangeError>> {
        let encode = |what: &str, e: serde_json::Error| {
            StoreError::corrupt(format!("the scope {what} could not be encoded: {e}"))
        };
        let summary = serde_json::to_value(summary).map_err(|e| encode("summary", e))?;
        let customers =
            serde_json::to_value(&result.customers).map_err(|e| encode("customers", e))?;
        Ok(self.save_scope_snapshot(id, summary, customers, actor))
    }

    /// The newest scope snapshot of incident `id` (customers without `reveals`),
    /// or `None` when it has none (or does not exist).
    pub fn scope_snapshot(&self, id: u64) -> Result<Option<ScopeSnapshot>> {
        let row: Option<(u32, i64, String, String, String)> = self.read(|c| {
            Ok(c.query_row(
                "SELECT version, at_ms, actor, summary, customers FROM scope_snapshots
                 WHERE incident_id = ?1 ORDER BY version DESC LIMIT 1",
                [id as i64],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?)
        })?;
        let Some((version, at_ms, actor, summary, customers)) = row else {
            return Ok(None);
        };
        let corrupt = |what: &str, e: serde_json::Error| {
            StoreError::Corrupt(format!(
                "scope v{version} of incident {id}: {what}: {}",
                crate::describe_json_error(&e)
            ))
        };
        let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000).map_err(
            |_| StoreError::Corrupt(format!("scope v{version} of incident {id}: bad time")),
        )?;
        Ok(Some(ScopeSnapshot {
            incident: id,
            version,
            at,
            actor,
            summary: serde_json::from_str(&summary).map_err(|e| corrupt("summary", e))?,
            customers: serde_json::from_str(&customers).map_err(|e| corrupt("customers", e))?,
        }))
    }
}
