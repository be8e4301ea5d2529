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

const AAD_TAG: &[u8] = b"bulwark-field-v1\0";
const AAD_MAX: usize = 17 + 16 + 4 + 64;

impl FieldLabel<'_> {
    /// Written into a stack buffer: this runs for every field of every reveal.
    fn aad<'b>(&self, buf: &'b mut [u8; AAD_MAX]) -> Result<&'b [u8], VaultError> {
        let element = self.element.as_bytes();
        let len = AAD_TAG.len() + 16 + 4 + element.len();
        if len > AAD_MAX {
            return Err(VaultError::Malformed);
        }
        buf[..17].copy_from_slice(AAD_TAG);
        buf[17..33].copy_from_slice(self.customer.as_bytes());
        buf[33..37].copy_from_slice(&self.version.to_be_bytes());
        buf[37..len].copy_from_slice(element);
        Ok(&buf[..len])
    }
}

/// One customer key, expanded once and used for all of that customer's fields.
pub struct FieldCipher(Aes256Gcm);

impl FieldCipher {
    pub fn new(customer_key: &SecretKey) -> FieldCipher {
        FieldCipher(Aes256Gcm::new(customer_key.expose().into()))
    }

    pub fn seal(
        &self,
        label: FieldLabel<'_>,
        plaintext: &[u8],
        rng: &mut (impl RngCore + CryptoRng),
    ) -> Result<Vec<u8>, VaultError> {
        let mut buf = [0u8; AAD_MAX];
        let aad = label.aad(&mut buf)?;
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let ct = self
            .0
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| VaultError::Malformed)?;
        let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Fails if the value was altered or moved to another customer, element or version.
    pub fn open(
        &self,
        label: FieldLabel<'_>,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(VaultError::Malformed);
        }
        let mut buf = [0u8; AAD_MAX];
        let aad = label.aad(&mut buf)?;
        let (nonce, ct) = sealed.split_at(NONCE_LEN);
        self.0
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map(Zeroizing::new)
            .map_err(|_| VaultError::Tampered)
    }
}

/// Seals one field value under a customer key.
pub fn seal_field(
    customer_key: &SecretKey,
    label: FieldLabel<'_>,
    plaintext: &[u8],
    rng: &mut (impl RngCore + CryptoRng),
) -> Result<Vec<u8>, VaultError> {
    FieldCipher::new(customer_key).seal(label, plaintext, rng)
}

/// Opens one field value; fails if it was altered or moved.
pub fn open_field(
    customer_key: &SecretKey,
    label: FieldLabel<'_>,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    FieldCipher::new(customer_key).open(label, sealed)
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
        let ct = seal_field(&key, label(a, "email", 1), b"ada@example.com", &mut OsRng).unwrap();
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

#[cfg(test)]
mod zeroize_tests {
    /// The cached ciphers hold expanded keys; they must wipe them when dropped.
    /// (GHASH's key lives in polyval, whose x86 backend wipes it in `Drop` under
    /// the same feature, without the marker trait.)
    #[test]
    fn expanded_keys_zeroize_on_drop() {
        fn wipes<T: zeroize::ZeroizeOnDrop>() {}
        wipes::<aes::Aes256>();
    }
}
