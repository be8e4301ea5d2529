//! Lines a syslog daemon wrapped: `Sep 15 16:13:46 host nginx[2869]: <line>`
//! (RFC 3164, with or without `<PRI>`), RFC 5424 (`<134>1 2021-09-15T16:13:46Z
//! host app pid msgid - <line>`), rsyslog's ISO form (`2021-09-15T16:13:46+00:00
//! host app[pid]: <line>`) and journald's short form without a time
//! (`host app: <line>`). The prefix gives `host.hostname`, `process.name` and
//! `process.pid`; the rest is parsed with the inner format. The inner line's own
//! time wins: RFC 3164 stamps have no year or zone.

use serde_json::{Map, Value};

use super::timestamps::parse_time_any;

pub struct Prefix<'a> {
    pub fields: Map<String, Value>,
    pub inner: &'a str,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Splits the syslog prefix off; `None` if the line has none.
pub fn strip(line: &str) -> Option<Prefix<'_>> {
    let mut rest = line;
    let mut fields = Map::new();
    if let Some(r) = rest.strip_prefix('<') {
        let (pri, after) = r.split_once('>')?;
        if pri.is_empty() || pri.len() > 3 || !pri.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        rest = after;
        // RFC 5424: version, ISO time, host, app, procid, msgid, structured data.
        if let Some(r5) = rest.strip_prefix("1 ") {
            let mut it = r5.splitn(6, ' ');
            let (time, host, app, pid, _msgid, tail) = (
                it.next()?,
                it.next()?,
                it.next()?,
                it.next()?,
                it.next()?,
                it.next()?,
            );
            if let Some(ms) = parse_time_any(time) {
                fields.insert(
                    "@timestamp".into(),
                    Value::String(crate::time::format_rfc3339_ms(ms)),
                );
            }
            put(&mut fields, "host.hostname", host);
            put(&mut fields, "process.name", app);
            if let Ok(p) = pid.parse::<u64>() {
                fields.insert("process.pid".into(), Value::from(p));
            }
            let inner = skip_structured_data(tail)?;
            return Some(Prefix { fields, inner });
        }
    }
    // `Mmm dd hh:mm:ss ` (day padded with a space) or an ISO time.
    let after_time = if rest.len() > 16 && MONTHS.iter().any(|m| rest.starts_with(m)) {
        let t = &rest[3..];
        let t = t.trim_start();
        let (day, t) = t.split_once(' ')?;
        if day.is_empty() || day.len() > 2 || !day.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (hms, t) = t.split_once(' ')?;
        if hms.len() != 8 || hms.as_bytes()[2] != b':' {
            return None;
        }
        Some(t)
    } else if rest.len() > 20 && rest.as_bytes()[4] == b'-' && rest.as_bytes()[10] == b'T' {
        let (time, t) = rest.split_once(' ')?;
        let ms = parse_time_any(time)?;
        fields.insert(
            "@timestamp".into(),
            Value::String(crate::time::format_rfc3339_ms(ms)),
        );
        Some(t)
    } else {
        None
    };
    let t = after_time.unwrap_or(rest);
    let (host, t) = t.split_once(' ')?;
    // `tag[pid]: ` or `tag: `.
    let (tag, inner) = t.split_once(": ")?;
    let (name, pid) = match tag.split_once('[') {
        Some((n, p)) => (n, p.strip_suffix(']')),
        None => (tag, None),
    };
    let tag_ok = !name.is_empty()
        && name.len() <= 48
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'));
    if !tag_ok || host.is_empty() || host.contains(['[', ']', '"']) {
        return None;
    }
    if after_time.is_none() && !host.contains('.') && !host.contains('-') && !host.contains('_') {
        // Without a time, insist on a host that looks like one (`frontend.0`).
        return None;
    }
    put(&mut fields, "host.hostname", host);
    put(&mut fields, "process.name", name);
    if let Some(p) = pid.and_then(|p| p.parse::<u64>().ok()) {
        fields.insert("process.pid".into(), Value::from(p));
    }
    Some(Prefix { fields, inner })
}

fn put(m: &mut Map<String, Value>, k: &str, v: &str) {
    if v != "-" && !v.is_empty() {
        m.insert(k.into(), Value::String(v.to_string()));
    }
}

/// RFC 5424 structured data: `-` or one or more `[id k="v" …]` elements.
fn skip_structured_data(s: &str) -> Option<&str> {
    if let Some(r) = s.strip_prefix("- ") {
        return Some(r);
    }
    if s == "-" {
        return Some("");
    }
    let mut rest = s;
    while let Some(r) = rest.strip_prefix('[') {
        let b = r.as_bytes();
        let mut i = 0;
        let mut in_quote = false;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 1,
                b'"' => in_quote = !in_quote,
                b']' if !in_quote => break,
                _ => {}
            }
            i += 1;
        }
        rest = r.get(i + 1..)?;
    }
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bsd_and_5424_and_short() {
        let p = strip("Sep 15 16:13:46 ip-172-31-43-28.us-east-2.compute.internal nginx[2869]: 1.2.3.4 - - [x]").unwrap();
        assert_eq!(p.inner, "1.2.3.4 - - [x]");
        assert_eq!(p.fields["process.name"], "nginx");
        assert_eq!(p.fields["process.pid"], 2869);
        let p = strip("Apr  4 14:30:19 hap-1 haproxy[3946303]: 192.168.1.1:55032 [04/Apr").unwrap();
        assert_eq!(p.inner, "192.168.1.1:55032 [04/Apr");
        let p = strip("<134>1 2021-09-15T16:13:46Z web1 nginx 2869 - [meta x=\"]\"] GET").unwrap();
        assert_eq!(p.inner, "GET");
        assert_eq!(p.fields["@timestamp"], "2021-09-15T16:13:46.000Z");
        let p = strip("frontend.0 nginx: 203.0.113.1 - -").unwrap();
        assert_eq!(p.inner, "203.0.113.1 - -");
        assert!(
            strip("1.2.3.4 - - [20/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5").is_none()
        );
    }
}
