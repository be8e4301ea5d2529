//! Where a customer lives, from what a shop database keeps: a country column
//! (`US`, `USA`, `United States`), a region column (`CA`, `California`,
//! `US-CA`), or — a weaker signal, used only when nothing else says — the
//! international prefix of a phone number.

use std::collections::HashMap;

use bulwark_model::{is_country, is_subdivision, Residency};

/// Names that shops write for countries and that ISO 3166 spells otherwise.
const COUNTRY_ALIASES: &[(&str, &str)] = &[
    ("usa", "US"),
    ("u.s.", "US"),
    ("u.s.a.", "US"),
    ("united states of america", "US"),
    ("america", "US"),
    ("uk", "GB"),
    ("u.k.", "GB"),
    ("great britain", "GB"),
    ("england", "GB"),
    ("scotland", "GB"),
    ("wales", "GB"),
    ("northern ireland", "GB"),
    ("deutschland", "DE"),
    ("españa", "ES"),
    ("espana", "ES"),
    ("france", "FR"),
    ("italia", "IT"),
    ("nederland", "NL"),
    ("holland", "NL"),
    ("the netherlands", "NL"),
    ("österreich", "AT"),
    ("osterreich", "AT"),
    ("schweiz", "CH"),
    ("suisse", "CH"),
    ("belgique", "BE"),
    ("belgië", "BE"),
    ("polska", "PL"),
    ("sverige", "SE"),
    ("danmark", "DK"),
    ("norge", "NO"),
    ("suomi", "FI"),
    ("éire", "IE"),
    ("brasil", "BR"),
    ("méxico", "MX"),
    ("south korea", "KR"),
    ("korea", "KR"),
    ("russia", "RU"),
    ("vietnam", "VN"),
    ("czech republic", "CZ"),
    ("czechia", "CZ"),
];

/// ISO 3166-1 alpha-3 codes of the countries shops most often sell to.
const ALPHA3: &[(&str, &str)] = &[
    ("USA", "US"),
    ("CAN", "CA"),
    ("GBR", "GB"),
    ("DEU", "DE"),
    ("FRA", "FR"),
    ("ESP", "ES"),
    ("ITA", "IT"),
    ("NLD", "NL"),
    ("BEL", "BE"),
    ("AUT", "AT"),
    ("CHE", "CH"),
    ("IRL", "IE"),
    ("PRT", "PT"),
    ("POL", "PL"),
    ("SWE", "SE"),
    ("DNK", "DK"),
    ("NOR", "NO"),
    ("FIN", "FI"),
    ("AUS", "AU"),
    ("NZL", "NZ"),
    ("JPN", "JP"),
    ("BRA", "BR"),
    ("MEX", "MX"),
    ("IND", "IN"),
    ("CHN", "CN"),
    ("ZAF", "ZA"),
    ("SGP", "SG"),
];

/// International calling codes that name one country (+1 is shared by the
/// US, Canada and the Caribbean, so it names none), longest first.
const CALLING_CODES: &[(&str, &str)] = &[
    ("353", "IE"),
    ("351", "PT"),
    ("358", "FI"),
    ("420", "CZ"),
    ("421", "SK"),
    ("380", "UA"),
    ("352", "LU"),
    ("354", "IS"),
    ("356", "MT"),
    ("357", "CY"),
    ("359", "BG"),
    ("370", "LT"),
    ("371", "LV"),
    ("372", "EE"),
    ("385", "HR"),
    ("386", "SI"),
    ("972", "IL"),
    ("971", "AE"),
    ("852", "HK"),
    ("886", "TW"),
    ("30", "GR"),
    ("31", "NL"),
    ("32", "BE"),
    ("33", "FR"),
    ("34", "ES"),
    ("36", "HU"),
    ("39", "IT"),
    ("40", "RO"),
    ("41", "CH"),
    ("43", "AT"),
    ("44", "GB"),
    ("45", "DK"),
    ("46", "SE"),
    ("47", "NO"),
    ("48", "PL"),
    ("49", "DE"),
    ("52", "MX"),
    ("54", "AR"),
    ("55", "BR"),
    ("56", "CL"),
    ("57", "CO"),
    ("61", "AU"),
    ("64", "NZ"),
    ("65", "SG"),
    ("81", "JP"),
    ("82", "KR"),
    ("86", "CN"),
    ("91", "IN"),
    ("27", "ZA"),
    ("7", "RU"),
];

/// Country and subdivision names, lower-cased, to their codes. Built once
/// per discovery by the caller and passed in: the engine keeps no globals.
pub struct Names {
    countries: HashMap<String, &'static str>,
    /// `(country, lower-cased name or short code)` → subdivision code.
    regions: HashMap<(String, String), &'static str>,
}

