//! Correlation state: sliding windows per correlation rule and group, in bounded
//! memory, driven by the events' own timestamps.
//!
//! Time policy (deliberate, documented for operators):
//! - Time comes from each event's `@timestamp`; events without one do not feed
//!   correlations (they are counted in [`CorrelationStats::no_timestamp`]).
//! - Each correlation keeps a watermark: the latest timestamp it has seen. An event
//!   older than `watermark - timespan` cannot share a window with anything still
//!   held, so it is counted as late ([`CorrelationStats::late`]) and ignored.
//! - Events inside that bound may arrive out of order: they are inserted in time
//!   order and every window of length `timespan` that contains them is checked
//!   (windows are closed intervals `[end - timespan, end]`).
//! - The condition is tested on the real aggregate of the window (every held event
//!   of the group inside it), so upper bounds (`lt`, `lte`, `eq`) hold: a window
//!   with more events than the bound allows does not fire.
//! - After a firing: one alert per attack window, not one per threshold. When a
//!   group's condition first holds, the correlation fires with that window's
//!   aggregate, and the group keeps counting (its events are not discarded). It is
//!   then quiet until `timespan` has passed since the fired window's end: windows
//!   ending at or before `window_end + timespan` do not fire (so the next alert's
//!   window shares no event with the previous one). After that, the first window
//!   that satisfies the condition fires again, with its own real aggregate. So
//!   `gte: 3` over twelve events inside one window fires once (value 3), and over
//!   events spread across three windows about once per window. The same rule
//!   applies to `temporal` and `temporal_ordered`.
//! - A group-by field missing from an event groups under the empty string.
//! - Memory: at most `max_events_per_group` entries per group (oldest dropped, so
//!   aggregates are exact up to that many events per window) and `max_groups`
//!   groups per correlation (expired groups swept first, then the least recently
//!   seen evicted; an evicted group forgets its quiet period too). A group whose
//!   events have expired is kept while its quiet period can still cover a
//!   not-yet-late event.

use std::collections::VecDeque;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::ast::{CmpOp, CorrelationType};

/// Memory bounds for correlation state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorrelationLimits {
    pub max_groups: usize,
    pub max_events_per_group: usize,
}

impl Default for CorrelationLimits {
    fn default() -> Self {
        CorrelationLimits {
            max_groups: 100_000,
            max_events_per_group: 10_000,
        }
    }
}

/// Counters a caller can surface ("12 late events ignored").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct CorrelationStats {
    pub late: u64,
    pub no_timestamp: u64,
    pub evicted_groups: u64,
    pub dropped_events: u64,
}

#[derive(Debug, Clone)]
struct Entry {
    ts: i64,
    source: usize,
    /// Shared with the group's distinct-value counts: one allocation per event.
    value: Option<Arc<str>>,
}

/// Aggregates over a set of entries, maintained as entries come and go.
#[derive(Debug, Default)]
struct Agg {
    count: usize,
    /// Distinct values and how often each occurs (value_count).
    values: FxHashMap<Arc<str>, u32>,
    /// Sum and count of numeric values (value_sum / value_avg).
    sum: f64,
    numeric: u32,
    /// Entries per source rule (temporal).
    per_source: Vec<u32>,
}

impl Agg {
    fn add(&mut self, e: &Entry) {
        self.count += 1;
        if let Some(v) = &e.value {
            *self.values.entry(v.clone()).or_default() += 1;
            if let Ok(n) = v.trim().parse::<f64>() {
                self.sum += n;
                self.numeric += 1;
            }
        }
        if self.per_source.len() <= e.source {
            self.per_source.resize(e.source + 1, 0);
        }
        self.per_source[e.source] += 1;
    }

    fn remove(&mut self, e: &Entry) {
        self.count = self.count.saturating_sub(1);
        if let Some(v) = &e.value {
            if let Some(c) = self.values.get_mut(&**v) {
                *c -= 1;
                if *c == 0 {
                    self.values.remove(&**v);
                }
            }
            if let Ok(n) = v.trim().parse::<f64>() {
                self.sum -= n;
                self.numeric = self.numeric.saturating_sub(1);
            }
        }
        if let Some(c) = self.per_source.get_mut(e.source) {
            *c = c.saturating_sub(1);
        }
    }

