//! AES-256-GCM sealing with associated data that binds a ciphertext to where it belongs.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::{CryptoRng, RngCore};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::{SecretKey, VaultError};

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Seals `plaintext` as `nonce || ciphertext || tag`. Random 96-bit nonces are
/// safe here: each customer key seals at most a few dozen values.
pub(crate) fn seal(
    key: &SecretKey,
    aad: &[u8],
    plaintext: &[u8],
    rng: &mut (impl RngCore + CryptoRng),
) -> Vec<u8> {
    let cipher = Aes256Gcm::new(key.expose().into());
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&nonce);
    // Encryption with a valid key and nonce length cannot fail for inputs below 64 GiB.
    match cipher.encrypt(
        Nonce::from_slice(&nonce),
        Payload {
            msg: plaintext,
            aad,
        },
    ) {
        Ok(ct) => out.extend_from_slice(&ct),
        Err(_) => unreachable!("AES-GCM encryption of an in-memory value"),
    }
    out
}

pub(crate) fn open(
    key: &SecretKey,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(VaultError::Malformed);
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    let cipher = Aes256Gcm::new(key.expose().into());
    cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
        .map(Zeroizing::new)
        .map_err(|_| VaultError::Tampered)
}

/// What a sealed field belongs to. All three parts go into the associated data,
/// so a ciphertext copied to another customer, element or version fails to open.
#[derive(Debug, Clone, Copy)]
pub struct FieldLabel<'a> {
    pub customer: Uuid,
    /// The data-element code, or a reserved label such as `external_id`.
    pub element: &'a str,
    pub version: u32,
}

impl FieldLabel<'_> {
    fn aad(&self) -> Vec<u8> {
        let mut aad = Vec::with_capacity(48 + self.element.len());
        aad.extend_from_slice(b"bulwark-field-v1\0");
        aad.extend_from_slice(self.customer.as_bytes());
        aad.extend_from_slice(&self.version.to_be_bytes());
        aad.extend_from_slice(self.element.as_bytes());
        aad
    }
}

/// Seals one field value under a customer key.
pub fn seal_field(
    customer_key: &SecretKey,
    label: FieldLabel<'_>,
    plaintext: &[u8],
    rng: &mut (impl RngCore + CryptoRng),
) -> Vec<u8> {
    seal(customer_key, &label.aad(), plaintext, rng)
}

/// Opens one field value; fails if it was altered or moved.
pub fn open_field(
    customer_key: &SecretKey,
    label: FieldLabel<'_>,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    open(customer_key, &label.aad(), sealed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn moved_or_altered_ciphertexts_fail() {
        let key = SecretKey::random(&mut OsRng);
        let a = Uuid::from_u128(1);
        let b = Uuid::from_u128(2);
        let label = |c, e, v| FieldLabel {
            customer: c,
            element: e,
            version: v,
        };
        let ct = seal_field(&key, label(a, "email", 1), b"ada@example.com", &mut OsRng);
        assert_eq!(
            &open_field(&key, label(a, "email", 1), &ct).unwrap()[..],
            b"ada@example.com"
        );
        for wrong in [
            label(b, "email", 1),
            label(a, "name", 1),
            label(a, "email", 2),
        ] {
            assert!(matches!(
                open_field(&key, wrong, &ct),
                Err(VaultError::Tampered)
            ));
        }
        let mut flipped = ct.clone();
        flipped[14] ^= 1;
        assert!(matches!(
            open_field(&key, label(a, "email", 1), &flipped),
            Err(VaultError::Tampered)
        ));
        assert!(matches!(
            open_field(&key, label(a, "email", 1), &ct[..10]),
            Err(VaultError::Malformed)
        ));
        let other = SecretKey::random(&mut OsRng);
        assert!(open_field(&other, label(a, "email", 1), &ct).is_err());
    }
}
