//! Signed checkpoints: a commitment to the chain head at a point in time.

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::entry::Head;
use crate::hash::Hash;

/// Keeps checkpoint signatures from being valid for any other message the same
/// key might sign, and versions the message layout.
const CHECKPOINT_DOMAIN: &[u8] = b"bulwark-checkpoint-v1\0";

/// The chain head and entry count at a time, signed.
///
/// A checkpoint kept off the box lets anyone later prove that the first `seq`
/// entries were neither rewritten (their last hash would differ) nor dropped (the
/// log would end before `seq`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Number of entries covered (seq of the last one).
    pub seq: u64,
    /// Hash of entry `seq`.
    pub head_hash: Hash,
    /// When the checkpoint was made, Unix milliseconds.
    pub at_ms: i64,
    /// ed25519 key that signed; included so a file can be checked on its own,
    /// but only trust it when it equals a key you expected.
    pub public_key: [u8; 32],
    /// ed25519 signature over [`Checkpoint::message`].
    pub signature: [u8; 64],
}

/// Why a checkpoint's signature does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    /// The public key bytes are not a valid ed25519 point.
    #[error("the checkpoint at entry {seq} names a public key that is not a valid ed25519 key")]
    MalformedPublicKey {
        /// Seq the checkpoint covers.
        seq: u64,
    },
    /// The signature does not verify under the checkpoint's own key.
    #[error("the checkpoint at entry {seq} has a bad signature: it was altered after signing or never signed by its key")]
    BadSignature {
        /// Seq the checkpoint covers.
        seq: u64,
    },
    /// Validly signed, but by a key nobody said to trust.
    #[error("the checkpoint at entry {seq} was signed by key {public_key}, not by the expected ledger key")]
    UntrustedKey {
        /// Seq the checkpoint covers.
        seq: u64,
        /// Hex of the key that signed.
        public_key: String,
    },
}

/// Why a checkpoint file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointParseError {
    /// Not JSON, or JSON without the checkpoint's fields and types.
    #[error("not a valid checkpoint file: {0}")]
    Json(#[from] serde_json::Error),
    /// A hex field does not decode.
    #[error("checkpoint field `{field}` is not valid hex")]
    BadHex {
        /// JSON field name.
        field: &'static str,
    },
    /// A hex field decodes to the wrong number of bytes.
    #[error("checkpoint field `{field}` must be {expected_bytes} bytes, got {actual_bytes}")]
    BadLength {
        /// JSON field name.
        field: &'static str,
        /// Required size.
        expected_bytes: usize,
        /// Size found.
        actual_bytes: usize,
    },
    /// `at` is not a timestamp, or names a different instant than the signed `at_ms`.
    #[error("checkpoint field `at` does not agree with `at_ms` ({at_ms}); `at` is only a readable copy of `at_ms`")]
    TimeMismatch {
        /// The signed value.
        at_ms: i64,
    },
}

impl Checkpoint {
    /// Signs `head` as of `at_ms`.
    pub fn sign(head: &Head, at_ms: i64, key: &SigningKey) -> Checkpoint {
        let public_key = key.verifying_key().to_bytes();
        let message = Self::message_for(head.seq, &head.hash, at_ms, &public_key);
        Checkpoint {
            seq: head.seq,
            head_hash: head.hash,
            at_ms,
            public_key,
            signature: key.sign(&message).to_bytes(),
        }
    }

    /// The head this checkpoint commits to.
    pub fn head(&self) -> Head {
        Head {
            seq: self.seq,
            hash: self.head_hash,
        }
    }

    /// The exact bytes signed: domain tag, seq (u64 BE), head hash, at_ms (i64 BE),
    /// public key. Fixed-width fields only, so the layout is unambiguous; the key is
    /// included so a signature cannot be re-attributed to another key.
    pub fn message(&self) -> Vec<u8> {
        Self::message_for(self.seq, &self.head_hash, self.at_ms, &self.public_key)
    }

    fn message_for(seq: u64, head_hash: &Hash, at_ms: i64, public_key: &[u8; 32]) -> Vec<u8> {
        let mut m = Vec::with_capacity(CHECKPOINT_DOMAIN.len() + 8 + 32 + 8 + 32);
        m.extend_from_slice(CHECKPOINT_DOMAIN);
        m.extend_from_slice(&seq.to_be_bytes());
        m.extend_from_slice(&head_hash.0);
        m.extend_from_slice(&at_ms.to_be_bytes());
        m.extend_from_slice(public_key);
        m
    }

