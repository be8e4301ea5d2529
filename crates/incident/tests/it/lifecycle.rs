//! Phase transitions, timeline entries and updates.

use crate::common::*;
use bulwark_incident::*;
use bulwark_model::DataElement;
use time::macros::datetime;
use time::Duration;

#[test]
fn opening_records_triage_and_a_timeline_entry() {
    let (inc, entry) =
        Incident::open(7, new_incident(Classification::WebSkimmer), "alice", OPENED).unwrap();
    assert_eq!(inc.phase, Phase::Triage);
    assert_eq!(inc.reference(), "INC-7");
    assert_eq!(inc.slug, "7-checkout-skimmer-found");
    assert_eq!(inc.entered(Phase::Triage), Some(OPENED));
    assert_eq!(entry.kind, EntryKind::Opened);
    assert_eq!(entry.incident, 7);
    assert_eq!(entry.actor, "alice");
    assert_eq!(entry.ledger_action(), "incident.opened");
    assert!(entry.text.contains("INC-7"), "{}", entry.text);
}

#[test]
fn the_normal_path_succeeds_and_every_step_is_on_the_timeline() {
    let mut inc = open(Classification::WebSkimmer);
    let mut at = OPENED;
    for to in [
        Phase::Contained,
        Phase::Investigating,
        Phase::Notifying,
        Phase::Remediating,
        Phase::Monitoring,
        Phase::Closed,
    ] {
        at += Duration::hours(1);
        let from = inc.phase;
        let e = inc.advance(to, None, "bob", at).unwrap();
        assert_eq!(inc.phase, to);
        assert_eq!(e.kind, EntryKind::PhaseChanged);
        assert_eq!(e.at, at);
        assert_eq!(e.actor, "bob");
        assert_eq!(e.text, format!("Phase {from} → {to}"));
        assert_eq!(e.details["from"], from.code());
        assert_eq!(e.details["to"], to.code());
        assert_eq!(e.ledger_action(), "incident.phase_changed");
    }
    assert_eq!(inc.phase_history.len(), 7);
    assert_eq!(
        inc.entered(Phase::Contained),
        Some(OPENED + Duration::hours(1))
    );
}

#[test]
fn invalid_transitions_fail_with_a_clear_message_and_change_nothing() {
    let mut inc = open(Classification::WebSkimmer);
    let before = inc.clone();
    let err = inc
        .advance(Phase::Notifying, Some("why not"), "bob", OPENED)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot move the incident from triage to notifying: from triage it may move to contained, investigating or closed"
    );
    assert_eq!(inc, before);

    inc.advance(Phase::Contained, None, "bob", OPENED).unwrap();
    let err = inc
        .advance(Phase::Monitoring, None, "bob", OPENED)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot move the incident from contained to monitoring: from contained it may move to investigating"
    );
    let err = inc
        .advance(Phase::Contained, None, "bob", OPENED)
        .unwrap_err();
    assert_eq!(err.to_string(), "the incident is already in contained");
}

#[test]
fn skips_need_a_reason() {
    let mut inc = open(Classification::Misdelivery);
    let err = inc
        .advance(Phase::Investigating, None, "bob", OPENED)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "moving the incident from triage to investigating skips the normal order (triage → contained): give a reason"
    );
    let e = inc
        .advance(
            Phase::Investigating,
            Some("parcel already returned; nothing live to contain"),
            "bob",
            OPENED,
        )
        .unwrap();
    assert_eq!(
        e.details["reason"],
        "parcel already returned; nothing live to contain"
    );
    assert!(e
        .text
        .ends_with(": parcel already returned; nothing live to contain"));
    // Blank reasons do not count.
    let err = inc
        .advance(Phase::Remediating, Some("   "), "bob", OPENED)
        .unwrap_err();
    assert!(matches!(
        err,
        IncidentError::Transition(TransitionError::ReasonRequired { .. })
    ));
}

