//! Operators: accounts for the people of the incident team, distinct from API
//! keys. An account is created with its roles and a one-time enrolment link
//! (single use, 24 hours); enrolling sets the password (argon2id) and the TOTP
//! secret (sealed under the keyring) and hands out ten recovery codes (hashed).
//! Signing in is two-phase — password, then the second factor — and only then
//! is a session created; session ids are random 256-bit tokens stored as their
//! SHA-256. The decisions (password policy, TOTP with replay protection,
//! lifetimes, throttling) are `bulwark_access`'s; this module keeps the state.
//! Secrets never reach a log, an error or the ledger.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use bulwark_access::{
    check_new_password, normalize_recovery_code, recovery_codes, OperatorRoles, PasswordRefused,
    SessionPolicy, SessionTimes, SessionVerdict, Throttle, ThrottlePolicy, TotpError, TotpSecret,
    RECOVERY_CODES,
};
use bulwark_vault::{hash_password, verify_password};
use rand::rngs::OsRng;
use rand::RngCore;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Result, StoreError};
use crate::writer::WriteCtx;
use crate::{Pending, Principal, Store, ValidationErrors};

/// How long an enrolment link works.
pub const ENROLMENT_LIFETIME: Duration = Duration::from_secs(24 * 3600);
/// How long the step between password and second factor may take.
pub const LOGIN_TICKET_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// Against distributed guessing at one account: lenient, so that an attacker
/// can delay the real user by a minute at most, never lock them out.
pub const ACCOUNT_WIDE: ThrottlePolicy = ThrottlePolicy {
    free: 20,
    base: Duration::from_secs(1),
    cap: Duration::from_secs(60),
    window: Duration::from_secs(3600),
};

/// A new operator account (not yet usable: it must be enrolled).
#[derive(Debug, Clone)]
pub struct NewOperator {
    /// Short stable id, as team members are named (`ana`).
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub roles: OperatorRoles,
}

/// An operator as shown to administrators: never a secret.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OperatorInfo {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub roles: OperatorRoles,
    /// Password and second factor set: the account can sign in.
    pub enrolled: bool,
    pub disabled: bool,
    pub created_ms: i64,
    pub created_by: String,
    pub enrolled_ms: Option<i64>,
    pub disabled_ms: Option<i64>,
}

impl OperatorInfo {
    /// The principal this operator acts as: their roles' scopes.
    pub fn principal(&self) -> Principal {
        Principal {
            id: format!("operator:{}", self.id),
            name: self.name.clone(),
            key_id: None,
            scopes: self.roles.scopes(),
        }
    }
}

/// A secret handed out once (an enrolment link's token, a login ticket, a
/// session id); wiped when dropped.
#[derive(Clone)]
pub struct Secret(pub Zeroizing<String>);

impl Secret {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// What the enrolment page shows: who is enrolling and the TOTP secret to scan.
pub struct EnrolmentView {
    pub operator: OperatorInfo,
    pub otpauth_uri: Zeroizing<String>,
    pub secret_base32: Zeroizing<String>,
    pub expires_ms: i64,
}

/// A signed-in session as a request sees it.
#[derive(Debug, Clone)]
pub struct OperatorSession {
    pub operator: OperatorInfo,
    pub times: SessionTimes,
    /// A public handle of the session (a prefix of its id's hash), to list and end it.
    pub handle: String,
    pub kind: String,
}

/// One session in a list.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionSummary {
    pub handle: String,
    pub operator: String,
    pub kind: String,
    pub created_ms: i64,
    pub last_seen_ms: i64,
    pub source: Option<String>,
    pub user_agent: Option<String>,
}

