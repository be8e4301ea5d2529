//! The engine: the compiled matcher plus correlation state, turning events into
//! [`Detection`]s.

use crate::ast::{CorrelationType, Level, Logsource};
use crate::compile::FieldId;
use crate::correlation::{
    encode_key, CorrelationLimits, CorrelationSpec, CorrelationState, CorrelationStats,
};
use crate::event::Event;
use crate::format::LineParser;
use crate::input::{parse_line, LogFormat, MalformedLine};
use crate::matcher::{CompiledRule, Matcher, Scratch};
use crate::projection::{parse_json_projected, Projection};
use crate::ruleset::{RuleRef, RuleSet};
use crate::time::format_rfc3339_ms;

/// Fields shown with every detection when present (besides a rule's own `fields`).
pub const KEY_FIELDS: &[&str] = &[
    "source.ip",
    "user.name",
    "event.action",
    "event.outcome",
    "http.request.method",
    "url.original",
    "http.response.status_code",
    "user_agent.original",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DetectionKind {
    /// A single event matched a detection rule.
    Event,
    /// A correlation rule's condition held over a window of events.
    Correlation,
}

/// A rule that fired.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Detection {
    /// The rule's `id`, or its title when it has none.
    pub rule_id: String,
    pub rule_title: String,
    /// The rule's `level`; `medium` when the rule states none.
    pub level: Level,
    pub kind: DetectionKind,
    /// The event's `@timestamp` (event rules) or the window end (correlations), RFC 3339.
    pub timestamp: Option<String>,
    /// Correlations: (group-by field, value) pairs; empty for event rules.
    pub group_key: Vec<(String, String)>,
    /// Correlations: the aggregated value (count, distinct count, sum...).
    pub value: Option<f64>,
    /// Key fields of the (last) matching event.
    pub fields: Vec<(String, String)>,
    /// The rule matched only a decoded form of a field (percent-encoding,
    /// HTML entities, `..` segments…), not the raw text; see `normalize`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub matched_after_decoding: bool,
}

#[derive(Debug)]
struct RuleInfo {
    id: String,
    title: String,
    level: Level,
    /// The rule's `fields`: (name as written, field slot).
    fields: Vec<(String, FieldId)>,
    emit: bool,
    logsource: Logsource,
    /// (correlation, position in its `rules` list) fed by this rule.
    feeds: Vec<(usize, usize)>,
    summary: RuleSummary,
}

/// What a loaded rule is, for listings and alert enrichment.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RuleSummary {
    pub rule_id: String,
    pub title: String,
    pub level: Level,
    pub kind: DetectionKind,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub falsepositives: Vec<String>,
    pub path: String,
    /// False for rules that only feed correlations (`generate: false`).
    pub reports: bool,
}

fn summary(meta: &crate::ast::Meta, kind: DetectionKind, path: &str) -> RuleSummary {
    RuleSummary {
        rule_id: rule_id(&meta.id, &meta.title),
        title: meta.title.clone(),
        level: meta.level.unwrap_or(Level::Medium),
        kind,
        description: meta.description.clone(),
        tags: meta.tags.clone(),
        falsepositives: meta.falsepositives.clone(),
        path: path.to_string(),
        reports: true,
    }
}

#[derive(Debug)]
struct CorrInfo {
    info: RuleInfo,
    group_by: Vec<String>,
    /// Per source position: field paths for each group-by entry (aliases resolved).
    group_paths: Vec<Vec<String>>,
    /// Per source position: the aggregated field's path (value_count/sum/avg).
    field_paths: Vec<Option<String>>,
    /// The same, as field slots read from the matcher's extraction.
    group_fields: Vec<Vec<FieldId>>,
    value_fields: Vec<Option<FieldId>>,
    state: CorrelationState,
}

/// Counters over the engine's life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct EngineStats {
    pub events: u64,
    /// Events that carried at least one field some rule's condition reads: when
    /// this stays 0 over a file, no rule could have fired on it.
    pub events_with_rule_fields: u64,
    pub detections: u64,
    pub correlation: CorrelationStats,
}

