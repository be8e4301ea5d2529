//! Drills' half that speaks detection: an inject becomes the events the
//! pipeline sees (timestamps moved to when it fires, spacing divided by the
//! run's speed), and a rehearsal replays a whole scenario through a fresh
//! engine of the store's own rules to tell which expected detections fire —
//! `bulwark drill check`, and the CI test of every shipped scenario.

use bulwark_detect::{Engine, Event, Formats, Logsource};
use bulwark_learn::drill::scenario::Inject;
use bulwark_learn::drill::score::{score, Observations, ObservedAlert, Score};
use bulwark_learn::drill::{landing_ms, substitute, substitute_str, Scenario};

/// Why an inject could not be turned into events; names the inject and the
/// line, never the line's text (scenario lines may be real logs).
#[derive(Debug, thiserror::Error)]
pub enum InjectError {
    #[error("inject `{inject}`: log format `{format}`: {reason}")]
    Format {
        inject: String,
        format: String,
        reason: String,
    },
    #[error("inject `{inject}`: line {line} is not in format `{format}`: {reason}")]
    Line {
        inject: String,
        line: usize,
        format: String,
        reason: String,
    },
}

fn logsource(inj: &Inject) -> Option<Logsource> {
    inj.logsource.as_ref().map(|l| Logsource {
        product: l.product.clone(),
        category: l.category.clone(),
        service: l.service.clone(),
    })
}

/// Where the inject's first event lands: when it fires, or on that day at its
/// `time_of_day`.
pub(crate) fn base_ms(inj: &Inject, fire_real_ms: i64) -> i64 {
    match inj.time_of_day_ms() {
        Some(tod) => fire_real_ms - fire_real_ms.rem_euclid(86_400_000) + tod,
        None => fire_real_ms,
    }
}

/// The events inject `inj` sends when it fires at `fire_real_ms` in a run at
/// `speed`, each with when it is sent (real time) and its new `@timestamp`
/// (the same, or on that day at the inject's `time_of_day`), in order. Messages and
/// reveals send no log events (the runner handles them); a rehearsal gets
/// reveals from [`reveal_events`].
pub fn inject_events(
    inj: &Inject,
    fire_real_ms: i64,
    speed: u32,
    formats: &Formats,
) -> Result<Vec<(i64, Event)>, InjectError> {
    let shift = base_ms(inj, fire_real_ms) - fire_real_ms;
    // (original time, fields) per template event, before copies.
    let mut templates: Vec<(Option<i64>, serde_json::Map<String, serde_json::Value>)> = Vec::new();
    for v in inj.events.iter().chain(&inj.page_change) {
        if let serde_json::Value::Object(m) = v {
            let ev = Event::new(m.clone(), None);
            templates.push((ev.timestamp_ms(), m.clone()));
        }
    }
    let mut lines: Vec<(usize, &str)> = Vec::new();
    let mut format = None;
    if let Some(log) = &inj.log {
        format = Some(formats.get(&log.format).map_err(|e| InjectError::Format {
            inject: inj.id.clone(),
            format: log.format.clone(),
            reason: e.to_string(),
        })?);
        lines = log.lines.iter().map(String::as_str).enumerate().collect();
    }
    let mut out: Vec<(i64, Event)> = Vec::new();
    for copy in 0..inj.repeat {
        let mut parsed: Vec<(Option<i64>, Event)> = templates
            .iter()
            .map(|(t, m)| {
                let v = substitute(&serde_json::Value::Object(m.clone()), copy);
                let fields = match v {
                    serde_json::Value::Object(f) => f,
                    _ => serde_json::Map::new(),
                };
                (*t, Event::new(fields, logsource(inj)))
            })
            .collect();
        if let (Some(fmt), Some(log)) = (&format, &inj.log) {
            for (n, line) in &lines {
                let text = substitute_str(line, copy);
                let mut ev =
                    bulwark_detect::parse_line(fmt, &text, *n as u64 + 1).map_err(|e| {
                        InjectError::Line {
                            inject: inj.id.clone(),
                            line: n + 1,
                            format: log.format.clone(),
                            reason: e.reason,
                        }
                    })?;
                if ev.logsource.is_none() {
                    ev.logsource = logsource(inj);
                }
                parsed.push((ev.timestamp_ms(), ev));
            }
        }
        let first = parsed.iter().filter_map(|(t, _)| *t).min();
        for (t, mut ev) in parsed {
            let offset = match (t, first) {
                (Some(t), Some(f)) => t - f,
                _ => 0,
            };
            let at = landing_ms(fire_real_ms, speed, inj.every_ms, copy, offset);
            ev.set(
                "@timestamp",
                serde_json::Value::String(crate::routes::rfc3339(at + shift)),
            );
            out.push((at, ev));
        }
    }
    out.sort_by_key(|(t, _)| *t);
    Ok(out)
}

