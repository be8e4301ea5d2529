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
//! - [`format`]: every log format (presets, `log_format`/`LogFormat` lines
//!   compiled into parsers, W3C, error logs, syslog wrapping, JSON mapping
//!   files), auto-detection per file and the per-file [`LineParser`];
//!   [`input`]: the one-line entry points; [`projection`]: JSON decoding that
//!   keeps only the fields the loaded rules read ([`Engine::process_line`]
//!   decodes ECS JSON straight into the matcher, the fastest path).
//! - [`normalize`]: decoded forms of URL, query, body and header fields, matched
//!   beside the raw value.
//!
//! # Reading logs
//!
//! - A file's format is detected from its first 50 lines: the format that reads
//!   the most of them wins, ties going to the one that extracts more fields
//!   ([`Formats::detect`]). In auto mode a line the chosen format cannot read is
//!   tried with every other text preset (error lines inside access logs, plugin
//!   output among JSON), counted per format ([`LineParser::by_fallback`]).
//! - `-` where a number belongs is an absent field; `::ffff:1.2.3.4` is read as
//!   `1.2.3.4`; addresses with ports (`1.2.3.4:80`, `[2001:db8::1]:443`) are split.
//! - Timestamps: CLF (with or without a zone or a fraction), ISO 8601 / RFC 3339
//!   with any fraction, `2021/09/30 09:23:53`, ctime (Apache error logs) and epoch
//!   numbers whose unit is told by their digits (s, ms, µs, ns). A time without a
//!   zone is UTC. A syslog prefix's time (no year) is used only when the inner
//!   line has none.
//! - Lines over [`LineParser::max_line`] bytes (default 1 MiB) are malformed, with
//!   their length in the reason; detections carry field values cut at
//!   [`engine::MAX_SHOWN`] bytes with a `…[truncated: N bytes in all]` marker.
//! - [`EngineStats::events_with_rule_fields`] counts events with any field a
//!   rule's condition reads (the time aside): a file that leaves it unchanged was
//!   not checked at all, whatever the detection count says.
//!
//! # Normalised matching
//!
//! Fields read from `url.original`, `url.path`, `url.full`,
//! `http.request.referrer` (URL), `url.query`, `http.request.body.content`
//! (query) and `user_agent.original`, `http.request.cookie`,
//! `http.request.headers.*` (header) are matched raw and in each decoded form
//! that differs: percent-decoding repeated until stable (at most 4 rounds),
//! `%uXXXX`, HTML entities, `+` as a space in queries, and for URLs also the
//! path normalised (`\`, `//`, `/./`, `/../`). See [`normalize`]. A detection
//! whose rule matched no raw value says `matched_after_decoding: true`.
//! Conditions see the union: `not sel` is false if `sel` matches any form.
//! Detections, correlation keys and reported fields always show the raw value.
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
//! let event = parse_line(&LogFormat::combined(), line, 1).unwrap();
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
//! - A correlation fires when a group's window first satisfies its condition and
//!   reports that window's real aggregate (count, distinct count, sum...), with
//!   upper bounds (`lt`, `lte`, `eq`) enforced on it. The group keeps counting but
//!   stays quiet until one `timespan` after the fired window's end, so a burst
//!   inside one window is one detection, not one per threshold; the next window
//!   that satisfies the condition fires with its own real aggregate. (Sigma does
//!   not say what happens after a firing; tools differ, e.g. rsigma's
//!   `--action reset` restarts the count.)
//! - A global filter is applied as `(rule condition) and (filter condition)`, like
//!   pySigma, to the rules it names whose log source it covers. Its searches stay
//!   its own (a rule's `all of them` does not take them in), and it is compiled
//!   once per log source however many rules it names.
//!
//! ## Where Sigma implementations disagree
//!
//! The specification where it speaks, else pySigma (the reference implementation).
//! Each choice is pinned by a test in `tests/it/edge_cases.rs`.
//!
//! - `|all` on a single value (or a one-element list) rejects the rule: the
//!   specification's modifiers appendix says "Single item values are not allowed
//!   to have an `all` modifier" (pySigma accepts it as an AND of one).
//! - `|cidr` with host bits set (`10.1.2.3/8`) rejects the rule, naming the network
//!   (`10.0.0.0/8`): pySigma parses with Python's strict `ip_network` (the
//!   specification is silent). A bare address is a full-length prefix.
//! - `|base64` / `|base64offset` of a value with an unescaped `*` or `?` rejects the
//!   rule, as pySigma does ("Base64 encoding of strings with wildcards is not
//!   allowed"); so does `contains`/`startswith`/`endswith` written before the
//!   encoding (pySigma applies modifiers in order). Escaped `\*`/`\?` are encoded.
//! - `|wide` (= `utf16le`), `utf16be` and `utf16` encode any Unicode value as real
//!   UTF-16 (surrogate pairs included), as the specification's Encoding section
//!   defines them; pySigma refuses non-ASCII `wide` values, a limit of its
//!   implementation. Encoded bytes match as text one character per byte (Latin-1);
//!   without base64, wildcards stay wildcards between the encoded parts (pySigma).
//! - A numeric modifier (`lt`, `lte`, `gt`, `gte`) or time modifier with a quoted
//!   value (`gt: '10'`) rejects the rule: the specification says numeric modifiers
//!   "can only be applied to numeric values" and "Numeric values don't use any
//!   quotes", and pySigma's compare modifiers accept only numbers. In events, a
//!   numeric string (`"11"`) still compares as a number.
//! - `|fieldref` with a wildcard in the referenced field name rejects the rule, as
//!   pySigma does ("Field references must not contain wildcards"); the
//!   specification is silent.

pub mod ast;
pub mod cidr;
mod compile;
pub mod condition;
mod correlation;
pub mod engine;
pub mod error;
pub mod event;
pub mod format;
pub mod input;
pub mod mapping;
mod matcher;
pub mod normalize;
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
pub use format::{Detected, FormatError, Formats, LineParser, MappingError, DEFAULT_MAX_LINE};
pub use input::{detect_format, detect_format_of, parse_line, LogFormat, MalformedLine};
pub use mapping::FieldMapping;
pub use matcher::Plan;
pub use ruleset::{lint, DocumentKind, LintReport, Outcome, RuleSet};
