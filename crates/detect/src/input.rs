//! Log lines to [`Event`]s: the entry points over [`crate::format`].
//!
//! A line that cannot be parsed yields a [`MalformedLine`] with its line number
//! so callers count and report it; it is never silently dropped and never fatal.
//! Error messages never quote the line itself (it may hold personal data).

use crate::event::Event;
pub use crate::format::LogFormat;
use crate::format::{Formats, LineParser};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line_no}: {reason}")]
pub struct MalformedLine {
    pub line_no: u64,
    pub reason: String,
}

/// Guesses the format from one non-empty line (built-in formats).
pub fn detect_format(line: &str) -> Option<LogFormat> {
    detect_format_of([line])
}

/// Guesses the format from the first lines of a file (built-in formats; see
/// [`Formats::detect`] for the rule and for user mappings).
pub fn detect_format_of<'a>(lines: impl IntoIterator<Item = &'a str>) -> Option<LogFormat> {
    let lines: Vec<&str> = lines.into_iter().take(50).collect();
    Formats::builtin().detect(&lines).map(|d| d.format)
}

/// Parses one line on its own (no W3C header state; see [`LineParser`] for
/// files). `line_no` is 1-based and only used in errors.
pub fn parse_line(format: &LogFormat, line: &str, line_no: u64) -> Result<Event, MalformedLine> {
    LineParser::new(format.clone())
        .parse(line, line_no)?
        .ok_or_else(|| MalformedLine {
            line_no,
            reason: "not an event (a blank, comment or directive line)".into(),
        })
}

/// `10/Oct/2000:13:55:36 -0700` → epoch ms.
pub fn parse_clf_time(s: &str) -> Option<i64> {
    crate::format::timestamps::parse_clf(s).filter(|_| s.contains(' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMBINED: &str = r#"203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "GET /search.php?q=1%27+OR+1=1 HTTP/1.1" 200 2326 "http://shop.example/start" "Mozilla/5.0 (sqlmap)""#;

    #[test]
    fn combined_line() {
        let ev = parse_line(&LogFormat::combined(), COMBINED, 1).unwrap();
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
        assert_eq!(
            detect_format(COMBINED).map(|f| f.name()),
            Some("combined".into())
        );
    }

    #[test]
    fn common_line_and_escapes() {
        let l = r#"::1 - - [01/Jan/2024:00:00:00 +0000] "GET /a\"b HTTP/1.0" 404 -"#;
        let ev = parse_line(&LogFormat::common(), l, 7).unwrap();
        assert_eq!(ev.get_text("url.original").as_deref(), Some("/a\"b"));
        assert!(ev.get("user.name").is_none());
        assert!(ev.get("http.response.body.bytes").is_none());
        assert_eq!(detect_format(l).map(|f| f.name()), Some("common".into()));
    }

    #[test]
    fn malformed_lines_have_numbers_and_no_content() {
        for (l, n) in [
            ("garbage", 3),
            ("1.2.3.4 - - [bad] \"GET / HTTP/1.1\" 200 1", 4),
        ] {
            let e = parse_line(&LogFormat::combined(), l, n).unwrap_err();
            assert_eq!(e.line_no, n);
        }
        let e = parse_line(&LogFormat::JsonLines, "{\"email\": \"a@b.c\"", 9).unwrap_err();
        assert_eq!(e.line_no, 9);
        assert!(!e.to_string().contains("a@b.c"));
        assert!(parse_line(&LogFormat::JsonLines, "[1,2]", 1).is_err());
    }

    #[test]
    fn formats_by_name_and_odd_zones() {
        assert_eq!("JSONL".parse::<LogFormat>(), Ok(LogFormat::JsonLines));
        assert_eq!(
            "clf".parse::<LogFormat>().map(|f| f.name()),
            Ok("common".into())
        );
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
        let ev = parse_line(&LogFormat::combined(), l, 1).unwrap();
        assert!(ev.get("url.original").is_some());
        assert!(ev.get("http.request.method").is_none());
    }
}
