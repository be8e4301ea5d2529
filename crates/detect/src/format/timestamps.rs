//! Timestamps as log writers print them. Each parser returns epoch milliseconds
//! (UTC); a time without a zone is taken as UTC (documented in the crate doc).

use crate::time::{days_from_civil, parse_rfc3339_ms};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn num(t: &str) -> Option<u32> {
    (!t.is_empty() && t.len() <= 9 && t.bytes().all(|b| b.is_ascii_digit()))
        .then(|| t.parse().ok())?
}

fn month(name: &str) -> Option<u32> {
    MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(name))
        .map(|i| i as u32 + 1)
}

/// Any of: CLF (`10/Oct/2000:13:55:36 -0700`, optionally with `.fff` and
/// without a zone, as HAProxy writes), ISO 8601 / RFC 3339 (`T` or a space,
/// any fraction, `Z`, `±hh:mm`, `±hhmm` or no zone), `2021/09/30 09:23:53`,
/// Apache's error-log form (`Fri Oct 08 17:08:41.203277 2021`), and epoch
/// numbers (seconds, milliseconds, microseconds or nanoseconds, told apart by
/// magnitude, with or without a fraction).
pub fn parse_time_any(s: &str) -> Option<i64> {
    let s = s.trim().trim_start_matches('[').trim_end_matches(']');
    let first = *s.as_bytes().first()?;
    if !first.is_ascii_digit() {
        return parse_ctime(s);
    }
    if s.len() >= 11 && s.as_bytes().get(2) == Some(&b'/') {
        return parse_clf(s);
    }
    if s.len() >= 10 && s.as_bytes().get(4) == Some(&b'/') {
        return parse_iso(&s.replacen('/', "-", 2));
    }
    if s.len() >= 10 && s.as_bytes().get(4) == Some(&b'-') {
        return parse_iso(s);
    }
    parse_epoch(s)
}

fn parse_epoch(s: &str) -> Option<i64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || int.len() > 19 || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = int.parse().ok()?;
    // Digits of the integer part say the unit: 10 → s, 13 → ms, 16 → µs, 19 → ns.
    let ms = match int.len() {
        0..=11 => {
            let f: f64 = format!("0.{frac}").parse().unwrap_or(0.0);
            whole.checked_mul(1000)? + (f * 1000.0) as i64
        }
        12..=14 => whole,
        15..=17 => whole / 1000,
        _ => whole / 1_000_000,
    };
    Some(ms)
}

/// ISO 8601 with a space or `T`, any number of fraction digits and `±hhmm` zones.
fn parse_iso(s: &str) -> Option<i64> {
    if let Some(ms) = parse_rfc3339_ms(s) {
        return Some(ms);
    }
    // `+0000` without the colon, or more than one space before the zone.
    let t = s.trim();
    let (body, zone) = match t.rfind(['+', '-']) {
        Some(i) if i > 10 => (&t[..i], &t[i..]),
        _ => (t, ""),
    };
    let body = body.trim_end();
    let zone = if zone.len() == 5 && zone.is_ascii() && !zone.contains(':') {
        format!("{}:{}", &zone[..3], &zone[3..])
    } else {
        zone.to_string()
    };
    parse_rfc3339_ms(&format!("{body}{zone}"))
}

/// `10/Oct/2000:13:55:36 -0700`, `14/Jan/2015:12:48:57.127`.
pub fn parse_clf(s: &str) -> Option<i64> {
    let (dt, zone) = match s.split_once(' ') {
        Some((d, z)) => (d, Some(z.trim())),
        None => (s, None),
    };
    let mut parts = dt.splitn(4, [':', '/']);
    let (d, mon, y, rest) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let mut hms = rest.splitn(3, ':');
    let (h, mi, sec) = (hms.next()?, hms.next()?, hms.next()?);
    let (sec, frac) = sec.split_once(['.', ',']).unwrap_or((sec, ""));
    let day = num(d)?;
    let month = month(mon)?;
    let year = i64::from(num(y)?);
    let (h, mi, sec) = (num(h)?, num(mi)?, num(sec)?);
    if !(1..=31).contains(&day) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let ms = fraction_ms(frac)?;
    let off = match zone {
        None | Some("") => 0,
        Some(z) => zone_minutes(z)?,
    };
    let secs = days_from_civil(year, month, day) * 86_400
        + i64::from(h) * 3600
        + i64::from(mi) * 60
        + i64::from(sec)
        - off * 60;
    Some(secs * 1000 + ms)
}

fn fraction_ms(frac: &str) -> Option<i64> {
    if frac.is_empty() {
        return Some(0);
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut p: String = frac.chars().take(3).collect();
    while p.len() < 3 {
        p.push('0');
    }
    Some(i64::from(num(&p)?))
}

/// `+0200`, `-07:00`, `Z`.
fn zone_minutes(z: &str) -> Option<i64> {
    if z == "Z" || z == "UTC" || z == "GMT" {
        return Some(0);
    }
    let sign = match z.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = z[1..].chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h = i64::from(num(&digits[..2])?);
    let m = i64::from(num(&digits[2..])?);
    Some(sign * (h * 60 + m))
}

/// `Fri Oct 08 17:08:41.203277 2021` (Apache error log, ctime).
fn parse_ctime(s: &str) -> Option<i64> {
    let mut it = s.split_whitespace();
    let _weekday = it.next()?;
    let mon = month(it.next()?)?;
    let day = num(it.next()?)?;
    let time = it.next()?;
    let year = i64::from(num(it.next()?)?);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let mut p = hms.splitn(3, ':');
    let (h, mi, sec) = (num(p.next()?)?, num(p.next()?)?, num(p.next()?)?);
    if !(1..=31).contains(&day) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let secs = days_from_civil(year, mon, day) * 86_400
        + i64::from(h) * 3600
        + i64::from(mi) * 60
        + i64::from(sec);
    Some(secs * 1000 + fraction_ms(frac)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shape() {
        let base = parse_time_any("2021-10-08T17:08:41Z").unwrap();
        for s in [
            "08/Oct/2021:17:08:41 +0000",
            "08/Oct/2021:19:08:41 +0200",
            "08/Oct/2021:17:08:41",
            "2021-10-08 17:08:41",
            "2021-10-08T17:08:41.000000Z",
            "2021-10-08T19:08:41+02:00",
            "2021-10-08 19:08:41 +0200",
            "2021/10/08 17:08:41",
            "Fri Oct 08 17:08:41 2021",
            "1633712921",
            "1633712921.0",
            "1633712921000",
            "1633712921000000",
            "1633712921000000000",
        ] {
            assert_eq!(parse_time_any(s), Some(base), "{s}");
        }
        assert_eq!(
            parse_time_any("14/Jan/2015:12:48:57.127"),
            Some(parse_time_any("2015-01-14T12:48:57.127Z").unwrap())
        );
        for bad in [
            "",
            "yesterday",
            "32/Oct/2021:17:08:41",
            "2021-13-08",
            "12:00",
        ] {
            assert_eq!(parse_time_any(bad), None, "{bad}");
        }
    }
}
