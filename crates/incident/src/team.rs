//! The response team: people, their contact details, who holds each role
//! (primary plus deputies, in the order to try them) and the escalation order.
//! The seeds ask for a dedicated team with IT, legal, PR and customer service,
//! "each member with clearly defined roles"; we add an incident commander and
//! an executive sponsor, who make the calls the others need made.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::incident::Incident;
use crate::playbook::Playbook;

pub use bulwark_model::{Role, UnknownRole};

/// A team member and how to reach them out of hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Short stable id (`alice`), used in assignments and on the timeline.
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Anything else: pager, chat handle, an external firm's hotline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<String>,
    /// The operator account this person signs in with (`bulwark operators
    /// list`): what they do in the console is theirs, and only the linked
    /// operator acts in this person's roles (e.g. approves letters as legal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
}

/// Who holds a role: the primary, then deputies in the order to try them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staffing {
    pub primary: String,
    #[serde(default)]
    pub deputies: Vec<String>,
}

/// The standing response team.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub people: Vec<Person>,
    #[serde(default)]
    pub roles: BTreeMap<Role, Staffing>,
    /// Person ids in the order to call them when an incident is declared or
    /// when nobody answers for a role.
    #[serde(default)]
    pub escalation: Vec<String>,
}

/// Something wrong with the team definition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TeamError {
    #[error("person id `{0}` is used twice")]
    DuplicatePerson(String),
    #[error("person `{0}` has an empty id or name")]
    EmptyPerson(String),
    #[error("person `{0}` has no email, phone or other contact")]
    NoContact(String),
    #[error("{context} refers to `{person}`, who is not on the team")]
    UnknownPerson { context: String, person: String },
    #[error("{role} lists `{person}` both as primary and as a deputy")]
    SelfDeputy { role: Role, person: String },
    #[error("`{0}` appears twice in the escalation order")]
    DuplicateEscalation(String),
    #[error("operator `{operator}` is linked to both `{first}` and `{second}`")]
    OperatorLinkedTwice {
        operator: String,
        first: String,
        second: String,
    },
}

/// A role an applied playbook needs that nobody holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaffingGap {
    pub role: Role,
    /// Keys (`playbook/task`) of the tasks that role owns.
    pub tasks: Vec<String>,
}

impl Team {
    pub fn person(&self, id: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.id == id)
    }

    /// Whether the person named in an assignment (`person`, a team id or,
    /// for a team without `team.json`, an operator id typed directly) is
    /// operator `operator`.
    pub fn is_operator(&self, person: &str, operator: &str) -> bool {
        match self.person(person) {
            Some(p) => p.operator.as_deref() == Some(operator),
            None => person == operator,
        }
    }

    /// Everything wrong with the definition (empty when it is sound).
    pub fn problems(&self) -> Vec<TeamError> {
        let mut out = Vec::new();
        let mut seen = BTreeSet::new();
        for p in &self.people {
            if p.id.trim().is_empty() || p.name.trim().is_empty() {
                out.push(TeamError::EmptyPerson(p.id.clone()));
            }
            if !seen.insert(p.id.as_str()) {
                out.push(TeamError::DuplicatePerson(p.id.clone()));
            }
            let has = |c: &Option<String>| c.as_deref().is_some_and(|c| !c.trim().is_empty());
            if !has(&p.email) && !has(&p.phone) && !has(&p.other) {
                out.push(TeamError::NoContact(p.id.clone()));
            }
        }
        let mut linked: std::collections::BTreeMap<&str, &str> = Default::default();
        for p in &self.people {
            if let Some(op) = p.operator.as_deref() {
                if let Some(first) = linked.insert(op, &p.id) {
                    out.push(TeamError::OperatorLinkedTwice {
                        operator: op.to_owned(),
                        first: first.to_owned(),
                        second: p.id.clone(),
                    });
                }
            }
        }
        let mut unknown = |context: String, person: &str| {
            if self.person(person).is_none() {
                out.push(TeamError::UnknownPerson {
                    context,
                    person: person.to_owned(),
                });
            }
        };
        for (role, s) in &self.roles {
            unknown(format!("{role}.primary"), &s.primary);
            for d in &s.deputies {
                unknown(format!("{role}.deputies"), d);
            }
        }
        for e in &self.escalation {
            unknown("escalation".to_owned(), e);
        }
        for (role, s) in &self.roles {
            if s.deputies.contains(&s.primary) {
                out.push(TeamError::SelfDeputy {
                    role: *role,
                    person: s.primary.clone(),
                });
            }
        }
        let mut seen = BTreeSet::new();
        for e in &self.escalation {
            if !seen.insert(e.as_str()) {
                out.push(TeamError::DuplicateEscalation(e.clone()));
            }
        }
        out
    }

    /// The first problem, if any.
    pub fn validate(&self) -> Result<(), TeamError> {
        match self.problems().into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The people to try for `role`, in order: primary, then deputies.
    pub fn contacts_for(&self, role: Role) -> Vec<&Person> {
        self.roles
            .get(&role)
            .map(|s| {
                std::iter::once(&s.primary)
                    .chain(&s.deputies)
                    .filter_map(|id| self.person(id))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The escalation order as people (unknown ids are skipped; `problems` reports them).
    pub fn escalation_order(&self) -> Vec<&Person> {
        self.escalation
            .iter()
            .filter_map(|id| self.person(id))
            .collect()
    }

    /// Whether someone can act in `role` for this incident: assigned on the
    /// incident, or held (primary or deputy) by someone on the team.
    pub fn is_staffed(&self, role: Role, incident: Option<&Incident>) -> bool {
        incident.and_then(|i| i.assigned(role)).is_some() || !self.contacts_for(role).is_empty()
    }

    /// Roles the playbooks give tasks to that nobody can take, for this incident
    /// (or for the standing team when `incident` is `None`). Only tasks whose
    /// conditions hold for the incident count.
    pub fn staffing_gaps(
        &self,
        incident: Option<&Incident>,
        playbooks: &[&Playbook],
    ) -> Vec<StaffingGap> {
        let mut gaps: BTreeMap<Role, Vec<String>> = BTreeMap::new();
        for pb in playbooks {
            for t in &pb.tasks {
                if incident.is_some_and(|i| !t.when.holds(i)) {
                    continue;
                }
                if !self.is_staffed(t.role, incident) {
                    gaps.entry(t.role)
                        .or_default()
                        .push(format!("{}/{}", pb.id, t.id));
                }
            }
        }
        gaps.into_iter()
            .map(|(role, tasks)| StaffingGap { role, tasks })
            .collect()
    }
}
