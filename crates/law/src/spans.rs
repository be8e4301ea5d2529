//! Where things are in a law file: the TOML tree with the span of every key
//! and value, walked by path, so a finding points at the value it is about
//! (the second `[[obligations]]`'s `within`, not the first line that happens
//! to contain the same text).

use bulwark_model::Pos;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// One step of a path into a law file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seg<'a> {
    /// A key of a table (`[applies]`, `within = …`).
    Key(&'a str),
    /// An element of an array (`jurisdictions[2]`, the third `[[obligations]]`).
    Index(usize),
}

/// A parsed law file's spans.
pub(crate) struct Spans<'t> {
    text: &'t str,
    root: Spanned<DeTable<'t>>,
}

impl<'t> Spans<'t> {
    pub fn parse(text: &'t str) -> Result<Self, toml::de::Error> {
        Ok(Spans {
            text,
            root: DeTable::parse(text)?,
        })
    }

    /// Where `path` is: for a key, where its `key = …` (or `[key]` header)
    /// starts; for an array element, where the element starts. A path that
    /// runs past what the file contains (a key left out and defaulted) stops
    /// at the deepest part that exists, so the finding still lands nearby.
    pub fn pos(&self, path: &[Seg<'_>]) -> Pos {
        let mut at = 0;
        let mut table: Option<&DeTable<'t>> = Some(self.root.get_ref());
        let mut value: Option<&DeValue<'t>> = None;
        for seg in path {
            let next = match (*seg, table, value) {
                (Seg::Key(k), Some(t), _) => t
                    .iter()
                    .find(|(key, _)| key.get_ref().as_ref() == k)
                    .map(|(key, v)| (key.span().start, v)),
                (Seg::Index(i), _, Some(DeValue::Array(items))) => {
                    items.get(i).map(|v| (v.span().start, v))
                }
                _ => None,
            };
            let Some((start, v)) = next else { break };
            at = start;
            value = Some(v.get_ref());
            table = match v.get_ref() {
                DeValue::Table(t) => Some(t),
                _ => None,
            };
        }
        Pos::of_offset(self.text, at)
    }
}

#[cfg(test)]
mod tests {
    use super::Seg::{Index as I, Key as K};
    use super::*;

    const TEXT: &str = "id = \"X\"\n\n[applies]\njurisdictions = [\"AA\", \"BB\"]\n\n[[obligations]]\nrecipient = \"regulator\"\n[obligations.timing]\nwithin = 72\n\n[[obligations]]\nrecipient = \"regulator\"\nlimits = { within = 72 }\n[obligations.timing]\nwithin = 72\n";

    #[test]
    fn paths_resolve_to_their_own_occurrence() {
        let s = Spans::parse(TEXT).unwrap();
        assert_eq!(s.pos(&[K("id")]), Pos::new(1, 1));
        assert_eq!(s.pos(&[K("applies")]), Pos::new(3, 2));
        assert_eq!(
            s.pos(&[K("applies"), K("jurisdictions"), I(1)]),
            Pos::new(4, 24)
        );
        let second = [K("obligations"), I(1), K("timing"), K("within")];
        assert_eq!(s.pos(&second), Pos::new(15, 1));
        let first = [K("obligations"), I(0), K("timing"), K("within")];
        assert_eq!(s.pos(&first), Pos::new(9, 1));
        assert_eq!(
            s.pos(&[K("obligations"), I(1), K("limits"), K("within")]),
            Pos::new(13, 12)
        );
    }

    #[test]
    fn missing_parts_fall_back_to_the_deepest_existing_one() {
        let s = Spans::parse(TEXT).unwrap();
        assert_eq!(
            s.pos(&[K("obligations"), I(1), K("timing"), K("target")]),
            s.pos(&[K("obligations"), I(1), K("timing")])
        );
        assert_eq!(s.pos(&[K("nope"), K("deeper")]), Pos::START);
        assert_eq!(
            s.pos(&[K("applies"), K("jurisdictions"), I(9)]),
            Pos::new(4, 1)
        );
    }
}
