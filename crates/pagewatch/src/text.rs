//! Bounding attacker-controlled text: every string that reaches an event or a
//! report passes through here, so no field is longer than its bound and none
//! carries control or bidirectional-override characters (which could forge
//! log lines or disguise a value in a console).

/// `s` without control characters (C0, DEL, C1), bidi overrides/isolates and
/// zero-width characters, cut to at most `max_chars` characters.
pub fn clean(s: &str, max_chars: usize) -> String {
    s.chars()
        .filter(|c| !is_hidden(*c))
        .take(max_chars)
        .collect()
}

/// Like [`clean`] for raw bytes: invalid UTF-8 becomes U+FFFD first.
pub fn clean_bytes(b: &[u8], max_chars: usize) -> String {
    clean(&String::from_utf8_lossy(b), max_chars)
}

fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}'   // zero-width, LRM/RLM
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{FEFF}')
}

/// The longest prefix of `s` of at most `max_bytes` bytes ending on a character boundary.
pub fn head(s: &str, max_bytes: usize) -> &str {
    if s.len() <= max_bytes {
        return s;
    }
    let mut end = max_bytes;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
