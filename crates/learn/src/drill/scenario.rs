//! Drill scenarios: the files of `scenarios/*.yaml` (documented by
//! `scenarios/schema.json`), read through `bulwark-yaml` with its bounds, then
//! checked for what the types cannot say (offsets in order, references to
//! objectives and steps that exist, a mode that has what it needs).

use std::collections::BTreeSet;

use bulwark_model::{parse_duration, DurationLimits, Pos};
use bulwark_yaml::{parse_document, Aliases, DuplicateKeys, Node, NodeKind, Options, Scalar};
use serde::{Deserialize, Serialize};

/// The longest a scenario may run, in scenario time: a drill is a day's work.
const LONGEST: DurationLimits = DurationLimits {
    finest: bulwark_model::duration::Unit::Second,
    longest: Some(time::Duration::days(30)),
};

/// A scenario file may hold this many events across its injects (after
/// `repeat`), so a hostile file cannot make a drill flood the pipeline.
pub const MAX_EVENTS: usize = 20_000;

const YAML: Options = Options {
    max_depth: 24,
    aliases: Aliases::Refuse,
    duplicate_keys: DuplicateKeys::Refuse,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Attack traffic replayed through ingestion and detection.
    Replay,
    /// Messages to people with questions; the team's actions are scored.
    Tabletop,
    Both,
}

impl Mode {
    pub fn replays(self) -> bool {
        matches!(self, Mode::Replay | Mode::Both)
    }
}

/// An HSEEP objective the scenario's expectations are rated against.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    pub id: String,
    pub title: String,
    /// The HSEEP core capability or plan section it exercises.
    #[serde(default)]
    pub capability: Option<String>,
}

/// Lines of a log in one of detection's formats (`combined`, `nginx:…`, `jsonl`…).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogInject {
    pub format: String,
    pub lines: Vec<String>,
}

/// Vault reveals by a stolen API key, of synthetic customers the drill creates.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevealInject {
    /// How many synthetic customers are revealed (each once).
    pub customers: u32,
    /// The purpose the thief gives.
    #[serde(default = "default_purpose")]
    pub purpose: String,
    /// Elements revealed (codes of the data model).
    #[serde(default = "default_elements")]
    pub elements: Vec<String>,
}

fn default_purpose() -> String {
    "support".into()
}

fn default_elements() -> Vec<String> {
    vec!["email".into(), "name".into()]
}

/// A message to the operators holding a role, with questions to discuss.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageInject {
    pub role: bulwark_model::Role,
    pub subject: String,
    pub text: String,
    #[serde(default)]
    pub questions: Vec<String>,
}

/// What happens at one offset. Exactly one of the payloads is set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inject {
    pub id: String,
    /// Offset from the start, in scenario time (`0s`, `5m`, `2h`).
    pub at: String,
    #[serde(skip)]
    pub offset_ms: i64,
    /// ECS events (JSON objects); their `@timestamp`s keep their spacing and
    /// are moved to the moment the inject fires.
    #[serde(default)]
    pub events: Vec<serde_json::Value>,
    #[serde(default)]
    pub log: Option<LogInject>,
    #[serde(default)]
    pub reveals: Option<RevealInject>,
    /// Checkout-page observations (script added or changed), as the page
    /// monitor reports them: events with `bulwark.page.*`/`bulwark.script.*`.
    #[serde(default)]
    pub page_change: Vec<serde_json::Value>,
    #[serde(default)]
    pub message: Option<MessageInject>,
    /// The events (or lines) are sent this many times; `${i}` in any string
    /// becomes the copy's number (0-based), `${i1}` 1-based.
    #[serde(default = "one")]
    pub repeat: u32,
    /// Spacing between copies, in scenario time (default 1s).
    #[serde(default)]
    pub every: Option<String>,
    #[serde(skip)]
    pub every_ms: i64,
    /// The events happen at this UTC time of day (`02:30`) on the day the
    /// inject fires, for attacks whose hour matters (night-time reveals).
    #[serde(default)]
    pub time_of_day: Option<String>,
    /// Sigma log source of the events (else they are checked against every rule).
    #[serde(default)]
    pub logsource: Option<Logsource>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Logsource {
    #[serde(default)]
    pub product: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
}

impl Inject {
    /// Milliseconds after midnight UTC that `time_of_day` names.
    pub fn time_of_day_ms(&self) -> Option<i64> {
        let t = self.time_of_day.as_deref()?;
        let (h, m) = t.split_once(':')?;
        let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
        ((0..24).contains(&h) && (0..60).contains(&m)).then_some((h * 60 + m) * 60_000)
    }
}

