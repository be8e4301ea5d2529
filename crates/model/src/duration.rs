//! Durations as people write them: `30s`, `90m`, `24h`, `7d`, `1w`, or
//! combinations such as `1d12h`. One parser for playbook offsets, CLI
//! look-backs (`--since 1w`) and Sigma correlation windows, so a spelling
//! accepted in one place is accepted in all of them; each caller says how
//! fine and how long a duration it takes ([`DurationLimits`]).

use std::fmt;

use time::Duration;

/// A unit of a written duration, finest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Unit {
    Second,
    Minute,
    Hour,
    Day,
    Week,
}

impl Unit {
    const ALL: [Unit; 5] = [
        Unit::Second,
        Unit::Minute,
        Unit::Hour,
        Unit::Day,
        Unit::Week,
    ];

    fn of(c: char) -> Option<Unit> {
        Some(match c {
            's' => Unit::Second,
            'm' => Unit::Minute,
            'h' => Unit::Hour,
            'd' => Unit::Day,
            'w' => Unit::Week,
            _ => return None,
        })
    }

    pub fn suffix(self) -> char {
        match self {
            Unit::Second => 's',
            Unit::Minute => 'm',
            Unit::Hour => 'h',
            Unit::Day => 'd',
            Unit::Week => 'w',
        }
    }

    fn seconds(self) -> i64 {
        match self {
            Unit::Second => 1,
            Unit::Minute => 60,
            Unit::Hour => 3_600,
            Unit::Day => 86_400,
            Unit::Week => 7 * 86_400,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Unit::Second => "seconds",
            Unit::Minute => "minutes",
            Unit::Hour => "hours",
            Unit::Day => "days",
            Unit::Week => "weeks",
        }
    }
}

/// What one field accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationLimits {
    /// Finer units are refused (a playbook task is not scheduled by the second).
    pub finest: Unit,
    /// Longer durations are refused; `None`: only the syntax bounds them.
    pub longest: Option<Duration>,
}

impl DurationLimits {
    /// Any unit, no bound beyond the syntax's.
    pub const ANY: DurationLimits = DurationLimits {
        finest: Unit::Second,
        longest: None,
    };
}

/// Why a duration could not be read. Names the input (durations come from
/// rule and playbook files and command lines, never from personal data),
/// cut to 32 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration; write e.g. `30m`, `4h`, `3d` or `1w`")]
    Empty,
    #[error("`{input}` is not a duration; write a number followed by {}, e.g. `30m`, `4h`, `1d12h`", UnitsFrom(*.finest))]
    Malformed { input: String, finest: Unit },
    #[error("`{input}`: {} are the finest unit here", .finest.name())]
    TooFine { input: String, finest: Unit },
    #[error("`{input}` is longer than {} days", .longest.whole_days())]
    TooLong { input: String, longest: Duration },
}

/// `m, h, d or w`: the units a field accepts, for messages.
struct UnitsFrom(Unit);

impl fmt::Display for UnitsFrom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units: Vec<char> = Unit::ALL
            .iter()
            .filter(|u| **u >= self.0)
            .map(|u| u.suffix())
            .collect();
        for (i, u) in units.iter().enumerate() {
            match i {
                0 => {}
                _ if i + 1 == units.len() => f.write_str(" or ")?,
                _ => f.write_str(", ")?,
            }
            write!(f, "{u}")?;
        }
        Ok(())
    }
}

/// At most this many digits per number: keeps every sum far from overflow.
const MAX_DIGITS: usize = 6;