/// The vault events a reveals inject makes in a rehearsal: one reveal per
/// synthetic customer by the drill's stand-in key, a second apart in scenario time.
pub fn reveal_events(inj: &Inject, fire_real_ms: i64, speed: u32) -> Vec<(i64, Event)> {
    let Some(r) = &inj.reveals else {
        return Vec::new();
    };
    let elements: Vec<&str> = r.elements.iter().map(String::as_str).collect();
    (0..r.customers)
        .filter_map(|n| {
            let sent = landing_ms(fire_real_ms, speed, 1_000, n, 0);
            let stamp = sent + base_ms(inj, fire_real_ms) - fire_real_ms;
            let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(stamp) * 1_000_000)
                .ok()?;
            let ev = crate::detection::vault_access_event(&crate::detection::VaultAccess {
                action: "vault.reveal",
                allowed: true,
                principal: "key:drill-rehearsal",
                source: Some("198.51.100.200"),
                customer: Some(&format!("drill-customer-{n}")),
                elements: &elements,
                purpose: Some(&r.purpose),
                at,
            })?;
            Some((sent, ev))
        })
        .collect()
}

/// What a rehearsal saw.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rehearsal {
    pub events: usize,
    pub alerts: Vec<ObservedAlert>,
    /// The score with no team actions: only the detections mean anything.
    pub score: Score,
}

/// Replays `scenario` through `engine` as if started at `start_ms` at
/// `speed`, without storing anything.
pub fn rehearse(
    scenario: &Scenario,
    speed: u32,
    engine: &mut Engine,
    formats: &Formats,
    start_ms: i64,
) -> Result<Rehearsal, InjectError> {
    let speed = speed.max(1);
    let mut events = Vec::new();
    for inj in &scenario.injects {
        let fire = start_ms + inj.offset_ms / i64::from(speed);
        events.extend(inject_events(inj, fire, speed, formats)?);
        events.extend(reveal_events(inj, fire, speed));
    }
    // Stable: events sent at the same moment keep the scenario's order.
    events.sort_by_key(|(sent, _)| *sent);
    let to_scenario = |ms: i64| (ms - start_ms).max(0) * i64::from(speed);
    let first_attack = events.first().map(|(sent, _)| to_scenario(*sent));
    let mut alerts: Vec<ObservedAlert> = Vec::new();
    for (sent, ev) in &events {
        // An alert exists once the event that raised it has been sent.
        for d in engine.process(ev) {
            if !alerts.iter().any(|a| a.rule_id == d.rule_id) {
                alerts.push(ObservedAlert {
                    rule_id: d.rule_id,
                    rule_title: d.rule_title,
                    at_ms: to_scenario(*sent),
                });
            }
        }
    }
    let obs = Observations {
        first_attack_ms: first_attack,
        alerts: alerts.clone(),
        actions: Vec::new(),
        now_ms: scenario.duration_ms,
        finished: true,
    };
    Ok(Rehearsal {
        events: events.len(),
        score: score(scenario, &obs),
        alerts,
    })
}