impl Names {
    pub fn new() -> Names {
        let mut countries = HashMap::new();
        let mut regions = HashMap::new();
        for (code, name) in bulwark_model::iso3166() {
            if code.len() == 2 {
                countries.insert(name.to_lowercase(), code);
            } else if let Some((country, short)) = code.split_once('-') {
                regions.insert((country.to_owned(), name.to_lowercase()), code);
                regions.insert((country.to_owned(), short.to_lowercase()), code);
            }
        }
        for (alias, code) in COUNTRY_ALIASES {
            countries.insert((*alias).to_owned(), *code);
        }
        Names { countries, regions }
    }

    /// The ISO 3166-1 alpha-2 code a country value stands for.
    pub fn country(&self, v: &str) -> Option<String> {
        let t = v.trim();
        if t.is_empty() || t.len() > 60 {
            return None;
        }
        let upper = t.to_ascii_uppercase();
        if upper.len() == 2 && is_country(&upper) {
            return Some(upper);
        }
        if let Some((_, c)) = ALPHA3.iter().find(|(a3, _)| *a3 == upper) {
            return Some((*c).to_owned());
        }
        self.countries
            .get(&t.to_lowercase())
            .map(|c| (*c).to_owned())
    }

    /// The ISO 3166-2 code of a region value within `country`.
    pub fn region(&self, country: &str, v: &str) -> Option<String> {
        let t = v.trim();
        if t.is_empty() || t.len() > 60 {
            return None;
        }
        let upper = t.to_ascii_uppercase();
        if is_subdivision(&upper) {
            return upper.starts_with(&format!("{country}-")).then_some(upper);
        }
        self.regions
            .get(&(country.to_owned(), t.to_lowercase()))
            .map(|c| (*c).to_owned())
    }

    /// A residency from a country value and, if any, a region value.
    pub fn residency(&self, country: &str, region: Option<&str>) -> Option<Residency> {
        let country = self.country(country)?;
        let subdivision = region.and_then(|r| self.region(&country, r));
        Some(Residency {
            country,
            subdivision,
        })
    }
}

impl Default for Names {
    fn default() -> Self {
        Names::new()
    }
}

/// The country an international phone number (`+49 …`, `0049 …`) names.
pub fn phone_country(v: &str) -> Option<&'static str> {
    let t = v.trim();
    let rest = t.strip_prefix('+').or_else(|| t.strip_prefix("00"))?;
    let digits: String = rest
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .take(4)
        .collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    CALLING_CODES
        .iter()
        .filter(|(p, _)| digits.starts_with(p))
        .max_by_key(|(p, _)| p.len())
        .map(|(_, c)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_as_shops_write_them() {
        let n = Names::new();
        for v in [
            "US",
            "us",
            "USA",
            "United States",
            "united states of america",
        ] {
            assert_eq!(n.country(v).as_deref(), Some("US"), "{v}");
        }
        assert_eq!(n.country("Deutschland").as_deref(), Some("DE"));
        assert_eq!(n.country("Germany").as_deref(), Some("DE"));
        assert_eq!(n.country("GBR").as_deref(), Some("GB"));
        assert_eq!(n.country("Atlantis"), None);
        assert_eq!(n.country(""), None);
        assert_eq!(n.country("ZZ"), None);
    }

    #[test]
    fn regions_by_code_and_name() {
        let n = Names::new();
        assert_eq!(n.region("US", "CA").as_deref(), Some("US-CA"));
        assert_eq!(n.region("US", "California").as_deref(), Some("US-CA"));
        assert_eq!(n.region("US", "us-ny").as_deref(), Some("US-NY"));
        assert_eq!(n.region("CA", "QC").as_deref(), Some("CA-QC"));
        assert_eq!(n.region("CA", "Quebec").as_deref(), Some("CA-QC"));
        assert_eq!(n.region("DE", "Bayern").as_deref(), Some("DE-BY"));
        // A code of another country is not this country's region.
        assert_eq!(n.region("US", "CA-QC"), None);
        assert_eq!(n.region("US", "Nowhere"), None);
        let r = n.residency("United States", Some("Texas")).unwrap();
        assert_eq!(
            (r.country.as_str(), r.subdivision.as_deref()),
            ("US", Some("US-TX"))
        );
    }

    #[test]
    fn phone_prefixes_name_a_country_only_when_unambiguous() {
        assert_eq!(phone_country("+49 30 1234567"), Some("DE"));
        assert_eq!(phone_country("0044 20 7946 0000"), Some("GB"));
        assert_eq!(phone_country("+353 1 234 5678"), Some("IE"));
        assert_eq!(phone_country("+1 415 555 0100"), None);
        assert_eq!(phone_country("030 1234567"), None);
        assert_eq!(phone_country("+"), None);
    }
}
