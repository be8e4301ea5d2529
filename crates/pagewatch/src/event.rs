//! The events this crate produces: JSON objects with flat, dotted ECS-style
//! keys (as the rule pack's samples are written), read by the rules in
//! `rules/ecommerce/ec_script_*.yml`. The shell tags them with the log source
//! below before handing them to `detect`.
//!
//! Field names (see `rules/README.md`): `@timestamp`, `event.kind`,
//! `event.action`, `url.full` (the watched page), `bulwark.page.type`,
//! `bulwark.script.*` (script findings), `bulwark.csp.*` (CSP reports),
//! `destination.domain` and `bulwark.connection.kind` (outbound hosts),
//! `bulwark.header.*` (security headers), `bulwark.iframe.*`.

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The log source's product for every event here.
pub const PRODUCT: &str = "bulwark";
/// Service of the crawl's findings (inventory changes, indicator scans).
pub const SERVICE_SCRIPT_MONITOR: &str = "script_monitor";
/// Service of CSP violation reports.
pub const SERVICE_CSP_REPORT: &str = "csp_report";

/// What a watched page is, as the rules read it (`bulwark.page.type`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Page {
    /// The page's URL as configured (origin and path).
    pub url: String,
    /// `checkout`, `payment`, `cart`, … (the rules watch `checkout` and `payment`).
    pub page_type: String,
}

/// A flat-keyed event under construction.
pub(crate) struct EventBuilder(Map<String, Value>);

impl EventBuilder {
    pub(crate) fn new(at: OffsetDateTime, action: &str, page: &Page) -> Self {
        let mut m = Map::new();
        // An out-of-range year is the only formatting failure; the event then
        // carries no time rather than a made-up one.
        if let Ok(ts) = at.format(&Rfc3339) {
            m.insert("@timestamp".into(), Value::String(ts));
        }
        m.insert("event.kind".into(), Value::from("event"));
        m.insert("event.action".into(), Value::from(action));
        m.insert("url.full".into(), Value::from(page.url.as_str()));
        m.insert(
            "bulwark.page.type".into(),
            Value::from(page.page_type.as_str()),
        );
        EventBuilder(m)
    }

    pub(crate) fn set(&mut self, key: &str, v: impl Into<Value>) -> &mut Self {
        self.0.insert(key.to_owned(), v.into());
        self
    }

    pub(crate) fn opt(&mut self, key: &str, v: Option<impl Into<Value>>) -> &mut Self {
        if let Some(v) = v {
            self.0.insert(key.to_owned(), v.into());
        }
        self
    }

    pub(crate) fn build(self) -> Value {
        Value::Object(self.0)
    }
}
