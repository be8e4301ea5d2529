//! The stateless half of the engine: evaluates every compiled rule against an
//! event in one pass.
//!
//! Per event, a field is extracted at most once and only if some candidate rule
//! needs it; each field's values are lower-cased once and scanned by one
//! Aho–Corasick automaton holding every rule's literals for that field. Rules
//! whose expression requires one of a set of literals (most Sigma rules) are
//! indexed by those literals and only evaluated when one of them was seen; atoms
//! shared by several rules are evaluated once per event.

use aho_corasick::AhoCorasick;
use rustc_hash::FxHashMap;
use serde_json::{Map, Value};

use crate::ast::Logsource;
use crate::cidr::parse_ip;
use crate::compile::{Atom, CasedPattern, Expr, FieldId, Program, TimePart, KEYWORDS};
use crate::event::{all_values, Event, FieldData};
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
    paths: FxHashMap<String, PathEntry>,
    /// Some rule has a keyword (full-text) search.
    keywords: bool,
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
        Expr::Atom(a) => match &prog.atoms[*a] {
            Atom::Needle { field, needle, .. } => Some(vec![Trigger::Needle(*field, *needle)]),
            Atom::Glob {
                field,
                gate: Some(n),
                ..
            } => Some(vec![Trigger::Needle(*field, *n)]),
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
        let mut paths: FxHashMap<String, PathEntry> = FxHashMap::default();
        for (f, candidates) in prog.fields.iter().enumerate() {
            for (rank, p) in candidates.iter().enumerate() {
                paths
                    .entry(p.clone())
                    .or_default()
                    .targets
                    .push((f, u8::try_from(rank).unwrap_or(u8::MAX)));
                for (i, _) in p.match_indices('.') {
                    paths.entry(p[..i].to_string()).or_default().prefix = true;
                }
            }
        }
        let keywords = prog.atoms.iter().any(|a| a.field() == KEYWORDS);
        Matcher {
            keywords,
            prog,
            automata,
            rules,
            triggers,
            present_triggers,
            is_trigger_field,
            always,
            paths,
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
            if let Some(entry) = self.paths.get(buf.as_str()) {
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
        self.begin(s);
        s.present.clear();
        if self.keywords {
            // Keyword searches read every scalar; the decoder fills this slot.
            s.field_gen[KEYWORDS] = s.gen;
            match &mut s.fields[KEYWORDS] {
                FieldData::Values(v) => v.clear(),
                other => *other = FieldData::Values(Vec::new()),
            }
        }
        crate::projection::extract_json(self, line, s)?;
        self.match_extracted(None, logsource, s, out);
        Ok(())
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
        self.paths.get(path)
    }

    /// Stores a field value found while walking an event (lower rank wins).
    pub(crate) fn offer(
        &self,
        s: &mut Scratch,
        entry: &PathEntry,
        fill: &mut dyn FnMut(&mut FieldData),
    ) {
        let mut first: Option<FieldId> = None;
        for &(f, rank) in &entry.targets {
            if s.field_gen[f] == s.gen {
                if s.field_rank[f] <= rank {
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
                    let v = s.fields[src].clone();
                    s.fields[f] = v;
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
    }
}

struct Ctx<'a> {
    m: &'a Matcher,
    /// Needed only by keyword searches (every value of the event).
    ev: Option<&'a Event>,
    s: &'a mut Scratch,
}

impl Ctx<'_> {
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
        self.ensure_lower(f);
        self.s.hits_gen[f] = self.s.gen;
        let hits = &mut self.s.hits[f];
        let hit_list = &mut self.s.hit_list[f];
        // Only the needles hit last time need clearing.
        for &n in hit_list.iter() {
            hits[n] = 0;
        }
        hit_list.clear();
        let needles = &self.m.prog.needles[f];
        for v in &self.s.lower[f] {
            let mut mark = |n: usize, start: usize, end: usize| {
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
                if hits[n] == 0 {
                    hit_list.push(n);
                }
                hits[n] |= flag;
            };
            match &self.m.automata[f] {
                Some(ac) => {
                    for m in ac.find_overlapping_iter(v.as_str()) {
                        mark(m.pattern().as_usize(), m.start(), m.end());
                    }
                }
                None => {
                    for (n, needle) in needles.iter().enumerate() {
                        for (start, _) in v.match_indices(needle.as_str()) {
                            mark(n, start, start + needle.len());
                        }
                    }
                }
            }
        }
    }

    fn eval(&mut self, e: &Expr) -> bool {
        match e {
            Expr::Atom(a) => self.atom(*a),
            Expr::Not(inner) => !self.eval(inner),
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
                let h = self.s.hits[*field][*needle];
                let want = match anchor {
                    Anchor::Anywhere => ANY,
                    Anchor::Start => START,
                    Anchor::End => END,
                    Anchor::Exact => EXACT,
                };
                h & want != 0
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
            Atom::Regex { field, regex } => {
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
