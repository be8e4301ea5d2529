//! The access review as a workflow (PCI DSS 7.2.4, 8.2.6): every live API key
//! and every operator account with its grants and last use, the accounts
//! inactive for 90 days first; each kept or revoked with a reason, signed off
//! by an operator who holds the owner role of the duties the review
//! completes. A revoked key stops working; a revoked operator is disabled
//! (sessions ended, no sign-in). One ledger entry, `access_review.signed_off`,
//! records the decisions, which is what completes the calendar's duties.

use std::collections::{HashMap, HashSet};

use bulwark_access::{OperatorRole, OperatorRoles};
use bulwark_learn::{Calendar, EvidenceKind};
use bulwark_model::Role;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::review::ReviewDecision;
use crate::validate::ValidationErrors;
use crate::{Pending, Store, StoreError};

/// PCI DSS 8.2.6: accounts unused for this long are removed or disabled.
pub const INACTIVE_DAYS: i64 = 90;

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    ApiKey,
    Operator,
}

/// One account under review: `subject` is `key:<id>` or `operator:<id>`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewItem {
    pub subject: String,
    pub kind: AccountKind,
    pub name: String,
    /// Scopes of a key, role codes of an operator.
    pub grants: Vec<String>,
    /// Last request (key) or last sign-in or session use (operator).
    pub last_used_ms: Option<i64>,
    /// Days since last use, or since creation if never used.
    pub idle_days: i64,
    /// Unused for at least 90 days (PCI DSS 8.2.6).
    pub inactive: bool,
    /// A key's grants never exercised (empty for operators).
    pub unexercised: Vec<String>,
}

/// A decision on one account, by subject.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AccountDecision {
    /// `key:<id>` or `operator:<id>`, as listed.
    pub subject: String,
    pub decision: ReviewDecision,
    /// Why (1 to 2,000 characters).
    pub reason: String,
}

/// What a sign-off did.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignOffOutcome {
    pub keys_revoked: usize,
    pub operators_disabled: usize,
    pub sessions_ended: usize,
    /// The calendar duties the sign-off completes.
    pub duties: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SignOffError {
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationErrors),
    /// The reviewer does not hold the owner role of a duty the review completes.
    #[error("signing off needs the owner role `{owner}` of duty `{duty}`")]
    NotOwner { duty: String, owner: String },
    /// The reviewer's account is unknown, disabled or not enrolled.
    #[error("the reviewer is not an active operator")]
    NoReviewer,
    /// Accounts on the review without a decision: the review is incomplete.
    #[error("{0} account(s) on the review have no decision")]
    Undecided(usize),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The operator roles that hold a duty's `owner`: a role's own code, or
/// `management` (the executive sponsor acknowledges for management, 7.2.4)
/// and `it` (the security lead or an administrator).
pub fn owner_roles(owner: &str) -> Vec<OperatorRole> {
    match owner {
        "management" => vec![OperatorRole::Team(Role::ExecutiveSponsor)],
        "it" => vec![OperatorRole::Team(Role::SecurityLead), OperatorRole::Admin],
        other => other.parse::<OperatorRole>().into_iter().collect(),
    }
}

/// The duties an access review completes, with their owners.
fn review_duties(calendar: &Calendar) -> Vec<(String, String)> {
    calendar
        .duties()
        .filter(|d| d.evidence.contains(&EvidenceKind::AccessReview))
        .map(|d| (d.id.clone(), d.owner.clone()))
        .collect()
}

fn idle(now: i64, since: i64) -> i64 {
    (now - since).max(0) / DAY_MS
}

/// Every live key and every operator not disabled, inactive first (most
/// idle first), then by subject.
fn review_items(c: &rusqlite::Connection, now: i64) -> Result<Vec<ReviewItem>> {
    let mut used: HashMap<String, HashSet<String>> = HashMap::new();
    let mut stmt = c.prepare("SELECT key_id, scope FROM api_key_scope_use")?;
    for r in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (k, s) = r?;
        used.entry(k).or_default().insert(s);
    }
    let mut out = Vec::new();
    let mut stmt = c.prepare(
        "SELECT id, name, scopes, created_at_ms, last_used_ms FROM api_keys
         WHERE revoked_at_ms IS NULL",
    )?;
    let keys = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, Option<i64>>(4)?,
        ))
    })?;
    for k in keys {
        let (id, name, scopes, created, last) = k?;
        let grants: Vec<String> = serde_json::from_str(&scopes)
            .map_err(|_| StoreError::corrupt(format!("API key {id}: its scopes")))?;
        let exercised = used.get(&id);
        let unexercised = grants
            .iter()
            .filter(|g| exercised.is_none_or(|e| !e.contains(*g)))
            .cloned()
            .collect();
        let idle_days = idle(now, last.unwrap_or(created));
        out.push(ReviewItem {
            subject: format!("key:{id}"),
            kind: AccountKind::ApiKey,
            name,
            grants,
            last_used_ms: last,
            idle_days,
            inactive: idle_days >= INACTIVE_DAYS,
            unexercised,
        });
    }
    // Last use of an operator: the tracked sign-in/session use, or a live
    // session's activity (sessions are deleted when they end, so the table
    // `operator_last_use` keeps what they would lose).
    let mut stmt = c.prepare(
        "SELECT o.id, o.name, o.roles, o.created_ms,
                max(coalesce(u.last_used_ms, 0), coalesce((SELECT max(last_seen_ms) FROM operator_sessions s WHERE s.operator_id = o.id), 0))
         FROM operators o LEFT JOIN operator_last_use u ON u.operator_id = o.id
         WHERE o.disabled_ms IS NULL",
    )?;
    let ops = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    for o in ops {
        let (id, name, roles, created, last) = o?;
        let roles: OperatorRoles = serde_json::from_str(&roles)
            .map_err(|_| StoreError::corrupt(format!("operator {id}: its roles")))?;
        let last = (last > 0).then_some(last);
        let idle_days = idle(now, last.unwrap_or(created));
        out.push(ReviewItem {
            subject: format!("operator:{id}"),
            kind: AccountKind::Operator,
            name,
            grants: roles.codes().into_iter().map(str::to_owned).collect(),
            last_used_ms: last,
            idle_days,
            inactive: idle_days >= INACTIVE_DAYS,
            unexercised: Vec::new(),
        });
    }
    out.sort_by(|a, b| {
        b.inactive
            .cmp(&a.inactive)
            .then(b.idle_days.cmp(&a.idle_days))
            .then(a.subject.cmp(&b.subject))
    });
    Ok(out)
}

