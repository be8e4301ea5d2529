//! A column's data element from its name and its sampled values, with a
//! confidence (0–100) and the reasons. Key-value tables and JSON columns are
//! classified per key: each key is a column of its own.

use std::collections::BTreeMap;

use bulwark_model::DataElement;
use serde::Serialize;

use crate::mask::mask;
use crate::names::{self, Strength};
use crate::value::{self, CardBrand, HashScheme, Hit};

/// From this confidence on, a column is reported as holding its element.
pub const REPORTED_CONFIDENCE: u8 = 50;
/// Masked examples kept per column, when asked for.
const MAX_EXAMPLES: usize = 3;
/// Largest JSON document read from one sampled value, and deepest nesting.
pub const MAX_JSON_BYTES: usize = 64 * 1024;
const MAX_JSON_DEPTH: usize = 16;
/// Most distinct keys of one key-value table or JSON column classified.
pub const MAX_KEYS: usize = 2000;

/// What classification may show.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Keep up to three masked examples per column (`411111******1111`).
    pub show_masked: bool,
}

/// Where in a table a report's values live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Place {
    /// A column of its own.
    Column,
    /// The rows of a key-value table under one key (`billing_phone`).
    Key { key: String },
    /// A path inside a JSON column (`["address", "city"]`; `[]` for array items).
    Json { column: String, path: Vec<String> },
}

/// What one column holds, by its name and its samples. Holds no sampled value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnReport {
    pub table: String,
    /// The column, or `column[key]` for a key of a key-value table, or
    /// `column.path.to.key` inside a JSON column.
    pub column: String,
    pub place: Place,
    /// The element, when the confidence reaches [`REPORTED_CONFIDENCE`].
    pub element: Option<DataElement>,
    pub confidence: u8,
    pub reasons: Vec<String>,
    /// Non-empty values sampled.
    pub sampled: usize,
    /// Of those, how many matched the element by value.
    pub matched: usize,
    pub card_brands: BTreeMap<CardBrand, usize>,
    pub hash_schemes: BTreeMap<HashScheme, usize>,
    /// Named like free text (notes, comments).
    pub free_text: bool,
    /// Inside free text: card numbers, security codes, e-mail addresses.
    pub text_cards: usize,
    pub text_security_codes: usize,
    pub text_emails: usize,
    /// Only with [`Options::show_masked`].
    pub masked_examples: Vec<String>,
}

/// Elements a value can show by itself (the others are known by name only).
fn value_element(hit: Hit, name: Option<DataElement>) -> Option<DataElement> {
    match hit {
        Hit::Date if name == Some(DataElement::DateOfBirth) => Some(DataElement::DateOfBirth),
        Hit::ShortCode if name == Some(DataElement::CardSecurityCode) => {
            Some(DataElement::CardSecurityCode)
        }
        Hit::Date if name == Some(DataElement::CardExpiry) => Some(DataElement::CardExpiry),
        other => other.element(),
    }
}

fn detectable(e: DataElement) -> bool {
    use DataElement as E;
    matches!(
        e,
        E::Email
            | E::CardNumber
            | E::BankAccount
            | E::Phone
            | E::IpAddress
            | E::NationalId
            | E::Password
            | E::DateOfBirth
            | E::CardSecurityCode
    )
}

fn emails_in_text(v: &str) -> usize {
    v.split(|c: char| c.is_whitespace() || c == ',' || c == ';' || c == '<' || c == '>')
        .filter(|w| value::email(w.trim_matches(|c: char| c == '.' || c == '(' || c == ')')))
        .count()
}

