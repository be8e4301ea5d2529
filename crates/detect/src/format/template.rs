//! Log format strings compiled into line parsers: nginx `log_format` (`$var`,
//! `${var}`) and Apache `LogFormat` (`%h`, `%>s`, `%{Referer}i` …), pasted from
//! the server's configuration.
//!
//! A template is a sequence of literals and variables. Matching walks the line
//! once: a variable runs up to the first byte of the literal after it (a quoted
//! variable — `"$request"` — up to the closing quote, honouring `\"` escapes),
//! a space in a literal matches one or more spaces, and whatever follows the
//! last part is ignored (servers append fields; presets stay useful). A
//! variable at the very end takes the rest of the line when it is free text
//! (user agent, referrer, request) and one token otherwise.

use super::vars::Var;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Part {
    Lit(String),
    Var { var: Var, quoted: bool },
}

/// A compiled format string.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub(crate) parts: Vec<Part>,
    /// The format string as given, for reports.
    pub source: String,
}

/// Why a format string could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the format string is empty")]
    Empty,
    #[error("the format string has no variables")]
    NoVariables,
    #[error("`{0}` and `{1}` follow each other with nothing between them, so a line cannot be split between them")]
    Adjacent(String, String),
    #[error("unterminated `{{` at byte {0}")]
    Unterminated(usize),
    #[error("unknown Apache directive `%{0}` at byte {1}")]
    UnknownDirective(String, usize),
    #[error("the format string is longer than 4096 bytes")]
    TooLong,
}

impl Template {
    /// Compiles an nginx `log_format` string (the quoted part(s) after the
    /// format's name; quotes and `escape=` are taken off if pasted along).
    pub fn nginx(format: &str) -> Result<Template, TemplateError> {
        let cleaned = clean_nginx(format);
        let mut parts = Vec::new();
        let b = cleaned.as_bytes();
        let mut lit = String::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'$' {
                let (name, next) = if b.get(i + 1) == Some(&b'{') {
                    let end = cleaned[i + 2..]
                        .find('}')
                        .ok_or(TemplateError::Unterminated(i))?;
                    (&cleaned[i + 2..i + 2 + end], i + 3 + end)
                } else {
                    let len = cleaned[i + 1..]
                        .bytes()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                        .count();
                    (&cleaned[i + 1..i + 1 + len], i + 1 + len)
                };
                if name.is_empty() {
                    lit.push('$');
                    i += 1;
                    continue;
                }
                push_lit(&mut parts, &mut lit);
                parts.push(Part::Var {
                    var: Var::from_nginx(name),
                    quoted: false,
                });
                i = next;
            } else {
                let c = cleaned[i..].chars().next().unwrap_or(' ');
                lit.push(c);
                i += c.len_utf8();
            }
        }
        push_lit(&mut parts, &mut lit);
        Template::finish(parts, format)
    }

    /// Compiles an Apache `LogFormat` string (`%h %l %u %t \"%r\" %>s %b`).
    pub fn apache(format: &str) -> Result<Template, TemplateError> {
        let cleaned = clean_apache(format);
        let s = cleaned.as_str();
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut chars = s.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c != '%' {
                lit.push(c);
                continue;
            }
            // Optional status conditions (`%400,501{User-agent}i`, `%!200a`),
            // then `<`/`>` (original/final request), then `{arg}`, then the letter.
            while let Some(&(_, n)) = chars.peek() {
                if n.is_ascii_digit() || n == ',' || n == '!' || n == '<' || n == '>' {
                    chars.next();
                } else {
                    break;
                }
            }
            let mut arg = None;
            if let Some(&(_, '{')) = chars.peek() {
                chars.next();
                let mut a = String::new();
                loop {
                    match chars.next() {
                        Some((_, '}')) => break,
                        Some((_, ch)) => a.push(ch),
                        None => return Err(TemplateError::Unterminated(i)),
                    }
                }
                arg = Some(a);
            }
            let Some((_, letter)) = chars.next() else {
                lit.push('%');
                break;
            };
            if letter == '%' {
                lit.push('%');
                continue;
            }
            match Var::from_apache(letter, arg.as_deref()) {
                Some(ApacheOut::Var(var)) => {
                    push_lit(&mut parts, &mut lit);
                    parts.push(Part::Var { var, quoted: false });
                }
                // `%t` writes its own brackets.
                Some(ApacheOut::Bracketed(var)) => {
                    lit.push('[');
                    push_lit(&mut parts, &mut lit);
                    parts.push(Part::Var { var, quoted: false });
                    lit.push(']');
                }
                None => {
                    let shown = match &arg {
                        Some(a) => format!("{{{a}}}{letter}"),
                        None => letter.to_string(),
                    };
                    return Err(TemplateError::UnknownDirective(shown, i));
                }
            }
        }
        push_lit(&mut parts, &mut lit);
        Template::finish(parts, format)
    }

    fn finish(mut parts: Vec<Part>, source: &str) -> Result<Template, TemplateError> {
        if source.len() > 4096 {
            return Err(TemplateError::TooLong);
        }
        if parts.is_empty() {
            return Err(TemplateError::Empty);
        }
        if !parts.iter().any(|p| matches!(p, Part::Var { .. })) {
            return Err(TemplateError::NoVariables);
        }
        // A variable between two quotes is read as a quoted string.
        for i in 0..parts.len() {
            let before = i > 0 && matches!(&parts[i - 1], Part::Lit(l) if l.ends_with('"'));
            let after = matches!(parts.get(i + 1), Some(Part::Lit(l)) if l.starts_with('"'));
            if let Part::Var { quoted, .. } = &mut parts[i] {
                *quoted = before && after;
            }
        }
        for w in parts.windows(2) {
            if let [Part::Var { var: a, .. }, Part::Var { var: b, .. }] = w {
                return Err(TemplateError::Adjacent(a.name(), b.name()));
            }
        }
        Ok(Template {
            parts,
            source: source.to_string(),
        })
    }

    /// Splits a line into (variable, text) pairs, or says where it stopped fitting.
    pub(crate) fn split<'a>(
        &'a self,
        line: &'a str,
    ) -> Result<Vec<(&'a Var, Captured<'a>)>, &'static str> {
        let mut out = Vec::with_capacity(self.parts.len());
        let mut pos = 0usize;
        let b = line.as_bytes();
        for (k, part) in self.parts.iter().enumerate() {
            match part {
                Part::Lit(l) => {
                    pos = match_lit(line, pos, l).ok_or("the line does not fit the format")?;
                }
                Part::Var { var, quoted } => {
                    let next_lit = match self.parts.get(k + 1) {
                        Some(Part::Lit(l)) => Some(l.as_str()),
                        _ => None,
                    };
                    if *quoted {
                        let (text, end) = quoted_until(line, pos, next_lit.unwrap_or("\""))
                            .ok_or("a quoted field is not closed")?;
                        out.push((var, text));
                        pos = end;
                    } else {
                        let end = match next_lit.and_then(|l| l.bytes().next()) {
                            Some(stop) => {
                                // A literal starting with a space ends the value at
                                // the first space; otherwise at its first byte.
                                memchr::memchr(stop, &b[pos..]).map_or(b.len(), |i| pos + i)
                            }
                            None if var.is_free_text() => b.len(),
                            None => memchr::memchr(b' ', &b[pos..]).map_or(b.len(), |i| pos + i),
                        };
                        out.push((var, Captured::Raw(&line[pos..end])));
                        pos = end;
                    }
                }
            }
        }
        Ok(out)
    }
}