/// Why an operator could not be created or changed.
#[derive(Debug, thiserror::Error)]
pub enum OperatorError {
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationErrors),
    #[error("an operator `{0}` already exists")]
    Exists(String),
    #[error("another operator already has this e-mail address")]
    EmailTaken,
    #[error("no operator `{0}`")]
    NotFound(String),
    #[error("operator `{0}` is disabled")]
    Disabled(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an enrolment link was refused.
#[derive(Debug, thiserror::Error)]
pub enum EnrolError {
    #[error("this enrolment link is not valid; ask an administrator for a new one")]
    UnknownLink,
    #[error("this enrolment link has expired; ask an administrator for a new one")]
    Expired,
    #[error("this enrolment link was already used")]
    Used,
    #[error("the account is disabled")]
    Disabled,
    #[error(transparent)]
    Password(#[from] PasswordRefused),
    #[error("the authenticator code: {0}")]
    Totp(#[from] TotpError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a password change was refused (nothing changed).
#[derive(Debug, thiserror::Error)]
pub enum PasswordChangeError {
    #[error("the current password is not right")]
    WrongCurrent,
    #[error(transparent)]
    Password(#[from] PasswordRefused),
    #[error(transparent)]
    Throttled(#[from] LoginError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a sign-in step was refused. Deliberately alike for an unknown account,
/// a wrong password and a disabled account (no enumeration).
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("the account or password is not right")]
    Refused,
    #[error("too many failed attempts; try again in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error("the sign-in took too long; start again")]
    TicketExpired,
    #[error("the second factor: {0}")]
    SecondFactor(TotpError),
    #[error("the recovery code is not right")]
    WrongRecoveryCode,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a session is not (or no longer) valid.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("not signed in")]
    Unknown,
    #[error("the session ended after {} without activity", bulwark_access::span(*.0))]
    Idle(std::time::Duration),
    #[error("the session reached its maximum length of {}; sign in again", bulwark_access::span(*.0))]
    Absolute(std::time::Duration),
    #[error("the account is disabled")]
    Disabled,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a step-up (the second factor again) was refused.
#[derive(Debug, thiserror::Error)]
pub enum StepUpError {
    #[error(transparent)]
    Session(#[from] SessionError),
    #[error("the authenticator code: {0}")]
    Totp(#[from] TotpError),
    #[error("too many failed attempts; try again in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn token(prefix: &str) -> Secret {
    let mut raw = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(&mut raw[..]);
    Secret(Zeroizing::new(format!(
        "{prefix}{}",
        B64URL.encode(&raw[..])
    )))
}

fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

fn totp_label(operator: &str) -> String {
    format!("operator-totp:{operator}")
}

fn enrolment_label(operator: &str) -> String {
    format!("operator-totp-enrolment:{operator}")
}

fn unix_secs(ms: i64) -> u64 {
    (ms.max(0) / 1000) as u64
}

const OPERATOR_COLUMNS: &str =
    "id, name, email, roles, enrolled_ms, disabled_ms, created_ms, created_by";

fn operator_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<OperatorInfo> {
    let roles: String = r.get(3)?;
    let roles: OperatorRoles = serde_json::from_str(&roles).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e))
    })?;
    let enrolled_ms: Option<i64> = r.get(4)?;
    let disabled_ms: Option<i64> = r.get(5)?;
    Ok(OperatorInfo {
        id: r.get(0)?,
        name: r.get(1)?,
        email: r.get(2)?,
        roles,
        enrolled: enrolled_ms.is_some(),
        disabled: disabled_ms.is_some(),
        created_ms: r.get(6)?,
        created_by: r.get(7)?,
        enrolled_ms,
        disabled_ms,
    })
}

fn load_operator(c: &rusqlite::Connection, id: &str) -> Result<Option<OperatorInfo>> {
    Ok(c.query_row(
        &format!("SELECT {OPERATOR_COLUMNS} FROM operators WHERE id = ?1"),
        [id],
        operator_from_row,
    )
    .optional()?)
}

fn validate(new: &NewOperator) -> std::result::Result<(), ValidationErrors> {
    let mut e = ValidationErrors::default();
    let id_ok = (2..=32).contains(&new.id.len())
        && new
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !id_ok {
        e.push("id", "expected 2 to 32 characters: a-z, 0-9, - and _");
    }
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        e.push("name", "expected 1 to 100 printable characters");
    }
    if let Some(m) = &new.email {
        let ok = m.len() <= 254
            && m.split_once('@')
                .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
            && !m.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            e.push("email", "expected an e-mail address");
        }
    }
    if new.roles.0.is_empty() {
        e.push("roles", "an operator needs at least one role");
    }
    e.into_result()
}

/// Counts one failure against `subject` in this writer job.
fn record_failure(ctx: &mut WriteCtx<'_>, subject: &str, policy: &ThrottlePolicy) -> Result<()> {
    let now = ctx.now_ms;
    let t = throttle_of(ctx.main, subject)?.failed(policy, now);
    ctx.main.execute(
        "INSERT INTO login_throttle (subject, failures, last_failure_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (subject) DO UPDATE SET failures = excluded.failures, last_failure_ms = excluded.last_failure_ms",
        params![subject, t.failures, t.last_failure_ms],
    )?;
    Ok(())
}

fn throttle_of(c: &rusqlite::Connection, subject: &str) -> Result<Throttle> {
    Ok(c.query_row(
        "SELECT failures, last_failure_ms FROM login_throttle WHERE subject = ?1",
        [subject],
        |r| {
            Ok(Throttle {
                failures: r.get(0)?,
                last_failure_ms: r.get(1)?,
            })
        },
    )
    .optional()?
    .unwrap_or_default())
}

/// The subjects a sign-in attempt is throttled by, with their policies.
fn subjects(account: &str, source: Option<&str>) -> Vec<(String, ThrottlePolicy)> {
    let src = source.unwrap_or("unknown");
    vec![
        (format!("pair:{account}|{src}"), ThrottlePolicy::ACCOUNT),
        (format!("source:{src}"), ThrottlePolicy::SOURCE),
        (format!("account:{account}"), ACCOUNT_WIDE),
    ]
}

impl Store {
    /// Creates an operator and its first enrolment link (the token, shown once).
    pub fn create_operator(
        &self,
        new: NewOperator,
        actor: &str,
    ) -> Pending<(OperatorInfo, Secret), OperatorError> {
        let actor = actor.to_owned();
        let link = token("bwe_");
        let hash = digest(link.as_str());
        self.writer().submit(move |ctx| {
            validate(&new)?;
            if load_operator(ctx.main, &new.id)?.is_some() {
                return Err(OperatorError::Exists(new.id));
            }
            if let Some(m) = &new.email {
                let taken: Option<i64> = ctx
                    .main
                    .query_row("SELECT 1 FROM operators WHERE email = ?1", [m], |r| r.get(0))
                    .optional()?;
                if taken.is_some() {
                    return Err(OperatorError::EmailTaken);
                }
            }
            let roles = serde_json::to_string(&new.roles)
                .map_err(|e| StoreError::corrupt(format!("operator roles: {e}")))?;
            ctx.main.execute(
                "INSERT INTO operators (id, name, email, roles, created_ms, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![new.id, new.name.trim(), new.email, roles, ctx.now_ms, actor],
            )?;
            issue_enrolment(ctx, &new.id, &hash, &actor)?;
            ctx.ledger(
                &actor,
                "operator.created",
                &format!("operator:{}", new.id),
                serde_json::json!({"roles": new.roles.codes()}),
            )?;
            let info = load_operator(ctx.main, &new.id)?
                .ok_or_else(|| StoreError::corrupt("an operator vanished after it was written"))?;
            Ok((info, link.clone()))
        })
    }

    /// A fresh enrolment link for an existing operator (a lost or expired one,
    /// or a reset: it replaces the password and second factor when used).
    pub fn reissue_enrolment(&self, id: &str, actor: &str) -> Pending<Secret, OperatorError> {
        let (id, actor) = (id.to_owned(), actor.to_owned());
        let link = token("bwe_");
        let hash = digest(link.as_str());
        self.writer().submit(move |ctx| {
            let op = load_operator(ctx.main, &id)?.ok_or(OperatorError::NotFound(id.clone()))?;
            if op.disabled {
                return Err(OperatorError::Disabled(id));
            }
            issue_enrolment(ctx, &id, &hash, &actor)?;
            Ok(link.clone())
        })
    }

    pub fn operators(&self) -> Result<Vec<OperatorInfo>> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {OPERATOR_COLUMNS} FROM operators ORDER BY id"
            ))?;
            let rows = stmt.query_map([], operator_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    pub fn operator(&self, id: &str) -> Result<Option<OperatorInfo>> {
        self.read(|c| load_operator(c, id))
    }

    /// Replaces an operator's roles; their sessions carry the new roles from
    /// the next request.
    pub fn set_operator_roles(
        &self,
        id: &str,
        roles: OperatorRoles,
        actor: &str,
    ) -> Pending<OperatorInfo, OperatorError> {
        let (id, actor) = (id.to_owned(), actor.to_owned());
        self.writer().submit(move |ctx| {
            let before =
                load_operator(ctx.main, &id)?.ok_or(OperatorError::NotFound(id.clone()))?;
            if roles.0.is_empty() {
                let mut e = ValidationErrors::default();
                e.push("roles", "an operator needs at least one role");
                return Err(e.into());
            }
            let text = serde_json::to_string(&roles)
                .map_err(|e| StoreError::corrupt(format!("operator roles: {e}")))?;
            ctx.main.execute(
                "UPDATE operators SET roles = ?2 WHERE id = ?1",
                params![id, text],
            )?;
            ctx.ledger(
                &actor,
                "operator.roles_changed",
                &format!("operator:{id}"),
                serde_json::json!({"from": before.roles.codes(), "to": roles.codes()}),
            )?;
            Ok(load_operator(ctx.main, &id)?
                .ok_or_else(|| StoreError::corrupt("an operator vanished after it was written"))?)
        })
    }

    /// Disables an operator: their sessions end at once, the account cannot sign in.
    pub fn disable_operator(
        &self,
        id: &str,
        reason: Option<String>,
        actor: &str,
    ) -> Pending<usize, OperatorError> {
        let (id, actor) = (id.to_owned(), actor.to_owned());
        self.writer().submit(move |ctx| {
            load_operator(ctx.main, &id)?.ok_or(OperatorError::NotFound(id.clone()))?;
            Ok(disable_in(ctx, &id, reason, &actor)?)
        })
    }

    /// What the enrolment page shows. The TOTP secret is drawn on the first
    /// visit and kept (sealed) with the link, so a reload shows the same one.
    pub fn enrolment(&self, link: &str) -> std::result::Result<EnrolmentView, EnrolError> {
        let hash = digest(link);
        let fresh = Zeroizing::new({
            let mut b = vec![0u8; bulwark_access::totp::SECRET_LEN];
            OsRng.fill_bytes(&mut b);
            b
        });
        let store = self.clone();
        let (operator, sealed, expires_ms) = self
            .writer()
            .submit(move |ctx| -> std::result::Result<_, EnrolError> {
                let (operator_id, expires_ms, used, sealed) = enrolment_row(ctx.main, &hash)?;
                if used {
                    return Err(EnrolError::Used);
                }
                if expires_ms <= ctx.now_ms {
                    return Err(EnrolError::Expired);
                }
                let op = load_operator(ctx.main, &operator_id)?.ok_or(EnrolError::UnknownLink)?;
                if op.disabled {
                    return Err(EnrolError::Disabled);
                }
                let sealed = match sealed {
                    Some(s) => s,
                    None => {
                        let s = store.keyring_read()?.seal_secret(
                            &enrolment_label(&op.id),
                            &fresh,
                            &mut OsRng,
                        );
                        ctx.main.execute(
                            "UPDATE operator_enrolments SET totp_sealed = ?2 WHERE token_hash = ?1",
                            params![&hash[..], s],
                        )?;
                        s
                    }
                };
                Ok((op, sealed, expires_ms))
            })
            .wait_blocking()?;
        let secret = self.open_enrolment_secret(&operator.id, &sealed)?;
        let account = operator
            .email
            .clone()
            .unwrap_or_else(|| operator.id.clone());
        Ok(EnrolmentView {
            otpauth_uri: Zeroizing::new(secret.otpauth_uri(&account)?),
            secret_base32: Zeroizing::new(secret.base32()?),
            operator,
            expires_ms,
        })
    }

    fn open_enrolment_secret(
        &self,
        operator: &str,
        sealed: &[u8],
    ) -> Result<TotpSecret, EnrolError> {
        let bytes = self
            .keyring_read()?
            .open_secret(&enrolment_label(operator), sealed)
            .map_err(StoreError::from)?;
        Ok(TotpSecret::from_bytes(bytes)?)
    }

    /// Completes an enrolment: the password (checked against the policy) and
    /// the first code from the authenticator (proving it holds the secret).
    /// Returns the ten recovery codes, shown once.
    pub fn complete_enrolment(
        &self,
        link: &str,
        password: &str,
        code: &str,
    ) -> std::result::Result<(OperatorInfo, Vec<Zeroizing<String>>), EnrolError> {
        let hash = digest(link);
        let (operator_id, expires_ms, used, sealed) =
            self.read_with(|c| enrolment_row(c, &hash).map_err(EnrolError::from))?;
        if used {
            return Err(EnrolError::Used);
        }
        let now = crate::writer::now_ms();
        if expires_ms <= now {
            return Err(EnrolError::Expired);
        }
        let op = self
            .operator(&operator_id)?
            .ok_or(EnrolError::UnknownLink)?;
        if op.disabled {
            return Err(EnrolError::Disabled);
        }
        let sealed = sealed.ok_or(EnrolError::Totp(TotpError::Wrong))?;
        let secret = self.open_enrolment_secret(&op.id, &sealed)?;
        let mut context = vec![op.id.as_str(), op.name.as_str()];
        if let Some(m) = &op.email {
            context.push(m);
        }
        check_new_password(password, &context)?;
        let step = secret.verify(code, unix_secs(now), None)?;
        let cost = self.password_cost();
        let password_hash = hash_password(password, cost, &mut OsRng).map_err(StoreError::from)?;
        let mut random = [0u8; RECOVERY_CODES * 10];
        OsRng.fill_bytes(&mut random);
        let codes: Vec<Zeroizing<String>> = recovery_codes(&random)
            .into_iter()
            .map(Zeroizing::new)
            .collect();
        random.iter_mut().for_each(|b| *b = 0);
        let mut code_hashes = Vec::with_capacity(codes.len());
        for c in &codes {
            code_hashes.push(
                hash_password(&normalize_recovery_code(c), cost, &mut OsRng)
                    .map_err(StoreError::from)?,
            );
        }
        let sealed_totp =
            self.keyring_read()?
                .seal_secret(&totp_label(&op.id), secret.bytes(), &mut OsRng);
        let id = op.id.clone();
        self.writer()
            .submit(move |ctx| -> std::result::Result<(), EnrolError> {
                // The link may have been used by a concurrent request meanwhile.
                let (_, _, used, _) = enrolment_row(ctx.main, &hash)?;
                if used {
                    return Err(EnrolError::Used);
                }
                ctx.main.execute(
                    "UPDATE operator_enrolments SET used_ms = ?2, totp_sealed = NULL WHERE token_hash = ?1",
                    params![&hash[..], ctx.now_ms],
                )?;
                ctx.main.execute(
                    "UPDATE operators SET password_hash = ?2, totp_sealed = ?3, totp_last_step = ?4,
                            enrolled_ms = ?5 WHERE id = ?1",
                    params![id, password_hash, sealed_totp, step as i64, ctx.now_ms],
                )?;
                ctx.main
                    .execute("DELETE FROM operator_recovery_codes WHERE operator_id = ?1", [&id])?;
                for (n, h) in code_hashes.iter().enumerate() {
                    ctx.main.execute(
                        "INSERT INTO operator_recovery_codes (operator_id, n, hash) VALUES (?1, ?2, ?3)",
                        params![id, n as i64, h],
                    )?;
                }
                // A re-enrolment replaces the old credentials: old sessions end.
                ctx.main
                    .execute("DELETE FROM operator_sessions WHERE operator_id = ?1", [&id])?;
                ctx.ledger(
                    &format!("operator:{id}"),
                    "operator.enrolled",
                    &format!("operator:{id}"),
                    serde_json::json!({"second_factor": "totp", "recovery_codes": RECOVERY_CODES}),
                )?;
                Ok(())
            })
            .wait_blocking()?;
        let op = self.operator(&op.id)?.ok_or(EnrolError::UnknownLink)?;
        Ok((op, codes))
    }

    /// Sign-in, first phase: the password. Returns a ticket for the second
    /// phase. Unknown accounts, wrong passwords and disabled accounts are
    /// answered alike, after the same work.
    pub fn login_password(
        &self,
        account: &str,
        password: &str,
        source: Option<&str>,
    ) -> std::result::Result<Secret, LoginError> {
        let account = account.trim().to_lowercase();
        let now = crate::writer::now_ms();
        let subjects = subjects(&account, source);
        self.check_throttle(&subjects, now)?;
        let row: Option<(String, Option<String>, bool)> = self.read(|c| {
            Ok(c.query_row(
                "SELECT id, password_hash, disabled_ms IS NOT NULL FROM operators WHERE id = ?1 OR email = ?1",
                [&account],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?)
        })?;
        let (ok, id) = match &row {
            Some((id, Some(hash), false)) => (
                verify_password(password, hash).map_err(StoreError::from)?,
                Some(id.clone()),
            ),
            _ => {
                // The same argon2 work as a real check, so timing tells nothing.
                let _ = verify_password(password, self.dummy_password_hash());
                (false, None)
            }
        };
        let (Some(id), true) = (id, ok) else {
            self.record_failures(subjects).wait_blocking()?;
            return Err(LoginError::Refused);
        };
        let ticket = token("bwl_");
        let hash = digest(ticket.as_str());
        let source = source.map(str::to_owned);
        self.writer()
            .submit(move |ctx| -> Result<()> {
                // Stale tickets of anyone go; they are useless after five minutes.
                ctx.main.execute(
                    "DELETE FROM operator_logins WHERE created_ms < ?1",
                    [ctx.now_ms - LOGIN_TICKET_LIFETIME.as_millis() as i64],
                )?;
                ctx.main.execute(
                    "INSERT INTO operator_logins (ticket_hash, operator_id, created_ms, source) VALUES (?1, ?2, ?3, ?4)",
                    params![&hash[..], id, ctx.now_ms, source],
                )?;
                Ok(())
            })
            .wait_blocking()?;
        Ok(ticket)
    }

    /// Sign-in, second phase: a TOTP code or a recovery code for the ticket.
    /// Creates the session (a fresh id) and returns its token.
    pub fn login_second_factor(
        &self,
        ticket: &str,
        code: &str,
        source: Option<&str>,
        user_agent: Option<&str>,
        kind: &str,
    ) -> std::result::Result<(Secret, OperatorInfo), LoginError> {
        let hash = digest(ticket);
        let now = crate::writer::now_ms();
        let row: Option<(String, i64)> = self.read(|c| {
            Ok(c.query_row(
                "SELECT operator_id, created_ms FROM operator_logins WHERE ticket_hash = ?1",
                [&hash[..]],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
        })?;
        let Some((id, created)) = row else {
            return Err(LoginError::TicketExpired);
        };
        if now - created >= LOGIN_TICKET_LIFETIME.as_millis() as i64 {
            return Err(LoginError::TicketExpired);
        }
        let subjects = subjects(&id, source);
        self.check_throttle(&subjects, now)?;
        let op = self.operator(&id)?.ok_or(LoginError::Refused)?;
        if op.disabled || !op.enrolled {
            return Err(LoginError::Refused);
        }
        let digits = code.trim();
        let recovery = !(digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()));
        let session = token("bws_");
        let session_hash = digest(session.as_str());
        let (source, user_agent, kind) = (
            source.map(str::to_owned),
            user_agent.map(|u| u.chars().take(200).collect::<String>()),
            kind.to_owned(),
        );
        let factor = if recovery {
            match self.use_recovery_code(&id, code)? {
                Some(f) => f,
                None => {
                    self.record_failures(subjects).wait_blocking()?;
                    return Err(LoginError::WrongRecoveryCode);
                }
            }
        } else {
            let (sealed, last) = self.totp_state(&id)?;
            let secret = self.open_totp(&id, &sealed)?;
            match secret.verify(digits, unix_secs(now), last) {
                Ok(step) => SecondFactor::Totp(step as i64),
                Err(e) => {
                    self.record_failures(subjects).wait_blocking()?;
                    return Err(LoginError::SecondFactor(e));
                }
            }
        };
        let op_id = id.clone();
        self.writer()
            .submit(move |ctx| -> std::result::Result<(), LoginError> {
                let gone = ctx.main.execute(
                    "DELETE FROM operator_logins WHERE ticket_hash = ?1",
                    [&hash[..]],
                )?;
                if gone == 0 {
                    // The ticket was spent by a concurrent request.
                    return Err(LoginError::TicketExpired);
                }
                if let SecondFactor::Totp(step) = factor {
                    // Replay is refused under the write lock too: two requests
                    // racing with the same code cannot both pass.
                    let n = ctx.main.execute(
                        "UPDATE operators SET totp_last_step = ?2 WHERE id = ?1 AND (totp_last_step IS NULL OR totp_last_step < ?2)",
                        params![op_id, step],
                    )?;
                    if n == 0 {
                        return Err(LoginError::SecondFactor(TotpError::Replayed));
                    }
                }
                ctx.main.execute(
                    "INSERT INTO operator_sessions (id_hash, operator_id, kind, created_ms, last_seen_ms, second_factor_ms, source, user_agent)
                     VALUES (?1, ?2, ?3, ?4, ?4, ?4, ?5, ?6)",
                    params![&session_hash[..], op_id, kind, ctx.now_ms, source, user_agent],
                )?;
                crate::access_review::note_operator_use(ctx.main, &op_id, ctx.now_ms)?;
                for (subject, _) in subjects_for_success(&op_id, source.as_deref()) {
                    ctx.main.execute("DELETE FROM login_throttle WHERE subject = ?1", [subject])?;
                }
                ctx.ledger(
                    &format!("operator:{op_id}"),
                    "operator.signed_in",
                    &format!("operator:{op_id}"),
                    serde_json::json!({
                        "second_factor": match factor { SecondFactor::Totp(_) => "totp", SecondFactor::Recovery => "recovery_code" },
                        "kind": kind,
                        "source": source,
                        "session": hex::encode(&session_hash[..6]),
                    }),
                )?;
                Ok(())
            })
            .wait_blocking()?;
        Ok((session, op))
    }

    fn totp_state(&self, id: &str) -> Result<(Vec<u8>, Option<u64>)> {
        self.read(|c| {
            let (sealed, last): (Option<Vec<u8>>, Option<i64>) = c.query_row(
                "SELECT totp_sealed, totp_last_step FROM operators WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let sealed = sealed
                .ok_or_else(|| StoreError::corrupt(format!("operator {id} has no TOTP secret")))?;
            Ok((sealed, last.map(|l| l as u64)))
        })
    }

    fn open_totp(&self, id: &str, sealed: &[u8]) -> Result<TotpSecret> {
        let bytes = self.keyring_read()?.open_secret(&totp_label(id), sealed)?;
        TotpSecret::from_bytes(bytes)
            .map_err(|_| StoreError::corrupt(format!("operator {id}'s TOTP secret")))
    }

    /// Spends a matching unused recovery code; `None` when none matches.
    fn use_recovery_code(
        &self,
        id: &str,
        typed: &str,
    ) -> std::result::Result<Option<SecondFactor>, LoginError> {
        let typed = normalize_recovery_code(typed);
        let rows: Vec<(i64, String)> = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT n, hash FROM operator_recovery_codes WHERE operator_id = ?1 AND used_ms IS NULL ORDER BY n",
            )?;
            let rows = stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })?;
        for (n, hash) in rows {
            if verify_password(&typed, &hash).map_err(StoreError::from)? {
                let id = id.to_owned();
                let spent = self
                    .writer()
                    .submit(move |ctx| -> Result<usize> {
                        Ok(ctx.main.execute(
                            "UPDATE operator_recovery_codes SET used_ms = ?3 WHERE operator_id = ?1 AND n = ?2 AND used_ms IS NULL",
                            params![id, n, ctx.now_ms],
                        )?)
                    })
                    .wait_blocking()?;
                return Ok((spent == 1).then_some(SecondFactor::Recovery));
            }
        }
        Ok(None)
    }

    fn check_throttle(
        &self,
        subjects: &[(String, ThrottlePolicy)],
        now: i64,
    ) -> std::result::Result<(), LoginError> {
        let mut wait = Duration::ZERO;
        for (subject, policy) in subjects {
            let t = self.read(|c| throttle_of(c, subject))?;
            wait = wait.max(t.wait(policy, now));
        }
        if wait > Duration::ZERO {
            return Err(LoginError::Throttled {
                retry_after_secs: wait.as_secs_f64().ceil() as u64,
            });
        }
        Ok(())
    }

    fn record_failures(&self, subjects: Vec<(String, ThrottlePolicy)>) -> Pending<()> {
        self.writer().submit(move |ctx| {
            for (subject, policy) in &subjects {
                record_failure(ctx, subject, policy)?;
            }
            Ok(())
        })
    }

    /// The session behind a token, if it is still valid under `policy`; its
    /// last activity is moved on (at most every 30 s, to spare the disk).
    pub fn session(
        &self,
        token: &str,
        policy: &SessionPolicy,
    ) -> std::result::Result<OperatorSession, SessionError> {
        let hash = digest(token);
        let now = crate::writer::now_ms();
        let row: Option<(String, String, i64, i64, i64)> = self.read(|c| {
            Ok(c.query_row(
                "SELECT operator_id, kind, created_ms, last_seen_ms, second_factor_ms FROM operator_sessions WHERE id_hash = ?1",
                [&hash[..]],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .optional()?)
        })?;
        let Some((operator_id, kind, created_ms, last_seen_ms, second_factor_ms)) = row else {
            return Err(SessionError::Unknown);
        };
        let times = SessionTimes {
            created_ms,
            last_seen_ms,
            second_factor_ms,
        };
        let verdict = policy.check(&times, now);
        let op = self.operator(&operator_id)?;
        let disabled = op.as_ref().is_none_or(|o| o.disabled);
        if verdict != SessionVerdict::Valid || disabled {
            self.writer()
                .submit(move |ctx| -> Result<()> {
                    ctx.main.execute(
                        "DELETE FROM operator_sessions WHERE id_hash = ?1",
                        [&hash[..]],
                    )?;
                    Ok(())
                })
                .wait_blocking()?;
            return Err(match verdict {
                SessionVerdict::IdleExpired => SessionError::Idle(policy.idle),
                SessionVerdict::AbsoluteExpired => SessionError::Absolute(policy.absolute),
                SessionVerdict::Valid => SessionError::Disabled,
            });
        }
        let op = op.ok_or(SessionError::Disabled)?;
        // Moved on at most every 30 s (to spare the disk), and often enough
        // that a short idle limit is not cut early by the coarseness.
        let every = (policy.idle.as_millis() as i64 / 4).clamp(1_000, 30_000);
        if now - last_seen_ms >= every {
            let use_id = op.id.clone();
            let _ = self.writer().submit(move |ctx| -> Result<()> {
                ctx.main.execute(
                    "UPDATE operator_sessions SET last_seen_ms = ?2 WHERE id_hash = ?1",
                    params![&hash[..], ctx.now_ms],
                )?;
                crate::access_review::note_operator_use(ctx.main, &use_id, ctx.now_ms)?;
                Ok(())
            });
        }
        Ok(OperatorSession {
            operator: op,
            times: SessionTimes {
                last_seen_ms: now,
                ..times
            },
            handle: hex::encode(&hash[..6]),
            kind,
        })
    }

    /// Step-up: the second factor again, for a sensitive action. The session
    /// gets a fresh id (returned); the old token stops working.
    pub fn step_up(
        &self,
        token: &str,
        code: &str,
        policy: &SessionPolicy,
        source: Option<&str>,
    ) -> std::result::Result<Secret, StepUpError> {
        let session = self.session(token, policy)?;
        let id = session.operator.id.clone();
        let now = crate::writer::now_ms();
        let subjects = subjects(&id, source);
        self.check_throttle(&subjects, now).map_err(|e| match e {
            LoginError::Throttled { retry_after_secs } => {
                StepUpError::Throttled { retry_after_secs }
            }
            LoginError::Store(s) => StepUpError::Store(s),
            _ => StepUpError::Session(SessionError::Unknown),
        })?;
        let (sealed, last) = self.totp_state(&id)?;
        let secret = self.open_totp(&id, &sealed)?;
        let step = match secret.verify(code, unix_secs(now), last) {
            Ok(s) => s as i64,
            Err(e) => {
                self.record_failures(subjects).wait_blocking()?;
                return Err(StepUpError::Totp(e));
            }
        };
        let old = digest(token);
        let fresh = token_for_rotation();
        let new_hash = digest(fresh.as_str());
        self.writer()
            .submit(move |ctx| -> std::result::Result<(), StepUpError> {
                let n = ctx.main.execute(
                    "UPDATE operators SET totp_last_step = ?2 WHERE id = ?1 AND (totp_last_step IS NULL OR totp_last_step < ?2)",
                    params![id, step],
                )?;
                if n == 0 {
                    return Err(StepUpError::Totp(TotpError::Replayed));
                }
                let moved = ctx.main.execute(
                    "UPDATE operator_sessions SET id_hash = ?2, second_factor_ms = ?3, last_seen_ms = ?3 WHERE id_hash = ?1",
                    params![&old[..], &new_hash[..], ctx.now_ms],
                )?;
                if moved == 0 {
                    return Err(StepUpError::Session(SessionError::Unknown));
                }
                ctx.ledger(
                    &format!("operator:{id}"),
                    "operator.stepped_up",
                    &format!("operator:{id}"),
                    serde_json::json!({"session": hex::encode(&new_hash[..6])}),
                )?;
                Ok(())
            })
            .wait_blocking()?;
        Ok(fresh)
    }

    /// Changes the signed-in operator's password: the current one is
    /// checked (throttled like a sign-in), the new one must pass the policy,
    /// and every other session of the operator ends. Returns how many ended.
    pub fn change_password(
        &self,
        session: &OperatorSession,
        current: &str,
        new: &str,
        source: Option<&str>,
    ) -> std::result::Result<usize, PasswordChangeError> {
        let op = &session.operator;
        let now = crate::writer::now_ms();
        let subjects = subjects(&op.id, source);
        self.check_throttle(&subjects, now)?;
        let hash: Option<String> = self.read(|c| {
            Ok(c.query_row(
                "SELECT password_hash FROM operators WHERE id = ?1",
                [&op.id],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
        })?;
        let ok = match &hash {
            Some(h) => verify_password(current, h).map_err(StoreError::from)?,
            None => false,
        };
        if !ok {
            self.record_failures(subjects).wait_blocking()?;
            return Err(PasswordChangeError::WrongCurrent);
        }
        let mut context = vec![op.id.as_str(), op.name.as_str()];
        if let Some(m) = &op.email {
            context.push(m);
        }
        check_new_password(new, &context)?;
        let new_hash =
            hash_password(new, self.password_cost(), &mut OsRng).map_err(StoreError::from)?;
        let (id, keep) = (op.id.clone(), session.handle.clone());
        let ended = self
            .writer()
            .submit(move |ctx| -> Result<usize> {
                ctx.main.execute(
                    "UPDATE operators SET password_hash = ?2 WHERE id = ?1",
                    params![id, new_hash],
                )?;
                let mut ended = 0;
                let hashes: Vec<Vec<u8>> = {
                    let mut stmt = ctx
                        .main
                        .prepare("SELECT id_hash FROM operator_sessions WHERE operator_id = ?1")?;
                    let rows = stmt.query_map([&id], |r| r.get::<_, Vec<u8>>(0))?;
                    rows.collect::<rusqlite::Result<_>>()?
                };
                for h in hashes {
                    if hex::encode(&h[..6.min(h.len())]) != keep {
                        ended += ctx
                            .main
                            .execute("DELETE FROM operator_sessions WHERE id_hash = ?1", [&h])?;
                    }
                }
                ctx.ledger(
                    &format!("operator:{id}"),
                    "operator.password_changed",
                    &format!("operator:{id}"),
                    serde_json::json!({"other_sessions_ended": ended}),
                )?;
                Ok(ended)
            })
            .wait_blocking()?;
        Ok(ended)
    }

    /// Signs out: the session is deleted.
    pub fn logout(&self, token: &str) -> Result<bool> {
        let hash = digest(token);
        self.writer()
            .submit(move |ctx| {
                let row: Option<String> = ctx
                    .main
                    .query_row(
                        "SELECT operator_id FROM operator_sessions WHERE id_hash = ?1",
                        [&hash[..]],
                        |r| r.get(0),
                    )
                    .optional()?;
                let Some(op) = row else { return Ok(false) };
                ctx.main.execute(
                    "DELETE FROM operator_sessions WHERE id_hash = ?1",
                    [&hash[..]],
                )?;
                ctx.ledger(
                    &format!("operator:{op}"),
                    "operator.signed_out",
                    &format!("operator:{op}"),
                    serde_json::json!({"session": hex::encode(&hash[..6])}),
                )?;
                Ok(true)
            })
            .wait_blocking()
    }

    /// Sessions, of one operator or of all.
    pub fn sessions(&self, operator: Option<&str>) -> Result<Vec<SessionSummary>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id_hash, operator_id, kind, created_ms, last_seen_ms, source, user_agent FROM operator_sessions
                 WHERE (?1 IS NULL OR operator_id = ?1) ORDER BY created_ms",
            )?;
            let rows = stmt.query_map([operator], |r| {
                let hash: Vec<u8> = r.get(0)?;
                Ok(SessionSummary {
                    handle: hex::encode(&hash[..6.min(hash.len())]),
                    operator: r.get(1)?,
                    kind: r.get(2)?,
                    created_ms: r.get(3)?,
                    last_seen_ms: r.get(4)?,
                    source: r.get(5)?,
                    user_agent: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Ends a session by its handle; `operator` restricts it to that operator's
    /// own sessions (an administrator passes `None`). Returns whether one ended.
    pub fn end_session(&self, handle: &str, operator: Option<&str>, actor: &str) -> Result<bool> {
        let (handle, operator, actor) = (
            handle.to_owned(),
            operator.map(str::to_owned),
            actor.to_owned(),
        );
        self.writer()
            .submit(move |ctx| {
                let rows: Vec<(Vec<u8>, String)> = {
                    let mut stmt = ctx.main.prepare(
                        "SELECT id_hash, operator_id FROM operator_sessions WHERE (?1 IS NULL OR operator_id = ?1)",
                    )?;
                    let rows = stmt.query_map([&operator], |r| Ok((r.get(0)?, r.get(1)?)))?;
                    rows.collect::<rusqlite::Result<_>>()?
                };
                let Some((hash, owner)) = rows.into_iter().find(|(h, _)| hex::encode(&h[..6.min(h.len())]) == handle) else {
                    return Ok(false);
                };
                ctx.main.execute("DELETE FROM operator_sessions WHERE id_hash = ?1", [&hash])?;
                ctx.ledger(
                    &actor,
                    "operator.session_ended",
                    &format!("operator:{owner}"),
                    serde_json::json!({"session": handle}),
                )?;
                Ok(true)
            })
            .wait_blocking()
    }
}

fn token_for_rotation() -> Secret {
    token("bws_")
}

fn subjects_for_success(account: &str, source: Option<&str>) -> Vec<(String, ThrottlePolicy)> {
    // Success clears this account's counts from this source, not the source's
    // count against other accounts.
    subjects(account, source)
        .into_iter()
        .filter(|(s, _)| !s.starts_with("source:"))
        .collect()
}

#[derive(Clone, Copy)]
enum SecondFactor {
    Totp(i64),
    Recovery,
}

fn issue_enrolment(ctx: &mut WriteCtx<'_>, id: &str, hash: &[u8; 32], actor: &str) -> Result<()> {
    // One live link per operator: earlier unused ones stop working.
    ctx.main.execute(
        "UPDATE operator_enrolments SET used_ms = ?2 WHERE operator_id = ?1 AND used_ms IS NULL",
        params![id, ctx.now_ms],
    )?;
    ctx.main.execute(
        "INSERT INTO operator_enrolments (token_hash, operator_id, created_ms, expires_ms, created_by) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![&hash[..], id, ctx.now_ms, ctx.now_ms + ENROLMENT_LIFETIME.as_millis() as i64, actor],
    )?;
    ctx.ledger(
        actor,
        "operator.enrolment_issued",
        &format!("operator:{id}"),
        serde_json::json!({"expires_in_hours": ENROLMENT_LIFETIME.as_secs() / 3600}),
    )?;
    Ok(())
}

enum EnrolLookup {
    Unknown,
    Store(StoreError),
}

impl From<StoreError> for EnrolLookup {
    fn from(e: StoreError) -> Self {
        EnrolLookup::Store(e)
    }
}

impl From<rusqlite::Error> for EnrolLookup {
    fn from(e: rusqlite::Error) -> Self {
        EnrolLookup::Store(e.into())
    }
}

impl From<EnrolLookup> for EnrolError {
    fn from(e: EnrolLookup) -> Self {
        match e {
            EnrolLookup::Unknown => EnrolError::UnknownLink,
            EnrolLookup::Store(s) => EnrolError::Store(s),
        }
    }
}

type EnrolRow = (String, i64, bool, Option<Vec<u8>>);

fn enrolment_row(
    c: &rusqlite::Connection,
    hash: &[u8; 32],
) -> std::result::Result<EnrolRow, EnrolLookup> {
    c.query_row(
        "SELECT operator_id, expires_ms, used_ms IS NOT NULL, totp_sealed FROM operator_enrolments WHERE token_hash = ?1",
        [&hash[..]],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )
    .optional()?
    .ok_or(EnrolLookup::Unknown)
}

/// Disables operator `id` inside a writer job (also the access review's
/// revocation): sessions, sign-in tickets and enrolment links end with it.
/// Returns the number of sessions ended.
pub(crate) fn disable_in(
    ctx: &mut crate::WriteCtx<'_>,
    id: &str,
    reason: Option<String>,
    actor: &str,
) -> Result<usize> {
    ctx.main.execute(
        "UPDATE operators SET disabled_ms = coalesce(disabled_ms, ?2) WHERE id = ?1",
        params![id, ctx.now_ms],
    )?;
    let ended = ctx
        .main
        .execute("DELETE FROM operator_sessions WHERE operator_id = ?1", [id])?;
    ctx.main
        .execute("DELETE FROM operator_logins WHERE operator_id = ?1", [id])?;
    ctx.main.execute(
        "UPDATE operator_enrolments SET used_ms = coalesce(used_ms, ?2) WHERE operator_id = ?1",
        params![id, ctx.now_ms],
    )?;
    ctx.ledger(
        actor,
        "operator.disabled",
        &format!("operator:{id}"),
        serde_json::json!({"sessions_ended": ended, "reason": reason}),
    )?;
    Ok(ended)
}
