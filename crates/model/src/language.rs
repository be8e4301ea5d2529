//! Language codes: ISO 639-1, the two-letter codes (from the Debian
//! iso-codes list, like the country codes).

/// Every ISO 639-1 code, sorted.
const ISO639_1: [&str; 184] = [
    "aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bh",
    "bi", "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da",
    "de", "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr",
    "fy", "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz",
    "ia", "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj",
    "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln",
    "lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb",
    "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi",
    "pl", "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk",
    "sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti",
    "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo",
    "wa", "wo", "xh", "yi", "yo", "za", "zh", "zu",
];

/// The longest tag accepted (BCP 47 recommends supporting at least 35 characters).
pub const LANGUAGE_TAG_MAX: usize = 35;

/// The shape of an accepted tag: an ISO 639-1 code, optionally followed by
/// subtags (`pt-BR`, `es-419`, `zh-Hant-TW`, `pt_BR`). For API schemas.
pub const LANGUAGE_TAG_PATTERN: &str = "^[A-Za-z]{2}([-_][A-Za-z0-9]{1,8})*$";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("language is not an ISO 639-1 code (two letters, optionally with a region such as pt-BR)")]
pub struct LanguageError;

/// True for an assigned ISO 639-1 code in lower case (`es`).
pub fn is_language(code: &str) -> bool {
    ISO639_1.binary_search(&code).is_ok()
}

/// The ISO 639-1 code of a language tag, in lower case: `pt-BR` and `PT`
/// are `pt`. Anything else (an unknown code, a three-letter code, spaces) is
/// refused rather than guessed at.
pub fn normalize_language(tag: &str) -> Result<String, LanguageError> {
    if tag.len() > LANGUAGE_TAG_MAX {
        return Err(LanguageError);
    }
    let mut parts = tag.split(['-', '_']);
    let primary = parts.next().unwrap_or_default();
    let subtags_ok =
        parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if primary.len() != 2 || !primary.bytes().all(|b| b.is_ascii_alphabetic()) || !subtags_ok {
        return Err(LanguageError);
    }
    let code = primary.to_ascii_lowercase();
    if is_language(&code) {
        Ok(code)
    } else {
        Err(LanguageError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_sorted_and_complete() {
        assert!(ISO639_1.windows(2).all(|w| w[0] < w[1]));
        for c in ["en", "es", "ja", "pl", "sv", "fi", "zh"] {
            assert!(is_language(c), "{c}");
        }
        assert!(!is_language("xx") && !is_language("EN"));
    }

    #[test]
    fn tags_normalise_to_their_language() {
        for (tag, code) in [
            ("es", "es"),
            ("pt-BR", "pt"),
            ("PT_br", "pt"),
            ("es-419", "es"),
            ("zh-Hant-TW", "zh"),
            ("JA", "ja"),
        ] {
            assert_eq!(normalize_language(tag).as_deref(), Ok(code), "{tag}");
        }
        for bad in [
            "",
            "e",
            "eng",
            "xx",
            " es",
            "es ",
            "es-",
            "es--MX",
            "es-toolongsubtag",
            "ñe",
            "12",
            &"a".repeat(40),
        ] {
            assert_eq!(normalize_language(bad), Err(LanguageError), "{bad:?}");
        }
    }
}