    /// Checks the signature against the checkpoint's own key. This only proves the
    /// holder of `public_key` signed it; use [`Checkpoint::verify_signed_by`] to
    /// also pin which key that must be.
    pub fn verify_signature(&self) -> Result<(), LedgerError> {
        let key = VerifyingKey::from_bytes(&self.public_key)
            .map_err(|_| LedgerError::MalformedPublicKey { seq: self.seq })?;
        let signature = Signature::from_bytes(&self.signature);
        // Strict: rejects weak keys and malleable signatures, so one checkpoint
        // has exactly one valid encoding.
        key.verify_strict(&self.message(), &signature)
            .map_err(|_| LedgerError::BadSignature { seq: self.seq })
    }

    /// Checks the signature and that it was made by `expected_key`.
    pub fn verify_signed_by(&self, expected_key: &[u8; 32]) -> Result<(), LedgerError> {
        if &self.public_key != expected_key {
            return Err(LedgerError::UntrustedKey {
                seq: self.seq,
                public_key: hex::encode(self.public_key),
            });
        }
        self.verify_signature()
    }

    /// Pretty JSON for printing and keeping off the box.
    pub fn to_json_pretty(&self) -> String {
        // Serialising plain strings and integers into a String cannot fail.
        serde_json::to_string_pretty(&CheckpointJson::from(self)).unwrap_or_default()
    }

    /// Reads a checkpoint file (as written by [`Checkpoint::to_json_pretty`]).
    /// Only checks the format; call [`Checkpoint::verify_signed_by`] to trust it.
    pub fn from_json(text: &str) -> Result<Checkpoint, CheckpointParseError> {
        let raw: CheckpointJson = serde_json::from_str(text)?;
        Checkpoint::try_from(raw)
    }

    /// `at_ms` as RFC 3339 UTC with milliseconds, if it is a representable date.
    pub fn at_rfc3339(&self) -> Option<String> {
        rfc3339_from_ms(self.at_ms)
    }
}

fn rfc3339_from_ms(at_ms: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

/// The on-disk JSON shape: hex strings, plus `at` so a person can read the time.
#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Checkpoint))]
#[serde(deny_unknown_fields)]
struct CheckpointJson {
    /// Number of entries covered (seq of the last one).
    seq: u64,
    /// SHA-256 of entry `seq`, hex.
    head_hash: String,
    /// `at_ms` as RFC 3339, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<String>,
    at_ms: i64,
    /// ed25519 public key, hex.
    public_key: String,
    /// ed25519 signature, hex.
    signature: String,
}

/// A checkpoint's schema is that of its JSON form.
#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Checkpoint {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
        <CheckpointJson as utoipa::PartialSchema>::schema()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Checkpoint {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("Checkpoint")
    }
}

impl From<&Checkpoint> for CheckpointJson {
    fn from(c: &Checkpoint) -> Self {
        CheckpointJson {
            seq: c.seq,
            head_hash: c.head_hash.to_string(),
            at: c.at_rfc3339(),
            at_ms: c.at_ms,
            public_key: hex::encode(c.public_key),
            signature: hex::encode(c.signature),
        }
    }
}

fn decode_fixed<const N: usize>(
    field: &'static str,
    text: &str,
) -> Result<[u8; N], CheckpointParseError> {
    let bytes = hex::decode(text).map_err(|_| CheckpointParseError::BadHex { field })?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| CheckpointParseError::BadLength {
        field,
        expected_bytes: N,
        actual_bytes: bytes.len(),
    })
}

impl TryFrom<CheckpointJson> for Checkpoint {
    type Error = CheckpointParseError;

    fn try_from(raw: CheckpointJson) -> Result<Self, Self::Error> {
        if let Some(at) = &raw.at {
            // `at` is not signed; refuse a file whose readable time could mislead.
            let agrees = OffsetDateTime::parse(at, &Rfc3339)
                .map(|t| t.unix_timestamp_nanos() == i128::from(raw.at_ms) * 1_000_000)
                .unwrap_or(false);
            if !agrees {
                return Err(CheckpointParseError::TimeMismatch { at_ms: raw.at_ms });
            }
        }
        Ok(Checkpoint {
            seq: raw.seq,
            head_hash: Hash(decode_fixed("head_hash", &raw.head_hash)?),
            at_ms: raw.at_ms,
            public_key: decode_fixed("public_key", &raw.public_key)?,
            signature: decode_fixed("signature", &raw.signature)?,
        })
    }
}

