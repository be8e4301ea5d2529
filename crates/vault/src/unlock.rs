//! Turning what the operator holds (a passphrase or a key file) into the unlock key.

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{SecretKey, VaultError};

pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// argon2id cost. The defaults follow RFC 9106's second recommended option
/// scaled to one lane; `init` may lower memory for constrained hosts, not below 8 MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub lanes: u32,
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams {
            memory_kib: 64 * 1024,
            iterations: 3,
            lanes: 1,
        }
    }
}

impl KdfParams {
    pub const MIN_MEMORY_KIB: u32 = 8 * 1024;
}

/// How the keyring is unlocked, recorded (without secrets) in the keyring record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum UnlockMethod {
    Passphrase { params: KdfParams, salt: String },
    KeyFile { salt: String },
}

/// What the operator supplies.
pub enum UnlockSecret {
    Passphrase(Zeroizing<String>),
    KeyFile(Zeroizing<Vec<u8>>),
}

impl UnlockSecret {
    /// Reads a key file's contents: raw bytes, or hex, or base64 text.
    pub fn key_file(contents: &[u8]) -> Result<UnlockSecret, VaultError> {
        let text = std::str::from_utf8(contents).ok().map(str::trim);
        let decoded: Zeroizing<Vec<u8>> = match text {
            Some(t) if t.len() >= 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Zeroizing::new(decode_hex(t).ok_or(VaultError::WeakKeyFile)?)
            }
            Some(t) if t.len() >= 43 => match base64::engine::general_purpose::STANDARD.decode(t) {
                Ok(b) => Zeroizing::new(b),
                Err(_) => Zeroizing::new(contents.to_vec()),
            },
            _ => Zeroizing::new(contents.to_vec()),
        };
        if decoded.len() < 32 {
            return Err(VaultError::WeakKeyFile);
        }
        Ok(UnlockSecret::KeyFile(decoded))
    }

    pub fn passphrase(p: Zeroizing<String>) -> Result<UnlockSecret, VaultError> {
        if p.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(VaultError::WeakPassphrase(MIN_PASSPHRASE_CHARS));
        }
        Ok(UnlockSecret::Passphrase(p))
    }

    /// A fresh method record (new salt) for this secret.
    pub(crate) fn new_method(&self, params: KdfParams, salt: [u8; 16]) -> UnlockMethod {
        let salt = hex::encode(salt);
        match self {
            UnlockSecret::Passphrase(_) => UnlockMethod::Passphrase { params, salt },
            UnlockSecret::KeyFile(_) => UnlockMethod::KeyFile { salt },
        }
    }

    pub(crate) fn derive(&self, method: &UnlockMethod) -> Result<SecretKey, VaultError> {
        let mut out = [0u8; 32];
        match (self, method) {
            (UnlockSecret::Passphrase(p), UnlockMethod::Passphrase { params, salt }) => {
                let salt = decode_hex(salt).ok_or(VaultError::CorruptKeyring("salt"))?;
                let params =
                    Params::new(params.memory_kib, params.iterations, params.lanes, Some(32))
                        .map_err(|e| VaultError::Kdf(e.to_string()))?;
                Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                    .hash_password_into(p.as_bytes(), &salt, &mut out)
                    .map_err(|e| VaultError::Kdf(e.to_string()))?;
            }
            (UnlockSecret::KeyFile(bytes), UnlockMethod::KeyFile { salt }) => {
                let salt = decode_hex(salt).ok_or(VaultError::CorruptKeyring("salt"))?;
                // The key file is already high-entropy: HKDF, not a password hash.
                Hkdf::<Sha256>::new(Some(&salt), bytes)
                    .expand(b"bulwark unlock key v1", &mut out)
                    .map_err(|e| VaultError::Kdf(e.to_string()))?;
            }
            _ => return Err(VaultError::UnlockMethodMismatch),
        }
        let key = SecretKey::from_bytes(out);
        zeroize::Zeroize::zeroize(&mut out);
        Ok(key)
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s).ok()
}
