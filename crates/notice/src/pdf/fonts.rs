//! The embedded fonts and everything the PDF needs from them: which font has
//! a glyph for a character, its advance, and the font objects (a Type0 font
//! over a CIDFontType2 with the subset as FontFile2, widths and a ToUnicode
//! CMap) for the glyphs one letter uses.
//!
//! DejaVu Sans Mono covers Latin, Greek and Cyrillic (the names most stores
//! hold) and keeps the letters' fixed-width look; DejaVu Sans, same design,
//! fills its gaps (Vietnamese letters such as the "ễ" of "Nguyễn", Hebrew);
//! Droid Sans Fallback covers Chinese and Japanese. They ship in
//! `assets/fonts/` (with their licences) and are compiled in, because the
//! engine does no I/O and a print run must not depend on what fonts the
//! machine happens to have.

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str};
use sha2::{Digest, Sha256};
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

const MONO: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSansMono.ttf");
const SANS: &[u8] = include_bytes!("../../../../assets/fonts/DejaVuSans.ttf");
const CJK: &[u8] = include_bytes!("../../../../assets/fonts/DroidSansFallbackFull.ttf");

/// Identity-H text addresses glyphs by CID; with CIDToGIDMap Identity the
/// CID is the subset's glyph id, so the collection is "Adobe-Identity-0".
const IDENTITY: SystemInfo<'static> = SystemInfo {
    registry: Str(b"Adobe"),
    ordering: Str(b"Identity"),
    supplement: 0,
};

/// What can go wrong with the embedded fonts. The fonts are compiled in, so
/// neither happens with the shipped files (a test parses and subsets all three);
/// they are errors rather than panics because a print run of thousands of
/// letters should stop with a message, not abort. No personal data: only
/// the font's name.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PdfError {
    #[error("embedded font {font} cannot be parsed")]
    Font { font: &'static str },
    #[error("embedded font {font} cannot be subset: {reason}")]
    Subset {
        font: &'static str,
        reason: subsetter::Error,
    },
}

/// Which font a glyph comes from; also its index in [`PdfFonts::fonts`] and
/// its resource name (`/F1` to `/F3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FontId {
    /// The primary font: everything it has comes from it.
    Mono = 0,
    /// What the primary lacks, from its proportional sibling.
    Sans = 1,
    /// Chinese and Japanese.
    Cjk = 2,
}

pub(super) const FONTS: usize = 3;

impl FontId {
    /// In the order a character looks for its glyph.
    pub(super) const ALL: [FontId; FONTS] = [FontId::Mono, FontId::Sans, FontId::Cjk];

    pub(super) fn index(self) -> usize {
        self as usize
    }

    pub(super) fn resource(self) -> Name<'static> {
        match self {
            FontId::Mono => Name(b"F1"),
            FontId::Sans => Name(b"F2"),
            FontId::Cjk => Name(b"F3"),
        }
    }
}

/// One glyph placed in a line: the font, the glyph id in the full font, its
/// advance in PDF glyph space (1/1000 em) and the character it stands for
/// (for the ToUnicode map).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Glyph {
    pub font: FontId,
    pub gid: u16,
    pub advance: f32,
    pub text: char,
}

/// One parsed font.
pub(super) struct Font {
    /// PostScript name, without the subset tag.
    name: &'static str,
    data: &'static [u8],
    face: Face<'static>,
    /// PDF glyph space is 1/1000 em; the font's is 1/units_per_em.
    scale: f32,
    fixed_pitch: bool,
}

impl Font {
    fn parse(name: &'static str, data: &'static [u8], fixed_pitch: bool) -> Result<Font, PdfError> {
        let face = Face::parse(data, 0).map_err(|_| PdfError::Font { font: name })?;
        // FontFile2 holds TrueType outlines; a CFF font would need FontFile3.
        if face.tables().glyf.is_none() || face.units_per_em() == 0 {
            return Err(PdfError::Font { font: name });
        }
        let scale = 1000.0 / f32::from(face.units_per_em());
        Ok(Font {
            name,
            data,
            face,
            scale,
            fixed_pitch,
        })
    }

    /// Symbolic: the glyphs are not in the Adobe standard Latin set (and the
    /// subset has no cmap of its own; text maps through CIDs).
    fn flags(&self) -> FontFlags {
        if self.fixed_pitch {
            FontFlags::FIXED_PITCH | FontFlags::SYMBOLIC
        } else {
            FontFlags::SYMBOLIC
        }
    }

    /// The font's glyph for `c`, if it has a real one (not .notdef).
    fn glyph(&self, id: FontId, c: char) -> Option<Glyph> {
        let gid = self.face.glyph_index(c)?;
        (gid.0 != 0).then(|| Glyph {
            font: id,
            gid: gid.0,
            advance: self.advance(gid.0),
            text: c,
        })
    }

    /// Advance in PDF glyph space. The same number goes into the `W` array,
    /// so the lines measured here are the lines a viewer lays out.
    fn advance(&self, gid: u16) -> f32 {
        let units = self.face.glyph_hor_advance(GlyphId(gid)).unwrap_or(0);
        f32::from(units) * self.scale
    }