/// Classifies one column from its name and its sampled values.
pub fn column<'a>(
    table: &str,
    name: &str,
    samples: impl IntoIterator<Item = &'a str>,
    opts: Options,
) -> ColumnReport {
    let hint = names::hint(name);
    let hinted = hint.map(|h| h.element);
    let free_text = names::is_free_text(name);
    let mut r = ColumnReport {
        table: table.to_owned(),
        column: name.to_owned(),
        place: Place::Column,
        element: None,
        confidence: 0,
        reasons: Vec::new(),
        sampled: 0,
        matched: 0,
        card_brands: BTreeMap::new(),
        hash_schemes: BTreeMap::new(),
        free_text,
        text_cards: 0,
        text_security_codes: 0,
        text_emails: 0,
        masked_examples: Vec::new(),
    };
    let mut counts: BTreeMap<DataElement, usize> = BTreeMap::new();
    let mut example: BTreeMap<DataElement, Vec<String>> = BTreeMap::new();
    let mut unhashed_passwords = 0usize;
    for v in samples {
        if v.trim().is_empty() {
            continue;
        }
        r.sampled += 1;
        let hits = value::hits(v);
        let mut seen = Vec::new();
        for hit in &hits {
            match *hit {
                Hit::Card { brand } => *r.card_brands.entry(brand).or_default() += 1,
                Hit::PasswordHash { scheme } => *r.hash_schemes.entry(scheme).or_default() += 1,
                _ => {}
            }
            if let Some(e) = value_element(*hit, hinted) {
                if !seen.contains(&e) {
                    seen.push(e);
                    *counts.entry(e).or_default() += 1;
                    if opts.show_masked {
                        let ex = example.entry(e).or_default();
                        if ex.len() < MAX_EXAMPLES {
                            ex.push(mask(v, Some(*hit)));
                        }
                    }
                }
            }
        }
        if hinted == Some(DataElement::Password)
            && !hits.iter().any(|h| matches!(h, Hit::PasswordHash { .. }))
        {
            // A password column whose value is no hash: the password itself.
            unhashed_passwords += 1;
        }
        let long_text = v.len() > 24 && v.contains(' ');
        if free_text || long_text {
            r.text_cards += value::cards_in_text(v);
            r.text_security_codes += usize::from(value::security_code_in_text(v));
            if !seen.contains(&DataElement::Email) {
                r.text_emails += emails_in_text(v);
            }
        }
    }
    if unhashed_passwords > 0 {
        r.hash_schemes.insert(HashScheme::Plain, unhashed_passwords);
        *counts.entry(DataElement::Password).or_default() += unhashed_passwords;
    }

    // Score every candidate: the name's element, and each element values showed.
    let pct =
        |n: usize| -> u32 { (n.saturating_mul(100).checked_div(r.sampled).unwrap_or(0)) as u32 };
    let mut best: Option<(DataElement, u32, Vec<String>)> = None;
    let mut candidates: Vec<DataElement> = counts.keys().copied().collect();
    if let Some(e) = hinted {
        if !candidates.contains(&e) {
            candidates.push(e);
        }
    }
    for e in candidates {
        let n = counts.get(&e).copied().unwrap_or(0);
        let by_value = pct(n);
        let mut reasons = Vec::new();
        let by_name = match hint {
            Some(h) if h.element == e => {
                reasons.push(format!(
                    "the name `{}` suggests {} ({})",
                    names::words(name).join(" "),
                    e.code(),
                    if h.strength == Strength::Strong {
                        "strongly"
                    } else {
                        "weakly"
                    }
                ));
                Some(h.strength)
            }
            _ => None,
        };
        if n > 0 {
            reasons.push(format!(
                "{n} of {} sampled values look like {}",
                r.sampled,
                e.code()
            ));
        }
        let score = match (by_name, n > 0) {
            (Some(s), true) => by_value.max(60) + if s == Strength::Strong { 35 } else { 20 },
            // Known by name only: elements no value test can see.
            (Some(s), false) if !detectable(e) || r.sampled == 0 => {
                if s == Strength::Strong {
                    75
                } else {
                    45
                }
            }
            // The name says so but the values disagree.
            (Some(s), false) => {
                reasons.push(format!(
                    "none of {} sampled values look like {}",
                    r.sampled,
                    e.code()
                ));
                if s == Strength::Strong {
                    35
                } else {
                    10
                }
            }
            (None, _) => by_value * 9 / 10,
        }
        .min(100);
        if best.as_ref().is_none_or(|(_, b, _)| score > *b) {
            best = Some((e, score, reasons));
        }
    }
    if let Some((e, score, reasons)) = best {
        r.confidence = score as u8;
        r.matched = counts.get(&e).copied().unwrap_or(0);
        r.reasons = reasons;
        if r.confidence >= REPORTED_CONFIDENCE {
            r.element = Some(e);
            r.masked_examples = example.remove(&e).unwrap_or_default();
        }
    }
    if r.text_cards + r.text_security_codes + r.text_emails > 0 {
        r.reasons.push(format!(
            "free text holds {} card number(s), {} security code(s), {} e-mail address(es)",
            r.text_cards, r.text_security_codes, r.text_emails
        ));
    }
    r
}