/// Runs a compiled rule set over events. Stateful because of correlations.
#[derive(Debug)]
pub struct Engine {
    matcher: Matcher,
    scratch: Scratch,
    rules: Vec<RuleInfo>,
    correlations: Vec<CorrInfo>,
    limits: CorrelationLimits,
    stats: EngineStats,
    hits: Vec<usize>,
    /// Fields to keep when parsing JSON lines; `None` means keep everything.
    projection: Option<Projection>,
    timestamp_field: FieldId,
    key_fields: Vec<(&'static str, FieldId)>,
    /// Reused buffer for encoded correlation group keys.
    key_buf: String,
    /// Reused work list of (correlation, source position) to feed.
    feed_buf: Vec<(usize, usize)>,
    /// The log source of access and error log lines (Sigma's `webserver`).
    webserver: Logsource,
}

fn rule_id(id: &Option<String>, title: &str) -> String {
    id.clone().unwrap_or_else(|| title.to_string())
}

impl RuleSet {
    /// Builds the engine (automata, literal index, correlation state).
    pub fn compile(self) -> Engine {
        self.compile_with_limits(CorrelationLimits::default())
    }

    pub fn compile_with_limits(self, limits: CorrelationLimits) -> Engine {
        let RuleSet {
            options,
            mut program,
            detections,
            correlations,
        } = self;
        let mut rules = Vec::with_capacity(detections.len());
        let mut compiled = Vec::with_capacity(detections.len());
        for d in detections {
            rules.push(RuleInfo {
                id: rule_id(&d.rule.meta.id, &d.rule.meta.title),
                title: d.rule.meta.title.clone(),
                level: d.rule.meta.level.unwrap_or(Level::Medium),
                fields: d
                    .rule
                    .meta
                    .fields
                    .iter()
                    .map(|f| {
                        let paths = options.mapping.resolve(&d.rule.logsource, f);
                        (f.clone(), program.field(paths))
                    })
                    .collect(),
                emit: d.emit,
                logsource: d.rule.logsource.clone(),
                feeds: Vec::new(),
                summary: summary(&d.rule.meta, DetectionKind::Event, &d.path),
            });
            compiled.push(CompiledRule {
                expr: d.expr,
                logsource: d.rule.logsource,
            });
        }
        let mut corr_infos: Vec<CorrInfo> = Vec::with_capacity(correlations.len());
        let mut corr_feeds: Vec<Vec<(usize, usize)>> = vec![Vec::new(); correlations.len()];
        for (ci, c) in correlations.iter().enumerate() {
            let mut group_paths = Vec::new();
            let mut field_paths = Vec::new();
            let mut group_fields = Vec::new();
            let mut value_fields = Vec::new();
            for (pos, src) in c.sources.iter().enumerate() {
                let (src_id, src_name, ls) = match src {
                    RuleRef::Detection(i) => {
                        rules[*i].feeds.push((ci, pos));
                        (
                            c.rule.rules[pos].clone(),
                            None::<String>,
                            rules[*i].logsource.clone(),
                        )
                    }
                    RuleRef::Correlation(j) => {
                        corr_feeds[*j].push((ci, pos));
                        (c.rule.rules[pos].clone(), None, Logsource::default())
                    }
                };
                let aliased: Vec<String> = c
                    .rule
                    .group_by
                    .iter()
                    .map(|g| {
                        c.rule
                            .aliases
                            .iter()
                            .find(|(a, _)| a == g)
                            .and_then(|(_, m)| {
                                m.iter()
                                    .find(|(r, _)| *r == src_id || Some(r) == src_name.as_ref())
                                    .map(|(_, f)| f.clone())
                            })
                            .unwrap_or_else(|| g.clone())
                    })
                    .collect();
                let candidates: Vec<Vec<String>> = aliased
                    .iter()
                    .map(|f| options.mapping.resolve(&ls, f))
                    .collect();
                group_paths.push(candidates.iter().map(|c| c.join("|")).collect::<Vec<_>>());
                group_fields.push(
                    candidates
                        .into_iter()
                        .map(|c| program.field(c))
                        .collect::<Vec<_>>(),
                );
                let value_candidates = c
                    .rule
                    .field
                    .as_ref()
                    .map(|f| options.mapping.resolve(&ls, f));
                field_paths.push(value_candidates.as_ref().map(|c| c.join("|")));
                value_fields.push(value_candidates.map(|c| program.field(c)));
            }
            let spec = CorrelationSpec {
                kind: c.rule.kind,
                timespan_ms: c.rule.timespan_ms,
                condition: c.rule.condition.clone(),
                source_count: c.sources.len(),
            };
            corr_infos.push(CorrInfo {
                info: RuleInfo {
                    id: rule_id(&c.rule.meta.id, &c.rule.meta.title),
                    title: c.rule.meta.title.clone(),
                    level: c.rule.meta.level.unwrap_or(Level::Medium),
                    fields: c
                        .rule
                        .meta
                        .fields
                        .iter()
                        .map(|f| (f.clone(), program.field(vec![f.clone()])))
                        .collect(),
                    emit: true,
                    logsource: Logsource::default(),
                    feeds: Vec::new(),
                    summary: summary(&c.rule.meta, DetectionKind::Correlation, &c.path),
                },
                group_by: c.rule.group_by.clone(),
                group_paths,
                field_paths,
                group_fields,
                value_fields,
                state: CorrelationState::new(spec),
            });
        }
        // A correlation referenced by another one is an intermediate step: it
        // only reports if some referrer asks to `generate` it.
        for (j, feeds) in corr_feeds.into_iter().enumerate() {
            if !feeds.is_empty() {
                let generate = feeds.iter().any(|(ci, _)| correlations[*ci].rule.generate);
                corr_infos[j].info.emit = generate;
            }
            corr_infos[j].info.feeds = feeds;
        }
        // Everything detections report is read from the matcher's extraction, so
        // those paths become fields of the program too.
        let timestamp_field = program.field(vec!["@timestamp".to_string()]);
        let key_fields = KEY_FIELDS
            .iter()
            .map(|k| (*k, program.field(vec![k.to_string()])))
            .collect();
        let matcher = Matcher::new(program, compiled);
        let scratch = matcher.new_scratch();
        let projection = matcher.needed_paths().map(Projection::new);
        Engine {
            matcher,
            scratch,
            rules,
            correlations: corr_infos,
            limits,
            stats: EngineStats::default(),
            hits: Vec::new(),
            projection,
            timestamp_field,
            key_fields,
            key_buf: String::new(),
            feed_buf: Vec::new(),
            webserver: Logsource::new(None, Some("webserver"), None),
        }
    }
}

/// Longest field value a detection carries; longer ones are cut with a marker
/// (a 100 MB line must not be repeated into every alert).
pub const MAX_SHOWN: usize = 2048;

/// Cuts `v` to [`MAX_SHOWN`] bytes (on a character boundary) and says so.
pub fn clip(v: String) -> String {
    if v.len() <= MAX_SHOWN {
        return v;
    }
    let mut end = MAX_SHOWN;
    while !v.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[truncated: {} bytes in all]", &v[..end], v.len())
}

/// Epoch milliseconds from an `@timestamp` value: RFC 3339 text, or a number of
/// milliseconds; values beyond ±10,000 years are refused.
fn timestamp_of(text: &str) -> Option<i64> {
    const LIMIT: i64 = 10_000 * 366 * 86_400_000;
    let ms = crate::time::parse_rfc3339_ms(text).or_else(|| text.trim().parse::<i64>().ok())?;
    (-LIMIT..=LIMIT).contains(&ms).then_some(ms)
}

impl Engine {
    pub fn rule_count(&self) -> usize {
        self.matcher.rule_count()
    }

