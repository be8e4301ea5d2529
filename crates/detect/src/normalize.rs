//! Decoded forms of request fields, so rules written against the plain text
//! (`../`, `union select`, `<script`) also catch its encodings.
//!
//! Per field kind (chosen by the ECS path the field is read from):
//! - **URL** (`url.original`, `url.path`, `url.full`, `http.request.referrer`):
//!   percent-decoding repeated until stable (at most 4 rounds: `%252e` → `%2e`
//!   → `.`, `%%32%65` → `%2e` → `.`), `%uXXXX`, HTML entities, `+` as a space
//!   after `?`; then, as a further form, the path normalised (`\` → `/`,
//!   `//` → `/`, `/./` dropped, `/../` resolved as RFC 3986 does).
//! - **Query and body** (`url.query`, `http.request.body.content`): the same
//!   decoding with `+` as a space everywhere; no path normalisation.
//! - **Header** (`user_agent.original`, `http.request.headers.*`, cookies):
//!   percent-decoding and HTML entities.
//!
//! A field is matched against its raw value and every decoded form that
//! differs; an alert says when only a decoded form matched. Invalid escapes are
//! left as they are; decoded bytes that are not UTF-8 become U+FFFD.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeKind {
    Url,
    Query,
    Header,
}

/// The decoding for an ECS path, if it holds a URL, query, body or header.
pub fn kind_of(path: &str) -> Option<DecodeKind> {
    match path {
        "url.original" | "url.path" | "url.full" | "http.request.referrer" => Some(DecodeKind::Url),
        "url.query" | "http.request.body.content" => Some(DecodeKind::Query),
        "user_agent.original" | "http.request.cookie" => Some(DecodeKind::Header),
        p if p.starts_with("http.request.headers.") => Some(DecodeKind::Header),
        _ => None,
    }
}

/// Whether decoding could change the value (the common case says no cheaply:
/// a SIMD scan for `%`, `&`, `+`, then `\\`, `//`, `/.` for URLs).
fn may_change(v: &str, kind: DecodeKind) -> bool {
    let b = v.as_bytes();
    let hit = match kind {
        DecodeKind::Header => memchr::memchr2(b'%', b'&', b),
        _ => memchr::memchr3(b'%', b'&', b'+', b),
    };
    if hit.is_some() {
        return true;
    }
    kind == DecodeKind::Url
        && (memchr::memchr(b'\\', b).is_some()
            || memchr::memmem::find(b, b"//").is_some()
            || memchr::memmem::find(b, b"/.").is_some())
}

