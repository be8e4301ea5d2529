//! Text to lines of glyphs: letters typed with combining accents composed,
//! each character mapped to a font (or replaced), each paragraph wrapped
//! greedily by the glyphs' real advances, breaking at spaces and, for
//! Chinese and Japanese (written without spaces), between characters.

use icu_normalizer::ComposingNormalizerBorrowed;

use super::fonts::{Glyph, Mapped, PdfFonts};

/// Lines ready to print, and how many characters no font could print.
#[derive(Debug, Default)]
pub(super) struct Laid {
    pub lines: Vec<Vec<Glyph>>,
    pub replaced: usize,
}

/// The address block, two blank lines, then the body; every line at most
/// `max` wide (PDF glyph space, 1/1000 of the font size).
pub(super) fn lay_out(fonts: &PdfFonts, address: &[String], body: &str, max: f32) -> Laid {
    let mut laid = Laid::default();
    for line in address {
        paragraphs(fonts, line, max, &mut laid);
    }
    laid.lines.extend([Vec::new(), Vec::new()]);
    paragraphs(fonts, body, max, &mut laid);
    laid
}

/// Lines end at `\n` or `\r\n`, and also at a lone `\r`, the Unicode line
/// and paragraph separators, vertical tab and form feed: all of them mean
/// "new line" in some source, and none has a glyph.
fn paragraphs(fonts: &PdfFonts, text: &str, max: f32, laid: &mut Laid) {
    for line in text.lines() {
        for para in line.split(['\r', '\u{2028}', '\u{2029}', '\u{0B}', '\u{0C}']) {
            let glyphs = map(fonts, para, &mut laid.replaced);
            wrap(&glyphs, max, &mut laid.lines);
        }
    }
}

fn map(fonts: &PdfFonts, text: &str, replaced: &mut usize) -> Vec<Glyph> {
    let mut out = Vec::with_capacity(text.len());
    let mut push = |c: char| match fonts.map(c) {
        Mapped::Glyph(g) => out.push(g),
        Mapped::Replaced(g) => {
            *replaced += 1;
            out.push(g);
        }
        Mapped::Invisible => {}
    };
    // Nothing positions combining marks over their letter here (no shaping),
    // so a name typed decomposed ("r" + U+030C, as some systems store it)
    // would print its accents beside the letters. Composing each letter with
    // its marks (NFC) prints "ř" from its own glyph. Only such clusters are
    // normalised: NFC would also swap CJK compatibility ideographs, which
    // some Japanese names use on purpose, for their unified forms.
    let nfc = ComposingNormalizerBorrowed::new_nfc();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let mut end = start + c.len_utf8();
        while let Some((i, m)) = chars.next_if(|&(_, m)| mark(m)) {
            end = i + m.len_utf8();
        }
        if end == start + c.len_utf8() {
            push(c);
        } else {
            text.get(start..end)
                .map(|cluster| nfc.normalize(cluster))
                .unwrap_or_default()
                .chars()
                .for_each(&mut push);
        }
    }
    out
}

fn is_space(g: &Glyph) -> bool {
    g.text == ' '
}

/// Greedy wrapping: a word that does not fit on the line starts the next
/// one; the spaces where a line breaks are dropped; a word wider than a
/// whole line (a long URL, a name with no spaces) is cut where it reaches
/// the margin. A paragraph's leading spaces (indentation) are kept.
fn wrap(glyphs: &[Glyph], max: f32, lines: &mut Vec<Vec<Glyph>>) {
    let mut line: Vec<Glyph> = Vec::new();
    let mut width = 0.0f32;
    // The spaces between the last word on the line and the next one.
    let mut gap: &[Glyph] = &[];
    let mut gap_width = 0.0f32;
    let mut start = 0;
    let mut first = true;
    while start < glyphs.len() {
        let end = piece_end(glyphs, start);
        let piece = &glyphs[start..end];
        let w: f32 = piece.iter().map(|g| g.advance).sum();
        let spaces = is_space(&glyphs[start]);
        start = end;
        if spaces && !first {
            gap = piece;
            gap_width = w;
            continue;
        }
        first = false;
        if !line.is_empty() && width + gap_width + w > max {
            lines.push(std::mem::take(&mut line));
            width = 0.0;
        } else {
            line.extend_from_slice(gap);
            width += gap_width;
        }
        gap = &[];
        gap_width = 0.0;
        if line.is_empty() && w > max {
            for g in piece {
                if !line.is_empty() && width + g.advance > max {
                    lines.push(std::mem::take(&mut line));
                    width = 0.0;
                }
                line.push(*g);
                width += g.advance;
            }
        } else {
            line.extend_from_slice(piece);
            width += w;
        }
    }
    lines.push(line);
}

