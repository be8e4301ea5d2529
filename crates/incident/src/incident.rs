//! The incident record and every change made to it. Each change returns the
//! `TimelineEntry` that records it; a refused change leaves the incident as it was.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use bulwark_model::{is_country, is_subdivision, DataElement, Residency};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::lifecycle::{Phase, TransitionError};
use crate::team::Role;
use crate::timeline::{EntryKind, TimelineEntry};

/// How bad it is. SEV1 is the worst: customer data known to be leaving now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Sev1,
    Sev2,
    Sev3,
    Sev4,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Sev1,
        Severity::Sev2,
        Severity::Sev3,
        Severity::Sev4,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Severity::Sev1 => "sev1",
            Severity::Sev2 => "sev2",
            Severity::Sev3 => "sev3",
            Severity::Sev4 => "sev4",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code().to_ascii_uppercase())
    }
}

impl FromStr for Severity {
    type Err = IncidentError;
    /// Accepts `SEV1`, `sev1` or `1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        let t = t.strip_prefix("sev").unwrap_or(&t);
        match t {
            "1" => Ok(Severity::Sev1),
            "2" => Ok(Severity::Sev2),
            "3" => Ok(Severity::Sev3),
            "4" => Ok(Severity::Sev4),
            _ => Err(IncidentError::UnknownSeverity(s.chars().take(16).collect())),
        }
    }
}

/// What happened, in the terms playbooks are chosen by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    CredentialTheft,
    WebSkimmer,
    SqlInjectionExfiltration,
    MalwareRansomware,
    InsiderMisuse,
    LostDevice,
    ThirdPartyBreach,
    Misdelivery,
}

impl Classification {
    pub const ALL: [Classification; 8] = [
        Classification::CredentialTheft,
        Classification::WebSkimmer,
        Classification::SqlInjectionExfiltration,
        Classification::MalwareRansomware,
        Classification::InsiderMisuse,
        Classification::LostDevice,
        Classification::ThirdPartyBreach,
        Classification::Misdelivery,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Classification::CredentialTheft => "credential_theft",
            Classification::WebSkimmer => "web_skimmer",
            Classification::SqlInjectionExfiltration => "sql_injection_exfiltration",
            Classification::MalwareRansomware => "malware_ransomware",
            Classification::InsiderMisuse => "insider_misuse",
            Classification::LostDevice => "lost_device",
            Classification::ThirdPartyBreach => "third_party_breach",
            Classification::Misdelivery => "misdelivery",
        }
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Classification {
    type Err = IncidentError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Classification::ALL
            .into_iter()
            .find(|c| c.code() == s)
            .ok_or_else(|| IncidentError::UnknownClassification(s.chars().take(64).collect()))
    }
}

/// One entry into a phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PhaseChange {
    pub phase: Phase,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A person assigned to a role on this incident (ids refer to the `Team`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assignment {
    pub role: Role,
    pub person: String,
}

/// What the post-incident review records beyond the timeline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Review {
    #[serde(default)]
    pub what_worked: Vec<String>,
    #[serde(default)]
    pub what_to_improve: Vec<String>,
    #[serde(default)]
    pub follow_ups: Vec<String>,
}

/// What is needed to open an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewIncident {
    pub title: String,
    #[serde(default)]
    pub summary: String,
    pub severity: Severity,
    pub classification: Classification,
    #[serde(with = "time::serde::rfc3339")]
    pub discovered_at: OffsetDateTime,
    /// When the store became aware of a breach: legal notification clocks start here.
    #[serde(with = "time::serde::rfc3339")]
    pub aware_at: OffsetDateTime,
    #[serde(default)]
    pub affected_systems: Vec<String>,
    #[serde(default)]
    pub alerts: Vec<String>,
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub elements: BTreeSet<DataElement>,
    #[serde(default)]
    pub jurisdictions: BTreeSet<String>,
    #[serde(default)]
    pub card_data: bool,
    /// The drill run this incident belongs to: a rehearsal, never a breach.
    /// Its title says so, its letters are never sent and its containment only
    /// simulates; boards and counts of real incidents leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drill: Option<u64>,
}