    /// Every loaded rule (detection rules first, then correlations).
    pub fn rules(&self) -> Vec<RuleSummary> {
        self.rules
            .iter()
            .chain(self.correlations.iter().map(|c| &c.info))
            .map(|r| RuleSummary {
                reports: r.emit,
                ..r.summary.clone()
            })
            .collect()
    }

    /// Shape of the compiled program (rules indexed by literal, fields, needles, atoms).
    pub fn plan(&self) -> crate::matcher::Plan {
        self.matcher.plan()
    }

    pub fn correlation_count(&self) -> usize {
        self.correlations.len()
    }

    /// Groups currently held in correlation state (memory gauge).
    pub fn correlation_groups(&self) -> usize {
        self.correlations
            .iter()
            .map(|c| c.state.group_count())
            .sum()
    }

    pub fn stats(&self) -> EngineStats {
        self.stats
    }

    /// Takes over the correlation state of the engine this one replaces (rule
    /// reload): a correlation with the same id, grouping and definition keeps its
    /// windows; changed or new ones start empty. Returns how many were carried.
    pub fn adopt_state(&mut self, old: Engine) -> usize {
        let mut old_states: Vec<CorrInfo> = old.correlations;
        let mut carried = 0;
        for c in &mut self.correlations {
            let found = old_states.iter().position(|o| {
                o.info.id == c.info.id
                    && o.group_paths == c.group_paths
                    && o.field_paths == c.field_paths
                    && o.state.spec() == c.state.spec()
            });
            if let Some(i) = found {
                c.state = old_states.swap_remove(i).state;
                carried += 1;
            }
        }
        self.stats.correlation = old.stats.correlation;
        carried
    }

    /// Parses a line for this engine: like [`crate::parse_line`], but JSON lines keep
    /// only the fields the loaded rules read (faster; same detections). Parsed
    /// access-log lines are complete either way.
    pub fn parse_line(
        &self,
        format: &LogFormat,
        line: &str,
        line_no: u64,
    ) -> Result<Event, MalformedLine> {
        match (format, &self.projection) {
            (LogFormat::JsonLines, Some(p)) => {
                let line = line.strip_suffix('\r').unwrap_or(line);
                parse_json_projected(line, line_no, p)
            }
            _ => parse_line(format, line, line_no),
        }
    }

