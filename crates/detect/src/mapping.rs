//! Field mapping (Sigma's "processing pipeline" idea, reduced to what matching
//! needs): a rule's field names are translated per log source onto the ECS names
//! our events carry. Each Sigma name maps to an ordered list of candidate paths;
//! the first one present in an event is used, and the original name is always
//! tried last so events that already use Sigma names still match.

use crate::ast::Logsource;

#[derive(Debug, Clone, Default)]
pub struct FieldMapping {
    /// (log source selector, sigma field, ECS candidates)
    entries: Vec<(Logsource, String, Vec<String>)>,
}

/// SigmaHQ web server (W3C extended log) names onto ECS.
const WEB: &[(&str, &[&str])] = &[
    ("cs-uri-query", &["url.query"]),
    ("cs-uri-stem", &["url.path"]),
    ("cs-uri", &["url.original"]),
    ("c-ip", &["source.ip"]),
    ("s-ip", &["destination.ip"]),
    ("sc-status", &["http.response.status_code"]),
    ("cs-method", &["http.request.method"]),
    ("cs-user-agent", &["user_agent.original"]),
    ("cs-referer", &["http.request.referrer"]),
    ("cs-host", &["url.domain"]),
    ("cs-cookie", &["http.request.cookie"]),
    ("cs-username", &["user.name"]),
    ("cs-bytes", &["http.request.bytes"]),
    ("sc-bytes", &["http.response.body.bytes"]),
    ("cs-version", &["http.version"]),
    ("date", &["@timestamp"]),
];

/// SigmaHQ proxy names onto ECS.
const PROXY: &[(&str, &[&str])] = &[
    ("c-uri", &["url.original"]),
    ("c-uri-query", &["url.query"]),
    ("c-uri-stem", &["url.path"]),
    ("c-uri-extension", &["url.extension"]),
    ("c-useragent", &["user_agent.original"]),
    ("c-ip", &["source.ip"]),
    ("cs-host", &["url.domain", "destination.domain"]),
    ("cs-method", &["http.request.method"]),
    ("cs-referrer", &["http.request.referrer"]),
    ("cs-cookie", &["http.request.cookie"]),
    ("sc-status", &["http.response.status_code"]),
    ("r-dns", &["destination.domain", "url.domain"]),
    ("dst_ip", &["destination.ip"]),
    ("cs-bytes", &["http.request.bytes"]),
    ("sc-bytes", &["http.response.bytes"]),
];

impl FieldMapping {
    /// No mapping at all: rule field names are looked up as written.
    pub fn none() -> Self {
        FieldMapping::default()
    }

    /// The built-in mapping: SigmaHQ `webserver` and `proxy` field names onto ECS.
    pub fn ecs_default() -> Self {
        let mut m = FieldMapping::none();
        let web = Logsource::new(None, Some("webserver"), None);
        for (sigma, ecs) in WEB {
            m.add(web.clone(), sigma, ecs);
        }
        let proxy = Logsource::new(None, Some("proxy"), None);
        for (sigma, ecs) in PROXY {
            m.add(proxy.clone(), sigma, ecs);
        }
        m
    }

    /// Adds a mapping for rules whose log source falls under `selector`
    /// (every attribute the selector sets must equal the rule's). Later entries
    /// take precedence over earlier ones.
    pub fn add(&mut self, selector: Logsource, sigma_field: &str, ecs_fields: &[&str]) {
        self.entries.insert(
            0,
            (
                selector,
                sigma_field.to_string(),
                ecs_fields.iter().map(|s| s.to_string()).collect(),
            ),
        );
    }

    /// Candidate event paths for `field` in a rule of log source `rule`.
    pub fn resolve(&self, rule: &Logsource, field: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (sel, sigma, ecs) in &self.entries {
            if sigma == field && selector_covers(sel, rule) {
                out.extend(ecs.iter().cloned());
                break;
            }
        }
        if !out.iter().any(|f| f == field) {
            out.push(field.to_string());
        }
        out
    }
}

fn selector_covers(sel: &Logsource, rule: &Logsource) -> bool {
    fn ok(s: &Option<String>, r: &Option<String>) -> bool {
        match s {
            None => true,
            Some(s) => r.as_ref() == Some(s),
        }
    }
    ok(&sel.product, &rule.product)
        && ok(&sel.category, &rule.category)
        && ok(&sel.service, &rule.service)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_web_fields_only_for_web_rules() {
        let m = FieldMapping::ecs_default();
        let web = Logsource::new(Some("apache"), Some("webserver"), None);
        assert_eq!(
            m.resolve(&web, "cs-uri-query"),
            vec!["url.query", "cs-uri-query"]
        );
        let win = Logsource::new(Some("windows"), None, None);
        assert_eq!(m.resolve(&win, "cs-uri-query"), vec!["cs-uri-query"]);
        let mut custom = FieldMapping::ecs_default();
        custom.add(
            Logsource::new(Some("apache"), None, None),
            "cs-uri-query",
            &["apache.query"],
        );
        assert_eq!(
            custom.resolve(&web, "cs-uri-query"),
            vec!["apache.query", "cs-uri-query"]
        );
    }
}
