//! Scoring a drill run: time to detect, time to contain, each expectation met,
//! late or missed (with who did it), and the HSEEP rating per objective. All
//! times here are scenario time in milliseconds since the run's start, so a
//! run at 60× is judged against the same targets as one in real time.

use serde::Serialize;

use super::scenario::{ActionKind, Anchor, Scenario};

/// What the store saw the team (or auto-open) do on the drill's incidents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Observation {
    Opened { playbooks: Vec<String> },
    PlaybookApplied { playbook: String },
    Containment { action: String },
    Evidence,
    Scope,
    LettersRendered,
    LettersApproved,
    Phase { phase: String },
    TaskDone { task: String },
    Note { text: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct ObservedAction {
    pub what: Observation,
    /// Scenario time.
    pub at_ms: i64,
    pub actor: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObservedAlert {
    pub rule_id: String,
    pub rule_title: String,
    /// Scenario time of the alert's first event.
    pub at_ms: i64,
}

/// Everything a score is computed from.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Observations {
    /// Scenario time of the first attack event sent (none yet: `None`).
    pub first_attack_ms: Option<i64>,
    pub alerts: Vec<ObservedAlert>,
    pub actions: Vec<ObservedAction>,
    /// Scenario time now (the run's clock), to tell pending from missed.
    pub now_ms: i64,
    /// The run has ended: what is not done is missed.
    pub finished: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Met,
    Late,
    Missed,
    /// Not done yet, and the run is still going.
    Pending,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Met => "met",
            Outcome::Late => "late",
            Outcome::Missed => "missed",
            Outcome::Pending => "pending",
        }
    }
}

/// HSEEP's performance ratings: Performed without challenges, with Some
/// challenges, with Major challenges, Unable to be performed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Rating {
    P,
    S,
    M,
    U,
}

