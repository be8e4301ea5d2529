//! The drill runner inside `serve`: every tick it drives each running drill
//! the store holds — fires the injects that are due, sends their events
//! through the run's own engine (the store's rules, none of the live
//! engine's state), reveals the synthetic customers a stolen-key inject asks
//! for, queues messages to the operators holding a role — and ends a run at
//! its duration with its score. Observations for scoring come from the store:
//! the run's alerts and what people did on its incidents.
//!
//! A drill cannot reach a real customer or a real clock: its alerts only
//! open and join its own incidents (`drill` on the incident), those
//! incidents' containment only simulates, their letters are never claimed by
//! the sender, and the only vault records it reveals are customers it created
//! for the run (erased when it ends).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bulwark_detect::{Engine, Event};
use bulwark_learn::drill::scenario::Inject;
use bulwark_learn::drill::score::{
    score, Observation, Observations, ObservedAction, ObservedAlert, Score,
};
use bulwark_learn::drill::{due_injects, landing_ms, Clock, Scenario};
use bulwark_model::{DataElement, Residency, Scope, Scopes};
use bulwark_store::{
    drill_source, DrillError, DrillProgress, DrillRun, DrillState, FiredInject, NewCustomer,
    Principal, RevealRequest, Store, StoreError,
};

use crate::AppState;

/// The engines of the runs this process drives, by run id.
#[derive(Default)]
pub struct DrillEngines {
    live: Mutex<HashMap<u64, Engine>>,
}

