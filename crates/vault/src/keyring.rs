//! The key hierarchy: what is stored (a [`KeyringRecord`], every key wrapped) and
//! what lives in memory once unlocked (a [`Keyring`]).

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use ed25519_dalek::SigningKey;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use crate::aead::{open, seal};
use crate::unlock::{KdfParams, UnlockMethod, UnlockSecret};
use crate::{SecretKey, VaultError};

/// The stored keyring: nothing in it is usable without the unlock secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyringRecord {
    pub format: u32,
    pub unlock: UnlockMethod,
    pub wrapped_root: String,
    pub data_keys: Vec<DataKeyRecord>,
    pub current_version: u32,
    pub signing_public: String,
    pub signing_wrapped: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataKeyRecord {
    pub version: u32,
    pub wrapped: String,
    pub created_at_ms: i64,
}

/// A customer key as stored: wrapped under data-key `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedCustomerKey {
    pub version: u32,
    pub wrapped: Vec<u8>,
}

/// The unlocked keyring. Every key in it is zeroized on drop.
pub struct Keyring {
    root: SecretKey,
    data_keys: BTreeMap<u32, SecretKey>,
    current: u32,
    signing: SigningKey,
    record: KeyringRecord,
}

const ROOT_AAD: &[u8] = b"bulwark-root-key-v1";
const SIGNING_AAD: &[u8] = b"bulwark-ledger-signing-key-v1";

fn data_key_aad(version: u32) -> Vec<u8> {
    let mut aad = b"bulwark-data-key-v1\0".to_vec();
    aad.extend_from_slice(&version.to_be_bytes());
    aad
}

fn customer_key_aad(customer: Uuid, version: u32) -> Vec<u8> {
    let mut aad = b"bulwark-customer-key-v1\0".to_vec();
    aad.extend_from_slice(customer.as_bytes());
    aad.extend_from_slice(&version.to_be_bytes());
    aad
}

fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn unb64(s: &str, what: &'static str) -> Result<Vec<u8>, VaultError> {
    B64.decode(s).map_err(|_| VaultError::CorruptKeyring(what))
}

fn salt(rng: &mut (impl RngCore + CryptoRng)) -> [u8; 16] {
    let mut s = [0u8; 16];
    rng.fill_bytes(&mut s);
    s
}

fn to_key(bytes: &[u8], what: &'static str) -> Result<SecretKey, VaultError> {
    let arr: [u8; 32] = bytes
        .try_into()
        .map_err(|_| VaultError::CorruptKeyring(what))?;
    Ok(SecretKey::from_bytes(arr))
}

impl Keyring {
    /// A new keyring: random root key, data key v1 and ledger signing key.
    pub fn create(
        secret: &UnlockSecret,
        params: KdfParams,
        now_ms: i64,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Keyring, VaultError> {
        let unlock = secret.new_method(params, salt(rng));
        let unlock_key = secret.derive(&unlock)?;
        let root = SecretKey::random(rng);
        let signing = SigningKey::generate(rng);
        let data_key = SecretKey::random(rng);
        let record = KeyringRecord {
            format: 1,
            unlock,
            wrapped_root: b64(&seal(&unlock_key, ROOT_AAD, root.expose(), rng)),
            data_keys: vec![DataKeyRecord {
                version: 1,
                wrapped: b64(&seal(&root, &data_key_aad(1), data_key.expose(), rng)),
                created_at_ms: now_ms,
            }],
            current_version: 1,
            signing_public: hex::encode(signing.verifying_key().as_bytes()),
            signing_wrapped: b64(&seal(&root, SIGNING_AAD, signing.as_bytes(), rng)),
        };
        Ok(Keyring {
            root,
            data_keys: BTreeMap::from([(1, data_key)]),
            current: 1,
            signing,
            record,
        })
    }

    /// Unlocks a stored keyring. A wrong secret is [`VaultError::WrongUnlockSecret`].
    pub fn open(record: &KeyringRecord, secret: &UnlockSecret) -> Result<Keyring, VaultError> {
        let unlock_key = secret.derive(&record.unlock)?;
        let root_bytes = open(
            &unlock_key,
            ROOT_AAD,
            &unb64(&record.wrapped_root, "root key")?,
        )
        .map_err(|_| VaultError::WrongUnlockSecret)?;
        let root = to_key(&root_bytes, "root key")?;
        let mut data_keys = BTreeMap::new();
        for dk in &record.data_keys {
            let bytes = open(
                &root,
                &data_key_aad(dk.version),
                &unb64(&dk.wrapped, "data key")?,
            )
            .map_err(|_| VaultError::CorruptKeyring("data key does not open"))?;
            data_keys.insert(dk.version, to_key(&bytes, "data key")?);
        }
        if !data_keys.contains_key(&record.current_version) {
            return Err(VaultError::CorruptKeyring("current data key missing"));
        }
        let seed = open(
            &root,
            SIGNING_AAD,
            &unb64(&record.signing_wrapped, "signing key")?,
        )
        .map_err(|_| VaultError::CorruptKeyring("signing key does not open"))?;
        let seed: [u8; 32] = seed[..]
            .try_into()
            .map_err(|_| VaultError::CorruptKeyring("signing key length"))?;
        let signing = SigningKey::from_bytes(&seed);
        if hex::encode(signing.verifying_key().as_bytes()) != record.signing_public {
            return Err(VaultError::CorruptKeyring(
                "signing key does not match its public key",
            ));
        }
        Ok(Keyring {
            root,
            data_keys,
            current: record.current_version,
            signing,
            record: record.clone(),
        })
    }

    /// Takes in a newer stored record written by another process (a rotation or a
    /// passphrase change): new data-key versions are unwrapped with the root key we hold.
    pub fn absorb(&mut self, newer: &KeyringRecord) -> Result<(), VaultError> {
        for dk in &newer.data_keys {
            if self.data_keys.contains_key(&dk.version) {
                continue;
            }
            let bytes = open(
                &self.root,
                &data_key_aad(dk.version),
                &unb64(&dk.wrapped, "data key")?,
            )
            .map_err(|_| VaultError::CorruptKeyring("data key does not open"))?;
            self.data_keys
                .insert(dk.version, to_key(&bytes, "data key")?);
        }
        if !self.data_keys.contains_key(&newer.current_version) {
            return Err(VaultError::CorruptKeyring("current data key missing"));
        }
        self.current = newer.current_version;
        self.record = newer.clone();
        Ok(())
    }

    pub fn record(&self) -> &KeyringRecord {
        &self.record
    }

    pub fn current_version(&self) -> u32 {
        self.current
    }

    pub fn versions(&self) -> impl Iterator<Item = u32> + '_ {
        self.data_keys.keys().copied()
    }

