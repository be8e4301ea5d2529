//! Live detection: the compiled rule set shared by every request, fed by
//! `POST /v1/events` and by the vault's own reveals; detections become alerts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bulwark_detect::{Detection, Engine, Event};
use bulwark_store::{DataDir, DataFileError, NewAlert, RulePacks, Store};
use tokio::sync::{mpsc, Semaphore};

/// What a rule (re)load did.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RulesLoaded {
    pub rules: usize,
    /// Each rejected rule file with why (`path:line:col: …`).
    pub rejected: Vec<String>,
    /// Correlation windows carried over from the previous rule set.
    pub correlation_state_kept: usize,
}

/// Why the rules could not be reloaded; the running set stays in place.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(transparent)]
    Files(#[from] DataFileError),
    #[error("the detection engine's lock is poisoned (a rule panicked); restart the server")]
    Poisoned,
}

pub struct Detector {
    engine: Mutex<Engine>,
    /// Rule id → tags, for routing alerts to playbooks (ATT&CK techniques).
    tags: Mutex<std::collections::HashMap<String, Vec<String>>>,
    /// When alerts open or join incidents.
    pub auto_open: bulwark_incident::AutoOpenConfig,
    dir: DataDir,
    packs: RulePacks,
    /// Bounds concurrent ingest requests: beyond it callers are told to retry.
    pub(crate) ingest: Arc<Semaphore>,
    pub(crate) window_ms: i64,
    vault_tx: mpsc::Sender<Event>,
    vault_dropped: AtomicU64,
    /// The log formats `POST /v1/events?format=` names: built-in plus the data
    /// directory's mapping files, read at start and on reload (not per request).
    formats: Mutex<bulwark_detect::Formats>,
}

fn tags_of(engine: &Engine) -> std::collections::HashMap<String, Vec<String>> {
    engine
        .rules()
        .into_iter()
        .map(|r| (r.rule_id, r.tags))
        .collect()
}

fn load(dir: &DataDir, packs: RulePacks) -> Result<(Engine, Vec<String>), DataFileError> {
    let (set, reports) = dir.rules(packs)?.load();
    let rejected = reports
        .iter()
        .filter(|r| !r.is_loaded())
        .map(|r| r.to_string())
        .collect();
    Ok((set.compile(), rejected))
}

impl Detector {
    /// Runs the shipped `packs` plus the data directory's `rules/`, which is
    /// re-read on reload.
    pub fn new(
        dir: DataDir,
        packs: RulePacks,
    ) -> Result<(Arc<Detector>, mpsc::Receiver<Event>), DataFileError> {
        let (engine, rejected) = load(&dir, packs)?;
        for r in &rejected {
            tracing::warn!(rule = %r, "rule not loaded");
        }
        let formats = dir.formats()?;
        let (vault_tx, rx) = mpsc::channel(16_384);
        let tags = tags_of(&engine);
        let d = Detector {
            tags: Mutex::new(tags),
            auto_open: bulwark_incident::AutoOpenConfig::default(),
            engine: Mutex::new(engine),
            dir,
            packs,
            ingest: Arc::new(Semaphore::new(4)),
            window_ms: 3_600_000,
            vault_tx,
            vault_dropped: AtomicU64::new(0),
            formats: Mutex::new(formats),
        };
        Ok((Arc::new(d), rx))
    }

    /// The same detector with another auto-open configuration (only before serving:
    /// the engine and its state move over).
    pub fn with_auto_open(self: Arc<Self>, cfg: bulwark_incident::AutoOpenConfig) -> Arc<Detector> {
        match Arc::try_unwrap(self) {
            Ok(mut d) => {
                d.auto_open = cfg;
                Arc::new(d)
            }
            Err(shared) => shared,
        }
    }

    /// The formats ingestion may name (see the field).
    pub fn formats(&self) -> bulwark_detect::Formats {
        self.formats
            .lock()
            .map(|f| f.clone())
            .unwrap_or_else(|_| bulwark_detect::Formats::builtin())
    }

    /// A new engine of the same rules with no state of its own: a drill's,
    /// so that its events never share a correlation window with real ones.
    pub fn fresh_engine(&self) -> Result<Engine, DataFileError> {
        Ok(load(&self.dir, self.packs)?.0)
    }

    pub fn rule_count(&self) -> usize {
        self.engine.lock().map(|e| e.rule_count()).unwrap_or(0)
    }