impl NewIncident {
    /// The minimum: everything else starts empty.
    pub fn new(
        title: &str,
        severity: Severity,
        classification: Classification,
        discovered_at: OffsetDateTime,
        aware_at: OffsetDateTime,
    ) -> Self {
        NewIncident {
            title: title.to_owned(),
            summary: String::new(),
            severity,
            classification,
            discovered_at,
            aware_at,
            affected_systems: Vec::new(),
            alerts: Vec::new(),
            owner: None,
            elements: BTreeSet::new(),
            jurisdictions: BTreeSet::new(),
            card_data: false,
            drill: None,
        }
    }
}

/// An incident. Fields are public for reading and storage; change it through
/// its methods so that every change is validated and lands on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Incident {
    /// The short number teams say ("incident 7"), assigned by storage.
    pub id: u64,
    /// Stable URL/file-name form, fixed when opened (`7-checkout-skimmer`).
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub severity: Severity,
    pub classification: Classification,
    #[serde(with = "time::serde::rfc3339")]
    pub discovered_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub aware_at: OffsetDateTime,
    pub phase: Phase,
    /// Every phase entry in order, starting with `triage` at opening.
    pub phase_history: Vec<PhaseChange>,
    pub affected_systems: Vec<String>,
    pub alerts: Vec<String>,
    pub owner: Option<String>,
    pub elements: BTreeSet<DataElement>,
    pub jurisdictions: BTreeSet<String>,
    /// Payment-card data involved (PCI DSS and card-brand rules apply). Set
    /// automatically when a card element is involved; may be set by hand when
    /// card data is suspected before the elements are known (a skimmer).
    pub card_data: bool,
    pub team: Vec<Assignment>,
    /// Ids of the playbooks applied to this incident, in order.
    pub playbooks: Vec<String>,
    pub root_cause: Option<String>,
    /// The earliest malicious activity found (from `investigate::dwell`), for time to detect.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub first_malicious_activity: Option<OffsetDateTime>,
    pub review: Review,
    #[serde(with = "time::serde::rfc3339")]
    pub opened_at: OffsetDateTime,
    pub opened_by: String,
    /// Correlation keys of linked alerts (`rule|entity`) with the latest alert
    /// time for each: auto-open attaches new alerts to an incident by these.
    #[serde(default)]
    pub alert_keys: Vec<AlertKey>,
    /// See [`NewIncident::drill`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drill: Option<u64>,
}

/// One correlation key of the alerts linked to an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertKey {
    pub key: String,
    #[serde(with = "time::serde::rfc3339")]
    pub last_alert_at: OffsetDateTime,
}

/// A partial update; `None` leaves a field alone. List fields replace the whole list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct IncidentPatch {
    pub title: Option<String>,
    pub summary: Option<String>,
    pub severity: Option<Severity>,
    pub classification: Option<Classification>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub discovered_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub aware_at: Option<OffsetDateTime>,
    pub affected_systems: Option<Vec<String>>,
    /// `Some(None)` (JSON `null`) clears the owner; absent leaves it.
    #[serde(deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    pub owner: Option<Option<String>>,
    pub elements: Option<BTreeSet<DataElement>>,
    pub jurisdictions: Option<BTreeSet<String>>,
    pub card_data: Option<bool>,
    pub root_cause: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_malicious_activity: Option<OffsetDateTime>,
    pub review: Option<Review>,
}

