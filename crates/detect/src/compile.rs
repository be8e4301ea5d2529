//! Compiles detection rules into one shared program: interned fields, interned
//! case-folded literal needles per field (later one Aho–Corasick automaton per
//! field), de-duplicated atoms (leaf tests) and per-rule boolean expressions whose
//! children are ordered cheapest first.

use std::collections::HashMap;

use regex::Regex;

use crate::ast::*;
use crate::cidr::IpNet;
use crate::condition::identifier_matches;
use crate::error::RuleError;
use crate::mapping::FieldMapping;
use crate::pattern::{self, Anchor, Expanded, Pattern, Shape, Tok};
use bulwark_model::Pos;

pub(crate) type FieldId = usize;
/// The pseudo-field of keyword (full-text) searches: every scalar of the event.
pub(crate) const KEYWORDS: FieldId = 0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

#[derive(Debug, Clone)]
pub(crate) enum CasedPattern {
    Literal(String, Anchor),
    Regex(Regex),
}

/// A leaf test on one field.
#[derive(Debug, Clone)]
pub(crate) enum Atom {
    /// Case-insensitive literal, answered from the field's Aho–Corasick scan.
    Needle {
        field: FieldId,
        needle: usize,
        anchor: Anchor,
    },
    /// Case-insensitive wildcard pattern; `gate` is a needle every match contains.
    Glob {
        field: FieldId,
        regex: Regex,
        gate: Option<usize>,
    },
    Cased {
        field: FieldId,
        pattern: CasedPattern,
    },
    /// `re` modifier, applied to the original value. `gate`: needles one of
    /// which every match contains (the regex's prefix literals, lower-cased),
    /// so the regex runs only on values the literal scan found them in.
    Regex {
        field: FieldId,
        regex: Regex,
        gate: Option<Vec<usize>>,
    },
    /// `*`: present with a non-null value.
    AnyValue {
        field: FieldId,
    },
    Empty {
        field: FieldId,
    },
    /// Absent or JSON null.
    Null {
        field: FieldId,
    },
    /// Present (even if null): the `exists` modifier.
    Exists {
        field: FieldId,
    },
    Num {
        field: FieldId,
        op: CmpOp,
        value: f64,
    },
    Time {
        field: FieldId,
        part: TimePart,
        op: CmpOp,
        value: f64,
    },
    Cidr {
        field: FieldId,
        nets: Vec<IpNet>,
    },
    FieldRef {
        field: FieldId,
        other: FieldId,
        anchor: Anchor,
        cased: bool,
    },
}

impl Atom {
    /// The field the atom reads (a field reference reads two; the first is returned
    /// here and the other is a plain field too).
    pub fn field(&self) -> FieldId {
        match self {
            Atom::Needle { field, .. }
            | Atom::Glob { field, .. }
            | Atom::Cased { field, .. }
            | Atom::Regex { field, .. }
            | Atom::AnyValue { field }
            | Atom::Empty { field }
            | Atom::Null { field }
            | Atom::Exists { field }
            | Atom::Num { field, .. }
            | Atom::Time { field, .. }
            | Atom::Cidr { field, .. }
            | Atom::FieldRef { field, .. } => *field,
        }
    }

