//! Playbooks: YAML files of phase-ordered tasks (see `playbooks/README.md` for
//! the format). The shipped set is compiled in (`builtin.rs`); the data
//! directory can override or add playbooks by id, passed in as `(path, text)`.

use std::collections::BTreeSet;
use std::str::FromStr;

use bulwark_model::duration::{parse_duration, DurationLimits, Unit};
use bulwark_model::{bloc_members, DataElement, Pos};
use bulwark_yaml::{parse_document, Aliases, DuplicateKeys, ErrorKind, Node, Options};
use serde::{Deserialize, Serialize};
use time::Duration;

use crate::containment::{is_known_event, is_valid_event_name, ContainmentAction};
use crate::incident::{normalize_jurisdiction, Classification, Incident};
use crate::lifecycle::Phase;
use crate::lint::{Diagnostic, Severity};
use crate::team::Role;

/// What a task's due offset counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DueAnchor {
    /// The moment the store became aware: fixed, so the due time is known when
    /// the playbook is applied (legal clocks run from here).
    AwareAt,
    /// When the incident first enters the task's phase: unknown until then.
    PhaseStart,
}

/// What a task's `due.after` accepts: whole minutes (nobody schedules incident
/// work by the second), at most a year out (a task due later is a typo).
pub const OFFSET_LIMITS: DurationLimits = DurationLimits {
    finest: Unit::Minute,
    longest: Some(Duration::days(366)),
};

/// serde as the canonical string (`1d12h`), read with [`OFFSET_LIMITS`].
pub(crate) mod serde_offset {
    use bulwark_model::duration::{format_duration, parse_duration};
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_duration(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        parse_duration(&s, super::OFFSET_LIMITS).map_err(serde::de::Error::custom)
    }
}

/// `due: {after: 24h, from: aware_at}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DueRule {
    /// An offset such as `30m`, `24h`, `3d`.
    #[serde(with = "serde_offset")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub after: Duration,
    pub from: DueAnchor,
}

/// When a task applies. Every condition given must hold; absent ones always do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conditions {
    /// The incident's classification is one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classification: Vec<Classification>,
    /// At least one of these elements is involved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elements_any: Vec<DataElement>,
    /// All of these elements are involved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elements_all: Vec<DataElement>,
    /// Card data is (or is not) involved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_data: Option<bool>,
    /// Customers in at least one of these jurisdictions are involved. A
    /// country matches its subdivisions (`US` matches `US-CA`) and `EU`
    /// matches the EEA states (`bulwark_model::EEA_COUNTRIES`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jurisdictions_any: Vec<String>,
}

/// `US` matches `US-CA`; a bloc (`EU`) matches its member countries and
/// their subdivisions (the EEA: the law catalogue resolves `EU` the same way).
fn jurisdiction_matches(wanted: &str, involved: &str) -> bool {
    let country = involved.split('-').next().unwrap_or(involved);
    wanted == involved
        || involved
            .strip_prefix(wanted)
            .is_some_and(|rest| rest.starts_with('-'))
        || bloc_members(wanted).is_some_and(|members| members.contains(&country))
}

impl Conditions {
    pub fn is_empty(&self) -> bool {
        *self == Conditions::default()
    }

    /// Whether every condition holds for the incident.
    pub fn holds(&self, incident: &Incident) -> bool {
        self.unmet(incident).is_none()
    }

