//! Catalogue lint: everything `load` checks plus the editorial rules that keep
//! the catalogue trustworthy (citations, sources, review dates, valid codes).
//! Each finding names the file and, where it can, the line and column.

use std::collections::HashMap;

use bulwark_model::{is_country, is_subdivision, Pos};

use crate::catalogue::parse_law;
use crate::error::CatalogueError;
use crate::schema::{Anchor, Law, Recipient, TimeUnit};

pub use bulwark_model::{Diagnostic, Severity};

struct Ctx<'a> {
    path: &'a str,
    text: &'a str,
    out: &'a mut Vec<Diagnostic>,
}

impl Ctx<'_> {
    /// Reports at the first occurrence of `needle` in the file, if any.
    fn at(&mut self, needle: &str, severity: Severity, message: String) {
        let pos = self.text.find(needle).map(|o| Pos::of_offset(self.text, o));
        self.push(pos, severity, message);
    }

    /// Reports at the line assigning top-level `key` (`key = …`).
    fn at_key(&mut self, key: &str, severity: Severity, message: String) {
        let pos = self
            .text
            .lines()
            .scan(0usize, |off, line| {
                let start = *off;
                *off += line.len() + 1;
                Some((start, line))
            })
            .find(|(_, line)| {
                line.strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with('='))
            })
            .map(|(o, _)| Pos::of_offset(self.text, o));
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
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, fmt).is_ok()
}

/// Lints law files given as `(path, text)` pairs. Empty result: clean.
pub fn lint<P: AsRef<str>, T: AsRef<str>>(files: &[(P, T)]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut ids: HashMap<String, String> = HashMap::new();
    let mut claimed: HashMap<String, String> = HashMap::new();
    for (path, text) in files {
        let (path, text) = (path.as_ref(), text.as_ref());
        let mut cx = Ctx {
            path,
            text,
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
        if let Some(other) = ids.insert(law.id.clone(), path.to_owned()) {
            cx.at_key(
                "id",
                Severity::Error,
                format!("law id `{}` is also defined in {other}", law.id),
            );
        }
        for j in &law.applies.jurisdictions {
            if let Some(other) = claimed.insert(j.clone(), law.id.clone()) {
                cx.at(
                    &format!("\"{j}\""),
                    Severity::Warning,
                    format!("jurisdiction `{j}` is also claimed by law `{other}`; both will apply"),
                );
            }
        }
        check_law(&mut cx, &law);
    }
    out
}

fn check_law(cx: &mut Ctx, law: &Law) {
    use Severity::{Error, Warning};
    if file_stem(cx.path) != law.id {
        cx.at_key(
            "id",
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
            cx.at_key(field, Error, format!("missing {field}"));
        }
    }
    if law.sources.iter().all(|s| s.trim().is_empty()) {
        cx.at_key(
            "sources",
            Error,
            "missing sources: say where each fact was checked".into(),
        );
    }
    if law
        .review_notes
        .as_deref()
        .is_none_or(|n| n.trim().is_empty())
    {
        cx.at_key(
            "last_reviewed",
            Warning,
            "no review_notes: say what the last review checked, and against what".into(),
        );
    }
    for (field, value) in [
        ("effective", &law.effective),
        ("last_reviewed", &law.last_reviewed),
    ] {
        if !is_date(value) {
            cx.at_key(
                field,
                Error,
                format!("{field} must be a date as YYYY-MM-DD"),
            );
        }
    }
    if law.applies.jurisdictions.is_empty() && !law.applies.everywhere {
        cx.at(
            "[applies]",
            Error,
            "applies: list jurisdictions or set everywhere = true".into(),
        );
    }
    for j in &law.applies.jurisdictions {
        if !(is_country(j) || is_subdivision(j)) {
            cx.at(
                &format!("\"{j}\""),
                Error,
                format!(
                    "unknown jurisdiction code `{j}` (expected ISO 3166-1 alpha-2 or ISO 3166-2)"
                ),
            );
        }
    }
    if law.covered.combinations.is_empty() {
        cx.at(
            "combinations",
            Error,
            "covered.combinations is empty: nothing would ever be covered".into(),
        );
    }
    if law.covered.combinations.iter().any(Vec::is_empty) {
        cx.at(
            "combinations",
            Error,
            "covered.combinations has an empty combination".into(),
        );
    }
    if law.obligations.is_empty() {
        cx.at(
            "[breach]",
            Warning,
            "no obligations: this law can never trigger".into(),
        );
    }
    let has = |r: Recipient| law.obligations.iter().any(|o| o.recipient == r);
    if !law.applies.everywhere && !has(Recipient::Individuals) {
        cx.at(
            "[[obligations]]",
            Warning,
            "no obligation to notify individuals".into(),
        );
    }
    for (i, o) in law.obligations.iter().enumerate() {
        let here = format!("recipient = \"{}\"", o.recipient.code());
        if let Some(t) = &o.threshold {
            if t.more_than.is_some() && t.at_least.is_some() {
                cx.at(
                    &here,
                    Error,
                    format!(
                        "obligations[{i}].threshold: give either more_than or at_least, not both"
                    ),
                );
            }
        }
        if o.combinations
            .as_ref()
            .is_some_and(|c| c.is_empty() || c.iter().any(Vec::is_empty))
        {
            cx.at(
                &here,
                Error,
                format!("obligations[{i}].combinations must not be empty"),
            );
        }
        if o.effective.as_deref().is_some_and(|d| !is_date(d)) {
            cx.at(
                &here,
                Error,
                format!("obligations[{i}].effective must be a date as YYYY-MM-DD"),
            );
        }
        if o.timing.standard.trim().is_empty() {
            cx.at(
                &here,
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
                cx.at(&here, Error, format!(
                    "obligations[{i}].timing.from counts from the {} notice, which this file does not define",
                    r.code()
                ));
            }
        }
        if let Some(ord) = &o.order {
            if !has(ord.notice) {
                cx.at(
                    &here,
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
                        &here,
                        Error,
                        format!(
                        "obligations[{i}].timing.{field} = {n} is more than a year; check the unit"
                    ),
                    );
                }
            }
        }
        if o.recipient == Recipient::Individuals && o.requires.is_empty() && !o.content.is_empty() {
            cx.at(&here, Warning, format!(
                "obligations[{i}]: `content` has no structured `requires` codes, so rendered notices cannot be checked against it"
            ));
        }
        if o.recipient != Recipient::Individuals
            && !(o.requires.is_empty() && o.prohibits.is_empty())
        {
            cx.at(
                &here,
                Warning,
                format!(
                "obligations[{i}]: requires/prohibits are checked on notices to individuals only"
            ),
            );
        }
        if let Some(c) = o.requires.iter().find(|c| o.prohibits.contains(c)) {
            cx.at(
                &here,
                Error,
                format!(
                    "obligations[{i}]: `{}` is both required and prohibited",
                    c.code()
                ),
            );
        }
        if o.timing.within.is_none() && o.timing.target.is_none() && needs.is_none() {
            cx.at(&here, Warning, format!(
                "obligations[{i}]: undue-delay standard without a recommended `target`; the engine default applies"
            ));
        }
    }
}