    fn clear(&mut self) {
        self.count = 0;
        self.values.clear();
        self.sum = 0.0;
        self.numeric = 0;
        self.per_source.clear();
    }

    /// The aggregate over the entries held; `None` for `temporal_ordered`, whose
    /// value depends on their order.
    fn value(&self, spec: &CorrelationSpec) -> Option<f64> {
        Some(match spec.kind {
            CorrelationType::EventCount => self.count as f64,
            CorrelationType::ValueCount => self.values.len() as f64,
            CorrelationType::ValueSum => self.sum,
            CorrelationType::ValueAvg if self.numeric == 0 => 0.0,
            CorrelationType::ValueAvg => self.sum / f64::from(self.numeric),
            CorrelationType::Temporal => self.per_source.iter().filter(|c| **c > 0).count() as f64,
            CorrelationType::TemporalOrdered => return None,
        })
    }
}

/// One group's events in time order, plus running aggregates over all of them
/// so the common in-order case is O(1) per event instead of a window scan.
#[derive(Debug, Default)]
struct Group {
    entries: VecDeque<Entry>,
    last_seen: i64,
    agg: Agg,
    /// Windows ending at or before this instant do not fire: the last firing's
    /// window end plus the timespan (see the module's time policy).
    quiet_until: Option<i64>,
}

impl Group {
    fn pop_front(&mut self) {
        if let Some(e) = self.entries.pop_front() {
            self.agg.remove(&e);
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.agg.clear();
        self.last_seen = 0;
        self.quiet_until = None;
    }

    /// Whether a sweep at `horizon` may drop the group: nothing held can share a
    /// window with a new event, and no quiet period remains to be honoured.
    fn expired(&self, horizon: i64) -> bool {
        (self.last_seen < horizon || self.entries.is_empty())
            && self.quiet_until.is_none_or(|q| q < horizon)
    }
}

/// Appends one group-by value to an encoded group key: its byte length, `:`, the
/// value. Length prefixes keep distinct value lists distinct whatever they contain.
pub(crate) fn encode_key(out: &mut String, part: &str) {
    use std::fmt::Write;
    let _ = write!(out, "{}:", part.len());
    out.push_str(part);
}

/// The compiled form of one correlation rule.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CorrelationSpec {
    pub kind: CorrelationType,
    pub timespan_ms: i64,
    pub condition: Vec<(CmpOp, f64)>,
    pub source_count: usize,
}

/// A correlation that fired.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fired {
    pub window_end: i64,
    /// The real aggregate of the window `[window_end - timespan, window_end]`.
    pub value: f64,
}

/// How a group's windows are evaluated (tests compare the three).
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// Running aggregates when possible, else [`evaluate`] (production).
    Fast,
    /// Always [`evaluate`].
    Sliding,
    /// Always a separate full scan per window (the reference).
    Naive,
}

#[derive(Debug)]
pub(crate) struct CorrelationState {
    spec: CorrelationSpec,
    /// Keyed by the group-by values, length-prefixed and concatenated (see
    /// [`encode_key`]): one allocation per group, looked up without allocating.
    /// Keys come from events but the map is bounded (`max_groups`), so a fast
    /// non-keyed hash only risks slower lookups, never unbounded memory.
    groups: FxHashMap<String, Group>,
    /// Swept groups kept for reuse (with their keys): most groups hold one or two
    /// events and expire, and recycling their buffers spares the allocator.
    spare: Vec<(String, Group)>,
    watermark: Option<i64>,
    /// Inserts since the last sweep of expired groups.
    inserts: u64,
    #[cfg(test)]
    scan: Scan,
}

