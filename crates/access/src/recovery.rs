//! Recovery codes: ten single-use codes shown once at enrolment, for an
//! operator who lost their authenticator. Each is 10 characters of a 31-letter
//! alphabet without look-alikes (about 49 bits), shown as `xxxxx-xxxxx`;
//! stored only as a hash by the caller.

/// How many codes an operator gets.
pub const RECOVERY_CODES: usize = 10;

const ALPHABET: &[u8; 31] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// Ten codes from caller-drawn random bytes (10 per code; 100 in all).
pub fn recovery_codes(random: &[u8; RECOVERY_CODES * 10]) -> Vec<String> {
    random
        .chunks(10)
        .map(|chunk| {
            let s: String = chunk
                .iter()
                // 256 % 31 = 8: a bias of a fraction of a bit over 10 letters.
                .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
                .collect();
            format!("{}-{}", &s[..5], &s[5..])
        })
        .collect()
}

/// The form a typed code is compared in: lower case, without spaces or dashes.
pub fn normalize_recovery_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_distinct_readable_codes() {
        let mut random = [0u8; 100];
        for (i, b) in random.iter_mut().enumerate() {
            *b = (i * 37 % 251) as u8;
        }
        let codes = recovery_codes(&random);
        assert_eq!(codes.len(), 10);
        for c in &codes {
            assert_eq!(c.len(), 11);
            assert_eq!(&c[5..6], "-");
            assert!(
                c.chars()
                    .all(|ch| ch == '-' || (ch.is_ascii_alphanumeric() && !"ilo01".contains(ch))),
                "{c}"
            );
        }
        let unique: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        assert_eq!(normalize_recovery_code(" ABCDE-fghjk "), "abcdefghjk");
    }
}
