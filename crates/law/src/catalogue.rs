//! Loading law files into a catalogue and finding the laws that protect the
//! residents of a jurisdiction. The caller supplies `(path, text)` pairs; this
//! crate reads no files itself (the built-in set is compiled in).

use std::collections::HashMap;

use bulwark_model::{DataElement, Pos};

use crate::error::CatalogueError;
use crate::schema::Law;
use crate::spans::{Seg, Spans};

/// A set of data elements as a bit mask, for fast combination matching.
pub(crate) type ElementMask = u32;

pub(crate) fn mask_of(elements: &[DataElement]) -> ElementMask {
    elements.iter().fold(0, |m, e| m | bit(*e))
}

/// The elements of a mask, in `DataElement::ALL` order.
pub(crate) fn elements_of(mask: ElementMask) -> Vec<DataElement> {
    DataElement::ALL
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, e)| *e)
        .collect()
}

fn bit(e: DataElement) -> ElementMask {
    let idx = DataElement::ALL.iter().position(|x| *x == e).unwrap_or(0);
    1 << idx
}

/// A law plus its precomputed element masks.
#[derive(Debug, Clone)]
pub(crate) struct CompiledLaw {
    pub law: Law,
    pub path: String,
    /// Per obligation rule: its own combinations, or the law's.
    pub rule_combos: Vec<Vec<ElementMask>>,
    /// Per obligation rule: threshold waiver combinations.
    pub rule_waivers: Vec<Vec<ElementMask>>,
}

impl CompiledLaw {
    fn new(law: Law, path: String) -> Self {
        let masks = |c: &[Vec<DataElement>]| c.iter().map(|x| mask_of(x)).collect::<Vec<_>>();
        let covered = masks(&law.covered.combinations);
        let rule_combos = law
            .obligations
            .iter()
            .map(|r| {
                r.combinations
                    .as_deref()
                    .map(masks)
                    .unwrap_or_else(|| covered.clone())
            })
            .collect();
        let rule_waivers = law
            .obligations
            .iter()
            .map(|r| {
                r.threshold
                    .as_ref()
                    .and_then(|t| t.waived_for.as_deref())
                    .map(masks)
                    .unwrap_or_default()
            })
            .collect();
        CompiledLaw {
            law,
            path,
            rule_combos,
            rule_waivers,
        }
    }
}

/// The loaded law catalogue.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    pub(crate) laws: Vec<CompiledLaw>,
    by_jurisdiction: HashMap<String, Vec<usize>>,
    pub(crate) everywhere: Vec<usize>,
}

/// Parses one law file; errors carry the file and position.
pub fn parse_law(path: &str, text: &str) -> Result<Law, CatalogueError> {
    toml::from_str::<Law>(text).map_err(|e| CatalogueError::Parse {
        path: path.to_owned(),
        position: e.span().map(|s| Pos::of_offset(text, s.start)),
        message: e.message().trim().to_owned(),
    })
}

impl Catalogue {
    /// Loads law files given as `(path, text)` pairs. Law ids must be unique.
    pub fn load<P: AsRef<str>, T: AsRef<str>>(
        files: &[(P, T)],
    ) -> Result<Catalogue, CatalogueError> {
        let mut cat = Catalogue::default();
        for (path, text) in files {
            let (path, text) = (path.as_ref(), text.as_ref());
            let law = parse_law(path, text)?;
            if let Some(other) = cat.laws.iter().find(|l| l.law.id == law.id) {
                return Err(CatalogueError::DuplicateId {
                    path: path.to_owned(),
                    id: law.id,
                    other: other.path.clone(),
                });
            }
            validate(path, text, &law)?;
            cat.laws.push(CompiledLaw::new(law, path.to_owned()));
        }
        cat.reindex();
        Ok(cat)
    }

    /// The catalogue shipped in `laws/`.
    pub fn builtin() -> Result<Catalogue, CatalogueError> {
        Catalogue::load(crate::builtin::FILES)
    }

    /// Replaces (by law id) or adds laws from override files, e.g. the data
    /// directory's `laws/` on top of the built-in set.
    pub fn with_overrides<P: AsRef<str>, T: AsRef<str>>(
        mut self,
        files: &[(P, T)],
    ) -> Result<Catalogue, CatalogueError> {
        let extra = Catalogue::load(files)?;
        for law in extra.laws {
            match self.laws.iter_mut().find(|l| l.law.id == law.law.id) {
                Some(slot) => *slot = law,
                None => self.laws.push(law),
            }
        }
        self.reindex();
        Ok(self)
    }

    fn reindex(&mut self) {
        self.by_jurisdiction.clear();
        self.everywhere.clear();
        for (i, l) in self.laws.iter().enumerate() {
            if l.law.applies.everywhere {
                self.everywhere.push(i);
            }
            for j in &l.law.applies.jurisdictions {
                self.by_jurisdiction.entry(j.clone()).or_default().push(i);
            }
        }
    }

    /// All laws, in load order.
    pub fn laws(&self) -> impl Iterator<Item = &Law> {
        self.laws.iter().map(|l| &l.law)
    }

    /// The law with this id.
    pub fn get(&self, id: &str) -> Option<&Law> {
        self.laws.iter().find(|l| l.law.id == id).map(|l| &l.law)
    }

    /// Laws protecting residents of `code`: those listing the code itself plus
    /// those listing its country (a Quebec resident is covered by Quebec's law
    /// and by PIPEDA; `GB-ENG` falls back to `GB`). Excludes `everywhere` laws.
    pub fn resolve(&self, code: &str) -> Vec<&Law> {
        self.resolve_idx(code)
            .into_iter()
            .map(|i| &self.laws[i].law)
            .collect()
    }

    /// True when some law protects residents of a subdivision of `country`
    /// (e.g. `US-CA` for `US`).
    pub fn has_subdivision_laws(&self, country: &str) -> bool {
        let prefix = format!("{country}-");
        self.by_jurisdiction.keys().any(|k| k.starts_with(&prefix))
    }

    pub(crate) fn resolve_idx(&self, code: &str) -> Vec<usize> {
        let mut out: Vec<usize> = self.by_jurisdiction.get(code).cloned().unwrap_or_default();
        if let Some((country, _)) = code.split_once('-') {
            for i in self.by_jurisdiction.get(country).into_iter().flatten() {
                if !out.contains(i) {
                    out.push(*i);
                }
            }
        }
        out
    }
}

/// Checks the rules serde cannot express and that the engine relies on.
fn validate(path: &str, text: &str, law: &Law) -> Result<(), CatalogueError> {
    // Positions are looked up only on failure: a clean file is parsed once.
    let invalid = |at: &[Seg<'_>], message: String| CatalogueError::Invalid {
        path: path.to_owned(),
        position: Spans::parse(text).ok().map(|s| s.pos(at)),
        message,
    };
    for (i, rule) in law.obligations.iter().enumerate() {
        if let Some(t) = &rule.threshold {
            if t.more_than.is_some() && t.at_least.is_some() {
                return Err(invalid(
                    &[
                        Seg::Key("obligations"),
                        Seg::Index(i),
                        Seg::Key("threshold"),
                    ],
                    format!(
                        "obligations[{i}].threshold: give either more_than or at_least, not both"
                    ),
                ));
            }
        }
    }
    if let Some(k) = law.covered.combinations.iter().position(Vec::is_empty) {
        return Err(invalid(
            &[Seg::Key("covered"), Seg::Key("combinations"), Seg::Index(k)],
            "covered.combinations: an empty combination would cover every record".into(),
        ));
    }
    Ok(())
}
