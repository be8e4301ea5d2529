//! What one sampled value is. Each detector looks at a bounded prefix of the
//! value ([`MAX_VALUE_CHARS`]) and does linear work; none keeps the value.

use std::sync::OnceLock;

use bulwark_model::DataElement;
use regex::Regex;
use serde::Serialize;

/// Longest value looked at, in bytes; longer values are cut (free text).
pub const MAX_VALUE_CHARS: usize = 4096;

/// The card brand of a number, by its leading digits (its BIN range).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardBrand {
    Visa,
    Mastercard,
    Amex,
    Discover,
    Jcb,
    Diners,
    UnionPay,
    Maestro,
    Other,
}

/// How a password is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HashScheme {
    Argon2,
    Bcrypt,
    Scrypt,
    /// `$6$`/`$5$` crypt (SHA-512/256, salted, iterated).
    ShaCrypt,
    /// WordPress's portable phpass (`$P$`, `$H$`): salted, iterated MD5.
    Phpass,
    /// Magento 2's `hash:salt:version` with SHA-256 (version 1).
    SaltedSha256,
    /// `$1$` md5crypt.
    Md5Crypt,
    /// Bare 32 hex digits: unsalted MD5.
    Md5,
    /// Bare 40 hex digits: unsalted SHA-1.
    Sha1,
    /// Bare 64 hex digits: unsalted SHA-256.
    Sha256,
    /// Not a hash at all: the password itself.
    Plain,
}

impl HashScheme {
    /// Whether it falls short of "strong cryptography" for stored passwords
    /// (PCI DSS 8.3.2; OWASP's password storage guidance).
    pub fn is_weak(self) -> bool {
        matches!(
            self,
            HashScheme::Md5
                | HashScheme::Sha1
                | HashScheme::Sha256
                | HashScheme::Md5Crypt
                | HashScheme::Phpass
                | HashScheme::SaltedSha256
                | HashScheme::Plain
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HashScheme::Argon2 => "argon2",
            HashScheme::Bcrypt => "bcrypt",
            HashScheme::Scrypt => "scrypt",
            HashScheme::ShaCrypt => "sha-crypt",
            HashScheme::Phpass => "phpass (md5)",
            HashScheme::SaltedSha256 => "salted sha256",
            HashScheme::Md5Crypt => "md5crypt",
            HashScheme::Md5 => "md5",
            HashScheme::Sha1 => "sha1",
            HashScheme::Sha256 => "sha256",
            HashScheme::Plain => "plain text",
        }
    }
}

/// What a value was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Hit {
    Email,
    Card {
        brand: CardBrand,
    },
    Iban,
    Phone,
    Ip,
    /// A national id in the format (and check digits, where there are any)
    /// of a country: `US` SSN, `GB` NINO, `ES` DNI.
    NationalId {
        country: &'static str,
    },
    /// A calendar date (a birth date only if the column's name says so).
    Date,
    PasswordHash {
        scheme: HashScheme,
    },
    /// 3 or 4 digits (a card security code only if the name says so).
    ShortCode,
    /// Text that mentions a street with a number.
    Street,
    /// A postcode of a country's format.
    Postcode,
}

impl Hit {
    /// The element a hit is evidence of on its own, if any.
    pub fn element(self) -> Option<DataElement> {
        Some(match self {
            Hit::Email => DataElement::Email,
            Hit::Card { .. } => DataElement::CardNumber,
            Hit::Iban => DataElement::BankAccount,
            Hit::Phone => DataElement::Phone,
            Hit::Ip => DataElement::IpAddress,
            Hit::NationalId { .. } => DataElement::NationalId,
            Hit::PasswordHash { .. } => DataElement::Password,
            Hit::Street | Hit::Postcode => DataElement::PostalAddress,
            Hit::Date | Hit::ShortCode => return None,
        })
    }
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    // The patterns are constants of this module, each exercised by its tests:
    // one that does not compile is a build mistake, never input.
    #[allow(clippy::expect_used)]
    cell.get_or_init(|| Regex::new(pattern).expect("a constant pattern of bulwark-discover"))
}

