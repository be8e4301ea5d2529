//! The stateless half of the engine: evaluates every compiled rule against an
//! event in one pass.
//!
//! Per event, a field is extracted at most once and only if some candidate rule
//! needs it; each field's values are lower-cased once and scanned by one
//! Aho–Corasick automaton holding every rule's literals for that field. Rules
//! whose expression requires one of a set of literals (most Sigma rules) are
//! indexed by those literals and only evaluated when one of them was seen; atoms
//! shared by several rules are evaluated once per event.
//!
//! Fast paths (each checked against a naive oracle in `tests/fast_paths.rs`):
//! - an OR of literals on one field is one [`Expr::AnyNeedle`] test over the
//!   field's hit list, not one atom per alternative;
//! - fields with at most 64 needles have a SIMD "any needle at all?" gate (most
//!   values hold none) before the overlapping automaton scan that records hits;
//! - a small per-field cache maps recently scanned values to the hits they gave
//!   (user agents, methods, actions and paths repeat), skipping lower-casing and
//!   scanning for them;
//! - field slots, keyword values and lower-cased copies reuse their buffers
//!   across events, and a JSON line's top-level keys reuse the previous line's
//!   path lookups when they come in the same order.

use aho_corasick::AhoCorasick;
use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use crate::ast::Logsource;
use crate::cidr::parse_ip;
use crate::compile::{Atom, CasedPattern, Expr, FieldId, Program, TimePart, KEYWORDS};
use crate::event::{all_values, Event, FieldData, FieldSink};
use crate::normalize::DecodeKind;
use crate::pattern::Anchor;

const ANY: u8 = 1;
const START: u8 = 2;
const END: u8 = 4;
const EXACT: u8 = 8;

#[derive(Debug)]
pub(crate) struct CompiledRule {
    pub expr: Expr,
    pub logsource: Logsource,
}

#[derive(Debug)]
pub(crate) struct Matcher {
    prog: Program,
    automata: Vec<Option<AhoCorasick>>,
    /// Per field, a SIMD multi-literal searcher over the same needles (when there
    /// are few enough): it answers "does any needle occur" much faster than the
    /// automaton, and most values contain none, so the overlapping scan that
    /// records every hit only runs on values that passed it.
    gates: Vec<Option<aho_corasick::packed::Searcher>>,
    rules: Vec<CompiledRule>,
    /// (field, needle) → rules that cannot match unless that needle occurs.
    triggers: Vec<Vec<Vec<u32>>>,
    /// field → rules that cannot match unless that field is present.
    present_triggers: Vec<Vec<u32>>,
    is_trigger_field: Vec<bool>,
    /// Rules without a literal trigger: evaluated for every admitted event.
    always: Vec<u32>,
    /// Event path → (field, rank of the path among the field's candidates).
    /// Keys come from rules, so a fast non-keyed hash is safe here.
    paths: FxHashMap<String, u32>,
    /// What each path of `paths` is used for (indexed by its value there).
    path_entries: Vec<PathEntry>,
    /// Some rule has a keyword (full-text) search.
    keywords: bool,
    /// Per field, how its values are decoded before matching (URLs, queries,
    /// headers); see `normalize`.
    decode: Vec<Option<DecodeKind>>,
    /// Per field, whether some rule's condition reads it (not just reports it).
    rule_field: Vec<bool>,
}

/// What the program does with one event path.
#[derive(Debug, Default)]
pub(crate) struct PathEntry {
    /// Fields read from this path, with the path's rank among each field's candidates.
    targets: Vec<(FieldId, u8)>,
    /// Some longer path starts here: an object at this path is worth descending into.
    pub prefix: bool,
}

impl PathEntry {
    pub const EMPTY: PathEntry = PathEntry {
        targets: Vec::new(),
        prefix: false,
    };

    pub fn is_field(&self) -> bool {
        !self.targets.is_empty()
    }
}

/// Shape of the compiled program, for diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Plan {
    pub rules: usize,
    /// Rules evaluated only when one of their literals occurs in the event, or a
    /// field they need is present (the rest run on every admitted event).
    pub literal_indexed_rules: usize,
    pub fields: usize,
    pub needles: usize,
    /// Distinct leaf tests after de-duplication across rules.
    pub atoms: usize,
}

/// Per-event working memory, reused across events (generation stamps avoid clearing).
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    gen: u32,
    field_gen: Vec<u32>,
    fields: Vec<FieldData>,
    field_rank: Vec<u8>,
    /// Fields present in the current event.
    present: Vec<FieldId>,
    path_buf: String,
    lower_gen: Vec<u32>,
    lower: Vec<Vec<String>>,
    hits_gen: Vec<u32>,
    hits: Vec<Vec<u8>>,
    /// Needles with a non-zero entry in `hits`, per field.
    hit_list: Vec<Vec<usize>>,
    atom_gen: Vec<u32>,
    atom_val: Vec<bool>,
    cand_gen: Vec<u32>,
    candidates: Vec<u32>,
    /// Spare strings for the keyword values, so each line's scalars reuse buffers.
    keyword_pool: Vec<String>,
    /// Per field, recently scanned values and the needles they hold.
    hit_cache: Vec<Vec<HitCacheSlot>>,
    /// Indices of the values that missed the hit cache (reused buffer).
    missed: Vec<usize>,
    /// The previous JSON line's top-level keys and their path entries.
    shape: Vec<(String, Option<u32>)>,
    /// Fields given decoded forms this event, with their count of raw values.
    decoded: Vec<(FieldId, usize)>,
    /// Rules of the last event that matched only a decoded form.
    pub(crate) decoded_only: Vec<usize>,
    /// The last event carried a field some rule reads.
    pub(crate) relevant: bool,
}

