//! The closed vocabulary of what a notice to individuals says, so that a law's
//! content rules can be checked against a rendered letter. Each code names one
//! section of a notice template (`{% filter section("what_happened") %}`); the
//! law files list the codes a notice must carry (`requires`) and must not carry
//! (`prohibits`) next to the statute's own wording (`content`, `forbidden`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeContent {
    /// The title "Notice of Data Breach" (California).
    Title,
    /// California's five headings, in order.
    StandardHeadings,
    /// What happened: a description of the breach.
    WhatHappened,
    /// Date, estimated date or date range of the breach.
    BreachDate,
    /// When the store discovered the breach.
    DiscoveryDate,
    /// The date of the notice.
    NoticeDate,
    /// Which of this person's data elements were involved.
    Elements,
    /// What the store has done and is doing.
    StoreActions,
    /// Likely consequences / risk of harm.
    Consequences,
    /// What the person can do, including element-specific advice.
    IndividualSteps,
    /// How to reach the store.
    Contact,
    /// The data protection officer (required only when the store has one).
    DpoContact,
    /// Contacts of the consumer reporting agencies.
    CraContacts,
    /// Contacts of the Federal Trade Commission.
    FtcContact,
    /// Contacts of the state attorney general.
    AgContact,
    /// How to place a fraud alert or security freeze.
    FraudAlertFreeze,
    /// The right to obtain a police report.
    PoliceReport,
    /// The remedy offered (credit monitoring, identity-theft services) and how to enrol.
    /// Required only when a remedy applies to this person or the store offers one.
    Remedy,
    /// Whether law enforcement delayed the notice.
    LawEnforcementDelay,
    /// Reasons for a delayed notice (required only when the store gives them).
    DelayReasons,
    /// Whether the regulator has been notified.
    RegulatorNotified,
    /// The right to complain to the regulator.
    RightToComplain,
    /// The store's own complaint process (PIPEDA Breach of Security
    /// Safeguards Regulations s. 3(g)).
    ComplaintProcess,
    /// How many people were affected.
    AffectedCount,
    /// Parent or affiliate company (required only when there is one).
    ParentCompany,
}

impl NoticeContent {
    pub const ALL: [NoticeContent; 25] = [
        NoticeContent::Title,
        NoticeContent::StandardHeadings,
        NoticeContent::WhatHappened,
        NoticeContent::BreachDate,
        NoticeContent::DiscoveryDate,
        NoticeContent::NoticeDate,
        NoticeContent::Elements,
        NoticeContent::StoreActions,
        NoticeContent::Consequences,
        NoticeContent::IndividualSteps,
        NoticeContent::Contact,
        NoticeContent::DpoContact,
        NoticeContent::CraContacts,
        NoticeContent::FtcContact,
        NoticeContent::AgContact,
        NoticeContent::FraudAlertFreeze,
        NoticeContent::PoliceReport,
        NoticeContent::Remedy,
        NoticeContent::LawEnforcementDelay,
        NoticeContent::DelayReasons,
        NoticeContent::RegulatorNotified,
        NoticeContent::RightToComplain,
        NoticeContent::ComplaintProcess,
        NoticeContent::AffectedCount,
        NoticeContent::ParentCompany,
    ];

    pub fn code(self) -> &'static str {
        match self {
            NoticeContent::Title => "title",
            NoticeContent::StandardHeadings => "standard_headings",
            NoticeContent::WhatHappened => "what_happened",
            NoticeContent::BreachDate => "breach_date",
            NoticeContent::DiscoveryDate => "discovery_date",
            NoticeContent::NoticeDate => "notice_date",
            NoticeContent::Elements => "elements",
            NoticeContent::StoreActions => "store_actions",
            NoticeContent::Consequences => "consequences",
            NoticeContent::IndividualSteps => "individual_steps",
            NoticeContent::Contact => "contact",
            NoticeContent::DpoContact => "dpo_contact",
            NoticeContent::CraContacts => "cra_contacts",
            NoticeContent::FtcContact => "ftc_contact",
            NoticeContent::AgContact => "ag_contact",
            NoticeContent::FraudAlertFreeze => "fraud_alert_freeze",
            NoticeContent::PoliceReport => "police_report",
            NoticeContent::Remedy => "remedy",
            NoticeContent::LawEnforcementDelay => "law_enforcement_delay",
            NoticeContent::DelayReasons => "delay_reasons",
            NoticeContent::RegulatorNotified => "regulator_notified",
            NoticeContent::RightToComplain => "right_to_complain",
            NoticeContent::ComplaintProcess => "complaint_process",
            NoticeContent::AffectedCount => "affected_count",
            NoticeContent::ParentCompany => "parent_company",
        }
    }

    pub fn from_code(code: &str) -> Option<NoticeContent> {
        NoticeContent::ALL.into_iter().find(|c| c.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_match_serde() {
        for c in NoticeContent::ALL {
            assert_eq!(NoticeContent::from_code(c.code()), Some(c));
            let json = format!("\"{}\"", c.code());
            let parsed: NoticeContent = serde_json::from_str(&json).unwrap();
            assert_eq!(parsed, c);
        }
        assert_eq!(NoticeContent::from_code("nature"), None);
    }
}
