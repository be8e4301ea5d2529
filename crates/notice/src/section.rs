//! Sections: templates wrap each part a law may require or forbid in
//! `{% filter section("code") %}…{% endfilter %}`. The filter brackets the
//! rendered text with private-use markers; [`split`] removes them again and
//! returns the clean text with the text of every section, so the checker sees
//! what the reader will see, not what the template author meant.

use std::collections::BTreeMap;

use bulwark_law::NoticeContent;
use minijinja::{Error, ErrorKind, Value};

const OPEN: char = '\u{E000}';
const CODE_END: char = '\u{E001}';
const CLOSE: char = '\u{E002}';

/// Markers and stencil stand-ins live in U+E000..U+E0FF; no input may carry them.
pub(crate) fn is_marker(c: char) -> bool {
    ('\u{E000}'..='\u{E0FF}').contains(&c)
}

/// Drops marker characters from untrusted text (names) so it cannot fake a section.
pub(crate) fn strip_markers(s: &str) -> String {
    s.chars().filter(|c| !is_marker(*c)).collect()
}

/// The `section` filter.
pub(crate) fn section_filter(body: Value, code: &str) -> Result<Value, Error> {
    if NoticeContent::from_code(code).is_none() {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("unknown section code `{code}` (see bulwark_law::NoticeContent)"),
        ));
    }
    let body = body
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| body.to_string());
    Ok(Value::from_safe_string(format!(
        "{OPEN}{code}{CODE_END}{body}{CLOSE}"
    )))
}

/// A rendered body without markers, and the text of each section (a code used
/// twice keeps both texts, joined).
#[derive(Debug, Default)]
pub struct Split {
    pub clean: String,
    pub sections: BTreeMap<NoticeContent, String>,
}

pub(crate) fn split(rendered: &str) -> Result<Split, String> {
    let mut out = Split {
        clean: String::with_capacity(rendered.len()),
        ..Split::default()
    };
    let mut stack: Vec<(NoticeContent, usize)> = Vec::new();
    let mut chars = rendered.char_indices();
    while let Some((_, c)) = chars.next() {
        match c {
            OPEN => {
                let mut code = String::new();
                for (_, c) in chars.by_ref() {
                    if c == CODE_END {
                        break;
                    }
                    code.push(c);
                }
                let code = NoticeContent::from_code(&code)
                    .ok_or_else(|| format!("unknown section code `{code}`"))?;
                stack.push((code, out.clean.len()));
            }
            CLOSE => {
                let (code, start) = stack.pop().ok_or("unbalanced section markers")?;
                let text = out.clean[start..].to_owned();
                let slot = out.sections.entry(code).or_default();
                if !slot.is_empty() {
                    slot.push('\n');
                }
                slot.push_str(&text);
            }
            CODE_END => return Err("stray section marker".into()),
            c => out.clean.push(c),
        }
    }
    if !stack.is_empty() {
        return Err("unbalanced section markers".into());
    }
    Ok(out)
}

/// Visible text of an HTML fragment: tags dropped, the entities minijinja
/// writes decoded. Enough for checking our own templates' output.
pub(crate) fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(code: &str, body: &str) -> String {
        section_filter(Value::from(body), code)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }

    #[test]
    fn nested_sections_are_split_and_markers_removed() {
        let inner = mark("elements", "your name");
        let outer = mark("standard_headings", &format!("A {inner} B"));
        let s = split(&format!("x {outer} y")).unwrap();
        assert_eq!(s.clean, "x A your name B y");
        assert_eq!(s.sections[&NoticeContent::Elements], "your name");
        assert_eq!(
            s.sections[&NoticeContent::StandardHeadings],
            "A your name B"
        );
    }

    #[test]
    fn unknown_codes_and_broken_markers_are_errors() {
        assert!(section_filter(Value::from("x"), "nature").is_err());
        assert!(split("a \u{E002} b").is_err());
        assert!(split("\u{E000}contact\u{E001} open").is_err());
    }

    #[test]
    fn html_text_is_decoded() {
        assert_eq!(
            visible_text("<p>Tom &amp; Jerry&#x27;s</p>").trim(),
            "Tom & Jerry's"
        );
    }
}
