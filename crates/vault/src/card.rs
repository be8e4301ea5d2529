//! Card numbers are replaced by random tokens; only BIN and last four stay visible.

use rand::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize};

/// An opaque reference to a stored card number, safe to keep in the store's own tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct CardToken(pub String);

impl CardToken {
    pub fn random(rng: &mut (impl RngCore + CryptoRng)) -> CardToken {
        let mut b = [0u8; 16];
        rng.fill_bytes(&mut b);
        CardToken(format!("tok_{}", hex::encode(b)))
    }
}

/// What may be displayed without the `card_number` reveal scope (PCI DSS allows
/// at most the first six/eight and last four digits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CardDisplay {
    pub token: CardToken,
    pub bin: String,
    pub last4: String,
}

impl CardDisplay {
    /// `pan` must already be normalised to digits. Long PANs keep an 8-digit BIN
    /// (ISO/IEC 7812 since 2022), shorter ones six, so at least four digits stay hidden.
    pub fn for_pan(pan: &str, rng: &mut (impl RngCore + CryptoRng)) -> CardDisplay {
        let bin_len = if pan.len() >= 16 { 8 } else { 6 };
        let bin_len = bin_len.min(pan.len().saturating_sub(8));
        CardDisplay {
            token: CardToken::random(rng),
            bin: pan[..bin_len].to_owned(),
            last4: pan[pan.len().saturating_sub(4)..].to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn display_hides_the_middle() {
        let d = CardDisplay::for_pan("4111111111111111", &mut OsRng);
        assert_eq!((d.bin.as_str(), d.last4.as_str()), ("41111111", "1111"));
        assert!(d.token.0.starts_with("tok_") && d.token.0.len() == 36);
        let d = CardDisplay::for_pan("378282246310005", &mut OsRng);
        assert_eq!((d.bin.as_str(), d.last4.as_str()), ("378282", "0005"));
        let d = CardDisplay::for_pan("123456789012", &mut OsRng);
        assert_eq!(d.bin.len() + d.last4.len(), 8);
    }
}
