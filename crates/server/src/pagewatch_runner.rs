//! Running a watched page's crawl end to end (issue 14, items 2–5): the
//! browser crawl, the evidence into the locker, the inventory diff against
//! the approvals, the skimmer indicators on every new or changed script, and
//! the resulting events through the same detection as everything else — so
//! an unapproved script raises an alert, opens (or joins) a `web_skimmer`
//! incident, and the run's evidence is attached to it. `serve` runs due pages
//! on a schedule; `POST /v1/pagewatch/pages/{name}/runs` and `bulwark
//! pagewatch run` run one now.

use std::sync::Arc;

use bulwark_crawl::{Crawl, CrawlRequest};
use bulwark_pagewatch::event::{Page, PRODUCT, SERVICE_SCRIPT_MONITOR};
use bulwark_pagewatch::inventory::{self, Change, ScriptKey};
use bulwark_store::{LockedItem, NewPageRun, StoreError, WatchedPage};
use serde::Serialize;

use crate::AppState;

/// What the rules read as `bulwark.page.type` for a watched page.
pub const PAGE_TYPE: &str = "payment";

/// One script's skimmer score, for the new and changed scripts of a run.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScriptScore {
    pub script: String,
    pub score: u32,
    pub indicators: Vec<String>,
    pub high: bool,
}