/// A key-value table (`wp_usermeta`: `meta_key`, `meta_value`; Magento's
/// `customer_entity_varchar` by attribute code): each key is classified as a
/// column named `value_column[key]`, from the values stored under it.
pub fn key_values<'a>(
    table: &str,
    value_column: &str,
    rows: impl IntoIterator<Item = (&'a str, &'a str)>,
    opts: Options,
) -> Vec<ColumnReport> {
    let mut by_key: BTreeMap<&'a str, Vec<&'a str>> = BTreeMap::new();
    for (k, v) in rows {
        if by_key.len() >= MAX_KEYS && !by_key.contains_key(k) {
            continue;
        }
        by_key.entry(k).or_default().push(v);
    }
    by_key
        .into_iter()
        .map(|(k, values)| {
            let mut r = column(table, k, values, opts);
            r.column = format!("{value_column}[{k}]");
            r.place = Place::Key { key: k.to_owned() };
            r
        })
        .collect()
}

fn flatten(
    v: &serde_json::Value,
    path: &mut Vec<String>,
    depth: usize,
    out: &mut BTreeMap<Vec<String>, Vec<String>>,
) {
    if depth > MAX_JSON_DEPTH || out.len() > MAX_KEYS {
        return;
    }
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m.iter().take(MAX_KEYS) {
                path.push(k.chars().take(64).collect());
                flatten(v, path, depth + 1, out);
                path.pop();
            }
        }
        serde_json::Value::Array(a) => {
            path.push("[]".into());
            for v in a.iter().take(100) {
                flatten(v, path, depth + 1, out);
            }
            path.pop();
        }
        serde_json::Value::String(s) => out.entry(path.clone()).or_default().push(s.clone()),
        serde_json::Value::Number(n) => out.entry(path.clone()).or_default().push(n.to_string()),
        _ => {}
    }
}

