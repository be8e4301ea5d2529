//! The shape of one law file in `laws/` (TOML). Every struct refuses unknown
//! fields so that a typo in a catalogue file is an error, not a silently
//! ignored rule. `laws/README.md` documents the same schema for editors.

use bulwark_model::DataElement;

pub use crate::content::NoticeContent;
use serde::{Deserialize, Serialize};

/// One breach-notification regime: a statute, a regulation or a card-brand rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Law {
    /// Stable identifier; equals the file name without `.toml` (`US-CA`, `EU`, `PCI-VISA`).
    pub id: String,
    pub name: String,
    /// Statute / rule citation shown next to every obligation it produces.
    pub citation: String,
    /// Where the facts in this file were taken from (statute text, regulator pages, summaries).
    pub sources: Vec<String>,
    /// Date (YYYY-MM-DD) from which the text encoded here is in force.
    pub effective: String,
    /// Date (YYYY-MM-DD) someone last checked this file against its sources.
    pub last_reviewed: String,
    pub confidence: Confidence,
    /// What the last review checked, and against what (statute text, regulator page…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_notes: Option<String>,
    /// Open questions and known uncertainty, shown to the user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caveats: Vec<String>,
    /// What the last review could not confirm against the statute's own text.
    /// `laws lint --strict` requires it whenever a confidence is below `high`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unverified: Vec<String>,
    /// The enacting act and every amendment since, with the dates they took
    /// effect, so a reviewer can see which text the file encodes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amendments: Vec<Amendment>,
    /// What reviews changed in this file, newest last (`laws changes` reads it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changelog: Vec<Revision>,
    pub applies: Applies,
    pub covered: Covered,
    pub breach: Breach,
    #[serde(default)]
    pub obligations: Vec<ObligationRule>,
}

/// One act that made or changed the law.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Amendment {
    /// The act, e.g. "PA 21-59" or "SB 626 (2025)".
    pub act: String,
    /// Date (YYYY-MM-DD) it took effect.
    pub effective: String,
    /// What it changed, in a sentence.
    pub summary: String,
}

/// One change a review made to the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revision {
    /// Date (YYYY-MM-DD) of the change.
    pub date: String,
    pub summary: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

/// Whose data the law protects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Applies {
    /// ISO 3166 codes of the residents it protects. A subdivision code with no
    /// file of its own falls back to its country (`GB-ENG` → `GB`).
    #[serde(default)]
    pub jurisdictions: Vec<String>,
    /// Card-brand and PCI rules follow the card, not the cardholder's residence.
    #[serde(default)]
    pub everywhere: bool,
    /// Calendar used for business-day deadlines.
    #[serde(default)]
    pub calendar: CalendarKind,
    /// The law binds only stores under this regulator (e.g. `NY-DFS`): it
    /// applies when the scenario's `regulated_by` lists the same code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regulated_by: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarKind {
    /// Monday–Friday, no holidays.
    #[default]
    Weekdays,
    /// Monday–Friday minus US federal holidays (5 U.S.C. 6103, observed dates).
    UsFederal,
    /// Monday–Friday minus Brazilian national holidays (incl. Good Friday).
    BrazilNational,
}

/// What counts as covered personal information.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Covered {
    /// A record is covered when its elements include every element of at
    /// least one combination.
    pub combinations: Vec<Vec<DataElement>>,
    /// Definition wording that the element vocabulary cannot express.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
}

/// When an incident is a notifiable breach at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Breach {
    pub trigger: Trigger,
    /// Encrypted data is not covered.
    pub encryption_safe_harbour: bool,
    /// A compromised key (or credential to decrypt) voids the safe harbour.
    #[serde(default = "yes")]
    pub key_compromise_voids: bool,
    /// The risk-of-harm test, in the law's own terms. Absent: every breach of
    /// covered data is notifiable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harm_test: Option<String>,
    /// Which breaches the harm test may excuse (default: any).
    #[serde(default)]
    pub harm_exception: HarmException,
    /// Notice to individuals may wait while law enforcement asks for a delay.
    #[serde(default = "yes")]
    pub law_enforcement_delay: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

fn yes() -> bool {
    true
}

/// The breaches a "harm unlikely" determination can excuse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HarmException {
    /// Any breach.
    #[default]
    Any,
    /// Only an inadvertent disclosure by persons authorised to access the data
    /// (N.Y. GBL 899-aa(2)(a)); an attack is always notified.
    InadvertentAuthorised,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// Unauthorised access is enough.
    Access,
    /// Only unauthorised acquisition (the data left, or is reasonably believed to have).
    Acquisition,
    /// Either access or acquisition, as the statute words it.
    AccessOrAcquisition,
}

/// Who is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    Individuals,
    Regulator,
    ConsumerReportingAgencies,
    CardBrands,
    Acquirer,
    LawEnforcement,
}

