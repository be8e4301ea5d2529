//! Customer records in the vault: sealed on the way in, revealed per element
//! only to a principal whose scope allows it, with every reveal logged durably
//! before the plaintext is handed back (fail closed).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bulwark_model::{DataElement, Residency, Scope};
use bulwark_vault::{
    open_field, seal_field, CardDisplay, CardToken, FieldCipher, FieldLabel, Keyring, SecretKey,
    WrappedCustomerKey,
};
use rand::rngs::OsRng;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::access_log::{self, AccessOutcome, NewAccess};
use crate::error::{Result, StoreError};
use crate::validate::{self, PlainFields, ValidationErrors};
use crate::writer::WriteCtx;
use crate::{Pending, Principal, Store};

/// Label under which the store's own customer id is sealed and indexed.
const EXTERNAL_ID: &str = "external_id";

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    /// The store's own customer id (sealed, and searchable by exact match).
    #[serde(default)]
    pub external_id: Option<String>,
    pub residency: Residency,
    /// The language the customer prefers letters in: an ISO 639-1 code,
    /// optionally with a region (`pt-BR`), stored as the code (`pt`). Not
    /// secret, like residency. Without it, letters follow residency.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^[A-Za-z]{2}([-_][A-Za-z0-9]{1,8})*$", max_length = 35)
    )]
    pub language: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::Fields, inline))]
    pub fields: BTreeMap<String, serde_json::Value>,
}

/// Tells a member set to `null` (`Some(None)`) from one left out (`None`).
fn present_or_null<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// A partial update: present fields are replaced, `null` fields removed.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CustomerPatch {
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub residency: Option<Residency>,
    /// The language preference (ISO 639-1, optionally with a region); `null`
    /// removes it, leaving letters to follow residency.
    #[serde(default, deserialize_with = "present_or_null")]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<String>, pattern = "^[A-Za-z]{2}([-_][A-Za-z0-9]{1,8})*$", max_length = 35)
    )]
    pub language: Option<Option<String>>,
    // No doc comment here: a description beside the schema's `$ref` trips
    // schemathesis; the schema itself describes the fields.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::PatchFields, inline))]
    pub fields: BTreeMap<String, serde_json::Value>,
}

/// What can be shown about a customer without decrypting personal data.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CustomerMeta {
    pub id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    pub residency: Residency,
    /// The language the customer prefers letters in (ISO 639-1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    pub elements: Vec<DataElement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card: Option<CardDisplay>,
    pub key_versions: Vec<u32>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// How to find customers without decrypting the table.
#[derive(Debug, Clone)]
pub enum LookupBy {
    Email(String),
    Phone(String),
    ExternalId(String),
    CardToken(String),
}

impl LookupBy {
    pub fn label(&self) -> &'static str {
        match self {
            LookupBy::Email(_) => "email",
            LookupBy::Phone(_) => "phone",
            LookupBy::ExternalId(_) => EXTERNAL_ID,
            LookupBy::CardToken(_) => "card_token",
        }
    }
}

#[derive(Debug, Clone)]
pub struct RevealRequest {
    pub principal: Principal,
    pub purpose: Option<String>,
    pub customer: Uuid,
    pub elements: Vec<DataElement>,
    /// The caller's network address, for the access log.
    pub source: Option<String>,
}

/// Why a reveal was refused. Recorded in the access log before it is returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Denial {
    NoPurpose,
    Scope { refused: Vec<DataElement> },
    Lockdown,
    NotFound,
    BelowMinimumVersion { version: u32, min: u32 },
}

impl std::fmt::Display for Denial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Denial::NoPurpose => f.write_str("no purpose stated (X-Bulwark-Purpose)"),
            Denial::Scope { refused } => {
                let codes: Vec<&str> = refused.iter().map(|e| e.code()).collect();
                write!(f, "scope does not allow revealing {}", codes.join(", "))
            }
            Denial::Lockdown => f.write_str("the vault is locked down; only break-glass keys may reveal"),
            Denial::NotFound => f.write_str("no such customer"),
            Denial::BelowMinimumVersion { version, min } => write!(
                f,
                "data sealed under key version {version} is below the minimum decryption version {min}"
            ),
        }
    }
}

/// Why a customer could not be created or changed.
#[derive(Debug, thiserror::Error)]
pub enum CustomerWriteError {
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationErrors),
    #[error("customer {0} not found")]
    NotFound(Uuid),
    #[error("another customer already has this external_id")]
    DuplicateExternalId,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a customer could not be erased or described.
#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    #[error("customer {0} not found")]
    NotFound(Uuid),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a reveal (or a batch of them) returned nothing. A refusal is in the