/// A variable's text: borrowed as is, or unescaped (quoted fields with escapes).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Captured<'a> {
    Raw(&'a str),
    Unescaped(String),
}

impl std::ops::Deref for Captured<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            Captured::Raw(s) => s,
            Captured::Unescaped(s) => s,
        }
    }
}

pub(crate) enum ApacheOut {
    Var(Var),
    Bracketed(Var),
}

fn push_lit(parts: &mut Vec<Part>, lit: &mut String) {
    if !lit.is_empty() {
        parts.push(Part::Lit(std::mem::take(lit)));
    }
}

/// nginx configs quote the format and may split it over several quoted strings:
/// `log_format main escape=json '$remote_addr - …' '"$request" …';`.
fn clean_nginx(s: &str) -> String {
    let mut t = s.trim().trim_end_matches(';').trim();
    if let Some(rest) = t.strip_prefix("log_format") {
        // Drop the directive and the format's name.
        let rest = rest.trim_start();
        t = rest
            .split_once(char::is_whitespace)
            .map_or("", |(_, r)| r)
            .trim();
    }
    if let Some(rest) = t.strip_prefix("escape=") {
        t = rest
            .split_once(char::is_whitespace)
            .map_or("", |(_, r)| r)
            .trim();
    }
    if !(t.starts_with('\'') || t.starts_with('"')) {
        return t.to_string();
    }
    // Concatenate the quoted pieces.
    let mut out = String::new();
    let mut chars = t.chars();
    while let Some(q) = chars.next() {
        if q != '\'' && q != '"' {
            continue;
        }
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else if c == q {
                break;
            } else {
                out.push(c);
            }
        }
    }
    out
}