/// Appends the decoded forms of `v` that differ from it and from each other.
pub fn push_variants(v: &str, kind: DecodeKind, out: &mut Vec<String>) {
    if !may_change(v, kind) {
        return;
    }
    let mut cur = v.to_string();
    for _ in 0..4 {
        let next = decode_once(&cur, kind);
        if next == cur {
            break;
        }
        cur = next;
    }
    let decoded = cur;
    if kind == DecodeKind::Url {
        let normal = normalise_target(&decoded);
        if decoded != v {
            out.push(decoded.clone());
        }
        if normal != v && normal != decoded {
            out.push(normal);
        }
    } else if decoded != v {
        out.push(decoded);
    }
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// One round: `%XX`, `%uXXXX`, `+` (per kind) and HTML entities.
fn decode_once(s: &str, kind: DecodeKind) -> String {
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut in_query = kind == DecodeKind::Query;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'%' {
            if let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|x| hex(*x)),
                b.get(i + 2).and_then(|x| hex(*x)),
            ) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
            if matches!(b.get(i + 1), Some(b'u') | Some(b'U')) {
                let digits = b.get(i + 2..i + 6);
                if let Some(d) = digits.filter(|d| d.iter().all(|x| hex(*x).is_some())) {
                    let n = d
                        .iter()
                        .fold(0u32, |a, x| a * 16 + u32::from(hex(*x).unwrap_or(0)));
                    let ch = char::from_u32(n).unwrap_or('\u{fffd}');
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                    i += 6;
                    continue;
                }
            }
        } else if c == b'+' && in_query {
            out.push(b' ');
            i += 1;
            continue;
        } else if c == b'?' && kind == DecodeKind::Url {
            in_query = true;
        } else if c == b'&' {
            if let Some((ch, len)) = entity(&s[i..]) {
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                i += len;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An HTML character reference at the start of `s`: `&lt;`, `&#60;`, `&#x3c;`
/// (with or without the `;` for numeric ones, as browsers accept).
fn entity(s: &str) -> Option<(char, usize)> {
    const NAMED: &[(&str, char)] = &[
        ("&lt;", '<'),
        ("&gt;", '>'),
        ("&amp;", '&'),
        ("&quot;", '"'),
        ("&apos;", '\''),
        ("&sol;", '/'),
        ("&bsol;", '\\'),
        ("&lpar;", '('),
        ("&rpar;", ')'),
        ("&equals;", '='),
        ("&colon;", ':'),
        ("&semi;", ';'),
        ("&period;", '.'),
        ("&nbsp;", ' '),
        ("&Tab;", '\t'),
        ("&NewLine;", '\n'),
    ];
    for (name, ch) in NAMED {
        if s.len() >= name.len() && s.as_bytes()[..name.len()].eq_ignore_ascii_case(name.as_bytes())
        {
            return Some((*ch, name.len()));
        }
    }
    let rest = s.strip_prefix("&#")?;
    let (radix, digits_at) = match rest.as_bytes().first()? {
        b'x' | b'X' => (16, 1),
        _ => (10, 0),
    };
    let digits: &str = &rest[digits_at..];
    let n = digits
        .bytes()
        .take_while(|b| (*b as char).is_digit(radix))
        .count();
    if n == 0 || n > 7 {
        return None;
    }
    let v = u32::from_str_radix(&digits[..n], radix).ok()?;
    let ch = char::from_u32(v).filter(|c| *c != '\0')?;
    let mut len = 2 + digits_at + n;
    if s.as_bytes().get(len) == Some(&b';') {
        len += 1;
    }
    Some((ch, len))
}

/// Normalises the path of a request target (the query is left alone).
fn normalise_target(t: &str) -> String {
    let (path, query) = match t.find('?') {
        Some(i) => (&t[..i], Some(&t[i..])),
        None => (t, None),
    };
    let mut p = path.replace('\\', "/");
    // RFC 3986 5.2.4 on the segments, with empty segments (`//`) dropped too.
    let absolute = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    let trailing = p.ends_with('/') || p.ends_with("/.") || p.ends_with("/..");
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut n = String::with_capacity(p.len());
    if absolute {
        n.push('/');
    }
    n.push_str(&out.join("/"));
    if trailing && !out.is_empty() {
        n.push('/');
    }
    p = n;
    match query {
        Some(q) => p + q,
        None => p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variants(v: &str, k: DecodeKind) -> Vec<String> {
        let mut out = Vec::new();
        push_variants(v, k, &mut out);
        out
    }

    #[test]
    fn the_encodings_attackers_send() {
        use DecodeKind::*;
        assert_eq!(
            variants("/cgi-bin/.%2e/.%2e/etc/passwd", Url)[0],
            "/cgi-bin/../../etc/passwd"
        );
        assert_eq!(
            variants("/cgi-bin/.%2e/.%2e/etc/passwd", Url)[1],
            "/etc/passwd"
        );
        assert_eq!(
            variants("/cgi-bin/%%32%65%%32%65/x", Url)[0],
            "/cgi-bin/../x"
        );
        assert_eq!(variants("/%252e%252e/etc", Url)[0], "/../etc");
        assert_eq!(variants("/%2fetc%2fpasswd", Url)[1], "/etc/passwd");
        assert_eq!(
            variants("id=1%20union%20all%20select", Query),
            vec!["id=1 union all select"]
        );
        assert_eq!(variants("a=benchmark%28", Query), vec!["a=benchmark("]);
        assert_eq!(variants("q=%3Cimg+src=x%3E", Query), vec!["q=<img src=x>"]);
        assert_eq!(variants("q=%u003cscript%u003e", Query), vec!["q=<script>"]);
        assert_eq!(
            variants("q=&lt;svg&#x2F;onload&#61;1&gt;", Query),
            vec!["q=<svg/onload=1>"]
        );
        assert_eq!(variants("/a//b/./c", Url), vec!["/a/b/c"]);
        assert_eq!(variants("/search?q=a+b", Url), vec!["/search?q=a b"]);
        // Nothing to decode: nothing added (the fast path).
        assert!(variants("/products/42?id=7", Url).is_empty());
        assert!(variants("Mozilla/5.0 (X11; Linux x86_64)", Header).is_empty());
        // Broken escapes stay; nothing panics on odd bytes.
        assert!(variants("%zz%u12%", Query).is_empty());
        assert_eq!(variants("%ff", Query), vec!["\u{fffd}"]);
    }
}