impl CorrelationState {
    pub fn new(spec: CorrelationSpec) -> Self {
        CorrelationState {
            spec,
            groups: FxHashMap::default(),
            spare: Vec::new(),
            watermark: None,
            inserts: 0,
            #[cfg(test)]
            scan: Scan::Fast,
        }
    }

    pub(crate) fn spec(&self) -> &CorrelationSpec {
        &self.spec
    }

    pub(crate) fn kind(&self) -> CorrelationType {
        self.spec.kind
    }

    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Feeds one matching event; returns the firing, if any.
    #[cfg(test)]
    pub fn observe(
        &mut self,
        key: Vec<String>,
        ts: i64,
        source: usize,
        value: Option<String>,
        limits: &CorrelationLimits,
        stats: &mut CorrelationStats,
    ) -> Option<Fired> {
        let mut k = String::new();
        for part in &key {
            encode_key(&mut k, part);
        }
        self.observe_encoded(&k, ts, source, value.as_deref(), limits, stats)
    }

    /// [`CorrelationState::observe`] with the group key already encoded by [`encode_key`].
    pub fn observe_encoded(
        &mut self,
        key: &str,
        ts: i64,
        source: usize,
        value: Option<&str>,
        limits: &CorrelationLimits,
        stats: &mut CorrelationStats,
    ) -> Option<Fired> {
        let span = self.spec.timespan_ms;
        let wm = self.watermark.map_or(ts, |w| w.max(ts));
        if ts < wm.saturating_sub(span) {
            stats.late += 1;
            return None;
        }
        self.watermark = Some(wm);
        self.inserts += 1;
        #[cfg(test)]
        let scan = self.scan;
        let group = if self.groups.contains_key(key) {
            self.groups.get_mut(key)?
        } else {
            if self.groups.len() >= limits.max_groups {
                self.make_room(limits, stats);
            }
            let (mut k, mut g) = self.spare.pop().unwrap_or_default();
            k.clear();
            k.push_str(key);
            g.clear();
            self.groups.entry(k).or_insert(g)
        };
        // Events mostly arrive in order: skip the search then.
        let at = if group.entries.back().is_none_or(|e| e.ts <= ts) {
            group.entries.len()
        } else {
            group.entries.partition_point(|e| e.ts <= ts)
        };
        let entry = Entry {
            ts,
            source,
            value: value.map(Arc::from),
        };
        group.agg.add(&entry);
        group.entries.insert(at, entry);
        // Decided before eviction shifts the indices.
        let newest = at + 1 == group.entries.len();
        #[cfg(test)]
        let newest = newest && scan == Scan::Fast;
        group.last_seen = group.last_seen.max(ts);
        let horizon = wm.saturating_sub(span);
        while group.entries.front().is_some_and(|e| e.ts < horizon) {
            group.pop_front();
        }
        while group.entries.len() > limits.max_events_per_group {
            group.pop_front();
            stats.dropped_events += 1;
        }
        let all_in_window = group.entries.front().is_some_and(|e| ts - e.ts <= span);
        let fired = match group.agg.value(&self.spec) {
            // In order, and the group fits one window ending now: that window is
            // the only one containing this event, and its aggregate is running.
            Some(value) if newest && all_in_window => {
                let quiet = group.quiet_until.is_some_and(|q| ts <= q);
                (!quiet && condition_holds(&self.spec, value)).then_some(Fired {
                    window_end: ts,
                    value,
                })
            }
            #[cfg(test)]
            _ if scan == Scan::Naive => tests::evaluate_naive(&self.spec, group, ts),
            _ => evaluate(&self.spec, group, ts),
        };
        if let Some(f) = &fired {
            // Keep counting, but stay quiet until the next window shares no event
            // with this one.
            group.quiet_until = Some(f.window_end.saturating_add(span));
        }
        // Sweep expired groups after as many inserts as there are groups (at least
        // 4096): amortised O(1) per event however many groups are held.
        if self.inserts >= 4096.max(self.groups.len() as u64) {
            self.inserts = 0;
            self.sweep(horizon);
        }
        fired
    }