#[test]
fn closed_incidents_only_reopen_with_a_reason() {
    let mut inc = open(Classification::CredentialTheft);
    inc.advance(
        Phase::Closed,
        Some("false positive: pen test"),
        "bob",
        OPENED,
    )
    .unwrap();
    let err = inc
        .advance(Phase::Triage, Some("x"), "bob", OPENED)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot move the incident from closed to triage: a closed incident can only be reopened, with a reason"
    );
    let err = inc
        .reopen(Phase::Investigating, "  ", "bob", OPENED)
        .unwrap_err();
    assert_eq!(err.to_string(), "reopening an incident needs a reason");
    let err = inc.reopen(Phase::Closed, "x", "bob", OPENED).unwrap_err();
    assert!(err
        .to_string()
        .starts_with("cannot reopen the incident into closed"));

    let at = OPENED + Duration::days(3);
    let e = inc
        .reopen(Phase::Investigating, "same source seen again", "carol", at)
        .unwrap();
    assert_eq!(inc.phase, Phase::Investigating);
    assert_eq!(e.kind, EntryKind::Reopened);
    assert_eq!(
        e.text,
        "Reopened into investigating: same source seen again"
    );
    assert_eq!(
        inc.phase_history.last().unwrap().reason.as_deref(),
        Some("same source seen again")
    );

    let err = inc.reopen(Phase::Triage, "again", "carol", at).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot reopen the incident: it is in investigating, not closed"
    );
}

#[test]
fn changes_cannot_be_dated_before_the_last_phase_change() {
    let mut inc = open(Classification::WebSkimmer);
    let err = inc
        .advance(Phase::Contained, None, "bob", OPENED - Duration::minutes(1))
        .unwrap_err();
    assert_eq!(err, IncidentError::TimeBeforeLastChange);
}

#[test]
fn opening_validates_clocks_and_codes() {
    let mut n = new_incident(Classification::WebSkimmer);
    n.aware_at = DISCOVERED - Duration::hours(1);
    assert_eq!(
        Incident::open(1, n, "a", OPENED).unwrap_err(),
        IncidentError::AwareBeforeDiscovered
    );

    let n = new_incident(Classification::WebSkimmer);
    assert_eq!(
        Incident::open(1, n, "a", AWARE - Duration::minutes(1)).unwrap_err(),
        IncidentError::InFuture { field: "aware_at" }
    );

    let mut n = new_incident(Classification::WebSkimmer);
    n.jurisdictions = ["us-ca".to_string(), "eu".to_string(), "DE".to_string()].into();
    let inc = Incident::open(1, n, "a", OPENED).unwrap().0;
    assert_eq!(
        inc.jurisdictions.iter().cloned().collect::<Vec<_>>(),
        ["DE", "EU", "US-CA"]
    );

    let mut n = new_incident(Classification::WebSkimmer);
    n.jurisdictions = ["Narnia".to_string()].into();
    assert!(matches!(
        Incident::open(1, n, "a", OPENED).unwrap_err(),
        IncidentError::BadJurisdiction(_)
    ));

    let mut n = new_incident(Classification::WebSkimmer);
    n.title = "  ".into();
    assert_eq!(
        Incident::open(1, n, "a", OPENED).unwrap_err().to_string(),
        "title must not be empty"
    );

    assert_eq!("SEV2".parse::<Severity>().unwrap(), Severity::Sev2);
    assert_eq!(Severity::Sev1.to_string(), "SEV1");
    assert!("sev9".parse::<Severity>().is_err());
}

#[test]
fn card_elements_set_the_card_flag() {
    let inc = open_with(
        Classification::WebSkimmer,
        &[DataElement::CardNumber],
        &[],
        false,
    );
    assert!(inc.card_data);
}

#[test]
fn updates_list_changed_fields_and_refused_patches_change_nothing() {
    let mut inc = open(Classification::WebSkimmer);
    let at = OPENED + Duration::hours(2);
    let e = inc
        .update(
            IncidentPatch {
                severity: Some(Severity::Sev2),
                elements: Some([DataElement::CardNumber, DataElement::Name].into()),
                root_cause: Some("Outdated payment extension".into()),
                ..Default::default()
            },
            "bob",
            at,
        )
        .unwrap();
    assert_eq!(e.kind, EntryKind::Updated);
    assert_eq!(
        e.text,
        "Updated severity, elements, card_data, root_cause: severity SEV1 → SEV2"
    );
    assert!(inc.card_data);

    let before = inc.clone();
    let err = inc
        .update(
            IncidentPatch {
                title: Some("New title".into()),
                aware_at: Some(datetime!(2026-11-20 07:00 UTC)),
                ..Default::default()
            },
            "bob",
            at,
        )
        .unwrap_err();
    assert_eq!(err, IncidentError::AwareBeforeDiscovered);
    assert_eq!(inc, before);
    assert_eq!(
        inc.update(IncidentPatch::default(), "bob", at).unwrap_err(),
        IncidentError::NoChange
    );
}