/// A JSON column: each leaf path (`billing.email`, `items.[].name`) is
/// classified as `column.path`, named by its last key. Values that are not
/// JSON, too large or too deep are skipped.
pub fn json_column<'a>(
    table: &str,
    column_name: &str,
    samples: impl IntoIterator<Item = &'a str>,
    opts: Options,
) -> Vec<ColumnReport> {
    let mut paths: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for s in samples {
        if s.len() > MAX_JSON_BYTES {
            continue;
        }
        let Ok(v) = serde_json::from_str::<serde_json::Value>(s) else {
            continue;
        };
        flatten(&v, &mut Vec::new(), 0, &mut paths);
    }
    paths
        .into_iter()
        .map(|(path, values)| {
            let leaf = path
                .iter()
                .rev()
                .find(|p| *p != "[]")
                .cloned()
                .unwrap_or_default();
            let mut r = column(table, &leaf, values.iter().map(String::as_str), opts);
            r.column = format!("{column_name}.{}", path.join("."));
            r.place = Place::Json {
                column: column_name.to_owned(),
                path,
            };
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulwark_model::DataElement as E;

    const OPTS: Options = Options { show_masked: false };

    #[test]
    fn name_and_values_agree_or_disagree() {
        let emails = ["ada@example.com", "bob@example.org", "", "cy@example.net"];
        let r = column("customers", "email", emails, OPTS);
        assert_eq!(r.element, Some(E::Email));
        assert_eq!((r.sampled, r.matched), (3, 3));
        assert!(r.confidence >= 95, "{r:?}");
        // Values alone.
        let r = column("t", "c1", ["ada@example.com", "bob@example.org"], OPTS);
        assert_eq!(r.element, Some(E::Email));
        assert_eq!(r.confidence, 90);
        // A name that lies.
        let r = column("t", "email", ["yes", "no", "yes", "no", "yes"], OPTS);
        assert_eq!(r.element, None, "{r:?}");
        // Known by name only.
        let r = column("t", "firstname", ["Ada", "Bob"], OPTS);
        assert_eq!(r.element, Some(E::Name));
    }

    #[test]
    fn cards_hashes_and_plain_passwords() {
        let r = column(
            "sales_order_payment",
            "cc_number_enc",
            ["4111111111111111", "5555555555554444"],
            OPTS,
        );
        assert_eq!(r.element, Some(E::CardNumber));
        assert_eq!(r.card_brands.len(), 2);
        let r = column(
            "users",
            "user_pass",
            [
                "5f4dcc3b5aa765d61d8327deb882cf99",
                "e10adc3949ba59abbe56e057f20f883e",
            ],
            OPTS,
        );
        assert_eq!(r.element, Some(E::Password));
        assert_eq!(r.hash_schemes.get(&HashScheme::Md5), Some(&2));
        let r = column("users", "password", ["hunter2", "letmein"], OPTS);
        assert_eq!(r.hash_schemes.get(&HashScheme::Plain), Some(&2));
        assert_eq!(r.element, Some(E::Password));
        let r = column(
            "orders",
            "customer_note",
            [
                "please ring, card 4111 1111 1111 1111 cvv 123",
                "leave at door",
            ],
            OPTS,
        );
        assert!(r.free_text);
        assert_eq!((r.text_cards, r.text_security_codes), (1, 1));
    }

    #[test]
    fn key_values_and_json_are_classified_per_key() {
        let rows = [
            ("billing_email", "ada@example.com"),
            ("billing_phone", "+44 20 7946 0958"),
            ("billing_email", "bob@example.org"),
            ("show_admin_bar_front", "true"),
        ];
        let rs = key_values("wp_usermeta", "meta_value", rows, OPTS);
        let find = |c: &str| rs.iter().find(|r| r.column == c).unwrap();
        assert_eq!(find("meta_value[billing_email]").element, Some(E::Email));
        assert_eq!(find("meta_value[billing_phone]").element, Some(E::Phone));
        assert_eq!(find("meta_value[show_admin_bar_front]").element, None);
        let docs = [
            r#"{"billing": {"email": "ada@example.com", "zip": "94105"}, "n": 1}"#,
            "not json",
            r#"{"billing": {"email": "x@example.org"}}"#,
        ];
        let rs = json_column("orders", "details", docs, OPTS);
        let find = |c: &str| rs.iter().find(|r| r.column == c).unwrap();
        assert_eq!(find("details.billing.email").element, Some(E::Email));
        assert_eq!(find("details.billing.email").sampled, 2);
        assert_eq!(find("details.billing.zip").element, Some(E::PostalAddress));
    }

    #[test]
    fn reports_hold_no_sampled_value_and_masked_examples_only_on_request() {
        let r = column("c", "email", ["ada.lovelace@example.com"], OPTS);
        let text = serde_json::to_string(&r).unwrap();
        assert!(!text.contains("lovelace"), "{text}");
        let r = column(
            "c",
            "cc",
            ["4111111111111111"],
            Options { show_masked: true },
        );
        assert_eq!(r.masked_examples, vec!["411111******1111".to_owned()]);
        assert!(!serde_json::to_string(&r)
            .unwrap()
            .contains("4111111111111111"));
    }
}
