//! The access review as a workflow: a refused sign-off changes nothing; a
//! completed one with revocations leaves the keys refused and the operators
//! unable to sign in.

use bulwark_access::OperatorRole;
use bulwark_learn::Calendar;
use bulwark_model::Role;
use bulwark_store::{AccountDecision, ReviewDecision, SignOffError};
use bulwark_testkit::operators::{enrolled_operator, OPERATOR_PASSWORD};

use crate::common::*;

fn decide(items: &[bulwark_store::ReviewItem], revoke: &[&str]) -> Vec<AccountDecision> {
    items
        .iter()
        .map(|i| AccountDecision {
            subject: i.subject.clone(),
            decision: if revoke.contains(&i.subject.as_str()) {
                ReviewDecision::Revoke
            } else {
                ReviewDecision::Keep
            },
            reason: "reviewed".into(),
        })
        .collect()
}

#[test]
fn a_completed_access_review_with_revocations_shows_the_keys_refused_afterwards() {
    let f = fixture();
    let calendar = Calendar::builtin().unwrap();
    enrolled_operator(
        &f.store,
        "boss",
        &[
            OperatorRole::Team(Role::ExecutiveSponsor),
            OperatorRole::Admin,
        ],
    );
    enrolled_operator(&f.store, "lee", &[OperatorRole::Team(Role::Legal)]);
    let items = f.store.access_review().unwrap();
    let key = items
        .iter()
        .find(|i| i.subject.starts_with("key:"))
        .unwrap()
        .subject
        .clone();
    let revoke = [key.as_str(), "operator:lee"];

    let refused = f
        .store
        .sign_off_review(&calendar, decide(&items, &revoke), "lee")
        .wait_blocking();
    assert!(
        matches!(refused, Err(SignOffError::NotOwner { .. })),
        "{refused:?}"
    );
    assert!(
        f.store.authenticate(&f.admin_key).is_ok(),
        "nothing changed"
    );
    assert_eq!(f.store.access_review().unwrap().len(), items.len());

    let out = f
        .store
        .sign_off_review(&calendar, decide(&items, &revoke), "boss")
        .wait_blocking()
        .unwrap();
    assert_eq!((out.keys_revoked, out.operators_disabled), (1, 1));
    assert!(
        f.store.authenticate(&f.admin_key).is_err(),
        "the key is refused"
    );
    assert!(f
        .store
        .login_password("lee", OPERATOR_PASSWORD, None)
        .is_err());
}
