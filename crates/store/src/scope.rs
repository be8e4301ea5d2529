//! Who was affected, from the access log: every customer a principal (or source
//! address) actually revealed in a window, with the elements revealed and where
//! the customer lives. Refused reveals and lookups expose no PII and do not count.

use std::collections::{BTreeMap, BTreeSet};

use bulwark_model::{DataElement, Residency};
use rusqlite::params;
use serde::Serialize;

use crate::error::Result;
use crate::{Store, StoreError};

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

impl Store {
    /// Exact scope from the access log. Uses the (principal, time) index for
    /// principals; source addresses are matched within the window.
    pub fn scope_from_access_log(&self, q: &ScopeQuery) -> Result<ScopeResult> {
        if q.principals.is_empty() && q.sources.is_empty() {
            let mut e = crate::ValidationErrors::default();
            e.push("principal", "name at least one principal or source address");
            return Err(StoreError::Invalid(e));
        }
        let principals = serde_json::to_string(&q.principals).unwrap_or_default();
        let sources = serde_json::to_string(&q.sources).unwrap_or_default();
        self.read(|c| {
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
        })
    }
}
