//! What the store says in its notices about this incident: written once by the
//! incident team (`notice.toml`), the same for every letter. Everything here is
//! about the store and the breach, never about one customer.

use std::borrow::Cow;
use std::collections::BTreeMap;

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
    /// How to complain to the store itself, e.g. "Write to privacy@shop.example;
    /// our privacy officer answers within 30 days." (Canada requires it.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complaint_process: Option<String>,
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
    /// The language the free text above is written in (ISO 639-1; default `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The free text in other languages (`[translations.es]`): a letter in one
    /// of them says what happened, what the store did… in that language, where
    /// given, and as written above otherwise.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub translations: BTreeMap<String, FactsText>,
}

/// The free text of the notice facts in one more language; a field left out
/// stays as written in the facts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FactsText {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what_happened: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_actions: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consequences: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_reasons: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regulator_notified: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complaint_process: Option<String>,
    /// The remedy's `label` ("credit monitoring") in this language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy_label: Option<String>,
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

/// Two lower-case ASCII letters (`es`): how letters, templates and
/// translations name a language.
pub(crate) fn is_language_code(s: &str) -> bool {
    s.len() == 2 && s.bytes().all(|b| b.is_ascii_lowercase())
}

fn is_day(s: &str) -> bool {
    let f = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, f).is_ok()
}

impl NoticeFacts {
    /// The language the facts' own text is written in.
    pub fn written_in(&self) -> &str {
        self.language.as_deref().unwrap_or("en")
    }

    /// Whether a letter in `lang` reads the facts in `lang`: they are written
    /// in it, or translated into it.
    pub fn speaks(&self, lang: &str) -> bool {
        self.written_in() == lang || self.translations.contains_key(lang)
    }

    /// The facts as a letter in `lang` shows them: the translation's text
    /// where it has one.
    pub fn in_language(&self, lang: &str) -> Cow<'_, NoticeFacts> {
        let Some(t) = self.translations.get(lang) else {
            return Cow::Borrowed(self);
        };
        let mut f = self.clone();
        let pick = |v: &Option<String>, into: &mut String| {
            if let Some(v) = v {
                v.clone_into(into);
            }
        };
        pick(&t.what_happened, &mut f.what_happened);
        pick(&t.store_actions, &mut f.store_actions);
        for (v, into) in [
            (&t.consequences, &mut f.consequences),
            (&t.delay_reasons, &mut f.delay_reasons),
            (&t.regulator_notified, &mut f.regulator_notified),
            (&t.complaint_process, &mut f.complaint_process),
        ] {
            if v.is_some() {
                v.clone_into(into);
            }
        }
        if let (Some(label), Some(r)) = (&t.remedy_label, f.remedy.as_mut()) {
            label.clone_into(&mut r.label);
        }
        Cow::Owned(f)
    }

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
        if self
            .language
            .as_deref()
            .is_some_and(|l| !is_language_code(l))
        {
            problems.push("`language` must be a two-letter ISO 639-1 code in lower case".into());
        }
        for (lang, t) in &self.translations {
            if !is_language_code(lang) {
                problems.push(
                    "`translations` are keyed by two-letter ISO 639-1 codes in lower case".into(),
                );
                continue;
            }
            for (field, v) in [
                ("what_happened", &t.what_happened),
                ("store_actions", &t.store_actions),
                ("consequences", &t.consequences),
                ("delay_reasons", &t.delay_reasons),
                ("regulator_notified", &t.regulator_notified),
                ("complaint_process", &t.complaint_process),
                ("remedy_label", &t.remedy_label),
            ] {
                if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
                    problems.push(format!("`translations.{lang}.{field}` is empty"));
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