fn head(v: &str) -> &str {
    if v.len() <= MAX_VALUE_CHARS {
        return v;
    }
    let mut end = MAX_VALUE_CHARS;
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    &v[..end]
}

/// Luhn's check over ASCII digits.
pub fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut n = u32::from(d - b'0');
        if i % 2 == 1 {
            n *= 2;
            if n > 9 {
                n -= 9;
            }
        }
        sum += n;
    }
    sum.is_multiple_of(10)
}

fn brand(d: &[u8]) -> CardBrand {
    let prefix = |n: usize| -> u32 {
        d.iter()
            .take(n)
            .fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0'))
    };
    let len = d.len();
    let (p1, p2, p3, p4, p6) = (prefix(1), prefix(2), prefix(3), prefix(4), prefix(6));
    match () {
        _ if p2 == 34 || p2 == 37 => CardBrand::Amex,
        _ if (2221..=2720).contains(&p4) || (51..=55).contains(&p2) => CardBrand::Mastercard,
        _ if p4 == 6011
            || p2 == 65
            || (644..=649).contains(&p3)
            || (622126..=622925).contains(&p6) =>
        {
            CardBrand::Discover
        }
        _ if (3528..=3589).contains(&p4) => CardBrand::Jcb,
        _ if p2 == 36 || (300..=305).contains(&p3) || p2 == 38 || p2 == 39 => CardBrand::Diners,
        _ if p2 == 62 => CardBrand::UnionPay,
        _ if p2 == 50 || (56..=69).contains(&p2) => CardBrand::Maestro,
        _ if p1 == 4 => CardBrand::Visa,
        _ if len >= 12 => CardBrand::Other,
        _ => CardBrand::Other,
    }
}

/// A card number: 13 to 19 digits (spaces or dashes between groups allowed),
/// Luhn-valid, in a known brand's range.
pub fn card(v: &str) -> Option<CardBrand> {
    let v = v.trim();
    if v.len() > 23 {
        return None;
    }
    let mut digits = Vec::with_capacity(19);
    for b in v.bytes() {
        match b {
            b'0'..=b'9' => digits.push(b),
            b' ' | b'-' => {}
            _ => return None,
        }
    }
    if !(13..=19).contains(&digits.len()) || digits.iter().all(|d| *d == digits[0]) {
        return None;
    }
    if !luhn(&digits) {
        return None;
    }
    match brand(&digits) {
        CardBrand::Other => None,
        b => Some(b),
    }
}

/// Every card number inside free text (for notes and comments).
pub fn cards_in_text(v: &str) -> usize {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = re(&RE, r"\b\d(?:[ -]?\d){12,18}\b");
    re.find_iter(head(v))
        .filter(|m| card(m.as_str()).is_some())
        .count()
}

/// A card security code mentioned in free text (`cvv 123`, `CVC: 4567`).
pub fn security_code_in_text(v: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r"(?i)\b(cvv2?|cvc2?|csc|cid|security code|card code)\b\W{0,3}\d{3,4}\b",
    )
    .is_match(head(v))
}

/// IBAN: country, check digits, BBAN; the ISO 13616 mod-97 check.
pub fn iban(v: &str) -> bool {
    let compact: Vec<u8> = v.bytes().filter(|b| *b != b' ').collect();
    if !(15..=34).contains(&compact.len())
        || !compact[..2].iter().all(u8::is_ascii_uppercase)
        || !compact[2..4].iter().all(u8::is_ascii_digit)
        || !compact[4..]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        return false;
    }
    let mut rem: u32 = 0;
    for b in compact[4..].iter().chain(&compact[..4]) {
        let n = if b.is_ascii_digit() {
            u32::from(b - b'0')
        } else {
            u32::from(b - b'A') + 10
        };
        rem = if n >= 10 {
            (rem * 100 + n) % 97
        } else {
            (rem * 10 + n) % 97
        };
    }
    rem == 1
}

