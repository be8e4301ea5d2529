//! Bulwark's HTTP API: JSON under `/v1`, RFC 9457 problem details, bearer API
//! keys checked against a scope on every route, an OpenAPI document, TLS.
//!
//! - [`router`] builds the routes over an [`AppState`];
//! - [`serve`] binds, picks TLS or loopback-only plain HTTP, and runs the
//!   background duties (usage flush, periodic ledger checkpoints).
#![forbid(unsafe_code)]
// The OpenAPI document is one large `json!` literal.
#![recursion_limit = "512"]

mod auth;
pub mod detection;
mod openapi;
mod problem;
mod routes;
mod serve;
pub mod webhook;

use std::sync::{Arc, Mutex};

use bulwark_store::{Store, UsageTracker};
use detection::Detector;

pub use problem::Problem;
pub use serve::{serve, ServeConfig, ServeError};

type VaultFeed = Arc<Mutex<Option<tokio::sync::mpsc::Receiver<bulwark_detect::Event>>>>;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub usage: Arc<UsageTracker>,
    /// Live detection; `None` serves the vault without it.
    pub detector: Option<Arc<Detector>>,
    /// Playbooks applied to new incidents (built in, plus the data directory's).
    pub playbooks: Arc<bulwark_incident::PlaybookSet>,
    vault_feed: VaultFeed,
}

impl AppState {
    pub fn new(store: Store) -> AppState {
        AppState {
            store,
            usage: Arc::new(UsageTracker::default()),
            detector: None,
            playbooks: Arc::new(bulwark_incident::PlaybookSet::builtin().unwrap_or_else(|e| {
                tracing::error!(error = %e, "built-in playbooks do not load; incidents get no tasks");
                bulwark_incident::PlaybookSet::default()
            })),
            vault_feed: Arc::new(Mutex::new(None)),
        }
    }

    /// Alerts at or above `level` open or join incidents.
    pub fn with_auto_open_level(mut self, level: bulwark_incident::AlertLevel) -> AppState {
        if let Some(d) = self.detector.take() {
            let mut cfg = d.auto_open.clone();
            cfg.min_level = level;
            self.detector = Some(d.with_auto_open(cfg));
        }
        self
    }

    /// Replaces the playbook set (e.g. with the data directory's overrides).
    pub fn with_playbooks(mut self, playbooks: bulwark_incident::PlaybookSet) -> AppState {
        self.playbooks = Arc::new(playbooks);
        self
    }

    /// With live detection over `builtin` rule files plus those in `rules_dir`.
    pub fn with_detection(
        store: Store,
        builtin: Vec<(String, String)>,
        rules_dir: Option<std::path::PathBuf>,
    ) -> Result<AppState, String> {
        let (detector, rx) = Detector::new(builtin, rules_dir)?;
        let mut state = AppState::new(store);
        state.detector = Some(detector);
        state.vault_feed = Arc::new(Mutex::new(Some(rx)));
        Ok(state)
    }

    /// Starts analysing vault reveals (once; `serve` calls it). Needs a runtime.
    pub fn start_vault_feed(&self) {
        let rx = self.vault_feed.lock().ok().and_then(|mut g| g.take());
        if let (Some(rx), Some(d)) = (rx, &self.detector) {
            tokio::spawn(detection::vault_feed(
                d.clone(),
                self.store.clone(),
                self.playbooks.clone(),
                rx,
            ));
        }
    }
}

pub use routes::router;
