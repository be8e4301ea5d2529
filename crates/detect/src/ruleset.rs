//! Loading a rule directory: parse every file, apply global filters, resolve
//! correlation references, compile, and report per rule what loaded and what
//! was rejected and why.

use std::collections::HashMap;

use bulwark_model::{Diagnostic, Pos};

use crate::ast::*;
use crate::compile::{compile_detection, CompileOptions, Expr, Program};
use crate::error::RuleError;
use crate::parse::parse_file;

/// Per-document outcome of [`RuleSet::load`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "outcome", content = "reason", rename_all = "lowercase")]
pub enum Outcome {
    Loaded,
    Rejected(String),
}

/// What kind of Sigma document a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    Detection,
    Correlation,
    Filter,
    /// The file could not be split into documents (YAML syntax error).
    File,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LintReport {
    pub path: String,
    /// 0-based index of the document in a multi-document file.
    pub document: usize,
    /// 1-based line where the document starts, when it could be parsed.
    pub line: Option<usize>,
    pub kind: DocumentKind,
    pub rule_title: Option<String>,
    pub rule_id: Option<String>,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Where a rejection points (the offending node, or the syntax error):
    /// `{"line": …, "column": …}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Pos>,
    /// Problems that do not stop the rule from loading (duplicate ids, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Where the document starts (warnings point here).
    #[serde(skip)]
    pub start: Option<Pos>,
}

impl LintReport {
    pub fn is_loaded(&self) -> bool {
        self.outcome == Outcome::Loaded
    }

    /// Every finding as a `path:line:col` diagnostic: the rejection (at the
    /// offending node) and each warning (at the document).
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        if let Outcome::Rejected(why) = &self.outcome {
            out.push(Diagnostic::error(
                &self.path,
                self.at.or(self.start),
                self.rejection(why),
            ));
        }
        for w in &self.warnings {
            out.push(Diagnostic::warning(&self.path, self.start, w.clone()));
        }
        out
    }

    fn rejection(&self, why: &str) -> String {
        match &self.rule_title {
            Some(t) => format!("{t:?} rejected: {why}"),
            None => format!("rejected: {why}"),
        }
    }
}

/// One line for logs and `rules lint`: `path:line:col "title": loaded`, or the
/// rejection as a diagnostic (`path:line:col: error: "title" rejected: reason`).
/// Warnings are separate findings: see [`LintReport::diagnostics`].
impl std::fmt::Display for LintReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Outcome::Rejected(why) = &self.outcome {
            let d = Diagnostic::error(&self.path, self.at.or(self.start), self.rejection(why));
            return write!(f, "{d}");
        }
        write!(f, "{}", self.path)?;
        if let Some(p) = self.start {
            write!(f, ":{p}")?;
        }
        if let Some(t) = &self.rule_title {
            write!(f, " {t:?}")?;
        }
        write!(f, ": loaded")
    }
}

/// Source reference of a correlation: a detection rule or another correlation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RuleRef {
    Detection(usize),
    Correlation(usize),
}

#[derive(Debug)]
pub(crate) struct LoadedDetection {
    pub path: String,
    pub rule: DetectionRule,
    pub expr: Expr,
    /// False when only referenced by correlations with `generate: false`.
    pub emit: bool,
}

#[derive(Debug)]
pub(crate) struct LoadedCorrelation {
    pub path: String,
    pub rule: CorrelationRule,
    pub sources: Vec<RuleRef>,
}

/// A loaded, validated and compiled rule set. Turn it into an [`crate::Engine`]
/// with [`RuleSet::compile`].
#[derive(Debug)]
pub struct RuleSet {
    pub(crate) options: CompileOptions,
    pub(crate) program: Program,
    pub(crate) detections: Vec<LoadedDetection>,
    pub(crate) correlations: Vec<LoadedCorrelation>,
}

struct Parsed {
    path: String,
    document: usize,
    doc: Document,
}

fn loaded(path: &str, document: usize, doc: &Document) -> LintReport {
    report(path, document, Some(doc), Outcome::Loaded, None)
}

fn rejected(path: &str, document: usize, doc: Option<&Document>, e: &RuleError) -> LintReport {
    let outcome = Outcome::Rejected(e.to_string());
    report(path, document, doc, outcome, Some(e.pos()))
}

fn report(
    path: &str,
    document: usize,
    doc: Option<&Document>,
    outcome: Outcome,
    at: Option<Pos>,
) -> LintReport {
    let start = doc.map(|d| d.meta().pos);
    let (kind, title, id) = match doc {
        Some(d) => (
            match d {
                Document::Detection(_) => DocumentKind::Detection,
                Document::Correlation(_) => DocumentKind::Correlation,
                Document::Filter(_) => DocumentKind::Filter,
            },
            Some(d.meta().title.clone()),
            d.meta().id.clone(),
        ),
        None => (DocumentKind::File, None, None),
    };
    LintReport {
        path: path.to_string(),
        document,
        line: start.map(|p| p.line),
        kind,
        rule_title: title,
        rule_id: id,
        outcome,
        at,
        warnings: Vec::new(),
        start,
    }
}

