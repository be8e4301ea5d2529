//! ISO 3166 country and subdivision codes, from the embedded Debian iso-codes list.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

const ISO3166: &str = include_str!("../data/iso3166.tsv");

fn table() -> &'static HashMap<&'static str, &'static str> {
    // A constant table parsed once; not mutable global state.
    static TABLE: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| {
        ISO3166
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .collect()
    })
}

/// True for an assigned ISO 3166-1 alpha-2 code (upper case).
pub fn is_country(code: &str) -> bool {
    code.len() == 2 && table().contains_key(code)
}

/// True for an ISO 3166-2 subdivision code such as `US-CA`.
pub fn is_subdivision(code: &str) -> bool {
    code.len() > 3 && code.as_bytes().get(2) == Some(&b'-') && table().contains_key(code)
}

/// Every country and subdivision code with its name (iso-codes' spelling:
/// English for countries, the local name for many subdivisions).
pub fn iso3166() -> impl Iterator<Item = (&'static str, &'static str)> {
    table().iter().map(|(k, v)| (*k, *v))
}

/// The English short name of a country or subdivision code.
pub fn country_name(code: &str) -> Option<&'static str> {
    table().get(code).copied()
}

/// The European Economic Area: the 27 EU member states plus Iceland,
/// Liechtenstein and Norway, where the GDPR applies through the EEA Agreement.
/// The `EU` bloc code stands for these (the law catalogue's `laws/EU.toml`
/// lists the same codes; a test checks).
pub const EEA_COUNTRIES: [&str; 30] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IS",
    "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// The countries a bloc code stands for: `EU` is the EEA (see [`EEA_COUNTRIES`]).
pub fn bloc_members(code: &str) -> Option<&'static [&'static str]> {
    match code {
        "EU" => Some(&EEA_COUNTRIES),
        _ => None,
    }
}

/// Where a customer lives: the input to which breach laws apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Residency {
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// ISO 3166-2 subdivision code (`US-CA`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subdivision: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResidencyError {
    #[error("residency.country is not an ISO 3166-1 alpha-2 code")]
    Country,
    #[error("residency.subdivision is not an ISO 3166-2 code")]
    Subdivision,
    #[error("residency.subdivision does not belong to residency.country")]
    Mismatch,
}

impl Residency {
    /// Validates and upper-cases the codes.
    pub fn normalized(&self) -> Result<Residency, ResidencyError> {
        let country = self.country.trim().to_ascii_uppercase();
        if !is_country(&country) {
            return Err(ResidencyError::Country);
        }
        let subdivision = match &self.subdivision {
            None => None,
            Some(s) => {
                let s = s.trim().to_ascii_uppercase();
                if !is_subdivision(&s) {
                    return Err(ResidencyError::Subdivision);
                }
                if !s.starts_with(&format!("{country}-")) {
                    return Err(ResidencyError::Mismatch);
                }
                Some(s)
            }
        };
        Ok(Residency {
            country,
            subdivision,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(c: &str, s: Option<&str>) -> Residency {
        Residency {
            country: c.into(),
            subdivision: s.map(Into::into),
        }
    }

    #[test]
    fn validates_codes() {
        assert_eq!(
            r("us", Some("us-ca")).normalized().unwrap(),
            r("US", Some("US-CA"))
        );
        assert_eq!(r("CA", Some("CA-QC")).normalized().unwrap().country, "CA");
        assert_eq!(r("XX", None).normalized(), Err(ResidencyError::Country));
        assert_eq!(
            r("US", Some("US-ZZ")).normalized(),
            Err(ResidencyError::Subdivision)
        );
        assert_eq!(
            r("US", Some("CA-QC")).normalized(),
            Err(ResidencyError::Mismatch)
        );
        assert_eq!(country_name("DE"), Some("Germany"));
    }

    #[test]
    fn the_eea_is_the_eu_plus_iceland_liechtenstein_and_norway() {
        assert!(EEA_COUNTRIES.iter().all(|c| is_country(c)));
        assert!(
            EEA_COUNTRIES.windows(2).all(|w| w[0] < w[1]),
            "sorted, no repeats"
        );
        for c in ["IS", "LI", "NO", "DE", "FR"] {
            assert!(bloc_members("EU").unwrap().contains(&c), "{c}");
        }
        assert!(!EEA_COUNTRIES.contains(&"GB") && !EEA_COUNTRIES.contains(&"CH"));
        assert_eq!(bloc_members("DE"), None);
    }
}
