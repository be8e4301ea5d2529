/// Errors name what failed, never a value or key.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("wrong passphrase or key file: the keyring could not be unlocked")]
    WrongUnlockSecret,
    #[error("the keyring was unlocked with a passphrase but a key file was given, or the reverse")]
    UnlockMethodMismatch,
    #[error("passphrase too short: use at least {0} characters")]
    WeakPassphrase(usize),
    #[error("key file must hold at least 32 bytes of random data (raw, hex or base64)")]
    WeakKeyFile,
    #[error("ciphertext failed authentication: it was altered, moved to another customer or element, or sealed under another key")]
    Tampered,
    #[error("ciphertext is truncated or malformed")]
    Malformed,
    #[error("data key version {0} is not in the keyring")]
    UnknownVersion(u32),
    #[error("data key version {version} is below the minimum decryption version {min}")]
    BelowMinimumVersion { version: u32, min: u32 },
    #[error("key derivation failed: {0}")]
    Kdf(String),
    #[error("keyring record is corrupt: {0}")]
    CorruptKeyring(&'static str),
}
