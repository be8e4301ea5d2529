//! The critical-asset inventory as plan input, and the ranking the seeds ask
//! for: "what data do you hold that would be devastating if compromised?"
//!
//! Rank = sensitivity × volume, where sensitivity is the sum of the element
//! weights below (held elements compound: a name next to a national id is
//! worse than either alone) and volume is the number of customers.

use std::collections::{BTreeMap, BTreeSet};

use bulwark_model::DataElement;
use serde::{Deserialize, Serialize};

/// How much harm one element does when exposed, 1 (public-ish) to 10 (enables
/// fraud or identity theft directly, or cannot be changed). This is the one
/// place the weights live; the plan prints them so the ranking can be checked.
pub fn sensitivity_weight(e: DataElement) -> u32 {
    match e {
        // Cannot be changed, or directly enables fraud.
        DataElement::CardSecurityCode | DataElement::NationalId | DataElement::Biometric => 10,
        DataElement::CardNumber | DataElement::Password | DataElement::Health => 9,
        DataElement::BankAccount | DataElement::Passport | DataElement::TaxId => 8,
        DataElement::DriversLicense | DataElement::SecurityQa => 7,
        // Identity-theft helpers.
        DataElement::DateOfBirth => 5,
        DataElement::CardExpiry | DataElement::Geolocation => 4,
        DataElement::PostalAddress | DataElement::PurchaseHistory => 3,
        // Contact and account identifiers: phishing fuel.
        DataElement::Email | DataElement::Phone | DataElement::Username => 2,
        DataElement::Name | DataElement::IpAddress => 1,
    }
}

/// A system that holds customer data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Asset {
    pub name: String,
    pub elements: BTreeSet<DataElement>,
    /// How many customers' data it holds.
    pub customers: u64,
    /// Where it runs (`AWS eu-west-1`, `Shopify`, `office NAS`).
    pub hosting: String,
    pub owner: String,
    /// What discovery read in the system itself (`bulwark discover
    /// --save-asset`); absent for an asset typed in by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<Box<AssetFacts>>,
}

/// The facts of an asset, from a scan of its database. No value of any
/// customer: elements, counts, tables and columns, findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssetFacts {
    /// The database, without credentials (`mysql:report@db.internal/shop`).
    pub source: String,
    /// RFC 3339.
    pub scanned_at: String,
    /// The customer table and its key, when one was found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_table: Option<String>,
    /// Customers per jurisdiction (subdivision when known, else country).
    #[serde(default)]
    pub by_jurisdiction: BTreeMap<String, JurisdictionFacts>,
    /// Customers whose residency the data does not tell.
    #[serde(default)]
    pub residency_unknown: u64,
    /// The columns that hold personal data.
    #[serde(default)]
    pub columns: Vec<FactColumn>,
    /// Violations found in the data itself (stored PANs, weak hashing).
    #[serde(default)]
    pub findings: Vec<FactFinding>,
    /// How to read the customers again (for scope from a compromised
    /// table): the discovery engine's plan, kept as it wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub plan: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JurisdictionFacts {
    pub customers: u64,
    pub by_element: BTreeMap<DataElement, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FactColumn {
    pub table: String,
    pub column: String,
    pub element: DataElement,
    pub confidence: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FactFinding {
    pub code: String,
    /// `critical`, `high` or `medium`.
    pub severity: String,
    pub table: String,
    pub column: String,
    pub requirement: String,
    /// The day (`YYYY-MM-DD`) a scan first found it; kept across re-scans.
    #[serde(default)]
    pub first_seen: String,
}

/// A finding of discovery as a task on the compliance side: open until a
/// re-scan no longer finds it. Critical findings (card data stored) are due
/// the day they are found, high ones within 30 days, the rest within 90.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FindingTask {
    pub asset: String,
    pub owner: String,
    pub code: String,
    pub severity: String,
    pub table: String,
    pub column: String,
    pub requirement: String,
    pub first_seen: String,
    /// `YYYY-MM-DD`.
    pub due: String,
    /// Days past due on the day asked (0 when not overdue).
    pub days_overdue: i64,
}

/// Days a finding of a severity may stay open.
pub fn finding_grace_days(severity: &str) -> i64 {
    match severity {
        "critical" => 0,
        "high" => 30,
        _ => 90,
    }
}

/// The open findings of every discovered asset as tasks, most overdue first.
/// A finding whose first day cannot be read counts from `today`.
pub fn finding_tasks(assets: &[Asset], today: time::Date) -> Vec<FindingTask> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let mut out: Vec<FindingTask> = assets
        .iter()
        .flat_map(|a| {
            a.facts
                .iter()
                .flat_map(|f| &f.findings)
                .map(move |f| (a, f))
        })
        .map(|(a, f)| {
            let seen = time::Date::parse(&f.first_seen, &fmt).unwrap_or(today);
            let due = seen + time::Duration::days(finding_grace_days(&f.severity));
            FindingTask {
                asset: a.name.clone(),
                owner: a.owner.clone(),
                code: f.code.clone(),
                severity: f.severity.clone(),
                table: f.table.clone(),
                column: f.column.clone(),
                requirement: f.requirement.clone(),
                first_seen: seen.to_string(),
                due: due.to_string(),
                days_overdue: (today - due).whole_days().max(0),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.days_overdue
            .cmp(&a.days_overdue)
            .then(a.due.cmp(&b.due))
            .then(a.asset.cmp(&b.asset))
            .then(a.table.cmp(&b.table))
            .then(a.column.cmp(&b.column))
    });
    out
}