/// What a run did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunReport {
    pub run: i64,
    pub page: String,
    pub elapsed_ms: i64,
    /// The first run of a page is its baseline: scripts are inventoried as
    /// `new` for review and only skimmer indicators can raise alerts.
    pub baseline: bool,
    pub scripts: usize,
    /// Scripts the approvals in force do not cover.
    pub unauthorised: usize,
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<Change>,
    pub scores: Vec<ScriptScore>,
    pub detections: usize,
    pub alerts: Vec<i64>,
    pub incident: Option<u64>,
    pub snapshot_sha256: String,
    pub manifest_sha256: String,
    pub truncated: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RunPageError {
    #[error("the crawl failed: {0}")]
    Crawl(#[from] bulwark_crawl::CrawlError),
    #[error("detection is not running (the crawl's findings need it)")]
    NoDetection,
    #[error(transparent)]
    Record(#[from] bulwark_store::RecordRunError),
    #[error("evidence: {0}")]
    Evidence(#[from] bulwark_store::EvidenceError),
    #[error(transparent)]
    Files(#[from] bulwark_store::DataFileError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a background task failed: {0}")]
    Join(String),
}

fn now_ms() -> i64 {
    crate::detection::now_ms()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, RunPageError> + Send + 'static,
) -> Result<T, RunPageError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RunPageError::Join(e.to_string()))?
}

/// The run's manifest: everything the crawl saw, with each body's locker hash.
/// A script body of the run as it went into the locker.
struct LockedBody {
    /// The script's inventory key.
    key: String,
    /// Its locker name (SHA-256 of the body kept) and size.
    sha256: String,
    size: u64,
}

fn manifest(page: &WatchedPage, crawl: &Crawl, at: &str, bodies: &[LockedBody]) -> Vec<u8> {
    let scripts: Vec<serde_json::Value> = crawl
        .scripts
        .iter()
        .zip(bodies)
        .map(|(s, b)| {
            serde_json::json!({
                "key": b.key, "kind": s.source.kind(), "sha256": s.digests.sha256,
                "sha384": s.digests.sha384, "size": s.size, "initiator": s.initiator,
                "sri": s.has_sri, "locker_sha256": b.sha256,
            })
        })
        .collect();
    let m = serde_json::json!({
        "page": page.name, "url": page.url, "final_url": crawl.final_url, "at": at,
        "http_status": crawl.status, "headers": crawl.headers, "iframes": crawl.iframes,
        "connections": crawl.connections, "scripts": scripts, "truncated": crawl.truncated,
        "elapsed_ms": crawl.elapsed.as_millis() as u64,
    });
    serde_json::to_vec_pretty(&m).unwrap_or_default()
}

/// Crawls `page` now and records what it found. One crawl at a time per
/// process (a browser is heavy on a small machine).
pub async fn run_page(
    state: &AppState,
    page: &WatchedPage,
    actor: &str,
) -> Result<RunReport, RunPageError> {
    let detector = state.detector.clone().ok_or(RunPageError::NoDetection)?;
    let _one_at_a_time = state.crawl_lock.lock().await;
    let store = state.store.clone();
    let name = page.name.clone();
    let cookies = blocking(move || Ok(store.watched_page_cookies(&name)?)).await?;
    let started = now_ms();
    let crawled = bulwark_crawl::crawl(
        &state.crawler,
        &CrawlRequest {
            url: page.url.clone(),
            cookies,
        },
    )
    .await;
    let crawl = match crawled {
        Ok(c) => c,
        Err(e) => {
            let store = state.store.clone();
            let (id, msg) = (page.id, e.to_string());
            let elapsed = now_ms() - started;
            blocking(move || Ok(store.record_failed_page_run(id, started, elapsed, &msg)?)).await?;
            tracing::warn!(page = %page.name, error = %e, "page crawl failed");
            return Err(e.into());
        }
    };
    let at = time::OffsetDateTime::now_utc();
    let at_text = crate::drill_runner::rfc3339(started);
    let watched = Page {
        url: page.url.clone(),
        page_type: PAGE_TYPE.into(),
    };
    let observation = crawl.observation(watched.clone(), at);

    // Evidence first: the run's record points at what is already durable.
    let store = state.store.clone();
    let (p, c, t) = (page.clone(), crawl.clone(), at_text.clone());
    let (snapshot, document, manifest_item, bodies) = blocking(move || {
        let mut bodies = Vec::with_capacity(c.scripts.len());
        for s in &c.scripts {
            let key = s.observed().key();
            let (sha256, size) = store.lock_bytes(&s.body)?;
            bodies.push(LockedBody {
                key: key.0,
                sha256,
                size,
            });
        }
        let (snap, snap_size) = store.lock_bytes(&c.snapshot)?;
        let doc = match &c.document {
            Some(d) => Some(store.lock_bytes(d)?),
            None => None,
        };
        let m = manifest(&p, &c, &t, &bodies);
        let (man, man_size) = store.lock_bytes(&m)?;
        Ok((
            LockedItem {
                sha256: snap,
                name: format!("{}-rendered.html", p.name),
                size: snap_size,
            },
            doc.map(|(sha, size)| LockedItem {
                sha256: sha,
                name: format!("{}-as-served.html", p.name),
                size,
            }),
            LockedItem {
                sha256: man,
                name: format!("{}-run-manifest.json", p.name),
                size: man_size,
            },
            bodies,
        ))
    })
    .await?;

    let store = state.store.clone();
    let pid = page.id;
    let (previous, approvals, indicators) = blocking(move || {
        Ok((
            store.page_inventory(pid)?,
            store.page_approvals_in_force(pid)?,
            store.dir().indicators()?,
        ))
    })
    .await?;
    let baseline = previous.run.is_none();
    let mut update = inventory::update(&previous.inventory, &approvals, &observation);

    // Skimmer indicators on every script the run reports (all of them on the
    // baseline: a page already infected when first watched must show).
    let body_of = |key: &ScriptKey| {
        crawl
            .scripts
            .iter()
            .zip(&bodies)
            .find(|(_, b)| b.key == key.0)
            .map(|(s, _)| s)
    };
    let to_scan: Vec<ScriptKey> = if baseline {
        update.inventory.scripts.keys().cloned().collect()
    } else {
        update
            .changes
            .iter()
            .filter_map(|c| match c {
                Change::NewScript { key, .. } | Change::ScriptChanged { key, .. } => {
                    Some(key.clone())
                }
                _ => None,
            })
            .collect()
    };
    let mut events = Vec::new();
    let mut scores = Vec::new();
    for key in &to_scan {
        let Some(s) = body_of(key) else { continue };
        let report = indicators.scan(&s.body);
        if let Some(e) = update.inventory.scripts.get_mut(key) {
            e.scan = Some(inventory::ScanSummary {
                score: report.score,
                indicators: report.ids().into_iter().map(str::to_owned).collect(),
            });
        }
        if report.score > 0 {
            scores.push(ScriptScore {
                script: key.0.clone(),
                score: report.score,
                indicators: report.ids().into_iter().map(str::to_owned).collect(),
                high: report.is_high(),
            });
            events.push(report.to_event(&watched, key, &s.digests, at));
        }
    }
    if !baseline {
        events.extend(update.changes.iter().map(|c| c.to_event(&watched, at)));
    }
    let unauthorised = update
        .inventory
        .scripts
        .values()
        .filter(|e| matches!(e.state, inventory::State::New | inventory::State::Changed))
        .count();

    let store = state.store.clone();
    let record = NewPageRun {
        page_id: page.id,
        based_on: previous.run,
        started_ms: started,
        elapsed_ms: crawl.elapsed.as_millis() as i64,
        final_url: crawl.final_url.clone(),
        http_status: crawl.status,
        scripts: crawl.scripts.len(),
        truncated: crawl.truncated,
        inventory: update.inventory.clone(),
        changes: update.changes.clone(),
        snapshot_sha256: snapshot.sha256.clone(),
        document_sha256: document.as_ref().map(|d| d.sha256.clone()),
        manifest_sha256: manifest_item.sha256.clone(),
    };
    let who = actor.to_owned();
    let run = blocking(move || Ok(store.record_page_run(record, &who)?)).await?;

    let logsource = bulwark_detect::Logsource {
        product: Some(PRODUCT.into()),
        category: None,
        service: Some(SERVICE_SCRIPT_MONITOR.into()),
    };
    let events: Vec<bulwark_detect::Event> = events
        .into_iter()
        .filter_map(|e| bulwark_detect::Event::from_json(e, Some(logsource.clone())))
        .collect();
    let d = detector.clone();
    let detections = tokio::task::spawn_blocking(move || d.process(&events))
        .await
        .map_err(|e| RunPageError::Join(e.to_string()))?;
    let found = detections.len();
    let mut all_alerts: Vec<i64> = Vec::new();
    let routed = if detections.is_empty() {
        Vec::new()
    } else {
        let alerts =
            crate::detection::to_alerts(detections, &format!("pagewatch:{}", page.name), now_ms());
        let ids = state
            .store
            .record_alerts(alerts.clone(), detector.window_ms)
            .wait()
            .await?;
        // Every alert the run raised or added to (a repeat within the
        // de-duplication window counts on the open alert).
        for (id, _) in &ids {
            if !all_alerts.contains(id) {
                all_alerts.push(*id);
            }
        }
        crate::detection::route_to_incidents(
            &detector,
            &state.store,
            &state.playbooks,
            &alerts,
            ids,
            None,
        )
        .await
    };
    let alert_ids = all_alerts;
    let incident = routed.iter().find_map(|(_, i)| *i);
    if let Some(incident) = incident {
        attach_evidence(
            state,
            incident,
            page,
            run,
            &update.changes,
            &bodies,
            snapshot.clone(),
            document,
            manifest_item.clone(),
        )
        .await?;
    }
    let store = state.store.clone();
    let ids = alert_ids.clone();
    blocking(move || Ok(store.set_page_run_alerts(run, ids, incident)?)).await?;

    Ok(RunReport {
        run,
        page: page.name.clone(),
        elapsed_ms: crawl.elapsed.as_millis() as i64,
        baseline,
        scripts: crawl.scripts.len(),
        unauthorised,
        changes: update.changes,
        scores,
        detections: found,
        alerts: alert_ids,
        incident,
        snapshot_sha256: snapshot.sha256,
        manifest_sha256: manifest_item.sha256,
        truncated: crawl.truncated,
    })
}

/// The run's snapshot, the document as served, its manifest and the body of
/// every new or changed script go to the incident as evidence.
#[allow(clippy::too_many_arguments)]
async fn attach_evidence(
    state: &AppState,
    incident: u64,
    page: &WatchedPage,
    run: i64,
    changes: &[Change],
    bodies: &[LockedBody],
    snapshot: LockedItem,
    document: Option<LockedItem>,
    manifest: LockedItem,
) -> Result<(), RunPageError> {
    let mut items = vec![
        (
            snapshot,
            "The payment page as rendered after its scripts ran",
        ),
        (
            manifest,
            "What the crawl saw: scripts with hashes, headers, frames, hosts",
        ),
    ];
    if let Some(d) = document {
        items.push((d, "The payment page's document as the server sent it"));
    }
    let mut scripts = Vec::new();
    for c in changes {
        if let Change::NewScript { key, .. } | Change::ScriptChanged { key, .. } = c {
            if let Some(b) = bodies.iter().find(|b| b.key == key.0) {
                scripts.push((key.0.clone(), b.sha256.clone(), b.size));
            }
        }
    }
    let store = state.store.clone();
    let source = format!("pagewatch:{} run {run}", page.name);
    blocking(move || {
        for (item, what) in items {
            store.add_locked_evidence(
                incident,
                item,
                Some(what.into()),
                Some(source.clone()),
                "system:pagewatch",
            )?;
        }
        for (key, sha, size) in scripts {
            let tail: String = key
                .rsplit('/')
                .next()
                .unwrap_or("script")
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || ".-_".contains(*c))
                .take(80)
                .collect();
            store.add_locked_evidence(
                incident,
                LockedItem {
                    sha256: sha,
                    name: format!("script-{tail}.js"),
                    size,
                },
                Some(format!(
                    "Body of the unauthorised script {}",
                    key.chars().take(300).collect::<String>()
                )),
                Some(source.clone()),
                "system:pagewatch",
            )?;
        }
        Ok(())
    })
    .await
}

/// `serve`'s schedule: every `tick`, each page whose interval has passed
/// since its last run (or that never ran) is crawled, one after another.
pub async fn schedule_loop(state: AppState, tick: std::time::Duration) {
    let mut t = tokio::time::interval(tick);
    loop {
        t.tick().await;
        let store = state.store.clone();
        let due = tokio::task::spawn_blocking(move || -> Result<Vec<WatchedPage>, StoreError> {
            let pages = store.watched_pages()?;
            let last = store.page_last_runs()?;
            let now = now_ms();
            Ok(pages
                .into_iter()
                .filter(|p| {
                    last.get(&p.id)
                        .is_none_or(|l| now - l >= p.every_secs * 1000)
                })
                .collect())
        })
        .await;
        let due = match due {
            Ok(Ok(d)) => d,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "could not read the watched pages");
                continue;
            }
            Err(_) => continue,
        };
        for page in due {
            match run_page(&state, &page, "system:pagewatch").await {
                Ok(r) => tracing::info!(
                    page = %r.page, run = r.run, changes = r.changes.len(),
                    alerts = r.alerts.len(), elapsed_ms = r.elapsed_ms, "page crawled"
                ),
                Err(e) => tracing::warn!(page = %page.name, error = %e, "page run failed"),
            }
        }
    }
}

/// The shared pieces `AppState` holds for crawls.
pub(crate) type CrawlLock = Arc<tokio::sync::Mutex<()>>;
