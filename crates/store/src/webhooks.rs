//! The store's own webhooks (checkout.pause, sessions.revoke_all, …) that
//! containment calls. Signing secrets are sealed under the root key and shown
//! once, when a webhook is added.

use bulwark_vault::VaultError;
use rand::rngs::OsRng;
use rand::RngCore;
use rusqlite::params;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::error::{Result, StoreError};
use crate::{Store, ValidationErrors};

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Webhook {
    pub id: String,
    pub event: String,
    pub url: String,
    pub created_at_ms: i64,
    pub created_by: String,
}

/// A webhook ready to call: the URL and its signing secret (wiped on drop).
pub struct WebhookTarget {
    pub id: String,
    pub url: String,
    pub secret: Zeroizing<Vec<u8>>,
}

/// Why a webhook could not be registered.
#[derive(Debug, thiserror::Error)]
pub enum AddWebhookError {
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why calling the store's webhooks for an event did not succeed. Outcomes name
/// the webhook and the HTTP status or connection error, never the secret.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("no webhook is registered for `{0}` (bulwark webhooks add)")]
    NoneRegistered(String),
    #[error("{outcomes}")]
    Refused { outcomes: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn label(id: &str) -> String {
    format!("webhook:{id}")
}

impl Store {
    /// Registers a webhook for `event`; returns it and its signing secret (hex), shown once.
    pub fn add_webhook(
        &self,
        event: &str,
        url: &str,
        actor: &str,
    ) -> Result<(Webhook, Zeroizing<String>), AddWebhookError> {
        let mut errors = ValidationErrors::default();
        if event.is_empty()
            || event.len() > 64
            || !event.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            })
        {
            errors.push(
                "event",
                "expected a name like checkout.pause (a-z, 0-9, . _ -)",
            );
        }
        if !(url.starts_with("https://") || url.starts_with("http://"))
            || url.len() > 2048
            || url.chars().any(char::is_whitespace)
        {
            errors.push("url", "expected an http(s) URL");
        }
        errors.into_result()?;
        let mut idb = [0u8; 6];
        OsRng.fill_bytes(&mut idb);
        let id = hex::encode(idb);
        let mut raw = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(&mut raw[..]);
        let sealed = self
            .keyring_read()?
            .seal_secret(&label(&id), &raw[..], &mut OsRng);
        let secret = Zeroizing::new(hex::encode(&raw[..]));
        let hook = Webhook {
            id: id.clone(),
            event: event.to_owned(),
            url: url.to_owned(),
            created_at_ms: 0,
            created_by: actor.to_owned(),
        };
        let (h, actor) = (hook.clone(), actor.to_owned());
        let created = self
            .writer()
            .submit(move |ctx| -> Result<i64> {
                ctx.main.execute(
                    "INSERT INTO webhooks (id, event, url, secret, created_at_ms, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![h.id, h.event, h.url, sealed, ctx.now_ms, actor],
                )?;
                ctx.ledger(&actor, "webhook.added", &format!("webhook:{}", h.id), serde_json::json!({"event": h.event, "url": h.url}))?;
                Ok(ctx.now_ms)
            })
            .wait_blocking()?;
        Ok((
            Webhook {
                created_at_ms: created,
                ..hook
            },
            secret,
        ))
    }

    pub fn list_webhooks(&self) -> Result<Vec<Webhook>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT id, event, url, created_at_ms, created_by FROM webhooks ORDER BY event, id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(Webhook {
                    id: r.get(0)?,
                    event: r.get(1)?,
                    url: r.get(2)?,
                    created_at_ms: r.get(3)?,
                    created_by: r.get(4)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    /// The webhooks registered for `event`, secrets opened.
    pub fn webhook_targets(&self, event: &str) -> Result<Vec<WebhookTarget>> {
        let rows: Vec<(String, String, Vec<u8>)> = self.read(|c| {
            let mut stmt =
                c.prepare("SELECT id, url, secret FROM webhooks WHERE event = ?1 ORDER BY id")?;
            let rows = stmt.query_map([event], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })?;
        let kr = self.keyring_read()?;
        rows.into_iter()
            .map(|(id, url, sealed)| {
                let secret = kr
                    .open_secret(&label(&id), &sealed)
                    .map_err(|e: VaultError| StoreError::Vault(e))?;
                Ok(WebhookTarget { id, url, secret })
            })
            .collect()
    }
}
