//! The payment-page crawl (issue 14, item 2; PCI DSS 11.6.1 "as received by
//! the consumer browser"): Debian's `chromium`, headless, driven over the
//! DevTools protocol by `chromiumoxide`. One crawl is one fresh browser with
//! a fresh profile; it loads the page, waits for it to settle, and reports
//! what the page really ran — including scripts other scripts inserted at run
//! time, `eval`'d code, `data:` and `blob:` scripts — with their bodies, the
//! security headers of the document response, the iframes and every host the
//! page reached.
//!
//! This crate is I/O (a child process and a socket), so it is part of the
//! shell; what it returns is handed to the pure `bulwark-pagewatch` engine
//! ([`Crawl::observation`]).
//!
//! Nothing of the page runs in Bulwark's own process, and Bulwark never runs
//! its own JavaScript in the page's world: everything is read with protocol
//! commands (the debugger's script list, the network log, the DOM), so the
//! crawl itself never shows up in the inventory and a page cannot tell it
//! apart from a visitor by a hook the crawl installed.
#![forbid(unsafe_code)]

mod collect;
mod error;
mod interact;
mod launch;

use std::path::PathBuf;
use std::time::Duration;

use bulwark_pagewatch::event::Page;
use bulwark_pagewatch::inventory::{
    Connection, Digests, Observation, ObservedScript, ScriptSource, SecurityHeaders,
};
use zeroize::Zeroizing;

pub use error::CrawlError;

/// Most scripts one crawl records; a page that runs more is recorded up to
/// here and [`Crawl::truncated`] says so.
pub const MAX_SCRIPTS: usize = 1000;
/// Most bytes of one script body kept for the evidence locker (its hashes
/// are always of the whole body).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// Most bytes of the rendered page kept as the snapshot.
pub const MAX_SNAPSHOT_BYTES: usize = 16 * 1024 * 1024;
/// Most distinct outbound hosts recorded.
pub const MAX_HOSTS: usize = 1000;
/// Most iframes recorded.
pub const MAX_IFRAMES: usize = 200;

/// Which browser, and how long a crawl may take.
#[derive(Debug, Clone)]
pub struct Browser {
    /// Chromium's executable (default `/usr/bin/chromium`, or `$BULWARK_CHROMIUM`).
    pub executable: PathBuf,
    /// The whole crawl, launch to close.
    pub timeout: Duration,
    /// After the load event: how long the page must be quiet (no new script,
    /// request or frame) before the crawl ends …
    pub quiet: Duration,
    /// … and the longest it waits for that (skimmers that wait before they
    /// load show up when this is long enough).
    pub settle: Duration,
    /// Type test card data into the page's payment fields once it is quiet
    /// (keystrokes, then Tab), and watch again: skimmers that wait for a
    /// keystroke or a blur show their exfiltration. Nothing is submitted.
    pub interact: bool,
    /// Reach loopback only: every other connection goes to a dead proxy and
    /// fails at once. For test and contract runs (`BULWARK_CRAWL_LOOPBACK_ONLY=1`).
    pub loopback_only: bool,
}

impl Default for Browser {
    fn default() -> Self {
        Browser {
            executable: std::env::var_os("BULWARK_CHROMIUM")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium")),
            timeout: Duration::from_secs(30),
            quiet: Duration::from_millis(500),
            settle: Duration::from_secs(5),
            interact: true,
            loopback_only: std::env::var_os("BULWARK_CRAWL_LOOPBACK_ONLY")
                .is_some_and(|v| v == "1"),
        }
    }
}

/// What to crawl.
pub struct CrawlRequest {
    /// The watched page (http or https).
    pub url: String,
    /// Cookies set for the page's URL before it loads (a cart, a session).
    pub cookies: Vec<(String, Zeroizing<String>)>,
}

/// One script the page executed, with its body.
#[derive(Debug, Clone)]
pub struct CrawledScript {
    pub source: ScriptSource,
    pub digests: Digests,
    pub size: u64,
    pub initiator: Option<String>,
    pub has_sri: bool,
    /// The body as the browser parsed it (UTF-8), cut to [`MAX_BODY_BYTES`].
    pub body: Vec<u8>,
}

impl CrawledScript {
    /// The script without its body, as the inventory engine reads it.
    pub fn observed(&self) -> ObservedScript {
        ObservedScript {
            source: self.source.clone(),
            digests: self.digests.clone(),
            size: self.size,
            initiator: self.initiator.clone(),
            has_sri: self.has_sri,
        }
    }
}

/// What one crawl saw.
#[derive(Debug, Clone)]
pub struct Crawl {
    /// Where the page ended up after redirects.
    pub final_url: String,
    /// The HTTP status of the document.
    pub status: u16,
    pub headers: SecurityHeaders,
    pub scripts: Vec<CrawledScript>,
    pub iframes: Vec<String>,
    pub connections: Vec<Connection>,
    /// The document as the server sent it, when the browser kept it.
    pub document: Option<Vec<u8>>,
    /// The rendered page (the DOM after scripts ran) as HTML.
    pub snapshot: Vec<u8>,
    /// A limit above cut what was recorded.
    pub truncated: bool,
    /// Launch to close.
    pub elapsed: Duration,
}

impl Crawl {
    /// The crawl as the inventory engine reads it.
    pub fn observation(&self, page: Page, at: time::OffsetDateTime) -> Observation {
        Observation {
            page,
            at,
            scripts: self.scripts.iter().map(CrawledScript::observed).collect(),
            headers: self.headers.clone(),
            iframes: self.iframes.clone(),
            connections: self.connections.clone(),
        }
    }
}

/// Crawls `req.url` once in a fresh browser.
pub async fn crawl(browser: &Browser, req: &CrawlRequest) -> Result<Crawl, CrawlError> {
    let url = url::Url::parse(&req.url).map_err(|_| CrawlError::BadUrl)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(CrawlError::BadUrl);
    }
    let started = std::time::Instant::now();
    let mut session = launch::Session::start(browser).await?;
    let outcome = tokio::time::timeout(
        browser.timeout,
        collect::run(&session.browser, browser, &url, &req.cookies),
    )
    .await;
    session.close().await;
    let mut crawl = outcome.map_err(|_| CrawlError::Timeout(browser.timeout))??;
    crawl.elapsed = started.elapsed();
    Ok(crawl)
}