    fn sweep(&mut self, horizon: i64) {
        const SPARE: usize = 4096;
        for (k, g) in self.groups.extract_if(|_, g| g.expired(horizon)) {
            if self.spare.len() < SPARE {
                self.spare.push((k, g));
            }
        }
    }

    fn make_room(&mut self, limits: &CorrelationLimits, stats: &mut CorrelationStats) {
        let before = self.groups.len();
        if let Some(wm) = self.watermark {
            self.sweep(wm.saturating_sub(self.spec.timespan_ms));
        }
        if self.groups.len() >= limits.max_groups {
            // Evict the least recently seen eighth in one go to amortise the scan.
            let mut seen: Vec<i64> = self.groups.values().map(|g| g.last_seen).collect();
            if seen.is_empty() {
                return;
            }
            let k = (seen.len() / 8).max(1);
            let (_, cut, _) = seen.select_nth_unstable(k - 1);
            let cut = *cut;
            let mut removed = 0;
            self.groups.retain(|_, g| {
                if removed < k && g.last_seen <= cut {
                    removed += 1;
                    false
                } else {
                    true
                }
            });
        }
        stats.evicted_groups += (before - self.groups.len()) as u64;
    }
}

/// Checks every window `[end - span, end]` that contains `ts` and ends after the
/// group's quiet period, earliest end first; returns the first that satisfies the
/// condition. One pass: the window slides over the entries (held in time order)
/// with its aggregate maintained incrementally, so an out-of-order event costs
/// O(entries in reach), not O(windows × entries).
fn evaluate(spec: &CorrelationSpec, g: &Group, ts: i64) -> Option<Fired> {
    let span = spec.timespan_ms;
    let e = &g.entries;
    let first_end = g.quiet_until.map_or(ts, |q| ts.max(q.saturating_add(1)));
    let last_end = ts.saturating_add(span);
    // Candidate window ends are the entry times in [first_end, last_end].
    let mut next = e.partition_point(|x| x.ts < first_end);
    let reach = e.partition_point(|x| x.ts <= last_end);
    if next >= reach {
        return None;
    }
    let mut lo = e.partition_point(|x| x.ts < e[next].ts.saturating_sub(span));
    let mut hi = lo;
    let ordered =
        (spec.kind == CorrelationType::TemporalOrdered).then(|| Ordered::new(e, lo, reach));
    let mut agg = Agg::default();
    while next < reach {
        let end = e[next].ts;
        while hi < e.len() && e[hi].ts <= end {
            agg.add(&e[hi]);
            hi += 1;
        }
        let start = end.saturating_sub(span);
        while e[lo].ts < start {
            agg.remove(&e[lo]);
            lo += 1;
        }
        let value = match &ordered {
            Some(o) => o.prefix(spec.source_count, lo, hi),
            None => agg.value(spec).unwrap_or_default(),
        };
        if condition_holds(spec, value) {
            return Some(Fired {
                window_end: end,
                value,
            });
        }
        // The next distinct end.
        next = hi;
    }
    None
}

/// Positions of each source rule's entries over a range of a group, to find the
/// longest prefix of the rule order occurring in a window in O(rules × log n).
struct Ordered {
    positions: Vec<Vec<usize>>,
}

impl Ordered {
    fn new(e: &VecDeque<Entry>, from: usize, to: usize) -> Self {
        let mut positions: Vec<Vec<usize>> = Vec::new();
        for (i, x) in e.range(from..to).enumerate() {
            if positions.len() <= x.source {
                positions.resize_with(x.source + 1, Vec::new);
            }
            positions[x.source].push(from + i);
        }
        Ordered { positions }
    }

    /// Longest prefix of rules `0..n` found in order within entries `lo..hi`
    /// (greedy earliest occurrences are optimal for a subsequence).
    fn prefix(&self, n: usize, lo: usize, hi: usize) -> f64 {
        let mut at = lo;
        let mut found = 0;
        for s in 0..n {
            let Some(p) = self.positions.get(s) else {
                break;
            };
            match p.get(p.partition_point(|&i| i < at)) {
                Some(&i) if i < hi => {
                    found += 1;
                    at = i + 1;
                }
                _ => break,
            }
        }
        found as f64
    }
}