pub fn email(v: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    v.len() <= 254
        && re(&RE, r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
            .is_match(v.trim())
}

/// A phone number: `+` and 8–15 digits, or 9–15 digits grouped with spaces,
/// dashes, dots or a parenthesised area code.
pub fn phone(v: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let v = v.trim();
    if v.len() > 24 || !re(&RE, r"^\+?[0-9 ().-]{8,22}$").is_match(v) {
        return false;
    }
    let digits = v.bytes().filter(u8::is_ascii_digit).count();
    let grouped = v.bytes().any(|b| matches!(b, b' ' | b'-' | b'.' | b'('));
    if v.starts_with('+') {
        (8..=15).contains(&digits)
    } else {
        grouped && (9..=15).contains(&digits)
    }
}

pub fn ip(v: &str) -> bool {
    let v = v.trim();
    v.len() <= 45 && (v.contains('.') || v.contains(':')) && v.parse::<std::net::IpAddr>().is_ok()
}

/// US SSN (not 000/666/9xx, group not 00, serial not 0000), UK National
/// Insurance number, Spanish DNI (with its check letter).
pub fn national_id(v: &str) -> Option<&'static str> {
    static SSN: OnceLock<Regex> = OnceLock::new();
    static NINO: OnceLock<Regex> = OnceLock::new();
    static DNI: OnceLock<Regex> = OnceLock::new();
    let v = v.trim();
    if v.len() > 16 {
        return None;
    }
    if let Some(c) = re(&SSN, r"^(\d{3})-(\d{2})-(\d{4})$").captures(v) {
        let (a, g, s) = (&c[1], &c[2], &c[3]);
        if a != "000" && a != "666" && !a.starts_with('9') && g != "00" && s != "0000" {
            return Some("US");
        }
        return None;
    }
    let compact: String = v
        .chars()
        .filter(|c| *c != ' ')
        .collect::<String>()
        .to_ascii_uppercase();
    if re(&NINO, r"^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]$").is_match(&compact)
        && !["BG", "GB", "NK", "KN", "TN", "NT", "ZZ"].contains(&&compact[..2])
    {
        return Some("GB");
    }
    if let Some(c) = re(&DNI, r"^(\d{8})-?([A-Z])$").captures(&compact) {
        let n: u32 = c[1].parse().ok()?;
        let letters = b"TRWAGMYFPDXBNJZSQVHLCKE";
        if letters.get((n % 23) as usize).map(|l| *l as char) == c[2].chars().next() {
            return Some("ES");
        }
    }
    None
}

/// `YYYY-MM-DD` (optionally with a time), `DD/MM/YYYY`, `DD.MM.YYYY` or
/// `MM/DD/YYYY`, a real calendar day between 1900 and 2100.
pub fn date(v: &str) -> Option<time::Date> {
    static ISO: OnceLock<Regex> = OnceLock::new();
    static DMY: OnceLock<Regex> = OnceLock::new();
    let v = v.trim();
    if v.len() > 32 {
        return None;
    }
    let ymd = |y: &str, m: &str, d: &str| -> Option<time::Date> {
        let y: i32 = y.parse().ok()?;
        if !(1900..=2100).contains(&y) {
            return None;
        }
        let m = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
        time::Date::from_calendar_date(y, m, d.parse().ok()?).ok()
    };
    if let Some(c) = re(
        &ISO,
        r"^(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$",
    )
    .captures(v)
    {
        return ymd(&c[1], &c[2], &c[3]);
    }
    if let Some(c) = re(&DMY, r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$").captures(v) {
        return ymd(&c[3], &c[2], &c[1]).or_else(|| ymd(&c[3], &c[1], &c[2]));
    }
    None
}

