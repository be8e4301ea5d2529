//! Bulwark's HTTP API: JSON under `/v1`, RFC 9457 problem details, bearer API
//! keys checked against a scope on every route, an OpenAPI document, TLS.
//!
//! - [`router`] builds the routes over an [`AppState`];
//! - [`serve`] binds, picks TLS or loopback-only plain HTTP, and runs the
//!   background duties (usage flush, periodic ledger checkpoints).
#![forbid(unsafe_code)]
// Handlers return `Result<_, Problem>`; a problem document is built only on
// the error path, where its size (about 200 bytes) costs nothing that matters.
#![allow(clippy::result_large_err)]

mod auth;
pub mod console;
pub mod detection;
pub mod drill;
pub mod drill_runner;
mod extract;
mod openapi;
pub mod pagewatch_runner;
mod problem;
mod routes;
mod security;
pub mod sender;
mod serve;
pub mod tailing;
pub mod webhook;

use std::sync::{Arc, Mutex};

use bulwark_store::{DataFileError, RulePacks, Store, UsageTracker};
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
    /// The console's configuration and templates.
    pub(crate) console: Arc<console::Console>,
    vault_feed: VaultFeed,
    /// The secret GoPhish signs its webhooks with; `None` refuses them all.
    pub(crate) gophish_secret: Option<Arc<zeroize::Zeroizing<Vec<u8>>>>,
    /// The engines of the drill runs this process drives.
    pub(crate) drills: drill_runner::Engines,
    /// Per-page rate of CSP report requests.
    pub(crate) csp_limiter: Arc<routes::pagewatch::CspLimiter>,
    /// The browser watched pages are crawled in.
    pub crawler: Arc<bulwark_crawl::Browser>,
    /// One crawl at a time in this process.
    pub(crate) crawl_lock: pagewatch_runner::CrawlLock,
}

impl AppState {
    /// The state for `store`, with the playbooks of its data directory (built
    /// in, plus the directory's overrides). A broken playbook file is an error.
    pub fn new(store: Store) -> Result<AppState, DataFileError> {
        let playbooks = store.dir().playbooks()?;
        Ok(AppState {
            store,
            usage: Arc::new(UsageTracker::default()),
            detector: None,
            playbooks: Arc::new(playbooks),
            console: console::Console::new(console::ConsoleConfig::default()),
            vault_feed: Arc::new(Mutex::new(None)),
            gophish_secret: None,
            drills: Arc::default(),
            csp_limiter: Arc::default(),
            crawler: Arc::new(bulwark_crawl::Browser::default()),
            crawl_lock: Arc::default(),
        })
    }

    /// Accepts GoPhish webhooks signed with `secret` (an empty one refuses all).
    pub fn with_gophish_secret(mut self, secret: &[u8]) -> AppState {
        self.gophish_secret =
            (!secret.is_empty()).then(|| Arc::new(zeroize::Zeroizing::new(secret.to_vec())));
        self
    }

    /// The console's session lifetimes, TLS and public address.
    pub fn with_console(mut self, config: console::ConsoleConfig) -> AppState {
        self.console = console::Console::new(config);
        self
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

    /// With live detection over the shipped `packs` plus the data directory's
    /// `rules/` (re-read on reload).
    pub fn with_detection(store: Store, packs: RulePacks) -> Result<AppState, DataFileError> {
        let (detector, rx) = Detector::new(store.dir().clone(), packs)?;
        let mut state = AppState::new(store)?;
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

pub use routes::pagewatch::script_list as pagewatch_script_list;
pub use routes::{router, router_and_document};
