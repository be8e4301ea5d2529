//! What an evaluation returns: the obligations, the jurisdictions that did
//! not trigger, and the disclaimer. Kept apart from the engine so front ends
//! (CLI, notices, incident tasks) can depend on the shape alone.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::schema::{Confidence, Recipient, Remedy};

/// Carried by every evaluation and printed by every front end.
pub const DISCLAIMER: &str =
    "Not legal advice. Bulwark's law catalogue is a research aid compiled \
from public sources and may be incomplete, out of date or wrong; confirm every obligation, \
deadline and notice text with qualified counsel for each jurisdiction before acting.";

/// The result of evaluating a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Evaluation {
    pub disclaimer: String,
    #[serde(with = "time::serde::rfc3339")]
    pub aware_at: OffsetDateTime,
    /// Sorted by deadline; undue-delay obligations (null deadline) last, by target.
    pub obligations: Vec<Obligation>,
    /// Jurisdictions (or single recipients) in scope that triggered nothing, with the reason.
    pub not_triggered: Vec<NotTriggered>,
}

/// One notice that must be given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Obligation {
    /// Residence of the people concerned (`US-CA`, `DE`), or the card-brand rule id.
    pub jurisdiction: String,
    /// Id of the law file that produced it (`US-CA`, `EU`, `PCI-VISA`).
    pub law: String,
    pub law_name: String,
    pub recipient: Recipient,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Absolute deadline, or null for an undue-delay standard.
    #[serde(with = "time::serde::rfc3339::option")]
    pub deadline: Option<OffsetDateTime>,
    /// The wording of the timing rule.
    pub standard: String,
    /// How the deadline was computed, in words.
    pub deadline_basis: String,
    /// Recommended internal target when the deadline is null (and for
    /// notices whose deadline depends on another one).
    #[serde(with = "time::serde::rfc3339::option")]
    pub recommended_target: Option<OffsetDateTime>,
    /// Covered people this obligation is about.
    pub count: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<String>,
    pub citation: String,
    pub confidence: Confidence,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
    pub required_content: Vec<String>,
    pub forbidden_content: Vec<String>,
    /// Structured content codes the notice must carry / must not carry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<crate::NoticeContent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prohibits: Vec<crate::NoticeContent>,
    pub methods: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub substitute_notice: Option<String>,
    pub remedies: Vec<Remedy>,
    /// Why it triggered.
    pub why: Vec<String>,
    pub caveats: Vec<String>,
}

/// A jurisdiction (or one recipient under a law) in scope that did not trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotTriggered {
    pub jurisdiction: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub law: Option<String>,
    /// Set when the law triggered but this one recipient did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<Recipient>,
    pub count: u64,
    pub reason: String,
}
