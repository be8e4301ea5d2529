//! Drills: scenarios (`scenario`), the run's clock and the concrete injects it
//! sends (here), scoring (`score`) and the after-action report (`report`).
//! Pure: the server's runner sends what [`expand`] gives into ingestion and
//! the vault, and hands the store's observations to [`score::score`].

pub mod report;
pub mod scenario;
pub mod score;

use std::collections::BTreeMap;

pub use scenario::{Scenario, ScenarioError};

/// A run's clock: scenario time runs `speed` times faster than real time and
/// stands still while the run is stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    pub started_ms: i64,
    pub speed: u32,
    /// Real-time intervals (from, to) the run was stopped; the last may be open.
    pub pauses: Vec<(i64, Option<i64>)>,
}

impl Clock {
    /// Scenario milliseconds since the start at real time `real_ms`.
    pub fn scenario_ms(&self, real_ms: i64) -> i64 {
        let paused: i64 = self
            .pauses
            .iter()
            .map(|(from, to)| {
                let end = to.unwrap_or(real_ms).min(real_ms);
                (end - from).max(0)
            })
            .sum();
        (real_ms - self.started_ms - paused)
            .max(0)
            .saturating_mul(i64::from(self.speed))
    }
}

/// The shipped and overriding scenario files, by id.
#[derive(Debug, Clone, Default)]
pub struct ScenarioSet {
    by_id: BTreeMap<String, Scenario>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioSetError {
    #[error(transparent)]
    Parse(#[from] ScenarioError),
    #[error("{path}: scenario id `{id}` is also used by {other}")]
    Duplicate {
        path: String,
        id: String,
        other: String,
    },
}

impl ScenarioSet {
    /// The files as given; a later file with an id already seen replaces it
    /// only through [`ScenarioSet::with_overrides`].
    pub fn load<P: AsRef<str>, T: AsRef<str>>(files: &[(P, T)]) -> Result<Self, ScenarioSetError> {
        let mut set = ScenarioSet::default();
        let mut paths: BTreeMap<String, String> = BTreeMap::new();
        for (p, t) in files {
            let s = Scenario::parse(p.as_ref(), t.as_ref())?;
            if let Some(other) = paths.insert(s.id.clone(), p.as_ref().to_owned()) {
                return Err(ScenarioSetError::Duplicate {
                    path: p.as_ref().to_owned(),
                    id: s.id,
                    other,
                });
            }
            set.by_id.insert(s.id.clone(), s);
        }
        Ok(set)
    }

    pub fn builtin() -> Result<Self, ScenarioSetError> {
        Self::load(crate::builtin::SCENARIOS)
    }

    /// The data directory's files replace shipped scenarios of the same id and add new ones.
    pub fn with_overrides<P: AsRef<str>, T: AsRef<str>>(
        mut self,
        files: &[(P, T)],
    ) -> Result<Self, ScenarioSetError> {
        let extra = Self::load(files)?;
        self.by_id.extend(extra.by_id);
        Ok(self)
    }

    pub fn get(&self, id: &str) -> Option<&Scenario> {
        self.by_id.get(id)
    }

    pub fn scenarios(&self) -> impl Iterator<Item = &Scenario> {
        self.by_id.values()
    }
}

/// `${i}` → the copy's number from 0, `${i1}` from 1, `${i3}` zero-padded to 3
/// digits, in every string of a value.
pub fn substitute(v: &serde_json::Value, copy: u32) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => Value::String(substitute_str(s, copy)),
        Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, copy)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (substitute_str(k, copy), substitute(x, copy)))
                .collect(),
        ),
        other => other.clone(),
    }
}

pub fn substitute_str(s: &str, copy: u32) -> String {
    if !s.contains("${i") {
        return s.to_owned();
    }
    s.replace("${i1}", &(u64::from(copy) + 1).to_string())
        .replace("${i3}", &format!("{copy:03}"))
        .replace("${i}", &copy.to_string())
}

/// Where an event of an inject lands in real time: the inject fires at
/// `fire_real_ms`; copy `copy` is `every_ms` (scenario time) after the one
/// before; within a copy, events keep their spacing (`offset_in_copy_ms`,
/// scenario time from the copy's first event). Scenario time is divided by
/// the run's speed.
pub fn landing_ms(
    fire_real_ms: i64,
    speed: u32,
    every_ms: i64,
    copy: u32,
    offset_in_copy_ms: i64,
) -> i64 {
    let scenario = every_ms
        .saturating_mul(i64::from(copy))
        .saturating_add(offset_in_copy_ms.max(0));
    fire_real_ms.saturating_add(scenario / i64::from(speed.max(1)))
}

/// Due injects at scenario time `now_scenario_ms`, from `next` on: their indexes.
pub fn due_injects(s: &Scenario, next: usize, now_scenario_ms: i64) -> std::ops::Range<usize> {
    let end = s
        .injects
        .iter()
        .enumerate()
        .skip(next)
        .find(|(_, i)| i.offset_ms > now_scenario_ms)
        .map_or(s.injects.len(), |(n, _)| n);
    next.min(end)..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_runs_fast_and_stands_still_while_stopped() {
        let c = Clock {
            started_ms: 1_000,
            speed: 60,
            pauses: vec![(2_000, Some(5_000))],
        };
        assert_eq!(c.scenario_ms(2_000), 60_000);
        assert_eq!(c.scenario_ms(4_000), 60_000);
        assert_eq!(c.scenario_ms(6_000), 120_000);
        let open = Clock {
            started_ms: 0,
            speed: 1,
            pauses: vec![(10, None)],
        };
        assert_eq!(open.scenario_ms(1_000), 10);
    }

    #[test]
    fn copies_are_numbered_and_spaced() {
        let v = serde_json::json!({"user.name": "user${i3}", "n": ["${i1}"]});
        assert_eq!(
            substitute(&v, 7),
            serde_json::json!({"user.name": "user007", "n": ["8"]})
        );
        assert_eq!(landing_ms(1_000, 10, 2_000, 3, 500), 1_000 + 650);
    }
}