fn condition_holds(spec: &CorrelationSpec, value: f64) -> bool {
    match spec.kind {
        CorrelationType::Temporal if spec.condition.is_empty() => value >= spec.source_count as f64,
        // The order is the point of temporal_ordered: the whole chain is required.
        CorrelationType::TemporalOrdered => value >= spec.source_count as f64,
        _ => spec.condition.iter().all(|(op, n)| op.test(value, *n)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The reference: every candidate window (ending at an entry time in
    /// `[ts, ts + span]`, after the quiet period) scanned separately.
    pub(super) fn evaluate_naive(spec: &CorrelationSpec, g: &Group, ts: i64) -> Option<Fired> {
        let span = spec.timespan_ms;
        let mut ends: Vec<i64> = g
            .entries
            .iter()
            .map(|e| e.ts)
            .filter(|&e| e >= ts && e - ts <= span)
            .filter(|&e| g.quiet_until.is_none_or(|q| e > q))
            .collect();
        ends.dedup();
        for end in ends {
            let window: Vec<&Entry> = g
                .entries
                .iter()
                .filter(|e| e.ts <= end && end - e.ts <= span)
                .collect();
            let value = aggregate(spec, &window);
            if condition_holds(spec, value) {
                return Some(Fired {
                    window_end: end,
                    value,
                });
            }
        }
        None
    }

    fn aggregate(spec: &CorrelationSpec, window: &[&Entry]) -> f64 {
        match spec.kind {
            CorrelationType::EventCount => window.len() as f64,
            CorrelationType::ValueCount => {
                let distinct: HashSet<&str> =
                    window.iter().filter_map(|e| e.value.as_deref()).collect();
                distinct.len() as f64
            }
            CorrelationType::ValueSum | CorrelationType::ValueAvg => {
                let nums: Vec<f64> = window
                    .iter()
                    .filter_map(|e| e.value.as_deref()?.trim().parse::<f64>().ok())
                    .collect();
                let sum: f64 = nums.iter().sum();
                if spec.kind == CorrelationType::ValueSum {
                    sum
                } else if nums.is_empty() {
                    0.0
                } else {
                    sum / nums.len() as f64
                }
            }
            CorrelationType::Temporal => {
                let distinct: HashSet<usize> = window.iter().map(|e| e.source).collect();
                distinct.len() as f64
            }
            CorrelationType::TemporalOrdered => {
                let mut next = 0;
                for e in window {
                    if e.source == next {
                        next += 1;
                        if next == spec.source_count {
                            break;
                        }
                    }
                }
                next as f64
            }
        }
    }

    fn spec(kind: CorrelationType, condition: Vec<(CmpOp, f64)>, span: i64) -> CorrelationSpec {
        CorrelationSpec {
            kind,
            timespan_ms: span,
            condition,
            source_count: 1,
        }
    }

    fn count_spec(n: f64, span: i64) -> CorrelationSpec {
        spec(CorrelationType::EventCount, vec![(CmpOp::Gte, n)], span)
    }

    fn feed(st: &mut CorrelationState, ts: i64) -> Option<Fired> {
        let mut stats = CorrelationStats::default();
        st.observe(
            vec!["k".into()],
            ts,
            0,
            None,
            &CorrelationLimits::default(),
            &mut stats,
        )
    }

    #[test]
    fn window_boundary_is_inclusive() {
        let mut st = CorrelationState::new(count_spec(2.0, 1000));
        assert!(feed(&mut st, 0).is_none());
        assert!(
            feed(&mut st, 1000).is_some(),
            "exactly timespan apart is inside"
        );
        let mut st = CorrelationState::new(count_spec(2.0, 1000));
        assert!(feed(&mut st, 0).is_none());
        assert!(feed(&mut st, 1001).is_none(), "one ms more is outside");
    }

    #[test]
    fn fires_once_per_window_with_the_real_count() {
        let mut st = CorrelationState::new(spec(
            CorrelationType::EventCount,
            vec![(CmpOp::Gte, 3.0), (CmpOp::Lte, 5.0)],
            1000,
        ));
        let fired: Vec<(i64, Fired)> = (0..12)
            .filter_map(|i| feed(&mut st, i * 10).map(|f| (i, f)))
            .collect();
        assert_eq!(
            fired,
            vec![(
                2,
                Fired {
                    window_end: 20,
                    value: 3.0
                }
            )]
        );
        // Quiet until 20 + 1000: the window ending at 1020 still holds 30..110.
        assert!(feed(&mut st, 1020).is_none());
        // After the quiet period the window [21, 1021] holds 11 events: over the
        // upper bound, so no firing with a wrong count either.
        assert!(feed(&mut st, 1021).is_none());
        // Once the old events expire, three new ones fire again with 3.
        assert!(feed(&mut st, 3000).is_none());
        assert!(feed(&mut st, 3001).is_none());
        assert_eq!(
            feed(&mut st, 3002),
            Some(Fired {
                window_end: 3002,
                value: 3.0
            })
        );
    }

    #[test]
    fn quiet_period_ends_one_timespan_after_the_fired_window() {
        let mut st = CorrelationState::new(count_spec(2.0, 100));
        assert!(feed(&mut st, 0).is_none());
        assert_eq!(feed(&mut st, 10).map(|f| f.value), Some(2.0));
        // 50 and 110 share a window; 110 <= 10 + 100 is still quiet.
        assert!(feed(&mut st, 50).is_none());
        assert!(feed(&mut st, 110).is_none());
        // 111 is past the quiet period; its window [11, 111] holds 50, 110, 111.
        assert_eq!(
            feed(&mut st, 111),
            Some(Fired {
                window_end: 111,
                value: 3.0
            })
        );
    }

    #[test]
    fn out_of_order_within_bound_counts_and_late_is_dropped() {
        let mut st = CorrelationState::new(count_spec(3.0, 1000));
        let mut stats = CorrelationStats::default();
        let l = CorrelationLimits::default();
        assert!(st.observe(vec![], 5000, 0, None, &l, &mut stats).is_none());
        assert!(st.observe(vec![], 3000, 0, None, &l, &mut stats).is_none());
        assert_eq!(stats.late, 1);
        assert!(st.observe(vec![], 4500, 0, None, &l, &mut stats).is_none());
        // Arrives after 5000 but is older: still forms a window with 4500 and 5000.
        let f = st.observe(vec![], 4200, 0, None, &l, &mut stats).unwrap();
        assert_eq!(f.window_end, 5000);
        // Another out-of-order event inside the fired window stays quiet.
        assert!(st.observe(vec![], 4800, 0, None, &l, &mut stats).is_none());
    }

    #[test]
    fn quiet_groups_outlive_their_events_until_the_period_ends() {
        let mut st = CorrelationState::new(count_spec(2.0, 100));
        assert!(feed(&mut st, 0).is_none());
        assert!(feed(&mut st, 1).is_some());
        // Quiet until 1 + 100 = 101. At a horizon of 50 its events have expired,
        // but an event at 50..=101 could still arrive and must stay quiet.
        st.sweep(50);
        assert_eq!(
            st.group_count(),
            1,
            "kept: the quiet period reaches past 50"
        );
        st.sweep(102);
        assert_eq!(st.group_count(), 0);
    }

    #[test]
    fn groups_are_bounded() {
        let mut st = CorrelationState::new(count_spec(100.0, 1_000_000));
        let mut stats = CorrelationStats::default();
        let l = CorrelationLimits {
            max_groups: 16,
            max_events_per_group: 4,
        };
        for i in 0..200 {
            st.observe(vec![i.to_string()], i, 0, None, &l, &mut stats);
        }
        assert!(st.group_count() <= 16);
        assert!(stats.evicted_groups > 0);
        for i in 0..10 {
            st.observe(vec!["same".into()], 1000 + i, 0, None, &l, &mut stats);
        }
        assert!(stats.dropped_events >= 6);
    }

    #[test]
    fn running_aggregates_and_sliding_windows_agree_with_full_scans() {
        let kinds = [
            (CorrelationType::EventCount, vec![(CmpOp::Gte, 4.0)]),
            (
                CorrelationType::EventCount,
                vec![(CmpOp::Gte, 3.0), (CmpOp::Lte, 5.0)],
            ),
            (CorrelationType::EventCount, vec![(CmpOp::Eq, 4.0)]),
            (CorrelationType::ValueCount, vec![(CmpOp::Gte, 3.0)]),
            (
                CorrelationType::ValueCount,
                vec![(CmpOp::Gt, 2.0), (CmpOp::Lt, 5.0)],
            ),
            (CorrelationType::ValueSum, vec![(CmpOp::Gt, 20.0)]),
            (CorrelationType::ValueAvg, vec![(CmpOp::Gte, 6.0)]),
            (CorrelationType::Temporal, vec![]),
            (CorrelationType::TemporalOrdered, vec![]),
        ];
        let mut seed = 12345u64;
        let mut rnd = move |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        for (kind, condition) in kinds {
            let sources = if kind == CorrelationType::TemporalOrdered {
                3
            } else {
                2
            };
            let spec = CorrelationSpec {
                kind,
                timespan_ms: 100,
                condition,
                source_count: sources,
            };
            let l = CorrelationLimits::default();
            let mut states = [Scan::Fast, Scan::Sliding, Scan::Naive].map(|scan| {
                let mut st = CorrelationState::new(spec.clone());
                st.scan = scan;
                (st, CorrelationStats::default())
            });
            let mut t = 0i64;
            let mut fired = 0;
            for _ in 0..3000 {
                // Mostly forward, sometimes back (out of order, sometimes late).
                t += rnd(40) as i64 - 8;
                let key = vec![rnd(3).to_string()];
                let src = rnd(sources as u64) as usize;
                let val = Some(rnd(10).to_string());
                let got: Vec<Option<Fired>> = states
                    .iter_mut()
                    .map(|(st, stats)| st.observe(key.clone(), t, src, val.clone(), &l, stats))
                    .collect();
                assert_eq!(got[0], got[2], "fast vs naive, {kind:?} at t={t}");
                assert_eq!(got[1], got[2], "sliding vs naive, {kind:?} at t={t}");
                if let Some(f) = &got[0] {
                    assert!(
                        condition_holds(&spec, f.value),
                        "{kind:?} fired with {}",
                        f.value
                    );
                    fired += 1;
                }
            }
            assert!(fired > 0, "{kind:?} never fired");
            assert_eq!(states[0].1, states[2].1);
            assert_eq!(states[1].1, states[2].1);
        }
    }

    #[test]
    fn temporal_ordered_needs_order() {
        let spec = CorrelationSpec {
            kind: CorrelationType::TemporalOrdered,
            timespan_ms: 1000,
            condition: vec![],
            source_count: 2,
        };
        let l = CorrelationLimits::default();
        let mut stats = CorrelationStats::default();
        let mut st = CorrelationState::new(spec.clone());
        assert!(st.observe(vec![], 0, 1, None, &l, &mut stats).is_none());
        assert!(
            st.observe(vec![], 10, 0, None, &l, &mut stats).is_none(),
            "B then A is not A then B"
        );
        assert!(st.observe(vec![], 20, 1, None, &l, &mut stats).is_some());
        assert!(
            st.observe(vec![], 30, 0, None, &l, &mut stats).is_none()
                && st.observe(vec![], 40, 1, None, &l, &mut stats).is_none(),
            "the same window does not fire twice"
        );
        // Out of order arrival of the first step still counts by timestamp.
        let mut st = CorrelationState::new(spec);
        assert!(st.observe(vec![], 500, 1, None, &l, &mut stats).is_none());
        assert!(st.observe(vec![], 100, 0, None, &l, &mut stats).is_some());
    }
}
