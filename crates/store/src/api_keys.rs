//! Least-privilege API keys: issued once, stored as a hash, compared in constant
//! time, revocable, and reviewable (which keys and grants are never used).

use std::collections::HashMap;
use std::sync::Mutex;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use bulwark_model::{Scope, Scopes};
use rand::rngs::OsRng;
use rand::RngCore;
use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{Result, StoreError};
use crate::writer::now_ms;
use crate::{Pending, Store};

/// Who is acting: an API key, or the local operator running the CLI.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Stable id used in the access log and ledger: `key:<id>`, `operator:<id>`
    /// (a signed-in operator) or `owner:<user>` (the machine owner at the CLI).
    pub id: String,
    pub name: String,
    pub key_id: Option<String>,
    pub scopes: Scopes,
}

impl Principal {
    /// The machine's owner: someone at the shell with the data directory and
    /// its unlock secret. The CLI acts with every grant, recorded as
    /// `owner:<user>` (an operator signs in and acts as `operator:<id>`).
    pub fn machine_owner(user: &str) -> Principal {
        let all = [Scope::Admin, Scope::VaultRevealAll, Scope::VaultBreakGlass];
        Principal {
            id: format!("owner:{user}"),
            name: user.to_owned(),
            key_id: None,
            scopes: Scopes::new(all),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub name: String,
    pub scopes: Scopes,
    pub expires_at_ms: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyInfo {
    pub id: String,
    pub name: String,
    pub scopes: Scopes,
    pub created_at_ms: i64,
    pub created_by: String,
    pub expires_at_ms: Option<i64>,
    pub revoked_at_ms: Option<i64>,
    pub last_used_ms: Option<i64>,
}

/// One key in an access review.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyReview {
    pub key: ApiKeyInfo,
    /// Days since last use, or since creation if never used.
    pub idle_days: i64,
    pub never_used: bool,
    /// Grants this key holds but has never exercised: candidates for removal.
    pub unexercised_scopes: Vec<Scope>,
}

/// Why a presented key was refused. Deliberately coarse towards the caller.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing or malformed API key")]
    Malformed,
    #[error("unknown or wrong API key")]
    Unknown,
    #[error("API key revoked")]
    Revoked,
    #[error("API key expired")]
    Expired,
    /// The key could not be checked at all (not the caller's fault).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a key could not be issued.
#[derive(Debug, thiserror::Error)]
pub enum CreateKeyError {
    #[error("invalid input: {0}")]
    Invalid(#[from] crate::ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a key could not be revoked.
#[derive(Debug, thiserror::Error)]
pub enum RevokeKeyError {
    #[error("API key {0} not found")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

const PREFIX: &str = "bwk_";

fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

fn key_from_row(r: &Row<'_>) -> rusqlite::Result<ApiKeyInfo> {
    let scopes: String = r.get(2)?;
    Ok(ApiKeyInfo {
        id: r.get(0)?,
        name: r.get(1)?,
        scopes: serde_json::from_str(&scopes).unwrap_or_default(),
        created_at_ms: r.get(3)?,
        created_by: r.get(4)?,
        expires_at_ms: r.get(5)?,
        revoked_at_ms: r.get(6)?,
        last_used_ms: r.get(7)?,
    })
}

const KEY_COLUMNS: &str =
    "id, name, scopes, created_at_ms, created_by, expires_at_ms, revoked_at_ms, last_used_ms";

/// A new key's secret: shown once, stored only as its hash.
pub(crate) fn mint() -> (String, Zeroizing<String>, [u8; 32]) {
    let mut id = [0u8; 6];
    OsRng.fill_bytes(&mut id);
    let mut secret = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(&mut secret[..]);
    let id = hex::encode(id);
    let secret = Zeroizing::new(B64URL.encode(&secret[..]));
    let hash = hash_secret(&secret);
    let token = Zeroizing::new(format!("{PREFIX}{id}_{}", secret.as_str()));
    (id, token, hash)
}

pub(crate) fn insert_key(
    conn: &rusqlite::Connection,
    id: &str,
    hash: &[u8; 32],
    new: &NewApiKey,
    created_by: &str,
    now_ms: i64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO api_keys (id, name, secret_hash, scopes, created_at_ms, created_by, expires_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            id,
            new.name,
            &hash[..],
            serde_json::to_string(&new.scopes).map_err(|e| StoreError::corrupt(format!("scopes: {e}")))?,
            now_ms,
            created_by,
            new.expires_at_ms
        ],
    )?;
    Ok(())
}

impl Store {
    /// Issues a key. The returned token is the only copy of the secret.
    pub fn create_key(
        &self,
        new: NewApiKey,
        actor: &str,
    ) -> Pending<(ApiKeyInfo, Zeroizing<String>), CreateKeyError> {
        let actor = actor.to_owned();
        self.writer().submit(move |ctx| {
            let name = new.name.trim();
            if name.is_empty() || name.len() > 128 || name.chars().any(char::is_control) {
                let mut e = crate::ValidationErrors::default();
                e.push("name", "expected 1 to 128 printable characters");
                return Err(CreateKeyError::Invalid(e));
            }
            if new.scopes.0.is_empty() {
                let mut e = crate::ValidationErrors::default();
                e.push("scopes", "a key needs at least one scope");
                return Err(CreateKeyError::Invalid(e));
            }
            let (id, token, hash) = mint();
            insert_key(ctx.main, &id, &hash, &new, &actor, ctx.now_ms)?;
            ctx.ledger(
                &actor,
                "key.created",
                &format!("key:{id}"),
                serde_json::json!({"name": name, "scopes": new.scopes, "expires_at_ms": new.expires_at_ms}),
            )?;
            let info = ApiKeyInfo {
                id,
                name: name.to_owned(),
                scopes: new.scopes,
                created_at_ms: ctx.now_ms,
                created_by: actor,
                expires_at_ms: new.expires_at_ms,
                revoked_at_ms: None,
                last_used_ms: None,
            };
            Ok((info, token))
        })
    }

    pub fn list_keys(&self) -> Result<Vec<ApiKeyInfo>> {
        self.read(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at_ms, id"
            ))?;
            let rows = stmt.query_map([], key_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// Revokes a key; it fails on its very next request.
    pub fn revoke_key(
        &self,
        id: &str,
        actor: &str,
        reason: Option<String>,
    ) -> Pending<(), RevokeKeyError> {
        let (id, actor) = (id.trim_start_matches("key:").to_owned(), actor.to_owned());
        self.writer().submit(move |ctx| {
            let n = ctx
                .main
                .execute(
                    "UPDATE api_keys SET revoked_at_ms = ?2, revoked_by = ?3 WHERE id = ?1 AND revoked_at_ms IS NULL",
                    params![id, ctx.now_ms, actor],
                )
                .map_err(StoreError::from)?;
            if n == 0 {
                let exists: Option<i64> = ctx
                    .main
                    .query_row("SELECT 1 FROM api_keys WHERE id = ?1", [&id], |r| r.get(0))
                    .optional()
                    .map_err(StoreError::from)?;
                if exists.is_none() {
                    return Err(RevokeKeyError::NotFound(id));
                }
                return Ok(());
            }
            ctx.ledger(&actor, "key.revoked", &format!("key:{id}"), serde_json::json!({"reason": reason}))?;
            Ok(())
        })
    }

    /// Checks a presented `bwk_<id>_<secret>` token. The secret's hash is compared
    /// in constant time; the id only selects the row.
    pub fn authenticate(&self, token: &str) -> std::result::Result<Principal, AuthError> {
        let rest = token.strip_prefix(PREFIX).ok_or(AuthError::Malformed)?;
        let (id, secret) = rest.split_once('_').ok_or(AuthError::Malformed)?;
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_hexdigit()) || secret.is_empty() {
            return Err(AuthError::Malformed);
        }
        let row = self
            .read(|c| {
                let mut stmt = c.prepare_cached(
                    "SELECT secret_hash, name, scopes, revoked_at_ms, expires_at_ms FROM api_keys WHERE id = ?1",
                )?;
                Ok(stmt
                    .query_row([id], |r| {
                        Ok((
                            r.get::<_, Vec<u8>>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, Option<i64>>(3)?,
                            r.get::<_, Option<i64>>(4)?,
                        ))
                    })
                    .optional()?)
            })?;
        let presented = hash_secret(secret);
        let Some((stored, name, scopes, revoked, expires)) = row else {
            // Same work as a hit, so timing does not reveal which ids exist.
            let _ = presented.ct_eq(&[0u8; 32]);
            return Err(AuthError::Unknown);
        };
        if !bool::from(presented.ct_eq(stored.as_slice())) {
            return Err(AuthError::Unknown);
        }
        if revoked.is_some() {
            return Err(AuthError::Revoked);
        }
        if expires.is_some_and(|e| e <= now_ms()) {
            return Err(AuthError::Expired);
        }
        Ok(Principal {
            id: format!("key:{id}"),
            name,
            key_id: Some(id.to_owned()),
            scopes: serde_json::from_str(&scopes)
                .map_err(|_| StoreError::corrupt(format!("API key {id}: its scopes")))?,
        })
    }

    /// The access review: keys idle for at least `idle_days` (or never used), and
    /// for every live key the grants it has never exercised.
    pub fn review_keys(&self, idle_days: i64) -> Result<Vec<KeyReview>> {
        let now = now_ms();
        let keys = self.list_keys()?;
        let used: HashMap<String, Vec<String>> = self.read(|c| {
            let mut stmt = c.prepare("SELECT key_id, scope FROM api_key_scope_use")?;
            let mut map: HashMap<String, Vec<String>> = HashMap::new();
            for r in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
                let (k, s) = r?;
                map.entry(k).or_default().push(s);
            }
            Ok(map)
        })?;
        let day = 86_400_000;
        let mut out = Vec::new();
        for key in keys.into_iter().filter(|k| k.revoked_at_ms.is_none()) {
            let since = key.last_used_ms.unwrap_or(key.created_at_ms);
            let idle_days_k = (now - since).max(0) / day;
            let exercised = used.get(&key.id).cloned().unwrap_or_default();
            let unexercised: Vec<Scope> = key
                .scopes
                .iter()
                .filter(|s| !exercised.contains(&s.to_string()))
                .copied()
                .collect();
            if idle_days_k >= idle_days || !unexercised.is_empty() {
                out.push(KeyReview {
                    never_used: key.last_used_ms.is_none(),
                    idle_days: idle_days_k,
                    unexercised_scopes: unexercised,
                    key,
                });
            }
        }
        Ok(out)
    }
}

/// Remembers which keys used which grants, and writes it out in batches: one
/// write per request would cost more than the request. A crash loses at most
/// one flush interval of usage data, which an access review measured in days tolerates.
#[derive(Default)]
pub struct UsageTracker {
    seen: Mutex<HashMap<(String, String), i64>>,
}

impl UsageTracker {
    pub fn note(&self, principal: &Principal, grant: Scope) {
        let Some(id) = &principal.key_id else { return };
        if let Ok(mut seen) = self.seen.lock() {
            seen.insert((id.clone(), grant.to_string()), now_ms());
        }
    }

    pub fn flush(&self, store: &Store) -> Pending<()> {
        let batch: Vec<((String, String), i64)> = match self.seen.lock() {
            Ok(mut seen) => seen.drain().collect(),
            Err(_) => Vec::new(),
        };
        store.writer().submit(move |ctx| {
            for ((key, scope), at) in &batch {
                ctx.main.execute(
                    "INSERT INTO api_key_scope_use (key_id, scope, last_used_ms) VALUES (?1, ?2, ?3)
                     ON CONFLICT (key_id, scope) DO UPDATE SET last_used_ms = max(last_used_ms, excluded.last_used_ms)",
                    params![key, scope, at],
                )?;
                ctx.main.execute(
                    "UPDATE api_keys SET last_used_ms = max(coalesce(last_used_ms, 0), ?2) WHERE id = ?1",
                    params![key, at],
                )?;
            }
            Ok(())
        })
    }
}
