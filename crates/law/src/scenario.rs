//! The facts of an incident that the obligations engine needs: when the store
//! knew, whether the data was encrypted, and who was affected where. This is
//! the `--scenario` JSON format, so it deserializes directly from it.

use std::collections::BTreeMap;

use bulwark_model::DataElement;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// When the store became aware of the breach (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub aware_at: OffsetDateTime,
    /// When the breach was discovered, if earlier than awareness was recorded.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub discovered_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub encrypted: bool,
    #[serde(default)]
    pub key_compromised: bool,
    /// `false` when only access (not acquisition) is established. Absent:
    /// acquisition is assumed, the conservative reading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquired: Option<bool>,
    /// Recorded risk-of-harm assessments, keyed by jurisdiction code (`US-FL`,
    /// `DE`) or law id (`EU`). A law with a harm test triggers unless the
    /// assessment says harm is unlikely; no assessment counts as high risk.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub harm: BTreeMap<String, HarmLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub law_enforcement_delay: Option<LawEnforcementDelay>,
    /// How the data got out, where a law's harm exception depends on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<BreachCause>,
    /// Regulators the store answers to beyond the residents' laws (`NY-DFS`):
    /// laws with a matching `applies.regulated_by` apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regulated_by: Vec<String>,
    pub affected: Vec<Affected>,
}

/// How personal data was exposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreachCause {
    /// An outside attacker (intrusion, skimmer, credential stuffing…).
    ExternalAttack,
    /// Someone allowed to see the data disclosed it by mistake (a misaddressed
    /// e-mail, a wrongly shared export).
    InadvertentAuthorisedDisclosure,
    /// A person with access misused it on purpose.
    InsiderMisuse,
    /// A device or paper records were lost or stolen.
    LostOrStolen,
    Other,
}

/// Outcome of a risk-of-harm assessment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HarmLevel {
    /// Harm is unlikely (documented determination).
    Unlikely,
    /// Some risk, not high.
    Risk,
    /// High risk.
    High,
}

/// A written law-enforcement request to delay notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LawEnforcementDelay {
    /// End of the requested delay.
    #[serde(with = "time::serde::rfc3339")]
    pub until: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
}

/// One group of affected people: same residence, same exposed elements.
/// Groups are assumed disjoint (each person in exactly one group).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Affected {
    /// ISO 3166-1 alpha-2 or 3166-2 code (`US-CA`, `DE`, `CA-QC`).
    pub jurisdiction: String,
    pub elements: Vec<DataElement>,
    pub count: u64,
    /// Per-group override of the scenario-wide `encrypted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encrypted: Option<bool>,
    /// Per-group override of the scenario-wide `key_compromised`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_compromised: Option<bool>,
    /// Per-group override of the scenario-wide `acquired` (e.g. one table was
    /// exfiltrated, another only viewed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquired: Option<bool>,
}

/// The jurisdiction code a residency is evaluated under: the subdivision when
/// known (`US-CA`), else the country (`DE`).
pub fn jurisdiction_of(residency: &bulwark_model::Residency) -> String {
    residency
        .subdivision
        .clone()
        .unwrap_or_else(|| residency.country.clone())
}

/// Aggregates per-customer facts — (jurisdiction, exposed elements) — into
/// the jurisdiction × element-combination groups the engine evaluates.
/// Element order and duplicates within a customer do not matter; the output
/// is sorted by jurisdiction, then combination, so it is deterministic.
pub fn aggregate<'a, I, J>(customers: I) -> Vec<Affected>
where
    I: IntoIterator<Item = (J, &'a [DataElement])>,
    J: AsRef<str>,
{
    // Two levels so the jurisdiction string is allocated once per
    // jurisdiction, not once per customer (this runs over millions of rows).
    let mut groups: std::collections::HashMap<String, std::collections::HashMap<u32, u64>> =
        std::collections::HashMap::new();
    for (jurisdiction, elements) in customers {
        let mask = crate::catalogue::mask_of(elements);
        let code = jurisdiction.as_ref();
        let per = match groups.get_mut(code) {
            Some(per) => per,
            None => groups.entry(code.to_owned()).or_default(),
        };
        *per.entry(mask).or_default() += 1;
    }
    let mut out: Vec<(String, u32, u64)> = groups
        .into_iter()
        .flat_map(|(j, per)| per.into_iter().map(move |(m, c)| (j.clone(), m, c)))
        .collect();
    out.sort_unstable();
    out.into_iter()
        .map(|(jurisdiction, mask, count)| Affected {
            jurisdiction,
            elements: crate::catalogue::elements_of(mask),
            count,
            encrypted: None,
            key_compromised: None,
            acquired: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulwark_model::DataElement::*;

    #[test]
    fn aggregates_by_jurisdiction_and_combination() {
        let a: &[DataElement] = &[Email, Name];
        let b: &[DataElement] = &[Name, Email, Name];
        let c: &[DataElement] = &[CardNumber];
        let groups = aggregate([("US-CA", a), ("US-CA", b), ("US-CA", c), ("DE", a)]);
        assert_eq!(groups.len(), 3);
        assert_eq!(groups[0].jurisdiction, "DE");
        let ca_name_email = groups
            .iter()
            .find(|g| g.jurisdiction == "US-CA" && g.elements == vec![Name, Email])
            .unwrap();
        assert_eq!(ca_name_email.count, 2);
    }

    #[test]
    fn residency_maps_to_the_most_specific_code() {
        let r = bulwark_model::Residency {
            country: "US".into(),
            subdivision: Some("US-TX".into()),
        };
        assert_eq!(jurisdiction_of(&r), "US-TX");
    }
}
