//! Auto-open: what to do with a new detection alert. An alert at or above the
//! configured level either attaches to an open incident that already has an
//! alert from the same rule about the same entity within the window, or opens
//! a new incident with the playbooks for its classification.
//!
//! The alert comes in as `AlertRef`, a small copy of what detection produces,
//! so this crate does not depend on `bulwark-detect` and either can land first.

use serde::{Deserialize, Serialize};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::incident::{AlertKey, Classification, Incident, IncidentError, NewIncident, Severity};
use crate::lifecycle::Phase;
use crate::playbook::PlaybookSet;
use crate::timeline::{EntryKind, TimelineEntry};

/// Sigma rule levels, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertLevel {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl AlertLevel {
    /// The severity an auto-opened incident starts with; the commander adjusts it.
    pub fn severity(self) -> Severity {
        match self {
            AlertLevel::Critical => Severity::Sev1,
            AlertLevel::High => Severity::Sev2,
            AlertLevel::Medium => Severity::Sev3,
            AlertLevel::Low | AlertLevel::Informational => Severity::Sev4,
        }
    }
}

/// What auto-open needs to know about an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRef {
    pub id: String,
    pub rule_id: String,
    pub rule_title: String,
    pub level: AlertLevel,
    /// The rule's tags (`attack.t1056.003`), used for routing.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Who or what it is about: a principal, a source address, a host.
    #[serde(default)]
    pub entity: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

impl AlertRef {
    /// `rule|entity`: alerts with the same key belong to the same incident.
    pub fn correlation_key(&self) -> String {
        format!("{}|{}", self.rule_id, self.entity.as_deref().unwrap_or(""))
    }
}

/// Sends alerts from some rules to a classification. A route matches when the
/// rule id is listed or any tag is (case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub classification: Classification,
    #[serde(default)]
    pub rule_ids: Vec<String>,
    #[serde(default)]
    pub tags_any: Vec<String>,
    /// The playbooks to apply; empty means every playbook for the classification.
    #[serde(default)]
    pub playbooks: Vec<String>,
}

impl Route {
    fn matches(&self, a: &AlertRef) -> bool {
        self.rule_ids.contains(&a.rule_id)
            || self
                .tags_any
                .iter()
                .any(|t| a.tags.iter().any(|x| x.eq_ignore_ascii_case(t)))
    }
}

/// Auto-open settings (from the shell's configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoOpenConfig {
    pub min_level: AlertLevel,
    /// How long after the last alert with the same key a new one still attaches.
    #[serde(with = "crate::playbook::serde_offset")]
    pub attach_window: Duration,
    /// Checked in order; the first match wins.
    pub routes: Vec<Route>,
    /// Classification for alerts no route matches; `None` leaves them to a human.
    #[serde(default)]
    pub fallback: Option<Classification>,
}

impl Default for AutoOpenConfig {
    fn default() -> Self {
        AutoOpenConfig {
            min_level: AlertLevel::High,
            attach_window: Duration::hours(24),
            routes: default_routes(),
            fallback: None,
        }
    }
}

/// Routing by MITRE ATT&CK technique tags, as the shipped rule pack tags its rules.
pub fn default_routes() -> Vec<Route> {
    let route = |c, tags: &[&str], playbooks: &[&str]| Route {
        classification: c,
        rule_ids: Vec::new(),
        tags_any: tags.iter().map(|t| t.to_string()).collect(),
        playbooks: playbooks.iter().map(|p| p.to_string()).collect(),
    };
    vec![
        // Input capture on a web portal: skimming.
        route(Classification::WebSkimmer, &["attack.t1056.003"], &[]),
        // Encrypting data for impact, inhibiting recovery.
        route(
            Classification::MalwareRansomware,
            &["attack.t1486", "attack.t1490"],
            &[],
        ),
        // Exploiting the public-facing application, SQL injection in particular.
        route(
            Classification::SqlInjectionExfiltration,
            &["attack.t1190"],
            &[],
        ),
        // Password guessing and stuffing hit customer accounts...
        route(
            Classification::CredentialTheft,
            &["attack.t1110", "attack.t1110.003", "attack.t1110.004"],
            &["credential_stuffing"],
        ),
        // ...while valid-account abuse and account or MFA manipulation hit admins.
        route(
            Classification::CredentialTheft,
            &["attack.t1078", "attack.t1098", "attack.t1556.006"],
            &["admin_account_takeover"],
        ),
        // Bulk reads of the vault by one principal: a stolen key or account
        // harvesting customer data (data from a cloud store).
        route(
            Classification::CredentialTheft,
            &["attack.t1530"],
            &["admin_account_takeover"],
        ),
    ]
}