    /// The first condition that does not hold, in words (for the timeline).
    pub fn unmet(&self, incident: &Incident) -> Option<String> {
        if !self.classification.is_empty()
            && !self.classification.contains(&incident.classification)
        {
            return Some(format!(
                "classification is {}, not {}",
                incident.classification,
                join(&self.classification)
            ));
        }
        if !self.elements_any.is_empty()
            && !self
                .elements_any
                .iter()
                .any(|e| incident.elements.contains(e))
        {
            return Some(format!("none of {} involved", join(&self.elements_any)));
        }
        if let Some(missing) = self
            .elements_all
            .iter()
            .find(|e| !incident.elements.contains(e))
        {
            return Some(format!("{missing} not involved"));
        }
        if let Some(want) = self.card_data {
            if incident.has_card_data() != want {
                return Some(if want {
                    "no card data involved".to_owned()
                } else {
                    "card data involved".to_owned()
                });
            }
        }
        if !self.jurisdictions_any.is_empty()
            && !self.jurisdictions_any.iter().any(|w| {
                incident
                    .jurisdictions
                    .iter()
                    .any(|j| jurisdiction_matches(w, j))
            })
        {
            return Some(format!(
                "no customers in {}",
                self.jurisdictions_any.join(", ")
            ));
        }
        None
    }
}

fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One task in a playbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskTemplate {
    pub id: String,
    pub phase: Phase,
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub role: Role,
    pub due: DueRule,
    #[serde(default, skip_serializing_if = "Conditions::is_empty")]
    pub when: Conditions,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<ContainmentAction>,
}

/// A playbook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Playbook {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Classifications this playbook is the response for (used to pick it).
    pub classifications: Vec<Classification>,
    pub tasks: Vec<TaskTemplate>,
    /// The file it came from.
    pub path: String,
}

impl Playbook {
    /// The roles that own at least one task.
    pub fn roles(&self) -> BTreeSet<Role> {
        self.tasks.iter().map(|t| t.role).collect()
    }
}

/// Why playbooks could not be loaded. Messages name the file and position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaybookError {
    #[error("{0}")]
    Invalid(Diagnostic),
    #[error("{path}: playbook id `{id}` is also defined in {other}")]
    DuplicateId {
        path: String,
        id: String,
        other: String,
    },
    #[error("no playbook `{0}`")]
    Unknown(String),
}

/// A loaded set of playbooks, in load order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlaybookSet {
    playbooks: Vec<Playbook>,
}

impl PlaybookSet {
    /// Loads playbook files given as `(path, text)` pairs. Ids must be unique.
    pub fn load<P: AsRef<str>, T: AsRef<str>>(files: &[(P, T)]) -> Result<Self, PlaybookError> {
        let mut set = PlaybookSet::default();
        for (path, text) in files {
            let pb = parse_playbook(path.as_ref(), text.as_ref())?;
            if let Some(other) = set.playbooks.iter().find(|p| p.id == pb.id) {
                return Err(PlaybookError::DuplicateId {
                    path: pb.path.clone(),
                    id: pb.id,
                    other: other.path.clone(),
                });
            }
            set.playbooks.push(pb);
        }
        Ok(set)
    }

    /// The playbooks shipped in `playbooks/`.
    pub fn builtin() -> Result<Self, PlaybookError> {
        PlaybookSet::load(crate::builtin::FILES)
    }

    /// Replaces (by id) or adds playbooks from override files, e.g. the data
    /// directory's `playbooks/` on top of the built-in set.
    pub fn with_overrides<P: AsRef<str>, T: AsRef<str>>(
        mut self,
        files: &[(P, T)],
    ) -> Result<Self, PlaybookError> {
        let extra = PlaybookSet::load(files)?;
        for pb in extra.playbooks {
            match self.playbooks.iter_mut().find(|p| p.id == pb.id) {
                Some(slot) => *slot = pb,
                None => self.playbooks.push(pb),
            }
        }
        Ok(self)
    }

    pub fn all(&self) -> &[Playbook] {
        &self.playbooks
    }

    pub fn get(&self, id: &str) -> Result<&Playbook, PlaybookError> {
        self.playbooks
            .iter()
            .find(|p| p.id == id)
            .ok_or_else(|| PlaybookError::Unknown(id.chars().take(64).collect()))
    }

    /// The playbooks written for this classification (what auto-open applies).
    pub fn for_classification(&self, c: Classification) -> Vec<&Playbook> {
        self.playbooks
            .iter()
            .filter(|p| p.classifications.contains(&c))
            .collect()
    }
}

