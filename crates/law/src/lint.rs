//! Catalogue lint: everything `load` checks plus the editorial rules that keep
//! the catalogue trustworthy (citations, sources, review dates, valid codes).
//! Each finding names the file and the line and column of the key or value it
//! is about, found through the file's TOML spans.

use std::collections::HashMap;

use bulwark_model::{bloc_members, is_country, is_subdivision, Pos};

use crate::catalogue::parse_law;
use crate::error::CatalogueError;
use crate::schema::{Anchor, Confidence, Law, Recipient, TimeUnit};
use crate::spans::Seg::{self, Index as I, Key as K};
use crate::spans::Spans;

pub use bulwark_model::{Diagnostic, Severity};

struct Ctx<'a, 't> {
    path: &'a str,
    spans: Option<Spans<'t>>,
    out: &'a mut Vec<Diagnostic>,
}

impl Ctx<'_, '_> {
    /// Reports at the key or element `path` names (see [`Spans::pos`]).
    fn at(&mut self, path: &[Seg<'_>], severity: Severity, message: String) {
        let pos = self.spans.as_ref().map(|s| s.pos(path));
        self.push(pos, severity, message);
    }

    fn push(&mut self, pos: Option<Pos>, severity: Severity, message: String) {
        self.out
            .push(Diagnostic::new(self.path, pos, severity, message));
    }
}

fn file_stem(path: &str) -> &str {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    name.strip_suffix(".toml").unwrap_or(name)
}

fn is_date(s: &str) -> bool {
    parse_day(s).is_some()
}

/// What a lint run checks beyond the schema and the editorial basics.
#[derive(Debug, Clone, Copy, Default)]
pub struct LintOptions {
    /// The review rules (`laws lint --strict`): every obligation cites its
    /// section, every file lists its amendments and encodes the newest one in
    /// force, a review is at most 12 months old on `today`, and every
    /// confidence below `high` says what remains unverified. Errors, not
    /// warnings: counsel relies on the catalogue being current.
    pub strict: bool,
    /// The date the review age is measured at (the caller's clock).
    pub today: Option<time::Date>,
}

/// Lints law files given as `(path, text)` pairs. Empty result: clean.
pub fn lint<P: AsRef<str>, T: AsRef<str>>(files: &[(P, T)]) -> Vec<Diagnostic> {
    lint_with(files, LintOptions::default())
}

/// [`lint`] with the review rules of [`LintOptions`].
pub fn lint_with<P: AsRef<str>, T: AsRef<str>>(
    files: &[(P, T)],
    options: LintOptions,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut claimed: HashMap<String, String> = HashMap::new();
    for (path, text) in files {
        let (path, text) = (path.as_ref(), text.as_ref());
        let mut cx = Ctx {
            path,
            spans: None,
            out: &mut out,
        };
        let law = match parse_law(path, text) {
            Ok(l) => l,
            Err(CatalogueError::Parse {
                position, message, ..
            }) => {
                cx.push(position, Severity::Error, message);
                continue;
            }
            Err(e) => {
                cx.push(None, Severity::Error, e.to_string());
                continue;
            }
        };
        // The file parsed as a law, so it parses as TOML.
        cx.spans = Spans::parse(text).ok();
        if let Some(other) = ids.insert(law.id.clone(), path.to_owned()) {
            cx.at(
                &[K("id")],
                Severity::Error,
                format!("law id `{}` is also defined in {other}", law.id),
            );
        }
        for (n, j) in law.applies.jurisdictions.iter().enumerate() {
            if let Some(other) = claimed.insert(j.clone(), law.id.clone()) {
                cx.at(
                    &[K("applies"), K("jurisdictions"), I(n)],
                    Severity::Warning,
                    format!("jurisdiction `{j}` is also claimed by law `{other}`; both will apply"),
                );
            }
        }
        check_law(&mut cx, &law);
        if options.strict {
            check_review(&mut cx, &law, options.today);
        }
    }
    out
}

use bulwark_model::parse_date as parse_day;

/// The review rules (see [`LintOptions::strict`]).
fn check_review(cx: &mut Ctx, law: &Law, today: Option<time::Date>) {
    use Severity::Error;
    for (i, o) in law.obligations.iter().enumerate() {
        if o.citation.as_deref().is_none_or(|c| c.trim().is_empty()) {
            cx.at(
                &[K("obligations"), I(i), K("recipient")],
                Error,
                format!(
                    "obligations[{i}] ({}) has no `citation`: name the section that imposes it",
                    o.recipient.code()
                ),
            );
        }
    }
    if law.amendments.is_empty() {
        cx.at(
            &[K("effective")],
            Error,
            "no `amendments`: list the enacting act and every amendment with its effective date"
                .into(),
        );
    }
    let mut newest_in_force: Option<(time::Date, &str)> = None;
    for (i, a) in law.amendments.iter().enumerate() {
        match parse_day(&a.effective) {
            None => cx.at(
                &[K("amendments"), I(i), K("effective")],
                Error,
                format!("amendments[{i}].effective must be a date as YYYY-MM-DD"),
            ),
            Some(d) => {
                let in_force = today.is_none_or(|t| d <= t);
                if in_force && newest_in_force.is_none_or(|(n, _)| d > n) {
                    newest_in_force = Some((d, a.act.as_str()));
                }
            }
        }
        if a.act.trim().is_empty() || a.summary.trim().is_empty() {
            cx.at(
                &[K("amendments"), I(i)],
                Error,
                format!("amendments[{i}]: give the act and what it changed"),
            );
        }
    }
    if let (Some((newest, act)), Some(effective)) = (newest_in_force, parse_day(&law.effective)) {
        if effective < newest {
            cx.at(
                &[K("effective")],
                Error,
                format!(
                    "effective = {effective} is older than {act} (in force {newest}): the file may encode superseded text; re-check it and move `effective`"
                ),
            );
        }
    }
    for (i, r) in law.changelog.iter().enumerate() {
        if parse_day(&r.date).is_none() {
            cx.at(
                &[K("changelog"), I(i), K("date")],
                Error,
                format!("changelog[{i}].date must be a date as YYYY-MM-DD"),
            );
        }
    }
    if let (Some(today), Some(reviewed)) = (today, parse_day(&law.last_reviewed)) {
        // 12 months: a reviewed file is current until the same day a year later.
        let due = reviewed
            .replace_year(reviewed.year() + 1)
            .unwrap_or_else(|_| reviewed + time::Duration::days(365));
        if today > due {
            cx.at(
                &[K("last_reviewed")],
                Error,
                format!(
                    "last_reviewed = {reviewed} is more than 12 months before {today}: review the file against its sources"
                ),
            );
        }
    }
    let below_high = law.confidence < Confidence::High
        || law.covered.confidence.is_some_and(|c| c < Confidence::High)
        || law
            .obligations
            .iter()
            .any(|o| o.confidence.is_some_and(|c| c < Confidence::High));
    if below_high && law.unverified.iter().all(|u| u.trim().is_empty()) {
        cx.at(
            &[K("confidence")],
            Error,
            "a confidence below `high` needs `unverified`: say what remains unconfirmed and against which text".into(),
        );
    }
}

fn check_law(cx: &mut Ctx, law: &Law) {
    use Severity::{Error, Warning};
    if file_stem(cx.path) != law.id {
        cx.at(
            &[K("id")],
            Error,
            format!(
                "id `{}` does not match the file name `{}`",
                law.id,
                file_stem(cx.path)
            ),
        );
    }
    for (field, value) in [("name", &law.name), ("citation", &law.citation)] {
        if value.trim().is_empty() {
            cx.at(&[K(field)], Error, format!("missing {field}"));
        }
    }
    if law.sources.iter().all(|s| s.trim().is_empty()) {
        cx.at(
            &[K("sources")],
            Error,
            "missing sources: say where each fact was checked".into(),
        );
    }
    if law
        .review_notes
        .as_deref()
        .is_none_or(|n| n.trim().is_empty())
    {
        // A blank note is pointed at; a missing one belongs beside the review date.
        let at = if law.review_notes.is_some() {
            "review_notes"
        } else {
            "last_reviewed"
        };
        cx.at(
            &[K(at)],
            Warning,
            "no review_notes: say what the last review checked, and against what".into(),
        );
    }
    for (field, value) in [
        ("effective", &law.effective),
        ("last_reviewed", &law.last_reviewed),
    ] {
        if !is_date(value) {
            cx.at(
                &[K(field)],
                Error,
                format!("{field} must be a date as YYYY-MM-DD"),
            );
        }
    }
    if law.applies.jurisdictions.is_empty() && !law.applies.everywhere {
        cx.at(
            &[K("applies")],
            Error,
            "applies: list jurisdictions or set everywhere = true".into(),
        );
    }
    for (n, j) in law.applies.jurisdictions.iter().enumerate() {
        if !(is_country(j) || is_subdivision(j)) {
            cx.at(
                &[K("applies"), K("jurisdictions"), I(n)],
                Error,
                format!(
                    "unknown jurisdiction code `{j}` (expected ISO 3166-1 alpha-2 or ISO 3166-2)"
                ),
            );
        }
    }
    // A bloc's law (`EU`) must protect exactly the bloc's members, or `EU`
    // playbooks and the law would disagree about who is covered.
    if let Some(members) = bloc_members(&law.id) {
        let listed = |c: &&str| law.applies.jurisdictions.iter().any(|j| j == c);
        let missing: Vec<&str> = members.iter().copied().filter(|c| !listed(c)).collect();
        let extra: Vec<&str> = law
            .applies
            .jurisdictions
            .iter()
            .map(String::as_str)
            .filter(|j| !members.contains(j))
            .collect();
        if !missing.is_empty() || !extra.is_empty() {
            cx.at(
                &[K("applies"), K("jurisdictions")],
                Warning,
                format!(
                    "`{}` stands for {} countries; missing: [{}], not members: [{}]",
                    law.id,
                    members.len(),
                    missing.join(", "),
                    extra.join(", ")
                ),
            );
        }
    }
    if law.covered.combinations.is_empty() {
        cx.at(
            &[K("covered"), K("combinations")],
            Error,
            "covered.combinations is empty: nothing would ever be covered".into(),
        );
    }
    if let Some(k) = law.covered.combinations.iter().position(Vec::is_empty) {
        cx.at(
            &[K("covered"), K("combinations"), I(k)],
            Error,
            "covered.combinations has an empty combination".into(),
        );
    }
    if law.obligations.is_empty() {
        cx.at(
            &[K("breach")],
            Warning,
            "no obligations: this law can never trigger".into(),
        );
    }
    let has = |r: Recipient| law.obligations.iter().any(|o| o.recipient == r);
    if !law.applies.everywhere && !has(Recipient::Individuals) {
        cx.at(
            &[K("obligations")],
            Warning,
            "no obligation to notify individuals".into(),
        );
    }
    for (i, o) in law.obligations.iter().enumerate() {
        let here = |rest: &[Seg<'static>]| -> Vec<Seg<'static>> {
            [K("obligations"), I(i)]
                .iter()
                .chain(rest)
                .copied()
                .collect()
        };
        if let Some(t) = &o.threshold {
            if t.more_than.is_some() && t.at_least.is_some() {
                cx.at(
                    &here(&[K("threshold")]),
                    Error,
                    format!(
                        "obligations[{i}].threshold: give either more_than or at_least, not both"
                    ),
                );
            }
        }
        if let Some(c) = &o.combinations {
            if c.is_empty() || c.iter().any(Vec::is_empty) {
                let mut at = here(&[K("combinations")]);
                at.extend(c.iter().position(Vec::is_empty).map(I));
                cx.at(
                    &at,
                    Error,
                    format!("obligations[{i}].combinations must not be empty"),
                );
            }
        }
        if o.effective.as_deref().is_some_and(|d| !is_date(d)) {
            cx.at(
                &here(&[K("effective")]),
                Error,
                format!("obligations[{i}].effective must be a date as YYYY-MM-DD"),
            );
        }
        if o.timing.standard.trim().is_empty() {
            cx.at(
                &here(&[K("timing"), K("standard")]),
                Error,
                format!("obligations[{i}].timing.standard: keep the wording of the rule"),
            );
        }
        let needs = match o.timing.from {
            Anchor::IndividualsNotice => Some(Recipient::Individuals),
            Anchor::RegulatorNotice => Some(Recipient::Regulator),
            _ => None,
        };
        if let Some(r) = needs {
            if !has(r) || o.recipient == r {
                cx.at(&here(&[K("timing"), K("from")]), Error, format!(
                    "obligations[{i}].timing.from counts from the {} notice, which this file does not define",
                    r.code()
                ));
            }
        }
        if let Some(ord) = &o.order {
            if !has(ord.notice) {
                cx.at(
                    &here(&[K("order"), K("notice")]),
                    Warning,
                    format!(
                        "obligations[{i}].order refers to a {} notice this file does not define",
                        ord.notice.code()
                    ),
                );
            }
        }
        // No breach law gives more than a few months; a huge number is a typo
        // (e.g. hours entered as days) and would make deadlines meaningless.
        for (field, n) in [("within", o.timing.within), ("target", o.timing.target)] {
            if let Some(n) = n {
                let limit = match o.timing.unit {
                    TimeUnit::Hours => 24 * 366,
                    TimeUnit::CalendarDays | TimeUnit::BusinessDays => 366,
                };
                if n > limit {
                    cx.at(
                        &here(&[K("timing"), K(field)]),
                        Error,
                        format!(
                        "obligations[{i}].timing.{field} = {n} is more than a year; check the unit"
                    ),
                    );
                }
            }
        }
        if o.recipient == Recipient::Individuals && o.requires.is_empty() && !o.content.is_empty() {
            cx.at(&here(&[K("content")]), Warning, format!(
                "obligations[{i}]: `content` has no structured `requires` codes, so rendered notices cannot be checked against it"
            ));
        }
        if o.recipient != Recipient::Individuals
            && !(o.requires.is_empty() && o.prohibits.is_empty())
        {
            let field = if o.requires.is_empty() {
                "prohibits"
            } else {
                "requires"
            };
            cx.at(
                &here(&[K(field)]),
                Warning,
                format!(
                "obligations[{i}]: requires/prohibits are checked on notices to individuals only"
            ),
            );
        }
        if let Some(c) = o.requires.iter().find(|c| o.prohibits.contains(c)) {
            let k = o.prohibits.iter().position(|p| p == c).unwrap_or(0);
            cx.at(
                &here(&[K("prohibits"), I(k)]),
                Error,
                format!(
                    "obligations[{i}]: `{}` is both required and prohibited",
                    c.code()
                ),
            );
        }
        if o.timing.within.is_none() && o.timing.target.is_none() && needs.is_none() {
            cx.at(&here(&[K("timing")]), Warning, format!(
                "obligations[{i}]: undue-delay standard without a recommended `target`; the engine default applies"
            ));
        }
    }
}
