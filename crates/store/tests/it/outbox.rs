//! The outbox state machine without SMTP: only approved versions are claimed,
//! a letter left `sending` by a dead sender becomes `unknown` and is never
//! claimed again until an operator releases it, and every letter's personal
//! values open only under its own row identity.

use crate::common::*;
use bulwark_incident::{Classification, NewIncident, PlaybookSet, Role, Severity};
use bulwark_law::{evaluate, Catalogue, Scenario};
use bulwark_notice::{DeliveryEvent, DeliveryState, NoticeFacts, TemplateSet, VersionState};
use bulwark_store::{
    ApproveNoticesError, Channels, OutboxError, RenderNotices, RenderNoticesError, SendOutcome,
};
use serde_json::json;

const FACTS: &str = r#"
store = "Example Outdoor Gear"
what_happened = "An attacker read customer records."
store_actions = "We revoked the key."
[contact]
email = "privacy@example.test"
"#;

#[test]
fn unknown_letters_are_never_resent_without_an_operator() {
    let f = fixture();
    let who = principal(&["vault:reveal:*", "vault:write", "admin"]);
    let mut customers = Vec::new();
    for i in 0..3 {
        let id = f
            .store
            .create_customer(
                &customer(
                    json!({"residency": {"country": "US", "subdivision": "US-CA"},
                    "fields": {"name": format!("C{i}"), "email": format!("c{i}@example.test")}}),
                ),
                &who,
            )
            .unwrap()
            .wait_blocking()
            .unwrap();
        customers.push(
            json!({"id": id.to_string(), "residency": {"country": "US", "subdivision": "US-CA"},
                              "elements": ["name", "email"], "reveals": 1}),
        );
    }
    let aware = time::macros::datetime!(2026-10-21 09:00 UTC);
    let incident = f
        .store
        .open_incident(
            NewIncident::new(
                "t",
                Severity::Sev2,
                Classification::CredentialTheft,
                aware,
                aware,
            ),
            PlaybookSet::builtin().unwrap(),
            "operator:test",
        )
        .wait_blocking()
        .unwrap();
    f.store
        .save_scope_snapshot(incident, json!({}), json!(customers), "operator:test")
        .wait_blocking()
        .unwrap();
    let scenario: Scenario = serde_json::from_value(json!({"aware_at": "2026-10-21T09:00:00Z", "encrypted": false,
        "key_compromised": false, "affected": [{"jurisdiction": "US-CA", "elements": ["name", "email"], "count": 3}]}))
    .unwrap();
    let report = f
        .store
        .render_notices(&RenderNotices {
            incident,
            facts: NoticeFacts::from_toml(FACTS).unwrap(),
            templates: TemplateSet::builtin(),
            evaluation: evaluate(&Catalogue::builtin().unwrap(), &scenario).unwrap(),
            notice_date: "2026-11-02".into(),
            channels: Channels::Email,
            actor: who.clone(),
            reissue: false,
        })
        .unwrap();
    assert_eq!(report.queued_email, 3);
    // Not approved: nothing to claim.
    assert!(f
        .store
        .outbox_claim("email", Some(incident), i64::MAX)
        .unwrap()
        .is_none());
    f.store
        .assign_incident(incident, Role::Legal, legal(&f), "operator:test")
        .wait_blocking()
        .unwrap();
    f.store
        .approve_notices(incident, report.version, "lee")
        .unwrap();

    let first = f
        .store
        .outbox_claim("email", Some(incident), i64::MAX)
        .unwrap()
        .unwrap();
    assert!(first
        .letter
        .text
        .contains(first.to_name.as_deref().unwrap()));
    assert!(first.letter.html.contains("Notice of Data Breach"));
    // The sender dies here: the row stays `sending`.
    drop(f.store);
    let store = reopen(&f.dir);
    assert_eq!(store.outbox_recover().unwrap(), 1);
    let mut seen = vec![first.id];
    while let Some(c) = store
        .outbox_claim("email", Some(incident), i64::MAX)
        .unwrap()
    {
        assert!(!seen.contains(&c.id), "claimed twice");
        seen.push(c.id);
        store
            .outbox_mark(c.id, SendOutcome::Sent, Some(c.message_id))
            .unwrap();
    }
    assert_eq!(seen.len(), 3);
    let counts = store.outbox_counts(incident).unwrap();
    assert_eq!(counts.get("unknown"), Some(&1));
    assert_eq!(counts.get("sent"), Some(&2));
    // Released by the operator, it is claimable once more.
    assert_eq!(
        store
            .outbox_retry_unknown(incident, "operator:test")
            .unwrap(),
        1
    );
    let again = store
        .outbox_claim("email", Some(incident), i64::MAX)
        .unwrap()
        .unwrap();
    assert_eq!(again.id, first.id);
    assert_eq!(again.attempts, 2);

    // A row's sealed values do not open under another row's identity.
    let db = sqlite(&f.dir, "bulwark.db");
    db.execute(
        "UPDATE outbox SET personal = (SELECT personal FROM outbox WHERE id = ?1) WHERE id = ?2",
        [seen[1], seen[2]],
    )
    .unwrap();
    db.execute(
        "UPDATE outbox SET state = 'queued' WHERE id = ?1",
        [seen[2]],
    )
    .unwrap();
    let err = store
        .outbox_claim("email", Some(incident), i64::MAX)
        .unwrap_err();
    assert!(!err.to_string().contains("example.test"), "{err}");
}