/// Parses and checks one playbook; the error is the first problem found.
pub fn parse_playbook(path: &str, text: &str) -> Result<Playbook, PlaybookError> {
    let (pb, diags) = compile(path, text);
    if let Some(d) = diags.into_iter().find(|d| d.severity == Severity::Error) {
        return Err(PlaybookError::Invalid(d));
    }
    pb.ok_or_else(|| PlaybookError::Invalid(Diagnostic::error(path, None, "not a playbook")))
}

/// Collects findings while walking a file.
struct Ctx<'a> {
    path: &'a str,
    out: Vec<Diagnostic>,
}

impl Ctx<'_> {
    fn push(&mut self, pos: Option<Pos>, severity: Severity, message: String) {
        self.out
            .push(Diagnostic::new(self.path, pos, severity, message));
    }

    fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.push(Some(pos), Severity::Error, message.into());
    }

    fn warn(&mut self, pos: Pos, message: impl Into<String>) {
        self.push(Some(pos), Severity::Warning, message.into());
    }

    /// The entries of a mapping, reporting unknown keys.
    fn map<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        known: &[&str],
    ) -> Option<Vec<(&'n str, &'n Node)>> {
        let Some(entries) = node.as_map() else {
            self.error(
                node.pos,
                format!("{what} must be a mapping, found {}", node.kind_name()),
            );
            return None;
        };
        let mut out = Vec::new();
        for (k, v) in entries {
            let Some(key) = k.as_str() else {
                self.error(k.pos, format!("{what} keys must be plain words"));
                continue;
            };
            if !known.contains(&key) {
                self.error(
                    k.pos,
                    format!(
                        "unknown key `{key}` in {what}; expected one of: {}",
                        known.join(", ")
                    ),
                );
                continue;
            }
            out.push((key, v));
        }
        Some(out)
    }

    fn text(&mut self, node: &Node, what: &str) -> Option<String> {
        match node.as_str() {
            Some(s) if !node.is_null() && !s.trim().is_empty() => Some(s.trim().to_owned()),
            _ => {
                self.error(node.pos, format!("{what} must be non-empty text"));
                None
            }
        }
    }

    fn id(&mut self, node: &Node, what: &str) -> Option<String> {
        let s = self.text(node, what)?;
        let ok = s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !ok {
            self.error(
                node.pos,
                format!("{what} `{s}` must be lower-case letters, digits, `_` or `-` (at most 64)"),
            );
            return None;
        }
        Some(s)
    }

    /// A list of codes parsed with `parse`; a single scalar counts as a list of one.
    fn codes<T>(
        &mut self,
        node: &Node,
        what: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Option<Vec<T>> {
        let items: Vec<&Node> = match node.as_seq() {
            Some(s) => s.iter().collect(),
            None if node.as_str().is_some() => vec![node],
            None => {
                self.error(node.pos, format!("{what} must be a list"));
                return None;
            }
        };
        if items.is_empty() {
            self.error(node.pos, format!("{what} must not be empty"));
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        for item in items {
            match item.as_str().map(&parse) {
                Some(Ok(v)) => out.push(v),
                Some(Err(msg)) => {
                    self.error(item.pos, msg);
                    ok = false;
                }
                None => {
                    self.error(item.pos, format!("{what} entries must be plain codes"));
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }
}

const PLAYBOOK_KEYS: &[&str] = &["id", "title", "description", "classifications", "tasks"];
const TASK_KEYS: &[&str] = &[
    "id",
    "phase",
    "title",
    "description",
    "role",
    "due",
    "when",
    "action",
];
const DUE_KEYS: &[&str] = &["after", "from"];
const WHEN_KEYS: &[&str] = &[
    "classification",
    "elements_any",
    "elements_all",
    "card_data",
    "jurisdictions_any",
];

fn classification(s: &str) -> Result<Classification, String> {
    Classification::from_str(s).map_err(|e| e.to_string())
}

/// Playbooks are short and hand-written: no anchors or aliases (they would
/// make positions harder to follow), no repeated keys (the second would
/// silently win or lose), and nesting far shallower than the tree allows.
const YAML: Options = Options {
    max_depth: 32,
    aliases: Aliases::Refuse,
    duplicate_keys: DuplicateKeys::Refuse,
};

/// Parses one file, returning the playbook (when it could be built) and every
/// finding. Shared by `load` (which stops at the first error) and `lint`.
pub(crate) fn compile(path: &str, text: &str) -> (Option<Playbook>, Vec<Diagnostic>) {
    let mut cx = Ctx {
        path,
        out: Vec::new(),
    };
    let doc = match parse_document(text, &YAML) {
        Ok(d) => d,
        Err(e) => {
            let message = match e.kind {
                ErrorKind::AliasRefused => {
                    "anchors and aliases are not supported in playbooks".to_owned()
                }
                ErrorKind::SecondDocument => {
                    "one playbook per file: found a second YAML document".to_owned()
                }
                other => other.to_string(),
            };
            cx.error(e.pos, format!("YAML: {message}"));
            return (None, cx.out);
        }
    };
    let pb = playbook(&mut cx, &doc);
    let errors = cx.out.iter().any(|d| d.severity == Severity::Error);
    (if errors { None } else { pb }, cx.out)
}

fn playbook(cx: &mut Ctx<'_>, doc: &Node) -> Option<Playbook> {
    let entries = cx.map(doc, "the playbook", PLAYBOOK_KEYS)?;
    let get = |k: &str| entries.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    let id = match get("id") {
        Some(n) => cx.id(n, "id"),
        None => {
            cx.error(doc.pos, "missing key `id`");
            None
        }
    };
    let title = match get("title") {
        Some(n) => cx.text(n, "title"),
        None => {
            cx.error(doc.pos, "missing key `title`");
            None
        }
    };
    let description = get("description")
        .and_then(|n| n.as_str())
        .unwrap_or("")
        .trim()
        .to_owned();
    let classifications = match get("classifications") {
        Some(n) => cx
            .codes(n, "classifications", classification)
            .unwrap_or_default(),
        None => {
            cx.warn(
                doc.pos,
                "no `classifications`: the playbook is never chosen automatically",
            );
            Vec::new()
        }
    };
    if let (Some(id), Some(stem)) = (
        &id,
        cx.path
            .rsplit('/')
            .next()
            .and_then(|f| f.strip_suffix(".yaml").or_else(|| f.strip_suffix(".yml"))),
    ) {
        if id != stem {
            if let Some(n) = get("id") {
                cx.warn(
                    n.pos,
                    format!("id `{id}` differs from the file name `{stem}`"),
                );
            }
        }
    }
    let mut tasks = Vec::new();
    match get("tasks") {
        None => cx.error(doc.pos, "missing key `tasks`"),
        Some(n) => match n.as_seq() {
            None => cx.error(
                n.pos,
                format!("tasks must be a list, found {}", n.kind_name()),
            ),
            Some([]) => cx.error(n.pos, "tasks must not be empty"),
            Some(items) => {
                let mut seen: Vec<String> = Vec::new();
                let mut last_phase = Phase::Triage;
                for item in items {
                    if let Some(t) = task(cx, item) {
                        if seen.contains(&t.id) {
                            cx.error(item.pos, format!("task id `{}` is used twice", t.id));
                        }
                        if t.phase < last_phase {
                            cx.error(
                                item.pos,
                                format!(
                                    "task `{}` is in {} but follows a task in {}: list tasks in phase order",
                                    t.id, t.phase, last_phase
                                ),
                            );
                        }
                        last_phase = last_phase.max(t.phase);
                        seen.push(t.id.clone());
                        tasks.push(t);
                    }
                }
            }
        },
    }
    Some(Playbook {
        id: id?,
        title: title?,
        description,
        classifications,
        tasks,
        path: cx.path.to_owned(),
    })
}

fn task(cx: &mut Ctx<'_>, node: &Node) -> Option<TaskTemplate> {
    let entries = cx.map(node, "a task", TASK_KEYS)?;
    let get = |k: &str| entries.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    let required = |cx: &mut Ctx<'_>, k: &str| {
        let v = get(k);
        if v.is_none() {
            cx.error(node.pos, format!("task is missing key `{k}`"));
        }
        v
    };
    let id = required(cx, "id").and_then(|n| cx.id(n, "task id"));
    let title = required(cx, "title").and_then(|n| cx.text(n, "task title"));
    let phase = required(cx, "phase").and_then(|n| match n.as_str().map(Phase::from_str) {
        Some(Ok(Phase::Closed)) => {
            cx.error(
                n.pos,
                "tasks cannot belong to `closed`: a closed incident has no open work (put reviews in monitoring)",
            );
            None
        }
        Some(Ok(p)) => Some(p),
        Some(Err(e)) => {
            cx.error(n.pos, e.to_string());
            None
        }
        None => {
            cx.error(n.pos, "phase must be a phase name");
            None
        }
    });
    let role = required(cx, "role").and_then(|n| match n.as_str().map(Role::from_str) {
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => {
            cx.error(n.pos, e.to_string());
            None
        }
        None => {
            cx.error(n.pos, "role must be a role name");
            None
        }
    });
    let due = required(cx, "due").and_then(|n| due(cx, n));
    let when = match get("when") {
        Some(n) => conditions(cx, n)?,
        None => Conditions::default(),
    };
    let action = match get("action") {
        Some(n) => Some(action(cx, n)?),
        None => None,
    };
    let description = get("description")
        .and_then(|n| n.as_str())
        .unwrap_or("")
        .trim()
        .to_owned();
    Some(TaskTemplate {
        id: id?,
        phase: phase?,
        title: title?,
        description,
        role: role?,
        due: due?,
        when,
        action,
    })
}

fn due(cx: &mut Ctx<'_>, node: &Node) -> Option<DueRule> {
    let entries = cx.map(node, "due", DUE_KEYS)?;
    let get = |k: &str| entries.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    let after = match get("after") {
        None => {
            cx.error(node.pos, "due is missing `after` (e.g. `after: 24h`)");
            None
        }
        Some(n) => match n.as_str().map(|t| parse_duration(t, OFFSET_LIMITS)) {
            Some(Ok(d)) => Some(d),
            Some(Err(e)) => {
                cx.error(n.pos, format!("due.after: {e}"));
                None
            }
            None => {
                cx.error(n.pos, "due.after must be a duration such as `24h`");
                None
            }
        },
    };
    let from = match get("from") {
        None => {
            cx.error(node.pos, "due is missing `from` (aware_at or phase_start)");
            None
        }
        Some(n) => match n.as_str() {
            Some("aware_at") => Some(DueAnchor::AwareAt),
            Some("phase_start") => Some(DueAnchor::PhaseStart),
            _ => {
                cx.error(
                    n.pos,
                    format!(
                        "due.from must be `aware_at` or `phase_start`, found `{}`",
                        n.as_str().unwrap_or("?")
                    ),
                );
                None
            }
        },
    };
    Some(DueRule {
        after: after?,
        from: from?,
    })
}

fn conditions(cx: &mut Ctx<'_>, node: &Node) -> Option<Conditions> {
    let entries = cx.map(node, "when", WHEN_KEYS)?;
    let mut c = Conditions::default();
    let mut ok = true;
    for (key, v) in entries {
        match key {
            "classification" => match cx.codes(v, "when.classification", classification) {
                Some(list) => c.classification = list,
                None => ok = false,
            },
            "elements_any" | "elements_all" => {
                let parsed = cx.codes(v, &format!("when.{key}"), |s| {
                    DataElement::from_str(s).map_err(|e| e.to_string())
                });
                match (key, parsed) {
                    ("elements_any", Some(list)) => c.elements_any = list,
                    (_, Some(list)) => c.elements_all = list,
                    (_, None) => ok = false,
                }
            }
            "card_data" => match v.as_bool() {
                Some(b) => c.card_data = Some(b),
                None => {
                    cx.error(v.pos, "when.card_data must be true or false");
                    ok = false;
                }
            },
            _ => match cx.codes(v, "when.jurisdictions_any", |s| {
                normalize_jurisdiction(s).map_err(|e| e.to_string())
            }) {
                Some(list) => c.jurisdictions_any = list,
                None => ok = false,
            },
        }
    }
    ok.then_some(c)
}

/// `action: vault_lockdown` or `action: {webhook: checkout.pause}`.
fn action(cx: &mut Ctx<'_>, node: &Node) -> Option<ContainmentAction> {
    const KNOWN: &str = "revoke_api_key, vault_lockdown, rotate_data_key or {webhook: <event>}";
    if let Some(s) = node.as_str() {
        return match s {
            "revoke_api_key" => Some(ContainmentAction::RevokeApiKey),
            "vault_lockdown" => Some(ContainmentAction::VaultLockdown),
            "rotate_data_key" => Some(ContainmentAction::RotateDataKey),
            "webhook" => {
                cx.error(
                    node.pos,
                    "a webhook action needs its event: `action: {webhook: checkout.pause}`",
                );
                None
            }
            other => {
                cx.error(
                    node.pos,
                    format!("unknown action `{other}`; expected {KNOWN}"),
                );
                None
            }
        };
    }
    let entries = cx.map(node, "action", &["webhook"])?;
    let Some((_, ev)) = entries.first() else {
        cx.error(node.pos, format!("empty action; expected {KNOWN}"));
        return None;
    };
    let Some(event) = ev.as_str() else {
        cx.error(
            ev.pos,
            "the webhook event must be a name such as `checkout.pause`",
        );
        return None;
    };
    if !is_valid_event_name(event) {
        cx.error(
            ev.pos,
            format!("`{event}` is not a webhook event name: use dotted lower-case words such as `checkout.pause`"),
        );
        return None;
    }
    if !is_known_event(event) {
        cx.warn(
            ev.pos,
            format!("webhook event `{event}` is not one Bulwark documents; make sure the store implements it"),
        );
    }
    Some(ContainmentAction::Webhook {
        event: event.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jurisdictions_match_subdivisions_and_eu_members() {
        assert!(jurisdiction_matches("US", "US-CA"));
        assert!(jurisdiction_matches("US-CA", "US-CA"));
        assert!(!jurisdiction_matches("US-CA", "US"));
        assert!(!jurisdiction_matches("US", "USX"));
        assert!(jurisdiction_matches("EU", "DE"));
        assert!(jurisdiction_matches("EU", "FR-75"));
        assert!(jurisdiction_matches("EU", "EU"));
        assert!(!jurisdiction_matches("EU", "GB"));
        assert!(!jurisdiction_matches("EU", "CH"));
    }

    #[test]
    fn the_eu_bloc_covers_the_eea() {
        for c in ["NO", "IS", "LI", "NO-03"] {
            assert!(jurisdiction_matches("EU", c), "{c}");
        }
    }

    #[test]
    fn due_offsets_are_whole_minutes_up_to_a_year() {
        let p = |s: &str| parse_duration(s, OFFSET_LIMITS);
        assert_eq!(p("30m").unwrap(), Duration::minutes(30));
        assert_eq!(p("24h").unwrap(), Duration::hours(24));
        assert_eq!(p("1d12h").unwrap(), Duration::hours(36));
        assert_eq!(p("2w").unwrap(), Duration::days(14));
        assert_eq!(p("0m").unwrap(), Duration::ZERO);
        for bad in [
            "", "24", "h", "12h1d", "1h1h", "-1h", "1.5h", "24 h", "3y", "400d", "30s",
        ] {
            assert!(p(bad).is_err(), "{bad}");
        }
    }
}