    /// Writes the font objects for the glyphs in `remapper` (whose new ids are
    /// the CIDs used in the content streams). `text` pairs each CID with the
    /// character it was placed for.
    pub(super) fn write(
        &self,
        pdf: &mut Pdf,
        refs: FontRefs,
        remapper: &GlyphRemapper,
        text: &[(u16, char)],
    ) -> Result<(), PdfError> {
        let subset =
            subsetter::subset(self.data, 0, remapper).map_err(|reason| PdfError::Subset {
                font: self.name,
                reason,
            })?;
        let base = format!("{}+{}", subset_tag(remapper), self.name);
        let base = Name(base.as_bytes());

        pdf.type0_font(refs.type0)
            .base_font(base)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(refs.cid)
            .to_unicode(refs.cmap);

        let mut cid = pdf.cid_font(refs.cid);
        cid.subtype(CidFontType::Type2)
            .base_font(base)
            .system_info(IDENTITY)
            .font_descriptor(refs.descriptor)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid.widths()
            .consecutive(0, remapper.remapped_gids().map(|g| self.advance(g)));
        cid.finish();

        let f = &self.face;
        let s = self.scale;
        let bbox = f.global_bounding_box();
        let cap = f.capital_height().unwrap_or(f.ascender());
        pdf.font_descriptor(refs.descriptor)
            .name(base)
            .flags(self.flags())
            .bbox(Rect::new(
                f32::from(bbox.x_min) * s,
                f32::from(bbox.y_min) * s,
                f32::from(bbox.x_max) * s,
                f32::from(bbox.y_max) * s,
            ))
            .italic_angle(f.italic_angle())
            .ascent(f32::from(f.ascender()) * s)
            .descent(f32::from(f.descender()) * s)
            .cap_height(f32::from(cap) * s)
            // No font table holds the stem width; this is the usual estimate
            // from the weight class (viewers only use it for substitution).
            .stem_v(10.0 + 0.244 * (f32::from(f.weight().to_number()) - 50.0))
            .font_file2(refs.file);

        let mut cmap = pdf_writer::types::UnicodeCmap::new(Name(b"Custom"), IDENTITY);
        for &(cid, c) in text {
            cmap.pair(cid, c);
        }
        pdf.cmap(refs.cmap, &deflate(&cmap.finish()))
            .filter(Filter::FlateDecode);
        pdf.stream(refs.file, &deflate(&subset))
            .filter(Filter::FlateDecode);
        Ok(())
    }
}

/// The object numbers of one embedded font.
#[derive(Debug, Clone, Copy)]
pub(super) struct FontRefs {
    pub type0: Ref,
    pub cid: Ref,
    pub descriptor: Ref,
    pub cmap: Ref,
    pub file: Ref,
}

/// How a character is printed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Mapped {
    Glyph(Glyph),
    /// No font has it: printed as the replacement glyph, and counted.
    Replaced(Glyph),
    /// An invisible format character (zero-width space or joiner, variation
    /// selector, bidi mark, byte-order mark, soft hyphen): it has no ink, so
    /// nothing is drawn and nothing is lost.
    Invisible,
}

/// The fonts a letter is printed in, parsed once and reused for every
/// letter of a print run.
pub struct PdfFonts {
    pub(super) fonts: [Font; FONTS],
    /// U+FFFD from the primary font, or `?` if it had none.
    replacement: Glyph,
}

impl PdfFonts {
    /// The fonts compiled into the engine.
    pub fn embedded() -> Result<PdfFonts, PdfError> {
        let mono = Font::parse("DejaVuSansMono", MONO, true)?;
        let sans = Font::parse("DejaVuSans", SANS, false)?;
        let cjk = Font::parse("DroidSansFallback", CJK, false)?;
        let replacement = mono
            .glyph(FontId::Mono, '\u{FFFD}')
            .or_else(|| mono.glyph(FontId::Mono, '?'))
            .ok_or(PdfError::Font { font: mono.name })?;
        Ok(PdfFonts {
            fonts: [mono, sans, cjk],
            replacement,
        })
    }

    /// How `c` is printed: from the first font that has the glyph, else as
    /// the replacement glyph.
    pub(super) fn map(&self, c: char) -> Mapped {
        if invisible(c) {
            return Mapped::Invisible;
        }
        // A tab is a space in a letter; other control characters have no
        // glyph to show, but they are not invisible either: they mean the
        // text is damaged, so they are replaced and counted.
        let c = if c == '\t' { ' ' } else { c };
        if c.is_control() {
            return Mapped::Replaced(self.replacement);
        }
        FontId::ALL
            .iter()
            .zip(&self.fonts)
            .find_map(|(&id, font)| font.glyph(id, c))
            .map_or(Mapped::Replaced(self.replacement), Mapped::Glyph)
    }
}

/// Unicode's default-ignorable code points (the ones that are invisible in
/// running text), less the Hangul fillers, which have glyphs.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// The six capital letters before a subset's name (ISO 32000 9.6.4): they
/// must differ between different subsets of one font, so they come from the
/// glyph set; a hash keeps the PDF the same for the same letter.
fn subset_tag(remapper: &GlyphRemapper) -> String {
    let mut h = Sha256::new();
    for g in remapper.remapped_gids() {
        h.update(g.to_be_bytes());
    }
    h.finalize()
        .iter()
        .take(6)
        .map(|b| char::from(b'A' + b % 26))
        .collect()
}

/// Flate-compressed stream data (zlib format, as FlateDecode expects).
/// Compression is most of the time a letter takes; the fastest level makes
/// a one-page letter about 15% larger than level 6 (19 KB against 16 KB)
/// and renders three times as many per second.
pub(super) fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 1)
}
