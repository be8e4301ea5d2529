//! Operator passwords and recovery codes, hashed with argon2id into PHC
//! strings (`$argon2id$v=19$m=…`), so each hash carries its own cost and salt
//! and a later cost change keeps old hashes verifiable.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::{CryptoRng, RngCore};

use crate::VaultError;

/// argon2id cost for passwords. The default is OWASP's password-storage
/// recommendation (19 MiB, 2 passes, 1 lane): tens of milliseconds per login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCost {
    pub memory_kib: u32,
    pub iterations: u32,
}

impl Default for PasswordCost {
    fn default() -> Self {
        PasswordCost {
            memory_kib: 19 * 1024,
            iterations: 2,
        }
    }
}

fn hasher(cost: PasswordCost) -> Result<Argon2<'static>, VaultError> {
    let params = Params::new(cost.memory_kib, cost.iterations, 1, None)
        .map_err(|e| VaultError::Kdf(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The PHC string of `secret` under a fresh salt.
pub fn hash_password(
    secret: &str,
    cost: PasswordCost,
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<String, VaultError> {
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| VaultError::Kdf(e.to_string()))?;
    Ok(hasher(cost)?
        .hash_password(secret.as_bytes(), &salt)
        .map_err(|e| VaultError::Kdf(e.to_string()))?
        .to_string())
}

/// Whether `secret` matches the stored PHC string (in constant time). A stored
/// string that is not a PHC argon2 hash is an error, not a mismatch.
pub fn verify_password(secret: &str, phc: &str) -> Result<bool, VaultError> {
    let parsed = PasswordHash::new(phc).map_err(|_| VaultError::CorruptKeyring("password hash"))?;
    match Argon2::default().verify_password(secret.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(VaultError::Kdf(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: PasswordCost = PasswordCost {
        memory_kib: 1024,
        iterations: 1,
    };

    #[test]
    fn a_hash_verifies_its_password_and_no_other() {
        let h = hash_password("river otter harbour", CHEAP, &mut rand::rngs::OsRng).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "{h}");
        assert!(verify_password("river otter harbour", &h).unwrap());
        assert!(!verify_password("river otter harbor", &h).unwrap());
        let again = hash_password("river otter harbour", CHEAP, &mut rand::rngs::OsRng).unwrap();
        assert_ne!(h, again, "a fresh salt each time");
    }

    #[test]
    fn a_broken_stored_hash_is_an_error() {
        assert!(verify_password("x", "not a phc string").is_err());
    }
}
