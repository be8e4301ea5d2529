//! The password policy (OWASP ASVS 5.0 §6.2): a length window, no composition
//! rules, and no password an attacker tries first — the breached and common
//! passwords of zxcvbn's frequency lists, the operator's own name or e-mail,
//! and patterns guessed within a million tries (keyboard walks, repeats,
//! sequences, dates).

/// Shortest accepted password (ASVS 6.2.1).
pub const MIN_LEN: usize = 8;
/// Recommended length, shown to the user (ASVS 6.2.9 suggests 15).
pub const RECOMMENDED_LEN: usize = 15;
/// Longest accepted password; at least 64 must be allowed (ASVS 6.2.9).
pub const MAX_LEN: usize = 128;

/// How hard the accepted password is to guess, for the strength meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strength {
    /// zxcvbn's score, 0 (guessed at once) to 4 (over 10^10 guesses).
    pub score: u8,
    /// Shorter than the recommended length (accepted, but say so).
    pub short: bool,
}

/// Why a new password was refused. Never contains the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRefused {
    #[error("the password is shorter than {MIN_LEN} characters ({RECOMMENDED_LEN} or more are recommended)")]
    TooShort,
    #[error("the password is longer than {MAX_LEN} characters")]
    TooLong,
    #[error("the password is one of the most common or breached passwords, or a pattern guessed within a million tries; choose a longer passphrase")]
    Common,
    #[error("the password contains your name, id or e-mail address")]
    Personal,
}

/// Checks a new password. `context` holds what an attacker knows of the
/// operator (name, id, e-mail): a password made of those is refused.
pub fn check_new_password(password: &str, context: &[&str]) -> Result<Strength, PasswordRefused> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(PasswordRefused::TooShort);
    }
    if len > MAX_LEN {
        return Err(PasswordRefused::TooLong);
    }
    let lower = password.to_lowercase();
    let personal = context
        .iter()
        .flat_map(|c| c.split(['@', ' ', '.', '_', '-']))
        .filter(|part| part.chars().count() >= 4)
        .any(|part| lower.contains(&part.to_lowercase()));
    let estimate = zxcvbn::zxcvbn(password, context);
    if estimate.guesses() < 1_000_000 {
        return Err(if personal {
            PasswordRefused::Personal
        } else {
            PasswordRefused::Common
        });
    }
    if personal && estimate.guesses() < 10_000_000_000 {
        return Err(PasswordRefused::Personal);
    }
    Ok(Strength {
        score: estimate.score() as u8,
        short: len < RECOMMENDED_LEN,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_window_without_composition_rules() {
        assert_eq!(
            check_new_password("short", &[]),
            Err(PasswordRefused::TooShort)
        );
        let long = "a long passphrase ".repeat(8);
        assert_eq!(
            check_new_password(&long, &[]),
            Err(PasswordRefused::TooLong)
        );
        // 64 characters, lower case and spaces only: accepted.
        let s = check_new_password(
            "river otter paints the quiet harbour blue while gulls argue loud",
            &[],
        )
        .unwrap();
        assert!(!s.short && s.score >= 3);
    }

    #[test]
    fn common_and_breached_passwords_are_refused() {
        for p in [
            "password",
            "password123",
            "12345678",
            "qwertyuiop",
            "iloveyou1",
            "P@ssw0rd!",
            "aaaaaaaaaa",
            "abcdefgh",
        ] {
            assert_eq!(
                check_new_password(p, &[]),
                Err(PasswordRefused::Common),
                "{p}"
            );
        }
    }

    #[test]
    fn the_operators_own_name_is_refused() {
        let ctx = ["Ana Oliveira", "ana@shop.example", "ana"];
        assert_eq!(
            check_new_password("oliveira2026", &ctx),
            Err(PasswordRefused::Personal)
        );
    }

    #[test]
    fn an_eight_character_random_password_is_accepted_but_called_short() {
        let s = check_new_password("kV9#tq2Lm", &[]).unwrap();
        assert!(s.short);
    }
}
