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
