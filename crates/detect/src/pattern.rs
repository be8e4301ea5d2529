//! Sigma string values as patterns: wildcard parsing with backslash escapes, and
//! the value-transforming modifiers (windash, base64, base64offset, utf16*, expand).

use base64::Engine as _;

/// One element of a string pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Tok {
    Lit(char),
    /// `*`: any run of characters.
    Any,
    /// `?`: exactly one character.
    One,
    /// A dash position under `windash`: any of `-`, `/`, en dash, em dash, horizontal bar.
    Dash,
}

pub const WINDASH_CHARS: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Pattern {
    pub toks: Vec<Tok>,
}

impl Pattern {
    /// Parses Sigma wildcard syntax. `\*`, `\?` and `\\` escape; any other
    /// backslash is literal (so `C:\Windows` needs no doubling).
    pub fn parse(s: &str) -> Pattern {
        let mut toks = Vec::with_capacity(s.len());
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.peek() {
                    Some('*') | Some('?') | Some('\\') => {
                        // Safe: peeked just above.
                        if let Some(n) = chars.next() {
                            toks.push(Tok::Lit(n));
                        }
                    }
                    _ => toks.push(Tok::Lit('\\')),
                },
                '*' => toks.push(Tok::Any),
                '?' => toks.push(Tok::One),
                c => toks.push(Tok::Lit(c)),
            }
        }
        Pattern { toks }
    }

    pub fn literal(s: &str) -> Pattern {
        Pattern {
            toks: s.chars().map(Tok::Lit).collect(),
        }
    }

    pub fn wrap_contains(&mut self) {
        self.wrap_start();
        self.wrap_end();
    }
    /// `startswith`: ensure a trailing `*`.
    pub fn wrap_start(&mut self) {
        if self.toks.last() != Some(&Tok::Any) {
            self.toks.push(Tok::Any);
        }
    }
    /// `endswith`: ensure a leading `*`.
    pub fn wrap_end(&mut self) {
        if self.toks.first() != Some(&Tok::Any) {
            self.toks.insert(0, Tok::Any);
        }
    }

    pub fn windash(&mut self) {
        for t in &mut self.toks {
            if let Tok::Lit(c) = t {
                if WINDASH_CHARS.contains(c) {
                    *t = Tok::Dash;
                }
            }
        }
    }

    /// The literal text of the pattern, wildcards dropped (used before encodings,
    /// which operate on plain text).
    pub fn plain_text(&self) -> String {
        self.toks
            .iter()
            .filter_map(|t| match t {
                Tok::Lit(c) => Some(*c),
                Tok::Dash => Some('-'),
                _ => None,
            })
            .collect()
    }

    pub fn has_wildcards(&self) -> bool {
        self.toks.iter().any(|t| matches!(t, Tok::Any | Tok::One))
    }

    /// Shape used to pick the cheapest matcher.
    pub fn shape(&self) -> Shape {
        let n = self.toks.len();
        let lead = self.toks.first() == Some(&Tok::Any);
        let trail = n > 1 && self.toks.last() == Some(&Tok::Any) || (n == 1 && lead);
        let inner_start = usize::from(lead);
        let inner_end = if trail && n > inner_start { n - 1 } else { n };
        let inner = &self.toks[inner_start.min(inner_end)..inner_end];
        if inner.iter().all(|t| matches!(t, Tok::Lit(_))) {
            let lit: String = inner
                .iter()
                .filter_map(|t| if let Tok::Lit(c) = t { Some(*c) } else { None })
                .collect();
            if lit.is_empty() {
                return if lead || trail {
                    Shape::AnyValue
                } else {
                    Shape::Empty
                };
            }
            return Shape::Literal {
                text: lit,
                anchor: match (lead, trail) {
                    (false, false) => Anchor::Exact,
                    (false, true) => Anchor::Start,
                    (true, false) => Anchor::End,
                    (true, true) => Anchor::Anywhere,
                },
            };
        }
        Shape::Complex
    }

    /// Longest run of literal characters: a substring every match must contain.
    pub fn longest_literal(&self) -> String {
        let mut best = String::new();
        let mut cur = String::new();
        for t in &self.toks {
            match t {
                Tok::Lit(c) => cur.push(*c),
                _ => {
                    if cur.chars().count() > best.chars().count() {
                        best = std::mem::take(&mut cur);
                    }
                    cur.clear();
                }
            }
        }
        if cur.chars().count() > best.chars().count() {
            best = cur;
        }
        best
    }

    /// Anchored regular expression for the pattern. `lower` lower-cases literals
    /// (the value side is lower-cased by the caller).
    pub fn to_regex(&self, lower: bool) -> String {
        let mut re = String::from("(?s)^");
        for t in &self.toks {
            match t {
                Tok::Lit(c) => {
                    let s: String = if lower {
                        c.to_lowercase().collect()
                    } else {
                        c.to_string()
                    };
                    re.push_str(&regex::escape(&s));
                }
                Tok::Any => re.push_str(".*"),
                Tok::One => re.push('.'),
                Tok::Dash => re.push_str("[-/\u{2013}\u{2014}\u{2015}]"),
            }
        }
        re.push('$');
        re
    }

    pub fn to_lowercase(&self) -> Pattern {
        let mut toks = Vec::with_capacity(self.toks.len());
        for t in &self.toks {
            match t {
                Tok::Lit(c) => toks.extend(c.to_lowercase().map(Tok::Lit)),
                other => toks.push(other.clone()),
            }
        }
        Pattern { toks }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Anchor {
    Exact,
    Start,
    End,
    Anywhere,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// `''`: the value is the empty string.
    Empty,
    /// `*`: any present, non-null value.
    AnyValue,
    Literal {
        text: String,
        anchor: Anchor,
    },
    Complex,
}

pub fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

pub fn utf16be(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect()
}

/// `utf16`: little endian with a byte order mark.
pub fn utf16_bom(s: &str) -> Vec<u8> {
    let mut v = vec![0xFF, 0xFE];
    v.extend(utf16le(s));
    v
}

pub fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The three shifted encodings of `bytes` as they appear inside a longer
/// base64 string, with the characters that depend on neighbouring bytes cut off
/// (same construction as pySigma).
pub fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    let mut out = Vec::with_capacity(3);
    for (i, start) in START.iter().enumerate() {
        let mut padded = vec![b' '; i];
        padded.extend_from_slice(bytes);
        let enc = base64(&padded);
        let end_cut = match (bytes.len() + i) % 3 {
            0 => 0,
            1 => 3,
            _ => 2,
        };
        let end = enc.len().saturating_sub(end_cut);
        if *start < end {
            out.push(enc[*start..end].to_string());
        }
    }
    out
}