impl Rating {
    pub fn meaning(self) -> &'static str {
        match self {
            Rating::P => "Performed without challenges",
            Rating::S => "Performed with some challenges",
            Rating::M => "Performed with major challenges",
            Rating::U => "Unable to be performed",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ItemResult {
    /// The expected action's id, or the rule for a detection.
    pub id: String,
    pub what: String,
    pub objective: String,
    /// Who was expected to act (a team role), or `detection`.
    pub role: String,
    pub outcome: Outcome,
    /// When it happened (scenario time).
    pub at_ms: Option<i64>,
    /// When it was due (scenario time), when its anchor happened.
    pub due_ms: Option<i64>,
    /// Who did it (operator, API key or `system:auto-open`).
    pub by: Option<String>,
    pub points: u32,
    pub earned: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectiveRating {
    pub id: String,
    pub title: String,
    pub capability: Option<String>,
    pub rating: Rating,
    pub meaning: &'static str,
    pub earned: u32,
    pub possible: u32,
}

/// A late or missed expectation, as a task for after the drill.
#[derive(Debug, Clone, Serialize)]
pub struct Improvement {
    pub title: String,
    pub objective: String,
    /// The team role that owns it.
    pub owner: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Score {
    /// First alert − first attack event.
    pub ttd_ms: Option<i64>,
    pub ttd_target_ms: i64,
    /// First containment action − first alert.
    pub ttc_ms: Option<i64>,
    pub ttc_target_ms: i64,
    pub detections: Vec<ItemResult>,
    pub actions: Vec<ItemResult>,
    pub objectives: Vec<ObjectiveRating>,
    pub earned: u32,
    pub possible: u32,
    pub improvements: Vec<Improvement>,
}

fn satisfies(kind: &ActionKind, o: &Observation) -> bool {
    match (kind, o) {
        (ActionKind::IncidentOpened { playbook: None }, Observation::Opened { .. }) => true,
        (ActionKind::IncidentOpened { playbook: Some(p) }, Observation::Opened { playbooks }) => {
            playbooks.contains(p)
        }
        (
            ActionKind::IncidentOpened { playbook: Some(p) },
            Observation::PlaybookApplied { playbook },
        ) => p == playbook,
        (ActionKind::Containment { action: None }, Observation::Containment { .. }) => true,
        (ActionKind::Containment { action: Some(a) }, Observation::Containment { action }) => {
            a == action
        }
        (ActionKind::EvidenceCollected, Observation::Evidence)
        | (ActionKind::ScopeComputed, Observation::Scope)
        | (ActionKind::LettersRendered, Observation::LettersRendered)
        | (ActionKind::LettersApproved, Observation::LettersApproved) => true,
        (ActionKind::Phase { phase }, Observation::Phase { phase: p }) => phase == p,
        (ActionKind::TaskDone { task }, Observation::TaskDone { task: t }) => task == t,
        (ActionKind::Note { contains: None }, Observation::Note { .. }) => true,
        (ActionKind::Note { contains: Some(w) }, Observation::Note { text }) => {
            text.to_lowercase().contains(&w.to_lowercase())
        }
        _ => false,
    }
}

fn judge(at: Option<i64>, due: Option<i64>, obs: &Observations) -> Outcome {
    match (at, due) {
        (Some(t), Some(d)) if t <= d => Outcome::Met,
        (Some(_), Some(_)) => Outcome::Late,
        // Its anchor never happened (no detection, say): done at all is met.
        (Some(_), None) => Outcome::Met,
        (None, Some(d)) if obs.finished || obs.now_ms > d => Outcome::Missed,
        (None, None) if obs.finished => Outcome::Missed,
        (None, _) => Outcome::Pending,
    }
}

fn earned(points: u32, o: Outcome) -> u32 {
    match o {
        Outcome::Met => points,
        Outcome::Late => points / 2,
        Outcome::Missed | Outcome::Pending => 0,
    }
}

fn matches_rule(rule: &str, a: &ObservedAlert) -> bool {
    a.rule_id == rule || a.rule_title.eq_ignore_ascii_case(rule)
}

/// Scores a run of `scenario` from what was observed.
pub fn score(scenario: &Scenario, obs: &Observations) -> Score {
    let first_alert = obs.alerts.iter().map(|a| a.at_ms).min();
    let mut detections = Vec::new();
    for d in &scenario.expected_detections {
        let at = obs
            .alerts
            .iter()
            .filter(|a| matches_rule(&d.rule, a))
            .map(|a| a.at_ms)
            .min();
        let due = obs.first_attack_ms.map(|t| t + d.within_ms);
        let outcome = judge(at, due, obs);
        detections.push(ItemResult {
            id: d.rule.clone(),
            what: format!("rule {} fires", d.rule),
            objective: d.objective.clone(),
            role: "detection".into(),
            outcome,
            at_ms: at,
            due_ms: due,
            by: at.map(|_| "system:detect".into()),
            points: d.points,
            earned: earned(d.points, outcome),
        });
    }
    let mut actions: Vec<ItemResult> = Vec::new();
    for a in &scenario.expected_actions {
        let anchor = match &a.after {
            Anchor::Start => Some(0),
            Anchor::FirstAttack => obs.first_attack_ms,
            Anchor::Detection => first_alert,
            Anchor::Step(s) => match actions.iter().find(|r| &r.id == s) {
                Some(r) => r.at_ms,
                None => scenario
                    .injects
                    .iter()
                    .find(|i| &i.id == s)
                    .map(|i| i.offset_ms)
                    .filter(|t| *t <= obs.now_ms || obs.finished),
            },
        };
        let done = obs
            .actions
            .iter()
            .filter(|o| satisfies(&a.kind, &o.what))
            .min_by_key(|o| o.at_ms);
        let due = anchor.map(|t| t + a.within_ms);
        let outcome = judge(done.map(|d| d.at_ms), due, obs);
        actions.push(ItemResult {
            id: a.id.clone(),
            what: a.kind.describe(),
            objective: a.objective.clone(),
            role: a.role.code().to_owned(),
            outcome,
            at_ms: done.map(|d| d.at_ms),
            due_ms: due,
            by: done.map(|d| d.actor.clone()),
            points: a.points,
            earned: earned(a.points, outcome),
        });
    }
    let objectives = scenario
        .objectives
        .iter()
        .map(|o| {
            let items: Vec<&ItemResult> = detections
                .iter()
                .chain(&actions)
                .filter(|i| i.objective == o.id)
                .collect();
            let possible: u32 = items.iter().map(|i| i.points).sum();
            let got: u32 = items.iter().map(|i| i.earned).sum();
            let rating = if items.iter().all(|i| i.outcome == Outcome::Met) {
                Rating::P
            } else if items
                .iter()
                .all(|i| matches!(i.outcome, Outcome::Met | Outcome::Late))
            {
                Rating::S
            } else if got * 2 >= possible && got > 0 {
                Rating::M
            } else {
                Rating::U
            };
            ObjectiveRating {
                id: o.id.clone(),
                title: o.title.clone(),
                capability: o.capability.clone(),
                rating,
                meaning: rating.meaning(),
                earned: got,
                possible,
            }
        })
        .collect();
    let first_containment = obs
        .actions
        .iter()
        .filter(|o| matches!(o.what, Observation::Containment { .. }))
        .map(|o| o.at_ms)
        .min();
    let improvements = detections
        .iter()
        .chain(&actions)
        .filter(|i| matches!(i.outcome, Outcome::Late | Outcome::Missed))
        .map(|i| Improvement {
            title: match i.outcome {
                Outcome::Late => format!(
                    "{}: done late; find what slowed it and fix the plan",
                    i.what
                ),
                _ if i.role == "detection" => format!(
                    "{}: did not fire; check the log source and the rule",
                    i.what
                ),
                _ => format!(
                    "{}: not done; train the role and update the playbook",
                    i.what
                ),
            },
            objective: i.objective.clone(),
            owner: if i.role == "detection" {
                bulwark_model::Role::SecurityLead.code().to_owned()
            } else {
                i.role.clone()
            },
        })
        .collect();
    let earned_total = detections.iter().chain(&actions).map(|i| i.earned).sum();
    let possible = detections.iter().chain(&actions).map(|i| i.points).sum();
    Score {
        ttd_ms: match (first_alert, obs.first_attack_ms) {
            (Some(a), Some(f)) => Some((a - f).max(0)),
            _ => None,
        },
        ttd_target_ms: scenario.scoring.ttd_target_ms,
        ttc_ms: match (first_containment, first_alert) {
            (Some(c), Some(a)) => Some((c - a).max(0)),
            _ => None,
        },
        ttc_target_ms: scenario.scoring.ttc_target_ms,
        detections,
        actions,
        objectives,
        earned: earned_total,
        possible,
        improvements,
    }
}