/// `n` US-CA customers with a name and an e-mail, their scope saved and an
/// incident with `lee` in the legal role. Returns the incident.
fn incident_with_customers(f: &Fixture, n: usize) -> u64 {
    incident_with_customers_in(f, n, None)
}

/// The same, for drill run `drill` when given.
fn incident_with_customers_in(f: &Fixture, n: usize, drill: Option<u64>) -> u64 {
    let who = principal(&["vault:reveal:*", "vault:write", "admin"]);
    let mut customers = Vec::new();
    for i in 0..n {
        let id = f
            .store
            .create_customer(
                &customer(
                    json!({"residency": {"country": "US", "subdivision": "US-CA"},
                    "fields": {"name": format!("Person{i}"), "email": format!("person{i}@example.test")}}),
                ),
                &who,
            )
            .unwrap()
            .wait_blocking()
            .unwrap();
        customers.push(
            json!({"id": id.to_string(), "residency": {"country": "US", "subdivision": "US-CA"},
                   "elements": ["name", "email"], "reveals": 1}),
        );
    }
    let aware = time::macros::datetime!(2026-10-21 09:00 UTC);
    let mut new = NewIncident::new(
        "t",
        Severity::Sev2,
        Classification::CredentialTheft,
        aware,
        aware,
    );
    new.drill = drill;
    let incident = f
        .store
        .open_incident(new, PlaybookSet::builtin().unwrap(), "operator:test")
        .wait_blocking()
        .unwrap();
    f.store
        .save_scope_snapshot(incident, json!({}), json!(customers), "operator:test")
        .wait_blocking()
        .unwrap();
    f.store
        .assign_incident(incident, Role::Legal, legal(f), "operator:test")
        .wait_blocking()
        .unwrap();
    incident
}

/// The legal operator `lee` (created on first use), for an assignment.
fn legal(f: &Fixture) -> String {
    if f.store.operator("lee").unwrap().is_none() {
        bulwark_testkit::legal_operator(&f.store, "lee");
    }
    "lee".into()
}

fn render(f: &Fixture, incident: u64) -> Result<bulwark_store::RenderReport, RenderNoticesError> {
    let scenario: Scenario = serde_json::from_value(json!({"aware_at": "2026-10-21T09:00:00Z", "encrypted": false,
        "key_compromised": false, "affected": [{"jurisdiction": "US-CA", "elements": ["name", "email"], "count": 3}]}))
    .unwrap();
    f.store.render_notices(&RenderNotices {
        incident,
        facts: NoticeFacts::from_toml(FACTS).unwrap(),
        templates: TemplateSet::builtin(),
        evaluation: evaluate(&Catalogue::builtin().unwrap(), &scenario).unwrap(),
        notice_date: "2026-11-02".into(),
        channels: Channels::Email,
        actor: principal(&["vault:reveal:*", "admin"]),
        reissue: false,
    })
}

