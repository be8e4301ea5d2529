//! The payment-page integrity engine (issue 14; PCI DSS 6.4.3 and 11.6.1),
//! pure: no I/O, no clock, no network. The shell (the crawl in a headless
//! browser, the report endpoint, the store, the CLI) passes bytes, times and
//! observations in and sends the returned events through `detect`.
//!
//! - [`csp`]: CSP violation reports in both wire formats, refused or bounded
//!   before anything is kept, normalised to one [`csp::CspViolation`].
//! - [`inventory`]: the page's script inventory, authorisations, and the
//!   [`inventory::diff`] of a new crawl against them.
//! - [`indicators`]: skimmer indicators (data in `pagewatch/indicators.toml`)
//!   scored over a script body with bounded, linear-time work.
//! - [`policy`]: a Content-Security-Policy proposed from the inventory
//!   (report-only by origin first, then enforcing by hash).
//! - [`event`]: the field names of the events all three produce.
//!
//! ```
//! use bulwark_pagewatch::csp::{self, ReportFormat};
//! use bulwark_pagewatch::event::Page;
//!
//! let body = br#"{"csp-report": {"document-uri": "https://shop.example/checkout?s=1",
//!   "effective-directive": "script-src-elem", "blocked-uri": "https://evil.example/x.js"}}"#;
//! let format = ReportFormat::from_content_type("application/csp-report")?;
//! let reports = csp::parse(body, format)?;
//! let page = Page { url: "https://shop.example/checkout".into(), page_type: "checkout".into() };
//! let event = reports.violations[0].to_event(&page, reports.format, time::OffsetDateTime::UNIX_EPOCH);
//! assert_eq!(event["bulwark.csp.blocked.host"], "evil.example");
//! assert_eq!(event["bulwark.csp.document_url"], "https://shop.example/checkout");
//! # Ok::<(), bulwark_pagewatch::csp::CspError>(())
//! ```
//!
//! Everything a browser or a page sends is treated as attacker-controlled:
//! sizes are capped before parsing, every kept string is cut to a bound and
//! stripped of control characters, and no input panics.
#![forbid(unsafe_code)]

pub mod csp;
pub mod event;
pub mod indicators;
pub mod inventory;
pub mod policy;
mod text;

pub use text::clean;