/// The scheme of a stored password, when the value is a hash this knows.
pub fn password_hash(v: &str) -> Option<HashScheme> {
    static BCRYPT: OnceLock<Regex> = OnceLock::new();
    static MAGENTO: OnceLock<Regex> = OnceLock::new();
    let v = v.trim();
    if v.len() > 512 {
        return None;
    }
    let hex = |n: usize| v.len() == n && v.bytes().all(|b| b.is_ascii_hexdigit());
    if v.starts_with("$argon2") {
        return Some(HashScheme::Argon2);
    }
    if re(&BCRYPT, r"^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$").is_match(v) {
        return Some(HashScheme::Bcrypt);
    }
    if v.starts_with("$scrypt$") || v.starts_with("$7$") {
        return Some(HashScheme::Scrypt);
    }
    if v.starts_with("$6$") || v.starts_with("$5$") {
        return Some(HashScheme::ShaCrypt);
    }
    if (v.starts_with("$P$") || v.starts_with("$H$")) && v.len() == 34 {
        return Some(HashScheme::Phpass);
    }
    if v.starts_with("$1$") {
        return Some(HashScheme::Md5Crypt);
    }
    // Magento 2: hash:salt:version — version 0 is MD5, 1 SHA-256, 2/3 argon2.
    if let Some(c) = re(
        &MAGENTO,
        r"^([0-9a-f]{32}|[0-9a-f]{64}):([^:]{1,128}):(\d)(?:_\d+)?$",
    )
    .captures(v)
    {
        return Some(match &c[3] {
            "0" => HashScheme::Md5,
            "1" => HashScheme::SaltedSha256,
            _ => HashScheme::Argon2,
        });
    }
    if hex(32) {
        return Some(HashScheme::Md5);
    }
    if hex(40) {
        return Some(HashScheme::Sha1);
    }
    if hex(64) {
        return Some(HashScheme::Sha256);
    }
    None
}

/// A street with a house number (`12 High Street`, `Hauptstraße 5`, `rue de la Paix 3`).
pub fn street(v: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    re(
        &RE,
        r"(?i)(\b\d{1,5}[a-z]?\s+(\w+\s+){0,4}(street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl)\b)|(\b\w*(straße|strasse|str\.|weg|gasse|platz)\s*\d{1,5}\b)|(\b(rue|avenue|via|calle|rua|plaza)\s+(\w+\s+){0,5}\d{1,5}\b)|(\b\d{1,5},?\s+(rue|avenue|via|calle|rua)\b)",
    )
    .is_match(head(v))
}

/// A postcode of the US (ZIP, ZIP+4), the UK, Canada or the Netherlands.
/// (Five digits alone are a weak signal; the name must agree.)
pub fn postcode(v: &str) -> bool {
    static RE: OnceLock<Regex> = OnceLock::new();
    let v = v.trim();
    v.len() <= 10
        && re(
            &RE,
            r"(?i)^(\d{5}(-\d{4})?|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|[A-Z]\d[A-Z]\s?\d[A-Z]\d|\d{4}\s?[A-Z]{2}|\d{4})$",
        )
        .is_match(v)
}

