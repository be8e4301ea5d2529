//! The 32-byte SHA-256 value that links entries, shown and serialised as hex.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A SHA-256 digest. A newtype rather than a bare array so that it prints, parses
/// and serialises as lowercase hex everywhere (CLI output, JSON, checkpoint files).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The `prev_hash` of entry 1 and the hash of the empty ledger.
    pub const ZERO: Hash = Hash([0; 32]);

    /// The raw bytes, e.g. for a BLOB column.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl From<[u8; 32]> for Hash {
    fn from(bytes: [u8; 32]) -> Self {
        Hash(bytes)
    }
}

/// Storage hands back BLOBs of unchecked length; this refuses anything but 32 bytes.
impl TryFrom<&[u8]> for Hash {
    type Error = HashParseError;

    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        <[u8; 32]>::try_from(bytes)
            .map(Hash)
            .map_err(|_| HashParseError::WrongLength {
                actual_bytes: bytes.len(),
            })
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({self})")
    }
}

/// Why a hex string or byte slice is not a [`struct@Hash`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HashParseError {
    /// Not hexadecimal at all.
    #[error("a hash must be hexadecimal: {0}")]
    NotHex(#[from] hex::FromHexError),
    /// Decoded, but not SHA-256 sized.
    #[error("a hash must be 32 bytes (64 hex characters), got {actual_bytes} bytes")]
    WrongLength {
        /// How many bytes were supplied.
        actual_bytes: usize,
    },
}

impl FromStr for Hash {
    type Err = HashParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = hex::decode(s)?;
        Hash::try_from(bytes.as_slice())
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_length_checked() {
        let h = Hash([0xab; 32]);
        let text = h.to_string();
        assert_eq!(text.len(), 64);
        assert_eq!(text.parse::<Hash>().unwrap(), h);
        assert_eq!(
            "abcd".parse::<Hash>(),
            Err(HashParseError::WrongLength { actual_bytes: 2 })
        );
        assert!(matches!(
            "zz".repeat(32).parse::<Hash>(),
            Err(HashParseError::NotHex(_))
        ));
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(json, format!("\"{text}\""));
        assert_eq!(serde_json::from_str::<Hash>(&json).unwrap(), h);
    }
}
