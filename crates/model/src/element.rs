//! The closed set of personal-data elements and the validation of their values.
//!
//! Validation errors describe what was expected and never echo the value:
//! they end up in HTTP problem documents and logs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::Date;

/// A kind of personal data. The codes are shared by the vault, scopes and the law catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DataElement {
    Name,
    Email,
    Phone,
    PostalAddress,
    DateOfBirth,
    Username,
    Password,
    SecurityQa,
    CardNumber,
    CardExpiry,
    CardSecurityCode,
    BankAccount,
    NationalId,
    DriversLicense,
    Passport,
    TaxId,
    Health,
    Biometric,
    PurchaseHistory,
    IpAddress,
    Geolocation,
}

/// Why a value was refused for an element. Never contains the value itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, ValueError> {
    Err(ValueError(msg.into()))
}

impl DataElement {
    pub const ALL: [DataElement; 21] = [
        DataElement::Name,
        DataElement::Email,
        DataElement::Phone,
        DataElement::PostalAddress,
        DataElement::DateOfBirth,
        DataElement::Username,
        DataElement::Password,
        DataElement::SecurityQa,
        DataElement::CardNumber,
        DataElement::CardExpiry,
        DataElement::CardSecurityCode,
        DataElement::BankAccount,
        DataElement::NationalId,
        DataElement::DriversLicense,
        DataElement::Passport,
        DataElement::TaxId,
        DataElement::Health,
        DataElement::Biometric,
        DataElement::PurchaseHistory,
        DataElement::IpAddress,
        DataElement::Geolocation,
    ];

    /// Payment-card data: PCI DSS and the card brands' rules apply when any
    /// of these is involved.
    pub const CARD: [DataElement; 3] = [
        DataElement::CardNumber,
        DataElement::CardExpiry,
        DataElement::CardSecurityCode,
    ];

    /// True for the elements of [`DataElement::CARD`].
    pub fn is_card(self) -> bool {
        DataElement::CARD.contains(&self)
    }

    pub fn code(self) -> &'static str {
        match self {
            DataElement::Name => "name",
            DataElement::Email => "email",
            DataElement::Phone => "phone",
            DataElement::PostalAddress => "postal_address",
            DataElement::DateOfBirth => "date_of_birth",
            DataElement::Username => "username",
            DataElement::Password => "password",
            DataElement::SecurityQa => "security_qa",
            DataElement::CardNumber => "card_number",
            DataElement::CardExpiry => "card_expiry",
            DataElement::CardSecurityCode => "card_security_code",
            DataElement::BankAccount => "bank_account",
            DataElement::NationalId => "national_id",
            DataElement::DriversLicense => "drivers_license",
            DataElement::Passport => "passport",
            DataElement::TaxId => "tax_id",
            DataElement::Health => "health",
            DataElement::Biometric => "biometric",
            DataElement::PurchaseHistory => "purchase_history",
            DataElement::IpAddress => "ip_address",
            DataElement::Geolocation => "geolocation",
        }
    }

    /// Elements the vault keeps a keyed blind index for (exact-match lookup).
    pub fn is_indexed(self) -> bool {
        matches!(self, DataElement::Email | DataElement::Phone)
    }

    /// Checks a value for this element and returns its canonical form.
    ///
    /// `today` bounds dates of birth; it is passed in because this crate has no clock.
    pub fn normalize(self, value: &str, today: Date) -> Result<String, ValueError> {
        if value.len() > self.max_len() {
            return err(format!("longer than {} bytes", self.max_len()));
        }
        match self {
            DataElement::Email => normalize_email(value),
            DataElement::Phone => normalize_phone(value),
            DataElement::DateOfBirth => normalize_dob(value, today),
            DataElement::CardNumber => normalize_card_number(value),
            DataElement::CardExpiry => normalize_card_expiry(value),
            DataElement::CardSecurityCode => {
                let v = value.trim();
                if (3..=4).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit()) {
                    Ok(v.to_owned())
                } else {
                    err("expected 3 or 4 digits")
                }
            }
            DataElement::BankAccount => normalize_bank_account(value),
            DataElement::NationalId
            | DataElement::DriversLicense
            | DataElement::Passport
            | DataElement::TaxId => normalize_identifier(value),
            DataElement::IpAddress => value
                .trim()
                .parse::<std::net::IpAddr>()
                .map(|ip| ip.to_string())
                .or_else(|_| err("expected an IPv4 or IPv6 address")),
            DataElement::Geolocation => normalize_geolocation(value),
            DataElement::Password => {
                if value.is_empty() {
                    err("must not be empty")
                } else {
                    Ok(value.to_owned())
                }
            }
            DataElement::Name
            | DataElement::PostalAddress
            | DataElement::Username
            | DataElement::SecurityQa
            | DataElement::Health
            | DataElement::Biometric
            | DataElement::PurchaseHistory => normalize_text(value, self.allows_newlines()),
        }
    }

    fn max_len(self) -> usize {
        match self {
            DataElement::Health | DataElement::Biometric | DataElement::PurchaseHistory => 1 << 20,
            DataElement::PostalAddress | DataElement::SecurityQa | DataElement::Password => 4096,
            _ => 512,
        }
    }

    fn allows_newlines(self) -> bool {
        !matches!(self, DataElement::Name | DataElement::Username)
    }
}