/// Adds warnings that need the whole set: ids and names used more than once
/// (a correlation or filter naming them would be ambiguous).
fn warn_duplicates(reports: &mut [LintReport], parsed: &[Parsed]) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for p in parsed {
        let m = p.doc.meta();
        for key in [&m.id, &m.name].into_iter().flatten() {
            *seen.entry(key.as_str()).or_default() += 1;
        }
    }
    let index: HashMap<(&str, usize), &Parsed> = parsed
        .iter()
        .map(|p| ((p.path.as_str(), p.document), p))
        .collect();
    for r in reports.iter_mut() {
        let Some(p) = index.get(&(r.path.as_str(), r.document)) else {
            continue;
        };
        let m = p.doc.meta();
        for (what, key) in [("id", &m.id), ("name", &m.name)] {
            if let Some(k) = key {
                if seen.get(k.as_str()).copied().unwrap_or(0) > 1 {
                    r.warnings
                        .push(format!("{what} '{k}' is used by more than one rule"));
                }
            }
        }
        if m.id.is_none() && !matches!(p.doc, Document::Filter(_)) {
            r.warnings
                .push("no 'id': alerts will be keyed by the title".into());
        }
    }
}

fn filter_applies(filter: &Logsource, rule: &Logsource) -> bool {
    fn ok(f: &Option<String>, r: &Option<String>) -> bool {
        f.is_none() || f == r
    }
    ok(&filter.product, &rule.product)
        && ok(&filter.category, &rule.category)
        && ok(&filter.service, &rule.service)
}

/// Largest rule file read: a YAML tree costs 20–50× its text, and no real
/// rule file comes near this (SigmaHQ's largest is under 100 KiB).
pub const MAX_RULE_FILE: usize = 4 << 20;

