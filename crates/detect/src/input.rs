//! Pure parsers from log lines to [`Event`]s: JSON lines (ECS fields) and the
//! NCSA common / combined access log formats written by nginx and Apache.
//!
//! A line that cannot be parsed yields a [`MalformedLine`] with its line number
//! so callers count and report it; it is never silently dropped and never fatal.
//! Error messages never quote the line itself (it may hold personal data).

use serde_json::{Map, Value};

use crate::ast::Logsource;
use crate::event::Event;
use crate::time::{days_from_civil, format_rfc3339_ms};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line, ECS field names; log source unknown.
    JsonLines,
    /// NCSA combined: common plus quoted referrer and user agent.
    Combined,
    /// NCSA common log format.
    Common,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    /// Accepts `jsonl`/`json`/`ndjson`, `combined`, `common`/`clf` (case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "jsonl" | "json" | "ndjson" | "jsonlines" => Ok(LogFormat::JsonLines),
            "combined" => Ok(LogFormat::Combined),
            "common" | "clf" => Ok(LogFormat::Common),
            other => Err(format!(
                "unknown log format '{other}' (expected jsonl, combined or common)"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line_no}: {reason}")]
pub struct MalformedLine {
    pub line_no: u64,
    pub reason: String,
}

fn malformed(line_no: u64, reason: impl Into<String>) -> MalformedLine {
    MalformedLine {
        line_no,
        reason: reason.into(),
    }
}

/// Guesses the format from one non-empty line.
pub fn detect_format(line: &str) -> Option<LogFormat> {
    let t = line.trim_start();
    if t.starts_with('{') {
        return Some(LogFormat::JsonLines);
    }
    match parse_access(t, 0) {
        Ok((_, true)) => Some(LogFormat::Combined),
        Ok((_, false)) => Some(LogFormat::Common),
        Err(_) => None,
    }
}

/// Guesses the format from the first lines of a file (the first line that
/// yields an answer wins; blank lines are skipped).
pub fn detect_format_of<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<LogFormat> {
    lines
        .into_iter()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .find_map(detect_format)
}

/// Parses one line. `line_no` is 1-based and only used in errors.
pub fn parse_line(format: LogFormat, line: &str, line_no: u64) -> Result<Event, MalformedLine> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    match format {
        LogFormat::JsonLines => {
            let v: Value = serde_json::from_str(line).map_err(|e| {
                malformed(
                    line_no,
                    format!(
                        "invalid JSON at column {}: {}",
                        e.column(),
                        e.classify_reason()
                    ),
                )
            })?;
            Event::from_json(v, None)
                .ok_or_else(|| malformed(line_no, "JSON line is not an object"))
        }
        // Either access-log format accepts both shapes: the combined fields
        // (referrer, user agent) are read when present.
        LogFormat::Combined | LogFormat::Common => parse_access(line, line_no).map(|(ev, _)| ev),
    }
}

trait Reason {
    fn classify_reason(&self) -> &'static str;
}

impl Reason for serde_json::Error {
    fn classify_reason(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "I/O error",
            serde_json::error::Category::Syntax => "syntax error",
            serde_json::error::Category::Data => "invalid data",
            serde_json::error::Category::Eof => "unexpected end of line",
        }
    }
}