/// What changed between two scans of one asset, in words, for the operator.
pub fn facts_changes(old: &AssetFacts, new: &AssetFacts) -> Vec<String> {
    let mut out = Vec::new();
    let cols = |f: &AssetFacts| -> BTreeMap<(String, String), DataElement> {
        f.columns
            .iter()
            .map(|c| ((c.table.clone(), c.column.clone()), c.element))
            .collect()
    };
    let (a, b) = (cols(old), cols(new));
    for (k, e) in &b {
        match a.get(k) {
            None => out.push(format!("new column {}.{} holds {}", k.0, k.1, e.code())),
            Some(was) if was != e => out.push(format!(
                "{}.{} now holds {} (was {})",
                k.0,
                k.1,
                e.code(),
                was.code()
            )),
            Some(_) => {}
        }
    }
    for (k, e) in &a {
        if !b.contains_key(k) {
            out.push(format!("{}.{} no longer holds {}", k.0, k.1, e.code()));
        }
    }
    let total = |f: &AssetFacts| -> u64 { f.by_jurisdiction.values().map(|j| j.customers).sum() };
    for (j, jf) in &new.by_jurisdiction {
        let was = old.by_jurisdiction.get(j).map(|x| x.customers).unwrap_or(0);
        if was != jf.customers {
            out.push(format!("{j}: {} customers (was {was})", jf.customers));
        }
    }
    for (j, jf) in &old.by_jurisdiction {
        if !new.by_jurisdiction.contains_key(j) {
            out.push(format!("{j}: no customers any more (was {})", jf.customers));
        }
    }
    if total(old) != total(new) && out.is_empty() {
        out.push(format!("{} customers (was {})", total(new), total(old)));
    }
    let key = |f: &FactFinding| (f.code.clone(), f.table.clone(), f.column.clone());
    let old_findings: BTreeSet<_> = old.findings.iter().map(key).collect();
    let new_findings: BTreeSet<_> = new.findings.iter().map(key).collect();
    for f in new_findings.difference(&old_findings) {
        out.push(format!("new finding {} in {}.{}", f.0, f.1, f.2));
    }
    for f in old_findings.difference(&new_findings) {
        out.push(format!("finding {} in {}.{} is gone", f.0, f.1, f.2));
    }
    out
}

/// An asset with its computed rank.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RankedAsset {
    pub rank: usize,
    pub asset: Asset,
    /// Sum of element weights.
    pub sensitivity: u32,
    /// `sensitivity × customers`.
    pub score: u64,
}

/// Sum of the element weights of `elements`.
pub fn sensitivity(elements: &BTreeSet<DataElement>) -> u32 {
    elements.iter().map(|e| sensitivity_weight(*e)).sum()
}

/// Ranks assets, highest score first; ties by name so the order (and the plan
/// hash) does not depend on input order.
pub fn rank_assets(assets: &[Asset]) -> Vec<RankedAsset> {
    let mut out: Vec<RankedAsset> = assets
        .iter()
        .map(|a| {
            let s = sensitivity(&a.elements);
            RankedAsset {
                rank: 0,
                asset: a.clone(),
                sensitivity: s,
                score: u64::from(s).saturating_mul(a.customers),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| a.asset.name.cmp(&b.asset.name))
    });
    for (i, r) in out.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(name: &str, elements: &[DataElement], customers: u64) -> Asset {
        Asset {
            name: name.into(),
            elements: elements.iter().copied().collect(),
            customers,
            hosting: "here".into(),
            owner: "ops".into(),
            facts: None,
        }
    }

    #[test]
    fn ranks_by_sensitivity_times_volume() {
        use DataElement::*;
        let ranked = rank_assets(&[
            asset("newsletter", &[Email, Name], 100_000), // 3 × 100k = 300k
            asset("vault", &[Name, Email, CardNumber, NationalId], 20_000), // 22 × 20k = 440k
            asset("backup", &[Health], 10),               // 90
        ]);
        let names: Vec<&str> = ranked.iter().map(|r| r.asset.name.as_str()).collect();
        assert_eq!(names, ["vault", "newsletter", "backup"]);
        assert_eq!(ranked[0].score, 440_000);
        assert_eq!(ranked[0].rank, 1);
    }

    #[test]
    fn findings_are_tasks_due_by_severity_until_a_rescan_drops_them() {
        let finding = |code: &str, severity: &str, seen: &str| FactFinding {
            code: code.into(),
            severity: severity.into(),
            table: "orders".into(),
            column: code.into(),
            requirement: "PCI DSS".into(),
            first_seen: seen.into(),
        };
        let mut shop = asset("shop", &[DataElement::CardNumber], 10);
        shop.facts = Some(Box::new(AssetFacts {
            source: "sqlite:shop.db".into(),
            scanned_at: "2026-03-01T00:00:00Z".into(),
            customer_table: None,
            by_jurisdiction: BTreeMap::new(),
            residency_unknown: 0,
            columns: Vec::new(),
            findings: vec![
                finding("weak-password-hash", "high", "2026-03-01"),
                finding("stored-pan", "critical", "2026-03-01"),
                finding("pii-in-free-text", "medium", "garbled"),
            ],
            plan: None,
        }));
        let today = time::macros::date!(2026 - 03 - 11);
        let tasks = finding_tasks(&[shop, asset("crm", &[DataElement::Email], 5)], today);
        let got: Vec<(&str, &str, i64)> = tasks
            .iter()
            .map(|t| (t.code.as_str(), t.due.as_str(), t.days_overdue))
            .collect();
        assert_eq!(
            got,
            [
                ("stored-pan", "2026-03-01", 10),
                ("weak-password-hash", "2026-03-31", 0),
                ("pii-in-free-text", "2026-06-09", 0),
            ]
        );
    }

    #[test]
    fn every_element_has_a_weight_in_range() {
        for e in DataElement::ALL {
            assert!((1..=10).contains(&sensitivity_weight(e)), "{e}");
        }
    }
}
