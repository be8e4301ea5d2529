//! Masked examples: the only form in which a sampled value leaves the
//! engine, and only when the caller asks (`discover --show-masked`). Card
//! numbers keep the first six and last four digits (what PCI DSS 3.4.1
//! allows to be displayed); everything else keeps at most its shape.

use crate::value::Hit;

/// `411111******1111`, `a***@e***.com`, `+44 ** **** **58`, or `***`.
pub fn mask(value: &str, hit: Option<Hit>) -> String {
    let v = value.trim();
    match hit {
        Some(Hit::Card { .. }) => {
            let digits: Vec<char> = v.chars().filter(char::is_ascii_digit).collect();
            if digits.len() < 13 {
                return "***".into();
            }
            let n = digits.len();
            let mut out: String = digits[..6].iter().collect();
            out.push_str(&"*".repeat(n - 10));
            out.extend(&digits[n - 4..]);
            out
        }
        Some(Hit::Email) => match v.split_once('@') {
            Some((local, domain)) => {
                let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
                let tld = domain.rsplit_once('.').map(|(_, t)| t).unwrap_or("");
                format!(
                    "{}***@{}***.{}",
                    first(local),
                    first(domain),
                    tld.chars().take(6).collect::<String>()
                )
            }
            None => "***".into(),
        },
        Some(Hit::Phone) => {
            let n = v.chars().filter(char::is_ascii_digit).count();
            let mut seen = 0;
            v.chars()
                .take(24)
                .map(|c| {
                    if c.is_ascii_digit() {
                        seen += 1;
                        if seen <= 2 || seen > n.saturating_sub(2) {
                            c
                        } else {
                            '*'
                        }
                    } else {
                        c
                    }
                })
                .collect()
        }
        Some(Hit::PasswordHash { scheme }) => format!("<{} hash>", scheme.as_str()),
        _ => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{CardBrand, HashScheme};

    #[test]
    fn masks_keep_only_what_may_be_shown() {
        assert_eq!(
            mask(
                "4111 1111 1111 1111",
                Some(Hit::Card {
                    brand: CardBrand::Visa
                })
            ),
            "411111******1111"
        );
        assert_eq!(
            mask("ada.lovelace@example.com", Some(Hit::Email)),
            "a***@e***.com"
        );
        assert_eq!(
            mask("+44 20 7946 0958", Some(Hit::Phone)),
            "+44 ** **** **58"
        );
        assert_eq!(
            mask(
                "5f4dcc3b5aa765d61d8327deb882cf99",
                Some(Hit::PasswordHash {
                    scheme: HashScheme::Md5
                })
            ),
            "<md5 hash>"
        );
        assert_eq!(
            mask("123-45-6789", Some(Hit::NationalId { country: "US" })),
            "***"
        );
        assert_eq!(mask("Ada", None), "***");
    }
}
