//! The vault's cryptography, with no I/O.
//!
//! Key hierarchy (see ARCHITECTURE.md):
//!
//! ```text
//! passphrase ─argon2id─┐
//! key file ────HKDF────┴─► unlock key ─wraps─► root key ─wraps─► data key v1, v2, …  ─wraps─► customer key (per customer, per version) ─seals─► fields
//!                                               │     └─wraps─► ledger signing key (ed25519)
//!                                               └─HKDF─► blind-index keys (per element)
//! ```
//!
//! Changing the passphrase re-wraps only the root key. Rotating adds a data-key
//! version. Erasing a customer destroys its customer keys (crypto-shredding).
#![forbid(unsafe_code)]

mod aead;
mod card;
mod error;
mod keyring;
mod password;
mod secret;
mod unlock;

pub use aead::{open_field, seal_field, FieldCipher, FieldLabel};
pub use card::{CardDisplay, CardToken};
pub use error::VaultError;
pub use keyring::{DataKeyRecord, Keyring, KeyringRecord, WrappedCustomerKey};
pub use password::{hash_password, verify_password, PasswordCost};
pub use secret::SecretKey;
pub use unlock::{KdfParams, UnlockMethod, UnlockSecret};
