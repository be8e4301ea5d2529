use super::fonts::{FontId, Glyph, Mapped};
use super::*;

fn fonts() -> PdfFonts {
    PdfFonts::embedded().expect("the embedded fonts parse")
}

fn width(line: &[Glyph]) -> f32 {
    line.iter().map(|g| g.advance).sum()
}

fn text(line: &[Glyph]) -> String {
    line.iter().map(|g| g.text).collect()
}

fn body_lines(fonts: &PdfFonts, body: &str) -> Vec<Vec<Glyph>> {
    let laid = layout::lay_out(fonts, &[], body, TEXT_WIDTH);
    laid.lines[2..].to_vec()
}

#[test]
fn embedded_fonts_parse_and_subset() {
    let fonts = fonts();
    let pdf = fonts
        .letter(&["Łukasz Dvořák".into(), "Nguyễn".into()], "山田 太郎")
        .expect("all three fonts subset");
    assert!(pdf.bytes.starts_with(b"%PDF-"));
    assert_eq!(pdf.replaced, 0);
    let raw = String::from_utf8_lossy(&pdf.bytes);
    assert!(
        raw.contains("+DejaVuSansMono"),
        "primary embedded as a subset"
    );
    assert!(raw.contains("+DejaVuSans\n"), "ễ from DejaVu Sans");
    assert!(
        raw.contains("+DroidSansFallback"),
        "fallback embedded as a subset"
    );
    assert!(raw.contains("/Identity-H") && raw.contains("/FontFile2"));
}