/// What to do with an alert.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Below the level, or already linked.
    Ignore { why: String },
    /// Link it to this open incident (`Incident::track_alert`).
    Attach { incident: u64 },
    /// Open an incident and apply these playbooks, then `track_alert`.
    Open {
        /// Boxed: an incident draft is much larger than the other answers.
        new: Box<NewIncident>,
        playbooks: Vec<String>,
    },
    /// Serious enough, but no route says what it is: a human opens it.
    NeedsTriage { why: String },
}

/// Decides what to do with `alert`, given the incidents that are not closed.
pub fn decide(
    alert: &AlertRef,
    incidents: &[Incident],
    playbooks: &PlaybookSet,
    config: &AutoOpenConfig,
) -> Decision {
    if alert.level < config.min_level {
        return Decision::Ignore {
            why: format!(
                "level {:?} is below the auto-open level {:?}",
                alert.level, config.min_level
            )
            .to_lowercase(),
        };
    }
    if let Some(i) = incidents.iter().find(|i| i.alerts.contains(&alert.id)) {
        return Decision::Ignore {
            why: format!("already linked to {}", i.reference()),
        };
    }
    let key = alert.correlation_key();
    let attach = incidents
        .iter()
        .filter(|i| i.phase != Phase::Closed)
        .filter(|i| {
            i.alert_keys
                .iter()
                .any(|k| k.key == key && alert.at - k.last_alert_at <= config.attach_window)
        })
        // The incident most recently touched by this key, if several.
        .max_by_key(|i| {
            i.alert_keys
                .iter()
                .filter(|k| k.key == key)
                .map(|k| k.last_alert_at)
                .max()
        });
    if let Some(i) = attach {
        return Decision::Attach { incident: i.id };
    }
    let route = config.routes.iter().find(|r| r.matches(alert));
    let classification = route.map(|r| r.classification).or(config.fallback);
    let Some(classification) = classification else {
        return Decision::NeedsTriage {
            why: format!("no route classifies rule `{}`", alert.rule_id),
        };
    };
    // Auto-opened incidents start the legal clock at the alert: the
    // conservative choice. The commander may move aware_at on review, and that
    // move is itself on the timeline.
    let mut new = NewIncident::new(
        &alert.rule_title,
        alert.level.severity(),
        classification,
        alert.at,
        alert.at,
    );
    new.summary = format!("Opened automatically from alert {}.", alert.id);
    new.alerts = vec![alert.id.clone()];
    Decision::Open {
        new: Box::new(new),
        // Named playbooks that are not loaded are dropped rather than failing
        // the alert: an overridden set may have renamed them.
        playbooks: match route.filter(|r| !r.playbooks.is_empty()) {
            Some(r) => r
                .playbooks
                .iter()
                .filter(|id| playbooks.get(id).is_ok())
                .cloned()
                .collect(),
            None => playbooks
                .for_classification(classification)
                .iter()
                .map(|p| p.id.clone())
                .collect(),
        },
    }
}

impl Incident {
    /// Links an alert and remembers its correlation key, so later alerts with
    /// the same key attach here. `None` when nothing changed.
    pub fn track_alert(
        &mut self,
        alert: &AlertRef,
        actor: &str,
        at: OffsetDateTime,
    ) -> Result<Option<TimelineEntry>, IncidentError> {
        let key = alert.correlation_key();
        match self.alert_keys.iter_mut().find(|k| k.key == key) {
            Some(k) => k.last_alert_at = k.last_alert_at.max(alert.at),
            None => self.alert_keys.push(AlertKey {
                key: key.clone(),
                last_alert_at: alert.at,
            }),
        }
        let linked = self.link_alert(&alert.id, actor, at)?;
        Ok(linked.map(|mut e| {
            e.text = format!("Alert {} linked: {}", alert.id, alert.rule_title);
            e.details = json!({
                "alert": alert.id,
                "rule": alert.rule_id,
                "level": alert.level,
                "entity": alert.entity,
                "key": key,
            });
            e.kind = EntryKind::AlertLinked;
            e
        }))
    }
}