/// Every hit of one value, most specific first.
pub fn hits(v: &str) -> Vec<Hit> {
    let v = head(v);
    let mut out = Vec::new();
    if v.trim().is_empty() {
        return out;
    }
    if let Some(brand) = card(v) {
        out.push(Hit::Card { brand });
    }
    if email(v) {
        out.push(Hit::Email);
    }
    if iban(v) {
        out.push(Hit::Iban);
    }
    if let Some(country) = national_id(v) {
        out.push(Hit::NationalId { country });
    }
    if let Some(scheme) = password_hash(v) {
        out.push(Hit::PasswordHash { scheme });
    }
    if ip(v) {
        out.push(Hit::Ip);
    }
    if date(v).is_some() {
        out.push(Hit::Date);
    }
    let t = v.trim();
    if (3..=4).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()) {
        out.push(Hit::ShortCode);
    }
    if out.is_empty() && phone(v) {
        out.push(Hit::Phone);
    }
    if out.is_empty() && postcode(v) {
        out.push(Hit::Postcode);
    }
    if street(v) {
        out.push(Hit::Street);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_by_luhn_and_brand() {
        assert_eq!(card("4111111111111111"), Some(CardBrand::Visa));
        assert_eq!(card("4111 1111 1111 1111"), Some(CardBrand::Visa));
        assert_eq!(card("5555-5555-5555-4444"), Some(CardBrand::Mastercard));
        assert_eq!(card("378282246310005"), Some(CardBrand::Amex));
        assert_eq!(card("6011111111111117"), Some(CardBrand::Discover));
        assert_eq!(card("4111111111111112"), None, "Luhn fails");
        assert_eq!(card("0000000000000000"), None);
        assert_eq!(card("1234567812345670"), None, "no brand starts with 1");
        assert_eq!(card("order 4111111111111111"), None);
        assert_eq!(cards_in_text("paid with 4111 1111 1111 1111, cvv 123"), 1);
        assert!(security_code_in_text("paid with card, CVV: 123"));
        assert!(!security_code_in_text("order 123 shipped"));
    }

    #[test]
    fn ibans_ids_and_hashes() {
        assert!(iban("GB82 WEST 1234 5698 7654 32"));
        assert!(iban("DE89370400440532013000"));
        assert!(!iban("DE89370400440532013001"));
        assert_eq!(national_id("123-45-6789"), Some("US"));
        assert_eq!(national_id("666-45-6789"), None);
        assert_eq!(national_id("AB 12 34 56 C"), Some("GB"));
        assert_eq!(national_id("12345678Z"), Some("ES"));
        assert_eq!(national_id("12345678A"), None);
        assert_eq!(
            password_hash("5f4dcc3b5aa765d61d8327deb882cf99"),
            Some(HashScheme::Md5)
        );
        assert_eq!(
            password_hash("$2y$10$abcdefghijklmnopqrstuuJ9sWvQm6O3yPz1Q5d3Gf7hK8lM2nO4q"),
            Some(HashScheme::Bcrypt)
        );
        assert_eq!(
            password_hash("$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"),
            Some(HashScheme::Argon2)
        );
        assert_eq!(
            password_hash("$P$B12345678901234567890123456789."),
            Some(HashScheme::Phpass)
        );
        let magento = format!("{}:{}:1", "a".repeat(64), "salt");
        assert_eq!(password_hash(&magento), Some(HashScheme::SaltedSha256));
        let magento_md5 = format!("{}:{}:0", "b".repeat(32), "salt");
        assert_eq!(password_hash(&magento_md5), Some(HashScheme::Md5));
        assert!(HashScheme::Md5.is_weak() && !HashScheme::Bcrypt.is_weak());
    }

    #[test]
    fn contact_details_dates_and_addresses() {
        assert!(email("ada@example.com"));
        assert!(!email("not an email"));
        assert!(phone("+44 20 7946 0958"));
        assert!(phone("(555) 010-4477"));
        assert!(!phone("12345"));
        assert!(ip("192.0.2.1") && ip("2001:db8::1") && !ip("1234"));
        assert!(date("1984-02-29").is_some());
        assert!(date("1983-02-29").is_none());
        assert!(date("29/02/1984").is_some());
        assert!(street("12 High Street, London"));
        assert!(street("Hauptstraße 5"));
        assert!(street("rue de la Paix 3"));
        assert!(!street("no address here"));
        assert!(postcode("SW1A 1AA") && postcode("94105") && postcode("1017 AB"));
    }

    #[test]
    fn long_and_hostile_values_are_bounded() {
        let big = "9".repeat(1 << 20);
        assert!(hits(&big).is_empty());
        let text = format!("{} 4111111111111111", "x ".repeat(10_000));
        // Only the first MAX_VALUE_CHARS are read.
        assert_eq!(cards_in_text(&text), 0);
        assert!(hits("\u{0}\u{202e}").is_empty());
    }
}
