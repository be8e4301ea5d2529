//! Reading an indicators file (the shipped one or a user's copy).

use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;

use super::{Indicator, IndicatorSet, MAX_SCORE};

/// Most indicators in a file.
pub const MAX_INDICATORS: usize = 256;
/// Most patterns of one indicator (`any` and `all` together).
pub const MAX_PATTERNS: usize = 32;
/// Longest pattern, in characters.
pub const MAX_PATTERN_CHARS: usize = 2048;
/// Compiled size a pattern may take (the regex crate's own bound).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Why an indicators file was refused (the whole file: no partial set).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndicatorError {
    #[error("the indicators file is not valid TOML: {0}")]
    Toml(String),
    #[error("the indicators file holds {count} indicators; at most {limit} are accepted")]
    TooMany { count: usize, limit: usize },
    #[error("indicator {index}: id {reason}")]
    BadId { index: usize, reason: &'static str },
    #[error("indicator {id}: the id is used twice")]
    DuplicateId { id: String },
    #[error("indicator {id}: weight must be 1 to {max}")]
    BadWeight { id: String, max: u32 },
    #[error("indicator {id}: give at least one pattern in `any` or `all`, at most {limit}")]
    PatternCount { id: String, limit: usize },
    #[error("indicator {id}: pattern {list}[{index}] is longer than {limit} characters")]
    PatternTooLong {
        id: String,
        list: &'static str,
        index: usize,
        limit: usize,
    },
    #[error(
        "indicator {id}: pattern {list}[{index}] is not a valid regular expression: {message}"
    )]
    BadPattern {
        id: String,
        list: &'static str,
        index: usize,
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    indicator: Vec<Raw>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    id: String,
    description: String,
    weight: u32,
    #[serde(default)]
    any: Vec<String>,
    #[serde(default)]
    all: Vec<String>,
}

impl IndicatorSet {
    /// Reads an indicators file's text (the shipped [`super::BUILTIN`] or a
    /// data directory's replacement).
    pub fn from_toml(text: &str) -> Result<IndicatorSet, IndicatorError> {
        let file: File = toml::from_str(text).map_err(|e| IndicatorError::Toml(e.to_string()))?;
        if file.indicator.len() > MAX_INDICATORS {
            return Err(IndicatorError::TooMany {
                count: file.indicator.len(),
                limit: MAX_INDICATORS,
            });
        }
        let mut indicators: Vec<Indicator> = Vec::with_capacity(file.indicator.len());
        for (index, raw) in file.indicator.into_iter().enumerate() {
            check_id(index, &raw.id)?;
            if indicators.iter().any(|i| i.id == raw.id) {
                return Err(IndicatorError::DuplicateId { id: raw.id });
            }
            if raw.weight == 0 || raw.weight > MAX_SCORE {
                return Err(IndicatorError::BadWeight {
                    id: raw.id,
                    max: MAX_SCORE,
                });
            }
            let n = raw.any.len() + raw.all.len();
            if n == 0 || n > MAX_PATTERNS {
                return Err(IndicatorError::PatternCount {
                    id: raw.id,
                    limit: MAX_PATTERNS,
                });
            }
            let any = compile_all(&raw.id, "any", &raw.any)?;
            let all = compile_all(&raw.id, "all", &raw.all)?;
            indicators.push(Indicator {
                id: raw.id,
                description: raw.description,
                weight: raw.weight,
                any,
                all,
            });
        }
        Ok(IndicatorSet { indicators })
    }
}

fn check_id(index: usize, id: &str) -> Result<(), IndicatorError> {
    let reason = if id.is_empty() || id.len() > 64 {
        Some("must be 1 to 64 characters")
    } else if !id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        Some("may hold only lower-case letters, digits and '-'")
    } else {
        None
    };
    reason.map_or(Ok(()), |reason| {
        Err(IndicatorError::BadId { index, reason })
    })
}

fn compile_all(
    id: &str,
    list: &'static str,
    patterns: &[String],
) -> Result<Vec<Regex>, IndicatorError> {
    patterns
        .iter()
        .enumerate()
        .map(|(index, p)| {
            if p.chars().count() > MAX_PATTERN_CHARS {
                return Err(IndicatorError::PatternTooLong {
                    id: id.to_owned(),
                    list,
                    index,
                    limit: MAX_PATTERN_CHARS,
                });
            }
            // ASCII semantics: script bodies are scanned as bytes, and `\b`
            // or `(?i)` need no Unicode tables there.
            RegexBuilder::new(p)
                .unicode(false)
                .size_limit(REGEX_SIZE_LIMIT)
                .dfa_size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| IndicatorError::BadPattern {
                    id: id.to_owned(),
                    list,
                    index,
                    message: e.to_string(),
                })
        })
        .collect()
}
