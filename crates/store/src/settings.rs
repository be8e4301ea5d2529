//! Vault settings kept in `meta`: changed by operators, read in the writer's transaction.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use crate::error::Result;
use crate::{Pending, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Settings {
    /// While on, reveals need `vault:break-glass`.
    pub lockdown: bool,
    /// Ciphertexts sealed under an older data-key version are refused.
    pub min_decryption_version: u32,
    /// PCI DSS forbids keeping security codes after authorisation; off by default.
    pub store_card_security_code: bool,
}

fn get(conn: &Connection, table: &str, key: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            &format!("SELECT value FROM {table} WHERE key = ?1"),
            [key],
            |r| r.get(0),
        )
        .optional()?)
}

impl Settings {
    pub(crate) fn load(conn: &Connection) -> Result<Settings> {
        Self::load_from(conn, "meta")
    }

    fn load_from(conn: &Connection, table: &str) -> Result<Settings> {
        Ok(Settings {
            lockdown: get(conn, table, "lockdown")?.as_deref() == Some("on"),
            min_decryption_version: get(conn, table, "min_decryption_version")?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            store_card_security_code: get(conn, table, "store_card_security_code")?.as_deref()
                == Some("on"),
        })
    }
}

pub(crate) fn put(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// Why the minimum decryption version was not raised.
#[derive(Debug, thiserror::Error)]
pub enum SetMinVersionError {
    #[error("{remaining} ciphertexts are still sealed below version {version}; run `bulwark keys rewrap` first")]
    VersionsRemain { remaining: u64, version: u32 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    pub fn settings(&self) -> Result<Settings> {
        self.read(Settings::load)
    }

    /// Switches lockdown; the switch and who made it go to the ledger.
    pub fn set_lockdown(&self, on: bool, actor: &str, reason: Option<String>) -> Pending<bool> {
        let actor = actor.to_owned();
        self.writer().submit(move |ctx| {
            let before = Settings::load(ctx.main)?.lockdown;
            put(ctx.main, "lockdown", on_off(on))?;
            ctx.forget_settings();
            ctx.ledger(
                &actor,
                if on {
                    "vault.lockdown.on"
                } else {
                    "vault.lockdown.off"
                },
                "vault",
                serde_json::json!({"was": on_off(before), "reason": reason}),
            )?;
            Ok(before != on)
        })
    }

    pub fn set_store_card_security_code(&self, on: bool, actor: &str) -> Pending<()> {
        let actor = actor.to_owned();
        self.writer().submit(move |ctx| {
            put(ctx.main, "store_card_security_code", on_off(on))?;
            ctx.forget_settings();
            ctx.ledger(
                &actor,
                "config.changed",
                "store_card_security_code",
                serde_json::json!({"value": on_off(on)}),
            )?;
            Ok(())
        })
    }

    /// Refuses to raise the minimum above a version that still seals data, unless `force`.
    pub fn set_min_decryption_version(
        &self,
        version: u32,
        force: bool,
        actor: &str,
    ) -> Pending<(), SetMinVersionError> {
        let actor = actor.to_owned();
        self.writer()
            .submit(move |ctx| {
                let remaining: i64 = ctx
                    .main
                    .query_row(
                        "SELECT COUNT(*) FROM customer_fields WHERE key_version < ?1",
                        [version],
                        |r| r.get(0),
                    )
                    .map_err(StoreError::from)?;
                if remaining > 0 && !force {
                    return Err(SetMinVersionError::VersionsRemain {
                        remaining: remaining as u64,
                        version,
                    });
                }
                put(ctx.main, "min_decryption_version", &version.to_string())?;
                ctx.forget_settings();
                ctx.ledger(
                    &actor,
                    "config.changed",
                    "min_decryption_version",
                    serde_json::json!({"value": version, "forced": force, "ciphertexts_below": remaining}),
                )?;
                Ok(())
            })
    }
}
