//! A scan as an event for `ec_script_skimmer_indicators` (`script.scanned`).

use serde_json::Value;
use time::OffsetDateTime;

use super::Report;
use crate::event::{EventBuilder, Page};
use crate::inventory::{Digests, ScriptKey};
use crate::text::clean;

/// Longest `bulwark.script.excerpt`, in characters (the matches' excerpts joined).
pub const MAX_EVENT_EXCERPT_CHARS: usize = 1024;

impl Report {
    /// The event for this scan of the script `key` (body `digests`) on `page`.
    /// `bulwark.script.excerpt` holds only the matched excerpts, joined by
    /// ` … `: what the rule looks for, and nothing more of the script.
    pub fn to_event(
        &self,
        page: &Page,
        key: &ScriptKey,
        digests: &Digests,
        at: OffsetDateTime,
    ) -> Value {
        let excerpt = self
            .matches
            .iter()
            .flat_map(|m| m.excerpts.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" … ");
        let mut e = EventBuilder::new(at, "script.scanned", page);
        e.set("bulwark.script.url", clean(&key.0, 1024))
            .set("bulwark.script.hash", format!("sha256-{}", digests.sha256))
            .set("bulwark.script.score", self.score)
            .set(
                "bulwark.script.indicators",
                self.ids().into_iter().map(Value::from).collect::<Vec<_>>(),
            )
            .set(
                "bulwark.script.excerpt",
                clean(&excerpt, MAX_EVENT_EXCERPT_CHARS),
            )
            .set("bulwark.script.scan_truncated", self.truncated);
        e.build()
    }
}