/// Slots per field of the hit cache (direct-mapped by a hash of the value).
const HIT_CACHE_SLOTS: usize = 64;
/// Longer values are scanned every time (they rarely repeat, and copying costs).
const HIT_CACHE_MAX_LEN: usize = 512;

/// One remembered value: its original text and the (needle, position flags) it hit.
#[derive(Debug, Default, Clone)]
pub(crate) struct HitCacheSlot {
    valid: bool,
    key: String,
    hits: Vec<(usize, u8)>,
}

fn hit_slot(value: &str) -> usize {
    use std::hash::BuildHasher;
    (rustc_hash::FxBuildHasher.hash_one(value) as usize) % HIT_CACHE_SLOTS
}

fn mark_hit(hits: &mut [u8], hit_list: &mut Vec<usize>, n: usize, flag: u8) {
    if hits[n] == 0 {
        hit_list.push(n);
    }
    hits[n] |= flag;
}

impl Scratch {
    /// Appends one scalar to the keyword pseudo-field (JSON line decoding).
    pub(crate) fn push_keyword(&mut self, text: &str) {
        if let FieldData::Values(v) = &mut self.fields[KEYWORDS] {
            let mut buf = self.keyword_pool.pop().unwrap_or_default();
            buf.clear();
            buf.push_str(text);
            v.push(buf);
        }
    }
}

fn lowercase_into(s: &str, out: &mut String) {
    if s.is_ascii() {
        out.push_str(s);
        out.make_ascii_lowercase();
    } else {
        // str::to_lowercase, like the needles (it knows context rules such as final sigma).
        out.push_str(&s.to_lowercase());
    }
}

fn lowercase(s: &str) -> String {
    if s.is_ascii() {
        s.to_ascii_lowercase()
    } else {
        s.to_lowercase()
    }
}

/// Something that must be true of an event for a rule to possibly match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// The needle occurs in the field.
    Needle(FieldId, usize),
    /// The field is present.
    Present(FieldId),
}

/// Necessary triggers: the rule can only match if one of these holds.
fn triggers_of(prog: &Program, e: &Expr) -> Option<Vec<Trigger>> {
    match e {
        Expr::Not(_) => None,
        Expr::AnyNeedle(field, needles) => Some(
            needles
                .iter()
                .map(|(n, _)| Trigger::Needle(*field, *n))
                .collect(),
        ),
        Expr::Atom(a) => match &prog.atoms[*a] {
            Atom::Needle { field, needle, .. } => Some(vec![Trigger::Needle(*field, *needle)]),
            Atom::Glob {
                field,
                gate: Some(n),
                ..
            } => Some(vec![Trigger::Needle(*field, *n)]),
            Atom::Regex {
                field,
                gate: Some(ns),
                ..
            } => Some(ns.iter().map(|n| Trigger::Needle(*field, *n)).collect()),
            // Absent fields and nulls satisfy these: no trigger.
            Atom::Null { .. } | Atom::Exists { .. } => None,
            Atom::Glob { field, .. }
            | Atom::Cased { field, .. }
            | Atom::Regex { field, .. }
            | Atom::AnyValue { field }
            | Atom::Empty { field }
            | Atom::Num { field, .. }
            | Atom::Time { field, .. }
            | Atom::Cidr { field, .. }
            | Atom::FieldRef { field, .. } => Some(vec![Trigger::Present(*field)]),
        },
        // Of the AND's children, index on the most selective set: short needles
        // ("get", "200") occur in most events and would wake the rule needlessly,
        // so the set whose weakest trigger is strongest wins.
        Expr::And(v) => v
            .iter()
            .filter_map(|c| triggers_of(prog, c))
            .max_by_key(|t| (selectivity(prog, t), std::cmp::Reverse(t.len()))),
        Expr::Or(v) | Expr::AtLeast(_, v) => {
            let mut out = Vec::new();
            for c in v {
                out.extend(triggers_of(prog, c)?);
            }
            Some(out)
        }
        Expr::Shared(i) => triggers_of(prog, &prog.shared[*i]),
    }
}

fn anchor_flag(anchor: Anchor) -> u8 {
    match anchor {
        Anchor::Anywhere => ANY,
        Anchor::Start => START,
        Anchor::End => END,
        Anchor::Exact => EXACT,
    }
}