    /// Rough relative cost, used to order AND/OR children.
    fn cost(&self) -> u32 {
        match self {
            Atom::Needle { .. }
            | Atom::Null { .. }
            | Atom::Exists { .. }
            | Atom::AnyValue { .. }
            | Atom::Empty { .. } => 1,
            Atom::Num { .. } | Atom::Cased { .. } => 2,
            Atom::Cidr { .. } | Atom::Time { .. } | Atom::FieldRef { .. } => 4,
            Atom::Glob { gate: Some(_), .. } => 3,
            Atom::Glob { .. } => 8,
            Atom::Regex { .. } => 10,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Expr {
    Atom(usize),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
    AtLeast(usize, Vec<Expr>),
    /// Any of these case-insensitive literals occurs on one field: an OR of
    /// [`Atom::Needle`]s collapsed by the matcher, answered from the field's hit
    /// list instead of one atom at a time. (needle, accepted position flags),
    /// sorted by needle, each needle once.
    AnyNeedle(FieldId, Vec<(usize, u8)>),
    /// [`Program::shared`]`[i]`: one expression several rules use (a global
    /// filter's condition), held once however many rules it applies to.
    Shared(usize),
}

/// What to do with `expand` placeholders that the placeholder map lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnresolvedPlaceholders {
    /// Reject the rule (the specification's default for tools that cannot resolve).
    #[default]
    Reject,
    /// Replace the placeholder by `*` (pySigma's "wildcard placeholders", a last resort).
    Wildcard,
}

/// Compile-time settings.
#[derive(Debug, Clone, Default)]
pub struct CompileOptions {
    pub mapping: FieldMapping,
    /// `%name%` → values (which may hold wildcards) for the `expand` modifier.
    pub placeholders: HashMap<String, Vec<String>>,
    pub unresolved_placeholders: UnresolvedPlaceholders,
}

impl CompileOptions {
    /// ECS field mapping, no placeholders.
    pub fn ecs() -> Self {
        CompileOptions {
            mapping: FieldMapping::ecs_default(),
            ..Default::default()
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Program {
    /// Candidate paths per field (index = FieldId; 0 is KEYWORDS).
    pub fields: Vec<Vec<String>>,
    pub needles: Vec<Vec<String>>,
    pub atoms: Vec<Atom>,
    /// Expressions referred to by [`Expr::Shared`].
    pub shared: Vec<Expr>,
    field_index: HashMap<Vec<String>, FieldId>,
    needle_index: HashMap<(FieldId, String), usize>,
    atom_index: HashMap<String, usize>,
}

impl Program {
    pub fn new() -> Self {
        let mut p = Program::default();
        p.fields.push(Vec::new());
        p.needles.push(Vec::new());
        p
    }

    pub(crate) fn field(&mut self, paths: Vec<String>) -> FieldId {
        if let Some(&id) = self.field_index.get(&paths) {
            return id;
        }
        let id = self.fields.len();
        self.fields.push(paths.clone());
        self.needles.push(Vec::new());
        self.field_index.insert(paths, id);
        id
    }

    fn needle(&mut self, field: FieldId, text: String) -> usize {
        if let Some(&id) = self.needle_index.get(&(field, text.clone())) {
            return id;
        }
        let id = self.needles[field].len();
        self.needles[field].push(text.clone());
        self.needle_index.insert((field, text), id);
        id
    }

    fn atom(&mut self, key: String, make: impl FnOnce() -> Atom) -> Expr {
        if let Some(&id) = self.atom_index.get(&key) {
            return Expr::Atom(id);
        }
        let id = self.atoms.len();
        self.atoms.push(make());
        self.atom_index.insert(key, id);
        Expr::Atom(id)
    }

    pub fn cost(&self, e: &Expr) -> u32 {
        match e {
            Expr::Atom(a) => self.atoms[*a].cost(),
            Expr::AnyNeedle(..) => 1,
            Expr::Not(inner) => self.cost(inner),
            Expr::And(v) | Expr::Or(v) | Expr::AtLeast(_, v) => {
                v.iter().map(|e| self.cost(e)).sum::<u32>() + 1
            }
            Expr::Shared(i) => self.cost(&self.shared[*i]),
        }
    }

    /// Holds `e` once; the result refers to it.
    pub(crate) fn share(&mut self, e: Expr) -> Expr {
        self.shared.push(e);
        Expr::Shared(self.shared.len() - 1)
    }

    /// `a AND b`, ordered cheapest first.
    pub(crate) fn and(&self, a: Expr, b: Expr) -> Expr {
        self.order(Expr::And(vec![a, b]))
    }

    /// Sorts AND/OR children cheapest first so evaluation short-circuits early.
    fn order(&self, e: Expr) -> Expr {
        match e {
            Expr::And(v) => {
                let mut v: Vec<Expr> = v.into_iter().map(|e| self.order(e)).collect();
                v.sort_by_key(|e| self.cost(e));
                simplify_and(v)
            }
            Expr::Or(v) => {
                let mut v: Vec<Expr> = v.into_iter().map(|e| self.order(e)).collect();
                v.sort_by_key(|e| self.cost(e));
                simplify_or(v)
            }
            Expr::AtLeast(n, v) => Expr::AtLeast(n, v.into_iter().map(|e| self.order(e)).collect()),
            Expr::Not(inner) => Expr::Not(Box::new(self.order(*inner))),
            other => other,
        }
    }
}

fn simplify_and(mut v: Vec<Expr>) -> Expr {
    if v.len() == 1 {
        return v.remove(0);
    }
    Expr::And(v)
}

fn simplify_or(mut v: Vec<Expr>) -> Expr {
    if v.len() == 1 {
        return v.remove(0);
    }
    Expr::Or(v)
}

/// Compiles one detection (a rule, possibly with global filters merged in) to an expression.
pub(crate) fn compile_detection(
    prog: &mut Program,
    opts: &CompileOptions,
    logsource: &Logsource,
    detection: &DetectionBody,
) -> Result<Expr, RuleError> {
    let mut searches: HashMap<&str, Expr> = HashMap::new();
    for (name, search) in &detection.searches {
        let e = compile_search(prog, opts, logsource, search)?;
        searches.insert(name.as_str(), e);
    }
    let names: Vec<&str> = detection.searches.iter().map(|(n, _)| n.as_str()).collect();
    let mut conds = Vec::new();
    for c in &detection.conditions {
        conds.push(compile_condition(
            c,
            &searches,
            &names,
            detection.condition_pos,
        )?);
    }
    Ok(prog.order(simplify_or(conds)))
}

fn compile_condition(
    c: &Condition,
    searches: &HashMap<&str, Expr>,
    names: &[&str],
    pos: Pos,
) -> Result<Expr, RuleError> {
    Ok(match c {
        Condition::Ref(name) => searches.get(name.as_str()).cloned().ok_or_else(|| {
            RuleError::invalid(
                pos,
                format!("condition refers to unknown search identifier '{name}'"),
            )
        })?,
        Condition::Not(inner) => {
            Expr::Not(Box::new(compile_condition(inner, searches, names, pos)?))
        }
        Condition::And(v) => Expr::And(
            v.iter()
                .map(|c| compile_condition(c, searches, names, pos))
                .collect::<Result<_, _>>()?,
        ),
        Condition::Or(v) => Expr::Or(
            v.iter()
                .map(|c| compile_condition(c, searches, names, pos))
                .collect::<Result<_, _>>()?,
        ),
        Condition::Of {
            quantifier,
            pattern,
        } => {
            let selected: Vec<Expr> = names
                .iter()
                .filter(|n| match pattern {
                    None => !n.starts_with('_'),
                    Some(p) => identifier_matches(p, n),
                })
                .filter_map(|n| searches.get(n).cloned())
                .collect();
            if selected.is_empty() {
                return Err(RuleError::invalid(
                    pos,
                    format!(
                        "'{}' matches no search identifier",
                        pattern.as_deref().unwrap_or("them")
                    ),
                ));
            }
            match quantifier {
                Quantifier::All => Expr::And(selected),
                Quantifier::AtLeast(1) => Expr::Or(selected),
                Quantifier::AtLeast(n) => Expr::AtLeast(*n, selected),
            }
        }
    })
}

fn compile_search(
    prog: &mut Program,
    opts: &CompileOptions,
    ls: &Logsource,
    s: &Search,
) -> Result<Expr, RuleError> {
    Ok(match s {
        Search::AnyOf(items) => Expr::Or(
            items
                .iter()
                .map(|i| compile_search(prog, opts, ls, i))
                .collect::<Result<_, _>>()?,
        ),
        Search::AllOf(items) => Expr::And(
            items
                .iter()
                .map(|i| compile_item(prog, opts, ls, i))
                .collect::<Result<_, _>>()?,
        ),
        Search::Keyword(v, pos) => {
            let item = FieldItem {
                key: String::new(),
                field: None,
                modifiers: Vec::new(),
                values: vec![v.clone()],
                pos: *pos,
            };
            compile_item(prog, opts, ls, &item)?
        }
    })
}

struct Flags {
    all: bool,
    cased: bool,
    neq: bool,
    re: bool,
    re_flags: String,
    cidr: bool,
    exists: bool,
    fieldref: bool,
    expand: bool,
    windash: bool,
    contains: bool,
    startswith: bool,
    endswith: bool,
    cmp: Option<CmpOp>,
    time: Option<TimePart>,
    encodings: Vec<Modifier>,
}

fn flags(item: &FieldItem) -> Result<Flags, RuleError> {
    let mut f = Flags {
        all: false,
        cased: false,
        neq: false,
        re: false,
        re_flags: String::new(),
        cidr: false,
        exists: false,
        fieldref: false,
        expand: false,
        windash: false,
        contains: false,
        startswith: false,
        endswith: false,
        cmp: None,
        time: None,
        encodings: Vec::new(),
    };
    for m in &item.modifiers {
        match m {
            Modifier::All => f.all = true,
            Modifier::Cased => f.cased = true,
            Modifier::Neq => f.neq = true,
            Modifier::Re => f.re = true,
            Modifier::ReI => f.re_flags.push('i'),
            Modifier::ReM => f.re_flags.push('m'),
            Modifier::ReS => f.re_flags.push('s'),
            Modifier::Cidr => f.cidr = true,
            Modifier::Exists => f.exists = true,
            Modifier::FieldRef => f.fieldref = true,
            Modifier::Expand => f.expand = true,
            Modifier::Windash => f.windash = true,
            Modifier::Contains => f.contains = true,
            Modifier::StartsWith => f.startswith = true,
            Modifier::EndsWith => f.endswith = true,
            Modifier::Lt => f.cmp = Some(CmpOp::Lt),
            Modifier::Lte => f.cmp = Some(CmpOp::Lte),
            Modifier::Gt => f.cmp = Some(CmpOp::Gt),
            Modifier::Gte => f.cmp = Some(CmpOp::Gte),
            Modifier::Minute => f.time = Some(TimePart::Minute),
            Modifier::Hour => f.time = Some(TimePart::Hour),
            Modifier::Day => f.time = Some(TimePart::Day),
            Modifier::Week => f.time = Some(TimePart::Week),
            Modifier::Month => f.time = Some(TimePart::Month),
            Modifier::Year => f.time = Some(TimePart::Year),
            Modifier::Base64
            | Modifier::Base64Offset
            | Modifier::Utf16Le
            | Modifier::Utf16Be
            | Modifier::Utf16 => f.encodings.push(*m),
        }
    }
    let bad = |msg: &str| {
        Err(RuleError::invalid(
            item.pos,
            format!("'{}': {msg}", item.key),
        ))
    };
    if !f.re_flags.is_empty() && !f.re {
        return bad("the i/m/s modifiers need 're'");
    }
    let types = [
        f.re,
        f.cidr,
        f.exists,
        f.fieldref,
        f.cmp.is_some() || f.time.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if types > 1 {
        return bad("re, cidr, exists, fieldref and numeric/time comparisons cannot be combined");
    }
    if types == 1 && (!f.encodings.is_empty() || f.windash) {
        return bad("encoding modifiers only apply to plain string values");
    }
    if item.field.is_none()
        && (f.exists || f.fieldref || f.cidr || f.cmp.is_some() || f.time.is_some())
    {
        return bad("keyword searches only take string modifiers");
    }
    // Sigma modifiers appendix, `all`: "Single item values are not allowed to have
    // an `all` modifier".
    if f.all && item.values.len() < 2 {
        return bad("'all' needs a list of two or more values (the Sigma specification does not allow it on a single value)");
    }
    // pySigma applies modifiers in order: `contains` before an encoding would put
    // its wildcards inside the encoded text, which it refuses.
    if let Some(enc) = item
        .modifiers
        .iter()
        .position(|m| matches!(m, Modifier::Base64 | Modifier::Base64Offset))
    {
        let wraps = &item.modifiers[..enc];
        if wraps.iter().any(|m| {
            matches!(
                m,
                Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith
            )
        }) {
            return bad("contains/startswith/endswith before base64 or base64offset would encode their wildcards; put them after the encoding (e.g. 'base64offset|contains')");
        }
    }
    Ok(f)
}

fn text_of(item: &FieldItem, v: &RuleValue) -> Result<String, RuleError> {
    match v {
        RuleValue::Null => Err(RuleError::invalid(
            item.pos,
            format!("'{}': null is not allowed with these modifiers", item.key),
        )),
        other => Ok(other.to_text()),
    }
}

/// The number of a numeric or time modifier. A quoted value is a string, not a
/// number, even if it reads as one: the specification's numeric modifiers "can only
/// be applied to numeric values" and "numeric values don't use any quotes", and
/// pySigma refuses a string there (its compare modifiers type-check `SigmaNumber`).
fn number_of(item: &FieldItem, v: &RuleValue) -> Result<f64, RuleError> {
    match v {
        RuleValue::Int(i) => Ok(*i as f64),
        RuleValue::Float(f) => Ok(*f),
        RuleValue::Str(s) if s.trim().parse::<f64>().is_ok() => Err(RuleError::invalid(
            item.pos,
            format!(
                "'{}': '{s}' is quoted, so it is a string; numeric modifiers take an unquoted number",
                item.key
            ),
        )),
        RuleValue::Str(s) => Err(RuleError::invalid(
            item.pos,
            format!("'{}': '{s}' is not a number", item.key),
        )),
        _ => Err(RuleError::invalid(
            item.pos,
            format!("'{}': expected a number", item.key),
        )),
    }
}

fn compile_item(
    prog: &mut Program,
    opts: &CompileOptions,
    ls: &Logsource,
    item: &FieldItem,
) -> Result<Expr, RuleError> {
    let f = flags(item)?;
    let field = match &item.field {
        Some(name) => prog.field(opts.mapping.resolve(ls, name)),
        None => KEYWORDS,
    };

    if f.exists {
        let want = match item.values.as_slice() {
            [RuleValue::Bool(b)] => *b,
            [RuleValue::Str(s)] if s == "true" || s == "false" => s == "true",
            _ => {
                return Err(RuleError::invalid(
                    item.pos,
                    format!("'{}': exists takes true or false", item.key),
                ))
            }
        };
        let e = prog.atom(format!("exists:{field}"), || Atom::Exists { field });
        return Ok(if want != f.neq {
            e
        } else {
            Expr::Not(Box::new(e))
        });
    }

    if item.values.len() == 1 && item.values[0] == RuleValue::Null {
        if item.field.is_none() {
            return Err(RuleError::invalid(item.pos, "a keyword cannot be null"));
        }
        let e = prog.atom(format!("null:{field}"), || Atom::Null { field });
        return Ok(if f.neq { Expr::Not(Box::new(e)) } else { e });
    }

    let mut per_value = Vec::with_capacity(item.values.len());
    for v in &item.values {
        per_value.push(compile_value(prog, opts, ls, item, &f, field, v)?);
    }
    let combined = if f.all {
        Expr::And(per_value)
    } else {
        Expr::Or(per_value)
    };
    if f.neq {
        // neq: the field has a value and it differs from every listed value.
        let null = prog.atom(format!("null:{field}"), || Atom::Null { field });
        return Ok(Expr::And(vec![
            Expr::Not(Box::new(null)),
            Expr::Not(Box::new(combined)),
        ]));
    }
    Ok(combined)
}

fn compile_value(
    prog: &mut Program,
    opts: &CompileOptions,
    ls: &Logsource,
    item: &FieldItem,
    f: &Flags,
    field: FieldId,
    v: &RuleValue,
) -> Result<Expr, RuleError> {
    if f.re {
        let src = text_of(item, v)?;
        let pat = if f.re_flags.is_empty() {
            src.clone()
        } else {
            format!("(?{}){src}", f.re_flags)
        };
        let regex = regex::RegexBuilder::new(&pat)
            .size_limit(1 << 22)
            .build()
            .map_err(|e| RuleError::Regex {
                pos: item.pos,
                key: item.key.clone(),
                message: e.to_string().lines().last().unwrap_or_default().to_string(),
            })?;
        let gate = regex_gate(&pat).map(|lits| {
            lits.into_iter()
                .map(|l| prog.needle(field, l))
                .collect::<Vec<usize>>()
        });
        return Ok(prog.atom(format!("re:{field}:{pat}"), || Atom::Regex {
            field,
            regex,
            gate,
        }));
    }
    if f.cidr {
        let s = text_of(item, v)?;
        let net = IpNet::parse(&s).ok_or_else(|| {
            RuleError::invalid(
                item.pos,
                format!("'{}': '{s}' is not a CIDR range", item.key),
            )
        })?;
        // pySigma parses with Python's strict `ip_network`: host bits are an error
        // (most likely a typo for another network), not silently masked.
        if net.host_bits_set() {
            return Err(RuleError::invalid(
                item.pos,
                format!(
                    "'{}': '{s}' has host bits set; the network is {}",
                    item.key,
                    net.network()
                ),
            ));
        }
        return Ok(prog.atom(format!("cidr:{field}:{s}"), || Atom::Cidr {
            field,
            nets: vec![net],
        }));
    }
    if let Some(part) = f.time {
        let value = number_of(item, v)?;
        let op = f.cmp.unwrap_or(CmpOp::Eq);
        return Ok(
            prog.atom(format!("time:{field}:{part:?}:{op:?}:{value}"), || {
                Atom::Time {
                    field,
                    part,
                    op,
                    value,
                }
            }),
        );
    }
    if let Some(op) = f.cmp {
        let value = number_of(item, v)?;
        return Ok(
            prog.atom(format!("num:{field}:{op:?}:{value}"), || Atom::Num {
                field,
                op,
                value,
            }),
        );
    }
    if f.fieldref {
        let other_name = text_of(item, v)?;
        // pySigma: "Field references must not contain wildcards".
        if Pattern::parse(&other_name).has_wildcards() {
            return Err(RuleError::invalid(
                item.pos,
                format!(
                    "'{}': field reference '{other_name}' holds a wildcard; a field reference names one field",
                    item.key
                ),
            ));
        }
        let other = prog.field(opts.mapping.resolve(ls, &other_name));
        let anchor = match (f.startswith, f.endswith, f.contains) {
            (_, _, true) => Anchor::Anywhere,
            (true, false, _) => Anchor::Start,
            (false, true, _) => Anchor::End,
            _ => Anchor::Exact,
        };
        let cased = f.cased;
        return Ok(
            prog.atom(format!("ref:{field}:{other}:{anchor:?}:{cased}"), || {
                Atom::FieldRef {
                    field,
                    other,
                    anchor,
                    cased,
                }
            }),
        );
    }

    // Plain string matching, through the transformation modifiers.
    let raw = text_of(item, v)?;
    let raws = if f.expand {
        let lookup = |name: &str| opts.placeholders.get(name).cloned();
        match pattern::expand_placeholders(&raw, &lookup) {
            Expanded::Values(v) => v,
            Expanded::Unresolved(name) => match opts.unresolved_placeholders {
                UnresolvedPlaceholders::Reject => {
                    return Err(RuleError::UnresolvedPlaceholder {
                        pos: item.pos,
                        key: item.key.clone(),
                        name,
                    })
                }
                UnresolvedPlaceholders::Wildcard => vec!["*".to_string()],
            },
        }
    } else {
        vec![raw]
    };

    let mut alternatives: Vec<Pattern> = Vec::new();
    for r in raws {
        let mut pat = Pattern::parse(&r);
        if f.windash {
            pat.windash();
        }
        if f.encodings.is_empty() {
            alternatives.push(pat);
            continue;
        }
        let base64 = f
            .encodings
            .iter()
            .any(|m| matches!(m, Modifier::Base64 | Modifier::Base64Offset));
        if !pat.has_wildcards() {
            alternatives.extend(
                encode_text(&pat.plain_text(), &f.encodings, true)
                    .iter()
                    .map(|t| Pattern::literal(t)),
            );
            continue;
        }
        if base64 {
            // pySigma: "Base64 encoding of strings with wildcards is not allowed":
            // the encoding of the unknown part is unknown. (Dropping the wildcard
            // would silently match something else.)
            return Err(RuleError::invalid(
                item.pos,
                format!(
                    "'{}': base64 encoding of a value with wildcards is not allowed; escape a literal '*' or '?' as '\\*' or '\\?'",
                    item.key
                ),
            ));
        }
        // UTF-16 only: encode the literal runs and keep the wildcards between them
        // (as pySigma does); a byte order mark goes once, at the start.
        let mut toks = Vec::with_capacity(pat.toks.len() * 2);
        let mut run = String::new();
        let mut first = true;
        let flush = |run: &mut String, first: &mut bool, toks: &mut Vec<Tok>| {
            if !run.is_empty() || *first {
                for t in encode_text(run, &f.encodings, *first) {
                    toks.extend(t.chars().map(Tok::Lit));
                }
            }
            run.clear();
            *first = false;
        };
        for t in &pat.toks {
            match t {
                Tok::Lit(c) => run.push(*c),
                Tok::Dash => run.push('-'),
                Tok::Any | Tok::One => {
                    flush(&mut run, &mut first, &mut toks);
                    toks.push(t.clone());
                }
            }
        }
        flush(&mut run, &mut first, &mut toks);
        alternatives.push(Pattern { toks });
    }
    // Base64 output is case-significant, so encoded values match case-sensitively.
    let cased = f.cased || !f.encodings.is_empty();
    let keyword_default = field == KEYWORDS && !(f.contains || f.startswith || f.endswith);
    let mut exprs = Vec::with_capacity(alternatives.len());
    for mut p in alternatives {
        if f.contains || keyword_default {
            p.wrap_contains();
        } else if f.startswith {
            p.wrap_start();
        } else if f.endswith {
            p.wrap_end();
        }
        exprs.push(string_atom(prog, field, &p, cased, item.pos)?);
    }
    Ok(simplify_or(exprs))
}

/// Applies the encoding modifiers in order to plain text: UTF-16 turns text into
/// bytes, base64 turns bytes into text (base64offset into three texts). Bytes are
/// matched as text one character per byte (see [`pattern::bytes_to_text`]).
/// `bom`: whether `utf16` prepends its byte order mark (only at a value's start).
fn encode_text(text: &str, encodings: &[Modifier], bom: bool) -> Vec<String> {
    enum V {
        Text(String),
        Bytes(Vec<u8>),
    }
    let as_text = |c: &V| match c {
        V::Text(t) => t.clone(),
        V::Bytes(b) => pattern::bytes_to_text(b),
    };
    let as_bytes = |c: V| match c {
        V::Text(t) => t.into_bytes(),
        V::Bytes(b) => b,
    };
    let mut cur = vec![V::Text(text.to_string())];
    for m in encodings {
        let mut next = Vec::new();
        for c in cur {
            match m {
                Modifier::Utf16Le => next.push(V::Bytes(pattern::utf16le(&as_text(&c)))),
                Modifier::Utf16Be => next.push(V::Bytes(pattern::utf16be(&as_text(&c)))),
                Modifier::Utf16 if bom => next.push(V::Bytes(pattern::utf16_bom(&as_text(&c)))),
                Modifier::Utf16 => next.push(V::Bytes(pattern::utf16le(&as_text(&c)))),
                Modifier::Base64 => next.push(V::Text(pattern::base64(&as_bytes(c)))),
                Modifier::Base64Offset => next.extend(
                    pattern::base64_offsets(&as_bytes(c))
                        .into_iter()
                        .map(V::Text),
                ),
                _ => next.push(c),
            }
        }
        cur = next;
    }
    cur.iter().map(as_text).collect()
}

fn string_atom(
    prog: &mut Program,
    field: FieldId,
    p: &Pattern,
    cased: bool,
    pos: Pos,
) -> Result<Expr, RuleError> {
    Ok(match p.shape() {
        Shape::Empty => prog.atom(format!("empty:{field}"), || Atom::Empty { field }),
        Shape::AnyValue => prog.atom(format!("any:{field}"), || Atom::AnyValue { field }),
        Shape::Literal { text, anchor } if cased => {
            prog.atom(format!("cased:{field}:{anchor:?}:{text}"), || Atom::Cased {
                field,
                pattern: CasedPattern::Literal(text, anchor),
            })
        }
        Shape::Literal { text, anchor } => {
            let needle = prog.needle(field, text.to_lowercase());
            prog.atom(format!("needle:{field}:{needle}:{anchor:?}"), || {
                Atom::Needle {
                    field,
                    needle,
                    anchor,
                }
            })
        }
        Shape::Complex => {
            let src = p.to_regex(!cased);
            let regex = Regex::new(&src)
                .map_err(|e| RuleError::invalid(pos, format!("internal pattern error: {e}")))?;
            if cased {
                prog.atom(format!("cased-re:{field}:{src}"), || Atom::Cased {
                    field,
                    pattern: CasedPattern::Regex(regex),
                })
            } else {
                let lit = p.longest_literal().to_lowercase();
                let gate = (lit.chars().count() >= 2).then(|| prog.needle(field, lit));
                prog.atom(format!("glob:{field}:{src}"), || Atom::Glob {
                    field,
                    regex,
                    gate,
                })
            }
        }
    })
}

/// Literals of which every match of `pat` contains at least one (lower-cased,
/// as the field's needles are), so that the regex only runs, and its rule only
/// wakes, on values holding one: `None` when no such set is selective enough.
/// Not only prefixes: `[\s/"'+;]on(error|load)=` needs `onerror` or `onload`,
/// and `(;|\||&&)[\s+]*(whoami|…)` needs one of `;`, `|`, `&&`.
fn regex_gate(pat: &str) -> Option<Vec<String>> {
    let hir = regex_syntax::ParserBuilder::new().build().parse(pat).ok()?;
    let (score, lits) = required_literals(&hir, 0)?;
    (score >= 2 && lits.len() <= 64).then_some(lits)
}

/// A required-literal set for `h` with its score (the weakest member's).
fn required_literals(h: &regex_syntax::hir::Hir, depth: u32) -> Option<(u32, Vec<String>)> {
    use regex_syntax::hir::{Hir, HirKind};
    if depth > 16 {
        return None;
    }
    let better = |a: Option<(u32, Vec<String>)>, b: Option<(u32, Vec<String>)>| match (a, b) {
        (Some(x), Some(y)) => {
            // Stronger weakest member first, then fewer needles.
            if (y.0, std::cmp::Reverse(y.1.len())) > (x.0, std::cmp::Reverse(x.1.len())) {
                Some(y)
            } else {
                Some(x)
            }
        }
        (x, None) => x,
        (None, y) => y,
    };
    match h.kind() {
        HirKind::Capture(c) => required_literals(&c.sub, depth + 1),
        HirKind::Repetition(r) if r.min >= 1 => required_literals(&r.sub, depth + 1),
        HirKind::Alternation(alts) => {
            let mut out: Vec<String> = Vec::new();
            let mut score = u32::MAX;
            for a in alts {
                let (s, lits) = required_literals(a, depth + 1)?;
                score = score.min(s);
                for l in lits {
                    if !out.contains(&l) {
                        out.push(l);
                    }
                }
                if out.len() > 64 {
                    return None;
                }
            }
            Some((score, out))
        }
        HirKind::Concat(items) => {
            // Any match holds a match of every suffix of the concatenation, and
            // so one of that suffix's prefixes; and one of each item's.
            let mut best = None;
            for i in 0..items.len().min(32) {
                best = better(best, prefix_literals(&Hir::concat(items[i..].to_vec())));
            }
            for item in items.iter().take(64) {
                best = better(best, required_literals(item, depth + 1));
            }
            best
        }
        _ => prefix_literals(h),
    }
}

/// Every match of `h` starts with one of these (when the set is finite).
fn prefix_literals(h: &regex_syntax::hir::Hir) -> Option<(u32, Vec<String>)> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let mut ex = Extractor::new();
    // Case-insensitive words expand into every spelling (`onerror`: 128);
    // lower-cased they are one needle again, so allow many before trimming.
    ex.kind(ExtractKind::Prefix).limit_total(8192);
    let seq = ex.extract(h);
    let mut out = std::collections::BTreeSet::new();
    let mut score = u32::MAX;
    for l in seq.literals()? {
        // A literal cut inside a character by the extractor's limits is no needle.
        let t = std::str::from_utf8(l.as_bytes()).ok()?.to_lowercase();
        score = score.min(literal_score(&t));
        out.insert(t);
        if out.len() > 64 {
            return None;
        }
    }
    (!out.is_empty()).then(|| (score, out.into_iter().collect()))
}

/// How rarely a needle occurs in ordinary values: three bytes or more are
/// selective; two bytes only with a symbol (`&&`, `${`; not `id`, `sh`); one
/// byte only a symbol ordinary URLs and headers do not carry (`<`, `|`, `` ` ``).
fn literal_score(t: &str) -> u32 {
    match t.len() {
        0 => 0,
        1 => u32::from(t.bytes().all(|b| b"<>`|$;{}\\\n\r\0^".contains(&b))) * 2,
        2 if t.bytes().all(|b| b.is_ascii_alphanumeric()) => 1,
        2 => 2,
        n => n.min(12) as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::regex_gate;

    fn gate(p: &str) -> Vec<String> {
        regex_gate(p).unwrap_or_default()
    }

    #[test]
    fn gates_come_from_anywhere_in_the_pattern() {
        let handler = gate(r#"(?i)[\s/"'+;]on(error|load|focus)[\s+]*="#);
        assert!(handler.contains(&"onerror".to_string()), "{handler:?}");
        // `(?i)s` also matches `ſ`, which lower-cases to itself.
        assert_eq!(handler, ["onerror", "onfocus", "onfocuſ", "onload"]);
        let chain = gate(r"(?i)(;|\||&&|\$\(|`)[\s+]*(cat|id|ls)([\s+]+|$)");
        for l in [";", "|", "&&", "$(", "`"] {
            assert!(chain.contains(&l.to_string()), "{chain:?}");
        }
        let php = gate(r#"(?i)(^|[=&;(\s+])(system|exec|eval)\([\s+]*['"$]"#);
        assert!(php.iter().any(|l| l.starts_with("system(")), "{php:?}");
        assert_eq!(gate(r"(?i)union\s+select"), ["select", "ſelect"]);
        // Too common to spare anything: no gate.
        assert!(regex_gate(r"(id|ls)").is_none());
        assert_eq!(gate(r"(id|ls)="), ["id=", "ls="]);
        assert!(regex_gate(r"[a-z]+\d").is_none());
        assert!(regex_gate(r".*").is_none());
        assert!(regex_gate(r"a|b").is_none());
    }

    /// Whenever the regex matches, the lower-cased value holds a gate literal:
    /// case-insensitive patterns included (Unicode folds such as `ſ` for `s` and
    /// the Kelvin sign for `k`).
    #[test]
    fn gates_never_hide_a_match() {
        let patterns = [
            r"(?i)system\(",
            r"(?i)kill\s",
            r#"(?i)[\s/"'+;]on(error|load)[\s+]*="#,
            r"(?i)(;|\||&&|\$\(|`)[\s+]*(cat|id|sleep)([\s+]+|$)",
            r"(\{\{|\$\{|#\{|<%=?)[\s+]*\d+[\s+]*\*[\s+]*\d+",
            r"(?i)=[\s+]*(https?|ftps?)://[^&]*\?(&|$)",
            r"(?i)<[\s/]*(script|img|a|p)([\s/>=]|$)",
            r"Σ+x",
        ];
        let values = [
            "ſystem('id')",
            "SYSTEM(1)",
            "\u{212A}ILL 9",
            "/a?x=1\"onLoad=alert(1)",
            "/p;cat /etc/passwd",
            "/p|id",
            "x=${7*7}",
            "a=HTTPS://evil.example/x?",
            "/?q=< IMG src=x>",
            "/?q=</a>",
            "ΣΣx",
            "/plain/path?id=1",
        ];
        for p in patterns {
            let re = regex::Regex::new(p).unwrap();
            let Some(lits) = regex_gate(p) else { continue };
            for v in values {
                if re.is_match(v) {
                    let lower = v.to_lowercase();
                    assert!(
                        lits.iter().any(|l| lower.contains(l.as_str())),
                        "{p} matches {v:?} but no gate literal of {lits:?} is in it"
                    );
                }
            }
        }
    }
}
