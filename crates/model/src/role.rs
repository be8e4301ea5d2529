//! The roles of the incident response team. The seeds name IT/security, legal,
//! PR/communications and customer service; we add an incident commander and an
//! executive sponsor (the owner), who make the calls the others need made.
//! Teams, playbooks, incident assignments and operator accounts all use them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A responsibility on the response team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    IncidentCommander,
    SecurityLead,
    Legal,
    PrComms,
    CustomerService,
    ExecutiveSponsor,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::IncidentCommander,
        Role::SecurityLead,
        Role::Legal,
        Role::PrComms,
        Role::CustomerService,
        Role::ExecutiveSponsor,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::IncidentCommander => "incident_commander",
            Role::SecurityLead => "security_lead",
            Role::Legal => "legal",
            Role::PrComms => "pr_comms",
            Role::CustomerService => "customer_service",
            Role::ExecutiveSponsor => "executive_sponsor",
        }
    }

    /// A human title for reports and the plan.
    pub fn title(self) -> &'static str {
        match self {
            Role::IncidentCommander => "Incident commander",
            Role::SecurityLead => "Security / IT lead",
            Role::Legal => "Legal",
            Role::PrComms => "PR / communications",
            Role::CustomerService => "Customer service",
            Role::ExecutiveSponsor => "Executive sponsor",
        }
    }

    /// What the role is responsible for, as printed in the plan.
    pub fn responsibility(self) -> &'static str {
        match self {
            Role::IncidentCommander => "Runs the response: sets severity, moves phases, assigns tasks, keeps the timeline honest.",
            Role::SecurityLead => "Assesses and contains, preserves evidence, investigates entry point, exploited weakness and dwell time, leads remediation and monitoring.",
            Role::Legal => "Decides which notification laws apply, approves notices and regulator reports, talks to law enforcement, owns the deadlines.",
            Role::PrComms => "Writes customer notices, the public update page and press statements; keeps messages clear, honest and consistent.",
            Role::CustomerService => "Staffs the customer line, answers questions with the approved script, offers remedies such as credit monitoring.",
            Role::ExecutiveSponsor => "Approves costly or public decisions (pausing checkout, remedies, disclosures) and the budget for them.",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An unknown role code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`; known: incident_commander, security_lead, legal, pr_comms, customer_service, executive_sponsor")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| UnknownRole(s.chars().take(64).collect()))
    }
}
