//! Operator accounts end to end in the store: enrolment from a one-time link,
//! two-phase sign-in, TOTP codes accepted once, recovery codes, sessions that
//! end on disable and expiry, step-up that rotates the session id, throttling
//! that slows without locking out.

use std::time::Duration;

use bulwark_access::{OperatorRole, OperatorRoles, SessionPolicy, TotpError, TotpSecret};
use bulwark_model::{Role, Scope};
use bulwark_store::{
    EnrolError, LoginError, NewOperator, OperatorError, SessionError, StepUpError, Store,
};

use crate::common::*;

const GOOD: &str = "correct horse battery staple harbour";

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn new_operator(id: &str, roles: &[OperatorRole]) -> NewOperator {
    NewOperator {
        id: id.into(),
        name: format!("{id} tester"),
        email: Some(format!("{id}@shop.example")),
        roles: OperatorRoles::new(roles.iter().copied()),
    }
}

/// Creates and enrols `id`; returns its TOTP secret and recovery codes. The
/// enrolment uses the current TOTP step, so a sign-in right after needs the
/// next step's code (inside the ±1 window) or a recovery code.
fn enrolled_with_codes(
    store: &Store,
    id: &str,
    roles: &[OperatorRole],
) -> (TotpSecret, Vec<String>) {
    let (_, link) = store
        .create_operator(new_operator(id, roles), "operator:admin")
        .wait_blocking()
        .unwrap();
    let view = store.enrolment(link.as_str()).unwrap();
    let secret = TotpSecret::from_base32(&view.secret_base32).unwrap();
    let code = secret.code_at(now_secs()).unwrap();
    let (op, codes) = store
        .complete_enrolment(link.as_str(), GOOD, &code)
        .unwrap();
    assert!(op.enrolled);
    assert_eq!(codes.len(), 10);
    (secret, codes.iter().map(|c| c.to_string()).collect())
}

fn enrolled(store: &Store, id: &str, roles: &[OperatorRole]) -> TotpSecret {
    enrolled_with_codes(store, id, roles).0
}

/// The next step's code: after the enrolment's, still inside the drift window.
fn next_code(secret: &TotpSecret) -> String {
    secret.code_at(now_secs() + 30).unwrap()
}

