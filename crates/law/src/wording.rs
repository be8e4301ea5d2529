//! Words the engine uses in `why`, `deadline_basis` and not-triggered
//! reasons; one place so the phrasing stays consistent.

use bulwark_model::DataElement;
use time::OffsetDateTime;

use crate::scenario::{BreachCause, HarmLevel};
use crate::schema::{Anchor, TimeUnit};

pub(crate) fn join_elements(e: &[DataElement]) -> String {
    let v: Vec<&str> = e.iter().map(|e| e.code()).collect();
    v.join(" + ")
}

pub(crate) fn harm_word(h: HarmLevel) -> &'static str {
    match h {
        HarmLevel::Unlikely => "unlikely",
        HarmLevel::Risk => "risk",
        HarmLevel::High => "high",
    }
}

pub(crate) fn cause_word(c: BreachCause) -> &'static str {
    match c {
        BreachCause::ExternalAttack => "external attack",
        BreachCause::InadvertentAuthorisedDisclosure => {
            "inadvertent disclosure by an authorised person"
        }
        BreachCause::InsiderMisuse => "insider misuse",
        BreachCause::LostOrStolen => "lost or stolen records",
        BreachCause::Other => "other",
    }
}

pub(crate) fn anchor_word(a: Anchor) -> &'static str {
    match a {
        Anchor::Awareness => "awareness",
        Anchor::Discovery => "discovery",
        Anchor::Determination => "determination of the breach (taken as awareness)",
        // The engine counts from the latest permitted date of that notice:
        // sending it earlier moves this deadline earlier too.
        Anchor::IndividualsNotice => {
            "the notice to individuals (its latest permitted date; earlier if it is sent earlier)"
        }
        Anchor::RegulatorNotice => {
            "the notice to the regulator (its latest permitted date; earlier if it is sent earlier)"
        }
    }
}

pub(crate) fn unit_word(u: TimeUnit) -> &'static str {
    match u {
        TimeUnit::Hours => "hours",
        TimeUnit::CalendarDays => "calendar days",
        TimeUnit::BusinessDays => "business days",
    }
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}