impl fmt::Display for DataElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An unknown element code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown data element `{0}`")]
pub struct UnknownElement(pub String);

impl FromStr for DataElement {
    type Err = UnknownElement;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DataElement::ALL
            .into_iter()
            .find(|e| e.code() == s)
            .ok_or_else(|| UnknownElement(s.chars().take(64).collect()))
    }
}

fn normalize_text(value: &str, newlines: bool) -> Result<String, ValueError> {
    let v = value.trim();
    if v.is_empty() {
        return err("must not be empty");
    }
    let bad = v
        .chars()
        .any(|c| c.is_control() && !(newlines && (c == '\n' || c == '\r' || c == '\t')));
    if bad {
        return err("contains control characters");
    }
    Ok(v.to_owned())
}

fn normalize_email(value: &str) -> Result<String, ValueError> {
    let v = value.trim();
    let Some((local, domain)) = v.rsplit_once('@') else {
        return err("expected an address like name@example.com");
    };
    let ok_local = !local.is_empty()
        && local.len() <= 64
        && !local.chars().any(|c| c.is_whitespace() || c.is_control());
    let ok_domain = domain.len() >= 3
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
    if !ok_local || !ok_domain || v.len() > 254 {
        return err("expected an address like name@example.com");
    }
    // The domain is case-insensitive; the local part formally is not, but every
    // mail provider a store meets treats it so, and lookups must match.
    Ok(v.to_lowercase())
}

fn normalize_phone(value: &str) -> Result<String, ValueError> {
    let v = value.trim();
    let mut out = String::with_capacity(16);
    for (i, c) in v.chars().enumerate() {
        match c {
            '+' if i == 0 => out.push('+'),
            '0'..='9' => out.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return err("expected an E.164 number like +14155550123"),
        }
    }
    let digits = out.trim_start_matches('+').len();
    if !out.starts_with('+') || !(8..=15).contains(&digits) || out[1..].starts_with('0') {
        return err("expected an E.164 number like +14155550123 (country code required)");
    }
    Ok(out)
}

/// A calendar date written as `YYYY-MM-DD` (law files, duties, CLI flags).
pub fn parse_date(v: &str) -> Option<Date> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(v, fmt).ok()
}

fn normalize_dob(value: &str, today: Date) -> Result<String, ValueError> {
    let v = value.trim();
    let Some(d) = parse_date(v) else {
        return err("expected a date as YYYY-MM-DD");
    };
    if d.year() < 1880 || d > today {
        return err("date of birth out of range");
    }
    Ok(v.to_owned())
}

/// The Luhn checksum that every payment card number carries.
pub(crate) fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if !i.is_multiple_of(2) {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn normalize_card_number(value: &str) -> Result<String, ValueError> {
    let mut digits = Vec::with_capacity(19);
    for c in value.trim().chars() {
        match c {
            '0'..='9' => digits.push(c as u8 - b'0'),
            ' ' | '-' => {}
            _ => return err("expected 12 to 19 digits"),
        }
    }
    if !(12..=19).contains(&digits.len()) {
        return err("expected 12 to 19 digits");
    }
    if !luhn_valid(&digits) {
        return err("fails the Luhn check digit");
    }
    Ok(digits.iter().map(|d| char::from(b'0' + d)).collect())
}

fn normalize_card_expiry(value: &str) -> Result<String, ValueError> {
    let v = value.trim();
    let parsed = if let Some((m, y)) = v.split_once('/') {
        let y = match y.len() {
            2 => y.parse::<u16>().ok().map(|y| 2000 + y),
            4 => y.parse::<u16>().ok(),
            _ => None,
        };
        m.parse::<u8>().ok().zip(y)
    } else if let Some((y, m)) = v.split_once('-') {
        (y.len() == 4)
            .then(|| m.parse::<u8>().ok().zip(y.parse::<u16>().ok()))
            .flatten()
    } else {
        None
    };
    match parsed {
        Some((m, y)) if (1..=12).contains(&m) && (2000..=2099).contains(&y) => {
            Ok(format!("{y:04}-{m:02}"))
        }
        _ => err("expected MM/YY, MM/YYYY or YYYY-MM"),
    }
}

fn normalize_bank_account(value: &str) -> Result<String, ValueError> {
    let v: String = value
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    if !(4..=34).contains(&v.len()) || !v.chars().all(|c| c.is_ascii_alphanumeric()) {
        return err("expected an IBAN or an account number of 4 to 34 letters and digits");
    }
    let b = v.as_bytes();
    let looks_iban = b.len() >= 15 && b[..2].iter().all(u8::is_ascii_alphabetic);
    if looks_iban && b[2..4].iter().all(u8::is_ascii_digit) && !iban_valid(&v) {
        return err("IBAN check digits do not match");
    }
    Ok(v)
}

/// ISO 13616 mod-97 check.
fn iban_valid(iban: &str) -> bool {
    let rotated = iban[4..].chars().chain(iban[..4].chars());
    let mut rem: u32 = 0;
    for c in rotated {
        let n = match c.to_digit(36) {
            Some(n) => n,
            None => return false,
        };
        rem = if n >= 10 {
            (rem * 100 + n) % 97
        } else {
            (rem * 10 + n) % 97
        };
    }
    rem == 1
}

fn normalize_identifier(value: &str) -> Result<String, ValueError> {
    let v = value.trim();
    let ok = (2..=64).contains(&v.len())
        && v.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | ' ' | '.' | '/'));
    if !ok {
        return err("expected 2 to 64 letters, digits, spaces, dots, slashes or dashes");
    }
    Ok(v.to_owned())
}