/// Collapses the `Needle` atoms of each OR into one [`Expr::AnyNeedle`] per field
/// (SigmaHQ rules often list hundreds of alternatives; evaluating them atom by
/// atom was the engine's main cost). Same truth value: a needle atom holds iff
/// the needle was hit at a position its anchor accepts.
fn collapse_needles(prog: &Program, e: Expr) -> Expr {
    match e {
        Expr::Or(v) => {
            let mut by_field: Vec<(FieldId, Vec<(usize, u8)>)> = Vec::new();
            let mut rest = Vec::new();
            for c in v {
                let c = collapse_needles(prog, c);
                let needle = match &c {
                    Expr::Atom(a) => match &prog.atoms[*a] {
                        Atom::Needle {
                            field,
                            needle,
                            anchor,
                        } => Some((*field, vec![(*needle, anchor_flag(*anchor))])),
                        _ => None,
                    },
                    Expr::AnyNeedle(f, list) => Some((*f, list.clone())),
                    _ => None,
                };
                match needle {
                    Some((f, list)) => match by_field.iter_mut().find(|(g, _)| *g == f) {
                        Some((_, l)) => l.extend(list),
                        None => by_field.push((f, list)),
                    },
                    None => rest.push(c),
                }
            }
            let mut out = Vec::with_capacity(by_field.len() + rest.len());
            for (f, mut list) in by_field {
                list.sort_unstable();
                // One entry per needle, accepting any of its anchors.
                let mut merged: Vec<(usize, u8)> = Vec::with_capacity(list.len());
                for (n, flag) in list {
                    match merged.last_mut() {
                        Some((m, fl)) if *m == n => *fl |= flag,
                        _ => merged.push((n, flag)),
                    }
                }
                out.push(Expr::AnyNeedle(f, merged));
            }
            // Cheapest first, as the compiler ordered them.
            out.extend(rest);
            if out.len() == 1 {
                out.remove(0)
            } else {
                Expr::Or(out)
            }
        }
        Expr::And(v) => Expr::And(v.into_iter().map(|c| collapse_needles(prog, c)).collect()),
        Expr::AtLeast(n, v) => Expr::AtLeast(
            n,
            v.into_iter().map(|c| collapse_needles(prog, c)).collect(),
        ),
        Expr::Not(inner) => Expr::Not(Box::new(collapse_needles(prog, *inner))),
        other => other,
    }
}

fn selectivity(prog: &Program, t: &[Trigger]) -> usize {
    t.iter()
        .map(|tr| match tr {
            Trigger::Needle(f, n) => prog.needles[*f][*n].len().min(12),
            // Presence of a field is a weak hint, about as good as a 2-byte literal.
            Trigger::Present(_) => 2,
        })
        .min()
        .unwrap_or(usize::MAX)
}