impl RuleSet {
    /// Loads rule files given as (path, YAML text) pairs. Returns the rules that
    /// loaded and one report per document (and per unreadable file).
    pub fn load(
        sources: &[(String, String)],
        options: CompileOptions,
    ) -> (RuleSet, Vec<LintReport>) {
        let mut reports = Vec::new();
        let mut parsed = Vec::new();
        for (path, text) in sources {
            if text.len() > MAX_RULE_FILE {
                let e = RuleError::Invalid {
                    pos: Pos::START,
                    message: format!(
                        "the rule file is {} bytes, larger than the {} MiB a rule file may be",
                        text.len(),
                        MAX_RULE_FILE >> 20
                    ),
                };
                reports.push(rejected(path, 0, None, &e));
                continue;
            }
            match parse_file(text) {
                Err(e) => reports.push(rejected(path, 0, None, &e)),
                Ok(docs) => {
                    for (i, d) in docs.into_iter().enumerate() {
                        match d {
                            Ok(doc) => parsed.push(Parsed {
                                path: path.clone(),
                                document: i,
                                doc,
                            }),
                            Err(e) => reports.push(rejected(path, i, None, &e)),
                        }
                    }
                }
            }
        }

        // Filters first: they change the rules they refer to.
        let filters: Vec<&Parsed> = parsed
            .iter()
            .filter(|p| matches!(p.doc, Document::Filter(_)))
            .collect();
        let mut filter_used = vec![false; filters.len()];
        let mut filter_exprs: HashMap<(usize, Logsource), Expr> = HashMap::new();

        let mut program = Program::new();
        let mut detections: Vec<LoadedDetection> = Vec::new();
        let mut by_ref: HashMap<String, RuleRef> = HashMap::new();
        for p in &parsed {
            let Document::Detection(rule) = &p.doc else {
                continue;
            };
            let rule = rule.clone();
            let compiled =
                compile_detection(&mut program, &options, &rule.logsource, &rule.detection)
                    .and_then(|mut expr| {
                        // `(rule condition) and (filter condition)`, as pySigma does (a
                        // filter's condition is usually `not selection`); the filter is
                        // compiled once per log source and shared, not copied into each
                        // rule it names.
                        for (k, f) in filters.iter().enumerate() {
                            let Document::Filter(filter) = &f.doc else {
                                continue;
                            };
                            let refers = filter.rules.iter().any(|r| {
                                Some(r) == rule.meta.id.as_ref()
                                    || Some(r) == rule.meta.name.as_ref()
                            });
                            if !(refers && filter_applies(&filter.logsource, &rule.logsource)) {
                                continue;
                            }
                            let key = (k, rule.logsource.clone());
                            let fexpr = match filter_exprs.get(&key) {
                                Some(e) => e.clone(),
                                None => {
                                    let e = compile_detection(
                                        &mut program,
                                        &options,
                                        &rule.logsource,
                                        &filter.detection,
                                    )?;
                                    let e = program.share(e);
                                    filter_exprs.insert(key, e.clone());
                                    e
                                }
                            };
                            filter_used[k] = true;
                            expr = program.and(expr, fexpr);
                        }
                        Ok(expr)
                    });
            match compiled {
                Ok(expr) => {
                    let idx = detections.len();
                    for key in [&rule.meta.id, &rule.meta.name].into_iter().flatten() {
                        by_ref.insert(key.clone(), RuleRef::Detection(idx));
                    }
                    reports.push(loaded(&p.path, p.document, &p.doc));
                    detections.push(LoadedDetection {
                        path: p.path.clone(),
                        rule,
                        expr,
                        emit: true,
                    });
                }
                Err(e) => reports.push(rejected(&p.path, p.document, Some(&p.doc), &e)),
            }
        }
        for (k, f) in filters.iter().enumerate() {
            let outcome = if filter_used[k] {
                Outcome::Loaded
            } else {
                Outcome::Rejected(
                    "filter matches no loaded rule (check 'rules' and 'logsource')".into(),
                )
            };
            reports.push(report(&f.path, f.document, Some(&f.doc), outcome, None));
        }

        // Correlations may refer to each other: resolve until no progress.
        let mut pending: Vec<&Parsed> = parsed
            .iter()
            .filter(|p| matches!(p.doc, Document::Correlation(_)))
            .collect();
        let mut correlations: Vec<LoadedCorrelation> = Vec::new();
        loop {
            let before = pending.len();
            let mut still = Vec::new();
            for p in pending {
                let Document::Correlation(c) = &p.doc else {
                    continue;
                };
                let sources: Option<Vec<RuleRef>> =
                    c.rules.iter().map(|r| by_ref.get(r).copied()).collect();
                match sources {
                    Some(sources) => {
                        let idx = correlations.len();
                        for key in [&c.meta.id, &c.meta.name].into_iter().flatten() {
                            by_ref.insert(key.clone(), RuleRef::Correlation(idx));
                        }
                        reports.push(loaded(&p.path, p.document, &p.doc));
                        correlations.push(LoadedCorrelation {
                            path: p.path.clone(),
                            rule: c.clone(),
                            sources,
                        });
                    }
                    None => still.push(p),
                }
            }
            pending = still;
            if pending.is_empty() || pending.len() == before {
                break;
            }
        }
        for p in pending {
            let Document::Correlation(c) = &p.doc else {
                continue;
            };
            let missing = c
                .rules
                .iter()
                .find(|r| !by_ref.contains_key(*r))
                .cloned()
                .unwrap_or_default();
            let e = RuleError::UnknownReference {
                pos: c.meta.pos,
                reference: missing,
            };
            reports.push(rejected(&p.path, p.document, Some(&p.doc), &e));
        }

        // Rules used only by correlations that do not ask to `generate` stay silent.
        let mut referenced = vec![false; detections.len()];
        let mut generated = vec![false; detections.len()];
        for c in &correlations {
            for s in &c.sources {
                if let RuleRef::Detection(i) = s {
                    referenced[*i] = true;
                    generated[*i] |= c.rule.generate;
                }
            }
        }
        for (i, d) in detections.iter_mut().enumerate() {
            d.emit = !referenced[i] || generated[i];
        }

        warn_duplicates(&mut reports, &parsed);
        (
            RuleSet {
                options,
                program,
                detections,
                correlations,
            },
            reports,
        )
    }

    pub fn detection_count(&self) -> usize {
        self.detections.len()
    }

    pub fn correlation_count(&self) -> usize {
        self.correlations.len()
    }

    /// Titles and ids of the loaded rules, for listings.
    pub fn rules(&self) -> impl Iterator<Item = (&str, Option<&str>, &str)> + '_ {
        self.detections
            .iter()
            .map(|d| {
                (
                    d.rule.meta.title.as_str(),
                    d.rule.meta.id.as_deref(),
                    d.path.as_str(),
                )
            })
            .chain(self.correlations.iter().map(|c| {
                (
                    c.rule.meta.title.as_str(),
                    c.rule.meta.id.as_deref(),
                    c.path.as_str(),
                )
            }))
    }
}

/// Loads and reports without keeping the rules: `bulwark rules lint`.
pub fn lint(sources: &[(String, String)], options: CompileOptions) -> Vec<LintReport> {
    RuleSet::load(sources, options).1
}