impl Serialize for Checkpoint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        CheckpointJson::from(self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Checkpoint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = CheckpointJson::deserialize(deserializer)?;
        Checkpoint::try_from(raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SigningKey {
        SigningKey::from_bytes(&[byte; 32])
    }

    fn sample() -> Checkpoint {
        let head = Head {
            seq: 42,
            hash: Hash([7; 32]),
        };
        Checkpoint::sign(&head, 1_763_900_000_123, &key(1))
    }

    #[test]
    fn signed_checkpoint_verifies_and_pins_key() {
        let c = sample();
        assert_eq!(c.verify_signature(), Ok(()));
        assert_eq!(
            c.verify_signed_by(&key(1).verifying_key().to_bytes()),
            Ok(())
        );
        let other = key(2).verifying_key().to_bytes();
        assert!(matches!(
            c.verify_signed_by(&other),
            Err(LedgerError::UntrustedKey { seq: 42, .. })
        ));
    }

    #[test]
    fn any_change_to_a_signed_field_breaks_the_signature() {
        let base = sample();
        let mut changed = vec![base.clone(), base.clone(), base.clone(), base.clone()];
        changed[0].seq += 1;
        changed[1].head_hash.0[0] ^= 1;
        changed[2].at_ms += 1;
        changed[3].signature[10] ^= 1;
        for c in changed {
            assert_eq!(
                c.verify_signature(),
                Err(LedgerError::BadSignature { seq: c.seq })
            );
        }
        // Swapping in another key (and claiming it signed) must not verify either.
        let mut rekeyed = base;
        rekeyed.public_key = key(2).verifying_key().to_bytes();
        assert_eq!(
            rekeyed.verify_signature(),
            Err(LedgerError::BadSignature { seq: 42 })
        );
    }

    #[test]
    fn json_round_trip_keeps_signature_valid() {
        let c = sample();
        let text = c.to_json_pretty();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["seq"], 42);
        assert_eq!(v["at_ms"], 1_763_900_000_123i64);
        assert_eq!(v["at"], "2025-11-23T12:13:20.123Z");
        assert_eq!(v["head_hash"], "07".repeat(32));
        let back = Checkpoint::from_json(&text).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.verify_signature(), Ok(()));
        // Also through serde, as the CLI's --json output embeds it.
        let embedded = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Checkpoint>(&embedded).unwrap(), c);
    }

    #[test]
    fn malformed_files_give_typed_errors() {
        let good: serde_json::Value = serde_json::from_str(&sample().to_json_pretty()).unwrap();
        let with = |field: &str, value: serde_json::Value| {
            let mut v = good.clone();
            v[field] = value;
            Checkpoint::from_json(&v.to_string())
        };

        assert!(matches!(
            Checkpoint::from_json("not json"),
            Err(CheckpointParseError::Json(_))
        ));
        let mut missing = good.clone();
        missing.as_object_mut().unwrap().remove("signature");
        let err = Checkpoint::from_json(&missing.to_string()).unwrap_err();
        assert!(matches!(err, CheckpointParseError::Json(_)));
        assert!(err.to_string().contains("signature"), "{err}");

        assert!(matches!(
            with("head_hash", "xyz".into()),
            Err(CheckpointParseError::BadHex { field: "head_hash" })
        ));
        assert!(matches!(
            with("signature", "abcd".into()),
            Err(CheckpointParseError::BadLength {
                field: "signature",
                expected_bytes: 64,
                actual_bytes: 2
            })
        ));
        assert!(matches!(
            with("at", "2020-01-01T00:00:00Z".into()),
            Err(CheckpointParseError::TimeMismatch { .. })
        ));
        assert!(matches!(
            with("seq", (-1).into()),
            Err(CheckpointParseError::Json(_))
        ));
        // `at` is optional: at_ms alone is the signed value.
        let mut no_at = good.clone();
        no_at.as_object_mut().unwrap().remove("at");
        assert_eq!(Checkpoint::from_json(&no_at.to_string()).unwrap(), sample());
    }
}