impl Matcher {
    pub fn new(prog: Program, rules: Vec<CompiledRule>) -> Matcher {
        let mut prog = prog;
        let shared = std::mem::take(&mut prog.shared);
        prog.shared = shared
            .into_iter()
            .map(|e| collapse_needles(&prog, e))
            .collect();
        let rules: Vec<CompiledRule> = rules
            .into_iter()
            .map(|r| CompiledRule {
                expr: collapse_needles(&prog, r.expr),
                logsource: r.logsource,
            })
            .collect();
        let automata = prog
            .needles
            .iter()
            .map(|n| {
                if n.is_empty() {
                    None
                } else {
                    // Needles are all non-empty literals; a build failure would only mean
                    // resource limits, in which case literal atoms fall back to direct search.
                    AhoCorasick::builder()
                        .match_kind(aho_corasick::MatchKind::Standard)
                        .build(n)
                        .ok()
                }
            })
            .collect();
        let gates = prog
            .needles
            .iter()
            .map(|n| {
                if n.is_empty() || n.len() > 64 {
                    return None;
                }
                let mut b = aho_corasick::packed::Config::new().builder();
                b.extend(n);
                b.build()
            })
            .collect();
        let mut triggers: Vec<Vec<Vec<u32>>> = prog
            .needles
            .iter()
            .map(|n| vec![Vec::new(); n.len()])
            .collect();
        let mut present_triggers: Vec<Vec<u32>> = vec![Vec::new(); prog.fields.len()];
        let mut always = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            match triggers_of(&prog, &r.expr) {
                Some(t) => {
                    for tr in t {
                        let list = match tr {
                            Trigger::Needle(f, n) => &mut triggers[f][n],
                            Trigger::Present(f) => &mut present_triggers[f],
                        };
                        if list.last() != Some(&(i as u32)) {
                            list.push(i as u32);
                        }
                    }
                }
                None => always.push(i as u32),
            }
        }
        let is_trigger_field = triggers
            .iter()
            .map(|t| t.iter().any(|l| !l.is_empty()))
            .collect();
        let mut paths: FxHashMap<String, u32> = FxHashMap::default();
        let mut path_entries: Vec<PathEntry> = Vec::new();
        let mut slot = |p: &str| -> usize {
            let next = path_entries.len() as u32;
            let i = *paths.entry(p.to_string()).or_insert(next) as usize;
            if i == path_entries.len() {
                path_entries.push(PathEntry::default());
            }
            i
        };
        let mut uses: Vec<(usize, Option<(FieldId, u8)>)> = Vec::new();
        for (f, candidates) in prog.fields.iter().enumerate() {
            for (rank, p) in candidates.iter().enumerate() {
                uses.push((slot(p), Some((f, u8::try_from(rank).unwrap_or(u8::MAX)))));
                for (i, _) in p.match_indices('.') {
                    uses.push((slot(&p[..i]), None));
                }
            }
        }
        for (i, target) in uses {
            match target {
                Some(t) => path_entries[i].targets.push(t),
                None => path_entries[i].prefix = true,
            }
        }
        let keywords = prog.atoms.iter().any(|a| a.field() == KEYWORDS);
        let decode = prog
            .fields
            .iter()
            .map(|candidates| candidates.iter().find_map(|p| crate::normalize::kind_of(p)))
            .collect();
        let mut rule_field: Vec<bool> = prog.needles.iter().map(|n| !n.is_empty()).collect();
        for a in &prog.atoms {
            if let Some(x) = rule_field.get_mut(a.field()) {
                *x = true;
            }
        }
        for (f, t) in present_triggers.iter().enumerate() {
            if !t.is_empty() {
                rule_field[f] = true;
            }
        }
        // Every event has a time: reading it says nothing about whether the
        // rules could see the event's content.
        for (f, candidates) in prog.fields.iter().enumerate() {
            if candidates.iter().all(|p| p == "@timestamp") {
                rule_field[f] = false;
            }
        }
        Matcher {
            decode,
            rule_field,
            keywords,
            prog,
            automata,
            gates,
            rules,
            triggers,
            present_triggers,
            is_trigger_field,
            always,
            paths,
            path_entries,
        }
    }

    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    /// Every event path some rule reads; `None` when keyword (full-text) rules
    /// need the whole event.
    pub fn needed_paths(&self) -> Option<Vec<String>> {
        if self.uses_keywords() {
            return None;
        }
        let mut out: Vec<String> = Vec::new();
        for (f, paths) in self.prog.fields.iter().enumerate() {
            if f != KEYWORDS {
                out.extend(paths.iter().cloned());
            }
        }
        Some(out)
    }

    pub fn plan(&self) -> Plan {
        Plan {
            rules: self.rules.len(),
            literal_indexed_rules: self.rules.len() - self.always.len(),
            fields: self.prog.fields.len() - 1,
            needles: self.prog.needles.iter().map(Vec::len).sum(),
            atoms: self.prog.atoms.len(),
        }
    }

    pub fn new_scratch(&self) -> Scratch {
        let nf = self.prog.fields.len();
        let na = self.prog.atoms.len();
        Scratch {
            gen: 0,
            field_gen: vec![0; nf],
            fields: vec![FieldData::Absent; nf],
            field_rank: vec![0; nf],
            present: Vec::new(),
            path_buf: String::new(),
            lower_gen: vec![0; nf],
            lower: vec![Vec::new(); nf],
            hits_gen: vec![0; nf],
            hits: self.prog.needles.iter().map(|n| vec![0; n.len()]).collect(),
            hit_list: vec![Vec::new(); nf],
            atom_gen: vec![0; na],
            atom_val: vec![false; na],
            cand_gen: vec![0; self.rules.len()],
            candidates: Vec::new(),
            keyword_pool: Vec::new(),
            hit_cache: vec![Vec::new(); nf],
            missed: Vec::new(),
            shape: Vec::new(),
            decoded: Vec::new(),
            decoded_only: Vec::new(),
            relevant: false,
        }
    }

    /// Walks the event once and fills in every field some rule needs; fields not
    /// seen are absent. Cost depends on the event's size, not the rule count.
    fn extract(&self, ev: &Event, s: &mut Scratch) {
        s.present.clear();
        let mut buf = std::mem::take(&mut s.path_buf);
        buf.clear();
        self.walk(&ev.fields, &mut buf, s, 0);
        s.path_buf = buf;
    }

    fn walk(&self, obj: &Map<String, Value>, buf: &mut String, s: &mut Scratch, depth: usize) {
        let base = buf.len();
        for (k, v) in obj {
            buf.truncate(base);
            if base > 0 {
                buf.push('.');
            }
            buf.push_str(k);
            if let Some(entry) = self.path(buf.as_str()) {
                self.offer(s, entry, &mut |slot| FieldData::fill_from_value(slot, v));
            }
            if let Value::Object(inner) = v {
                if depth < 16 {
                    self.walk(inner, buf, s, depth + 1);
                }
            }
        }
        buf.truncate(base);
    }

    /// Indices of the rules that match `ev`, ascending.
    pub fn matching_rules(&self, ev: &Event, s: &mut Scratch, out: &mut Vec<usize>) {
        self.begin(s);
        self.extract(ev, s);
        self.match_extracted(Some(ev), ev.logsource.as_ref(), s, out);
    }

    /// Like [`Matcher::matching_rules`] straight from a JSON line: only the fields
    /// the program knows are decoded, into the scratch slots (no event map). Not
    /// for programs with keyword searches, which need every value.
    pub fn matching_rules_json(
        &self,
        line: &str,
        logsource: Option<&Logsource>,
        s: &mut Scratch,
        out: &mut Vec<usize>,
    ) -> Result<(), serde_json::Error> {
        self.begin_direct(s);
        crate::projection::extract_json(self, line, s)?;
        self.match_extracted(None, logsource, s, out);
        Ok(())
    }

    /// Like [`Matcher::matching_rules`] for a line a text-format parser writes
    /// straight into the field slots (no event map): `parse` gets the sink and
    /// may [`SlotSink::restart`] it to try another layout. When it fails,
    /// nothing was matched.
    pub(crate) fn matching_rules_parsed<E>(
        &self,
        logsource: Option<&Logsource>,
        s: &mut Scratch,
        out: &mut Vec<usize>,
        parse: impl FnOnce(&mut SlotSink<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.begin_direct(s);
        let mut sink = SlotSink { m: self, s, n: 0 };
        parse(&mut sink)?;
        self.match_extracted(None, logsource, s, out);
        Ok(())
    }

    /// Starts an event whose fields are written into the slots directly.
    fn begin_direct(&self, s: &mut Scratch) {
        self.begin(s);
        s.present.clear();
        if self.keywords {
            // Keyword searches read every scalar; the decoder fills this slot.
            s.field_gen[KEYWORDS] = s.gen;
            match &mut s.fields[KEYWORDS] {
                FieldData::Values(v) => s.keyword_pool.append(v),
                other => *other = FieldData::Values(Vec::new()),
            }
        }
    }

    pub fn uses_keywords(&self) -> bool {
        self.keywords
    }

    /// The keyword pseudo-field's values for the current JSON line.
    pub(crate) fn keyword_values<'s>(&self, s: &'s mut Scratch) -> Option<&'s mut Vec<String>> {
        match &mut s.fields[KEYWORDS] {
            FieldData::Values(v) if self.keywords => Some(v),
            _ => None,
        }
    }

    fn begin(&self, s: &mut Scratch) {
        s.gen = s.gen.wrapping_add(1);
        if s.gen == 0 {
            // Wrapped: stale stamps could collide, so reset them all.
            *s = self.new_scratch();
            s.gen = 1;
        }
        s.candidates.clear();
    }

    /// How the program uses an event path, if at all.
    pub(crate) fn path(&self, path: &str) -> Option<&PathEntry> {
        self.paths
            .get(path)
            .map(|&i| &self.path_entries[i as usize])
    }

    /// [`Matcher::path`] for the `n`th key of a JSON line's top-level object:
    /// lines of one kind list the same keys in the same order, so the answer for
    /// the previous line's `n`th key is reused when the key is the same (a string
    /// comparison instead of hashing and probing).
    pub(crate) fn root_path(&self, s: &mut Scratch, n: usize, key: &str) -> Option<&PathEntry> {
        if let Some((k, i)) = s.shape.get(n) {
            if k == key {
                return i.map(|i| &self.path_entries[i as usize]);
            }
        }
        let i = self.paths.get(key).copied();
        if n < 256 {
            if s.shape.len() <= n {
                s.shape.resize(n + 1, (String::new(), None));
            }
            let slot = &mut s.shape[n];
            slot.0.clear();
            slot.0.push_str(key);
            slot.1 = i;
        }
        i.map(|i| &self.path_entries[i as usize])
    }

    /// Stores a field value found while walking an event (lower rank wins).
    pub(crate) fn offer(
        &self,
        s: &mut Scratch,
        entry: &PathEntry,
        fill: &mut dyn FnMut(&mut FieldData),
    ) {
        self.offer_ranked(s, entry, false, fill);
    }

    /// [`Matcher::offer`]; with `later_wins`, a value of equal rank replaces the
    /// one stored (a parser writing the same key twice means the later one).
    fn offer_ranked(
        &self,
        s: &mut Scratch,
        entry: &PathEntry,
        later_wins: bool,
        fill: &mut dyn FnMut(&mut FieldData),
    ) {
        let mut first: Option<FieldId> = None;
        for &(f, rank) in &entry.targets {
            if s.field_gen[f] == s.gen {
                let kept = s.field_rank[f];
                if kept < rank || (kept == rank && !later_wins) {
                    continue;
                }
            } else {
                s.present.push(f);
            }
            s.field_gen[f] = s.gen;
            s.field_rank[f] = rank;
            match first {
                None => {
                    fill(&mut s.fields[f]);
                    first = Some(f);
                }
                Some(src) => {
                    // Copy between two slots of the same vector, reusing buffers.
                    let (a, b) = if src < f {
                        let (lo, hi) = s.fields.split_at_mut(f);
                        (&lo[src], &mut hi[0])
                    } else {
                        let (lo, hi) = s.fields.split_at_mut(src);
                        (&hi[0], &mut lo[f])
                    };
                    b.copy_from(a);
                }
            }
        }
    }

    /// The current event's data for a field (absent unless extracted this event).
    pub fn field<'s>(&self, s: &'s Scratch, f: FieldId) -> &'s FieldData {
        static ABSENT: FieldData = FieldData::Absent;
        if s.field_gen.get(f) == Some(&s.gen) {
            &s.fields[f]
        } else {
            &ABSENT
        }
    }

    fn match_extracted(
        &self,
        ev: Option<&Event>,
        logsource: Option<&Logsource>,
        s: &mut Scratch,
        out: &mut Vec<usize>,
    ) {
        let gen = s.gen;
        s.decoded.clear();
        s.decoded_only.clear();
        s.relevant = self.keywords;
        for &f in &s.present {
            s.relevant |= self.rule_field[f];
            let Some(kind) = self.decode[f] else { continue };
            if let FieldData::Values(v) = &mut s.fields[f] {
                let raw = v.len();
                for i in 0..raw {
                    let (head, _) = v.split_at(raw);
                    let mut extra = Vec::new();
                    crate::normalize::push_variants(&head[i], kind, &mut extra);
                    for x in extra {
                        if !v.contains(&x) {
                            v.push(x);
                        }
                    }
                }
                if v.len() > raw {
                    s.decoded.push((f, raw));
                }
            }
        }
        let mut cx = Ctx { m: self, ev, s };
        let mut present = std::mem::take(&mut cx.s.present);
        if cx.m.is_trigger_field[KEYWORDS] {
            present.push(KEYWORDS);
        }
        for &f in &present {
            for &r in &cx.m.present_triggers[f] {
                if cx.s.cand_gen[r as usize] != gen {
                    cx.s.cand_gen[r as usize] = gen;
                    cx.s.candidates.push(r);
                }
            }
            if !cx.m.is_trigger_field[f] {
                continue;
            }
            cx.ensure_hits(f);
            for &n in &cx.s.hit_list[f] {
                for &r in &cx.m.triggers[f][n] {
                    if cx.s.cand_gen[r as usize] != gen {
                        cx.s.cand_gen[r as usize] = gen;
                        cx.s.candidates.push(r);
                    }
                }
            }
        }
        cx.s.present = present;
        for &r in &cx.m.always {
            if cx.s.cand_gen[r as usize] != gen {
                cx.s.cand_gen[r as usize] = gen;
                cx.s.candidates.push(r);
            }
        }
        let mut cands = std::mem::take(&mut cx.s.candidates);
        cands.sort_unstable();
        for &r in &cands {
            let rule = &cx.m.rules[r as usize];
            if let Some(evls) = logsource {
                if !rule.logsource.admits(evls) {
                    continue;
                }
            }
            if cx.eval(&rule.expr) {
                out.push(r as usize);
            }
        }
        cx.s.candidates = cands;
        cx.raw_only_recheck(out);
    }
}

