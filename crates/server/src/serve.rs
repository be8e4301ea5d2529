//! Binding and running the server: TLS with rustls, plain HTTP only on loopback
//! (unless explicitly allowed), graceful shutdown, and background duties.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::{router, AppState};

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Allow plain HTTP on a non-loopback address (e.g. behind a TLS-terminating proxy).
    pub insecure_http: bool,
    /// How often the ledger head is signed into a checkpoint when it moved.
    pub checkpoint_every: Duration,
    /// Log files followed into detection (`--watch`); needs detection on.
    pub watch: Vec<crate::tailing::WatchSpec>,
    /// Crawl watched pages when they are due (needs detection on).
    pub pagewatch: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("refusing plain HTTP on non-loopback address {0}: give --tls-cert and --tls-key, or --insecure-http if a TLS proxy fronts this server")]
    PlainHttpNotLoopback(SocketAddr),
    #[error("cannot load TLS certificate/key: {0}")]
    Tls(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
    #[error("--watch needs live detection (drop --no-detection)")]
    WatchWithoutDetection,
}

/// Runs until `shutdown` resolves; `on_ready` is called with the bound address.
pub async fn serve(
    state: AppState,
    cfg: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    if cfg.tls.is_none() && !cfg.listen.ip().is_loopback() && !cfg.insecure_http {
        return Err(ServeError::PlainHttpNotLoopback(cfg.listen));
    }
    if !cfg.watch.is_empty() && state.detector.is_none() {
        return Err(ServeError::WatchWithoutDetection);
    }
    let duties = tokio::spawn(background(state.clone(), cfg.checkpoint_every));
    state.start_vault_feed();
    let drills = state.detector.is_some().then(|| {
        tokio::spawn(crate::drill_runner::run_loop(
            state.clone(),
            Duration::from_millis(250),
        ))
    });
    let pages = (cfg.pagewatch && state.detector.is_some()).then(|| {
        tokio::spawn(crate::pagewatch_runner::schedule_loop(
            state.clone(),
            Duration::from_secs(30),
        ))
    });
    // Followed files stop after the server, each after committing its last batch.
    let (stop_watching, watching) = tokio::sync::watch::channel(false);
    let watchers = crate::tailing::spawn_watchers(&state, &cfg.watch, &watching);
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let result = match &cfg.tls {
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .map_err(|e| ServeError::Tls(e.to_string()))?;
            let listener =
                std::net::TcpListener::bind(cfg.listen).map_err(|source| ServeError::Bind {
                    addr: cfg.listen,
                    source,
                })?;
            listener.set_nonblocking(true)?;
            on_ready(listener.local_addr()?);
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                h.graceful_shutdown(Some(Duration::from_secs(10)));
            });
            axum_server::from_tcp_rustls(listener, tls)
                .handle(handle)
                .serve(app)
                .await
                .map_err(ServeError::Io)
        }
        None => {
            let listener = tokio::net::TcpListener::bind(cfg.listen)
                .await
                .map_err(|source| ServeError::Bind {
                    addr: cfg.listen,
                    source,
                })?;
            on_ready(listener.local_addr()?);
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
                .map_err(ServeError::Io)
        }
    };
    let _ = stop_watching.send(true);
    for w in watchers {
        let _ = w.await;
    }
    duties.abort();
    if let Some(d) = drills {
        d.abort();
    }
    if let Some(p) = pages {
        p.abort();
    }
    final_duties(&state).await;
    result
}

async fn background(state: AppState, checkpoint_every: Duration) {
    let mut usage = tokio::time::interval(Duration::from_secs(30));
    let mut checkpoints = tokio::time::interval(checkpoint_every);
    loop {
        tokio::select! {
            _ = usage.tick() => {
                if let Err(e) = state.usage.flush(&state.store).wait().await {
                    tracing::warn!(error = %e, "could not record key usage");
                }
            }
            _ = checkpoints.tick() => checkpoint_if_moved(&state).await,
        }
    }
}

async fn checkpoint_if_moved(state: &AppState) {
    let head = state.store.ledger_len().unwrap_or(0);
    let last = state
        .store
        .latest_checkpoint()
        .ok()
        .flatten()
        .map(|c| c.seq)
        .unwrap_or(0);
    if head > last {
        match state.store.checkpoint() {
            Ok(p) => match p.wait().await {
                Ok(cp) => tracing::info!(seq = cp.seq, "ledger checkpoint signed"),
                Err(e) => tracing::warn!(error = %e, "could not sign a ledger checkpoint"),
            },
            Err(e) => tracing::warn!(error = %e, "could not sign a ledger checkpoint"),
        }
    }
}

async fn final_duties(state: &AppState) {
    let _ = state.usage.flush(&state.store).wait().await;
    checkpoint_if_moved(state).await;
}