/// access log before it is returned.
#[derive(Debug, thiserror::Error)]
pub enum RevealError {
    #[error("reveal refused: {0}")]
    Denied(Denial),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a lookup found nothing to answer with.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error("invalid input: {0}")]
    Invalid(#[from] ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Revealed plaintext, wiped when dropped.
#[derive(Debug)]
pub struct Revealed {
    pub customer: Uuid,
    pub fields: BTreeMap<DataElement, Zeroizing<String>>,
    /// Requested elements this customer does not have.
    pub absent: Vec<DataElement>,
    pub access_id: i64,
}

/// A new customer, sealed outside the writer so the writer only does I/O.
struct Sealed {
    id: Uuid,
    residency: Residency,
    language: Option<String>,
    external_id: Option<(Vec<u8>, [u8; 32])>,
    fields: Vec<(DataElement, Vec<u8>)>,
    digests: Vec<(&'static str, [u8; 32])>,
    card: Option<CardDisplay>,
    key: WrappedCustomerKey,
}

/// A new customer, validated and normalised, before sealing.
struct Vetted {
    residency: Residency,
    language: Option<String>,
    external_id: Option<String>,
    fields: PlainFields,
}

fn today() -> time::Date {
    OffsetDateTime::now_utc().date()
}

fn to_time(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn blind_label(e: DataElement) -> &'static str {
    e.code()
}

/// Sealed fields, blind-index digests and card display of one customer's plaintext.
type SealedParts = (
    Vec<(DataElement, Vec<u8>)>,
    Vec<(&'static str, [u8; 32])>,
    Option<CardDisplay>,
);

fn seal_all(
    kr: &Keyring,
    id: Uuid,
    key: &SecretKey,
    version: u32,
    fields: &PlainFields,
) -> Result<SealedParts> {
    let cipher = FieldCipher::new(key);
    let mut sealed = Vec::with_capacity(fields.len());
    let mut digests = Vec::new();
    let mut card = None;
    for (element, value) in fields {
        let label = FieldLabel {
            customer: id,
            element: element.code(),
            version,
        };
        sealed.push((*element, cipher.seal(label, value.as_bytes(), &mut OsRng)?));
        if element.is_indexed() {
            digests.push((blind_label(*element), kr.blind_index(element.code(), value)));
        }
        if *element == DataElement::CardNumber {
            card = Some(CardDisplay::for_pan(value, &mut OsRng));
        }
    }
    Ok((sealed, digests, card))
}

impl Store {
    fn check_new(&self, new: &NewCustomer) -> Result<Vetted, CustomerWriteError> {
        let settings = self.settings()?;
        let mut errors = ValidationErrors::default();
        let residency = validate::residency(&new.residency, &mut errors);
        let language = new
            .language
            .as_deref()
            .and_then(|v| validate::language(v, &mut errors));
        let external_id = new
            .external_id
            .as_deref()
            .and_then(|v| validate::external_id(v, &mut errors));
        let checked = validate::fields(
            &new.fields,
            today(),
            false,
            settings.store_card_security_code,
            &mut errors,
        );
        errors.into_result()?;
        // Validation reported every problem above, so a residency is here.
        let residency = residency.ok_or_else(|| {
            let mut e = ValidationErrors::default();
            e.push("residency", "is required");
            CustomerWriteError::Invalid(e)
        })?;
        Ok(Vetted {
            residency,
            language,
            external_id,
            fields: checked.set,
        })
    }

    /// Validates, seals and durably stores a new customer. Nothing is written on any error.
    pub fn create_customer(
        &self,
        new: &NewCustomer,
        actor: &Principal,
    ) -> Result<Pending<Uuid, CustomerWriteError>, CustomerWriteError> {
        let Vetted {
            residency,
            language,
            external_id,
            fields,
        } = self.check_new(new)?;
        self.refresh_keyring()?;
        let kr = self.keyring_read()?;
        let id = Uuid::now_v7();
        let (dek, wrapped) = kr
            .new_customer_key(id, &mut OsRng)
            .map_err(StoreError::from)?;
        let version = wrapped.version;
        let (sealed_fields, digests, card) = seal_all(&kr, id, &dek, version, &fields)?;
        let external_id = match external_id {
            Some(x) => {
                let label = FieldLabel {
                    customer: id,
                    element: EXTERNAL_ID,
                    version,
                };
                Some((
                    seal_field(&dek, label, x.as_bytes(), &mut OsRng).map_err(StoreError::from)?,
                    kr.blind_index(EXTERNAL_ID, &x),
                ))
            }
            None => None,
        };
        drop(kr);
        let sealed = Sealed {
            id,
            residency,
            language,
            external_id,
            fields: sealed_fields,
            digests,
            card,
            key: wrapped,
        };
        let actor = actor.id.clone();
        Ok(self
            .writer()
            .submit(move |ctx| insert_sealed(ctx, &sealed, &actor).map(|_| sealed.id)))
    }

    /// Applies a patch. Sealing happens in the writer so that two concurrent
    /// patches never race to create the same customer key.
    pub fn update_customer(
        &self,
        id: Uuid,
        patch: CustomerPatch,
        actor: &Principal,
    ) -> Result<Pending<(), CustomerWriteError>, CustomerWriteError> {
        let settings = self.settings()?;
        let mut errors = ValidationErrors::default();
        let residency = patch
            .residency
            .as_ref()
            .and_then(|r| validate::residency(r, &mut errors));
        let external_id = patch
            .external_id
            .as_deref()
            .and_then(|v| validate::external_id(v, &mut errors));
        // `Some(None)`: remove the preference. An invalid one is in `errors`,
        // which stop the patch below.
        let language = patch.language.as_ref().map(|l| {
            l.as_deref()
                .and_then(|v| validate::language(v, &mut errors))
        });
        let checked = validate::fields(
            &patch.fields,
            today(),
            true,
            settings.store_card_security_code,
            &mut errors,
        );
        errors.into_result()?;
        self.refresh_keyring()?;
        let store = self.clone();
        let actor = actor.id.clone();
        Ok(self.writer().submit(move |ctx| {
            let kr = store.keyring_read()?;
            apply_patch(
                ctx,
                &kr,
                id,
                Change {
                    residency,
                    language,
                },
                external_id,
                &checked.set,
                &checked.removed,
                &actor,
            )
        }))
    }

    /// Erasure by crypto-shredding: the customer's keys are destroyed first, then its rows.
    pub fn erase_customer(&self, id: Uuid, actor: &Principal) -> Pending<(), CustomerError> {
        let actor = actor.id.clone();
        let store = self.clone();
        self.writer().submit(move |ctx| {
            let exists: Option<i64> = ctx
                .main
                .query_row(
                    "SELECT 1 FROM customers WHERE id = ?1",
                    [id.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            if exists.is_none() {
                return Err(CustomerError::NotFound(id));
            }
            ctx.touch_keys(&id.to_string())?;
            let shredded = ctx
                .keys
                .execute(
                    "DELETE FROM customer_keys WHERE customer_id = ?1",
                    [id.to_string()],
                )
                .map_err(StoreError::from)?;
            delete_rows(ctx.main, &id.to_string())?;
            ctx.shred_keys_wal();
            store.inner_key_cache().forget(id);
            ctx.ledger(
                &actor,
                "customer.erased",
                &id.to_string(),
                serde_json::json!({"keys_destroyed": shredded}),
            )?;
            Ok(())
        })
    }

    /// Metadata without personal data (external id included when the keyring is unlocked).
    pub fn customer_meta(&self, id: Uuid) -> Result<CustomerMeta, CustomerError> {
        let meta = self.read(|c| load_meta(c, id))?;
        let mut meta = meta.ok_or(CustomerError::NotFound(id))?;
        if let (Some(ct), true) = (meta.1.take(), self.is_unlocked()) {
            let kr = self.keyring_read()?;
            let keys = self.read(|c| customer_keys(c, id))?;
            if let Some(version) = meta.2 {
                if let Some(w) = keys.iter().find(|w| w.version == version) {
                    let key = kr.open_customer_key(id, w).map_err(StoreError::from)?;
                    let label = FieldLabel {
                        customer: id,
                        element: EXTERNAL_ID,
                        version,
                    };
                    let plain = open_field(&key, label, &ct).map_err(StoreError::from)?;
                    meta.0.external_id = Some(String::from_utf8_lossy(&plain).into_owned());
                }
            }
        }
        Ok(meta.0)
    }

    /// What the vault holds, by where customers live: (residency, customers,
    /// elements held). A running drill's synthetic customers are not holdings.
    pub fn holdings_by_residency(&self) -> Result<Vec<(Residency, u64, Vec<DataElement>)>> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT c.country, c.subdivision, COUNT(DISTINCT c.id),
                        (SELECT group_concat(DISTINCT f.element) FROM customer_fields f
                         JOIN customers c2 ON c2.id = f.customer_id
                         WHERE c2.country = c.country AND c2.subdivision IS c.subdivision AND f.element != 'external_id'
                           AND c2.id NOT IN (SELECT customer_id FROM drill_customers))
                 FROM customers c WHERE c.id NOT IN (SELECT customer_id FROM drill_customers)
                 GROUP BY c.country, c.subdivision ORDER BY 3 DESC",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    Residency { country: r.get(0)?, subdivision: r.get(1)? },
                    r.get::<_, i64>(2)? as u64,
                    r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (res, n, codes) = row?;
                out.push((res, n, codes.split(',').filter_map(|c| c.parse().ok()).collect()));
            }
            Ok(out)
        })
    }

    /// Customers in id order (ids are time-ordered), after `cursor`.
    pub fn list_customers(&self, cursor: Option<Uuid>, limit: usize) -> Result<Vec<Uuid>> {
        let after = cursor.map(|c| c.to_string()).unwrap_or_default();
        self.read(|c| {
            let mut stmt =
                c.prepare_cached("SELECT id FROM customers WHERE id > ?1 ORDER BY id LIMIT ?2")?;
            let rows = stmt.query_map(params![after, limit as i64], |r| r.get::<_, String>(0))?;
            let mut out = Vec::new();
            for r in rows {
                out.push(parse_id(&r?)?);
            }
            Ok(out)
        })
    }

    /// Exact-match search through blind indexes; logged like a reveal, without the searched value.
    pub fn lookup(
        &self,
        by: LookupBy,
        principal: &Principal,
        purpose: Option<String>,
        source: Option<String>,
    ) -> Result<Pending<Vec<Uuid>>, LookupError> {
        let ids = match &by {
            LookupBy::CardToken(t) => self.read(|c| {
                let mut stmt =
                    c.prepare_cached("SELECT id FROM customers WHERE card_token = ?1")?;
                let rows = stmt.query_map([t], |r| r.get::<_, String>(0))?;
                rows.map(|r| r.map_err(StoreError::from).and_then(|s| parse_id(&s)))
                    .collect::<Result<Vec<_>>>()
            })?,
            other => {
                let (label, value) = match other {
                    LookupBy::Email(v) => (
                        "email",
                        DataElement::Email
                            .normalize(v, today())
                            .map_err(|e| field_error("email", e.0))?,
                    ),
                    LookupBy::Phone(v) => (
                        "phone",
                        DataElement::Phone
                            .normalize(v, today())
                            .map_err(|e| field_error("phone", e.0))?,
                    ),
                    LookupBy::ExternalId(v) => (EXTERNAL_ID, v.trim().to_owned()),
                    LookupBy::CardToken(_) => unreachable!("handled above"),
                };
                let value = Zeroizing::new(value);
                let digest = self.keyring_read()?.blind_index(label, &value);
                self.read(|c| {
                    let mut stmt = c.prepare_cached(
                        "SELECT customer_id FROM blind_index WHERE element = ?1 AND digest = ?2 ORDER BY customer_id LIMIT 1000",
                    )?;
                    let rows = stmt.query_map(params![label, &digest[..]], |r| r.get::<_, String>(0))?;
                    rows.map(|r| r.map_err(StoreError::from).and_then(|s| parse_id(&s))).collect::<Result<Vec<_>>>()
                })?
            }
        };
        let access = NewAccess {
            principal: principal.id.clone(),
            action: "lookup",
            purpose,
            customer: None,
            elements: by.label().to_owned(),
            outcome: AccessOutcome::Allowed,
            reason: None,
            source,
            result_count: Some(ids.len() as i64),
        };
        Ok(self.writer().submit(move |ctx| {
            access_log::record(ctx, &access)?;
            Ok(ids)
        }))
    }

    /// Reveals the requested elements of one customer. A refusal is recorded in
    /// the access log and returned as [`RevealError::Denied`]; a reveal whose log
    /// entry cannot be made durable fails and returns nothing (fail closed).
    pub async fn reveal(&self, req: RevealRequest) -> Result<Revealed, RevealError> {
        let outcome = match self.prepare_reveal(&req) {
            Ok((revealed, versions)) => self.commit_reveal(&req, revealed, versions).wait().await,
            Err(e) => Err(e),
        };
        match outcome {
            Err(RevealError::Denied(d)) => {
                self.log_denial(&req, &d).wait().await?;
                Err(RevealError::Denied(d))
            }
            other => other,
        }
    }

    /// [`Store::reveal`] for callers outside an async runtime (the CLI, tests).
    pub fn reveal_blocking(&self, req: RevealRequest) -> Result<Revealed, RevealError> {
        let outcome = match self.prepare_reveal(&req) {
            Ok((revealed, versions)) => {
                self.commit_reveal(&req, revealed, versions).wait_blocking()
            }
            Err(e) => Err(e),
        };
        match outcome {
            Err(RevealError::Denied(d)) => {
                self.log_denial(&req, &d).wait_blocking()?;
                Err(RevealError::Denied(d))
            }
            other => other,
        }
    }

    fn commit_reveal(
        &self,
        req: &RevealRequest,
        mut revealed: Revealed,
        versions: BTreeSet<u32>,
    ) -> Pending<Revealed, RevealError> {
        let access = NewAccess {
            principal: req.principal.id.clone(),
            action: "reveal",
            purpose: req.purpose.clone(),
            customer: Some(req.customer),
            elements: codes(revealed.fields.keys().copied()),
            outcome: AccessOutcome::Allowed,
            reason: None,
            source: req.source.clone(),
            result_count: None,
        };
        let break_glass = req.principal.scopes.allows(Scope::VaultBreakGlass);
        let customer = req.customer.to_string();
        self.writer().submit(move |ctx| {
            decide_reveal(ctx, break_glass, &versions)?;
            revealed.access_id = access_log::record(ctx, &access)?;
            ctx.ledger(
                &access.principal,
                "vault.reveal",
                &customer,
                serde_json::json!({"access_id": revealed.access_id, "elements": access.elements, "purpose": access.purpose}),
            )?;
            Ok(revealed)
        })
    }

    /// Records a refusal in the access log and the ledger.
    fn log_denial(&self, req: &RevealRequest, denial: &Denial) -> Pending<()> {
        let elements = match denial {
            Denial::Scope { refused } => codes(refused.iter().copied()),
            _ => codes(req.elements.iter().copied()),
        };
        let access = NewAccess {
            principal: req.principal.id.clone(),
            action: "reveal",
            purpose: req.purpose.clone(),
            customer: Some(req.customer),
            elements,
            outcome: if *denial == Denial::NotFound {
                AccessOutcome::NotFound
            } else {
                AccessOutcome::Denied
            },
            reason: Some(denial.to_string()),
            source: req.source.clone(),
            result_count: None,
        };
        let customer = req.customer.to_string();
        self.writer().submit(move |ctx| {
            let id = access_log::record(ctx, &access)?;
            ctx.ledger(
                &access.principal,
                "vault.reveal.refused",
                &customer,
                serde_json::json!({"access_id": id, "elements": access.elements, "reason": access.reason}),
            )?;
            Ok(())
        })
    }

    /// The read-and-decrypt half of a reveal, without the access-log write. Only
    /// for the benchmark (feature `bench-internals`); no shipped code path has it.
    #[cfg(feature = "bench-internals")]
    pub fn bench_decrypt_only(&self, req: &RevealRequest) -> Result<Revealed, RevealError> {
        self.prepare_reveal(req).map(|(r, _)| r)
    }

    /// Scope checks, the read and the decryption; nothing is returned to the caller from here.
    fn prepare_reveal(
        &self,
        req: &RevealRequest,
    ) -> Result<(Revealed, BTreeSet<u32>), RevealError> {
        let purpose_ok = req
            .purpose
            .as_deref()
            .map(str::trim)
            .is_some_and(|p| !p.is_empty());
        if !purpose_ok {
            return Err(RevealError::Denied(Denial::NoPurpose));
        }
        let refused: Vec<DataElement> = req
            .elements
            .iter()
            .copied()
            .filter(|e| !req.principal.scopes.allows(Scope::VaultReveal(*e)))
            .collect();
        if !refused.is_empty() {
            return Err(RevealError::Denied(Denial::Scope { refused }));
        }
        match self.read_and_decrypt(req) {
            Err(RevealError::Store(StoreError::Vault(
                bulwark_vault::VaultError::UnknownVersion(_),
            ))) => {
                // Another process rotated the data key since we unlocked.
                self.refresh_keyring()?;
                self.read_and_decrypt(req)
            }
            other => other,
        }
    }

    /// One query on `bulwark.db`; each ciphertext is opened straight from
    /// SQLite's row buffer, and only the requested elements are touched.
    fn read_and_decrypt(
        &self,
        req: &RevealRequest,
    ) -> Result<(Revealed, BTreeSet<u32>), RevealError> {
        let kr = self.keyring_read()?;
        let sid = req.customer.to_string();
        let mut fields = BTreeMap::new();
        let mut versions = BTreeSet::new();
        let found = self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT element, key_version, ciphertext FROM customer_fields
                 WHERE customer_id = ?1 AND element != 'external_id'",
            )?;
            let mut rows = stmt.query([&sid])?;
            let mut any_row = false;
            let mut cipher: Option<(u32, Arc<FieldCipher>)> = None;
            while let Some(r) = rows.next()? {
                any_row = true;
                let code = r.get_ref(0)?.as_str().map_err(rusqlite::Error::from)?;
                let element = code.parse::<DataElement>().map_err(|_| {
                    StoreError::Corrupt(format!("customer {sid} has an unknown element"))
                })?;
                if !req.elements.contains(&element) {
                    continue;
                }
                let version: u32 = r.get(1)?;
                let key = match &cipher {
                    Some((v, k)) if *v == version => k.clone(),
                    _ => match self.customer_cipher(c, &kr, req.customer, version)? {
                        Some(k) => {
                            cipher = Some((version, k.clone()));
                            k
                        }
                        None => return Ok(false),
                    },
                };
                let label = FieldLabel {
                    customer: req.customer,
                    element: element.code(),
                    version,
                };
                let ciphertext = r.get_ref(2)?.as_blob().map_err(rusqlite::Error::from)?;
                let mut plain = key.open(label, ciphertext)?;
                let text = String::from_utf8(std::mem::take(&mut *plain)).map_err(|_| {
                    StoreError::Corrupt(format!("customer {sid} field {element} is not text"))
                })?;
                fields.insert(element, Zeroizing::new(text));
                versions.insert(version);
            }
            if !any_row {
                let exists: Option<i64> = c
                    .prepare_cached("SELECT 1 FROM customers WHERE id = ?1")?
                    .query_row([&sid], |r| r.get(0))
                    .optional()?;
                if exists.is_none() {
                    return Ok(false);
                }
            }
            Ok(true)
        })?;
        if !found {
            return Err(RevealError::Denied(Denial::NotFound));
        }
        let absent = req
            .elements
            .iter()
            .copied()
            .filter(|e| !fields.contains_key(e))
            .collect();
        Ok((
            Revealed {
                customer: req.customer,
                fields,
                absent,
                access_id: 0,
            },
            versions,
        ))
    }

    /// The opened key of a customer for `version`, from the cache or `keys.db`.
    fn customer_cipher(
        &self,
        c: &Connection,
        kr: &Keyring,
        customer: Uuid,
        version: u32,
    ) -> Result<Option<Arc<FieldCipher>>> {
        if let Some(k) = self.inner_key_cache().get(customer, version) {
            return Ok(Some(k));
        }
        let wrapped: Option<Vec<u8>> = c
            .prepare_cached(
                "SELECT wrapped FROM keys.customer_keys WHERE customer_id = ?1 AND version = ?2",
            )?
            .query_row(params![customer.to_string(), version], |r| r.get(0))
            .optional()?;
        // No key for a customer row: its keys were destroyed (crypto-shredded) and
        // these rows come from an older copy of bulwark.db. Nothing can open them.
        let Some(wrapped) = wrapped else {
            return Ok(None);
        };
        let key = kr.open_customer_key(customer, &WrappedCustomerKey { version, wrapped })?;
        let cipher = Arc::new(FieldCipher::new(&key));
        self.inner_key_cache()
            .put(customer, version, cipher.clone());
        Ok(Some(cipher))
    }
}