/// Bytes as text for matching: one character per byte (U+0000–U+00FF, i.e.
/// Latin-1), so `utf16le("cmd")` is `"c\0m\0d\0"` and `utf16le("é")` is
/// `"\u{e9}\0"`. Always per byte, never UTF-8 decoding when the bytes happen to
/// form valid UTF-8, so a value's encoding never depends on its characters.
pub fn bytes_to_text(b: &[u8]) -> String {
    b.iter().map(|&b| char::from(b)).collect()
}

/// Result of expanding `%name%` placeholders.
#[derive(Debug, PartialEq)]
pub enum Expanded {
    Values(Vec<String>),
    Unresolved(String),
}

/// Expands `%name%` placeholders (`\%` escapes a percent) into the cartesian
/// product of the placeholder values. Values from the map may hold wildcards.
pub fn expand_placeholders(s: &str, lookup: &dyn Fn(&str) -> Option<Vec<String>>) -> Expanded {
    let mut results = vec![String::new()];
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'%') => {
                chars.next();
                for r in &mut results {
                    r.push('%');
                }
            }
            '%' => {
                let mut name = String::new();
                let mut closed = false;
                for n in chars.by_ref() {
                    if n == '%' {
                        closed = true;
                        break;
                    }
                    name.push(n);
                }
                if !closed {
                    for r in &mut results {
                        r.push('%');
                        r.push_str(&name);
                    }
                    continue;
                }
                let Some(values) = lookup(&name) else {
                    return Expanded::Unresolved(name);
                };
                let mut next = Vec::new();
                for r in &results {
                    for v in &values {
                        next.push(format!("{r}{v}"));
                    }
                }
                results = next;
            }
            c => {
                for r in &mut results {
                    r.push(c);
                }
            }
        }
    }
    Expanded::Values(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        use Tok::*;
        assert_eq!(
            Pattern::parse(r"a\*b").toks,
            vec![Lit('a'), Lit('*'), Lit('b')]
        );
        assert_eq!(Pattern::parse(r"a\\*").toks, vec![Lit('a'), Lit('\\'), Any]);
        assert_eq!(
            Pattern::parse(r"a\\\*").toks,
            vec![Lit('a'), Lit('\\'), Lit('*')]
        );
        assert_eq!(Pattern::parse(r"C:\Win").toks.len(), 6);
        assert_eq!(Pattern::parse(r"\\\\").toks, vec![Lit('\\'), Lit('\\')]);
        assert_eq!(Pattern::parse(r"\?").toks, vec![Lit('?')]);
    }

    #[test]
    fn shapes() {
        assert_eq!(
            Pattern::parse("*abc*").shape(),
            Shape::Literal {
                text: "abc".into(),
                anchor: Anchor::Anywhere
            }
        );
        assert_eq!(
            Pattern::parse("abc*").shape(),
            Shape::Literal {
                text: "abc".into(),
                anchor: Anchor::Start
            }
        );
        assert_eq!(
            Pattern::parse("*abc").shape(),
            Shape::Literal {
                text: "abc".into(),
                anchor: Anchor::End
            }
        );
        assert_eq!(
            Pattern::parse("abc").shape(),
            Shape::Literal {
                text: "abc".into(),
                anchor: Anchor::Exact
            }
        );
        assert_eq!(Pattern::parse("*").shape(), Shape::AnyValue);
        assert_eq!(Pattern::parse("**").shape(), Shape::AnyValue);
        assert_eq!(Pattern::parse("").shape(), Shape::Empty);
        assert_eq!(Pattern::parse("a*b").shape(), Shape::Complex);
        assert_eq!(Pattern::parse("a?").shape(), Shape::Complex);
    }

    #[test]
    fn base64offset_matches_spec_example() {
        // Sigma's example value.
        assert_eq!(
            base64_offsets(b"/bin/bash"),
            vec![
                "L2Jpbi9iYXNo".to_string(),
                "9iaW4vYmFza".into(),
                "vYmluL2Jhc2".into()
            ]
        );
    }

    #[test]
    fn utf16() {
        assert_eq!(utf16le("cmd"), vec![0x63, 0, 0x6d, 0, 0x64, 0]);
        assert_eq!(utf16be("cmd"), vec![0, 0x63, 0, 0x6d, 0, 0x64]);
        assert_eq!(utf16_bom("cmd")[..2], [0xFF, 0xFE]);
        // Non-ASCII: real UTF-16 (a surrogate pair for U+1F600), bytes as Latin-1.
        assert_eq!(utf16le("\u{e9}"), vec![0xE9, 0]);
        assert_eq!(utf16le("\u{1F600}"), vec![0x3D, 0xD8, 0x00, 0xDE]);
        assert_eq!(bytes_to_text(&utf16le("\u{e9}")), "\u{e9}\0");
        // C3 80 is valid UTF-8 ("\u{c0}") but stays two characters.
        assert_eq!(bytes_to_text(&[0xC3, 0x80]), "\u{c3}\u{80}");
    }

    #[test]
    fn placeholders() {
        let lookup = |n: &str| (n == "Admins").then(|| vec!["root".to_string(), "adm_*".into()]);
        assert_eq!(
            expand_placeholders("%Admins%", &lookup),
            Expanded::Values(vec!["root".into(), "adm_*".into()])
        );
        assert_eq!(
            expand_placeholders(r"\%plain%Admins%", &lookup),
            Expanded::Values(vec!["%plainroot".into(), "%plainadm_*".into()])
        );
        assert_eq!(
            expand_placeholders("%Other%", &lookup),
            Expanded::Unresolved("Other".into())
        );
    }
}