/// Why a tick could not drive a run.
#[derive(Debug, thiserror::Error)]
pub enum DrillRunError {
    #[error("drill run {run}: its scenario no longer reads: {reason}")]
    Scenario { run: u64, reason: String },
    #[error("drills need live detection (serve without --no-detection)")]
    NoDetection,
    #[error(transparent)]
    Inject(#[from] crate::drill::InjectError),
    #[error(transparent)]
    Rules(#[from] bulwark_store::DataFileError),
    #[error(transparent)]
    Drill(#[from] DrillError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the drill runner: {0}")]
    Internal(String),
}

/// The scenario a run was started with.
pub fn scenario_of(run: &DrillRun) -> Result<Scenario, DrillRunError> {
    Scenario::parse(&format!("drill run {}", run.id), &run.scenario).map_err(|e| {
        DrillRunError::Scenario {
            run: run.id,
            reason: e.to_string(),
        }
    })
}

pub fn clock_of(run: &DrillRun) -> Clock {
    Clock {
        started_ms: run.started_ms,
        speed: run.speed.max(1),
        pauses: run.pauses.clone(),
    }
}

/// The principal the drill's stolen key acts as: named for the run, so its
/// reveals are told apart in the access log and scope finds exactly them.
pub fn drill_principal(run: u64) -> Principal {
    Principal {
        id: format!("key:drill-{run}"),
        name: format!("drill {run} stolen key"),
        key_id: None,
        scopes: Scopes::new([Scope::VaultRevealAll]),
    }
}

/// Where the synthetic customers live, in turn: enough jurisdictions that
/// scope, deadlines and letters have something to show.
const RESIDENCIES: [(&str, Option<&str>); 8] = [
    ("US", Some("US-CA")),
    ("US", Some("US-NY")),
    ("US", Some("US-TX")),
    ("DE", None),
    ("FR", None),
    ("GB", None),
    ("CA", Some("CA-ON")),
    ("US", Some("US-FL")),
];

fn synthetic_customer(run: u64, n: u32) -> NewCustomer {
    let (country, sub) = RESIDENCIES[n as usize % RESIDENCIES.len()];
    let mut fields = std::collections::BTreeMap::new();
    fields.insert(
        "name".to_owned(),
        serde_json::json!(format!("Drill Customer {run}-{n}")),
    );
    // `.invalid` (RFC 2606): no mail to it can ever be delivered.
    fields.insert(
        "email".to_owned(),
        serde_json::json!(format!("drill-{run}-{n}@example.invalid")),
    );
    // The well-known test card number (it passes the checksum, belongs to
    // nobody): a skimmer drill's scope then holds card data, as a real one would.
    fields.insert(
        "card_number".to_owned(),
        serde_json::json!("4111 1111 1111 1111"),
    );
    NewCustomer {
        external_id: Some(format!("drill-{run}-{n}")),
        residency: Residency {
            country: country.to_owned(),
            subdivision: sub.map(str::to_owned),
        },
        language: None,
        fields,
    }
}

fn inject<'a>(s: &'a Scenario, id: &str) -> Option<&'a Inject> {
    s.injects.iter().find(|i| i.id == id)
}

/// One reveal a stolen-key inject makes: the timestamp its event carries,
/// and the customer's number in the run.
struct Reveal {
    stamp: i64,
    n: u32,
    elements: Vec<String>,
    purpose: String,
}

/// Drives every running drill once, at real time `now_ms`.
pub async fn tick(state: &AppState, now_ms: i64) -> Result<(), DrillRunError> {
    let runs = state.store.running_drills()?;
    for run in runs {
        let id = run.id;
        if let Err(e) = tick_run(state, run, now_ms).await {
            tracing::warn!(run = id, error = %e, "drill run not advanced");
        }
    }
    Ok(())
}

/// Synthetic customers a run needs: one per revealed customer, or a couple
/// of dozen for scenarios without reveals (so a scope from a compromised
/// asset has customers to find, in several jurisdictions).
fn customers_needed(s: &Scenario) -> u32 {
    let revealed: u32 = s
        .injects
        .iter()
        .filter_map(|i| i.reveals.as_ref().map(|r| r.customers))
        .max()
        .unwrap_or(0);
    if revealed > 0 {
        revealed
    } else {
        24
    }
}

async fn tick_run(state: &AppState, run: DrillRun, now_ms: i64) -> Result<(), DrillRunError> {
    let detector = state.detector.clone().ok_or(DrillRunError::NoDetection)?;
    let scenario = scenario_of(&run)?;
    let have = state.store.drill_customers(run.id)?.len() as u32;
    if run.fired.is_empty() && have < customers_needed(&scenario) {
        // The clock stands still while the drill makes its customers: the
        // time it takes is no attacker's and no responder's.
        create_customers(&state.store, run.id, have, customers_needed(&scenario)).await?;
        let done = crate::detection::now_ms();
        state
            .store
            .pause_drill_clock(run.id, now_ms, done)
            .wait()
            .await?;
        return Ok(());
    }
    let clock = clock_of(&run);
    let speed = clock.speed;
    let scen_now = clock.scenario_ms(now_ms);
    let mut fired = run.fired.clone();
    let due = due_injects(&scenario, fired.len(), scen_now);
    for idx in due {
        let inj = &scenario.injects[idx];
        let late = (scen_now - inj.offset_ms).max(0) / i64::from(speed);
        // Never before what was already sent: an inject the runner reaches
        // late (after preparing, or behind at a high speed) starts now.
        fired.push(FiredInject {
            inject: inj.id.clone(),
            fire_ms: (now_ms - late).max(run.sent_through_ms + 1),
        });
        if let Some(m) = &inj.message {
            queue_message(&state.store, run.id, inj, m).await?;
        }
    }
    // What is to be sent in (sent_through, now], in order.
    let from = run.sent_through_ms;
    let formats = detector.formats();
    let mut sends: Vec<(i64, Send)> = Vec::new();
    for f in &fired {
        let Some(inj) = inject(&scenario, &f.inject) else {
            continue;
        };
        for (sent, ev) in crate::drill::inject_events(inj, f.fire_ms, speed, &formats)? {
            if sent > from && sent <= now_ms {
                sends.push((sent, Send::Event(Box::new(ev))));
            }
        }
        if let Some(r) = &inj.reveals {
            let shift = crate::drill::base_ms(inj, f.fire_ms) - f.fire_ms;
            for n in 0..r.customers {
                let sent = landing_ms(f.fire_ms, speed, 1_000, n, 0);
                if sent > from && sent <= now_ms {
                    sends.push((
                        sent,
                        Send::Reveal(Reveal {
                            stamp: sent + shift,
                            n,
                            elements: r.elements.clone(),
                            purpose: r.purpose.clone(),
                        }),
                    ));
                }
            }
        }
    }
    sends.sort_by_key(|(t, _)| *t);
    let first_sent = sends.first().map(|(t, _)| *t);
    let customers = state.store.drill_customers(run.id)?;
    for (_, send) in sends {
        let event = match send {
            Send::Event(ev) => Some(*ev),
            Send::Reveal(r) => {
                // Containment on the drill's incident acts on the drill: the
                // thief's further reveals are refused.
                let refused = state.store.drill_key_refused(run.id)?;
                reveal_for_real(&state.store, run.id, &customers, r, refused).await?
            }
        };
        let Some(event) = event else { continue };
        let detections = {
            let mut live = state.drills.live.lock().map_err(|_| {
                DrillRunError::Internal("the drill engines' lock is poisoned".into())
            })?;
            let engine = match live.entry(run.id) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => v.insert(detector.fresh_engine()?),
            };
            engine.process(&event)
        };
        // Recorded as they fire, so an alert's time is when detection saw it.
        if !detections.is_empty() {
            let alerts = crate::detection::to_alerts(
                detections,
                &drill_source(run.id),
                crate::detection::now_ms(),
            );
            crate::detection::record_and_route(
                &detector,
                &state.store,
                &state.playbooks,
                alerts,
                Some(run.id),
            )
            .await?;
        }
    }
    let lag = crate::detection::now_ms() - now_ms;
    if lag > 2_000 {
        tracing::warn!(
            run = run.id,
            lag_ms = lag,
            speed,
            "the drill runs behind its schedule at this speed; a lower --speed keeps its timings true"
        );
    }
    let progress = DrillProgress {
        fired,
        first_attack_ms: run.first_attack_ms.or(first_sent),
        sent_through_ms: now_ms,
    };
    state
        .store
        .record_drill_progress(run.id, progress)
        .wait()
        .await?;
    if scen_now >= scenario.duration_ms {
        finish(state, run.id, now_ms).await?;
    }
    Ok(())
}