impl Store {
    /// The accounts to review now, inactive first.
    pub fn access_review(&self) -> Result<Vec<ReviewItem>> {
        let now = crate::writer::now_ms();
        self.read(|c| review_items(c, now))
    }

    /// Signs off a complete review by operator `reviewer`: every listed
    /// account decided with a reason, the reviewer holding the owner role of
    /// each duty the review completes (checked under the write lock, so a
    /// role removed meanwhile counts). Refused sign-offs change nothing.
    pub fn sign_off_review(
        &self,
        calendar: &Calendar,
        decisions: Vec<AccountDecision>,
        reviewer: &str,
    ) -> Pending<SignOffOutcome, SignOffError> {
        let duties = review_duties(calendar);
        let reviewer = reviewer.to_owned();
        self.writer().submit(move |ctx| {
            let roles: Option<(String, bool)> = ctx
                .main
                .query_row(
                    "SELECT roles, disabled_ms IS NULL AND enrolled_ms IS NOT NULL FROM operators WHERE id = ?1",
                    [&reviewer],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(StoreError::from)?;
            let Some((roles, true)) = roles else {
                return Err(SignOffError::NoReviewer);
            };
            let roles: OperatorRoles = serde_json::from_str(&roles)
                .map_err(|_| StoreError::corrupt(format!("operator {reviewer}: its roles")))?;
            for (duty, owner) in &duties {
                if !owner_roles(owner).into_iter().any(|r| roles.has(r)) {
                    return Err(SignOffError::NotOwner {
                        duty: duty.clone(),
                        owner: owner.clone(),
                    });
                }
            }
            let items = review_items(ctx.main, ctx.now_ms)?;
            let listed: HashSet<&str> = items.iter().map(|i| i.subject.as_str()).collect();
            let mut e = ValidationErrors::default();
            let mut seen = HashSet::new();
            for (i, d) in decisions.iter().enumerate() {
                if !listed.contains(d.subject.as_str()) {
                    e.push(format!("decisions[{i}].subject"), "not an account on the review");
                } else if !seen.insert(d.subject.as_str()) {
                    e.push(format!("decisions[{i}].subject"), "decided twice");
                }
                if d.reason.trim().is_empty() || d.reason.chars().count() > 2000 {
                    e.push(format!("decisions[{i}].reason"), "a reason of 1 to 2,000 characters");
                }
            }
            e.into_result()?;
            let undecided = listed.len() - seen.len();
            if undecided > 0 {
                return Err(SignOffError::Undecided(undecided));
            }
            let actor = format!("operator:{reviewer}");
            let mut out = SignOffOutcome {
                keys_revoked: 0,
                operators_disabled: 0,
                sessions_ended: 0,
                duties: duties.iter().map(|(d, _)| d.clone()).collect(),
            };
            for d in decisions.iter().filter(|d| d.decision == ReviewDecision::Revoke) {
                if let Some(key) = d.subject.strip_prefix("key:") {
                    out.keys_revoked += ctx.main.execute(
                        "UPDATE api_keys SET revoked_at_ms = ?2, revoked_by = ?3 WHERE id = ?1 AND revoked_at_ms IS NULL",
                        params![key, ctx.now_ms, actor],
                    ).map_err(StoreError::from)?;
                } else if let Some(op) = d.subject.strip_prefix("operator:") {
                    out.sessions_ended +=
                        crate::operators::disable_in(ctx, op, Some(d.reason.clone()), &actor)?;
                    out.operators_disabled += 1;
                }
            }
            ctx.ledger(
                &actor,
                "access_review.signed_off",
                "accounts",
                serde_json::json!({"decisions": decisions, "keys_revoked": out.keys_revoked,
                    "operators_disabled": out.operators_disabled, "duties": out.duties}),
            )?;
            Ok(out)
        })
    }
}

/// Notes an operator's use (sign-in or an active session) for the review.
pub(crate) fn note_operator_use(c: &rusqlite::Connection, id: &str, now_ms: i64) -> Result<()> {
    c.execute(
        "INSERT INTO operator_last_use (operator_id, last_used_ms) VALUES (?1, ?2)
         ON CONFLICT (operator_id) DO UPDATE SET last_used_ms = max(last_used_ms, excluded.last_used_ms)",
        params![id, now_ms],
    )?;
    Ok(())
}