    /// The record with one more data-key version, which all new writes will use.
    /// Nothing changes in memory until the caller has stored it and calls [`Keyring::absorb`],
    /// so a failed write can never leave a key in use that is not on disk.
    pub fn rotated(&self, now_ms: i64, rng: &mut (impl RngCore + CryptoRng)) -> KeyringRecord {
        let version = self.current + 1;
        let key = SecretKey::random(rng);
        let mut record = self.record.clone();
        record.data_keys.push(DataKeyRecord {
            version,
            wrapped: b64(&seal(&self.root, &data_key_aad(version), key.expose(), rng)),
            created_at_ms: now_ms,
        });
        record.current_version = version;
        record
    }

    /// The record with the root key re-wrapped under a new unlock secret; nothing
    /// below the root changes.
    pub fn with_new_unlock(
        &self,
        new_secret: &UnlockSecret,
        params: KdfParams,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<KeyringRecord, VaultError> {
        let unlock = new_secret.new_method(params, salt(rng));
        let unlock_key = new_secret.derive(&unlock)?;
        let mut record = self.record.clone();
        record.wrapped_root = b64(&seal(&unlock_key, ROOT_AAD, self.root.expose(), rng));
        record.unlock = unlock;
        Ok(record)
    }

    /// A fresh customer key under the current data key.
    pub fn new_customer_key(
        &self,
        customer: Uuid,
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<(SecretKey, WrappedCustomerKey), VaultError> {
        let version = self.current;
        let dk = self
            .data_keys
            .get(&version)
            .ok_or(VaultError::UnknownVersion(version))?;
        let key = SecretKey::random(rng);
        let wrapped = seal(dk, &customer_key_aad(customer, version), key.expose(), rng);
        Ok((key, WrappedCustomerKey { version, wrapped }))
    }

    pub fn open_customer_key(
        &self,
        customer: Uuid,
        stored: &WrappedCustomerKey,
    ) -> Result<SecretKey, VaultError> {
        let dk = self
            .data_keys
            .get(&stored.version)
            .ok_or(VaultError::UnknownVersion(stored.version))?;
        let bytes = open(
            dk,
            &customer_key_aad(customer, stored.version),
            &stored.wrapped,
        )?;
        to_key(&bytes, "customer key")
    }

    /// Keyed blind index of a normalised value: equal values give equal digests,
    /// and without the key the digest says nothing about the value.
    pub fn blind_index(&self, label: &str, normalized: &str) -> [u8; 32] {
        let index_key = self.derive(&format!("bulwark blind-index v1 {label}"));
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(index_key.expose()) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC accepts any key length"),
        };
        mac.update(normalized.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Seals an operational secret (a webhook signing secret, say) under a key
    /// derived from the root key, bound to `label`; it survives rotations and
    /// passphrase changes like the root key does.
    pub fn seal_secret(
        &self,
        label: &str,
        secret: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Vec<u8> {
        let key = self.secret_key(label);
        seal(&key, label.as_bytes(), secret, rng)
    }

    pub fn open_secret(
        &self,
        label: &str,
        sealed: &[u8],
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, VaultError> {
        let key = self.secret_key(label);
        open(&key, label.as_bytes(), sealed)
    }

    fn secret_key(&self, label: &str) -> SecretKey {
        self.derive(&format!("bulwark secret v1 {label}"))
    }

    /// A key derived from the root key for one purpose (`info` names it), so keys
    /// for different purposes never coincide and all survive passphrase changes.
    fn derive(&self, info: &str) -> SecretKey {
        let mut k = [0u8; 32];
        // 32 bytes is always a valid HKDF-SHA256 output length.
        if Hkdf::<Sha256>::new(None, self.root.expose())
            .expand(info.as_bytes(), &mut k)
            .is_err()
        {
            unreachable!("HKDF output length is fixed at 32");
        }
        let key = SecretKey::from_bytes(k);
        zeroize::Zeroize::zeroize(&mut k);
        key
    }

    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.signing.verifying_key().to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;
    use zeroize::Zeroizing;

    fn cheap() -> KdfParams {
        KdfParams {
            memory_kib: KdfParams::MIN_MEMORY_KIB,
            iterations: 1,
            lanes: 1,
        }
    }

    fn pass(p: &str) -> UnlockSecret {
        UnlockSecret::passphrase(Zeroizing::new(p.to_owned())).unwrap()
    }

    #[test]
    fn wrong_passphrase_is_rejected_clearly() {
        let kr = Keyring::create(&pass("correct horse battery"), cheap(), 0, &mut OsRng).unwrap();
        let rec = kr.record().clone();
        let err = Keyring::open(&rec, &pass("incorrect horse battery"))
            .err()
            .unwrap();
        assert!(matches!(err, VaultError::WrongUnlockSecret));
        assert!(err.to_string().contains("wrong passphrase"));
        assert!(Keyring::open(&rec, &pass("correct horse battery")).is_ok());
        assert!(matches!(
            UnlockSecret::passphrase(Zeroizing::new("short".into())),
            Err(VaultError::WeakPassphrase(_))
        ));
    }

    #[test]
    fn customer_keys_survive_rotation_and_passphrase_change() {
        let mut kr =
            Keyring::create(&pass("correct horse battery"), cheap(), 0, &mut OsRng).unwrap();
        let c = Uuid::from_u128(7);
        let (k1, w1) = kr.new_customer_key(c, &mut OsRng).unwrap();
        let rotated = kr.rotated(1, &mut OsRng);
        kr.absorb(&rotated).unwrap();
        let (_, w2) = kr.new_customer_key(c, &mut OsRng).unwrap();
        assert_eq!((w1.version, w2.version), (1, 2));
        let rec = kr
            .with_new_unlock(&pass("a brand new passphrase"), cheap(), &mut OsRng)
            .unwrap();
        assert!(matches!(
            Keyring::open(&rec, &pass("correct horse battery")),
            Err(VaultError::WrongUnlockSecret)
        ));
        let reopened = Keyring::open(&rec, &pass("a brand new passphrase")).unwrap();
        let k1_again = reopened.open_customer_key(c, &w1).unwrap();
        assert_eq!(k1.expose(), k1_again.expose());
        assert_eq!(
            reopened.blind_index("email", "a@b.co"),
            kr.blind_index("email", "a@b.co")
        );
        assert_ne!(
            reopened.blind_index("email", "a@b.co"),
            reopened.blind_index("phone", "a@b.co")
        );
        // A wrapped key moved to another customer does not open.
        assert!(reopened.open_customer_key(Uuid::from_u128(8), &w1).is_err());
    }

    #[test]
    fn key_files_unlock_and_mismatched_methods_fail() {
        let file = UnlockSecret::key_file(hex::encode([9u8; 32]).as_bytes()).unwrap();
        let kr = Keyring::create(&file, cheap(), 0, &mut OsRng).unwrap();
        let rec = kr.record().clone();
        assert!(Keyring::open(&rec, &file).is_ok());
        let other = UnlockSecret::key_file(&[8u8; 32]).unwrap();
        assert!(matches!(
            Keyring::open(&rec, &other),
            Err(VaultError::WrongUnlockSecret)
        ));
        assert!(matches!(
            Keyring::open(&rec, &pass("correct horse battery")),
            Err(VaultError::UnlockMethodMismatch)
        ));
        assert!(matches!(
            UnlockSecret::key_file(b"too short"),
            Err(VaultError::WeakKeyFile)
        ));
    }
}
