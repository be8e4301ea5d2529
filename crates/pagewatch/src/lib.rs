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
//! - [`event`]: the field names of the events all three produce.
//!
//! Everything a browser or a page sends is treated as attacker-controlled:
//! sizes are capped before parsing, every kept string is cut to a bound and
//! stripped of control characters, and no input panics.
#![forbid(unsafe_code)]

pub mod csp;
pub mod event;
pub mod indicators;
pub mod inventory;
mod text;

pub use text::clean;