/// One thing a tick sends.
enum Send {
    Event(Box<Event>),
    Reveal(Reveal),
}

/// Creates synthetic customers `from..to` of run `run`.
async fn create_customers(
    store: &Store,
    run: u64,
    from: u32,
    to: u32,
) -> Result<(), DrillRunError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || -> Result<(), DrillRunError> {
        let principal = drill_principal(run);
        for n in from..to {
            let id = store
                .create_customer(&synthetic_customer(run, n), &principal)
                .map_err(|e| DrillRunError::Internal(format!("a drill customer: {e}")))?
                .wait_blocking()
                .map_err(|e| DrillRunError::Internal(format!("a drill customer: {e}")))?;
            store.add_drill_customer(run, id).wait_blocking()?;
        }
        Ok(())
    })
    .await
    .map_err(|e| DrillRunError::Internal(format!("the drill's customers: {e}")))?
}

/// Reveals synthetic customer `r.n` with the run's stolen key through the
/// real vault (so the access log and scope see it), and returns the vault
/// event detection sees, as the live reveal path makes it.
async fn reveal_for_real(
    store: &Store,
    run: u64,
    customers: &[uuid::Uuid],
    r: Reveal,
    refused: bool,
) -> Result<Option<Event>, DrillRunError> {
    let Some(id) = customers
        .get(r.n as usize % customers.len().max(1))
        .copied()
    else {
        return Ok(None);
    };
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        let principal = drill_principal(run);
        let elements: Vec<DataElement> = r.elements.iter().filter_map(|e| e.parse().ok()).collect();
        let allowed = !refused
            && store
                .reveal_blocking(RevealRequest {
                    principal: principal.clone(),
                    purpose: Some(r.purpose.clone()),
                    customer: id,
                    elements,
                    source: Some(DRILL_SOURCE_IP.into()),
                })
                .is_ok();
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(r.stamp) * 1_000_000)
            .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
        let els: Vec<&str> = r.elements.iter().map(String::as_str).collect();
        let customer = id.to_string();
        crate::detection::vault_access_event(&crate::detection::VaultAccess {
            action: "vault.reveal",
            allowed,
            principal: &principal.id,
            source: Some(DRILL_SOURCE_IP),
            customer: Some(&customer),
            elements: &els,
            purpose: Some(&r.purpose),
            at,
        })
    })
    .await
    .map_err(|e| DrillRunError::Internal(format!("the drill's reveals stopped: {e}")))
}

/// Where the drill's thief connects from (TEST-NET-2, RFC 5737).
const DRILL_SOURCE_IP: &str = "198.51.100.200";

