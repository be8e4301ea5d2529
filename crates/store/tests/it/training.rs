//! Training records in the store: assignment by role, attempts with a pass
//! mark and an attempt limit, acknowledgements, and a passed training record
//! completing the PCI DSS 12.6.3 duty only once everyone assigned is current.

use bulwark_access::{OperatorRole, OperatorRoles};
use bulwark_learn::{Calendar, DutyState, PhishingEvent, TrainingSet, TrainingState};
use bulwark_model::Role;
use bulwark_store::{NewOperator, TrainingWriteError};

use crate::common::*;

fn add(f: &Fixture, id: &str, role: Role) {
    f.store
        .create_operator(
            NewOperator {
                id: id.into(),
                name: format!("{id} tester"),
                email: Some(format!("{id}@shop.example")),
                roles: OperatorRoles::new([OperatorRole::Team(role)]),
            },
            "operator:admin",
        )
        .wait_blocking()
        .unwrap();
}

#[test]
fn training_assigned_taken_and_completing_the_awareness_duty() {
    let f = fixture();
    let set = TrainingSet::builtin().unwrap();
    let calendar = Calendar::builtin().unwrap();
    let today = time::OffsetDateTime::now_utc().date();
    add(&f, "sam", Role::SecurityLead);
    add(&f, "lee", Role::Legal);
    assert_eq!(
        f.store
            .assign_training_to_role(
                &set,
                Role::SecurityLead,
                None,
                today,
                today,
                "operator:admin"
            )
            .unwrap(),
        4
    );
    // Legal is not a card handler.
    let e = f
        .store
        .assign_training_to_role(&set, Role::Legal, Some("payment-cards"), today, today, "x")
        .unwrap_err();
    assert!(matches!(e, TrainingWriteError::NotForRole { .. }), "{e}");
    assert_eq!(
        f.store
            .assign_training_to_operator(&set, "lee", Some("phishing"), today, today, "x")
            .unwrap(),
        1
    );
    // Re-assigning keeps the first assignment.
    assert_eq!(
        f.store
            .assign_training_to_operator(&set, "lee", Some("phishing"), today, today, "x")
            .unwrap(),
        0
    );
    let rows = f.store.training_status(&set, today).unwrap();
    assert_eq!(rows.len(), 5);
    let month = today + time::Duration::days(31);
    let rows = f.store.training_status(&set, month).unwrap();
    assert!(rows.iter().all(|r| r.state == TrainingState::Overdue));

    // Not assigned: refused.
    let e = f
        .store
        .record_training_attempt(&set, "lee", "payment-cards", &[1, 1, 0], true, today)
        .unwrap_err();
    assert!(matches!(e, TrainingWriteError::NotAssigned { .. }), "{e}");
    // Three failures use up the attempts.
    for left in [2, 1, 0] {
        let o = f
            .store
            .record_training_attempt(&set, "lee", "phishing", &[0, 0, 0, 0, 0], false, today)
            .unwrap();
        assert!(!o.passed);
        assert_eq!(o.attempts_left, left);
    }
    let e = f
        .store
        .record_training_attempt(&set, "lee", "phishing", &[1, 1, 0, 1, 1], true, today)
        .unwrap_err();
    assert!(
        matches!(e, TrainingWriteError::TooManyAttempts { max: 3, .. }),
        "{e}"
    );

    // Sam passes everything; the duty still waits for Lee.
    for (m, answers) in [
        ("phishing", vec![1, 1, 0, 1, 1]),
        ("customer-data", vec![0, 0, 1, 1]),
        ("incident-response", vec![0, 0, 0, 0]),
        ("payment-cards", vec![1, 1, 0]),
    ] {
        let o = f
            .store
            .record_training_attempt(&set, "sam", m, &answers, true, today)
            .unwrap();
        assert!(o.passed, "{m}");
    }
    let duty = |day| {
        f.store
            .compliance_status(&calendar, day)
            .unwrap()
            .into_iter()
            .find(|d| d.id == "pci-12.6.3-awareness-training")
            .unwrap()
    };
    assert_eq!(duty(month).status.state, DutyState::Overdue);
    let rows = f.store.training_status(&set, month).unwrap();
    assert_eq!(rows[0].person, "lee");
    assert_eq!(rows[0].failed_attempts, 3);
    let sam: Vec<_> = rows.iter().filter(|r| r.person == "sam").collect();
    assert!(sam
        .iter()
        .all(|r| r.state == TrainingState::Current && r.acknowledged));

    // A data-directory override allowing more attempts lets Lee pass; then
    // everyone assigned is current and the duty is done for a year.
    let more = TrainingSet::with_overrides(&[(
        "training/phishing.md",
        bulwark_learn::BUILTIN_TRAINING[3]
            .1
            .replacen("max_attempts = 3", "max_attempts = 5", 1),
    )])
    .unwrap();
    assert!(
        f.store
            .record_training_attempt(&more, "lee", "phishing", &[1, 1, 0, 1, 1], true, today)
            .unwrap()
            .passed
    );
    let d = duty(month);
    assert_eq!(d.last_completed, Some(today));
    assert_ne!(d.status.state, DutyState::Overdue);
    let actions: Vec<String> = f
        .store
        .ledger_recent(None, 200)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.iter().any(|a| a == "training.assigned"));
    assert!(actions.iter().any(|a| a == "training.passed"));
    assert!(actions.iter().any(|a| a == "training.failed"));
    assert!(actions.iter().any(|a| a == "training.acknowledged"));
}

#[test]
fn phishing_results_keep_a_hash_and_the_operator_link_only() {
    let f = fixture();
    add(&f, "sam", Role::SecurityLead);
    f.store
        .record_phishing_result("7", " SAM@shop.example", PhishingEvent::ClickedLink)
        .unwrap();
    f.store
        .record_phishing_result("7", "someone@else.example", PhishingEvent::Reported)
        .unwrap();
    let rows = f.store.phishing_results().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].operator.as_deref(), Some("sam"));
    assert_eq!(rows[0].event, "clicked_link");
    assert_eq!(rows[1].operator, None);
    assert_eq!(
        rows[1].person_hash,
        bulwark_store::person_hash("someone@else.example")
    );
    assert!(!rows[1].person_hash.contains('@'));
}
