//! Operators for tests: created and enrolled through the store's own
//! enrolment path (one-time link, password, first TOTP code).

use bulwark_access::{OperatorRole, OperatorRoles, TotpSecret};
use bulwark_store::{NewOperator, Store};

/// The password every test operator chooses (passes the password policy).
pub const OPERATOR_PASSWORD: &str = "correct horse battery staple harbour";

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Creates and enrols `id` with `roles`; returns its TOTP secret. The
/// enrolment spends the current TOTP step, so the next code must be of a later
/// step (`code_at(now_secs() + 30)` is inside the ±1 window).
pub fn enrolled_operator(store: &Store, id: &str, roles: &[OperatorRole]) -> TotpSecret {
    let new = NewOperator {
        id: id.into(),
        name: format!("{id} tester"),
        email: Some(format!("{id}@shop.example")),
        roles: OperatorRoles::new(roles.iter().copied()),
    };
    let (_, link) = store
        .create_operator(new, "owner:test")
        .wait_blocking()
        .unwrap();
    let view = store.enrolment(link.as_str()).unwrap();
    let secret = TotpSecret::from_base32(&view.secret_base32).unwrap();
    let code = secret.code_at(now_secs()).unwrap();
    store
        .complete_enrolment(link.as_str(), OPERATOR_PASSWORD, &code)
        .unwrap();
    secret
}

/// An enrolled operator who holds the legal role.
pub fn legal_operator(store: &Store, id: &str) -> TotpSecret {
    enrolled_operator(store, id, &[OperatorRole::Team(bulwark_model::Role::Legal)])
}