    /// Compiles the rules afresh and swaps them in under the engine lock, so no
    /// event is processed by neither set; correlation windows carry over.
    pub fn reload(&self) -> Result<RulesLoaded, ReloadError> {
        let (fresh, rejected) = load(&self.dir, self.packs)?;
        let formats = self.dir.formats()?;
        if let Ok(mut f) = self.formats.lock() {
            *f = formats;
        }
        let mut guard = self.engine.lock().map_err(|_| ReloadError::Poisoned)?;
        let old = std::mem::replace(&mut *guard, fresh);
        let kept = guard.adopt_state(old);
        if let Ok(mut t) = self.tags.lock() {
            *t = tags_of(&guard);
        }
        Ok(RulesLoaded {
            rules: guard.rule_count(),
            rejected,
            correlation_state_kept: kept,
        })
    }

    /// Runs `f` with the engine locked (a whole batch of a followed file under
    /// one lock); `None` if the lock is poisoned.
    pub fn with_engine<R>(&self, f: impl FnOnce(&mut Engine) -> R) -> Option<R> {
        let mut engine = self.engine.lock().ok()?;
        Some(f(&mut engine))
    }

    /// Runs events through the engine (in arrival order).
    pub fn process(&self, events: &[Event]) -> Vec<Detection> {
        let Ok(mut engine) = self.engine.lock() else {
            return Vec::new();
        };
        events.iter().flat_map(|e| engine.process(e)).collect()
    }

    /// Hands a vault access event to detection without slowing the reveal. A full
    /// queue drops the event, counts it and says so in the log.
    pub fn feed_vault(&self, event: Event) {
        if self.vault_tx.try_send(event).is_err() {
            let n = self.vault_dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(
                    dropped = n,
                    "vault events not analysed: the detection queue is full"
                );
            }
        }
    }
}

