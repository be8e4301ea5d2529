//! What the store says in its notices about this incident: written once by the
//! incident team (`notice.toml`), the same for every letter. Everything here is
//! about the store and the breach, never about one customer.

use bulwark_model::DataElement;
use serde::{Deserialize, Serialize};

use crate::error::NoticeError;
use crate::section::is_marker;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoticeFacts {
    /// The store's name as customers know it.
    pub store: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_company: Option<String>,
    pub contact: Contact,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpo: Option<Dpo>,
    /// What happened, in plain words.
    pub what_happened: String,
    /// First and last day of the breach (YYYY-MM-DD), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breach_start: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breach_end: Option<String>,
    /// Day the store discovered the breach (defaults to the incident's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discovered: Option<String>,
    /// What the store has done and is doing.
    pub store_actions: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consequences: Option<String>,
    #[serde(default)]
    pub law_enforcement_delayed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_reasons: Option<String>,
    /// e.g. "We have reported this to the Information Commissioner's Office."
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regulator_notified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<RemedyOffer>,
    /// For card-brand and acquirer drafts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquirer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forensic_investigator: Option<String>,
    /// Filled in from the scope (total people affected), not by the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected_count: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dpo {
    pub name: String,
    pub contact: String,
}

/// A remedy the store offers, e.g. credit monitoring with enrolment codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemedyOffer {
    /// `credit_monitoring` or `identity_theft_prevention` (the law files' kinds).
    pub kind: String,
    /// How letters name it ("credit monitoring and identity restoration").
    pub label: String,
    pub provider: String,
    pub months: u32,
    pub enrol_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrol_by: Option<String>,
    /// Offered to customers with any of these elements exposed; empty: to everyone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub for_elements: Vec<DataElement>,
}

impl RemedyOffer {
    pub fn offered_to(&self, elements: &[DataElement]) -> bool {
        self.for_elements.is_empty() || self.for_elements.iter().any(|e| elements.contains(e))
    }
}

fn is_day(s: &str) -> bool {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, f).is_ok()
}

impl NoticeFacts {
    /// Parses `notice.toml`; errors name the field, never echo values.
    pub fn from_toml(text: &str) -> Result<NoticeFacts, NoticeError> {
        let facts: NoticeFacts =
            toml::from_str(text).map_err(|e| NoticeError::Facts(e.message().to_owned()))?;
        facts.validate()?;
        Ok(facts)
    }

    pub fn validate(&self) -> Result<(), NoticeError> {
        let mut problems = Vec::new();
        for (field, v) in [
            ("store", &self.store),
            ("what_happened", &self.what_happened),
            ("store_actions", &self.store_actions),
        ] {
            if v.trim().is_empty() {
                problems.push(format!("`{field}` is empty"));
            }
        }
        let c = &self.contact;
        if [&c.phone, &c.email, &c.address, &c.website]
            .iter()
            .all(|v| v.as_deref().is_none_or(|s| s.trim().is_empty()))
        {
            problems.push("`contact` needs at least a phone, email, address or website".into());
        }
        for (field, v) in [
            ("breach_start", &self.breach_start),
            ("breach_end", &self.breach_end),
            ("discovered", &self.discovered),
        ] {
            if v.as_deref().is_some_and(|d| !is_day(d)) {
                problems.push(format!("`{field}` must be a date as YYYY-MM-DD"));
            }
        }
        if let Some(r) = &self.remedy {
            if r.months == 0 {
                problems.push("`remedy.months` must be at least 1".into());
            }
            for (field, v) in [
                ("remedy.kind", &r.kind),
                ("remedy.label", &r.label),
                ("remedy.provider", &r.provider),
                ("remedy.enrol_url", &r.enrol_url),
            ] {
                if v.trim().is_empty() {
                    problems.push(format!("`{field}` is empty"));
                }
            }
        }
        let text = serde_json::to_string(self).unwrap_or_default();
        if text.chars().any(is_marker) {
            problems.push("contains private-use characters reserved for section markers".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(NoticeError::Facts(problems.join("; ")))
        }
    }
}
