//! Stored data that is a violation in itself, each with the requirement it
//! breaks — a task for the compliance side, not only a line in a report.

use bulwark_model::DataElement;
use serde::Serialize;

use crate::classify::ColumnReport;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Medium,
    High,
    Critical,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// `stored-pan`, `stored-security-code`, `plaintext-password`,
    /// `weak-password-hash`, `pii-in-free-text`.
    pub code: &'static str,
    /// The requirement it breaks, with its source.
    pub requirement: &'static str,
    pub table: String,
    pub column: String,
    /// What was found, in counts (never a value).
    pub detail: String,
    /// What to do about it.
    pub remedy: &'static str,
}

/// The findings of one classified column.
pub fn of(r: &ColumnReport) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut push = |severity, code, requirement, detail: String, remedy| {
        out.push(Finding {
            severity,
            code,
            requirement,
            table: r.table.clone(),
            column: r.column.clone(),
            detail,
            remedy,
        })
    };
    let pans: usize = r.card_brands.values().sum();
    if pans > 0 || r.text_cards > 0 {
        let brands: Vec<String> = r
            .card_brands
            .iter()
            .map(|(b, n)| {
                format!(
                    "{n} {}",
                    serde_json::to_value(b)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                )
            })
            .collect();
        push(
            Severity::Critical,
            "stored-pan",
            "PCI DSS v4.0.1 3.5.1 (PAN rendered unreadable anywhere it is stored)",
            format!(
                "{} of {} sampled values are full card numbers (Luhn-valid{}){}",
                pans,
                r.sampled,
                if brands.is_empty() { String::new() } else { format!(": {}", brands.join(", ")) },
                if r.text_cards > 0 { format!("; {} more inside free text", r.text_cards) } else { String::new() }
            ),
            "delete the numbers, or keep only a token or the first six and last four digits; find and close how they got there",
        );
    }
    let codes = if r.element == Some(DataElement::CardSecurityCode) {
        r.matched
    } else {
        0
    };
    if codes > 0 || r.text_security_codes > 0 {
        push(
            Severity::Critical,
            "stored-security-code",
            "PCI DSS v4.0.1 3.3.1.2 (card verification code not retained after authorization)",
            format!(
                "{} value(s) are card security codes{}",
                codes + r.text_security_codes,
                if r.text_security_codes > 0 { " (some inside free text)" } else { "" }
            ),
            "delete them now; no card security code may be stored after authorization, even encrypted",
        );
    }
    if let Some(n) = r.hash_schemes.get(&crate::value::HashScheme::Plain) {
        push(
            Severity::Critical,
            "plaintext-password",
            "PCI DSS v4.0.1 8.3.2 (authentication factors unreadable in storage); GDPR Art. 32",
            format!(
                "{n} of {} sampled passwords are stored as they were typed",
                r.sampled
            ),
            "hash them with argon2id or bcrypt at the next sign-in and force a reset of the rest",
        );
    }
    let weak: Vec<String> = r
        .hash_schemes
        .iter()
        .filter(|(s, _)| s.is_weak() && **s != crate::value::HashScheme::Plain)
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    if !weak.is_empty() {
        push(
            Severity::High,
            "weak-password-hash",
            "PCI DSS v4.0.1 8.3.2 (strong cryptography for stored authentication factors); OWASP Password Storage",
            format!("passwords hashed with a fast or unsalted scheme: {}", weak.join(", ")),
            "re-hash with argon2id or bcrypt on the next sign-in; reset the accounts that do not sign in",
        );
    }
    if r.free_text && (r.text_emails > 0 || r.element.is_some_and(|e| e != DataElement::Name)) {
        push(
            Severity::Medium,
            "pii-in-free-text",
            "GDPR Art. 5(1)(c) and 25 (data minimisation, by design)",
            format!(
                "a free-text column holds personal data: {} e-mail address(es){}",
                r.text_emails,
                r.element
                    .map(|e| format!(", values that look like {}", e.code()))
                    .unwrap_or_default()
            ),
            "stop writing personal data into notes; clean the existing rows",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::classify::{column, Options};

    #[test]
    fn planted_violations_are_found_with_their_requirements() {
        let o = Options::default();
        let f = super::of(&column("sales_order", "cc_number", ["4111111111111111"], o));
        assert_eq!(f[0].code, "stored-pan");
        assert!(f[0].requirement.contains("3.5.1"));
        assert!(!f[0].detail.contains("4111"), "counts, never values");
        let f = super::of(&column(
            "orders",
            "customer_note",
            ["cvv 123 thanks", "ring bell"],
            o,
        ));
        assert!(f.iter().any(|x| x.code == "stored-security-code"), "{f:?}");
        let f = super::of(&column(
            "users",
            "password",
            ["5f4dcc3b5aa765d61d8327deb882cf99"],
            o,
        ));
        assert_eq!(f[0].code, "weak-password-hash");
        let f = super::of(&column("users", "password", ["hunter2"], o));
        assert_eq!(f[0].code, "plaintext-password");
        let f = super::of(&column(
            "orders",
            "comments",
            ["contact me at ada@example.com please"],
            o,
        ));
        assert!(f.iter().any(|x| x.code == "pii-in-free-text"), "{f:?}");
        assert!(super::of(&column("users", "email", ["ada@example.com"], o)).is_empty());
        let f = super::of(&column("payments", "cc_cvv", ["123", "4567"], o));
        assert!(f.iter().any(|x| x.code == "stored-security-code"), "{f:?}");
    }
}
