//! Deadline arithmetic: hours, calendar days and business days.
//!
//! Holiday policy (documented in laws/README.md):
//! - `weekdays`: Saturday and Sunday are not business days; no holidays.
//! - `us_federal`: also the eleven US federal holidays of 5 U.S.C. 6103, on their
//!   observed dates (a Saturday holiday is observed the Friday before, a Sunday
//!   holiday the Monday after). Used by US states and territories. State-only
//!   holidays (e.g. César Chávez Day) are NOT skipped: that can only make a
//!   deadline earlier, never later, which is the safe direction.
//! - `brazil_national`: Brazilian national holidays incl. Good Friday (Lei
//!   662/1949, 6.802/1980, 14.759/2023); Carnival is optional and not skipped.
//!
//! A business-day deadline lands on the Nth business day after the day of the
//! anchor, at the anchor's clock time, in the anchor's UTC offset. The engine
//! does not know the regulator's local time zone; pass times with the offset
//! of the store's legal seat to get local-day arithmetic.

use time::{Date, Duration, Month, OffsetDateTime, Weekday};

use crate::schema::{CalendarKind, TimeUnit};

/// Adds `n` units to `from`. `None` when the result is out of range.
pub fn add(
    from: OffsetDateTime,
    n: u32,
    unit: TimeUnit,
    cal: CalendarKind,
) -> Option<OffsetDateTime> {
    match unit {
        TimeUnit::Hours => from.checked_add(Duration::hours(i64::from(n))),
        TimeUnit::CalendarDays => from.checked_add(Duration::days(i64::from(n))),
        TimeUnit::BusinessDays => {
            let mut date = from.date();
            let mut left = n;
            while left > 0 {
                date = date.next_day()?;
                if is_business_day(date, cal) {
                    left -= 1;
                }
            }
            Some(from.replace_date(date))
        }
    }
}

/// True when `date` is a working day under `cal`.
pub fn is_business_day(date: Date, cal: CalendarKind) -> bool {
    if matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) {
        return false;
    }
    match cal {
        CalendarKind::Weekdays => true,
        CalendarKind::UsFederal => !is_us_federal_holiday(date),
        CalendarKind::BrazilNational => !is_brazil_holiday(date),
    }
}

fn ymd(year: i32, month: Month, day: u8) -> Option<Date> {
    Date::from_calendar_date(year, month, day).ok()
}

/// The `nth` (1-based) `weekday` of a month.
fn nth_weekday(year: i32, month: Month, weekday: Weekday, nth: u8) -> Option<Date> {
    let first = ymd(year, month, 1)?;
    let offset =
        (7 + weekday.number_days_from_monday() - first.weekday().number_days_from_monday()) % 7;
    ymd(year, month, 1 + offset + 7 * (nth - 1))
}

fn last_weekday(year: i32, month: Month, weekday: Weekday) -> Option<Date> {
    let last = ymd(year, month, month.length(year))?;
    let back =
        (7 + last.weekday().number_days_from_monday() - weekday.number_days_from_monday()) % 7;
    ymd(year, month, last.day() - back)
}

/// Saturday holidays are observed on Friday, Sunday holidays on Monday.
fn observed(date: Date) -> Date {
    match date.weekday() {
        Weekday::Saturday => date.previous_day().unwrap_or(date),
        Weekday::Sunday => date.next_day().unwrap_or(date),
        _ => date,
    }
}

/// US federal holidays (observed dates) of one year.
pub fn us_federal_holidays(year: i32) -> Vec<Date> {
    let fixed = [
        (Month::January, 1),
        (Month::June, 19),
        (Month::July, 4),
        (Month::November, 11),
        (Month::December, 25),
    ];
    let mut days: Vec<Date> = fixed
        .iter()
        .filter_map(|&(m, d)| ymd(year, m, d))
        .map(observed)
        .collect();
    days.extend(
        [
            nth_weekday(year, Month::January, Weekday::Monday, 3),
            nth_weekday(year, Month::February, Weekday::Monday, 3),
            last_weekday(year, Month::May, Weekday::Monday),
            nth_weekday(year, Month::September, Weekday::Monday, 1),
            nth_weekday(year, Month::October, Weekday::Monday, 2),
            nth_weekday(year, Month::November, Weekday::Thursday, 4),
        ]
        .into_iter()
        .flatten(),
    );
    days
}

fn is_us_federal_holiday(date: Date) -> bool {
    // New Year's Day of the next year can be observed on 31 December.
    us_federal_holidays(date.year()).contains(&date)
        || us_federal_holidays(date.year() + 1).contains(&date)
}

/// Gregorian Easter Sunday (anonymous Gregorian algorithm).
fn easter(year: i32) -> Option<Date> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    ymd(year, month, u8::try_from(day).ok()?)
}

fn is_brazil_holiday(date: Date) -> bool {
    let y = date.year();
    let fixed = [
        (Month::January, 1),
        (Month::April, 21),
        (Month::May, 1),
        (Month::September, 7),
        (Month::October, 12),
        (Month::November, 2),
        (Month::November, 15),
        (Month::November, 20),
        (Month::December, 25),
    ];
    let good_friday = easter(y).and_then(|e| e.checked_sub(Duration::days(2)));
    fixed
        .iter()
        .filter_map(|&(m, d)| ymd(y, m, d))
        .chain(good_friday)
        .any(|h| h == date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn us_holidays_2026() {
        let h = us_federal_holidays(2026);
        for d in [
            date!(2026 - 01 - 01),
            date!(2026 - 01 - 19),
            date!(2026 - 02 - 16),
            date!(2026 - 05 - 25),
            date!(2026 - 06 - 19),
            date!(2026 - 07 - 03), // 4 July is a Saturday
            date!(2026 - 09 - 07),
            date!(2026 - 10 - 12),
            date!(2026 - 11 - 11),
            date!(2026 - 11 - 26),
            date!(2026 - 12 - 25),
        ] {
            assert!(h.contains(&d), "{d}");
        }
        assert_eq!(h.len(), 11);
    }

    #[test]
    fn business_days_skip_weekend_and_holiday() {
        // Friday 2026-07-02 + 1 business day: 3 July is the observed holiday,
        // 4-5 July the weekend, so Monday 6 July.
        let t = datetime!(2026-07-02 10:00 UTC);
        assert_eq!(
            add(t, 1, TimeUnit::BusinessDays, CalendarKind::UsFederal),
            Some(datetime!(2026-07-06 10:00 UTC))
        );
        assert_eq!(
            add(t, 1, TimeUnit::BusinessDays, CalendarKind::Weekdays),
            Some(datetime!(2026-07-03 10:00 UTC))
        );
    }

    #[test]
    fn easter_dates() {
        assert_eq!(easter(2026), Some(date!(2026 - 04 - 05)));
        assert_eq!(easter(2025), Some(date!(2025 - 04 - 20)));
        assert!(!is_business_day(
            date!(2026 - 04 - 03),
            CalendarKind::BrazilNational
        ));
    }
}