    /// One line of a file read with `parser` (which keeps the file's state:
    /// W3C headers, fallback counts, the line-length limit). `Ok(None)`: the
    /// line is not an event (blank, comment, directive).
    pub fn process_with(
        &mut self,
        parser: &mut LineParser,
        line: &str,
        line_no: u64,
        logsource: Option<&Logsource>,
    ) -> Result<Option<Vec<Detection>>, MalformedLine> {
        if *parser.format() == LogFormat::JsonLines && line.len() <= parser.max_line {
            if line.trim().is_empty() {
                return Ok(None);
            }
            match self.process_line(&LogFormat::JsonLines, line, line_no, logsource) {
                Ok(d) => return Ok(Some(d)),
                Err(e) if !parser.has_fallback() => return Err(e),
                // Not ECS JSON: the parser tries the other formats.
                Err(_) => {}
            }
        }
        if let LogFormat::Text(t) = parser.format() {
            if let Some(d) = self.process_text_direct(t, parser.max_line, line) {
                return Ok(Some(d));
            }
        }
        let Some(mut ev) = parser.parse(line, line_no)? else {
            return Ok(None);
        };
        if ev.logsource.is_none() {
            ev.logsource = logsource.cloned();
        }
        Ok(Some(self.process(&ev)))
    }

    /// A text-format line parsed straight into the matcher's field slots (no
    /// event map; only the fields some rule reads are copied). `None` when the
    /// line is empty, too long or does not fit: [`LineParser::parse`] then
    /// decides, with its fallback formats and its reasons.
    fn process_text_direct(
        &mut self,
        t: &crate::format::TextFormat,
        max_line: usize,
        line: &str,
    ) -> Option<Vec<Detection>> {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.len() > max_line || line.trim().is_empty() {
            return None;
        }
        let mut hits = std::mem::take(&mut self.hits);
        hits.clear();
        let parsed = self.matcher.matching_rules_parsed(
            Some(&self.webserver),
            &mut self.scratch,
            &mut hits,
            |sink| t.parse_into(line, sink, |s| s.restart()),
        );
        match parsed {
            Ok(()) => Some(self.finish(hits)),
            Err(_) => {
                self.hits = hits;
                None
            }
        }
    }

    /// Runs one event through every rule and correlation.
    pub fn process(&mut self, ev: &Event) -> Vec<Detection> {
        let mut hits = std::mem::take(&mut self.hits);
        hits.clear();
        self.matcher
            .matching_rules(ev, &mut self.scratch, &mut hits);
        self.finish(hits)
    }

    /// Parses a line and runs it, in one step: the fastest path for JSON lines,
    /// which are decoded straight into the fields the rules read (no event map).
    /// `logsource` is what the caller knows about the line's origin (`None`:
    /// unknown, every rule applies; access-log lines are `webserver` regardless).
    pub fn process_line(
        &mut self,
        format: &LogFormat,
        line: &str,
        line_no: u64,
        logsource: Option<&Logsource>,
    ) -> Result<Vec<Detection>, MalformedLine> {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if *format != LogFormat::JsonLines {
            let mut ev = parse_line(format, line, line_no)?;
            if ev.logsource.is_none() {
                ev.logsource = logsource.cloned();
            }
            return Ok(self.process(&ev));
        }
        let mut hits = std::mem::take(&mut self.hits);
        hits.clear();
        match self
            .matcher
            .matching_rules_json(line, logsource, &mut self.scratch, &mut hits)
        {
            Ok(()) => Ok(self.finish(hits)),
            Err(_) => {
                self.hits = hits;
                // Re-parse for the precise reason (rare path).
                Err(parse_line(format, line, line_no)
                    .err()
                    .unwrap_or(MalformedLine {
                        line_no,
                        reason: "invalid JSON".into(),
                    }))
            }
        }
    }

    fn text(&self, f: FieldId) -> Option<String> {
        self.matcher.field(&self.scratch, f).text()
    }

    /// A field value as shown in a detection: at most [`MAX_SHOWN`] bytes.
    fn shown(&self, f: FieldId) -> Option<String> {
        self.text(f).map(clip)
    }

