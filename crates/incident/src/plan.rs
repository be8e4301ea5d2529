//! The living response plan, rendered from configuration: team and contacts,
//! roles and responsibilities, escalation, playbooks, the asset inventory
//! ranked, and the notification overview by where customers live.
//!
//! The plan's version is the SHA-256 of its canonical form: the JSON of the
//! plan content with people, playbooks and rows in a fixed order, excluding
//! the generation time and the output format. So the hash changes exactly when
//! what the plan says changes, and the caller records it in the ledger.

use bulwark_model::{format_duration, DataElement};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::assets::{rank_assets, sensitivity_weight, Asset, RankedAsset};
use crate::containment::ContainmentAction;
use crate::lifecycle::Phase;
use crate::playbook::{Conditions, DueAnchor, DueRule, Playbook};
use crate::render::{format_time, render, Format, RenderError};
use crate::team::{Person, Role, Team};

/// One row of the notification overview (from the law catalogue, by where
/// customers live).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationOverviewRow {
    pub jurisdiction: String,
    /// Customers living there.
    pub customers: u64,
    /// Laws that apply, e.g. `GDPR Art. 33/34`.
    pub laws: String,
    /// Who must be told: `regulator, individuals`.
    pub recipients: String,
    /// `72 hours from awareness`, `without unreasonable delay`.
    pub deadline: String,
}

/// A recurring compliance duty that needs doing (overdue or due soon), as the
/// plan shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpkeepDuty {
    pub title: String,
    /// `PCI DSS 12.10.2`.
    pub requirement: String,
    /// The owner role's title.
    pub owner: String,
    /// `2026-12-01`.
    pub due: String,
    /// Days past due; 0 when only due soon.
    pub days_overdue: i64,
}

/// A watched payment page and when it was last checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpkeepPage {
    pub name: String,
    pub url: String,
    /// `1h`.
    pub every: String,
    /// `2026-12-01`, or `None` before the first successful crawl.
    pub last_checked: Option<String>,
    /// Not checked within seven days (11.6.1's default frequency).
    pub stale: bool,
}

/// An open improvement item from a drill's after-action report (PCI DSS
/// 12.10.6: lessons folded back into the plan).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpkeepImprovement {
    pub title: String,
    pub owner: String,
    pub due: String,
    pub overdue: bool,
    /// The drill run it came from.
    pub drill: u64,
}

/// Where the plan's own upkeep stands on the day it is rendered: the
/// compliance duties overdue or due soon and the drills' open improvement
/// items. It is dated state, not what the plan says, so it is shown but not
/// part of the version hash (a plan must not change version because a day
/// passed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanUpkeep {
    pub duties: Vec<UpkeepDuty>,
    pub improvements: Vec<UpkeepImprovement>,
    /// The payment pages watched for script and header changes (11.6.1),
    /// whose alerts the plan must cover (12.10.5).
    pub pages: Vec<UpkeepPage>,
    /// False when the caller could not read the calendar: the plan then says
    /// the upkeep is unknown rather than "nothing is due".
    pub known: bool,
}

/// A rendered plan and its version hash (hex SHA-256 of the canonical form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedPlan {
    pub text: String,
    pub hash: String,
}

#[derive(Serialize)]
struct PersonView {
    id: String,
    name: String,
    email: String,
    phone: String,
    other: String,
}

impl From<&Person> for PersonView {
    fn from(p: &Person) -> Self {
        PersonView {
            id: p.id.clone(),
            name: p.name.clone(),
            email: p.email.clone().unwrap_or_default(),
            phone: p.phone.clone().unwrap_or_default(),
            other: p.other.clone().unwrap_or_default(),
        }
    }
}

#[derive(Serialize)]
struct RoleView {
    code: &'static str,
    title: &'static str,
    responsibility: &'static str,
    people: Vec<PersonView>,
}

#[derive(Serialize)]
struct Gap {
    role: &'static str,
    tasks: Vec<String>,
}

#[derive(Serialize)]
struct TaskView {
    id: String,
    title: String,
    role: &'static str,
    due: String,
    when: String,
    action: String,
}

#[derive(Serialize)]
struct PhaseView {
    phase: Phase,
    tasks: Vec<TaskView>,
}

#[derive(Serialize)]
struct PlaybookView {
    id: String,
    title: String,
    description: String,
    classifications: Vec<String>,
    phases: Vec<PhaseView>,
}

#[derive(Serialize)]
struct Weight {
    element: &'static str,
    weight: u32,
}

/// Everything the plan says. Its JSON is the canonical form that is hashed.
#[derive(Serialize)]
struct PlanContent {
    roles: Vec<RoleView>,
    people: Vec<PersonView>,
    escalation: Vec<PersonView>,
    team_problems: Vec<String>,
    staffing_gaps: Vec<Gap>,
    playbooks: Vec<PlaybookView>,
    assets: Vec<RankedAsset>,
    weights: Vec<Weight>,
    notifications: Vec<NotificationOverviewRow>,
}

#[derive(Serialize)]
struct PlanView<'a> {
    plan: &'a PlanContent,
    upkeep: &'a PlanUpkeep,
    hash: &'a str,
    generated_at: String,
}

