//! Time-based one-time passwords (RFC 6238: HMAC-SHA-1, 6 digits, 30-second
//! steps, one step of clock drift either way), through `totp-rs`. A code is
//! accepted once: the caller keeps the last accepted step and passes it to
//! [`TotpSecret::verify`], which refuses that step and every earlier one, so a
//! code seen over a shoulder or in a phished form cannot be replayed.

use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};
use zeroize::Zeroizing;

const STEP: u64 = 30;
const DIGITS: usize = 6;
/// 160 bits, the HMAC-SHA-1 block RFC 4226 recommends.
pub const SECRET_LEN: usize = 20;

/// An operator's TOTP secret; wiped when dropped.
pub struct TotpSecret(Zeroizing<Vec<u8>>);

/// Why a code was not accepted. Never contains the code or the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    #[error("the code is not 6 digits")]
    Malformed,
    #[error("the code is wrong or expired")]
    Wrong,
    #[error("the code was already used; wait for the next one")]
    Replayed,
    #[error("the TOTP secret is not {SECRET_LEN} bytes")]
    BadSecret,
}

impl TotpSecret {
    /// From stored (or freshly drawn) secret bytes.
    pub fn from_bytes(bytes: Zeroizing<Vec<u8>>) -> Result<TotpSecret, TotpError> {
        if bytes.len() != SECRET_LEN {
            return Err(TotpError::BadSecret);
        }
        Ok(TotpSecret(bytes))
    }

    /// From the base32 form an authenticator shows (what a user types in).
    pub fn from_base32(text: &str) -> Result<TotpSecret, TotpError> {
        let bytes = totp_rs::Secret::Encoded(text.trim().to_ascii_uppercase())
            .to_bytes()
            .map_err(|_| TotpError::BadSecret)?;
        TotpSecret::from_bytes(Zeroizing::new(bytes))
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }

    fn totp(&self, account: &str) -> Result<TOTP, TotpError> {
        TOTP::new(
            Algorithm::SHA1,
            DIGITS,
            1,
            STEP,
            self.0.to_vec(),
            Some("Bulwark".to_owned()),
            account.replace(':', "_"),
        )
        .map_err(|_| TotpError::BadSecret)
    }

    /// The `otpauth://totp/…` URI an authenticator app scans (as a QR code).
    pub fn otpauth_uri(&self, account: &str) -> Result<String, TotpError> {
        Ok(self.totp(account)?.get_url())
    }

    /// The secret in base32, for typing into an authenticator by hand.
    pub fn base32(&self) -> Result<String, TotpError> {
        Ok(self.totp("x")?.get_secret_base32())
    }

    /// The code for `unix` seconds (for tests and the enrolment check).
    pub fn code_at(&self, unix: u64) -> Result<String, TotpError> {
        Ok(self.totp("x")?.generate(unix))
    }

    /// Checks `code` at `unix` seconds against the steps now-1, now, now+1,
    /// refusing any step at or before `last_step` (the last accepted). Returns
    /// the step to store as the new last accepted one.
    pub fn verify(&self, code: &str, unix: u64, last_step: Option<u64>) -> Result<u64, TotpError> {
        let code = code.trim();
        if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TotpError::Malformed);
        }
        let totp = self.totp("x")?;
        let now = unix / STEP;
        let mut matched = None;
        for step in [now.saturating_sub(1), now, now + 1] {
            let expected = totp.generate(step * STEP);
            if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
                matched = Some(step);
            }
        }
        match matched {
            None => Err(TotpError::Wrong),
            Some(step) if last_step.is_some_and(|last| step <= last) => Err(TotpError::Replayed),
            Some(step) => Ok(step),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> TotpSecret {
        // RFC 6238 appendix B's SHA-1 seed: "12345678901234567890".
        TotpSecret::from_bytes(Zeroizing::new(b"12345678901234567890".to_vec())).unwrap()
    }

    #[test]
    fn rfc_6238_test_vectors() {
        // Appendix B lists 8-digit codes; the 6-digit code is their last six.
        for (t, code) in [
            (59, "287082"),
            (1111111109, "081804"),
            (1234567890, "005924"),
            (2000000000, "279037"),
        ] {
            assert_eq!(secret().code_at(t).unwrap(), code, "t={t}");
        }
    }

    #[test]
    fn one_step_of_drift_either_way_and_no_more() {
        let s = secret();
        let t = 1_700_000_000;
        let now = s.code_at(t).unwrap();
        assert_eq!(s.verify(&now, t, None), Ok(t / 30));
        assert!(s.verify(&s.code_at(t - 30).unwrap(), t, None).is_ok());
        assert!(s.verify(&s.code_at(t + 30).unwrap(), t, None).is_ok());
        assert_eq!(
            s.verify(&s.code_at(t - 90).unwrap(), t, None),
            Err(TotpError::Wrong)
        );
    }

    #[test]
    fn a_code_is_accepted_once() {
        let s = secret();
        let t = 1_700_000_000;
        let code = s.code_at(t).unwrap();
        let step = s.verify(&code, t, None).unwrap();
        assert_eq!(s.verify(&code, t + 5, Some(step)), Err(TotpError::Replayed));
        // An older code, still inside the drift window, is refused too.
        let older = s.code_at(t - 30).unwrap();
        assert_eq!(s.verify(&older, t, Some(step)), Err(TotpError::Replayed));
        // The next step's code is fine.
        assert!(s
            .verify(&s.code_at(t + 30).unwrap(), t + 30, Some(step))
            .is_ok());
    }

    #[test]
    fn base32_round_trips() {
        let b32 = secret().base32().unwrap();
        assert_eq!(
            TotpSecret::from_base32(&b32).unwrap().bytes(),
            b"12345678901234567890"
        );
        assert_eq!(
            TotpSecret::from_base32("not base32!").err(),
            Some(TotpError::BadSecret)
        );
    }

    #[test]
    fn malformed_codes_are_named() {
        let s = secret();
        for c in ["", "12345", "1234567", "12a456"] {
            assert_eq!(s.verify(c, 59, None), Err(TotpError::Malformed), "{c:?}");
        }
    }

    #[test]
    fn the_uri_carries_issuer_account_and_parameters() {
        let uri = secret().otpauth_uri("ana@shop.example").unwrap();
        assert!(
            uri.starts_with("otpauth://totp/Bulwark:ana%40shop.example?"),
            "{uri}"
        );
        assert!(
            uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{uri}"
        );
        assert!(uri.contains("issuer=Bulwark"), "{uri}");
    }
}