async fn queue_message(
    store: &Store,
    run: u64,
    inj: &Inject,
    m: &bulwark_learn::drill::scenario::MessageInject,
) -> Result<(), DrillRunError> {
    let to: Vec<(String, String)> = store
        .operators()?
        .into_iter()
        .filter(|o| !o.disabled && o.roles.has_team(m.role))
        .filter_map(|o| o.email.map(|e| (o.id, e)))
        .collect();
    let mut body = format!(
        "This is a drill (run {run}), not a real incident.\n\n{}\n",
        m.text.trim()
    );
    if !m.questions.is_empty() {
        body.push_str("\nTo discuss:\n");
        for q in &m.questions {
            body.push_str(&format!("- {q}\n"));
        }
    }
    body.push_str(
        "\nAnswer by acting in Bulwark: what you do on the drill's incident is scored.\n",
    );
    store
        .queue_drill_messages(
            run,
            &inj.id,
            m.role.code(),
            to,
            format!("[DRILL {run}] {}", m.subject),
            body,
        )
        .wait()
        .await?;
    Ok(())
}

/// What happened in run `run` up to `until_ms` (real time), in scenario time.
pub fn observe(
    store: &Store,
    run: &DrillRun,
    scenario: &Scenario,
    until_ms: i64,
) -> Result<Observations, DrillRunError> {
    let clock = clock_of(run);
    let at = |ms: i64| clock.scenario_ms(ms);
    let alerts = store
        .drill_alerts(run.id)?
        .into_iter()
        .filter(|a| a.created_ms <= until_ms)
        .map(|a| ObservedAlert {
            rule_id: a.rule_id,
            rule_title: a.rule_title,
            at_ms: at(a.created_ms),
        })
        .collect();
    let mut actions = Vec::new();
    for id in store.drill_incidents(run.id)? {
        let rec = match store.incident(id) {
            Ok(r) => r,
            Err(bulwark_store::IncidentReadError::NotFound(_)) => continue,
            Err(bulwark_store::IncidentReadError::Store(e)) => return Err(e.into()),
        };
        for e in &rec.timeline {
            let ms = (e.at.unix_timestamp_nanos() / 1_000_000) as i64;
            if ms > until_ms {
                continue;
            }
            if let Some(what) = observation(e) {
                actions.push(ObservedAction {
                    what,
                    at_ms: at(ms),
                    actor: e.actor.clone(),
                });
            }
        }
        for v in store.notice_versions(id)? {
            if v.created_ms <= until_ms {
                actions.push(ObservedAction {
                    what: Observation::LettersRendered,
                    at_ms: at(v.created_ms),
                    actor: v.created_by.clone(),
                });
            }
            if let (Some(ms), Some(by)) = (v.approved_ms, &v.approved_by) {
                if ms <= until_ms {
                    actions.push(ObservedAction {
                        what: Observation::LettersApproved,
                        at_ms: at(ms),
                        actor: by.clone(),
                    });
                }
            }
        }
    }
    actions.sort_by_key(|a| a.at_ms);
    let finished = run.state == DrillState::Finished;
    Ok(Observations {
        first_attack_ms: run.first_attack_ms.map(at),
        alerts,
        actions,
        now_ms: if finished {
            scenario.duration_ms
        } else {
            at(until_ms)
        },
        finished,
    })
}

/// What a timeline entry counts as for scoring.
fn observation(e: &bulwark_incident::TimelineEntry) -> Option<Observation> {
    use bulwark_incident::EntryKind;
    let d = &e.details;
    let s = |k: &str| d.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    match e.kind {
        EntryKind::Opened => Some(Observation::Opened {
            playbooks: Vec::new(),
        }),
        EntryKind::PlaybookApplied => {
            s("playbook").map(|playbook| Observation::PlaybookApplied { playbook })
        }
        EntryKind::Containment => {
            let record: bulwark_incident::ContainmentRecord =
                serde_json::from_value(d.clone()).ok()?;
            (record.succeeded && !record.undo).then(|| Observation::Containment {
                action: record.action.code(),
            })
        }
        EntryKind::Evidence => {
            (s("custody").as_deref() == Some("collected")).then_some(Observation::Evidence)
        }
        EntryKind::PhaseChanged => s("to").map(|phase| Observation::Phase { phase }),
        EntryKind::TaskDone => s("key").map(|task| Observation::TaskDone { task }),
        EntryKind::Note if d.get("scope_version").is_some() => Some(Observation::Scope),
        EntryKind::Note => Some(Observation::Note {
            text: e.text.clone(),
        }),
        _ => None,
    }
}