struct Cursor<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cursor<'a> {
    fn skip_spaces(&mut self) {
        while self.s[self.i..].starts_with(' ') {
            self.i += 1;
        }
    }
    fn token(&mut self) -> Option<&'a str> {
        self.skip_spaces();
        let rest = &self.s[self.i..];
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(' ').unwrap_or(rest.len());
        self.i += end;
        Some(&rest[..end])
    }
    fn bracketed(&mut self) -> Option<&'a str> {
        self.skip_spaces();
        let rest = self.s[self.i..].strip_prefix('[')?;
        let end = rest.find(']')?;
        self.i += end + 2;
        Some(&rest[..end])
    }
    /// A double-quoted field; `\"` and `\\` are escapes (nginx and Apache both escape).
    fn quoted(&mut self) -> Option<String> {
        self.skip_spaces();
        let rest = self.s[self.i..].strip_prefix('"')?;
        let mut out = String::new();
        let mut chars = rest.char_indices();
        while let Some((k, c)) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some((_, n)) if n == '"' || n == '\\' => out.push(n),
                    Some((_, n)) => {
                        out.push('\\');
                        out.push(n);
                    }
                    None => return None,
                },
                '"' => {
                    self.i += 1 + k + 1;
                    return Some(out);
                }
                c => out.push(c),
            }
        }
        None
    }
    fn at_end(&mut self) -> bool {
        self.skip_spaces();
        self.i >= self.s.len()
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `10/Oct/2000:13:55:36 -0700` → epoch ms.
pub fn parse_clf_time(s: &str) -> Option<i64> {
    let (dt, zone) = s.split_once(' ')?;
    let mut parts = dt.splitn(4, [':', '/']);
    let (d, mon, y, rest) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let mut hms = rest.splitn(3, ':');
    let (h, mi, sec) = (hms.next()?, hms.next()?, hms.next()?);
    let num = |t: &str| -> Option<u32> {
        (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse().ok())?
    };
    let day = num(d)?;
    let month = MONTHS.iter().position(|m| *m == mon)? as u32 + 1;
    let year = i64::from(num(y)?);
    let (h, mi, sec) = (num(h)?, num(mi)?, num(sec)?);
    if !(1..=31).contains(&day) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let zb = zone.as_bytes();
    if zb.len() != 5 || !(zb[0] == b'+' || zb[0] == b'-') {
        return None;
    }
    let zh = i64::from(num(zone.get(1..3)?)?);
    let zm = i64::from(num(zone.get(3..5)?)?);
    let off = (zh * 60 + zm) * if zb[0] == b'-' { -1 } else { 1 };
    let secs = days_from_civil(year, month, day) * 86_400
        + i64::from(h) * 3600
        + i64::from(mi) * 60
        + i64::from(sec)
        - off * 60;
    Some(secs * 1000)
}

/// Returns the event and whether the combined-format fields were present.
fn parse_access(line: &str, line_no: u64) -> Result<(Event, bool), MalformedLine> {
    let mut c = Cursor { s: line, i: 0 };
    let host = c.token().ok_or_else(|| malformed(line_no, "empty line"))?;
    let _ident = c
        .token()
        .ok_or_else(|| malformed(line_no, "missing ident field"))?;
    let user = c
        .token()
        .ok_or_else(|| malformed(line_no, "missing user field"))?;
    let time = c
        .bracketed()
        .ok_or_else(|| malformed(line_no, "missing [time] field"))?;
    let ts = parse_clf_time(time).ok_or_else(|| malformed(line_no, "unparseable [time] field"))?;
    let request = c
        .quoted()
        .ok_or_else(|| malformed(line_no, "missing quoted request field"))?;
    let status = c
        .token()
        .ok_or_else(|| malformed(line_no, "missing status field"))?;
    let status: u16 = status
        .parse()
        .map_err(|_| malformed(line_no, "status is not a number"))?;
    let bytes = c
        .token()
        .ok_or_else(|| malformed(line_no, "missing size field"))?;
    let bytes: Option<u64> = match bytes {
        "-" => None,
        b => Some(
            b.parse()
                .map_err(|_| malformed(line_no, "size is not a number"))?,
        ),
    };
    let mut combined = false;
    let mut referrer = None;
    let mut agent = None;
    if !c.at_end() {
        referrer = Some(
            c.quoted()
                .ok_or_else(|| malformed(line_no, "referrer field is not quoted"))?,
        );
        agent = Some(
            c.quoted()
                .ok_or_else(|| malformed(line_no, "user agent field is not quoted"))?,
        );
        combined = true;
        // Trailing fields (nginx custom formats) are ignored.
    }

    let mut m = Map::new();
    let mut set = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    set("@timestamp", Value::String(format_rfc3339_ms(ts)));
    set("source.ip", Value::String(host.to_string()));
    if user != "-" {
        set("user.name", Value::String(user.to_string()));
    }
    let mut parts = request.splitn(3, ' ');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(method), Some(target), Some(proto)) if proto.starts_with("HTTP/") => {
            set("http.request.method", Value::String(method.to_string()));
            set("url.original", Value::String(target.to_string()));
            let (path, query) = match target.split_once('?') {
                Some((p, q)) => (p, Some(q)),
                None => (target, None),
            };
            set("url.path", Value::String(path.to_string()));
            if let Some(q) = query {
                set("url.query", Value::String(q.to_string()));
            }
            if let Some(v) = proto.strip_prefix("HTTP/") {
                set("http.version", Value::String(v.to_string()));
            }
        }
        // Not a well-formed request line (probes, TLS on a plain port...): kept
        // whole, because such requests are often exactly what rules look for.
        _ => set("url.original", Value::String(request.clone())),
    }
    set("http.response.status_code", Value::from(status));
    if let Some(b) = bytes {
        set("http.response.body.bytes", Value::from(b));
    }
    if let Some(r) = referrer.filter(|r| r != "-") {
        set("http.request.referrer", Value::String(r));
    }
    if let Some(a) = agent.filter(|a| a != "-") {
        set("user_agent.original", Value::String(a));
    }
    set("event.original", Value::String(line.to_string()));
    let ls = Logsource::new(None, Some("webserver"), None);
    Ok((Event::new(m, Some(ls)), combined))
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMBINED: &str = r#"203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "GET /search.php?q=1%27+OR+1=1 HTTP/1.1" 200 2326 "http://shop.example/start" "Mozilla/5.0 (sqlmap)""#;

    #[test]
    fn combined_line() {
        let ev = parse_line(LogFormat::Combined, COMBINED, 1).unwrap();
        assert_eq!(ev.get_text("source.ip").as_deref(), Some("203.0.113.9"));
        assert_eq!(ev.get_text("user.name").as_deref(), Some("frank"));
        assert_eq!(
            ev.get_text("@timestamp").as_deref(),
            Some("2000-10-10T20:55:36.000Z")
        );
        assert_eq!(ev.get_text("http.request.method").as_deref(), Some("GET"));
        assert_eq!(ev.get_text("url.path").as_deref(), Some("/search.php"));
        assert_eq!(ev.get_text("url.query").as_deref(), Some("q=1%27+OR+1=1"));
        assert_eq!(ev.get_text("http.version").as_deref(), Some("1.1"));
        assert_eq!(
            ev.get_text("http.response.status_code").as_deref(),
            Some("200")
        );
        assert_eq!(
            ev.get_text("http.response.body.bytes").as_deref(),
            Some("2326")
        );
        assert_eq!(
            ev.get_text("http.request.referrer").as_deref(),
            Some("http://shop.example/start")
        );
        assert_eq!(
            ev.get_text("user_agent.original").as_deref(),
            Some("Mozilla/5.0 (sqlmap)")
        );
        assert_eq!(
            ev.logsource.as_ref().and_then(|l| l.category.as_deref()),
            Some("webserver")
        );
        assert_eq!(detect_format(COMBINED), Some(LogFormat::Combined));
    }

    #[test]
    fn common_line_and_escapes() {
        let l = r#"::1 - - [01/Jan/2024:00:00:00 +0000] "GET /a\"b HTTP/1.0" 404 -"#;
        let ev = parse_line(LogFormat::Common, l, 7).unwrap();
        assert_eq!(ev.get_text("url.original").as_deref(), Some("/a\"b"));
        assert!(ev.get("user.name").is_none());
        assert!(ev.get("http.response.body.bytes").is_none());
        assert_eq!(detect_format(l), Some(LogFormat::Common));
    }

    #[test]
    fn malformed_lines_have_numbers_and_no_content() {
        for (l, n) in [
            ("garbage", 3),
            ("1.2.3.4 - - [bad] \"GET / HTTP/1.1\" 200 1", 4),
            ("", 5),
        ] {
            let e = parse_line(LogFormat::Combined, l, n).unwrap_err();
            assert_eq!(e.line_no, n);
        }
        let e = parse_line(LogFormat::JsonLines, "{\"email\": \"a@b.c\"", 9).unwrap_err();
        assert_eq!(e.line_no, 9);
        assert!(!e.to_string().contains("a@b.c"));
        assert!(parse_line(LogFormat::JsonLines, "[1,2]", 1).is_err());
    }

    #[test]
    fn formats_by_name_and_odd_zones() {
        assert_eq!("JSONL".parse::<LogFormat>(), Ok(LogFormat::JsonLines));
        assert_eq!("clf".parse::<LogFormat>(), Ok(LogFormat::Common));
        assert!("xml".parse::<LogFormat>().is_err());
        assert_eq!(parse_clf_time("10/Oct/2000:13:55:36 +1\u{e9}1"), None);
        assert_eq!(
            parse_clf_time("10/Oct/2000:13:55:36 +0000"),
            Some(971_186_136_000)
        );
    }

    #[test]
    fn odd_request_line_is_kept() {
        let l = r#"1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "\x16\x03\x01" 400 0 "-" "-""#;
        let ev = parse_line(LogFormat::Combined, l, 1).unwrap();
        assert!(ev.get("url.original").is_some());
        assert!(ev.get("http.request.method").is_none());
    }
}