    /// The rule's own `fields` (reported under the name the rule uses) followed
    /// by the default key fields present in the event.
    fn key_fields(&self, extra: &[(String, FieldId)]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (name, f) in extra {
            if let Some(v) = self.shown(*f) {
                out.push((name.clone(), v));
            }
        }
        for (name, f) in &self.key_fields {
            if out.iter().any(|(k, _)| k == name) {
                continue;
            }
            if let Some(v) = self.shown(*f) {
                out.push((name.to_string(), v));
            }
        }
        out
    }

    /// Turns the matched rules of the current event into detections and feeds
    /// correlations. Event data is read from the matcher's extraction.
    fn finish(&mut self, hits: Vec<usize>) -> Vec<Detection> {
        self.stats.events += 1;
        if self.scratch.relevant {
            self.stats.events_with_rule_fields += 1;
        }
        let mut out = Vec::new();
        if hits.is_empty() {
            self.hits = hits;
            return out;
        }
        // Read in place; the text is only copied for detections that report.
        let ts = match self
            .matcher
            .field(&self.scratch, self.timestamp_field)
            .values()
        {
            [one] => timestamp_of(one),
            _ => None,
        };
        let timestamp = if hits.iter().any(|&r| self.rules[r].emit) {
            self.text(self.timestamp_field)
        } else {
            None
        };
        // Work list of (correlation, source position) to feed with this event.
        let mut feed = std::mem::take(&mut self.feed_buf);
        feed.clear();
        for &r in &hits {
            let info = &self.rules[r];
            if info.emit {
                out.push(Detection {
                    rule_id: info.id.clone(),
                    rule_title: info.title.clone(),
                    level: info.level,
                    kind: DetectionKind::Event,
                    timestamp: timestamp.clone(),
                    group_key: Vec::new(),
                    value: None,
                    fields: self.key_fields(&info.fields),
                    matched_after_decoding: self.scratch.decoded_only.contains(&r),
                });
            }
            feed.extend(info.feeds.iter().copied());
        }
        self.hits = hits;
        // Chains are acyclic (references resolve in dependency order), but bound the
        // work anyway so a pathological rule set cannot loop.
        let mut steps = 0;
        while let Some((ci, pos)) = feed.pop() {
            steps += 1;
            if steps > 10_000 {
                break;
            }
            let Some(ts) = ts else {
                self.stats.correlation.no_timestamp += 1;
                continue;
            };
            // The group key, encoded into a reused buffer: a correlation that does
            // not fire allocates nothing for it (unless the group is new).
            let mut key = std::mem::take(&mut self.key_buf);
            key.clear();
            for f in &self.correlations[ci].group_fields[pos] {
                let data = self.matcher.field(&self.scratch, *f);
                match data.values() {
                    [one] => encode_key(&mut key, one),
                    _ => encode_key(&mut key, &data.text().unwrap_or_default()),
                }
            }
            // Borrowed in place when the field holds one value (the usual case).
            let value_data = self.correlations[ci].value_fields[pos]
                .map(|f| self.matcher.field(&self.scratch, f));
            let joined;
            let value: Option<&str> = match value_data {
                None => None,
                Some(d) => match d.values() {
                    [one] => Some(one.as_str()),
                    _ => {
                        joined = d.text();
                        joined.as_deref()
                    }
                },
            };
            let c = &mut self.correlations[ci];
            let needs_value = matches!(
                c.state_kind(),
                CorrelationType::ValueCount | CorrelationType::ValueSum | CorrelationType::ValueAvg
            );
            if needs_value && value.is_none() {
                self.key_buf = key;
                continue;
            }
            let fired = c.state.observe_encoded(
                &key,
                ts,
                pos,
                value,
                &self.limits,
                &mut self.stats.correlation,
            );
            self.key_buf = key;
            if let Some(f) = fired {
                let c = &self.correlations[ci];
                let key: Vec<String> = c.group_fields[pos]
                    .iter()
                    .map(|f| self.shown(*f).unwrap_or_default())
                    .collect();
                if c.info.emit {
                    let fields = self.key_fields(&c.info.fields);
                    out.push(Detection {
                        rule_id: c.info.id.clone(),
                        rule_title: c.info.title.clone(),
                        level: c.info.level,
                        kind: DetectionKind::Correlation,
                        timestamp: Some(format_rfc3339_ms(f.window_end)),
                        group_key: c.group_by.iter().cloned().zip(key).collect(),
                        value: Some(f.value),
                        fields,
                        matched_after_decoding: false,
                    });
                }
                feed.extend(c.info.feeds.iter().copied());
            }
        }
        feed.clear();
        self.feed_buf = feed;
        self.stats.detections += out.len() as u64;
        out
    }
}

impl CorrInfo {
    fn state_kind(&self) -> CorrelationType {
        self.state.kind()
    }
}