pub fn to_alerts(detections: Vec<Detection>, source: &str, now_ms: i64) -> Vec<NewAlert> {
    detections
        .into_iter()
        .map(|d| NewAlert {
            seen_ms: d
                .timestamp
                .as_deref()
                .and_then(|t| {
                    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64)
                .unwrap_or(now_ms),
            rule_id: d.rule_id,
            rule_title: d.rule_title,
            level: d.level.as_str().to_owned(),
            group_key: d.group_key,
            // Shown with the alert: the raw value alone would not explain the match.
            fields: if d.matched_after_decoding {
                let mut f = d.fields;
                f.push(("bulwark.matched".into(), "after decoding".into()));
                f
            } else {
                d.fields
            },
            source: source.to_owned(),
        })
        .collect()
}

pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Stores detections as alerts and lets each new alert open or join an incident.
/// Returns the ids of new alerts.
/// A drill run's alerts (`drill: Some(run)`) open and join only that run's incidents.
pub async fn record_and_route(
    detector: &Detector,
    store: &Store,
    playbooks: &Arc<bulwark_incident::PlaybookSet>,
    alerts: Vec<NewAlert>,
    drill: Option<u64>,
) -> Result<Vec<i64>, bulwark_store::StoreError> {
    let ids = store
        .record_alerts(alerts.clone(), detector.window_ms)
        .wait()
        .await?;
    Ok(route_alerts(detector, store, playbooks, &alerts, ids, drill).await)
}

/// Lets each new alert (as [`Store::record_alerts`] answered: id, new) open
/// or join an incident. Returns the ids of new alerts.
pub async fn route_alerts(
    detector: &Detector,
    store: &Store,
    playbooks: &Arc<bulwark_incident::PlaybookSet>,
    alerts: &[NewAlert],
    ids: Vec<(i64, bool)>,
    drill: Option<u64>,
) -> Vec<i64> {
    route_to_incidents(detector, store, playbooks, alerts, ids, drill)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

/// [`route_alerts`], with the incident each new alert opened or joined.
pub async fn route_to_incidents(
    detector: &Detector,
    store: &Store,
    playbooks: &Arc<bulwark_incident::PlaybookSet>,
    alerts: &[NewAlert],
    ids: Vec<(i64, bool)>,
    drill: Option<u64>,
) -> Vec<(i64, Option<u64>)> {
    let mut new_ids = Vec::new();
    for (a, (id, new)) in alerts.iter().zip(ids) {
        if !new {
            continue;
        }
        let Some(level) = serde_json::from_value(serde_json::json!(a.level)).ok() else {
            new_ids.push((id, None));
            continue;
        };
        let entity = a
            .group_key
            .first()
            .or_else(|| {
                a.fields
                    .iter()
                    .find(|(k, _)| k == "source.ip" || k == "user.name")
            })
            .map(|(_, v)| v.clone());
        let alert = bulwark_incident::AlertRef {
            id: format!("alert:{id}"),
            rule_id: a.rule_id.clone(),
            rule_title: a.rule_title.clone(),
            level,
            tags: detector
                .tags
                .lock()
                .ok()
                .and_then(|t| t.get(&a.rule_id).cloned())
                .unwrap_or_default(),
            entity,
            at: time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(a.seen_ms) * 1_000_000)
                .unwrap_or_else(|_| time::OffsetDateTime::now_utc()),
        };
        match store
            .auto_open(alert, playbooks.clone(), detector.auto_open.clone(), drill)
            .wait()
            .await
        {
            Ok(Some(incident)) => {
                tracing::info!(alert = id, incident, "alert routed to an incident");
                new_ids.push((id, Some(incident)));
            }
            Ok(None) => new_ids.push((id, None)),
            Err(e) => {
                tracing::error!(alert = id, error = %e, "could not route an alert to an incident");
                new_ids.push((id, None));
            }
        }
    }
    new_ids
}

/// Analyses vault events in batches as they arrive.
pub async fn vault_feed(
    detector: Arc<Detector>,
    store: Store,
    playbooks: Arc<bulwark_incident::PlaybookSet>,
    mut rx: mpsc::Receiver<Event>,
) {
    let mut batch = Vec::with_capacity(512);
    while rx.recv_many(&mut batch, 512).await > 0 {
        let events = std::mem::take(&mut batch);
        let d = detector.clone();
        let detections = tokio::task::spawn_blocking(move || d.process(&events))
            .await
            .unwrap_or_default();
        if !detections.is_empty() {
            let alerts = to_alerts(detections, "vault", now_ms());
            if let Err(e) = record_and_route(&detector, &store, &playbooks, alerts, None).await {
                tracing::error!(error = %e, "could not record alerts");
            }
        }
    }
}

/// One vault access as detection sees it.
pub struct VaultAccess<'a> {
    pub action: &'a str,
    pub allowed: bool,
    pub principal: &'a str,
    pub source: Option<&'a str>,
    pub customer: Option<&'a str>,
    pub elements: &'a [&'a str],
    pub purpose: Option<&'a str>,
    pub at: time::OffsetDateTime,
}

/// The event a vault access becomes (ECS names; log source bulwark/vault). Used
/// for live reveals and for hunting over the stored access log alike.
pub fn vault_access_event(a: &VaultAccess<'_>) -> Option<Event> {
    let mut v = serde_json::json!({
        "@timestamp": a.at.format(&time::format_description::well_known::Rfc3339).ok()?,
        "event.action": a.action,
        "event.outcome": if a.allowed { "success" } else { "failure" },
        "user.name": a.principal,
        "bulwark.vault.elements": a.elements,
        "bulwark.principal.type": if a.principal.starts_with("key:") { "service" } else { "operator" },
    });
    if let Some(s) = a.source {
        v["source.ip"] = serde_json::json!(s);
    }
    if let Some(c) = a.customer {
        v["bulwark.customer.id"] = serde_json::json!(c);
    }
    if let Some(p) = a.purpose {
        v["bulwark.vault.purpose"] = serde_json::json!(p);
    }
    let ls = bulwark_detect::Logsource {
        product: Some("bulwark".into()),
        category: None,
        service: Some("vault".into()),
    };
    Event::from_json(v, Some(ls))
}

/// The event of an access-log record.
pub fn access_record_event(r: &bulwark_store::AccessRecord) -> Option<Event> {
    let elements: Vec<&str> = r.elements.iter().map(String::as_str).collect();
    vault_access_event(&VaultAccess {
        action: if r.action == "lookup" {
            "vault.lookup"
        } else {
            "vault.reveal"
        },
        allowed: r.outcome == bulwark_store::AccessOutcome::Allowed,
        principal: &r.principal,
        source: r.source.as_deref(),
        customer: r.customer_id.as_deref(),
        elements: &elements,
        purpose: r.purpose.as_deref(),
        at: r.at,
    })
}