fn one() -> u32 {
    1
}

/// A rule expected to fire within a time of the first attack event.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedDetection {
    pub rule: String,
    pub within: String,
    #[serde(skip)]
    pub within_ms: i64,
    pub objective: String,
    #[serde(default = "ten")]
    pub points: u32,
}

fn ten() -> u32 {
    10
}

/// What the team is expected to do in Bulwark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ActionKind {
    /// The drill incident exists (opened by a person or by auto-open), with
    /// this playbook applied when one is named.
    IncidentOpened {
        #[serde(default)]
        playbook: Option<String>,
    },
    /// A containment action of this kind (`revoke_api_key`, `vault_lockdown`,
    /// `rotate_data_key`, `webhook`) ran on the drill incident.
    Containment {
        #[serde(default)]
        action: Option<String>,
    },
    EvidenceCollected,
    ScopeComputed,
    LettersRendered,
    LettersApproved,
    /// The incident reached this phase (`containment`, `eradication`, …).
    Phase {
        phase: String,
    },
    /// A playbook task (by key) was marked done.
    TaskDone {
        task: String,
    },
    /// A note on the incident (a tabletop answer), optionally containing a word.
    Note {
        #[serde(default)]
        contains: Option<String>,
    },
}

impl ActionKind {
    pub fn describe(&self) -> String {
        match self {
            ActionKind::IncidentOpened { playbook: Some(p) } => {
                format!("incident declared with playbook {p}")
            }
            ActionKind::IncidentOpened { playbook: None } => "incident declared".into(),
            ActionKind::Containment { action: Some(a) } => format!("containment: {a}"),
            ActionKind::Containment { action: None } => "containment".into(),
            ActionKind::EvidenceCollected => "evidence collected".into(),
            ActionKind::ScopeComputed => "scope computed".into(),
            ActionKind::LettersRendered => "letters rendered".into(),
            ActionKind::LettersApproved => "letters approved by legal".into(),
            ActionKind::Phase { phase } => format!("incident in phase {phase}"),
            ActionKind::TaskDone { task } => format!("task {task} done"),
            ActionKind::Note { contains: Some(w) } => format!("note mentioning \"{w}\""),
            ActionKind::Note { contains: None } => "note recorded".into(),
        }
    }
}

/// What an expected action's deadline counts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    /// The drill's start.
    Start,
    /// The first attack event.
    FirstAttack,
    /// The first alert.
    Detection,
    /// Another expected action (by id) when it was done, or an inject (by id)
    /// when it was due.
    #[serde(untagged)]
    Step(String),
}

// No `deny_unknown_fields`: serde cannot combine it with the flattened kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExpectedAction {
    pub id: String,
    #[serde(flatten)]
    pub kind: ActionKind,
    pub within: String,
    #[serde(skip)]
    pub within_ms: i64,
    #[serde(default = "detection")]
    pub after: Anchor,
    /// The team role expected to do it (for the improvement plan's owner).
    pub role: bulwark_model::Role,
    pub objective: String,
    #[serde(default = "ten")]
    pub points: u32,
}

