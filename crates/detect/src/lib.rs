//! Sigma rule engine over store logs.
//!
//! Pure: no I/O, no clock, no global state. Callers pass rule files as
//! `(path, text)` pairs and log lines as strings.
//!
//! Module layout, in pipeline order:
//! - YAML comes from `bulwark-yaml` (node positions and quoting preserved,
//!   aliases expanded within a node budget, nesting bounded).
//! - [`ast`], [`parse`], [`condition`]: typed Sigma documents (detection rules,
//!   correlations, filters) and the condition expression parser.
//! - [`pattern`], [`cidr`], [`time`]: value semantics (wildcards and escapes,
//!   encodings, placeholders, IP ranges, timestamps).
//! - [`mapping`]: Sigma field names onto ECS per log source.
//! - `compile`, `matcher`: the whole rule set compiled into one program (interned
//!   fields, per-field Aho–Corasick literal scans, literal-indexed rule dispatch,
//!   shared atoms) and its evaluator.
//! - `correlation`, [`engine`]: windowed correlation state and the [`Engine`]
//!   that turns [`Event`]s into [`Detection`]s.
//! - [`ruleset`]: loading a rule directory with per-rule lint reports.
//! - [`input`]: JSON lines and nginx/Apache access log parsers; [`projection`]:
//!   JSON decoding that keeps only the fields the loaded rules read
//!   ([`Engine::parse_line`] builds such an [`Event`]; [`Engine::process_line`]
//!   decodes a line straight into the matcher, the fastest path).
//!
//! # Usage
//!
//! ```
//! use bulwark_detect::{parse_line, CompileOptions, LogFormat, RuleSet};
//!
//! let rule = "title: Scanner\nlogsource: {category: webserver}\ndetection:\n  \
//!             sel: {cs-user-agent|contains: sqlmap}\n  condition: sel\n";
//! let (set, reports) = RuleSet::load(&[("scanner.yml".into(), rule.into())], CompileOptions::ecs());
//! assert!(reports.iter().all(|r| r.is_loaded()));
//! let mut engine = set.compile();
//! let line = r#"1.2.3.4 - - [20/Nov/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "sqlmap/1.7""#;
//! let event = parse_line(LogFormat::Combined, line, 1).unwrap();
//! assert_eq!(engine.process(&event)[0].rule_title, "Scanner");
//! ```
//!
//! # Matching semantics (where the specification leaves a choice)
//!
//! - Strings match case-insensitively (Unicode lower-casing) unless `cased`; `re` is
//!   case-sensitive unless `re|i`. Encoded values (`base64`, `base64offset`, `utf16*`)
//!   match case-sensitively because base64 text is case-significant.
//! - Plain values match the whole field value; `*`/`?` are wildcards; `\*`, `\?`, `\\`
//!   escape; any other backslash is literal.
//! - A field holding an array matches if any element matches. Numbers and booleans are
//!   compared as their JSON text (`4624`, `true`); `lt`/`gt`… parse numeric strings too.
//! - `field: null` matches an absent field or a JSON null; `''` matches only an empty
//!   string; `exists: true` matches a present field even if null.
//! - `neq` requires the field to have a (non-null) value that differs from every listed
//!   value: an absent field does not satisfy `neq`.
//! - Keyword (full-text) searches look for the value anywhere (`*value*`) in every scalar
//!   of the event, including `event.original` for parsed log lines.
//! - `expand` placeholders come from [`CompileOptions::placeholders`]; unresolved ones
//!   reject the rule unless [`UnresolvedPlaceholders::Wildcard`] is chosen.
//! - Time modifiers (`hour`, `day`, …) read RFC 3339 timestamps in UTC.
//! - An event whose log source is unknown is checked against every rule; attributes an
//!   event's log source leaves unset do not exclude rules either.
//! - Rules referenced by a correlation do not report on their own unless the
//!   correlation says `generate: true`; see `correlation` for the time policy.
//! - A global filter is applied as `(rule condition) and (filter condition)`, like
//!   pySigma, to the rules it names whose log source it covers.

pub mod ast;
pub mod cidr;
mod compile;
pub mod condition;
mod correlation;
pub mod engine;
pub mod error;
pub mod event;
pub mod input;
pub mod mapping;
mod matcher;
pub mod packs;
pub mod parse;
pub mod pattern;
pub mod projection;
pub mod ruleset;
pub mod time;

pub use ast::{Level, Logsource};
pub use compile::{CompileOptions, UnresolvedPlaceholders};
pub use correlation::{CorrelationLimits, CorrelationStats};
pub use engine::{Detection, DetectionKind, Engine, EngineStats, RuleSummary};
pub use error::RuleError;
pub use event::Event;
pub use input::{detect_format, detect_format_of, parse_line, LogFormat, MalformedLine};
pub use mapping::FieldMapping;
pub use matcher::Plan;
pub use ruleset::{lint, DocumentKind, LintReport, Outcome, RuleSet};