#[test]
fn notes_alerts_and_assignments_are_timeline_entries() {
    let mut inc = open(Classification::WebSkimmer);
    let n = inc.note("Called the acquirer", "carol", OPENED).unwrap();
    assert_eq!(
        (n.kind, n.text.as_str()),
        (EntryKind::Note, "Called the acquirer")
    );
    let a = inc
        .link_alert("alert-42", "system", OPENED)
        .unwrap()
        .unwrap();
    assert_eq!(a.details["alert"], "alert-42");
    assert!(inc
        .link_alert("alert-42", "system", OPENED)
        .unwrap()
        .is_none());
    let t = inc.assign(Role::Legal, "carol", "alice", OPENED).unwrap();
    assert_eq!(t.text, "carol assigned as Legal");
    assert_eq!(inc.assigned(Role::Legal), Some("carol"));
}

#[test]
fn incidents_tasks_and_entries_round_trip_through_json() {
    let mut inc = open_with(
        Classification::WebSkimmer,
        &[DataElement::CardNumber],
        &["DE"],
        true,
    );
    let pb = PlaybookSet::builtin()
        .unwrap()
        .get("web_skimmer")
        .unwrap()
        .clone();
    let applied = apply_playbook(&mut inc, &pb, &[], "alice", OPENED).unwrap();
    let back: Incident = serde_json::from_str(&serde_json::to_string(&inc).unwrap()).unwrap();
    assert_eq!(back, inc);
    let back: Vec<Task> =
        serde_json::from_str(&serde_json::to_string(&applied.tasks).unwrap()).unwrap();
    assert_eq!(back, applied.tasks);
    let back: TimelineEntry =
        serde_json::from_str(&serde_json::to_string(&applied.entry).unwrap()).unwrap();
    assert_eq!(back, applied.entry);
    let json = serde_json::to_value(&applied.tasks[0]).unwrap();
    assert_eq!(
        json["due_rule"],
        serde_json::json!({"after": "30m", "from": "aware_at"})
    );
    assert_eq!(json["status"], serde_json::json!({"state": "open"}));
}

#[test]
fn containment_records_become_attributed_timeline_entries() {
    let rec = ContainmentRecord {
        action: ContainmentAction::Webhook {
            event: "checkout.pause".into(),
        },
        target: Some("store".into()),
        reason: "skimmer on checkout".into(),
        undo: false,
        succeeded: true,
        result: "HTTP 200 after 2 attempts".into(),
        task: Some("web_skimmer/pause-checkout".into()),
    };
    let e = rec.entry(7, "bob", OPENED);
    assert_eq!(e.kind, EntryKind::Containment);
    assert_eq!(
        e.text,
        "Ran webhook:checkout.pause on store: succeeded (HTTP 200 after 2 attempts). Why: skimmer on checkout"
    );
    assert_eq!(
        e.details["action"],
        serde_json::json!({"kind": "webhook", "event": "checkout.pause"})
    );
    assert_eq!(
        rec.action.required_scope(),
        bulwark_model::Scope::IncidentsWrite
    );
    assert!(rec.action.reversible());
    assert!(!ContainmentAction::RevokeApiKey.reversible());
    assert_eq!(
        ContainmentAction::VaultLockdown.required_scope(),
        bulwark_model::Scope::VaultLockdown
    );
}

#[test]
fn patch_json_tells_null_from_absent() {
    let clear: IncidentPatch = serde_json::from_str(r#"{"owner": null}"#).unwrap();
    assert_eq!(clear.owner, Some(None));
    let leave: IncidentPatch = serde_json::from_str(r#"{"severity": "sev2"}"#).unwrap();
    assert_eq!(leave.owner, None);
    assert_eq!(leave.severity, Some(Severity::Sev2));

    let mut n = new_incident(Classification::WebSkimmer);
    n.owner = Some("alice".into());
    let mut inc = Incident::open(1, n, "a", OPENED).unwrap().0;
    let e = inc.update(clear, "a", OPENED).unwrap();
    assert_eq!(
        (inc.owner.as_deref(), e.text.as_str()),
        (None, "Updated owner")
    );
}