fn detection() -> Anchor {
    Anchor::Detection
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scoring {
    /// Time-to-detect target (first alert − first attack event).
    pub ttd_target: String,
    /// Time-to-contain target (first containment − first alert).
    pub ttc_target: String,
    #[serde(skip)]
    pub ttd_target_ms: i64,
    #[serde(skip)]
    pub ttc_target_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub mode: Mode,
    /// How many times faster than real time it runs unless the run says (1 = real time).
    #[serde(default = "one")]
    pub time_scale: u32,
    /// How long the exercise lasts in scenario time; the run ends then.
    pub duration: String,
    #[serde(skip)]
    pub duration_ms: i64,
    /// The PCI DSS requirement a completed run evidences.
    #[serde(default = "plan_test")]
    pub requirement: String,
    pub objectives: Vec<Objective>,
    pub injects: Vec<Inject>,
    #[serde(default)]
    pub expected_detections: Vec<ExpectedDetection>,
    #[serde(default)]
    pub expected_actions: Vec<ExpectedAction>,
    pub scoring: Scoring,
}

fn plan_test() -> String {
    "PCI DSS 12.10.2".into()
}

/// Why a scenario file was refused: the file, where and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}:{pos}: {message}")]
pub struct ScenarioError {
    pub path: String,
    pub pos: Pos,
    pub message: String,
}

impl Scenario {
    /// Reads one scenario file. Errors name the file and, for YAML and the
    /// checks below, the line; serde's messages name the field.
    pub fn parse(path: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let err = |pos: Pos, message: String| ScenarioError {
            path: path.to_owned(),
            pos,
            message,
        };
        let node = parse_document(text, &YAML).map_err(|e| err(e.pos, e.kind.to_string()))?;
        let value = to_json(&node);
        let mut s: Scenario = serde_json::from_value(value)
            .map_err(|e| err(node.pos, format!("not a scenario: {e}")))?;
        s.check().map_err(|(at, m)| {
            let pos = at.and_then(|k| find(&node, &k)).unwrap_or(node.pos);
            err(pos, m)
        })?;
        Ok(s)
    }

    /// Resolves durations and checks references. The error carries the key
    /// path to point at (`injects.2.at`).
    fn check(&mut self) -> Result<(), (Option<Vec<String>>, String)> {
        let dur = |text: &str, at: Vec<String>| {
            parse_duration(text, LONGEST)
                .map(|d| d.whole_milliseconds() as i64)
                .map_err(|e| (Some(at), e.to_string()))
        };
        let key = |parts: &[&str]| parts.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        if self.id.is_empty()
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err((
                Some(key(&["id"])),
                "id: letters, digits, `-` and `_` only".into(),
            ));
        }
        if !(1..=10_000).contains(&self.time_scale) {
            return Err((Some(key(&["time_scale"])), "time_scale: 1 to 10000".into()));
        }
        self.duration_ms = dur(&self.duration, key(&["duration"]))?;
        self.scoring.ttd_target_ms =
            dur(&self.scoring.ttd_target, key(&["scoring", "ttd_target"]))?;
        self.scoring.ttc_target_ms =
            dur(&self.scoring.ttc_target, key(&["scoring", "ttc_target"]))?;
        if self.objectives.is_empty() {
            return Err((Some(key(&["objectives"])), "at least one objective".into()));
        }
        let objectives: BTreeSet<&str> = self.objectives.iter().map(|o| o.id.as_str()).collect();
        if objectives.len() != self.objectives.len() {
            return Err((
                Some(key(&["objectives"])),
                "objective ids must be unique".into(),
            ));
        }
        if self.injects.is_empty() {
            return Err((Some(key(&["injects"])), "at least one inject".into()));
        }
        let mut last = 0;
        let mut events = 0usize;
        let mut ids = BTreeSet::new();
        for (i, inj) in self.injects.iter_mut().enumerate() {
            let at = |f: &str| vec!["injects".to_string(), i.to_string(), f.to_string()];
            inj.offset_ms = dur(&inj.at, at("at"))?;
            if inj.offset_ms < last {
                return Err((
                    Some(at("at")),
                    format!(
                        "inject `{}` comes before the one above it; list injects in time order",
                        inj.id
                    ),
                ));
            }
            if inj.offset_ms > self.duration_ms {
                return Err((
                    Some(at("at")),
                    format!("inject `{}` is after the scenario's duration", inj.id),
                ));
            }
            last = inj.offset_ms;
            if !ids.insert(inj.id.clone()) {
                return Err((
                    Some(at("id")),
                    format!("inject id `{}` is used twice", inj.id),
                ));
            }
            inj.every_ms = match &inj.every {
                Some(e) => dur(e, at("every"))?,
                None => 1000,
            };
            let payloads = usize::from(!inj.events.is_empty())
                + usize::from(inj.log.is_some())
                + usize::from(inj.reveals.is_some())
                + usize::from(!inj.page_change.is_empty())
                + usize::from(inj.message.is_some());
            if payloads != 1 {
                return Err((Some(at("id")), format!("inject `{}` needs exactly one of events, log, reveals, page_change, message", inj.id)));
            }
            if inj.time_of_day.is_some() && inj.time_of_day_ms().is_none() {
                return Err((
                    Some(at("time_of_day")),
                    "time_of_day: HH:MM, 24-hour, UTC".into(),
                ));
            }
            if !(1..=10_000).contains(&inj.repeat) {
                return Err((Some(at("repeat")), "repeat: 1 to 10000".into()));
            }
            if let Some(ev) = inj
                .events
                .iter()
                .chain(&inj.page_change)
                .find(|e| !e.is_object())
            {
                let _ = ev;
                return Err((
                    Some(at("events")),
                    format!(
                        "inject `{}`: every event is a mapping of ECS fields",
                        inj.id
                    ),
                ));
            }
            let per = inj.events.len()
                + inj.page_change.len()
                + inj.log.as_ref().map_or(0, |l| l.lines.len())
                + inj.reveals.as_ref().map_or(0, |r| r.customers as usize);
            events = events.saturating_add(per.saturating_mul(inj.repeat as usize));
            if inj
                .reveals
                .as_ref()
                .is_some_and(|r| r.customers == 0 || r.customers > 5_000)
            {
                return Err((Some(at("reveals")), "reveals.customers: 1 to 5000".into()));
            }
            if inj.message.is_some() && self.mode == Mode::Replay {
                return Err((
                    Some(at("message")),
                    "a message inject needs mode tabletop or both".into(),
                ));
            }
            if inj.message.is_none() && self.mode == Mode::Tabletop {
                return Err((
                    Some(at("id")),
                    "a tabletop scenario has only message injects; use mode both".into(),
                ));
            }
        }
        if events > MAX_EVENTS {
            return Err((
                Some(key(&["injects"])),
                format!("{events} events in all; at most {MAX_EVENTS}"),
            ));
        }
        for (i, d) in self.expected_detections.iter_mut().enumerate() {
            let at = |f: &str| {
                vec![
                    "expected_detections".to_string(),
                    i.to_string(),
                    f.to_string(),
                ]
            };
            d.within_ms = dur(&d.within, at("within"))?;
            if !objectives.contains(d.objective.as_str()) {
                return Err((
                    Some(at("objective")),
                    format!("no objective `{}`", d.objective),
                ));
            }
        }
        if !self.expected_detections.is_empty() && !self.mode.replays() {
            return Err((
                Some(key(&["expected_detections"])),
                "expected detections need mode replay or both".into(),
            ));
        }
        let injects: BTreeSet<String> = self.injects.iter().map(|i| i.id.clone()).collect();
        let mut steps = BTreeSet::new();
        for (i, a) in self.expected_actions.iter_mut().enumerate() {
            let at = |f: &str| vec!["expected_actions".to_string(), i.to_string(), f.to_string()];
            a.within_ms = dur(&a.within, at("within"))?;
            if !objectives.contains(a.objective.as_str()) {
                return Err((
                    Some(at("objective")),
                    format!("no objective `{}`", a.objective),
                ));
            }
            if let Anchor::Step(s) = &a.after {
                if !steps.contains(s.as_str()) && !injects.contains(s) {
                    return Err((Some(at("after")), format!("`after: {s}` names no inject and no expected action listed above this one")));
                }
            }
            if injects.contains(&a.id) || !steps.insert(a.id.clone()) {
                return Err((
                    Some(at("id")),
                    format!("expected action id `{}` is used twice", a.id),
                ));
            }
        }
        let rated: BTreeSet<&str> = self
            .expected_detections
            .iter()
            .map(|d| d.objective.as_str())
            .chain(self.expected_actions.iter().map(|a| a.objective.as_str()))
            .collect();
        if let Some(o) = self
            .objectives
            .iter()
            .find(|o| !rated.contains(o.id.as_str()))
        {
            return Err((
                Some(key(&["objectives"])),
                format!(
                    "objective `{}` has nothing expected of it, so it cannot be rated",
                    o.id
                ),
            ));
        }
        Ok(())
    }

    pub fn objective(&self, id: &str) -> Option<&Objective> {
        self.objectives.iter().find(|o| o.id == id)
    }
}

/// The YAML tree as JSON (scalars typed by the core schema).
fn to_json(n: &Node) -> serde_json::Value {
    use serde_json::Value;
    match &n.kind {
        NodeKind::Map(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), to_json(v)))
                .collect(),
        ),
        NodeKind::Seq(s) => Value::Array(s.iter().map(to_json).collect()),
        NodeKind::Scalar { .. } => match n.scalar() {
            Some(Scalar::Null) | None => Value::Null,
            Some(Scalar::Bool(b)) => Value::Bool(b),
            Some(Scalar::Int(i)) => Value::from(i),
            Some(Scalar::Float(f)) => {
                serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
            }
            Some(Scalar::Str(s)) => Value::String(s.to_owned()),
        },
    }
}

/// The position of the node at a key path (`injects`, `2`, `at`).
fn find(root: &Node, path: &[String]) -> Option<Pos> {
    let mut n = root;
    for p in path {
        n = match &n.kind {
            NodeKind::Map(_) => n.get(p)?,
            NodeKind::Seq(s) => s.get(p.parse::<usize>().ok()?)?,
            NodeKind::Scalar { .. } => return Some(n.pos),
        };
    }
    Some(n.pos)
}