fn normalize_geolocation(value: &str) -> Result<String, ValueError> {
    let parsed = value.split_once(',').and_then(|(a, b)| {
        let lat = a.trim().parse::<f64>().ok()?;
        let lon = b.trim().parse::<f64>().ok()?;
        ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lat, lon))
    });
    match parsed {
        Some((lat, lon)) => Ok(format!("{lat},{lon}")),
        None => err("expected \"latitude,longitude\" in decimal degrees"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::from_calendar_date(2026, time::Month::November, 23).unwrap()
    }

    #[test]
    fn codes_round_trip() {
        for e in DataElement::ALL {
            assert_eq!(e.code().parse::<DataElement>().unwrap(), e);
            let json = format!("\"{}\"", e.code());
            assert_eq!(
                serde_json::from_str::<DataElement>(&json).ok(),
                Some(e),
                "serde code for {e}"
            );
        }
        assert!("ssn".parse::<DataElement>().is_err());
    }

    #[test]
    fn card_elements_are_the_three_card_codes() {
        let card: Vec<&str> = DataElement::ALL
            .iter()
            .filter(|e| e.is_card())
            .map(|e| e.code())
            .collect();
        assert_eq!(card, ["card_number", "card_expiry", "card_security_code"]);
        assert_eq!(card.len(), DataElement::CARD.len());
    }

    #[test]
    fn card_numbers_need_luhn() {
        let n = |v| DataElement::CardNumber.normalize(v, today());
        assert_eq!(n("4111 1111 1111 1111").unwrap(), "4111111111111111");
        assert!(n("4111 1111 1111 1112").is_err());
        assert!(n("4111").is_err());
        assert!(n("4111x111111111111").is_err());
    }

    #[test]
    fn emails_and_phones_normalize_for_lookup() {
        let t = today();
        assert_eq!(
            DataElement::Email
                .normalize(" Ada@Example.COM ", t)
                .unwrap(),
            "ada@example.com"
        );
        assert!(DataElement::Email.normalize("ada.example.com", t).is_err());
        assert!(DataElement::Email.normalize("ada@localhost", t).is_err());
        assert_eq!(
            DataElement::Phone
                .normalize("+1 (415) 555-0123", t)
                .unwrap(),
            "+14155550123"
        );
        assert!(DataElement::Phone.normalize("415 555 0123", t).is_err());
    }

    #[test]
    fn dates_expiry_ids_and_accounts() {
        let t = today();
        assert!(DataElement::DateOfBirth.normalize("1990-02-30", t).is_err());
        assert!(DataElement::DateOfBirth.normalize("2030-01-01", t).is_err());
        assert_eq!(
            DataElement::DateOfBirth.normalize("1990-02-28", t).unwrap(),
            "1990-02-28"
        );
        assert_eq!(
            DataElement::CardExpiry.normalize("07/29", t).unwrap(),
            "2029-07"
        );
        assert!(DataElement::CardExpiry.normalize("13/29", t).is_err());
        assert_eq!(
            DataElement::BankAccount
                .normalize("GB82 WEST 1234 5698 7654 32", t)
                .unwrap(),
            "GB82WEST12345698765432"
        );
        assert!(DataElement::BankAccount
            .normalize("GB82 WEST 1234 5698 7654 33", t)
            .is_err());
        assert!(DataElement::IpAddress.normalize("10.0.0.300", t).is_err());
        assert!(DataElement::Geolocation.normalize("91,0", t).is_err());
        assert!(DataElement::Name.normalize("a\u{0}b", t).is_err());
    }

    #[test]
    fn errors_never_echo_the_value() {
        let secret = "4111-1111-1111-1112-canary";
        let e = DataElement::CardNumber
            .normalize(secret, today())
            .unwrap_err();
        assert!(!e.0.contains("canary") && !e.0.contains("4111"));
    }
}