#[test]
fn characters_go_to_the_font_that_has_them() {
    let fonts = fonts();
    let font = |c| match fonts.map(c) {
        Mapped::Glyph(g) => Some(g.font),
        _ => None,
    };
    for c in ['a', 'Ł', 'ř', 'Ź', 'Ω', 'ж', '€', '“', 'ơ', 'ư', 'đ'] {
        assert_eq!(font(c), Some(FontId::Mono), "{c}");
    }
    // Vietnamese letters DejaVu Sans Mono lacks ("Nguyễn"), and Hebrew.
    for c in ['ễ', 'ế', 'ở', 'ש'] {
        assert_eq!(font(c), Some(FontId::Sans), "{c}");
    }
    for c in ['山', 'の', 'カ', '中', '、', '（'] {
        assert_eq!(font(c), Some(FontId::Cjk), "{c}");
    }
    assert!(matches!(fonts.map('🦀'), Mapped::Replaced(_)), "emoji");
    assert!(matches!(fonts.map('ก'), Mapped::Replaced(_)), "thai");
    // None of the fonts has Hangul syllables: Korean names are counted as
    // unprintable until a Korean font is added.
    assert!(matches!(fonts.map('한'), Mapped::Replaced(_)), "hangul");
    assert!(matches!(fonts.map('\u{7}'), Mapped::Replaced(_)), "bell");
    assert!(
        matches!(fonts.map('\u{200D}'), Mapped::Invisible),
        "zero-width joiner"
    );
    assert!(matches!(fonts.map('\t'), Mapped::Glyph(g) if g.text == ' '));
    // The replacement glyph is U+FFFD, so a copied letter shows where a
    // character was lost.
    match fonts.map('🦀') {
        Mapped::Replaced(g) => assert_eq!(g.text, '\u{FFFD}'),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unprintable_characters_are_counted_not_dropped() {
    let pdf = fonts()
        .letter(&["Jane \u{1F980} Doe".into()], "a\u{1}b สวัสดี c\u{200B}d")
        .unwrap();
    // 🦀, U+0001 and six Thai letters; the zero-width space is invisible
    // anyway.
    assert_eq!(pdf.replaced, 8);
}

#[test]
fn decomposed_accents_print_as_their_letters() {
    let fonts = fonts();
    let lines = body_lines(
        &fonts,
        "Dvor\u{30c}a\u{301}k \u{5d1}\u{5bc} か\u{3099} e\u{301}\u{308}",
    );
    // The NFC letters; what has no composed form keeps its marks.
    assert_eq!(text(&lines[0]), "Dvořák \u{5d1}\u{5bc} が é\u{308}");
    // A CJK compatibility ideograph (as in some names) is left as written.
    let lines = body_lines(&fonts, "\u{f91d}様 e\u{301}");
    assert_eq!(text(&lines[0]), "\u{f91d}様 é");
}

#[test]
fn latin_lines_fill_the_width_and_never_pass_it() {
    let fonts = fonts();
    let body = "The quick brown fox jumps over the lazy dog. ".repeat(60);
    let lines = body_lines(&fonts, &body);
    assert!(lines.len() > 30);
    let mono = match fonts.map('a') {
        Mapped::Glyph(g) => g.advance,
        other => panic!("{other:?}"),
    };
    // DejaVu Sans Mono is 1233/2048 em: 70 characters in 468 pt at 11 pt.
    assert_eq!((TEXT_WIDTH / mono) as usize, 70);
    for l in &lines[..lines.len() - 1] {
        assert!(width(l) <= TEXT_WIDTH, "{}", text(l));
        // Greedy: the next word ("quick" is the longest, 5) would not fit.
        assert!(width(l) + 6.0 * mono > TEXT_WIDTH, "{}", text(l));
        assert!(!text(l).starts_with(' ') && !text(l).ends_with(' '));
    }
}

#[test]
fn a_cjk_paragraph_wraps_between_ideographs() {
    let fonts = fonts();
    let body = "東京都千代田区丸の内一丁目一番一号山田太郎様宛".repeat(10);
    let chars = body.chars().count();
    let lines = body_lines(&fonts, &body);
    // Ideographs are one em: 42 to a 468 pt line at 11 pt.
    assert_eq!(lines.len(), chars.div_ceil(42), "{lines:?}");
    for l in &lines {
        assert!(width(l) <= TEXT_WIDTH);
    }
    assert_eq!(lines.iter().map(|l| text(l)).collect::<String>(), body);
}

#[test]
fn no_line_starts_with_closing_punctuation() {
    let fonts = fonts();
    // 41 ideographs then 。: the full stop may not start the next line, so
    // the last ideograph goes with it.
    let body = format!("{}。{}", "山".repeat(42), "川".repeat(5));
    let lines = body_lines(&fonts, &body);
    assert_eq!(lines.len(), 2);
    assert_eq!(text(&lines[1]), format!("山。{}", "川".repeat(5)));
}

#[test]
fn long_words_are_cut_at_the_margin() {
    let fonts = fonts();
    let url = format!("https://example.test/{}", "a".repeat(300));
    for body in [url.clone(), format!("see {url} now"), "汉".repeat(500)] {
        let lines = body_lines(&fonts, &body);
        assert!(lines.len() >= 4);
        assert!(lines.iter().all(|l| width(l) <= TEXT_WIDTH));
        // Nothing lost but the spaces where lines break.
        let joined: String = lines.iter().map(|l| text(l)).collect();
        assert_eq!(joined.replace(' ', ""), body.replace(' ', ""));
    }
}

#[test]
fn address_lines_wrap_too_and_the_body_follows_two_blank_lines() {
    let fonts = fonts();
    let long = "Apartment 12, ".repeat(10);
    let laid = layout::lay_out(&fonts, &["Jane Doe".into(), long], "Dear Jane,", TEXT_WIDTH);
    assert_eq!(text(&laid.lines[0]), "Jane Doe");
    assert!(laid.lines.iter().all(|l| width(l) <= TEXT_WIDTH));
    let n = laid.lines.len();
    assert!(laid.lines[n - 3].is_empty() && laid.lines[n - 2].is_empty());
    assert_eq!(text(&laid.lines[n - 1]), "Dear Jane,");
}

#[test]
fn indentation_and_blank_lines_are_kept() {
    let fonts = fonts();
    let lines = body_lines(&fonts, "Dear Jane,\n\n  - item one\r\n  - item two\n");
    let texts: Vec<String> = lines.iter().map(|l| text(l)).collect();
    assert_eq!(texts, ["Dear Jane,", "", "  - item one", "  - item two"]);
}

#[test]
fn long_letters_break_into_pages() {
    let body = "word ".repeat(3000);
    let pdf = letter_pdf(&["Jane Doe".into(), "1 Main St".into()], &body).unwrap();
    let raw = String::from_utf8_lossy(&pdf.bytes);
    // 14 four-letter words and their spaces fill 69 of 70 columns.
    let lines: usize = 2 + 2 + 3000usize.div_ceil(14);
    let pages = lines.div_ceil(ROWS);
    assert!(pages >= 4);
    assert!(raw.contains(&format!("/Count {pages}")), "{pages} pages");
}

#[test]
fn the_same_letter_gives_the_same_bytes() {
    let fonts = fonts();
    let a = fonts.letter(&["Łukasz".into()], "山田").unwrap();
    let b = fonts.letter(&["Łukasz".into()], "山田").unwrap();
    assert_eq!(a.bytes, b.bytes);
}

#[test]
fn hostile_text_never_panics_or_overflows() {
    let fonts = fonts();
    // Pieces that break naive layout code: controls, combining marks, RTL,
    // emoji sequences, NUL, BOM, lone CR, line separators, wide and narrow
    // characters mixed without spaces, long runs of spaces.
    let pool = [
        "\u{0}",
        "\u{1b}[31m",
        "\r",
        "\u{2028}",
        "\u{c}",
        "\t",
        "e\u{301}\u{308}\u{20dd}",
        "שלום",
        "مرحبا",
        "\u{202e}evil",
        "👨\u{200d}👩\u{200d}👧",
        "🇵🇱",
        "\u{feff}",
        "\u{fffd}",
        "ｱｲｳ",
        "漢字かな交じり",
        "한국어",
        "x",
        " ",
        "                    ",
        "Ǆ",
        "\u{10ffff}",
        "\u{e0001}",
        "ぁ",
        "。",
        "「",
        "a".repeat(100).leak(),
    ];
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..200 {
        let mut body = String::new();
        for _ in 0..(seed % 60) {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            body.push_str(pool[(seed % pool.len() as u64) as usize]);
        }
        let laid = layout::lay_out(&fonts, &[body.clone()], &body, TEXT_WIDTH);
        assert!(laid.lines.iter().all(|l| width(l) <= TEXT_WIDTH));
        let pdf = fonts.letter(&[body.clone()], &body).unwrap();
        assert!(pdf.bytes.starts_with(b"%PDF-"));
    }
    for (address, body) in [(vec![], ""), (vec![String::new()], "\n\n\n"), (vec![], " ")] {
        assert!(fonts.letter(&address, body).is_ok());
    }
}
