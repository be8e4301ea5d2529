//! Due offsets as people write them in playbooks: `30m`, `4h`, `3d`, `1w`,
//! or combinations such as `1d12h`. Whole minutes are the finest unit because
//! nobody schedules incident work by the second.

use time::Duration;

/// The longest offset accepted: a playbook task due more than a year out is a typo.
pub const MAX_OFFSET: Duration = Duration::days(366);

/// Why an offset could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration; write e.g. `30m`, `4h`, `3d` or `1w`")]
    Empty,
    #[error("`{0}` is not a duration; write a number followed by m, h, d or w, e.g. `30m`, `4h`, `1d12h`")]
    Malformed(String),
    #[error("`{0}` is longer than 366 days")]
    TooLong(String),
}

/// Parses `30m`, `24h`, `3d`, `2w`, `1d12h`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(DurationError::Empty);
    }
    let bad = || DurationError::Malformed(t.chars().take(32).collect());
    let mut total = Duration::ZERO;
    let mut digits = String::new();
    let mut last_unit = 5u8;
    for c in t.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        // Units must come largest first (`1d12h`, not `12h1d`) and only once each.
        let (rank, minutes) = match c {
            'w' => (4u8, 7 * 24 * 60),
            'd' => (3, 24 * 60),
            'h' => (2, 60),
            'm' => (1, 1),
            _ => return Err(bad()),
        };
        if digits.is_empty() || digits.len() > 6 || rank >= last_unit {
            return Err(bad());
        }
        let n: i64 = digits.parse().map_err(|_| bad())?;
        total += Duration::minutes(n * minutes);
        digits.clear();
        last_unit = rank;
    }
    if !digits.is_empty() {
        return Err(bad());
    }
    if total > MAX_OFFSET {
        return Err(DurationError::TooLong(t.chars().take(32).collect()));
    }
    Ok(total)
}

/// The canonical spelling of an offset (`1d12h`, `0m`), inverse of `parse_duration`.
pub fn format_duration(d: Duration) -> String {
    let mut m = d.whole_minutes().max(0);
    if m == 0 {
        return "0m".to_owned();
    }
    let mut out = String::new();
    for (unit, size) in [("d", 24 * 60), ("h", 60), ("m", 1)] {
        let n = m / size;
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
            m -= n * size;
        }
    }
    out
}

/// serde as the canonical string.
pub(crate) mod serde_offset {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_duration(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        super::parse_duration(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        assert_eq!(parse_duration("30m").unwrap(), Duration::minutes(30));
        assert_eq!(parse_duration("24h").unwrap(), Duration::hours(24));
        assert_eq!(parse_duration("1d12h").unwrap(), Duration::hours(36));
        assert_eq!(parse_duration("2w").unwrap(), Duration::days(14));
        assert_eq!(parse_duration("0m").unwrap(), Duration::ZERO);
        assert_eq!(format_duration(Duration::hours(36)), "1d12h");
        assert_eq!(format_duration(Duration::days(14)), "14d");
    }

    #[test]
    fn rejects_bad_spellings() {
        for bad in [
            "", "24", "h", "12h1d", "1h1h", "-1h", "1.5h", "24 h", "3y", "400d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }
}
