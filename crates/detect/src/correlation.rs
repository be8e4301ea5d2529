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
//! - When a group's condition holds, the correlation fires once and that group's
//!   state is cleared, so a burst of N events over a threshold T yields about N/T
//!   detections rather than one per event.
//! - A group-by field missing from an event groups under the empty string.
//! - Memory: at most `max_events_per_group` entries per group (oldest dropped) and
//!   `max_groups` groups per correlation (expired groups swept first, then the
//!   least recently seen evicted).

use std::collections::{HashSet, VecDeque};
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

/// One group's events in time order, plus running aggregates over all of them
/// so the common in-order case is O(1) per event instead of a window scan.
#[derive(Debug, Default)]
struct Group {
    entries: VecDeque<Entry>,
    last_seen: i64,
    /// Distinct values held and how often (value_count).
    values: FxHashMap<Arc<str>, u32>,
    /// Sum and count of numeric values held (value_sum / value_avg).
    sum: f64,
    numeric: u32,
    /// Entries held per source rule (temporal).
    per_source: Vec<u32>,
}

impl Group {
    fn add(&mut self, e: &Entry) {
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

    fn pop_front(&mut self) {
        if let Some(e) = self.entries.pop_front() {
            self.remove(&e);
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.values.clear();
        self.sum = 0.0;
        self.numeric = 0;
        self.per_source.clear();
    }

    /// The aggregate over every held entry (valid when they all fit one window).
    fn running(&self, spec: &CorrelationSpec) -> Option<f64> {
        Some(match spec.kind {
            CorrelationType::EventCount => self.entries.len() as f64,
            CorrelationType::ValueCount => self.values.len() as f64,
            CorrelationType::ValueSum => self.sum,
            CorrelationType::ValueAvg if self.numeric == 0 => 0.0,
            CorrelationType::ValueAvg => self.sum / f64::from(self.numeric),
            CorrelationType::Temporal => self.per_source.iter().filter(|c| **c > 0).count() as f64,
            CorrelationType::TemporalOrdered => return None,
        })
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
    pub value: f64,
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
    /// Tests compare the running-aggregate fast path against full window scans.
    #[cfg(test)]
    force_scan: bool,
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
            force_scan: false,
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
            g.last_seen = 0;
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
        group.add(&entry);
        group.entries.insert(at, entry);
        // Decided before eviction shifts the indices.
        let newest = at + 1 == group.entries.len();
        #[cfg(test)]
        let newest = newest && !self.force_scan;
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
        let fired = match group.running(&self.spec) {
            // In order, and the group fits one window ending now: that window is
            // the only one containing this event, and its aggregate is running.
            Some(value) if newest && all_in_window => {
                condition_holds(&self.spec, value).then_some(Fired {
                    window_end: ts,
                    value,
                })
            }
            _ => evaluate(&self.spec, group, ts),
        };
        if fired.is_some() {
            group.clear();
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
        for (k, g) in self
            .groups
            .extract_if(|_, g| g.last_seen < horizon || g.entries.is_empty())
        {
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

/// Checks every window `[end - span, end]` that contains `ts`.
fn evaluate(spec: &CorrelationSpec, g: &Group, ts: i64) -> Option<Fired> {
    let span = spec.timespan_ms;
    let ends: Vec<i64> = g
        .entries
        .iter()
        .map(|e| e.ts)
        .filter(|&e| e >= ts && e - ts <= span)
        .collect();
    let mut last_end = None;
    for end in ends {
        if last_end == Some(end) {
            continue;
        }
        last_end = Some(end);
        let window = g
            .entries
            .iter()
            .filter(|e| e.ts <= end && end - e.ts <= span);
        let value = aggregate(spec, window);
        let ok = match spec.kind {
            CorrelationType::Temporal | CorrelationType::TemporalOrdered
                if spec.condition.is_empty() =>
            {
                value >= spec.source_count as f64
            }
            CorrelationType::TemporalOrdered => value >= spec.source_count as f64,
            _ => spec.condition.iter().all(|(op, n)| op.test(value, *n)),
        };
        if ok {
            return Some(Fired {
                window_end: end,
                value,
            });
        }
    }
    None
}

fn condition_holds(spec: &CorrelationSpec, value: f64) -> bool {
    match spec.kind {
        CorrelationType::Temporal if spec.condition.is_empty() => value >= spec.source_count as f64,
        // The order is the point of temporal_ordered: the whole chain is required.
        CorrelationType::TemporalOrdered => value >= spec.source_count as f64,
        _ => spec.condition.iter().all(|(op, n)| op.test(value, *n)),
    }
}

fn aggregate<'a>(spec: &CorrelationSpec, window: impl Iterator<Item = &'a Entry>) -> f64 {
    match spec.kind {
        CorrelationType::EventCount => window.count() as f64,
        CorrelationType::ValueCount => {
            let distinct: HashSet<&str> = window.filter_map(|e| e.value.as_deref()).collect();
            distinct.len() as f64
        }
        CorrelationType::ValueSum | CorrelationType::ValueAvg => {
            let nums: Vec<f64> = window
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
            let distinct: HashSet<usize> = window.map(|e| e.source).collect();
            distinct.len() as f64
        }
        CorrelationType::TemporalOrdered => {
            // Longest prefix of the rule order found as a subsequence (greedy is optimal).
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

#[cfg(test)]
mod tests {
    use super::*;

    fn count_spec(n: f64, span: i64) -> CorrelationSpec {
        CorrelationSpec {
            kind: CorrelationType::EventCount,
            timespan_ms: span,
            condition: vec![(CmpOp::Gte, n)],
            source_count: 1,
        }
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
    fn running_aggregates_agree_with_window_scans() {
        let kinds = [
            (CorrelationType::EventCount, vec![(CmpOp::Gte, 4.0)]),
            (CorrelationType::ValueCount, vec![(CmpOp::Gte, 3.0)]),
            (CorrelationType::ValueSum, vec![(CmpOp::Gt, 20.0)]),
            (CorrelationType::ValueAvg, vec![(CmpOp::Gte, 6.0)]),
            (CorrelationType::Temporal, vec![]),
        ];
        let mut seed = 12345u64;
        let mut rnd = move |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        for (kind, condition) in kinds {
            let spec = CorrelationSpec {
                kind,
                timespan_ms: 100,
                condition,
                source_count: 2,
            };
            let l = CorrelationLimits::default();
            let mut fast = CorrelationState::new(spec.clone());
            let mut slow = CorrelationState::new(spec);
            slow.force_scan = true;
            let (mut sf, mut ss) = (CorrelationStats::default(), CorrelationStats::default());
            let mut t = 0i64;
            let mut fired = 0;
            for _ in 0..3000 {
                // Mostly forward, sometimes back (out of order, sometimes late).
                t += rnd(40) as i64 - 8;
                let key = vec![rnd(3).to_string()];
                let src = rnd(2) as usize;
                let val = Some(rnd(10).to_string());
                let a = fast.observe(key.clone(), t, src, val.clone(), &l, &mut sf);
                let b = slow.observe(key, t, src, val, &l, &mut ss);
                assert_eq!(a, b, "{kind:?} at t={t}");
                fired += usize::from(a.is_some());
            }
            assert!(fired > 0, "{kind:?} never fired");
            assert_eq!(sf, ss);
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
        // Out of order arrival of the first step still counts by timestamp.
        let mut st = CorrelationState::new(spec);
        assert!(st.observe(vec![], 500, 1, None, &l, &mut stats).is_none());
        assert!(st.observe(vec![], 100, 0, None, &l, &mut stats).is_some());
    }
}
