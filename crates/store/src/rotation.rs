//! Key rotation without downtime: a new data-key version for new writes, a
//! resumable re-wrap of old ciphertexts, and passphrase changes that touch only
//! the top of the hierarchy. Reveals keep working throughout, because each
//! customer moves from old to new version in one transaction.

use bulwark_vault::{
    open_field, seal_field, FieldLabel, KdfParams, UnlockSecret, WrappedCustomerKey,
};
use rand::rngs::OsRng;
use rusqlite::{params, OptionalExtension};
use serde::Serialize;
use uuid::Uuid;

use crate::error::{Result, StoreError};
use crate::writer::now_ms;
use crate::Store;

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct RewrapProgress {
    pub target_version: u32,
    pub customers_done: u64,
    pub customers_remaining: u64,
}

impl Store {
    /// Adds a data-key version; new writes use it from the next write on.
    pub fn rotate_data_key(&self, actor: &str) -> Result<u32> {
        self.refresh_keyring()?;
        let record = {
            let kr = self.keyring_read()?;
            kr.rotated(now_ms(), &mut OsRng)
        };
        let version = record.current_version;
        self.store_keyring_record(
            record.clone(),
            actor,
            "keyring.data_key_rotated",
            serde_json::json!({"version": version}),
        )?;
        self.keyring_write()?.absorb(&record)?;
        Ok(version)
    }

    /// Re-wraps the root key under a new passphrase or key file.
    pub fn change_unlock(
        &self,
        new_secret: &UnlockSecret,
        params: KdfParams,
        actor: &str,
    ) -> Result<()> {
        self.refresh_keyring()?;
        let record = {
            let kr = self.keyring_read()?;
            kr.with_new_unlock(new_secret, params, &mut OsRng)?
        };
        let method = match &record.unlock {
            bulwark_vault::UnlockMethod::Passphrase { .. } => "passphrase",
            bulwark_vault::UnlockMethod::KeyFile { .. } => "key_file",
        };
        self.store_keyring_record(
            record.clone(),
            actor,
            "keyring.unlock_changed",
            serde_json::json!({"method": method}),
        )?;
        self.keyring_write()?.absorb(&record)?;
        Ok(())
    }

    fn store_keyring_record(
        &self,
        record: bulwark_vault::KeyringRecord,
        actor: &str,
        action: &'static str,
        details: serde_json::Value,
    ) -> Result<()> {
        let text = serde_json::to_string(&record)
            .map_err(|e| StoreError::corrupt(format!("the keyring record: {e}")))?;
        let actor = actor.to_owned();
        self.writer()
            .submit(move |ctx| {
                ctx.keys
                    .execute("UPDATE keyring SET record = ?1 WHERE id = 1", [&text])?;
                ctx.ledger(&actor, action, "keyring", details)?;
                Ok(())
            })
            .wait_blocking()
    }