fn field_error(field: &str, message: String) -> ValidationErrors {
    let mut e = ValidationErrors::default();
    e.push(field, message);
    e
}

/// The deciding checks of a reveal. They run inside the writer job that
/// records it, under the write lock, so they are serialised with the lockdown
/// switch and the minimum-version setting.
fn decide_reveal(
    ctx: &mut WriteCtx<'_>,
    break_glass: bool,
    versions: &BTreeSet<u32>,
) -> Result<(), RevealError> {
    let settings = ctx.settings()?;
    if settings.lockdown && !break_glass {
        return Err(RevealError::Denied(Denial::Lockdown));
    }
    if let Some(v) = versions
        .iter()
        .find(|v| **v < settings.min_decryption_version)
    {
        return Err(RevealError::Denied(Denial::BelowMinimumVersion {
            version: *v,
            min: settings.min_decryption_version,
        }));
    }
    Ok(())
}

fn codes(it: impl Iterator<Item = DataElement>) -> String {
    it.map(|e| e.code()).collect::<Vec<_>>().join(",")
}

pub(crate) fn parse_id(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|_| StoreError::Corrupt("customer id".into()))
}

fn customer_keys(c: &Connection, id: Uuid) -> Result<Vec<WrappedCustomerKey>> {
    let mut stmt =
        c.prepare_cached("SELECT version, wrapped FROM keys.customer_keys WHERE customer_id = ?1")?;
    let rows = stmt.query_map([id.to_string()], |r| {
        Ok(WrappedCustomerKey {
            version: r.get(0)?,
            wrapped: r.get(1)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

type MetaRow = (CustomerMeta, Option<Vec<u8>>, Option<u32>);

fn load_meta(c: &Connection, id: Uuid) -> Result<Option<MetaRow>> {
    let row = c
        .query_row(
            "SELECT created_at_ms, updated_at_ms, country, subdivision, card_token, card_bin, card_last4, language
             FROM customers WHERE id = ?1",
            [id.to_string()],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<String>>(7)?,
                ))
            },
        )
        .optional()?;
    let Some((created, updated, country, subdivision, token, bin, last4, language)) = row else {
        return Ok(None);
    };
    let mut stmt = c.prepare_cached(
        "SELECT element, key_version, CASE WHEN element = 'external_id' THEN ciphertext END
         FROM customer_fields WHERE customer_id = ?1 ORDER BY element",
    )?;
    let mut elements = Vec::new();
    let mut versions = BTreeSet::new();
    let mut ext_version = None;
    let mut ext = None;
    for r in stmt.query_map([id.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, u32>(1)?,
            r.get::<_, Option<Vec<u8>>>(2)?,
        ))
    })? {
        let (code, v, ct) = r?;
        versions.insert(v);
        if code == EXTERNAL_ID {
            ext_version = Some(v);
            ext = ct;
        } else if let Ok(e) = code.parse::<DataElement>() {
            elements.push(e);
        }
    }
    let card = match (token, bin, last4) {
        (Some(t), Some(b), Some(l)) => Some(CardDisplay {
            token: CardToken(t),
            bin: b,
            last4: l,
        }),
        _ => None,
    };
    let meta = CustomerMeta {
        id,
        external_id: None,
        residency: Residency {
            country,
            subdivision,
        },
        language,
        elements,
        card,
        key_versions: versions.into_iter().collect(),
        created_at: to_time(created),
        updated_at: to_time(updated),
    };
    Ok(Some((meta, ext, ext_version)))
}

