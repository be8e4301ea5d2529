//! Static skimmer indicators over a script body (issue 14, item 5), as data:
//! `pagewatch/indicators.toml` is embedded as the default ([`IndicatorSet::builtin`])
//! and a data directory's copy replaces it ([`IndicatorSet::from_toml`], given
//! the file's text). The work is bounded: at most [`MAX_SCAN_BYTES`] of a body
//! are scanned, by the `regex` crate's linear-time engines, with a bounded
//! number and size of patterns; what is reported is the indicator and a short
//! cleaned excerpt, never the script.

mod event;
mod load;

pub use load::{IndicatorError, MAX_INDICATORS, MAX_PATTERNS, MAX_PATTERN_CHARS};

use regex::bytes::Regex;
use serde::{Deserialize, Serialize};

use crate::text::clean_bytes;

/// The file shipped as the default.
pub const BUILTIN: &str = include_str!("../../../../pagewatch/indicators.toml");
/// Most bytes of a body scanned; the rest is not looked at (and `truncated` says so).
pub const MAX_SCAN_BYTES: usize = 2 * 1024 * 1024;
/// Longest excerpt of one match, in characters.
pub const MAX_EXCERPT_CHARS: usize = 80;
/// Scores are capped here.
pub const MAX_SCORE: u32 = 100;
/// From this score on a script looks like a skimmer (`Report::is_high`).
pub const HIGH_SCORE: u32 = 50;

/// One compiled indicator.
#[derive(Debug, Clone)]
pub struct Indicator {
    pub id: String,
    pub description: String,
    pub weight: u32,
    any: Vec<Regex>,
    all: Vec<Regex>,
}

/// The indicators in force.
#[derive(Debug, Clone)]
pub struct IndicatorSet {
    indicators: Vec<Indicator>,
}

/// One indicator that matched, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Match {
    pub id: String,
    pub description: String,
    pub weight: u32,
    /// Which of its patterns matched (`any[2]`, `all[0..3]`).
    pub reason: String,
    /// The matched text of each pattern, cut to [`MAX_EXCERPT_CHARS`] and cleaned.
    pub excerpts: Vec<String>,
}

/// A script's score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Sum of the matched weights, at most [`MAX_SCORE`].
    pub score: u32,
    pub matches: Vec<Match>,
    /// Bytes scanned.
    pub scanned: usize,
    /// The body was longer than [`MAX_SCAN_BYTES`].
    pub truncated: bool,
}

impl Report {
    pub fn is_high(&self) -> bool {
        self.score >= HIGH_SCORE
    }

    /// The ids of the matched indicators, in file order.
    pub fn ids(&self) -> Vec<&str> {
        self.matches.iter().map(|m| m.id.as_str()).collect()
    }
}

impl IndicatorSet {
    /// The shipped indicators.
    pub fn builtin() -> Result<IndicatorSet, IndicatorError> {
        IndicatorSet::from_toml(BUILTIN)
    }

    pub fn indicators(&self) -> &[Indicator] {
        &self.indicators
    }

    /// Scores a script body.
    pub fn scan(&self, body: &[u8]) -> Report {
        let scanned = body.len().min(MAX_SCAN_BYTES);
        let hay = &body[..scanned];
        let mut matches = Vec::new();
        for ind in &self.indicators {
            if let Some(m) = ind.matches(hay) {
                matches.push(m);
            }
        }
        let total: u32 = matches.iter().map(|m| m.weight).sum();
        Report {
            score: total.min(MAX_SCORE),
            matches,
            scanned,
            truncated: body.len() > scanned,
        }
    }
}

impl Indicator {
    fn matches(&self, hay: &[u8]) -> Option<Match> {
        let excerpt = |re: &Regex| {
            re.find(hay)
                .map(|m| clean_bytes(m.as_bytes(), MAX_EXCERPT_CHARS))
        };
        let mut excerpts = Vec::new();
        let mut reason = String::new();
        if !self.all.is_empty() {
            for re in &self.all {
                excerpts.push(excerpt(re)?);
            }
            reason = format!("all[0..{}]", self.all.len());
        }
        if !self.any.is_empty() {
            let (i, text) = self
                .any
                .iter()
                .enumerate()
                .find_map(|(i, re)| excerpt(re).map(|t| (i, t)))?;
            excerpts.push(text);
            if !reason.is_empty() {
                reason.push_str(", ");
            }
            reason.push_str(&format!("any[{i}]"));
        }
        Some(Match {
            id: self.id.clone(),
            description: self.description.clone(),
            weight: self.weight,
            reason,
            excerpts,
        })
    }
}