/// The score of `run` now (or at its end, once finished).
pub fn current_score(
    store: &Store,
    run: &DrillRun,
    now_ms: i64,
) -> Result<(Scenario, Score), DrillRunError> {
    let scenario = scenario_of(run)?;
    let until = run.finished_ms.unwrap_or(now_ms);
    let obs = observe(store, run, &scenario, until)?;
    let s = score(&scenario, &obs);
    Ok((scenario, s))
}

/// Ends a run: scores it, ledgers the result (the plan test the compliance
/// calendar counts) and erases its synthetic customers.
pub async fn finish(state: &AppState, run_id: u64, now_ms: i64) -> Result<(), DrillRunError> {
    let mut run = state.store.drill_run(run_id)?;
    let scenario = scenario_of(&run)?;
    // Scored as finished: what is not done by now is missed.
    run.state = DrillState::Finished;
    run.finished_ms = Some(now_ms);
    let obs = observe(&state.store, &run, &scenario, now_ms)?;
    let s = score(&scenario, &obs);
    let value = serde_json::to_value(&s)
        .map_err(|e| DrillRunError::Internal(format!("a drill score: {e}")))?;
    let summary = serde_json::json!({
        "requirement": scenario.requirement,
        "ttd_ms": s.ttd_ms,
        "ttc_ms": s.ttc_ms,
        "earned": s.earned,
        "possible": s.possible,
        "ratings": s.objectives.iter().map(|o| serde_json::json!({"objective": o.id, "rating": o.rating})).collect::<Vec<_>>(),
    });
    let improvements = s
        .improvements
        .iter()
        .map(|i| (i.title.clone(), i.objective.clone(), i.owner.clone()))
        .collect();
    state
        .store
        .finish_drill(run_id, value, summary, improvements, IMPROVEMENTS_DUE_MS)
        .wait()
        .await?;
    if let Ok(mut live) = state.drills.live.lock() {
        live.remove(&run_id);
    }
    let principal = drill_principal(run_id);
    for c in state.store.drill_customers(run_id)? {
        if let Err(e) = state.store.erase_customer(c, &principal).wait().await {
            tracing::warn!(run = run_id, error = %e, "a drill customer was not erased");
        }
    }
    tracing::info!(
        run = run_id,
        earned = s.earned,
        possible = s.possible,
        "drill finished"
    );
    Ok(())
}

/// Improvement items are due this long after the run ends.
pub const IMPROVEMENTS_DUE_MS: i64 = 30 * 86_400_000;

/// The loop `serve` runs: a tick every `every`.
pub async fn run_loop(state: AppState, every: std::time::Duration) {
    let mut t = tokio::time::interval(every);
    t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        t.tick().await;
        if let Err(e) = tick(&state, crate::detection::now_ms()).await {
            tracing::warn!(error = %e, "drill runner");
        }
    }
}

/// Shared handle type kept in the app state.
pub type Engines = Arc<DrillEngines>;

pub fn rfc3339(ms: i64) -> String {
    crate::routes::rfc3339(ms)
}

/// The after-action report of a run (a running one's so far), in `format`.
/// Its improvement items are due 30 days after the run ends.
pub fn report(
    store: &Store,
    run: &DrillRun,
    format: bulwark_learn::drill::report::ReportFormat,
    now_ms: i64,
) -> Result<String, DrillRunError> {
    let (scenario, s) = current_score(store, run, now_ms)?;
    let end = run.finished_ms.unwrap_or(now_ms);
    let due =
        time::OffsetDateTime::from_unix_timestamp((end + IMPROVEMENTS_DUE_MS).div_euclid(1000))
            .map(|t| t.date().to_string())
            .unwrap_or_default();
    let facts = bulwark_learn::drill::report::RunFacts {
        run: run.id as i64,
        state: run.state.code().to_owned(),
        started: rfc3339(run.started_ms),
        finished: run.finished_ms.map(rfc3339),
        speed: run.speed,
        started_by: run.started_by.clone(),
        incidents: store.drill_incidents(run.id)?,
        injects: run
            .fired
            .iter()
            .map(|f| {
                let at = inject(&scenario, &f.inject)
                    .map(|i| i.at.clone())
                    .unwrap_or_default();
                (f.inject.clone(), at)
            })
            .collect(),
        improvements_due: due,
    };
    bulwark_learn::drill::report::render_report(&scenario, &s, &facts, format)
        .map_err(|e| DrillRunError::Internal(e.to_string()))
}
