//! One PDF per printed letter: the address block, then the text body, in
//! 11-point Courier on US Letter with page breaks. Courier is one of the PDF
//! base fonts (nothing to embed) and is fixed-width, so wrapping is exact.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

const PAGE_W: f32 = 612.0;
const PAGE_H: f32 = 792.0;
const MARGIN: f32 = 72.0;
const SIZE: f32 = 11.0;
const LEADING: f32 = 14.0;
/// Courier's advance is 600/1000 em.
const COLUMNS: usize = ((PAGE_W - 2.0 * MARGIN) / (SIZE * 0.6)) as usize;
const ROWS: usize = ((PAGE_H - 2.0 * MARGIN) / LEADING) as usize;

/// WinAnsiEncoding byte of a character (Latin-1 range plus the usual
/// punctuation); anything else prints as `?`.
fn win_ansi(c: char) -> u8 {
    match c {
        '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{ff}' => c as u32 as u8,
        '€' => 0x80,
        '‚' => 0x82,
        '„' => 0x84,
        '…' => 0x85,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '\t' => b' ',
        _ => b'?',
    }
}

/// Whether every character of `text` prints as itself in the PDF (Courier
/// has WinAnsi glyphs only: not Polish ą/ł/ż…, not Japanese). A letter that
/// fails this still gets a PDF, with `?` for those characters.
pub fn pdf_can_print(text: &str) -> bool {
    text.chars()
        .all(|c| c == '?' || c == '\n' || c == '\r' || win_ansi(c) != b'?')
}

/// Hard-wraps at word boundaries to the page width.
fn wrap(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.lines() {
        let mut line = String::new();
        let mut len = 0;
        for word in para.split(' ') {
            let wlen = word.chars().count();
            if len > 0 && len + 1 + wlen > COLUMNS {
                lines.push(std::mem::take(&mut line));
                len = 0;
            }
            if len > 0 {
                line.push(' ');
                len += 1;
            }
            // A word longer than a line is cut.
            let mut rest: Vec<char> = word.chars().collect();
            while rest.len() > COLUMNS {
                let head: String = rest.drain(..COLUMNS).collect();
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                lines.push(head);
            }
            len += rest.len();
            line.extend(rest);
        }
        lines.push(line);
    }
    lines
}

/// A letter as PDF bytes.
pub fn letter_pdf(address: &[String], body: &str) -> Vec<u8> {
    let mut lines: Vec<String> = address.to_vec();
    lines.extend([String::new(), String::new()]);
    lines.extend(wrap(body));
    let pages: Vec<&[String]> = lines.chunks(ROWS.max(1)).collect();

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let font = Ref::new(3);
    let font_name = Name(b"F1");
    let page_ids: Vec<Ref> = (0..pages.len())
        .map(|i| Ref::new(4 + 2 * i as i32))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(pages.len() as i32);
    pdf.type1_font(font)
        .base_font(Name(b"Courier"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    for (i, chunk) in pages.iter().enumerate() {
        let page_id = page_ids[i];
        let content_id = Ref::new(5 + 2 * i as i32);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(content_id);
        page.resources().fonts().pair(font_name, font);
        page.finish();
        let mut content = Content::new();
        content.begin_text();
        content.set_font(font_name, SIZE);
        content.set_leading(LEADING);
        content.next_line(MARGIN, PAGE_H - MARGIN);
        for line in chunk.iter() {
            let bytes: Vec<u8> = line.chars().map(win_ansi).collect();
            content.show(Str(&bytes));
            content.next_line_using_leading();
        }
        content.end_text();
        pdf.stream(content_id, &content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_outside_win_ansi_are_reported() {
        assert!(pdf_can_print("Grüße, Ça va? Señora São Åsa\n"));
        assert!(!pdf_can_print("Szanowni Państwo"));
        assert!(!pdf_can_print("お知らせ"));
    }

    #[test]
    fn long_letters_break_into_pages_and_lines_fit() {
        let body = "word ".repeat(3000);
        let lines = wrap(&body);
        assert!(lines.iter().all(|l| l.chars().count() <= COLUMNS));
        let pdf = letter_pdf(&["Jane Doe".into(), "1 Main St".into()], &body);
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        let pages = text.matches("/Type /Page\n").count() + text.matches("/Type /Page ").count();
        assert!(
            pages >= 2 || text.contains("/Count 2") || text.contains("/Count 3"),
            "several pages expected"
        );
        assert!(text.contains("(Jane Doe) Tj"));
    }
}
