//! What the laws of one jurisdiction ask of a letter to one of its residents,
//! gathered from an obligations evaluation: the content codes required and
//! prohibited, and the remedies owed.

use std::collections::{BTreeMap, BTreeSet};

use bulwark_law::{Evaluation, NoticeContent, Recipient};
use bulwark_model::DataElement;
use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LetterRules {
    /// Law ids whose notice-to-individuals obligation triggered.
    pub laws: Vec<String>,
    pub requires: BTreeSet<NoticeContent>,
    pub prohibits: BTreeSet<NoticeContent>,
    pub remedies: Vec<RequiredRemedy>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequiredRemedy {
    pub law: String,
    pub kind: String,
    pub months: Option<u32>,
    /// Owed when one of these was exposed; empty: always.
    pub when_elements: Vec<DataElement>,
}

impl RequiredRemedy {
    pub fn applies(&self, elements: &[DataElement]) -> bool {
        self.when_elements.is_empty() || self.when_elements.iter().any(|e| elements.contains(e))
    }
}

/// Rules per jurisdiction code (`US-MA`, `DE`).
pub fn letter_rules(evaluation: &Evaluation) -> BTreeMap<String, LetterRules> {
    let mut out: BTreeMap<String, LetterRules> = BTreeMap::new();
    for o in &evaluation.obligations {
        if o.recipient != Recipient::Individuals {
            continue;
        }
        let r = out.entry(o.jurisdiction.clone()).or_default();
        if !r.laws.contains(&o.law) {
            r.laws.push(o.law.clone());
        }
        r.requires.extend(o.requires.iter().copied());
        r.prohibits.extend(o.prohibits.iter().copied());
        for m in &o.remedies {
            r.remedies.push(RequiredRemedy {
                law: o.law.clone(),
                kind: m.kind.clone(),
                months: m.months,
                when_elements: m.when_elements.clone(),
            });
        }
    }
    out
}
