//! Auto-open: alerts open incidents with playbooks, or attach to open ones.

use crate::common::*;
use bulwark_incident::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

fn alert(id: &str, level: AlertLevel, tags: &[&str], entity: &str, at: OffsetDateTime) -> AlertRef {
    AlertRef {
        id: id.into(),
        rule_id: "87db34e5-5d53-464c-a2b7-334fe262cbe4".into(),
        rule_title: "Skimmer Indicators In A Payment Page Script".into(),
        level,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        entity: Some(entity.into()),
        at,
    }
}

const AT: OffsetDateTime = datetime!(2026-11-20 09:00 UTC);

#[test]
fn a_critical_skimmer_alert_opens_an_incident_with_its_playbook() {
    let a = alert(
        "al-1",
        AlertLevel::Critical,
        &["attack.collection", "attack.t1056.003"],
        "/checkout",
        AT,
    );
    let d = decide(&a, &[], &builtin(), &AutoOpenConfig::default());
    let Decision::Open { new, playbooks } = d else {
        panic!("{d:?}")
    };
    assert_eq!(playbooks, ["web_skimmer"]);
    assert_eq!(new.classification, Classification::WebSkimmer);
    assert_eq!(new.severity, Severity::Sev1);
    assert_eq!((new.discovered_at, new.aware_at), (AT, AT));
    assert_eq!(new.alerts, ["al-1"]);

    // The shell opens it, applies the playbook and tracks the alert.
    let (mut inc, _) = Incident::open(8, *new, "system", AT).unwrap();
    let pb = builtin().get("web_skimmer").unwrap().clone();
    let tasks = apply_playbook(&mut inc, &pb, &[], "system", AT)
        .unwrap()
        .tasks;
    assert!(!tasks.is_empty());
    assert_eq!(tasks[0].due_at, Some(AT + Duration::minutes(30)));
    // Already in `alerts` from opening, so no second entry, but the key is kept.
    assert!(inc.track_alert(&a, "system", AT).unwrap().is_none());
    assert_eq!(inc.alert_keys.len(), 1);

    // A second alert from the same rule about the same page attaches.
    let b = alert(
        "al-2",
        AlertLevel::High,
        &["attack.t1056.003"],
        "/checkout",
        AT + Duration::hours(3),
    );
    assert_eq!(
        decide(&b, &[inc.clone()], &builtin(), &AutoOpenConfig::default()),
        Decision::Attach { incident: 8 }
    );
    let e = inc.track_alert(&b, "system", b.at).unwrap().unwrap();
    assert_eq!(
        e.text,
        "Alert al-2 linked: Skimmer Indicators In A Payment Page Script"
    );
    assert_eq!(e.details["level"], "high");
    assert_eq!(inc.alert_keys[0].last_alert_at, b.at);

    // Replaying it is ignored.
    assert!(matches!(
        decide(&b, &[inc.clone()], &builtin(), &AutoOpenConfig::default()),
        Decision::Ignore { .. }
    ));

    // Outside the window, or once closed, a new incident opens instead.
    let late = alert(
        "al-3",
        AlertLevel::High,
        &["attack.t1056.003"],
        "/checkout",
        b.at + Duration::hours(25),
    );
    assert!(matches!(
        decide(
            &late,
            &[inc.clone()],
            &builtin(),
            &AutoOpenConfig::default()
        ),
        Decision::Open { .. }
    ));
    inc.advance(Phase::Closed, Some("false positive"), "alice", b.at)
        .unwrap();
    let soon = alert(
        "al-4",
        AlertLevel::High,
        &["attack.t1056.003"],
        "/checkout",
        b.at + Duration::hours(1),
    );
    assert!(matches!(
        decide(&soon, &[inc], &builtin(), &AutoOpenConfig::default()),
        Decision::Open { .. }
    ));
}

#[test]
fn low_alerts_are_ignored_and_unrouted_ones_go_to_a_human() {
    let cfg = AutoOpenConfig::default();
    let low = alert("al-1", AlertLevel::Medium, &["attack.t1056.003"], "x", AT);
    assert_eq!(
        decide(&low, &[], &builtin(), &cfg),
        Decision::Ignore {
            why: "level medium is below the auto-open level high".into()
        }
    );
    let odd = alert(
        "al-2",
        AlertLevel::High,
        &["attack.reconnaissance"],
        "x",
        AT,
    );
    assert!(matches!(
        decide(&odd, &[], &builtin(), &cfg),
        Decision::NeedsTriage { .. }
    ));
    let cfg = AutoOpenConfig {
        fallback: Some(Classification::InsiderMisuse),
        ..cfg
    };
    let Decision::Open { new, playbooks } = decide(&odd, &[], &builtin(), &cfg) else {
        panic!()
    };
    assert_eq!(new.classification, Classification::InsiderMisuse);
    assert_eq!(playbooks, ["admin_account_takeover"]);
}

#[test]
fn credential_alerts_get_the_playbook_for_who_was_attacked() {
    let a = alert(
        "al-1",
        AlertLevel::High,
        &["attack.credential-access", "attack.t1110.004"],
        "203.0.113.9",
        AT,
    );
    let Decision::Open { playbooks, new } = decide(&a, &[], &builtin(), &AutoOpenConfig::default())
    else {
        panic!()
    };
    assert_eq!(new.severity, Severity::Sev2);
    assert_eq!(playbooks, ["credential_stuffing"]);
    let b = alert(
        "al-2",
        AlertLevel::Critical,
        &["attack.persistence", "attack.t1556.006"],
        "operator:bob",
        AT,
    );
    let Decision::Open { playbooks, .. } = decide(&b, &[], &builtin(), &AutoOpenConfig::default())
    else {
        panic!()
    };
    assert_eq!(playbooks, ["admin_account_takeover"]);
}