/// Apache configs quote the format with `\"` inside: `LogFormat "%h … \"%r\" …" combined`.
fn clean_apache(s: &str) -> String {
    let mut t = s.trim();
    if let Some(rest) = t.strip_prefix("LogFormat") {
        t = rest.trim();
    } else if let Some(rest) = t.strip_prefix("CustomLog") {
        // `CustomLog path "format"`
        t = rest
            .trim()
            .split_once(char::is_whitespace)
            .map_or("", |(_, r)| r)
            .trim();
    }
    if let Some(body) = t.strip_prefix('"') {
        // Up to the closing unescaped quote; a nickname may follow.
        let mut out = String::new();
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('"') => out.push('"'),
                    Some('\\') => out.push('\\'),
                    Some('t') => out.push('\t'),
                    Some('n') => out.push('\n'),
                    Some(o) => {
                        out.push('\\');
                        out.push(o);
                    }
                    None => {}
                },
                '"' => break,
                c => out.push(c),
            }
        }
        return out;
    }
    t.to_string()
}

/// Matches a literal at `pos`; spaces in the literal match one or more spaces.
fn match_lit(line: &str, mut pos: usize, lit: &str) -> Option<usize> {
    let b = line.as_bytes();
    let lb = lit.as_bytes();
    let mut i = 0;
    while i < lb.len() {
        if lb[i] == b' ' {
            if b.get(pos) != Some(&b' ') && b.get(pos) != Some(&b'\t') {
                return None;
            }
            while matches!(b.get(pos), Some(b' ') | Some(b'\t')) {
                pos += 1;
            }
            while lb.get(i) == Some(&b' ') {
                i += 1;
            }
        } else {
            if b.get(pos) != Some(&lb[i]) {
                return None;
            }
            pos += 1;
            i += 1;
        }
    }
    Some(pos)
}

/// A quoted value starting at `pos` (just after the opening quote): runs to the
/// first unescaped `"` that the next literal fits; `\"` and `\\` are unescaped.
/// A raw quote inside the value (some servers do not escape) is kept when the
/// text after it does not continue the format.
fn quoted_until<'a>(line: &'a str, pos: usize, next_lit: &str) -> Option<(Captured<'a>, usize)> {
    let b = line.as_bytes();
    let mut i = pos;
    let mut escaped = false;
    while i < b.len() {
        match b[i] {
            b'\\' => {
                escaped = true;
                i += 2;
                continue;
            }
            b'"' => {
                let fits = match_lit(line, i, next_lit).is_some() || {
                    // End of line after the quote also fits a trailing literal `"`.
                    next_lit == "\"" && i + 1 == b.len()
                };
                if fits || !line[i + 1..].contains('"') {
                    let text = &line[pos..i.min(b.len())];
                    let cap = if escaped {
                        Captured::Unescaped(unescape(text))
                    } else {
                        Captured::Raw(text)
                    };
                    return Some((cap, i));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n @ ('"' | '\\')) => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nginx_combined_from_config() {
        let t = Template::nginx(
            r#"log_format main '$remote_addr - $remote_user [$time_local] "$request" '
                '$status $body_bytes_sent "$http_referer" "$http_user_agent"';"#,
        )
        .unwrap();
        let line =
            r#"1.2.3.4 - - [20/Nov/2026:10:00:00 +0000] "GET /a\"b HTTP/1.1" 200 5 "-" "curl/8""#;
        let got = t.split(line).unwrap();
        let names: Vec<String> = got.iter().map(|(v, _)| v.name()).collect();
        assert_eq!(names[0], "remote_addr");
        assert_eq!(&*got[3].1, "GET /a\"b HTTP/1.1");
        assert_eq!(&*got[7].1, "curl/8");
    }

    #[test]
    fn apache_vhost_combined() {
        let t = Template::apache(
            r#"LogFormat "%v:%p %h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" vhost_combined"#,
        )
        .unwrap();
        let line = r#"shop.example:443 2001:db8::1 - - [20/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "x y""#;
        let got = t.split(line).unwrap();
        assert_eq!(&*got[0].1, "shop.example");
        assert_eq!(&*got[2].1, "2001:db8::1");
        assert_eq!(&*got[5].1, "20/Nov/2026:10:00:00 +0000");
    }

    #[test]
    fn bad_formats_are_refused_with_reasons() {
        assert_eq!(Template::nginx(""), Err(TemplateError::Empty));
        assert_eq!(
            Template::nginx("just text"),
            Err(TemplateError::NoVariables)
        );
        assert!(matches!(
            Template::nginx("$remote_addr$status"),
            Err(TemplateError::Adjacent(..))
        ));
        assert!(matches!(
            Template::apache("%h %Z"),
            Err(TemplateError::UnknownDirective(..))
        ));
        assert!(matches!(
            Template::apache("%{Referer"),
            Err(TemplateError::Unterminated(_))
        ));
    }
}