/// A parser's writes, going straight into the field slots: a value is copied
/// (into the slot's reused buffer) only when some rule reads its path.
pub(crate) struct SlotSink<'a> {
    m: &'a Matcher,
    s: &'a mut Scratch,
    /// How many values were written: the position cache of `root_path`.
    n: usize,
}

impl SlotSink<'_> {
    /// Forgets everything written, to parse the line again another way.
    pub(crate) fn restart(&mut self) {
        self.m.begin_direct(self.s);
        self.n = 0;
    }
}

impl FieldSink for SlotSink<'_> {
    fn put_str(&mut self, key: &str, text: &str) {
        if self.m.keywords {
            self.s.push_keyword(text);
        }
        let n = self.n;
        self.n += 1;
        if let Some(entry) = self.m.root_path(self.s, n, key) {
            self.m.offer_ranked(self.s, entry, true, &mut |slot| {
                FieldData::set_single(slot, text)
            });
        }
    }

    fn put_u64(&mut self, key: &str, n: u64) {
        let mut digits = itoa::Buffer::new();
        self.put_str(key, digits.format(n));
    }
}

struct Ctx<'a> {
    m: &'a Matcher,
    /// Needed only by keyword searches (every value of the event).
    ev: Option<&'a Event>,
    s: &'a mut Scratch,
}

