//! Turning a customer document from the API into checked, normalised fields.
//! Errors name the field and what was expected, never the value.

use std::collections::BTreeMap;
use std::fmt;

use bulwark_model::{DataElement, Residency, ResidencyError};
use serde::Serialize;
use time::Date;
use zeroize::Zeroizing;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Every problem found in one request, so the caller can fix them all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub(crate) fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }
    pub(crate) fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for ValidationErrors {}

/// Plaintext values, wiped from memory when dropped.
pub type PlainFields = BTreeMap<DataElement, Zeroizing<String>>;

pub(crate) struct Checked {
    pub set: PlainFields,
    pub removed: Vec<DataElement>,
}

pub(crate) fn residency(r: &Residency, errors: &mut ValidationErrors) -> Option<Residency> {
    match r.normalized() {
        Ok(r) => Some(r),
        Err(e) => {
            let field = match e {
                ResidencyError::Country => "residency.country",
                _ => "residency.subdivision",
            };
            errors.push(field, e.to_string());
            None
        }
    }
}

/// A language preference: an ISO 639-1 code, optionally with subtags
/// (`pt-BR`), kept as the code (`pt`).
pub(crate) fn language(v: &str, errors: &mut ValidationErrors) -> Option<String> {
    match bulwark_model::normalize_language(v) {
        Ok(code) => Some(code),
        Err(e) => {
            errors.push("language", e.to_string());
            None
        }
    }
}

pub(crate) fn external_id(v: &str, errors: &mut ValidationErrors) -> Option<String> {
    let v = v.trim();
    if v.is_empty() || v.len() > 256 || v.chars().any(char::is_control) {
        errors.push("external_id", "expected 1 to 256 printable characters");
        None
    } else {
        Some(v.to_owned())
    }
}

/// `allow_null` is true for PATCH, where `null` removes an element.
pub(crate) fn fields(
    raw: &BTreeMap<String, serde_json::Value>,
    today: Date,
    allow_null: bool,
    allow_security_code: bool,
    errors: &mut ValidationErrors,
) -> Checked {
    let mut set = PlainFields::new();
    let mut removed = Vec::new();
    for (code, value) in raw {
        let field = format!("fields.{}", code.chars().take(64).collect::<String>());
        let Ok(element) = code.parse::<DataElement>() else {
            errors.push(field, "unknown data element code");
            continue;
        };
        match value {
            serde_json::Value::Null if allow_null => removed.push(element),
            serde_json::Value::String(s) => {
                if element == DataElement::CardSecurityCode && !allow_security_code {
                    errors.push(
                        field,
                        "card security codes may not be stored after authorisation (PCI DSS v4.0 requirement 3.3.1); enable the store_card_security_code setting only if you are permitted to",
                    );
                    continue;
                }
                match element.normalize(s, today) {
                    Ok(v) => {
                        set.insert(element, Zeroizing::new(v));
                    }
                    Err(e) => errors.push(field, e.0),
                }
            }
            _ => errors.push(
                field,
                if allow_null {
                    "expected a string, or null to remove"
                } else {
                    "expected a string"
                },
            ),
        }
    }
    Checked { set, removed }
}

/// Describes a JSON decoding error without quoting the offending value: serde's
/// "invalid type/value" messages do, and the value may be PII. Missing and
/// unknown members are named as they are.
pub fn describe_json_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    if msg.starts_with("invalid type") || msg.starts_with("invalid value") {
        format!(
            "a value has the wrong type at line {} column {}",
            e.line(),
            e.column()
        )
    } else {
        msg
    }
}
