//! One PDF per printed letter: the address block, two blank lines, then the
//! text body, 11 pt on US Letter with 72 pt margins and page breaks.
//!
//! Letters go to customers with names in every script, so the text is set in
//! embedded Unicode fonts (`fonts.rs`: DejaVu Sans Mono, DejaVu Sans for what
//! it lacks, Droid Sans Fallback for Chinese and Japanese) rather than a PDF
//! base font (Courier's WinAnsi encoding printed "Łukasz Dvořák" as
//! "?ukasz Dvo?ák"). Each font used is a Type0 font
//! over a CIDFontType2 (Identity-H, CIDToGIDMap Identity), embedded as a
//! subset of only the glyphs the letter uses, so a letter stays small, with
//! a ToUnicode CMap so the text can be searched and copied (and checked by
//! tests with `pdftotext`). A character no font has prints as U+FFFD
//! and is counted in [`LetterPdf::replaced`], never dropped silently.
//! Lines are wrapped by the glyphs' advances (`layout.rs`), so a line of
//! double-width ideographs fits the margins as exactly as one of Latin.

mod fonts;
mod layout;

use std::sync::OnceLock;

use pdf_writer::{Content, Filter, Finish, Pdf, Rect, Ref, Str};
use subsetter::GlyphRemapper;

use fonts::{deflate, FontId, FontRefs, FONTS};
pub use fonts::{PdfError, PdfFonts};

const PAGE_W: f32 = 612.0;
const PAGE_H: f32 = 792.0;
const MARGIN: f32 = 72.0;
const SIZE: f32 = 11.0;
const LEADING: f32 = 14.0;
const ROWS: usize = ((PAGE_H - 2.0 * MARGIN) / LEADING) as usize;
/// The text width in PDF glyph space (1/1000 of the font size), the unit of
/// the fonts' advances.
const TEXT_WIDTH: f32 = (PAGE_W - 2.0 * MARGIN) * 1000.0 / SIZE;

/// A printed letter.
#[derive(Debug, Clone)]
pub struct LetterPdf {
    pub bytes: Vec<u8>,
    /// Characters that no embedded font has (emoji, scripts beyond Latin,
    /// Greek, Cyrillic and CJK, control characters), printed as U+FFFD. A
    /// letter with any should be looked at before it is mailed.
    pub replaced: usize,
}

/// A letter as PDF, with the embedded fonts parsed once per process. A print
/// run can as well hold one [`PdfFonts`] and call [`PdfFonts::letter`].
pub fn letter_pdf(address: &[String], body: &str) -> Result<LetterPdf, PdfError> {
    static FONTS: OnceLock<Result<PdfFonts, PdfError>> = OnceLock::new();
    match FONTS.get_or_init(PdfFonts::embedded) {
        Ok(fonts) => fonts.letter(address, body),
        Err(e) => Err(e.clone()),
    }
}

impl PdfFonts {
    /// A letter as PDF: the address lines, two blank lines, then the body.
    pub fn letter(&self, address: &[String], body: &str) -> Result<LetterPdf, PdfError> {
        let laid = layout::lay_out(self, address, body, TEXT_WIDTH);
        let mut pdf = Pdf::new();
        let mut next = 1;
        let mut alloc = || {
            let r = Ref::new(next);
            next += 1;
            r
        };
        let catalog = alloc();
        let tree = alloc();
        let pages: Vec<&[Vec<fonts::Glyph>]> = if laid.lines.is_empty() {
            vec![&[]]
        } else {
            laid.lines.chunks(ROWS.max(1)).collect()
        };
        let page_refs: Vec<(Ref, Ref)> = pages.iter().map(|_| (alloc(), alloc())).collect();

        // One subset per font per letter: the remapper's new glyph ids are
        // the CIDs the content streams show.
        let mut remappers: [GlyphRemapper; FONTS] = std::array::from_fn(|_| GlyphRemapper::new());
        let mut text: [Vec<(u16, char)>; FONTS] = std::array::from_fn(|_| Vec::new());
        for (lines, &(_, content_ref)) in pages.iter().zip(&page_refs) {
            let content = page_content(lines, &mut remappers, &mut text);
            pdf.stream(content_ref, &deflate(&content))
                .filter(Filter::FlateDecode);
        }

        let mut used = Vec::new();
        for id in FontId::ALL {
            let i = id.index();
            if text[i].is_empty() {
                continue;
            }
            let refs = FontRefs {
                type0: alloc(),
                cid: alloc(),
                descriptor: alloc(),
                cmap: alloc(),
                file: alloc(),
            };
            self.fonts[i].write(&mut pdf, refs, &remappers[i], &text[i])?;
            used.push((id, refs.type0));
        }

        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree)
            .kids(page_refs.iter().map(|&(p, _)| p))
            .count(i32::try_from(pages.len()).unwrap_or(i32::MAX));
        for &(page_ref, content_ref) in &page_refs {
            let mut page = pdf.page(page_ref);
            page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
            page.parent(tree);
            page.contents(content_ref);
            let mut resources = page.resources();
            let mut dict = resources.fonts();
            for &(id, r) in &used {
                dict.pair(id.resource(), r);
            }
            dict.finish();
            resources.finish();
            page.finish();
        }
        Ok(LetterPdf {
            bytes: pdf.finish(),
            replaced: laid.replaced,
        })
    }
}

/// The content stream of one page: each line from the left margin, split
/// into runs of glyphs from the same font, each glyph shown by its CID (two
/// bytes, big-endian, as Identity-H reads them).
fn page_content(
    lines: &[Vec<fonts::Glyph>],
    remappers: &mut [GlyphRemapper; FONTS],
    text: &mut [Vec<(u16, char)>; FONTS],
) -> Vec<u8> {
    let mut content = Content::new();
    content.begin_text();
    content.set_leading(LEADING);
    content.next_line(MARGIN, PAGE_H - MARGIN);
    let mut current: Option<FontId> = None;
    let mut run: Vec<u8> = Vec::new();
    for line in lines {
        let mut glyphs = line.iter().peekable();
        while let Some(first) = glyphs.next() {
            let font = first.font;
            run.clear();
            let mut g = first;
            loop {
                let i = font.index();
                let before = remappers[i].num_gids();
                let cid = remappers[i].remap(g.gid);
                if remappers[i].num_gids() != before {
                    text[i].push((cid, g.text));
                }
                run.extend(cid.to_be_bytes());
                match glyphs.next_if(|n| n.font == font) {
                    Some(n) => g = n,
                    None => break,
                }
            }
            if current != Some(font) {
                content.set_font(font.resource(), SIZE);
                current = Some(font);
            }
            content.show(Str(&run));
        }
        content.next_line_using_leading();
    }
    content.end_text();
    content.finish().into_vec()
}

#[cfg(test)]
mod tests;
