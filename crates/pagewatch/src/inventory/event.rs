//! Each change as an event for the checkout rules (log source
//! `bulwark`/`script_monitor`): `script.added` and unapproved scripts for
//! `ec_script_checkout_new_script`, `script.changed` for
//! `ec_script_checkout_changed`, and `connection.added`, `header.weakened`,
//! `iframe.changed` for `ec_script_checkout_page_weakened`.

use serde_json::Value;
use time::OffsetDateTime;

use super::{Change, ObservedScript, ScriptKey};
use crate::event::{EventBuilder, Page};
use crate::text::clean;

/// Longest URL or host carried in an event, in characters.
const SHOWN_CHARS: usize = 1024;

impl Change {
    /// `event.action` of this change.
    pub fn action(&self) -> &'static str {
        match self {
            Change::NewScript { .. } => "script.added",
            Change::ScriptChanged { .. } => "script.changed",
            Change::ScriptRemoved { .. } => "script.removed",
            Change::NewOutboundHost(_) => "connection.added",
            Change::HeaderWeakened(_) => "header.weakened",
            Change::IframeChanged { .. } => "iframe.changed",
        }
    }

    /// The event of this change on `page`, seen by the crawl at `at`.
    pub fn to_event(&self, page: &Page, at: OffsetDateTime) -> Value {
        let mut e = EventBuilder::new(at, self.action(), page);
        match self {
            Change::NewScript { key, script } => {
                script_fields(&mut e, key, script);
                e.set("bulwark.script.approved", false);
            }
            Change::ScriptChanged {
                key,
                script,
                previous,
                was_authorised,
            } => {
                script_fields(&mut e, key, script);
                e.set("bulwark.script.approved", false)
                    .set(
                        "bulwark.script.previous_hash",
                        format!("sha256-{}", previous.sha256),
                    )
                    .set("bulwark.script.authorisation_reset", *was_authorised);
            }
            Change::ScriptRemoved { key, previous } => {
                e.set("bulwark.script.url", clean(&key.0, SHOWN_CHARS)).set(
                    "bulwark.script.previous_hash",
                    format!("sha256-{}", previous.sha256),
                );
            }
            Change::NewOutboundHost(c) => {
                e.set("destination.domain", clean(&c.host, SHOWN_CHARS))
                    .set("bulwark.connection.kind", c.kind.as_str())
                    .opt(
                        "bulwark.script.url",
                        c.initiator.as_deref().map(|s| clean(s, SHOWN_CHARS)),
                    );
            }
            Change::HeaderWeakened(w) => {
                e.set("bulwark.header.name", w.header.as_str())
                    .set("bulwark.header.weakness", w.code.as_str())
                    .opt("bulwark.header.previous", w.previous.as_deref())
                    .opt("bulwark.header.value", w.current.as_deref());
            }
            Change::IframeChanged { added, removed } => {
                let list = |v: &[String]| -> Vec<Value> {
                    v.iter()
                        .map(|s| Value::from(clean(s, SHOWN_CHARS)))
                        .collect()
                };
                e.set("bulwark.iframe.added", list(added))
                    .set("bulwark.iframe.removed", list(removed));
            }
        }
        e.build()
    }
}

fn script_fields(e: &mut EventBuilder, key: &ScriptKey, s: &ObservedScript) {
    e.set("bulwark.script.url", clean(&key.0, SHOWN_CHARS))
        .set("bulwark.script.kind", s.source.kind())
        .set(
            "bulwark.script.hash",
            format!("sha256-{}", s.digests.sha256),
        )
        .set("bulwark.script.sha384", s.digests.sha384.as_str())
        .set("bulwark.script.size", s.size)
        .set("bulwark.script.sri", s.has_sri)
        .opt(
            "bulwark.script.initiator",
            s.initiator.as_deref().map(|i| clean(i, SHOWN_CHARS)),
        );
}
