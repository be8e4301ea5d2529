//! The template environment shared by the report and the plan. Templates live
//! in `templates/incident/` and are compiled in. User text is escaped in both
//! formats: HTML by minijinja's HTML auto-escaping, Markdown by our own
//! formatter (so a title cannot inject links, tables or raw HTML into a
//! Markdown viewer either). Templates mark trusted fragments with `|safe`.

use std::fmt::Write as _;
use std::str::FromStr;

use minijinja::{AutoEscape, Environment, Error, ErrorKind, Output, State, Value};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime, UtcOffset};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[serde(rename = "md")]
    Markdown,
    Html,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Html => "html",
        }
    }
}

impl FromStr for Format {
    type Err = RenderError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "md" | "markdown" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            other => Err(RenderError::UnknownFormat(other.chars().take(16).collect())),
        }
    }
}

/// Why rendering failed. Template errors are bugs in the shipped templates
/// (a test renders every one); the message names the template, not the data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("unknown format `{0}`; use md or html")]
    UnknownFormat(String),
    #[error("the plan could not be put in canonical form: {0}")]
    Canonical(String),
    #[error("template {template} failed: {message}")]
    Template { template: String, message: String },
}

const TEMPLATES: &[(&str, &str)] = &[
    (
        "report.md",
        include_str!("../../../templates/incident/report.md.j2"),
    ),
    (
        "report.html",
        include_str!("../../../templates/incident/report.html.j2"),
    ),
    (
        "plan.md",
        include_str!("../../../templates/incident/plan.md.j2"),
    ),
    (
        "plan.html",
        include_str!("../../../templates/incident/plan.html.j2"),
    ),
];

/// Escapes text for Markdown: HTML-significant characters become entities
/// (Markdown passes raw HTML through) and Markdown punctuation is
/// backslash-escaped; newlines become spaces so table cells stay on one row.
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn markdown_formatter(out: &mut Output, state: &State, value: &Value) -> Result<(), Error> {
    if state.auto_escape() != AutoEscape::Custom("markdown") {
        return minijinja::escape_formatter(out, state, value);
    }
    if value.is_undefined() || value.is_none() {
        return Ok(());
    }
    let text = value.to_string();
    let written = if value.is_safe() {
        out.write_str(&text)
    } else {
        out.write_str(&escape_markdown(&text))
    };
    written.map_err(|_| Error::new(ErrorKind::WriteFailure, "write failed"))
}

fn environment() -> Result<Environment<'static>, RenderError> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            AutoEscape::Html
        } else {
            AutoEscape::Custom("markdown")
        }
    });
    env.set_formatter(markdown_formatter);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(true);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| template_error(name, &e))?;
    }
    Ok(env)
}

fn template_error(name: &str, e: &Error) -> RenderError {
    let mut message = e.kind().to_string();
    if let Some(d) = e.detail() {
        message.push_str(": ");
        message.push_str(d);
    }
    if let Some(line) = e.line() {
        let _ = write!(message, " (line {line})");
    }
    RenderError::Template {
        template: name.to_owned(),
        message,
    }
}

/// Renders `kind` (`report` or `plan`) in `format` with `ctx`.
pub(crate) fn render<S: Serialize>(
    kind: &str,
    format: Format,
    ctx: &S,
) -> Result<String, RenderError> {
    let env = environment()?;
    let name = format!("{kind}.{}", format.extension());
    let tmpl = env
        .get_template(&name)
        .map_err(|e| template_error(&name, &e))?;
    tmpl.render(ctx).map_err(|e| template_error(&name, &e))
}

/// `2026-11-20 14:05 UTC`: times in reports are UTC, to the minute.
pub fn format_time(t: OffsetDateTime) -> String {
    let u = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        u.year(),
        u8::from(u.month()),
        u.day(),
        u.hour(),
        u.minute()
    )
}

/// `2d 3h 15m`; negative durations get a leading minus.
pub fn format_span(d: Duration) -> String {
    let neg = d.is_negative();
    let mut m = d.whole_minutes().unsigned_abs();
    let days = m / (24 * 60);
    m -= days * 24 * 60;
    let hours = m / 60;
    m -= hours * 60;
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!("{days}d"));
    }
    if hours > 0 {
        parts.push(format!("{hours}h"));
    }
    if m > 0 || parts.is_empty() {
        parts.push(format!("{m}m"));
    }
    format!("{}{}", if neg { "-" } else { "" }, parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_times() {
        assert_eq!(format_span(Duration::minutes(0)), "0m");
        assert_eq!(
            format_span(Duration::minutes(24 * 60 * 2 + 75)),
            "2d 1h 15m"
        );
        assert_eq!(format_span(Duration::hours(-3)), "-3h");
        assert_eq!(
            format_time(time::macros::datetime!(2026-11-20 16:05:59 +02:00)),
            "2026-11-20 14:05 UTC"
        );
    }

    #[test]
    fn markdown_escape_neutralises_markup() {
        assert_eq!(
            escape_markdown("<script>[x](y) *a* | b\nc"),
            "&lt;script&gt;\\[x\\](y) \\*a\\* \\| b c"
        );
    }

    #[test]
    fn every_template_compiles() {
        environment().unwrap();
    }
}