fn insert_sealed(
    ctx: &mut WriteCtx<'_>,
    s: &Sealed,
    actor: &str,
) -> Result<(), CustomerWriteError> {
    let id = s.id.to_string();
    if let Some((_, digest)) = &s.external_id {
        let taken: Option<i64> = ctx
            .main
            .prepare_cached("SELECT 1 FROM blind_index WHERE element = ?1 AND digest = ?2")?
            .query_row(params![EXTERNAL_ID, &digest[..]], |r| r.get(0))
            .optional()?;
        if taken.is_some() {
            return Err(CustomerWriteError::DuplicateExternalId);
        }
    }
    ctx.touch_keys(&id)?;
    ctx.keys
        .prepare_cached(
            "INSERT INTO customer_keys (customer_id, version, wrapped) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![id, s.key.version, s.key.wrapped])?;
    ctx.main.prepare_cached(
        "INSERT INTO customers (id, created_at_ms, updated_at_ms, country, subdivision, card_token, card_bin, card_last4, language)
         VALUES (?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?.execute(
        params![
            id,
            ctx.now_ms,
            s.residency.country,
            s.residency.subdivision,
            s.card.as_ref().map(|c| c.token.0.clone()),
            s.card.as_ref().map(|c| c.bin.clone()),
            s.card.as_ref().map(|c| c.last4.clone()),
            s.language,
        ],
    )?;
    let mut fstmt = ctx.main.prepare_cached(
        "INSERT INTO customer_fields (customer_id, element, key_version, ciphertext) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (element, ct) in &s.fields {
        fstmt.execute(params![id, element.code(), s.key.version, ct])?;
    }
    if let Some((ct, _)) = &s.external_id {
        fstmt.execute(params![id, EXTERNAL_ID, s.key.version, ct])?;
    }
    let mut istmt = ctx.main.prepare_cached(
        "INSERT OR IGNORE INTO blind_index (element, digest, customer_id) VALUES (?1, ?2, ?3)",
    )?;
    for (label, digest) in &s.digests {
        istmt.execute(params![label, &digest[..], id])?;
    }
    if let Some((_, digest)) = &s.external_id {
        istmt.execute(params![EXTERNAL_ID, &digest[..], id])?;
    }
    let elements: Vec<&str> = s.fields.iter().map(|(e, _)| e.code()).collect();
    ctx.ledger(
        actor,
        "customer.created",
        &id,
        serde_json::json!({"elements": elements, "residency": s.residency, "language": s.language, "key_version": s.key.version}),
    )?;
    Ok(())
}

/// A patch's changes to the customer row itself (not sealed).
struct Change {
    residency: Option<Residency>,
    /// `Some(None)` removes the preference.
    language: Option<Option<String>>,
}

#[allow(clippy::too_many_arguments)]
fn apply_patch(
    ctx: &mut WriteCtx<'_>,
    kr: &Keyring,
    id: Uuid,
    change: Change,
    external_id: Option<String>,
    set: &PlainFields,
    removed: &[DataElement],
    actor: &str,
) -> Result<(), CustomerWriteError> {
    let sid = id.to_string();
    let exists: Option<Option<String>> = ctx
        .main
        .query_row(
            "SELECT card_token FROM customers WHERE id = ?1",
            [&sid],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Err(CustomerWriteError::NotFound(id));
    }
    let version = kr.current_version();
    let stored: Option<Vec<u8>> = ctx
        .keys
        .query_row(
            "SELECT wrapped FROM customer_keys WHERE customer_id = ?1 AND version = ?2",
            params![sid, version],
            |r| r.get(0),
        )
        .optional()?;
    let needs_key = !set.is_empty() || external_id.is_some();
    let key = match stored {
        Some(wrapped) => Some(kr.open_customer_key(id, &WrappedCustomerKey { version, wrapped })?),
        None if !needs_key => None,
        None => {
            // First write since a rotation: this customer gets a key of the current version.
            let (key, wrapped) = kr.new_customer_key(id, &mut OsRng)?;
            ctx.touch_keys(&sid)?;
            ctx.keys.execute(
                "INSERT INTO customer_keys (customer_id, version, wrapped) VALUES (?1, ?2, ?3)",
                params![sid, wrapped.version, wrapped.wrapped],
            )?;
            Some(key)
        }
    };
    let (sealed, digests, card) = match &key {
        Some(key) => seal_all(kr, id, key, version, set)?,
        None => (Vec::new(), Vec::new(), None),
    };
    let mut touched: Vec<&str> = Vec::new();
    for (element, ct) in &sealed {
        ctx.main.execute(
            "INSERT INTO customer_fields (customer_id, element, key_version, ciphertext) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (customer_id, element) DO UPDATE SET key_version = excluded.key_version, ciphertext = excluded.ciphertext",
            params![sid, element.code(), version, ct],
        )?;
        touched.push(element.code());
    }
    for element in removed.iter().chain(sealed.iter().map(|(e, _)| e)) {
        if element.is_indexed() {
            ctx.main.execute(
                "DELETE FROM blind_index WHERE customer_id = ?1 AND element = ?2",
                params![sid, blind_label(*element)],
            )?;
        }
    }
    for element in removed {
        ctx.main.execute(
            "DELETE FROM customer_fields WHERE customer_id = ?1 AND element = ?2",
            params![sid, element.code()],
        )?;
        if *element == DataElement::CardNumber {
            ctx.main.execute(
                "UPDATE customers SET card_token = NULL, card_bin = NULL, card_last4 = NULL WHERE id = ?1",
                [&sid],
            )?;
        }
    }
    for (label, digest) in &digests {
        ctx.main.execute(
            "INSERT OR IGNORE INTO blind_index (element, digest, customer_id) VALUES (?1, ?2, ?3)",
            params![label, &digest[..], sid],
        )?;
    }
    if let Some(card) = card {
        ctx.main.execute(
            "UPDATE customers SET card_token = ?2, card_bin = ?3, card_last4 = ?4 WHERE id = ?1",
            params![sid, card.token.0, card.bin, card.last4],
        )?;
    }
    if let (Some(x), Some(key)) = (&external_id, &key) {
        let digest = kr.blind_index(EXTERNAL_ID, x);
        let taken: Option<String> = ctx
            .main
            .query_row(
                "SELECT customer_id FROM blind_index WHERE element = ?1 AND digest = ?2 AND customer_id != ?3",
                params![EXTERNAL_ID, &digest[..], sid],
                |r| r.get(0),
            )
            .optional()?;
        if taken.is_some() {
            return Err(CustomerWriteError::DuplicateExternalId);
        }
        let label = FieldLabel {
            customer: id,
            element: EXTERNAL_ID,
            version,
        };
        let ct = seal_field(key, label, x.as_bytes(), &mut OsRng)?;
        ctx.main.execute(
            "INSERT INTO customer_fields (customer_id, element, key_version, ciphertext) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (customer_id, element) DO UPDATE SET key_version = excluded.key_version, ciphertext = excluded.ciphertext",
            params![sid, EXTERNAL_ID, version, ct],
        )?;
        ctx.main.execute(
            "DELETE FROM blind_index WHERE customer_id = ?1 AND element = ?2",
            params![sid, EXTERNAL_ID],
        )?;
        ctx.main.execute(
            "INSERT INTO blind_index (element, digest, customer_id) VALUES (?1, ?2, ?3)",
            params![EXTERNAL_ID, &digest[..], sid],
        )?;
        touched.push(EXTERNAL_ID);
    }
    let Change {
        residency,
        language,
    } = change;
    if let Some(r) = &residency {
        ctx.main.execute(
            "UPDATE customers SET country = ?2, subdivision = ?3 WHERE id = ?1",
            params![sid, r.country, r.subdivision],
        )?;
    }
    if let Some(l) = &language {
        ctx.main.execute(
            "UPDATE customers SET language = ?2 WHERE id = ?1",
            params![sid, l],
        )?;
    }
    ctx.main.execute(
        "UPDATE customers SET updated_at_ms = ?2 WHERE id = ?1",
        params![sid, ctx.now_ms],
    )?;
    let removed_codes: Vec<&str> = removed.iter().map(|e| e.code()).collect();
    let mut details =
        serde_json::json!({"set": touched, "removed": removed_codes, "residency": residency});
    // Only a change is recorded: `null` here means the preference was removed.
    if let (Some(l), Some(d)) = (&language, details.as_object_mut()) {
        d.insert("language".into(), serde_json::json!(l));
    }
    ctx.ledger(actor, "customer.updated", &sid, details)?;
    Ok(())
}

/// Removes every row of a customer from `bulwark.db` (its keys live in `keys.db`).
pub(crate) fn delete_rows(main: &Connection, id: &str) -> Result<()> {
    main.execute("DELETE FROM blind_index WHERE customer_id = ?1", [id])?;
    main.execute("DELETE FROM customer_fields WHERE customer_id = ?1", [id])?;
    main.execute("DELETE FROM customers WHERE id = ?1", [id])?;
    Ok(())
}

/// A batch reveal whose plaintext is released once its access-log rows are durable.
pub type PendingReveals = Pending<Vec<Revealed>, RevealError>;

impl Store {
    /// Reveals the same elements of many customers for one stated purpose (breach
    /// notices) in one durable transaction: one access-log row per customer and one
    /// ledger entry for the batch, committed before any plaintext is returned.
    /// Customers erased since are skipped and returned apart. Any other refusal
    /// (scope, lockdown) refuses the whole batch.
    pub fn reveal_batch_blocking(
        &self,
        principal: &Principal,
        purpose: &str,
        ids: &[Uuid],
        elements: &[DataElement],
    ) -> Result<(Vec<Revealed>, Vec<Uuid>), RevealError> {
        let (pending, missing) = self.reveal_batch(principal, purpose, ids, elements)?;
        Ok((pending.wait_blocking()?, missing))
    }

    /// [`Store::reveal_batch_blocking`] without the wait: the plaintext comes
    /// out of the returned [`Pending`] only once its access-log rows are
    /// durable, so a caller can decrypt the next batch meanwhile.
    pub fn reveal_batch(
        &self,
        principal: &Principal,
        purpose: &str,
        ids: &[Uuid],
        elements: &[DataElement],
    ) -> Result<(PendingReveals, Vec<Uuid>), RevealError> {
        // Reading and decrypting is the bulk of the work and needs no lock: one
        // slice per core, each on its own reader connection.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8);
        let per = ids.len().div_ceil(threads).max(1);
        type Part = Result<(Vec<Revealed>, Vec<Uuid>, BTreeSet<u32>), RevealError>;
        let parts: Vec<Part> = std::thread::scope(|s| {
            let handles: Vec<_> = ids
                .chunks(per)
                .map(|slice| {
                    s.spawn(move || -> Part {
                        let mut revealed = Vec::with_capacity(slice.len());
                        let mut missing = Vec::new();
                        let mut versions = BTreeSet::new();
                        let mut req = RevealRequest {
                            principal: principal.clone(),
                            purpose: Some(purpose.to_owned()),
                            customer: Uuid::nil(),
                            elements: elements.to_vec(),
                            source: None,
                        };
                        for id in slice {
                            req.customer = *id;
                            match self.prepare_reveal(&req) {
                                Ok((r, v)) => {
                                    versions.extend(v);
                                    revealed.push(r);
                                }
                                Err(RevealError::Denied(Denial::NotFound)) => missing.push(*id),
                                Err(e) => return Err(e),
                            }
                        }
                        Ok((revealed, missing, versions))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(StoreError::corrupt("a reveal worker panicked").into())
                    })
                })
                .collect()
        });
        let mut revealed = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        let mut versions = BTreeSet::new();
        for p in parts {
            let (r, m, v) = p?;
            revealed.extend(r);
            missing.extend(m);
            versions.extend(v);
        }
        if revealed.is_empty() {
            return Ok((Pending::ready(Ok(revealed)), missing));
        }
        let break_glass = principal.scopes.allows(Scope::VaultBreakGlass);
        let who = principal.id.clone();
        let purpose = purpose.to_owned();
        let revealed = self
            .writer()
            .submit(move |ctx| {
                decide_reveal(ctx, break_glass, &versions)?;
                let mut first = None;
                for r in revealed.iter_mut() {
                    let access = NewAccess {
                        principal: who.clone(),
                        action: "reveal",
                        purpose: Some(purpose.clone()),
                        customer: Some(r.customer),
                        elements: codes(r.fields.keys().copied()),
                        outcome: AccessOutcome::Allowed,
                        reason: None,
                        source: None,
                        result_count: None,
                    };
                    r.access_id = access_log::record(ctx, &access)?;
                    first.get_or_insert(r.access_id);
                }
                let last = revealed.last().map(|r| r.access_id);
                ctx.ledger(
                    &who,
                    "vault.reveal.batch",
                    "customers",
                    serde_json::json!({"count": revealed.len(), "first_access_id": first, "last_access_id": last, "purpose": purpose}),
                )?;
                Ok(revealed)
            });
        Ok((revealed, missing))
    }
}