/// Tells a present JSON `null` (clear) from an absent field (leave alone).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Why an incident could not be opened or changed. Messages name fields, not values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncidentError {
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field} is longer than {max} characters")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} contains control characters")]
    ControlCharacters { field: &'static str },
    #[error("aware_at is before discovered_at: the store cannot be aware of a breach before it was discovered")]
    AwareBeforeDiscovered,
    #[error("{field} is in the future")]
    InFuture { field: &'static str },
    #[error("first_malicious_activity is after aware_at")]
    ActivityAfterAware,
    #[error("jurisdiction `{0}` is not an ISO 3166 country or subdivision code, nor EU")]
    BadJurisdiction(String),
    #[error("unknown severity `{0}`; use SEV1, SEV2, SEV3 or SEV4")]
    UnknownSeverity(String),
    #[error("unknown classification `{0}`; known: credential_theft, web_skimmer, sql_injection_exfiltration, malware_ransomware, insider_misuse, lost_device, third_party_breach, misdelivery")]
    UnknownClassification(String),
    #[error("the change is dated before the incident's last phase change")]
    TimeBeforeLastChange,
    #[error("the update changes nothing")]
    NoChange,
    #[error(transparent)]
    Transition(#[from] TransitionError),
}

const MAX_TITLE: usize = 200;
/// What every drill incident's title starts with.
pub const DRILL_PREFIX: &str = "DRILL";
const MAX_TEXT: usize = 20_000;
const MAX_ITEM: usize = 200;

fn check_text(
    field: &'static str,
    value: &str,
    max: usize,
    required: bool,
    newlines: bool,
) -> Result<String, IncidentError> {
    let v = value.trim();
    if required && v.is_empty() {
        return Err(IncidentError::Empty { field });
    }
    if v.chars().count() > max {
        return Err(IncidentError::TooLong { field, max });
    }
    if v.chars()
        .any(|c| c.is_control() && !(newlines && matches!(c, '\n' | '\r' | '\t')))
    {
        return Err(IncidentError::ControlCharacters { field });
    }
    Ok(v.to_owned())
}

fn check_list(field: &'static str, items: &[String]) -> Result<Vec<String>, IncidentError> {
    let mut out: Vec<String> = Vec::new();
    for i in items {
        let v = check_text(field, i, MAX_ITEM, true, false)?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

/// Upper-cases and checks a jurisdiction code: a country (`DE`), a subdivision
/// (`US-CA`) or the `EU` bloc.
pub fn normalize_jurisdiction(code: &str) -> Result<String, IncidentError> {
    let c = code.trim().to_ascii_uppercase();
    if c == "EU" || is_country(&c) || is_subdivision(&c) {
        Ok(c)
    } else {
        Err(IncidentError::BadJurisdiction(
            code.chars().take(16).collect(),
        ))
    }
}

/// The jurisdiction code for where a customer lives: the subdivision when known.
pub fn jurisdiction_of(residency: &Residency) -> Result<String, IncidentError> {
    let r = residency.normalized().map_err(|_| {
        IncidentError::BadJurisdiction(residency.country.chars().take(16).collect())
    })?;
    Ok(r.subdivision.unwrap_or(r.country))
}

fn check_jurisdictions(codes: &BTreeSet<String>) -> Result<BTreeSet<String>, IncidentError> {
    codes.iter().map(|c| normalize_jurisdiction(c)).collect()
}

fn involves_card_elements(elements: &BTreeSet<DataElement>) -> bool {
    elements.iter().any(|e| e.is_card())
}

/// `7-checkout-skimmer-found`: the id plus up to 40 characters of the title.
fn slug_for(id: u64, title: &str) -> String {
    let mut s = String::new();
    let mut dash = false;
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            if dash && !s.is_empty() {
                s.push('-');
            }
            dash = false;
            s.push(c);
        } else {
            dash = true;
        }
        if s.len() >= 40 {
            break;
        }
    }
    let s = s.trim_end_matches('-');
    if s.is_empty() {
        id.to_string()
    } else {
        format!("{id}-{s}")
    }
}

impl Incident {
    /// Opens an incident in `triage`. `id` comes from storage; `at` is now.
    pub fn open(
        id: u64,
        new: NewIncident,
        actor: &str,
        at: OffsetDateTime,
    ) -> Result<(Incident, TimelineEntry), IncidentError> {
        let title = check_text("title", &new.title, MAX_TITLE, true, false)?;
        // Everywhere the title goes (board, letters, report), it says drill.
        let title = match new.drill {
            Some(run) if !title.starts_with(DRILL_PREFIX) => {
                let t = format!("{DRILL_PREFIX} {run}: {title}");
                t.chars().take(MAX_TITLE).collect()
            }
            _ => title,
        };
        let summary = check_text("summary", &new.summary, MAX_TEXT, false, true)?;
        check_clocks(new.discovered_at, new.aware_at, at)?;
        let owner = match new.owner {
            Some(o) => Some(check_text("owner", &o, MAX_ITEM, true, false)?),
            None => None,
        };
        let card_data = new.card_data || involves_card_elements(&new.elements);
        let incident = Incident {
            id,
            slug: slug_for(id, &title),
            title,
            summary,
            severity: new.severity,
            classification: new.classification,
            discovered_at: new.discovered_at,
            aware_at: new.aware_at,
            phase: Phase::Triage,
            phase_history: vec![PhaseChange {
                phase: Phase::Triage,
                at,
                actor: actor.to_owned(),
                reason: None,
            }],
            affected_systems: check_list("affected_systems", &new.affected_systems)?,
            alerts: check_list("alerts", &new.alerts)?,
            owner,
            elements: new.elements,
            jurisdictions: check_jurisdictions(&new.jurisdictions)?,
            card_data,
            team: Vec::new(),
            playbooks: Vec::new(),
            root_cause: None,
            first_malicious_activity: None,
            review: Review::default(),
            opened_at: at,
            opened_by: actor.to_owned(),
            alert_keys: Vec::new(),
            drill: new.drill,
        };
        let entry = TimelineEntry::new(
            id,
            at,
            actor,
            EntryKind::Opened,
            format!(
                "Incident {} opened: {} ({}, {})",
                incident.reference(),
                incident.title,
                incident.severity,
                incident.classification
            ),
            json!({
                "severity": incident.severity,
                "classification": incident.classification,
                "discovered_at": rfc3339(incident.discovered_at),
                "aware_at": rfc3339(incident.aware_at),
                "alerts": incident.alerts,
            }),
        );
        Ok((incident, entry))
    }

    /// `INC-7`: how people refer to the incident.
    pub fn reference(&self) -> String {
        format!("INC-{}", self.id)
    }

    /// When the incident first entered `phase`, if it has.
    pub fn entered(&self, phase: Phase) -> Option<OffsetDateTime> {
        self.phase_history
            .iter()
            .find(|c| c.phase == phase)
            .map(|c| c.at)
    }

    /// When the current phase was entered.
    pub fn phase_started(&self) -> OffsetDateTime {
        self.phase_history.last().map_or(self.opened_at, |c| c.at)
    }

    fn check_not_before_last(&self, at: OffsetDateTime) -> Result<(), IncidentError> {
        if at < self.phase_started() {
            return Err(IncidentError::TimeBeforeLastChange);
        }
        Ok(())
    }

    /// Moves to `to` along the allowed graph (see `lifecycle`). Moves off the
    /// normal path need a `reason`; a reason on a normal move is kept too.
    pub fn advance(
        &mut self,
        to: Phase,
        reason: Option<&str>,
        actor: &str,
        at: OffsetDateTime,
    ) -> Result<TimelineEntry, IncidentError> {
        self.phase.check_move(to)?;
        let reason = match reason {
            Some(r) => {
                Some(check_text("reason", r, MAX_TEXT, false, true)?).filter(|r| !r.is_empty())
            }
            None => None,
        };
        if self.phase.needs_reason(to) && reason.is_none() {
            return Err(TransitionError::ReasonRequired {
                from: self.phase,
                to,
            }
            .into());
        }
        self.check_not_before_last(at)?;
        let from = self.phase;
        self.enter(to, at, actor, reason.clone());
        let mut text = format!("Phase {from} → {to}");
        if let Some(r) = &reason {
            text.push_str(": ");
            text.push_str(r);
        }
        Ok(TimelineEntry::new(
            self.id,
            at,
            actor,
            EntryKind::PhaseChanged,
            text,
            json!({ "from": from, "to": to, "reason": reason }),
        ))
    }

    /// Reopens a closed incident into `to` (any phase but `closed`). The reason is mandatory.
    pub fn reopen(
        &mut self,
        to: Phase,
        reason: &str,
        actor: &str,
        at: OffsetDateTime,
    ) -> Result<TimelineEntry, IncidentError> {
        if self.phase != Phase::Closed {
            return Err(TransitionError::NotClosed { phase: self.phase }.into());
        }
        if to == Phase::Closed {
            return Err(TransitionError::ReopenIntoClosed.into());
        }
        let reason = check_text("reason", reason, MAX_TEXT, false, true)?;
        if reason.is_empty() {
            return Err(TransitionError::ReopenReasonRequired.into());
        }
        self.check_not_before_last(at)?;
        self.enter(to, at, actor, Some(reason.clone()));
        Ok(TimelineEntry::new(
            self.id,
            at,
            actor,
            EntryKind::Reopened,
            format!("Reopened into {to}: {reason}"),
            json!({ "from": Phase::Closed, "to": to, "reason": reason }),
        ))
    }

    fn enter(&mut self, to: Phase, at: OffsetDateTime, actor: &str, reason: Option<String>) {
        self.phase = to;
        self.phase_history.push(PhaseChange {
            phase: to,
            at,
            actor: actor.to_owned(),
            reason,
        });
    }

    /// Applies a partial update; one timeline entry lists the changed fields.
    pub fn update(
        &mut self,
        patch: IncidentPatch,
        actor: &str,
        at: OffsetDateTime,
    ) -> Result<TimelineEntry, IncidentError> {
        // Validate everything on a copy first so a refused patch changes nothing.
        let mut next = self.clone();
        let mut changed: Vec<&'static str> = Vec::new();
        let mut words: Vec<String> = Vec::new();
        if let Some(t) = patch.title {
            let t = check_text("title", &t, MAX_TITLE, true, false)?;
            if t != next.title {
                next.title = t;
                changed.push("title");
            }
        }
        if let Some(s) = patch.summary {
            let s = check_text("summary", &s, MAX_TEXT, false, true)?;
            if s != next.summary {
                next.summary = s;
                changed.push("summary");
            }
        }
        if let Some(s) = patch.severity.filter(|s| *s != next.severity) {
            words.push(format!("severity {} → {s}", next.severity));
            next.severity = s;
            changed.push("severity");
        }
        if let Some(c) = patch.classification.filter(|c| *c != next.classification) {
            words.push(format!("classification {} → {c}", next.classification));
            next.classification = c;
            changed.push("classification");
        }
        if let Some(d) = patch.discovered_at.filter(|d| *d != next.discovered_at) {
            next.discovered_at = d;
            changed.push("discovered_at");
        }
        if let Some(a) = patch.aware_at.filter(|a| *a != next.aware_at) {
            // Moving the legal clock is a decision worth seeing in plain words.
            words.push(format!(
                "aware_at {} → {}",
                rfc3339(next.aware_at),
                rfc3339(a)
            ));
            next.aware_at = a;
            changed.push("aware_at");
        }
        check_clocks(next.discovered_at, next.aware_at, at)?;
        if let Some(list) = patch.affected_systems {
            let list = check_list("affected_systems", &list)?;
            if list != next.affected_systems {
                next.affected_systems = list;
                changed.push("affected_systems");
            }
        }
        if let Some(o) = patch.owner {
            let o = match o {
                Some(o) => Some(check_text("owner", &o, MAX_ITEM, true, false)?),
                None => None,
            };
            if o != next.owner {
                next.owner = o;
                changed.push("owner");
            }
        }
        if let Some(e) = patch.elements.filter(|e| *e != next.elements) {
            next.elements = e;
            changed.push("elements");
        }
        if let Some(j) = patch.jurisdictions {
            let j = check_jurisdictions(&j)?;
            if j != next.jurisdictions {
                next.jurisdictions = j;
                changed.push("jurisdictions");
            }
        }
        if let Some(c) = patch.card_data.filter(|c| *c != next.card_data) {
            next.card_data = c;
            changed.push("card_data");
        }
        if involves_card_elements(&next.elements) && !next.card_data {
            next.card_data = true;
            if !changed.contains(&"card_data") {
                changed.push("card_data");
            }
        }
        if let Some(r) = patch.root_cause {
            let r = check_text("root_cause", &r, MAX_TEXT, false, true)?;
            let r = Some(r).filter(|r| !r.is_empty());
            if r != next.root_cause {
                next.root_cause = r;
                changed.push("root_cause");
            }
        }
        if let Some(f) = patch.first_malicious_activity {
            if f > next.aware_at {
                return Err(IncidentError::ActivityAfterAware);
            }
            if Some(f) != next.first_malicious_activity {
                next.first_malicious_activity = Some(f);
                changed.push("first_malicious_activity");
            }
        }
        if let Some(r) = patch.review {
            let clean = |field, items: &[String]| -> Result<Vec<String>, IncidentError> {
                items
                    .iter()
                    .map(|i| check_text(field, i, MAX_TEXT, true, true))
                    .collect()
            };
            let r = Review {
                what_worked: clean("review.what_worked", &r.what_worked)?,
                what_to_improve: clean("review.what_to_improve", &r.what_to_improve)?,
                follow_ups: clean("review.follow_ups", &r.follow_ups)?,
            };
            if r != next.review {
                next.review = r;
                changed.push("review");
            }
        }
        if changed.is_empty() {
            return Err(IncidentError::NoChange);
        }
        *self = next;
        let mut text = format!("Updated {}", changed.join(", "));
        if !words.is_empty() {
            text.push_str(": ");
            text.push_str(&words.join("; "));
        }
        Ok(TimelineEntry::new(
            self.id,
            at,
            actor,
            EntryKind::Updated,
            text,
            json!({ "changed": changed }),
        ))
    }

    /// A free-text note on the timeline; the incident itself does not change.
    pub fn note(
        &self,
        text: &str,
        actor: &str,
        at: OffsetDateTime,
    ) -> Result<TimelineEntry, IncidentError> {
        let text = check_text("note", text, MAX_TEXT, true, true)?;
        Ok(TimelineEntry::new(
            self.id,
            at,
            actor,
            EntryKind::Note,
            text,
            json!({}),
        ))
    }

    /// Links a detection alert. Linking the same alert twice is a no-op (`None`),
    /// so an alert stream can be replayed safely.
    pub fn link_alert(
        &mut self,
        alert: &str,
        actor: &str,
        at: OffsetDateTime,
    ) -> Result<Option<TimelineEntry>, IncidentError> {
        let alert = check_text("alert", alert, MAX_ITEM, true, false)?;
        if self.alerts.contains(&alert) {
            return Ok(None);
        }
        self.alerts.push(alert.clone());
        Ok(Some(TimelineEntry::new(
            self.id,
            at,
            actor,
            EntryKind::AlertLinked,
            format!("Alert {alert} linked"),
            json!({ "alert": alert }),
        )))
    }

    /// Assigns `person` (a team member id) to `role` on this incident, replacing
    /// whoever held that role here. Check the id against the `Team` first.
    pub fn assign(
        &mut self,
        role: Role,
        person: &str,
        actor: &str,
        at: OffsetDateTime,
    ) -> Result<TimelineEntry, IncidentError> {
        let person = check_text("person", person, MAX_ITEM, true, false)?;
        let previous = self
            .team
            .iter()
            .position(|a| a.role == role)
            .map(|i| self.team.remove(i).person);
        self.team.push(Assignment {
            role,
            person: person.clone(),
        });
        Ok(TimelineEntry::new(
            self.id,
            at,
            actor,
            EntryKind::TeamAssigned,
            format!("{person} assigned as {}", role.title()),
            json!({ "role": role, "person": person, "previous": previous }),
        ))
    }

    /// Who is assigned to `role` on this incident.
    pub fn assigned(&self, role: Role) -> Option<&str> {
        self.team
            .iter()
            .find(|a| a.role == role)
            .map(|a| a.person.as_str())
    }

    /// True when payment-card data is involved (flag or card elements).
    pub fn has_card_data(&self) -> bool {
        self.card_data || involves_card_elements(&self.elements)
    }
}

fn check_clocks(
    discovered: OffsetDateTime,
    aware: OffsetDateTime,
    now: OffsetDateTime,
) -> Result<(), IncidentError> {
    if aware < discovered {
        return Err(IncidentError::AwareBeforeDiscovered);
    }
    if discovered > now {
        return Err(IncidentError::InFuture {
            field: "discovered_at",
        });
    }
    if aware > now {
        return Err(IncidentError::InFuture { field: "aware_at" });
    }
    Ok(())
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}
