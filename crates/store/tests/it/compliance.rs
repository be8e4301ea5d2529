//! The compliance calendar's record in the store: a signed-off access review
//! completes the duties that accept one (PCI DSS 7.2.4, 8.2.6) and no other.

use bulwark_access::OperatorRole;
use bulwark_learn::{Calendar, DutyState};
use bulwark_model::Role;
use bulwark_store::{AccountDecision, ReviewDecision};
use bulwark_testkit::operators::enrolled_operator;

use crate::common::*;

#[test]
fn a_signed_off_access_review_completes_the_review_duties() {
    let f = fixture();
    let calendar = Calendar::builtin().unwrap();
    let today = time::OffsetDateTime::now_utc().date();
    let later = today + time::Duration::days(30);
    let before = f.store.compliance_status(&calendar, later).unwrap();
    let state = |rows: &[bulwark_store::DutyReport], id: &str| {
        rows.iter().find(|r| r.id == id).unwrap().clone()
    };
    assert_eq!(
        state(&before, "pci-7.2.4-access-review").status.state,
        DutyState::Overdue
    );
    // The executive sponsor, also an administrator, owns both review duties.
    enrolled_operator(
        &f.store,
        "boss",
        &[
            OperatorRole::Team(Role::ExecutiveSponsor),
            OperatorRole::Admin,
        ],
    );
    let decisions = f
        .store
        .access_review()
        .unwrap()
        .into_iter()
        .map(|i| AccountDecision {
            subject: i.subject,
            decision: ReviewDecision::Keep,
            reason: "still used by the checkout".into(),
        })
        .collect();
    f.store
        .sign_off_review(&calendar, decisions, "boss")
        .wait_blocking()
        .unwrap();
    let after = f.store.compliance_status(&calendar, later).unwrap();
    for id in ["pci-7.2.4-access-review", "pci-8.2.6-inactive-accounts"] {
        let r = state(&after, id);
        assert_eq!(r.last_completed, Some(today), "{id}");
        assert_ne!(r.status.state, DutyState::Overdue, "{id}");
    }
    let scan = state(&after, "pci-11.3.1-internal-scan");
    assert_eq!(scan.last_completed, None);
    assert_eq!(scan.status.state, DutyState::Overdue);
    // Overdue first.
    assert_eq!(after[0].status.state, DutyState::Overdue);
}

/// A scan report is kept in the locker with its completion; a schema-2
/// directory (completions without documents) is brought up to schema 3 and
/// keeps its completions.
#[test]
fn a_scan_report_completion_keeps_its_document_and_old_directories_migrate() {
    let f = fixture();
    let calendar = Calendar::builtin().unwrap();
    let today = time::OffsetDateTime::now_utc().date();
    let scan = |on| bulwark_store::Completion {
        duty: "pci-11.3.1-internal-scan".into(),
        on,
        evidence: bulwark_learn::EvidenceKind::ScanReport,
        reference: Some("nessus".into()),
    };
    // Without the file: refused, nothing recorded.
    let e = f
        .store
        .complete_duty(&calendar, scan(today), today, "owner:test")
        .unwrap_err();
    assert!(
        matches!(e, bulwark_store::CompletionError::DocumentRequired(_)),
        "{e}"
    );
    assert!(f.store.completions(None).unwrap().is_empty());
    // An unreadable file: refused, nothing recorded.
    let gone = f.dir.join("no-such-report.pdf");
    let e = f
        .store
        .complete_duty_with_document(&calendar, scan(today), &gone, today, "owner:test")
        .unwrap_err();
    assert!(
        matches!(e, bulwark_store::CompletionError::Document(_)),
        "{e}"
    );
    assert!(f.store.completions(None).unwrap().is_empty());

    let report = f.dir.join("q4 scan.pdf");
    std::fs::write(&report, b"internal scan: 0 high").unwrap();
    let id = f
        .store
        .complete_duty_with_document(&calendar, scan(today), &report, today, "owner:test")
        .unwrap();
    let rows = f
        .store
        .completions(Some("pci-11.3.1-internal-scan"))
        .unwrap();
    assert_eq!(rows.len(), 1);
    let doc = rows[0].document.clone().unwrap();
    assert_eq!(doc.name, "q4_scan.pdf");
    assert_eq!(doc.size, 21);
    let out = f.dir.join("out.pdf");
    f.store.completion_document(id, &out, "owner:test").unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), b"internal scan: 0 high");
    // The destination is never overwritten.
    assert!(f.store.completion_document(id, &out, "owner:test").is_err());

    // Back to what schema 2 wrote: no document columns.
    let Fixture {
        _tmp, dir, store, ..
    } = f;
    drop(store);
    {
        let db = bulwark_testkit::sqlite(&dir, "bulwark.db");
        db.execute_batch(
            "UPDATE compliance_completions SET document_sha256 = NULL, document_name = NULL, document_size = NULL;
             ALTER TABLE compliance_completions DROP COLUMN document_sha256;
             ALTER TABLE compliance_completions DROP COLUMN document_name;
             ALTER TABLE compliance_completions DROP COLUMN document_size;
             UPDATE meta SET value = '2' WHERE key = 'schema_version';",
        )
        .unwrap();
    }
    let store = bulwark_testkit::reopen(&dir);
    let rows = store.completions(None).unwrap();
    assert_eq!(rows.len(), 1, "the old completion survives");
    assert!(rows[0].document.is_none());
    let status = store.compliance_status(&calendar, today).unwrap();
    let scan_row = status
        .iter()
        .find(|r| r.id == "pci-11.3.1-internal-scan")
        .unwrap();
    assert_eq!(scan_row.last_completed, Some(today));
    // And the migrated directory takes documents again.
    store
        .complete_duty_with_document(&calendar, scan(today), &report, today, "owner:test")
        .unwrap();
    assert!(store.completions(None).unwrap()[0].document.is_some());
    store.verify_ledger(None, |_| {}).unwrap();
}
