//! How often a duty recurs, and the dates that gives.
//!
//! Month cadences count from the anchor, not from the previous due date, so a
//! duty anchored on 31 January falls due on 28 (or 29) February and again on
//! 31 March: clamping to a short month never drifts the later dates.

use std::fmt;

use serde::{Deserialize, Deserializer};
use time::{Date, Duration, Month};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    Days(u32),
    Months(u32),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{given}` is not a cadence: use daily, weekly, monthly, quarterly, yearly or \"every N days|weeks|months|years\" (N from 1 to {MAX_N})")]
pub struct CadenceError {
    /// The text given, cut to 40 characters.
    pub given: String,
}

/// More than ten years between two occurrences is a typo, not a cadence.
const MAX_N: u32 = 3660;

impl Cadence {
    pub fn parse(s: &str) -> Result<Cadence, CadenceError> {
        let err = || CadenceError {
            given: s.chars().take(40).collect(),
        };
        let t = s.trim().to_ascii_lowercase();
        let named = match t.as_str() {
            "daily" => Some(Cadence::Days(1)),
            "weekly" => Some(Cadence::Days(7)),
            "monthly" => Some(Cadence::Months(1)),
            "quarterly" => Some(Cadence::Months(3)),
            "yearly" | "annually" => Some(Cadence::Months(12)),
            _ => None,
        };
        if let Some(c) = named {
            return Ok(c);
        }
        let mut words = t.split_whitespace();
        let (Some("every"), Some(n), Some(unit), None) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            return Err(err());
        };
        let n: u32 = n.parse().map_err(|_| err())?;
        let c = match unit.trim_end_matches('s') {
            "day" => Cadence::Days(n),
            "week" => Cadence::Days(n.checked_mul(7).ok_or_else(err)?),
            "month" => Cadence::Months(n),
            "year" => Cadence::Months(n.checked_mul(12).ok_or_else(err)?),
            _ => return Err(err()),
        };
        let days = match c {
            Cadence::Days(d) => d,
            Cadence::Months(m) => m.saturating_mul(30),
        };
        if n == 0 || days > MAX_N {
            return Err(err());
        }
        Ok(c)
    }

    /// The `k`-th date after `anchor` (k = 1 is the first due date). `None`
    /// only beyond the calendar's range (year 9999).
    pub fn nth_after(self, anchor: Date, k: u32) -> Option<Date> {
        match self {
            Cadence::Days(d) => anchor.checked_add(Duration::days(i64::from(d) * i64::from(k))),
            Cadence::Months(m) => add_months(anchor, u64::from(m) * u64::from(k)),
        }
    }

    /// The first due date strictly after `anchor`.
    pub fn next_after(self, anchor: Date) -> Option<Date> {
        self.nth_after(anchor, 1)
    }
}

/// `date` plus `months`, the day clamped to the target month's length.
fn add_months(date: Date, months: u64) -> Option<Date> {
    let index = i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1;
    let target = index.checked_add(i64::try_from(months).ok()?)?;
    let year = i32::try_from(target.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(target.rem_euclid(12) + 1).ok()?).ok()?;
    let day = date.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).ok()
}

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Cadence::Days(1) => f.write_str("daily"),
            Cadence::Days(7) => f.write_str("weekly"),
            Cadence::Months(1) => f.write_str("monthly"),
            Cadence::Months(3) => f.write_str("quarterly"),
            Cadence::Months(12) => f.write_str("yearly"),
            Cadence::Days(d) => write!(f, "every {d} days"),
            Cadence::Months(m) => write!(f, "every {m} months"),
        }
    }
}

impl<'de> Deserialize<'de> for Cadence {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Cadence::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn words_and_numbers() {
        assert_eq!(Cadence::parse("Quarterly"), Ok(Cadence::Months(3)));
        assert_eq!(Cadence::parse("every 6 months"), Ok(Cadence::Months(6)));
        assert_eq!(Cadence::parse("every 90 days"), Ok(Cadence::Days(90)));
        assert_eq!(Cadence::parse("every 2 weeks"), Ok(Cadence::Days(14)));
        assert_eq!(Cadence::parse("every 1 year"), Ok(Cadence::Months(12)));
        for bad in [
            "",
            "sometimes",
            "every 0 days",
            "every -1 days",
            "every 9999 years",
            "every 3",
            "every 3 fortnights",
            "every 3 days please",
        ] {
            let e = Cadence::parse(bad).unwrap_err();
            assert!(e.to_string().contains("is not a cadence"), "{bad}");
        }
        for c in [
            "daily",
            "weekly",
            "monthly",
            "quarterly",
            "yearly",
            "every 6 months",
            "every 90 days",
        ] {
            assert_eq!(Cadence::parse(c).unwrap().to_string(), c);
        }
    }

    #[test]
    fn month_ends_clamp_without_drifting() {
        let m = Cadence::Months(1);
        let a = date!(2027 - 01 - 31);
        assert_eq!(m.nth_after(a, 1), Some(date!(2027 - 02 - 28)));
        assert_eq!(m.nth_after(a, 2), Some(date!(2027 - 03 - 31)));
        assert_eq!(
            m.nth_after(date!(2028 - 01 - 31), 1),
            Some(date!(2028 - 02 - 29))
        );
        assert_eq!(m.nth_after(a, 11), Some(date!(2027 - 12 - 31)));
        assert_eq!(m.nth_after(a, 12), Some(date!(2028 - 01 - 31)));
    }

    #[test]
    fn leap_days() {
        let y = Cadence::Months(12);
        let leap = date!(2028 - 02 - 29);
        assert_eq!(y.nth_after(leap, 1), Some(date!(2029 - 02 - 28)));
        assert_eq!(y.nth_after(leap, 4), Some(date!(2032 - 02 - 29)));
        // Day cadences count real days across the leap day.
        assert_eq!(
            Cadence::Days(90).next_after(date!(2028 - 01 - 01)),
            Some(date!(2028 - 03 - 31))
        );
        assert_eq!(
            Cadence::Days(90).next_after(date!(2027 - 01 - 01)),
            Some(date!(2027 - 04 - 01))
        );
        // Six months from the end of August is the end of February.
        assert_eq!(
            Cadence::Months(6).next_after(date!(2027 - 08 - 31)),
            Some(date!(2028 - 02 - 29))
        );
        assert_eq!(
            Cadence::Months(3).next_after(date!(2026 - 11 - 30)),
            Some(date!(2027 - 02 - 28))
        );
    }

    #[test]
    fn the_end_of_the_calendar_is_none_not_a_panic() {
        assert_eq!(
            Cadence::Months(12).nth_after(date!(9999 - 06 - 01), 1),
            None
        );
        assert_eq!(Cadence::Days(7).nth_after(date!(9999 - 12 - 30), 1), None);
        assert_eq!(
            Cadence::Months(3660 / 30).nth_after(date!(2026 - 01 - 01), u32::MAX),
            None
        );
    }
}