fn due_text(d: &DueRule) -> String {
    match d.from {
        DueAnchor::AwareAt => format!("{} after awareness", format_duration(d.after)),
        DueAnchor::PhaseStart => format!("{} after the phase starts", format_duration(d.after)),
    }
}

fn when_text(c: &Conditions) -> String {
    let mut parts = Vec::new();
    let codes = |v: &[DataElement]| v.iter().map(|e| e.code()).collect::<Vec<_>>().join(", ");
    if !c.classification.is_empty() {
        parts.push(format!(
            "classification is {}",
            c.classification
                .iter()
                .map(|x| x.code())
                .collect::<Vec<_>>()
                .join(" or ")
        ));
    }
    if !c.elements_any.is_empty() {
        parts.push(format!("any of {} involved", codes(&c.elements_any)));
    }
    if !c.elements_all.is_empty() {
        parts.push(format!("all of {} involved", codes(&c.elements_all)));
    }
    match c.card_data {
        Some(true) => parts.push("card data involved".into()),
        Some(false) => parts.push("no card data involved".into()),
        None => {}
    }
    if !c.jurisdictions_any.is_empty() {
        parts.push(format!("customers in {}", c.jurisdictions_any.join(", ")));
    }
    parts.join("; ")
}

fn action_text(a: Option<&ContainmentAction>) -> String {
    a.map(|a| a.code()).unwrap_or_default()
}

fn content(
    team: &Team,
    playbooks: &[Playbook],
    assets: &[Asset],
    notifications: &[NotificationOverviewRow],
) -> PlanContent {
    let mut people: Vec<&Person> = team.people.iter().collect();
    people.sort_by(|a, b| a.id.cmp(&b.id));
    let mut pbs: Vec<&Playbook> = playbooks.iter().collect();
    pbs.sort_by(|a, b| a.id.cmp(&b.id));
    let mut rows = notifications.to_vec();
    rows.sort_by(|a, b| a.jurisdiction.cmp(&b.jurisdiction));
    PlanContent {
        roles: Role::ALL
            .iter()
            .map(|r| RoleView {
                code: r.code(),
                title: r.title(),
                responsibility: r.responsibility(),
                people: team.contacts_for(*r).into_iter().map(Into::into).collect(),
            })
            .collect(),
        people: people.into_iter().map(Into::into).collect(),
        escalation: team
            .escalation_order()
            .into_iter()
            .map(Into::into)
            .collect(),
        team_problems: team.problems().iter().map(|p| p.to_string()).collect(),
        staffing_gaps: team
            .staffing_gaps(None, &pbs)
            .into_iter()
            .map(|g| Gap {
                role: g.role.title(),
                tasks: g.tasks,
            })
            .collect(),
        playbooks: pbs
            .iter()
            .map(|p| PlaybookView {
                id: p.id.clone(),
                title: p.title.clone(),
                description: p.description.clone(),
                classifications: p
                    .classifications
                    .iter()
                    .map(|c| c.code().to_owned())
                    .collect(),
                phases: Phase::ALL
                    .iter()
                    .filter_map(|ph| {
                        let tasks: Vec<TaskView> = p
                            .tasks
                            .iter()
                            .filter(|t| t.phase == *ph)
                            .map(|t| TaskView {
                                id: t.id.clone(),
                                title: t.title.clone(),
                                role: t.role.title(),
                                due: due_text(&t.due),
                                when: when_text(&t.when),
                                action: action_text(t.action.as_ref()),
                            })
                            .collect();
                        (!tasks.is_empty()).then_some(PhaseView { phase: *ph, tasks })
                    })
                    .collect(),
            })
            .collect(),
        assets: rank_assets(assets),
        weights: DataElement::ALL
            .iter()
            .map(|e| Weight {
                element: e.code(),
                weight: sensitivity_weight(*e),
            })
            .collect(),
        notifications: rows,
    }
}

fn hash_of(c: &PlanContent) -> Result<String, RenderError> {
    // Plain structs, strings and numbers: this does not fail in practice, but a
    // plan version must never be the hash of something other than the plan.
    let canonical = serde_json::to_vec(c).map_err(|e| RenderError::Canonical(e.to_string()))?;
    Ok(hex::encode(Sha256::digest(&canonical)))
}

/// The plan's version hash without rendering it.
pub fn plan_hash(
    team: &Team,
    playbooks: &[Playbook],
    assets: &[Asset],
    notifications: &[NotificationOverviewRow],
) -> Result<String, RenderError> {
    hash_of(&content(team, playbooks, assets, notifications))
}

/// Renders the response plan. `generated_at` and `upkeep` are printed but not
/// hashed.
pub fn render_plan(
    team: &Team,
    playbooks: &[Playbook],
    assets: &[Asset],
    notifications: &[NotificationOverviewRow],
    upkeep: &PlanUpkeep,
    generated_at: OffsetDateTime,
    format: Format,
) -> Result<RenderedPlan, RenderError> {
    let plan = content(team, playbooks, assets, notifications);
    let hash = hash_of(&plan)?;
    let text = render(
        "plan",
        format,
        &PlanView {
            plan: &plan,
            upkeep,
            hash: &hash,
            generated_at: format_time(generated_at),
        },
    )?;
    Ok(RenderedPlan { text, hash })
}