/// The ledger's entries with this action: (actor, details).
fn ledgered(f: &Fixture, action: &str) -> Vec<(String, serde_json::Value)> {
    let db = sqlite(&f.dir, "bulwark.db");
    let mut stmt = db
        .prepare("SELECT actor, details FROM ledger WHERE action = ?1 ORDER BY seq")
        .unwrap();
    stmt.query_map([action], |r| {
        let details: String = r.get(1)?;
        Ok((r.get(0)?, serde_json::from_str(&details).unwrap()))
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

fn no_personal_values(details: &serde_json::Value) {
    let text = details.to_string();
    assert!(
        !text.contains("example.test") && !text.contains("Person"),
        "{text}"
    );
}

#[test]
fn a_sent_letter_is_in_the_ledger_and_the_ledger_verifies() {
    let f = fixture();
    let incident = incident_with_customers(&f, 1);
    let report = render(&f, incident).unwrap();
    f.store
        .approve_notices(incident, report.version, "lee")
        .unwrap();
    let c = f
        .store
        .outbox_claim("email", Some(incident), i64::MAX)
        .unwrap()
        .unwrap();
    f.store
        .outbox_mark(c.id, SendOutcome::Sent, Some(c.message_id.clone()))
        .unwrap();

    let sent = ledgered(&f, "notices.sent");
    assert_eq!(sent.len(), 1);
    let d = &sent[0].1;
    assert_eq!(d["outbox_id"], json!(c.id));
    assert_eq!(d["incident"], json!(incident));
    assert_eq!(d["version"], json!(report.version));
    assert_eq!(d["channel"], json!("email"));
    assert_eq!(d["jurisdiction"], json!("US-CA"));
    assert_eq!(d["attempt"], json!(1));
    assert_eq!(
        (&d["from"], &d["state"]),
        (&json!("sending"), &json!("sent"))
    );
    no_personal_values(d);
    let status = f.store.verify_ledger(None, |_| {}).unwrap();
    assert_eq!(status.entries, f.store.ledger_len().unwrap());
}

#[test]
fn every_delivery_change_is_in_the_ledger() {
    let f = fixture();
    let incident = incident_with_customers(&f, 4);
    let report = render(&f, incident).unwrap();
    f.store
        .approve_notices(incident, report.version, "lee")
        .unwrap();
    let claim = || {
        f.store
            .outbox_claim("email", Some(incident), i64::MAX)
            .unwrap()
            .unwrap()
    };
    let (a, b, c, d) = (claim(), claim(), claim(), claim());
    let error = "450 mailbox busy".to_owned();
    f.store
        .outbox_mark(
            a.id,
            SendOutcome::Retry {
                error: error.clone(),
                next_ms: 0,
            },
            None,
        )
        .unwrap();
    f.store
        .outbox_mark(b.id, SendOutcome::Failed { error }, None)
        .unwrap();
    f.store
        .outbox_mark(
            c.id,
            SendOutcome::Bounced {
                error: "550 no such user".into(),
            },
            None,
        )
        .unwrap();
    // `d` is in flight when the sender dies.
    assert_eq!(f.store.outbox_recover().unwrap(), 1);
    assert_eq!(
        f.store
            .outbox_retry_unknown(incident, "operator:test")
            .unwrap(),
        1
    );
    let again = claim();
    assert_eq!(again.id, a.id, "the retry is due first");
    f.store
        .outbox_mark(again.id, SendOutcome::Sent, None)
        .unwrap();
    f.store
        .outbox_bounce(
            incident,
            again.id,
            "DSN for person0@example.test",
            "operator:test",
        )
        .unwrap();

    for (action, id, from, to, actor) in [
        ("notices.retry", a.id, "sending", "retry", "system"),
        ("notices.failed", b.id, "sending", "failed", "system"),
        ("notices.unknown", d.id, "sending", "unknown", "system"),
        (
            "notices.released",
            d.id,
            "unknown",
            "retry",
            "operator:test",
        ),
        ("notices.sent", a.id, "sending", "sent", "system"),
    ] {
        let entries = ledgered(&f, action);
        assert_eq!(entries.len(), 1, "{action}");
        let (who, details) = &entries[0];
        assert_eq!(who, actor, "{action}");
        assert_eq!(details["outbox_id"], json!(id), "{action}");
        assert_eq!(details["from"], json!(from), "{action}");
        assert_eq!(details["state"], json!(to), "{action}");
        no_personal_values(details);
    }
    let bounced = ledgered(&f, "notices.bounced");
    assert_eq!(bounced.len(), 2);
    assert_eq!(bounced[0].1["outbox_id"], json!(c.id));
    assert_eq!(bounced[1].1["outbox_id"], json!(a.id));
    assert_eq!(bounced[1].1["reported"], json!(true));
    assert_eq!(bounced[1].1["attempt"], json!(2));
    for (_, details) in &bounced {
        no_personal_values(details);
    }
    f.store.verify_ledger(None, |_| {}).unwrap();
}

#[test]
fn a_change_the_lifecycle_does_not_allow_is_refused_and_changes_nothing() {
    let f = fixture();
    let incident = incident_with_customers(&f, 2);
    let report = render(&f, incident).unwrap();
    f.store
        .approve_notices(incident, report.version, "lee")
        .unwrap();
    let c = f
        .store
        .outbox_claim("email", Some(incident), i64::MAX)
        .unwrap()
        .unwrap();
    f.store.outbox_mark(c.id, SendOutcome::Sent, None).unwrap();
    let counts = f.store.outbox_counts(incident).unwrap();
    let entries = f.store.ledger_len().unwrap();

    // A sent letter gets no second outcome, and cannot be claimed again.
    let err = f
        .store
        .outbox_mark(c.id, SendOutcome::Sent, None)
        .unwrap_err();
    let OutboxError::Transition { id, source } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*id, c.id);
    assert_eq!(
        (source.from, source.event),
        (DeliveryState::Sent, DeliveryEvent::Accepted)
    );
    assert!(err.to_string().contains(&format!("notice {}", c.id)));
    // A letter nobody claimed gets no outcome either.
    let queued = c.id + 1;
    for outcome in [
        SendOutcome::Sent,
        SendOutcome::Printed,
        SendOutcome::Failed { error: "x".into() },
    ] {
        assert!(matches!(
            f.store.outbox_mark(queued, outcome, None),
            Err(OutboxError::Transition { source, .. }) if source.from == DeliveryState::Queued
        ));
    }
    // A released letter must have been unknown.
    assert_eq!(
        f.store
            .outbox_retry_unknown(incident, "operator:test")
            .unwrap(),
        0
    );
    assert!(matches!(
        f.store.outbox_mark(999, SendOutcome::Sent, None),
        Err(OutboxError::NoSuchNotice { id: 999, .. })
    ));
    assert!(matches!(
        f.store
            .outbox_bounce(incident + 1, c.id, "x", "operator:test"),
        Err(OutboxError::NoSuchNotice { .. })
    ));
    assert_eq!(f.store.outbox_counts(incident).unwrap(), counts);
    // Only the release summary was written.
    assert_eq!(f.store.ledger_len().unwrap(), entries + 1);
}

#[test]
fn render_and_approval_errors_name_their_cause() {
    let f = fixture();
    let incident = incident_with_customers(&f, 1);
    let aware = time::macros::datetime!(2026-10-21 09:00 UTC);
    let bare = f
        .store
        .open_incident(
            NewIncident::new(
                "no scope",
                Severity::Sev2,
                Classification::CredentialTheft,
                aware,
                aware,
            ),
            PlaybookSet::builtin().unwrap(),
            "operator:test",
        )
        .wait_blocking()
        .unwrap();
    assert!(matches!(
        render(&f, bare),
        Err(RenderNoticesError::NoScope { incident }) if incident == bare
    ));
    assert!(matches!(
        render(&f, 404),
        Err(RenderNoticesError::NotFound { incident: 404 })
    ));
    assert!(matches!(
        f.store.approve_notices(bare, 1, "lee"),
        Err(ApproveNoticesError::NoLegalRole { .. })
    ));
    let err = f.store.approve_notices(incident, 1, "mallory").unwrap_err();
    assert!(matches!(err, ApproveNoticesError::NotAnOperator), "{err}");
    // Legal by account, but not assigned legal on this incident.
    bulwark_testkit::legal_operator(&f.store, "mallory");
    let err = f.store.approve_notices(incident, 1, "mallory").unwrap_err();
    assert!(matches!(err, ApproveNoticesError::NotLegal { .. }), "{err}");
    assert!(!err.to_string().contains("mallory"), "{err}");
    // Assigned legal on the incident, but the account lacks the legal role.
    bulwark_testkit::enrolled_operator(
        &f.store,
        "pat",
        &[bulwark_access::OperatorRole::Team(Role::PrComms)],
    );
    f.store
        .assign_incident(incident, Role::Legal, "pat".into(), "operator:test")
        .wait_blocking()
        .unwrap();
    let err = f.store.approve_notices(incident, 1, "pat").unwrap_err();
    assert!(
        matches!(err, ApproveNoticesError::NotLegalOperator),
        "{err}"
    );
    f.store
        .assign_incident(incident, Role::Legal, "lee".into(), "operator:test")
        .wait_blocking()
        .unwrap();
    assert!(matches!(
        f.store.approve_notices(incident, 1, "lee"),
        Err(ApproveNoticesError::NoSuchVersion { version: 1, .. })
    ));
    let v1 = render(&f, incident).unwrap().version;
    let v2 = render(&f, incident).unwrap().version;
    assert!(matches!(
        f.store.approve_notices(incident, v1, "lee"),
        Err(ApproveNoticesError::NotADraft {
            state: VersionState::Superseded,
            ..
        })
    ));
    let superseded = ledgered(&f, "notices.superseded");
    assert_eq!(superseded.len(), 1);
    assert_eq!(superseded[0].1["version"], json!(v1));
    assert_eq!(superseded[0].1["letters"], json!(1));
    f.store.approve_notices(incident, v2, "lee").unwrap();
    assert!(matches!(
        f.store.approve_notices(incident, v2, "lee"),
        Err(ApproveNoticesError::NotADraft {
            state: VersionState::Approved,
            ..
        })
    ));
    let versions = f.store.notice_versions(incident).unwrap();
    let states: Vec<VersionState> = versions.iter().map(|v| v.state).collect();
    assert_eq!(states, [VersionState::Superseded, VersionState::Approved]);
    let counts = f.store.outbox_counts(incident).unwrap();
    assert_eq!(counts.get("superseded"), Some(&1));
    assert_eq!(counts.get("queued"), Some(&1));
}

#[test]
fn a_team_person_approves_through_the_operator_linked_to_them() {
    let f = fixture();
    let incident = incident_with_customers(&f, 1);
    bulwark_testkit::legal_operator(&f.store, "leah-op");
    std::fs::write(
        f.dir.join("team.json"),
        json!({"people": [
            {"id": "leah", "name": "Leah Counsel", "email": "leah@shop.example", "operator": "leah-op"},
            {"id": "sam", "name": "Sam Unlinked", "email": "sam@shop.example"}
        ]})
        .to_string(),
    )
    .unwrap();
    let version = render(&f, incident).unwrap().version;
    // An unlinked team person is nobody's login: no operator acts for them.
    f.store
        .assign_incident(incident, Role::Legal, "sam".into(), "operator:test")
        .wait_blocking()
        .unwrap();
    assert!(matches!(
        f.store.approve_notices(incident, version, "leah-op"),
        Err(ApproveNoticesError::NotLegal { .. })
    ));
    f.store
        .assign_incident(incident, Role::Legal, "leah".into(), "operator:test")
        .wait_blocking()
        .unwrap();
    f.store
        .approve_notices(incident, version, "leah-op")
        .unwrap();
    let approved = ledgered(&f, "notices.approved");
    let (actor, details) = approved.last().unwrap();
    assert_eq!(actor, "operator:leah-op");
    assert_eq!(details["approved_by"], json!("leah-op"));
}

#[test]
fn with_two_approvals_required_a_version_waits_for_a_second_legal_operator() {
    let f = fixture();
    let incident = incident_with_customers(&f, 1);
    bulwark_testkit::legal_operator(&f.store, "lou");
    std::fs::write(
        f.dir.join("team.json"),
        json!({"people": [
            {"id": "lee", "name": "Lee", "email": "lee@shop.example", "operator": "lee"},
            {"id": "lou", "name": "Lou", "email": "lou@shop.example", "operator": "lou"}
        ], "roles": {"legal": {"primary": "lee", "deputies": ["lou"]}}})
        .to_string(),
    )
    .unwrap();
    f.store
        .set_notice_approvals_required(2, "owner:test")
        .wait_blocking()
        .unwrap();
    let version = render(&f, incident).unwrap().version;
    assert_eq!(
        f.store.approve_notices(incident, version, "lee").unwrap(),
        bulwark_store::ApproveOutcome::Awaiting { have: 1, need: 2 }
    );
    assert!(
        f.store
            .outbox_claim("email", Some(incident), i64::MAX)
            .unwrap()
            .is_none(),
        "nothing leaves on one approval"
    );
    assert!(matches!(
        f.store.approve_notices(incident, version, "lee"),
        Err(ApproveNoticesError::AlreadyApproved { .. })
    ));
    // Lou, the standing legal deputy, gives the second approval.
    assert_eq!(
        f.store.approve_notices(incident, version, "lou").unwrap(),
        bulwark_store::ApproveOutcome::Approved
    );
    let v = f.store.notice_versions(incident).unwrap().pop().unwrap();
    assert_eq!(v.approved_by.as_deref(), Some("lee, lou"));
    assert!(f
        .store
        .outbox_claim("email", Some(incident), i64::MAX)
        .unwrap()
        .is_some());
    // An operator in no legal position on the incident or the team is refused.
    bulwark_testkit::legal_operator(&f.store, "lars");
    assert!(matches!(
        f.store.approve_notices(incident, version, "lars"),
        Err(ApproveNoticesError::NotLegal { .. })
    ));
}

/// A drill's letters go to its sandbox: approved, they are never claimed for
/// sending, while a real incident's approved letters are.
#[test]
fn a_drill_incidents_approved_letters_are_never_sent() {
    let f = fixture();
    let run = f
        .store
        .start_drill("stolen-api-key", "{}".into(), 60, "operator:test")
        .wait_blocking()
        .unwrap();
    let drill = incident_with_customers_in(&f, 2, Some(run));
    assert!(f
        .store
        .incident(drill)
        .unwrap()
        .incident
        .title
        .starts_with("DRILL"));
    let report = render(&f, drill).unwrap();
    assert_eq!(report.queued_email, 2);
    f.store
        .approve_notices(drill, report.version, "lee")
        .unwrap();
    assert!(f
        .store
        .outbox_claim("email", None, i64::MAX)
        .unwrap()
        .is_none());
    assert!(f
        .store
        .outbox_claim("email", Some(drill), i64::MAX)
        .unwrap()
        .is_none());
    // A real incident beside it sends as ever.
    let real = incident_with_customers(&f, 1);
    let report = render(&f, real).unwrap();
    f.store
        .approve_notices(real, report.version, "lee")
        .unwrap();
    let c = f
        .store
        .outbox_claim("email", None, i64::MAX)
        .unwrap()
        .unwrap();
    assert_eq!(c.incident, real);
    assert_eq!(
        f.store.outbox_counts(drill).unwrap().get("queued"),
        Some(&2)
    );
}