#[test]
fn enrolment_from_a_one_time_link() {
    let f = fixture();
    let (info, link) = f
        .store
        .create_operator(
            new_operator("lee", &[OperatorRole::Team(Role::Legal)]),
            "operator:admin",
        )
        .wait_blocking()
        .unwrap();
    assert!(!info.enrolled && link.as_str().starts_with("bwe_"));
    // An account that is not enrolled cannot sign in.
    assert!(matches!(
        f.store.login_password("lee", GOOD, Some("127.0.0.1")),
        Err(LoginError::Refused)
    ));
    let view = f.store.enrolment(link.as_str()).unwrap();
    let again = f.store.enrolment(link.as_str()).unwrap();
    assert_eq!(
        view.secret_base32.as_str(),
        again.secret_base32.as_str(),
        "a reload shows the same secret"
    );
    assert!(view
        .otpauth_uri
        .starts_with("otpauth://totp/Bulwark:lee%40shop.example?"));
    let secret = TotpSecret::from_base32(&view.secret_base32).unwrap();
    let code = secret.code_at(now_secs()).unwrap();
    for (pw, why) in [
        ("password123", "common"),
        ("short", "short"),
        ("lee tester 2026", "personal"),
    ] {
        assert!(
            matches!(
                f.store.complete_enrolment(link.as_str(), pw, &code),
                Err(EnrolError::Password(_))
            ),
            "{why}"
        );
    }
    assert!(matches!(
        f.store.complete_enrolment(link.as_str(), GOOD, "000000"),
        Err(EnrolError::Totp(TotpError::Wrong))
    ));
    let (op, codes) = f
        .store
        .complete_enrolment(link.as_str(), GOOD, &code)
        .unwrap();
    assert!(op.enrolled && codes.len() == 10);
    assert!(matches!(
        f.store.complete_enrolment(link.as_str(), GOOD, &code),
        Err(EnrolError::Used)
    ));
    assert!(matches!(
        f.store.enrolment(link.as_str()),
        Err(EnrolError::Used)
    ));
    assert!(matches!(
        f.store.enrolment("bwe_guessed"),
        Err(EnrolError::UnknownLink)
    ));
    // No secret in the stored rows: the password is a PHC hash, the TOTP secret sealed.
    let db = sqlite(&f.dir, "bulwark.db");
    let (hash, sealed): (String, Vec<u8>) = db
        .query_row(
            "SELECT password_hash, totp_sealed FROM operators WHERE id = 'lee'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(hash.starts_with("$argon2id$") && !hash.contains(GOOD));
    assert!(!sealed
        .windows(secret.bytes().len())
        .any(|w| w == secret.bytes()));
}

#[test]
fn sign_in_is_two_phase_and_a_code_is_accepted_once() {
    let f = fixture();
    let secret = enrolled(&f.store, "ana", &[OperatorRole::Team(Role::SecurityLead)]);
    let src = Some("198.51.100.7");
    // Unknown account and wrong password are refused alike.
    assert!(matches!(
        f.store.login_password("nobody", GOOD, src),
        Err(LoginError::Refused)
    ));
    assert!(matches!(
        f.store.login_password("ana", "wrong password here", src),
        Err(LoginError::Refused)
    ));
    let ticket = f
        .store
        .login_password("ana@shop.example", GOOD, src)
        .unwrap();
    // The enrolment used the current step: its code is refused as a replay.
    let used = secret.code_at(now_secs()).unwrap();
    assert!(matches!(
        f.store
            .login_second_factor(ticket.as_str(), &used, src, None, "browser"),
        Err(LoginError::SecondFactor(TotpError::Replayed))
    ));
    let code = next_code(&secret);
    let (token, op) = f
        .store
        .login_second_factor(ticket.as_str(), &code, src, Some("test agent"), "browser")
        .unwrap();
    assert_eq!(op.id, "ana");
    assert!(token.as_str().starts_with("bws_"));
    // The ticket is spent; the same code on a new ticket is a replay.
    assert!(matches!(
        f.store
            .login_second_factor(ticket.as_str(), &code, src, None, "browser"),
        Err(LoginError::TicketExpired)
    ));
    let t2 = f.store.login_password("ana", GOOD, src).unwrap();
    assert!(matches!(
        f.store
            .login_second_factor(t2.as_str(), &code, src, None, "browser"),
        Err(LoginError::SecondFactor(TotpError::Replayed))
    ));
    let policy = SessionPolicy::default();
    let s = f.store.session(token.as_str(), &policy).unwrap();
    let p = s.operator.principal();
    assert_eq!(p.id, "operator:ana");
    assert!(p.scopes.allows(Scope::VaultLockdown) && !p.scopes.allows(Scope::Admin));
    // Sign-ins are in the ledger, attributed; the session handle, never its id.
    let db = sqlite(&f.dir, "bulwark.db");
    let details: String = db
        .query_row(
            "SELECT details FROM ledger WHERE action = 'operator.signed_in' AND actor = 'operator:ana'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!details.contains(token.as_str()));
    assert!(f.store.logout(token.as_str()).unwrap());
    assert!(matches!(
        f.store.session(token.as_str(), &policy),
        Err(SessionError::Unknown)
    ));
}

#[test]
fn recovery_codes_work_once() {
    let f = fixture();
    let (_, link) = f
        .store
        .create_operator(
            new_operator("cs", &[OperatorRole::Team(Role::CustomerService)]),
            "operator:admin",
        )
        .wait_blocking()
        .unwrap();
    let view = f.store.enrolment(link.as_str()).unwrap();
    let secret = TotpSecret::from_base32(&view.secret_base32).unwrap();
    let (_, codes) = f
        .store
        .complete_enrolment(link.as_str(), GOOD, &secret.code_at(now_secs()).unwrap())
        .unwrap();
    let code = codes[3].to_uppercase();
    let ticket = f.store.login_password("cs", GOOD, None).unwrap();
    assert!(f
        .store
        .login_second_factor(ticket.as_str(), &code, None, None, "browser")
        .is_ok());
    let ticket = f.store.login_password("cs", GOOD, None).unwrap();
    assert!(matches!(
        f.store
            .login_second_factor(ticket.as_str(), &code, None, None, "browser"),
        Err(LoginError::WrongRecoveryCode)
    ));
}

#[test]
fn disabling_ends_sessions_at_once_and_expiry_is_enforced() {
    let f = fixture();
    let (secret, codes) = enrolled_with_codes(&f.store, "pr", &[OperatorRole::Team(Role::PrComms)]);
    let ticket = f.store.login_password("pr", GOOD, None).unwrap();
    let (token, _) = f
        .store
        .login_second_factor(ticket.as_str(), &next_code(&secret), None, None, "browser")
        .unwrap();
    let policy = SessionPolicy::default();
    assert!(f.store.session(token.as_str(), &policy).is_ok());
    let idle = SessionPolicy {
        idle: Duration::from_millis(1),
        ..policy
    };
    std::thread::sleep(Duration::from_millis(5));
    assert!(matches!(
        f.store.session(token.as_str(), &idle),
        Err(SessionError::Idle(_))
    ));
    assert!(
        matches!(
            f.store.session(token.as_str(), &policy),
            Err(SessionError::Unknown)
        ),
        "an expired session is gone"
    );
    let absolute = SessionPolicy {
        absolute: Duration::from_millis(1),
        ..policy
    };
    let ticket = f.store.login_password("pr", GOOD, None).unwrap();
    let (token, _) = f
        .store
        .login_second_factor(ticket.as_str(), &codes[0], None, None, "browser")
        .unwrap();
    std::thread::sleep(Duration::from_millis(5));
    assert!(matches!(
        f.store.session(token.as_str(), &absolute),
        Err(SessionError::Absolute(_))
    ));

    let ticket = f.store.login_password("pr", GOOD, None).unwrap();
    let (token, _) = f
        .store
        .login_second_factor(ticket.as_str(), &codes[1], None, None, "browser")
        .unwrap();
    let ended = f
        .store
        .disable_operator("pr", Some("left the company".into()), "operator:admin")
        .wait_blocking()
        .unwrap();
    assert_eq!(ended, 1);
    assert!(f.store.session(token.as_str(), &policy).is_err());
    assert!(matches!(
        f.store.login_password("pr", GOOD, None),
        Err(LoginError::Refused)
    ));
    assert!(matches!(
        f.store
            .reissue_enrolment("pr", "operator:admin")
            .wait_blocking(),
        Err(OperatorError::Disabled(_))
    ));
}

#[test]
fn step_up_needs_a_fresh_code_and_rotates_the_session_id() {
    let f = fixture();
    let secret = enrolled(&f.store, "legal1", &[OperatorRole::Team(Role::Legal)]);
    let policy = SessionPolicy::default();
    // Signed in with the next code: that code cannot be used again to step up.
    let ticket = f.store.login_password("legal1", GOOD, None).unwrap();
    let (token, _) = f
        .store
        .login_second_factor(ticket.as_str(), &next_code(&secret), None, None, "browser")
        .unwrap();
    assert!(matches!(
        f.store
            .step_up(token.as_str(), &next_code(&secret), &policy, None),
        Err(StepUpError::Totp(TotpError::Replayed))
    ));
    assert!(
        f.store.session(token.as_str(), &policy).is_ok(),
        "a refused step-up changes nothing"
    );

    let f = fixture();
    let (secret, codes2) =
        enrolled_with_codes(&f.store, "legal2", &[OperatorRole::Team(Role::Legal)]);
    // Signed in with a recovery code: the next TOTP code steps up.
    let ticket = f.store.login_password("legal2", GOOD, None).unwrap();
    let (token, _) = f
        .store
        .login_second_factor(ticket.as_str(), &codes2[0], None, None, "browser")
        .unwrap();
    let fresh = f
        .store
        .step_up(token.as_str(), &next_code(&secret), &policy, None)
        .unwrap();
    assert_ne!(fresh.as_str(), token.as_str());
    assert!(matches!(
        f.store.session(token.as_str(), &policy),
        Err(SessionError::Unknown)
    ));
    let s = f.store.session(fresh.as_str(), &policy).unwrap();
    assert!(!policy.needs_step_up(&s.times, s.times.last_seen_ms));
}

#[test]
fn failed_sign_ins_are_slowed_per_account_and_source_without_a_lockout() {
    let f = fixture();
    enrolled(
        &f.store,
        "ic",
        &[OperatorRole::Team(Role::IncidentCommander)],
    );
    let attacker = Some("203.0.113.66");
    for _ in 0..4 {
        assert!(matches!(
            f.store.login_password("ic", "not the password", attacker),
            Err(LoginError::Refused)
        ));
    }
    // The guesser must wait; even the right password is not checked meanwhile.
    assert!(matches!(
        f.store.login_password("ic", GOOD, attacker),
        Err(LoginError::Throttled { retry_after_secs }) if retry_after_secs >= 1
    ));
    // The real user, elsewhere, is not locked out.
    assert!(f
        .store
        .login_password("ic", GOOD, Some("192.0.2.10"))
        .is_ok());
}

#[test]
fn operator_input_is_validated() {
    let f = fixture();
    let bad = NewOperator {
        id: "Ana Smith".into(),
        name: " ".into(),
        email: Some("not-an-address".into()),
        roles: OperatorRoles::default(),
    };
    match f
        .store
        .create_operator(bad, "operator:admin")
        .wait_blocking()
    {
        Err(OperatorError::Invalid(e)) => {
            let fields: Vec<&str> = e.0.iter().map(|x| x.field.as_str()).collect();
            assert_eq!(fields, ["id", "name", "email", "roles"]);
        }
        other => panic!("{other:?}"),
    }
    f.store
        .create_operator(
            new_operator("ana", &[OperatorRole::Admin]),
            "operator:admin",
        )
        .wait_blocking()
        .unwrap();
    assert!(matches!(
        f.store
            .create_operator(
                new_operator("ana", &[OperatorRole::Admin]),
                "operator:admin"
            )
            .wait_blocking(),
        Err(OperatorError::Exists(_))
    ));
}