/// Parses `30s`, `90m`, `24h`, `7d`, `2w`, `1d12h`. Units come largest first
/// and once each (`12h1d` and `1h1h` are typos); no signs, fractions or spaces.
pub fn parse_duration(text: &str, limits: DurationLimits) -> Result<Duration, DurationError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(DurationError::Empty);
    }
    let input = || t.chars().take(32).collect::<String>();
    let malformed = || DurationError::Malformed {
        input: input(),
        finest: limits.finest,
    };
    let mut total = 0i64;
    let mut digits = 0usize;
    let mut number = 0i64;
    let mut previous: Option<Unit> = None;
    let mut too_fine = false;
    for c in t.chars() {
        if let Some(d) = c.to_digit(10) {
            digits += 1;
            if digits > MAX_DIGITS {
                return Err(malformed());
            }
            number = number * 10 + i64::from(d);
            continue;
        }
        let unit = Unit::of(c).ok_or_else(malformed)?;
        if digits == 0 || previous.is_some_and(|p| unit >= p) {
            return Err(malformed());
        }
        too_fine |= unit < limits.finest;
        total += number * unit.seconds();
        previous = Some(unit);
        digits = 0;
        number = 0;
    }
    if digits > 0 {
        return Err(malformed());
    }
    if too_fine {
        return Err(DurationError::TooFine {
            input: input(),
            finest: limits.finest,
        });
    }
    let d = Duration::seconds(total);
    match limits.longest {
        Some(longest) if d > longest => Err(DurationError::TooLong {
            input: input(),
            longest,
        }),
        _ => Ok(d),
    }
}

/// The canonical spelling in whole minutes (`1d12h`, `0m`), the inverse of
/// [`parse_duration`] for minute-grained values; seconds are dropped, because
/// nobody reads incident durations to the second. Weeks are written as days.
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

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTES: DurationLimits = DurationLimits {
        finest: Unit::Minute,
        longest: Some(Duration::days(366)),
    };

    #[test]
    fn parses_every_unit_and_combinations() {
        let p = |s| parse_duration(s, DurationLimits::ANY).unwrap();
        assert_eq!(p("30s"), Duration::seconds(30));
        assert_eq!(p("90m"), Duration::minutes(90));
        assert_eq!(p("24h"), Duration::hours(24));
        assert_eq!(p("7d"), Duration::days(7));
        assert_eq!(p("1w"), Duration::weeks(1));
        assert_eq!(p("1d12h"), Duration::hours(36));
        assert_eq!(p("1w2d3h4m5s"), Duration::seconds(788_645));
        assert_eq!(p(" 0m "), Duration::ZERO);
        assert_eq!(p("999999w"), Duration::weeks(999_999));
    }

    #[test]
    fn rejects_bad_spellings_with_a_reason() {
        for bad in [
            "24", "h", "12h1d", "1h1h", "-1h", "+1h", "1.5h", "24 h", "3y", "1M", "1dd",
            "1234567s", "½h",
        ] {
            assert!(
                matches!(
                    parse_duration(bad, DurationLimits::ANY),
                    Err(DurationError::Malformed { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            parse_duration("", DurationLimits::ANY),
            Err(DurationError::Empty)
        );
        assert_eq!(
            parse_duration("30 minutes", MINUTES).unwrap_err().to_string(),
            "`30 minutes` is not a duration; write a number followed by m, h, d or w, e.g. `30m`, `4h`, `1d12h`"
        );
        assert_eq!(
            parse_duration("x", DurationLimits::ANY).unwrap_err().to_string(),
            "`x` is not a duration; write a number followed by s, m, h, d or w, e.g. `30m`, `4h`, `1d12h`"
        );
        assert_eq!(
            parse_duration("1h30s", MINUTES).unwrap_err().to_string(),
            "`1h30s`: minutes are the finest unit here"
        );
        assert_eq!(
            parse_duration("400d", MINUTES).unwrap_err().to_string(),
            "`400d` is longer than 366 days"
        );
        assert!(parse_duration("52w", MINUTES).is_ok());
        let long = "9".repeat(100);
        match parse_duration(&long, DurationLimits::ANY) {
            Err(DurationError::Malformed { input, .. }) => assert_eq!(input.len(), 32),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn formats_in_whole_minutes() {
        assert_eq!(format_duration(Duration::hours(36)), "1d12h");
        assert_eq!(format_duration(Duration::days(14)), "14d");
        assert_eq!(format_duration(Duration::seconds(59)), "0m");
        assert_eq!(format_duration(Duration::seconds(-5)), "0m");
        for s in ["30m", "1d12h", "3d4h5m"] {
            let d = parse_duration(s, MINUTES).unwrap();
            assert_eq!(format_duration(d), s);
        }
    }
}
