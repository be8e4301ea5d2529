use std::time::Duration;

/// Why a crawl produced nothing. A failed crawl changes nothing in the
/// inventory (a page that did not load has not lost its scripts).
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    #[error("the page's URL is not an http or https URL")]
    BadUrl,
    #[error("could not start chromium at {path}: {reason} (install Debian's `chromium`, or set BULWARK_CHROMIUM)")]
    Launch { path: String, reason: String },
    #[error("the browser's profile directory could not be made: {0}")]
    Profile(#[source] std::io::Error),
    #[error("the page did not load: {0}")]
    Load(String),
    #[error("the page answered HTTP {0}")]
    Status(u16),
    #[error("the page did not answer with a document")]
    NoDocument,
    #[error("the browser stopped answering: {0}")]
    Protocol(String),
    #[error("the crawl took longer than {0:?}")]
    Timeout(Duration),
}

impl From<chromiumoxide::error::CdpError> for CrawlError {
    fn from(e: chromiumoxide::error::CdpError) -> Self {
        CrawlError::Protocol(e.to_string())
    }
}
