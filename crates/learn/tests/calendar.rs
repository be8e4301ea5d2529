//! The shipped compliance calendar: its duties load, cover the PCI DSS
//! cadences the plan must show, and fall due as their cadences say.

use bulwark_learn::{Cadence, Calendar, CalendarError, DutyState, EvidenceKind, BUILTIN_FILES};
use time::macros::date;

#[test]
fn builtin_list_matches_the_compliance_directory() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../compliance");
    let mut on_disk: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".toml"))
        .map(|n| format!("compliance/{n}"))
        .collect();
    on_disk.sort();
    let built: Vec<String> = BUILTIN_FILES.iter().map(|(p, _)| p.to_string()).collect();
    assert_eq!(on_disk, built, "update src/builtin.rs");
}

#[test]
fn the_pci_cadences_are_all_there() {
    let c = Calendar::builtin().unwrap();
    for (id, cadence, evidence) in [
        (
            "pci-12.10.2-plan-test",
            Cadence::Months(12),
            EvidenceKind::DrillRun,
        ),
        (
            "pci-7.2.4-access-review",
            Cadence::Months(6),
            EvidenceKind::AccessReview,
        ),
        (
            "pci-8.2.6-inactive-accounts",
            Cadence::Days(90),
            EvidenceKind::AccessReview,
        ),
        (
            "pci-12.6.3-awareness-training",
            Cadence::Months(12),
            EvidenceKind::TrainingRecord,
        ),
        (
            "pci-12.10.4-responder-training",
            Cadence::Months(12),
            EvidenceKind::TrainingRecord,
        ),
        (
            "pci-11.3.1-internal-scan",
            Cadence::Months(3),
            EvidenceKind::ScanReport,
        ),
        (
            "pci-11.3.2-external-scan",
            Cadence::Months(3),
            EvidenceKind::ScanReport,
        ),
        (
            "pci-10.4.1-log-review",
            Cadence::Days(1),
            EvidenceKind::LogReview,
        ),
        (
            "pci-11.6.1-payment-page-changes",
            Cadence::Days(7),
            EvidenceKind::PageCheck,
        ),
        (
            "plan-quarterly-security-review",
            Cadence::Months(3),
            EvidenceKind::Document,
        ),
    ] {
        let d = c.get(id).unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(d.cadence, cadence, "{id}");
        assert!(d.evidence.contains(&evidence), "{id}");
    }
}

#[test]
fn due_dates_follow_completion_across_month_ends_and_leap_years() {
    let c = Calendar::builtin().unwrap();
    let scan = c.get("pci-11.3.1-internal-scan").unwrap();
    // Scanned on 30 November: next scan by the end of February.
    let s = scan.status(
        Some(date!(2026 - 11 - 30)),
        date!(2026 - 01 - 01),
        date!(2027 - 02 - 20),
    );
    assert_eq!(s.due, date!(2027 - 02 - 28));
    assert_eq!(s.state, DutyState::DueSoon);
    let s = scan.status(
        Some(date!(2026 - 11 - 30)),
        date!(2026 - 01 - 01),
        date!(2027 - 03 - 03),
    );
    assert_eq!((s.state, s.days_overdue), (DutyState::Overdue, 3));
    let test = c.get("pci-12.10.2-plan-test").unwrap();
    let s = test.status(
        Some(date!(2028 - 02 - 29)),
        date!(2026 - 01 - 01),
        date!(2028 - 06 - 01),
    );
    assert_eq!(s.due, date!(2029 - 02 - 28));
    assert_eq!(s.state, DutyState::Upcoming);
    // Never done: due from the day tracking began.
    let s = test.status(None, date!(2026 - 12 - 01), date!(2026 - 12 - 02));
    assert_eq!(
        (s.due, s.state, s.days_overdue),
        (date!(2026 - 12 - 01), DutyState::Overdue, 1)
    );
}

#[test]
fn overrides_replace_by_id_and_bad_files_name_the_problem() {
    let local = r#"
[[duties]]
id = "pci-11.3.1-internal-scan"
title = "Internal vulnerability scan (monthly, our own policy)"
requirement = "PCI DSS v4.0.1 11.3.1"
cadence = "monthly"
owner = "it"
evidence = ["scan_report"]
"#;
    let c = Calendar::with_overrides(&[("compliance/local.toml", local)]).unwrap();
    assert_eq!(
        c.get("pci-11.3.1-internal-scan").unwrap().cadence,
        Cadence::Months(1)
    );
    assert!(c.get("pci-12.10.2-plan-test").is_some());

    let bad = local.replace("\"monthly\"", "\"now and then\"");
    let e = Calendar::load(&[("compliance/local.toml", bad.as_str())]).unwrap_err();
    assert!(matches!(e, CalendarError::Parse { .. }));
    let msg = e.to_string();
    assert!(msg.starts_with("compliance/local.toml:"), "{msg}");
    assert!(msg.contains("`now and then` is not a cadence"), "{msg}");
    assert!(msg.contains("line 6"), "{msg}");

    let typo = local.replace("evidence", "evidense");
    let e = Calendar::load(&[("compliance/local.toml", typo.as_str())]).unwrap_err();
    assert!(e.to_string().contains("evidense"), "{e}");

    let unknown = local.replace("scan_report", "a_photo");
    assert!(Calendar::load(&[("c.toml", unknown.as_str())]).is_err());

    let none = local.replace("[\"scan_report\"]", "[]");
    let e = Calendar::load(&[("c.toml", none.as_str())]).unwrap_err();
    assert!(
        e.to_string().contains("at least one kind of evidence"),
        "{e}"
    );

    let e = Calendar::load(&[("a.toml", local), ("b.toml", local)]).unwrap_err();
    assert_eq!(
        e,
        CalendarError::Duplicate {
            path: "b.toml".into(),
            id: "pci-11.3.1-internal-scan".into(),
            other: "a.toml".into()
        }
    );
}