    pub fn rewrap_status(&self) -> Result<RewrapProgress> {
        self.refresh_keyring()?;
        let target = self.keyring_read()?.current_version();
        let (remaining, total): (i64, i64) = self.read(|c| {
            Ok(c.query_row(
                "SELECT (SELECT COUNT(DISTINCT customer_id) FROM customer_fields WHERE key_version < ?1),
                        (SELECT COUNT(*) FROM customers)",
                [target],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })?;
        Ok(RewrapProgress {
            target_version: target,
            customers_done: (total - remaining).max(0) as u64,
            customers_remaining: remaining as u64,
        })
    }

    /// Moves up to `batch` customers still sealed under an older version onto the
    /// current one. Returns how many moved; 0 means done. Safe to interrupt and re-run:
    /// each customer moves in one transaction, and old keys are destroyed only in a
    /// later transaction, once nothing refers to them.
    pub fn rewrap_batch(&self, batch: usize, actor: &str) -> Result<usize> {
        self.refresh_keyring()?;
        let target = self.keyring_read()?.current_version();
        let ids: Vec<String> = self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT DISTINCT customer_id FROM customer_fields WHERE key_version < ?1 ORDER BY customer_id LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![target, batch as i64], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })?;
        let store = self.clone();
        let moving = ids.clone();
        let moved = self
            .writer()
            .submit(move |ctx| -> Result<_> {
                let kr = store.keyring_read()?;
                let mut moved = 0usize;
                for sid in &moving {
                    let id = Uuid::parse_str(sid).map_err(|_| StoreError::Corrupt("customer id".into()))?;
                    let current: Option<Vec<u8>> = ctx
                        .keys
                        .query_row(
                            "SELECT wrapped FROM customer_keys WHERE customer_id = ?1 AND version = ?2",
                            params![sid, target],
                            |r| r.get(0),
                        )
                        .optional()?;
                    let new_key = match current {
                        Some(wrapped) => kr.open_customer_key(id, &WrappedCustomerKey { version: target, wrapped })?,
                        None => {
                            let (key, wrapped) = kr.new_customer_key(id, &mut OsRng)?;
                            ctx.touch_keys(sid)?;
                            ctx.keys.execute(
                                "INSERT INTO customer_keys (customer_id, version, wrapped) VALUES (?1, ?2, ?3)",
                                params![sid, wrapped.version, wrapped.wrapped],
                            )?;
                            key
                        }
                    };
                    let old: Vec<(String, u32, Vec<u8>)> = {
                        let mut stmt = ctx.main.prepare_cached(
                            "SELECT element, key_version, ciphertext FROM customer_fields WHERE customer_id = ?1 AND key_version < ?2",
                        )?;
                        let rows = stmt.query_map(params![sid, target], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
                        rows.collect::<rusqlite::Result<_>>()?
                    };
                    for (element, version, ct) in old {
                        let wrapped: Vec<u8> = ctx.keys.query_row(
                            "SELECT wrapped FROM customer_keys WHERE customer_id = ?1 AND version = ?2",
                            params![sid, version],
                            |r| r.get(0),
                        )?;
                        let old_key = kr.open_customer_key(id, &WrappedCustomerKey { version, wrapped })?;
                        let plain = open_field(&old_key, FieldLabel { customer: id, element: &element, version }, &ct)?;
                        let sealed = seal_field(&new_key, FieldLabel { customer: id, element: &element, version: target }, &plain, &mut OsRng)?;
                        ctx.main.execute(
                            "UPDATE customer_fields SET key_version = ?3, ciphertext = ?4 WHERE customer_id = ?1 AND element = ?2",
                            params![sid, element, target, sealed],
                        )?;
                    }
                    store.inner_key_cache().forget(id);
                    moved += 1;
                }
                Ok(moved)
            })
            .wait_blocking()?;
        // Second step, after the first is durable: destroy keys nothing refers to any more.
        let destroy = ids;
        let actor = actor.to_owned();
        self.writer()
            .submit(move |ctx| -> Result<_> {
                let mut destroyed = 0usize;
                for sid in &destroy {
                    let versions: Vec<u32> = {
                        let mut stmt = ctx.keys.prepare_cached(
                            "SELECT version FROM customer_keys WHERE customer_id = ?1 AND version < ?2",
                        )?;
                        let rows = stmt.query_map(params![sid, target], |r| r.get(0))?;
                        rows.collect::<rusqlite::Result<_>>()?
                    };
                    for v in versions {
                        let used: Option<i64> = ctx
                            .main
                            .query_row(
                                "SELECT 1 FROM customer_fields WHERE customer_id = ?1 AND key_version = ?2 LIMIT 1",
                                params![sid, v],
                                |r| r.get(0),
                            )
                            .optional()?;
                        if used.is_none() {
                            ctx.touch_keys(sid)?;
                            destroyed += ctx.keys.execute(
                                "DELETE FROM customer_keys WHERE customer_id = ?1 AND version = ?2",
                                params![sid, v],
                            )?;
                        }
                    }
                }
                if moved > 0 {
                    ctx.ledger(
                        &actor,
                        "keyring.rewrapped",
                        "vault",
                        serde_json::json!({"customers": moved, "target_version": target, "old_keys_destroyed": destroyed}),
                    )?;
                }
                Ok(())
            })
            .wait_blocking()?;
        Ok(moved)
    }
}