impl Ctx<'_> {
    /// Takes the decoded forms off again (what detections report is the raw
    /// value) and, for the rules that matched, tells which needed them.
    fn raw_only_recheck(&mut self, out: &[usize]) {
        if self.s.decoded.is_empty() {
            return;
        }
        let stale = self.s.gen.wrapping_sub(1);
        for &(f, raw) in &self.s.decoded {
            if let FieldData::Values(v) = &mut self.s.fields[f] {
                v.truncate(raw);
            }
            self.s.hits_gen[f] = stale;
            self.s.lower_gen[f] = stale;
        }
        if out.is_empty() {
            return;
        }
        for g in self.s.atom_gen.iter_mut() {
            *g = stale;
        }
        let m = self.m;
        for &r in out {
            if !self.eval(&m.rules[r].expr) {
                self.s.decoded_only.push(r);
            }
        }
    }

    /// Fields were extracted up front; one not seen is absent, except the
    /// keyword pseudo-field, built on first use.
    fn ensure_field(&mut self, f: FieldId) {
        if self.s.field_gen[f] == self.s.gen {
            return;
        }
        self.s.field_gen[f] = self.s.gen;
        self.s.fields[f] = if f == KEYWORDS {
            FieldData::Values(self.ev.map(all_values).unwrap_or_default())
        } else {
            FieldData::Absent
        };
    }

    fn ensure_lower(&mut self, f: FieldId) {
        self.ensure_field(f);
        if self.s.lower_gen[f] == self.s.gen {
            return;
        }
        self.s.lower_gen[f] = self.s.gen;
        // Reuse last event's buffers: this runs for most fields of most events.
        let values = self.s.fields[f].values();
        let lower = &mut self.s.lower[f];
        lower.truncate(values.len());
        for (i, v) in values.iter().enumerate() {
            match lower.get_mut(i) {
                Some(buf) => {
                    buf.clear();
                    lowercase_into(v, buf);
                }
                None => lower.push(lowercase(v)),
            }
        }
    }

    fn ensure_hits(&mut self, f: FieldId) {
        if self.s.hits_gen[f] == self.s.gen {
            return;
        }
        self.ensure_field(f);
        self.s.hits_gen[f] = self.s.gen;
        let s = &mut *self.s;
        // Only the needles hit last time need clearing.
        for &n in s.hit_list[f].iter() {
            s.hits[f][n] = 0;
        }
        s.hit_list[f].clear();
        // Field values repeat (user agents, methods, actions, paths): a value seen
        // recently replays its recorded hits instead of being lower-cased and scanned.
        let mut missed = std::mem::take(&mut s.missed);
        missed.clear();
        let cache = &mut s.hit_cache[f];
        if cache.is_empty() {
            cache.resize_with(HIT_CACHE_SLOTS, HitCacheSlot::default);
        }
        for (i, raw) in s.fields[f].values().iter().enumerate() {
            let slot = &cache[hit_slot(raw)];
            if slot.valid && slot.key == *raw {
                for &(n, flag) in &slot.hits {
                    mark_hit(&mut s.hits[f], &mut s.hit_list[f], n, flag);
                }
            } else {
                missed.push(i);
            }
        }
        if !missed.is_empty() {
            self.ensure_lower(f);
            let s = &mut *self.s;
            let needles = &self.m.prog.needles[f];
            for &i in &missed {
                let raw = &s.fields[f].values()[i];
                let v = s.lower[f][i].as_str();
                let slot = &mut s.hit_cache[f][hit_slot(raw)];
                let cacheable = raw.len() <= HIT_CACHE_MAX_LEN;
                slot.valid = false;
                slot.hits.clear();
                let mut record = |n: usize, start: usize, end: usize| {
                    let mut flag = ANY;
                    if start == 0 {
                        flag |= START;
                    }
                    if end == v.len() {
                        flag |= END;
                    }
                    if start == 0 && end == v.len() {
                        flag |= EXACT;
                    }
                    mark_hit(&mut s.hits[f], &mut s.hit_list[f], n, flag);
                    if cacheable {
                        slot.hits.push((n, flag));
                    }
                };
                match &self.m.automata[f] {
                    // Most values hold no needle at all: rule that out cheaply first.
                    Some(_)
                        if match &self.m.gates[f] {
                            Some(g) => g.find(v).is_none(),
                            None => false,
                        } => {}
                    Some(ac) => {
                        for m in ac.find_overlapping_iter(v) {
                            record(m.pattern().as_usize(), m.start(), m.end());
                        }
                    }
                    None => {
                        for (n, needle) in needles.iter().enumerate() {
                            for (start, _) in v.match_indices(needle.as_str()) {
                                record(n, start, start + needle.len());
                            }
                        }
                    }
                }
                if cacheable {
                    slot.key.clear();
                    slot.key.push_str(raw);
                    slot.valid = true;
                }
            }
        }
        self.s.missed = missed;
    }

    fn eval(&mut self, e: &Expr) -> bool {
        match e {
            Expr::Atom(a) => self.atom(*a),
            Expr::AnyNeedle(f, needles) => {
                self.ensure_hits(*f);
                let hits = &self.s.hits[*f];
                let hit_list = &self.s.hit_list[*f];
                // Walk whichever list is shorter (usually the needles hit this event).
                if hit_list.len() < needles.len() {
                    hit_list.iter().any(|&n| {
                        needles
                            .binary_search_by_key(&n, |(m, _)| *m)
                            .is_ok_and(|i| hits[n] & needles[i].1 != 0)
                    })
                } else {
                    needles.iter().any(|&(n, want)| hits[n] & want != 0)
                }
            }
            Expr::Not(inner) => !self.eval(inner),
            Expr::Shared(i) => {
                let m = self.m;
                self.eval(&m.prog.shared[*i])
            }
            Expr::And(v) => v.iter().all(|c| self.eval(c)),
            Expr::Or(v) => v.iter().any(|c| self.eval(c)),
            Expr::AtLeast(n, v) => {
                let mut count = 0;
                for c in v {
                    if self.eval(c) {
                        count += 1;
                        if count >= *n {
                            return true;
                        }
                    }
                }
                false
            }
        }
    }

    fn atom(&mut self, a: usize) -> bool {
        if self.s.atom_gen[a] == self.s.gen {
            return self.s.atom_val[a];
        }
        let v = self.compute_atom(a);
        self.s.atom_gen[a] = self.s.gen;
        self.s.atom_val[a] = v;
        v
    }

    fn compute_atom(&mut self, a: usize) -> bool {
        let m = self.m;
        match &m.prog.atoms[a] {
            Atom::Needle {
                field,
                needle,
                anchor,
            } => {
                self.ensure_hits(*field);
                self.s.hits[*field][*needle] & anchor_flag(*anchor) != 0
            }
            Atom::Glob { field, regex, gate } => {
                if let Some(g) = gate {
                    self.ensure_hits(*field);
                    if self.s.hits[*field][*g] == 0 {
                        return false;
                    }
                }
                self.ensure_lower(*field);
                self.s.lower[*field].iter().any(|v| regex.is_match(v))
            }
            Atom::Cased { field, pattern } => {
                self.ensure_field(*field);
                let vals = self.s.fields[*field].values();
                match pattern {
                    CasedPattern::Literal(t, anchor) => vals.iter().any(|v| match anchor {
                        Anchor::Exact => v == t,
                        Anchor::Start => v.starts_with(t.as_str()),
                        Anchor::End => v.ends_with(t.as_str()),
                        Anchor::Anywhere => {
                            memchr::memmem::find(v.as_bytes(), t.as_bytes()).is_some()
                        }
                    }),
                    CasedPattern::Regex(re) => vals.iter().any(|v| re.is_match(v)),
                }
            }
            Atom::Regex { field, regex, gate } => {
                if let Some(g) = gate {
                    self.ensure_hits(*field);
                    if g.iter().all(|n| self.s.hits[*field][*n] == 0) {
                        return false;
                    }
                }
                self.ensure_field(*field);
                self.s.fields[*field]
                    .values()
                    .iter()
                    .any(|v| regex.is_match(v))
            }
            Atom::AnyValue { field } => {
                self.ensure_field(*field);
                !self.s.fields[*field].values().is_empty()
            }
            Atom::Empty { field } => {
                self.ensure_field(*field);
                self.s.fields[*field].values().iter().any(String::is_empty)
            }
            Atom::Null { field } => {
                self.ensure_field(*field);
                matches!(self.s.fields[*field], FieldData::Absent | FieldData::Null)
            }
            Atom::Exists { field } => {
                self.ensure_field(*field);
                !matches!(self.s.fields[*field], FieldData::Absent)
            }
            Atom::Num { field, op, value } => {
                self.ensure_field(*field);
                self.s.fields[*field]
                    .values()
                    .iter()
                    .filter_map(|v| v.trim().parse::<f64>().ok())
                    .any(|x| op.test(x, *value))
            }
            Atom::Time {
                field,
                part,
                op,
                value,
            } => {
                self.ensure_field(*field);
                self.s.fields[*field].values().iter().any(|v| {
                    let ms = match crate::time::parse_rfc3339_ms(v) {
                        Some(ms) => ms,
                        None => return false,
                    };
                    let p = crate::time::parts(ms);
                    let x = match part {
                        TimePart::Minute => f64::from(p.minute),
                        TimePart::Hour => f64::from(p.hour),
                        TimePart::Day => f64::from(p.day),
                        TimePart::Week => f64::from(p.week),
                        TimePart::Month => f64::from(p.month),
                        TimePart::Year => p.year as f64,
                    };
                    op.test(x, *value)
                })
            }
            Atom::Cidr { field, nets } => {
                self.ensure_field(*field);
                self.s.fields[*field]
                    .values()
                    .iter()
                    .filter_map(|v| parse_ip(v))
                    .any(|ip| nets.iter().any(|n| n.contains(&ip)))
            }
            Atom::FieldRef {
                field,
                other,
                anchor,
                cased,
            } => {
                self.ensure_field(*field);
                self.ensure_field(*other);
                let a = self.s.fields[*field].values();
                let b = self.s.fields[*other].values();
                a.iter().any(|x| {
                    b.iter().any(|y| {
                        let (x, y) = if *cased {
                            (x.clone(), y.clone())
                        } else {
                            (lowercase(x), lowercase(y))
                        };
                        match anchor {
                            Anchor::Exact => x == y,
                            Anchor::Start => x.starts_with(&y),
                            Anchor::End => x.ends_with(&y),
                            Anchor::Anywhere => x.contains(&y),
                        }
                    })
                })
            }
        }
    }
}