/// Where the piece starting at `start` ends: a run of spaces, or a run of
/// other glyphs up to the next space or the next place a line may break
/// between two characters.
fn piece_end(glyphs: &[Glyph], start: usize) -> usize {
    let spaces = is_space(&glyphs[start]);
    let mut i = start + 1;
    while i < glyphs.len() {
        let (a, b) = (glyphs[i - 1].text, glyphs[i].text);
        if is_space(&glyphs[i]) != spaces || (!spaces && break_between(a, b)) {
            break;
        }
        i += 1;
    }
    i
}

/// Chinese, Japanese and Korean lines may break between any two
/// characters, except before closing punctuation, small kana and marks, and
/// after opening brackets (the basic kinsoku rules, so a line never starts
/// with `。` or ends with `「`).
fn break_between(a: char, b: char) -> bool {
    (wide(a) || wide(b)) && !no_break_before(b) && !no_break_after(a)
}

fn wide(c: char) -> bool {
    matches!(c,
        '\u{1100}'..='\u{11FF}' | '\u{2E80}'..='\u{303E}' | '\u{3041}'..='\u{33FF}'
        | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{A960}'..='\u{A97F}'
        | '\u{AC00}'..='\u{D7FF}' | '\u{F900}'..='\u{FAFF}' | '\u{FE30}'..='\u{FE4F}'
        | '\u{FF00}'..='\u{FFEF}' | '\u{20000}'..='\u{3FFFF}')
}

fn no_break_before(c: char) -> bool {
    mark(c)
        || matches!(
            c,
            ')' | ']'
                | '}'
                | ','
                | '.'
                | ':'
                | ';'
                | '!'
                | '?'
                | '%'
                | '’'
                | '”'
                | '、'
                | '。'
                | '，'
                | '．'
                | '・'
                | '：'
                | '；'
                | '？'
                | '！'
                | 'ー'
                | '～'
                | '〜'
                | '）'
                | '」'
                | '』'
                | '】'
                | '〕'
                | '〉'
                | '》'
                | '〙'
                | '〗'
                | '〟'
                | '］'
                | '｝'
                | '々'
                | '〻'
                | 'ゝ'
                | 'ゞ'
                | 'ヽ'
                | 'ヾ'
                | '゛'
                | '゜'
                | '％'
                | 'ぁ'
                | 'ぃ'
                | 'ぅ'
                | 'ぇ'
                | 'ぉ'
                | 'っ'
                | 'ゃ'
                | 'ゅ'
                | 'ょ'
                | 'ゎ'
                | 'ゕ'
                | 'ゖ'
                | 'ァ'
                | 'ィ'
                | 'ゥ'
                | 'ェ'
                | 'ォ'
                | 'ッ'
                | 'ャ'
                | 'ュ'
                | 'ョ'
                | 'ヮ'
                | 'ヵ'
                | 'ヶ'
        )
}

fn no_break_after(c: char) -> bool {
    matches!(
        c,
        '(' | '['
            | '{'
            | '‘'
            | '“'
            | '（'
            | '「'
            | '『'
            | '【'
            | '〔'
            | '〈'
            | '《'
            | '〘'
            | '〖'
            | '〝'
            | '［'
            | '｛'
            | '＄'
            | '￥'
    )
}

/// Combining marks stay with the character before them.
fn mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}' | '\u{3099}'..='\u{309A}' | '\u{FE20}'..='\u{FE2F}')
}
