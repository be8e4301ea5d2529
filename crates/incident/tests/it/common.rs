//! Shared fixtures for the integration tests.
#![allow(dead_code)]

use bulwark_incident::*;
use bulwark_model::DataElement;
use time::macros::datetime;
use time::OffsetDateTime;

pub const DISCOVERED: OffsetDateTime = datetime!(2026-11-20 08:00 UTC);
pub const AWARE: OffsetDateTime = datetime!(2026-11-20 09:00 UTC);
pub const OPENED: OffsetDateTime = datetime!(2026-11-20 09:10 UTC);

pub fn new_incident(class: Classification) -> NewIncident {
    let mut n = NewIncident::new(
        "Checkout skimmer found",
        Severity::Sev1,
        class,
        DISCOVERED,
        AWARE,
    );
    n.summary = "A script on /checkout posts card fields to a foreign domain.".into();
    n.affected_systems = vec!["storefront".into()];
    n
}

pub fn open(class: Classification) -> Incident {
    Incident::open(7, new_incident(class), "alice", OPENED)
        .unwrap()
        .0
}

pub fn open_with(
    class: Classification,
    elements: &[DataElement],
    jurisdictions: &[&str],
    card: bool,
) -> Incident {
    let mut n = new_incident(class);
    n.elements = elements.iter().copied().collect();
    n.jurisdictions = jurisdictions.iter().map(|s| s.to_string()).collect();
    n.card_data = card;
    Incident::open(7, n, "alice", OPENED).unwrap().0
}

pub fn builtin() -> PlaybookSet {
    PlaybookSet::builtin().unwrap()
}

pub fn team() -> Team {
    let person = |id: &str, name: &str| Person {
        id: id.into(),
        name: name.into(),
        email: Some(format!("{id}@shop.example")),
        phone: Some("+44 20 7946 0000".into()),
        other: None,
        operator: None,
    };
    let mut t = Team {
        people: vec![
            person("alice", "Alice Ng"),
            person("bob", "Bob Ruiz"),
            person("carol", "Carol Ode"),
            person("dan", "Dan Poe"),
            person("erin", "Erin Lau"),
            person("frank", "Frank Idowu"),
        ],
        ..Team::default()
    };
    let staff = |primary: &str, deputies: &[&str]| Staffing {
        primary: primary.into(),
        deputies: deputies.iter().map(|d| d.to_string()).collect(),
    };
    t.roles
        .insert(Role::IncidentCommander, staff("alice", &["bob"]));
    t.roles.insert(Role::SecurityLead, staff("bob", &["alice"]));
    t.roles.insert(Role::Legal, staff("carol", &[]));
    t.roles.insert(Role::PrComms, staff("dan", &[]));
    t.roles.insert(Role::CustomerService, staff("erin", &[]));
    t.roles.insert(Role::ExecutiveSponsor, staff("frank", &[]));
    t.escalation = vec!["alice".into(), "bob".into(), "frank".into()];
    t
}
