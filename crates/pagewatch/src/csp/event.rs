//! A violation as an event for `rules/ecommerce/ec_script_csp_violation_new_host.yml`
//! (log source `bulwark`/`csp_report`).

use serde_json::Value;
use time::OffsetDateTime;

use super::{Blocked, CspViolation, ReportFormat};
use crate::event::{EventBuilder, Page};

/// `event.action` of a CSP violation.
pub const ACTION: &str = "csp.violation";

impl CspViolation {
    /// The event for this violation on `page` (the watched page the report
    /// endpoint's token belongs to), received at `received`. Every value is
    /// already bounded and cleaned; the sample stays plain text.
    pub fn to_event(&self, page: &Page, format: ReportFormat, received: OffsetDateTime) -> Value {
        let mut e = EventBuilder::new(received, ACTION, page);
        e.set("event.category", "web")
            .set(
                "bulwark.csp.format",
                match format {
                    ReportFormat::Legacy => "csp-report",
                    ReportFormat::ReportingApi => "reports+json",
                },
            )
            .set("bulwark.csp.directive", self.effective_directive.as_str())
            .set("bulwark.csp.disposition", self.disposition.as_str())
            .set("bulwark.csp.blocked.kind", self.blocked.kind())
            .opt("bulwark.csp.document_url", self.document_url.as_deref())
            .opt(
                "bulwark.csp.referrer_origin",
                self.referrer_origin.as_deref(),
            )
            .opt("bulwark.csp.source_file", self.source_file.as_deref())
            .opt("bulwark.csp.line", self.line)
            .opt("bulwark.csp.column", self.column)
            .opt("bulwark.csp.sample", self.sample.as_deref())
            .opt("bulwark.csp.status_code", self.status_code)
            .opt("user_agent.original", self.user_agent.as_deref());
        match &self.blocked {
            Blocked::Host { origin, host } => {
                e.set("bulwark.csp.blocked.origin", origin.as_str())
                    .set("bulwark.csp.blocked.host", host.as_str())
                    .set("destination.domain", host.as_str());
            }
            Blocked::Scheme { scheme } => {
                e.set("bulwark.csp.blocked.scheme", scheme.as_str());
            }
            _ => {}
        }
        e.build()
    }
}