impl Recipient {
    pub fn code(self) -> &'static str {
        match self {
            Recipient::Individuals => "individuals",
            Recipient::Regulator => "regulator",
            Recipient::ConsumerReportingAgencies => "consumer_reporting_agencies",
            Recipient::CardBrands => "card_brands",
            Recipient::Acquirer => "acquirer",
            Recipient::LawEnforcement => "law_enforcement",
        }
    }
}

/// One duty to notify one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObligationRule {
    pub recipient: Recipient,
    /// The section that imposes this duty (`Conn. Gen. Stat. 36a-701b(b)(1)`);
    /// shown with the obligation instead of the law's citation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub citation: Option<String>,
    /// The concrete body (e.g. "California Attorney General").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<Threshold>,
    /// Only records matching these combinations count for this obligation
    /// (e.g. Singapore's "significant harm" classes). Default: the law's `covered`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combinations: Option<Vec<Vec<DataElement>>>,
    /// Overrides `breach.encryption_safe_harbour` for this obligation (GDPR
    /// Art. 34(3)(a) exempts only the notice to individuals).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_safe_harbour: Option<bool>,
    /// When the obligation applies relative to the harm assessment.
    #[serde(default)]
    pub when: HarmCondition,
    pub timing: Timing,
    /// Date (YYYY-MM-DD) from which this obligation is in force, when later
    /// than the law's (e.g. India's DPDP Rules). Breaches the store became
    /// aware of earlier do not trigger it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Order>,
    /// Structured codes of what the notice must contain (checked at render time).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<NoticeContent>,
    /// Structured codes of what the notice must not contain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prohibits: Vec<NoticeContent>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub content: Vec<String>,
    /// Things the notice must NOT contain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forbidden: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substitute_notice: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remedies: Vec<Remedy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Confidence>,
}

/// A headcount threshold: exactly one of `more_than` / `at_least`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threshold {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub more_than: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<u64>,
    /// Count residents of the jurisdiction, or everyone affected by the breach.
    #[serde(default)]
    pub basis: CountBasis,
    /// Records matching any of these combinations trigger regardless of the count
    /// (Singapore: significant harm OR significant scale).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waived_for: Option<Vec<Vec<DataElement>>>,
}

impl Threshold {
    pub fn met(&self, count: u64) -> bool {
        match (self.more_than, self.at_least) {
            (Some(n), _) => count > n,
            (None, Some(n)) => count >= n,
            (None, None) => count > 0,
        }
    }

    pub fn describe(&self) -> String {
        let basis = match self.basis {
            CountBasis::Jurisdiction => "residents",
            CountBasis::Total => "persons in total",
        };
        match (self.more_than, self.at_least) {
            (Some(n), _) => format!("more than {n} {basis}"),
            (None, Some(n)) => format!("{n} or more {basis}"),
            (None, None) => "any".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CountBasis {
    #[default]
    Jurisdiction,
    Total,
}

/// Harm level that makes an obligation apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HarmCondition {
    /// Whenever the breach is notifiable under the law's harm test.
    #[default]
    Notifiable,
    /// Only when the risk is high (GDPR Art. 34).
    HighRisk,
    /// Only when the store determined harm unlikely (filings of a no-harm
    /// determination, e.g. Alaska, Florida, Vermont).
    NoHarmDetermination,
}

/// The timing rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// The rule's wording (paraphrased where the original is long).
    pub standard: String,
    /// Hard outer limit in `unit`, counted from `from`. Absent: an undue-delay
    /// standard with no fixed limit (the deadline is then null).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<u32>,
    #[serde(default)]
    pub unit: TimeUnit,
    #[serde(default)]
    pub from: Anchor,
    /// Recommended internal target when there is no hard limit, same unit and anchor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    Hours,
    #[default]
    CalendarDays,
    BusinessDays,
}

/// What the clock runs from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    /// The store became aware of the breach.
    #[default]
    Awareness,
    /// Discovery of the breach (`discovered_at`, else awareness).
    Discovery,
    /// Determination that a notifiable breach occurred. Evaluated as awareness:
    /// the engine cannot know when counsel concludes, and earlier is safer.
    Determination,
    /// The (latest permitted) notice to individuals.
    IndividualsNotice,
    /// The (latest permitted) notice to the regulator.
    RegulatorNotice,
}

/// Ordering relative to another notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Order {
    pub relation: Relation,
    pub notice: Recipient,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    Before,
    With,
    After,
}

/// A remedy the law requires the store to offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Remedy {
    /// e.g. `credit_monitoring`, `identity_theft_prevention`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months: Option<u32>,
    /// Required only when one of these elements was exposed. Empty: always.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when_elements: Vec<DataElement>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}
