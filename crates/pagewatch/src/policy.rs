//! A Content-Security-Policy proposed from a page's inventory and approvals
//! (issue 14, item 6): first `Report-Only` with the authorised script
//! origins, so violations arrive as reports while nothing breaks; then an
//! enforcing policy that pins authorised bodies by hash. Only what is
//! authorised goes in: an unapproved script is a warning, never a source.

use std::collections::BTreeSet;

use base64::Engine;

use crate::inventory::{ApprovalScope, Approvals, Inventory, ScriptSource, State};

/// Which policy to propose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `Content-Security-Policy-Report-Only`, by origin: the first step.
    ReportOnly,
    /// `Content-Security-Policy`, by hash where the browser can check one.
    Enforce,
}

/// The proposed header and what to look at before using it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Proposal {
    pub header: &'static str,
    pub value: String,
    pub warnings: Vec<String>,
}

fn csp_hash(hex_digest: &str, alg: &str) -> Option<String> {
    let raw = hex::decode(hex_digest).ok()?;
    Some(format!(
        "'{alg}-{}'",
        base64::engine::general_purpose::STANDARD.encode(raw)
    ))
}

/// A source expression may not carry spaces, semicolons, commas or quotes;
/// anything else from a page is left out rather than written into a header.
fn safe_source(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 512
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !b";,'\"".contains(&b))
}

/// The policy for `inventory` under `approvals`, reporting to `report_uri`.
pub fn propose(
    inventory: &Inventory,
    approvals: &Approvals,
    report_uri: Option<&str>,
    stage: Stage,
) -> Proposal {
    let mut warnings = Vec::new();
    let mut script: BTreeSet<String> = BTreeSet::from(["'self'".to_owned()]);
    let mut unapproved = 0usize;
    let mut needs_eval = false;
    for (key, e) in &inventory.scripts {
        if e.state == State::Removed {
            continue;
        }
        let seen = e.observed();
        if e.state != State::Authorised || approvals.covering(key, &seen).is_none() {
            unapproved += 1;
            continue;
        }
        match &e.source {
            ScriptSource::Url(u) => {
                let origin = crate::csp::origin_of(u);
                let dynamic = approvals.0.iter().any(|a| {
                    matches!(&a.scope, ApprovalScope::Dynamic { origin: o, .. }
                        if crate::csp::origin_of(o) == origin)
                });
                if stage == Stage::Enforce && e.has_sri && !dynamic {
                    // CSP 3 matches an external script's hash through its
                    // `integrity` attribute.
                    script.extend(csp_hash(&e.digests.sha384, "sha384"));
                } else if let Some(o) = origin.filter(|o| safe_source(o)) {
                    if stage == Stage::Enforce && !dynamic {
                        warnings.push(format!(
                            "{u} has no `integrity` attribute: it is allowed by origin ({o}); add SRI to pin it by hash"
                        ));
                    }
                    script.insert(o);
                }
            }
            ScriptSource::Inline => {
                script.extend(csp_hash(&e.digests.sha256, "sha256"));
            }
            ScriptSource::Eval => needs_eval = true,
            ScriptSource::Data => {
                warnings.push("an authorised `data:` script needs `data:` in script-src, which lets any data: script run: serve it from a file instead".into());
            }
            ScriptSource::Blob => {
                warnings.push(
                    "an authorised `blob:` script needs `blob:` in script-src; left out".into(),
                );
            }
        }
    }
    for a in &approvals.0 {
        if let ApprovalScope::Dynamic { origin, .. } = &a.scope {
            if let Some(o) = crate::csp::origin_of(origin).filter(|o| safe_source(o)) {
                script.insert(o);
            }
        }
    }
    if needs_eval {
        script.insert("'unsafe-eval'".into());
        warnings.push("the page runs authorised code from strings (eval, new Function): 'unsafe-eval' is in the policy; remove the need for it to close that door".into());
    }
    if unapproved > 0 {
        warnings.push(format!(
            "{unapproved} script(s) on the page are not authorised and are left out: they will be reported (report-only) or blocked (enforce)"
        ));
    }
    let mut hosts: BTreeSet<String> = BTreeSet::new();
    for a in &approvals.0 {
        match &a.scope {
            ApprovalScope::Host { host } => {
                hosts.insert(host.to_ascii_lowercase());
            }
            ApprovalScope::Dynamic { allowed_hosts, .. } => {
                hosts.extend(allowed_hosts.iter().map(|h| h.to_ascii_lowercase()));
            }
            ApprovalScope::Script { .. } => {}
        }
    }
    hosts.retain(|h| safe_source(h));
    let frames: BTreeSet<String> = inventory
        .iframes
        .iter()
        .filter_map(|f| crate::csp::origin_of(f))
        .filter(|o| safe_source(o))
        .collect();
    let join = |first: &[&str], rest: &BTreeSet<String>| -> String {
        first
            .iter()
            .map(|s| (*s).to_owned())
            .chain(rest.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut directives = vec![
        "default-src 'self'".to_owned(),
        format!(
            "script-src {}",
            script.into_iter().collect::<Vec<_>>().join(" ")
        ),
        format!("connect-src {}", join(&["'self'"], &hosts)),
        format!("img-src {}", join(&["'self'", "data:"], &hosts)),
        format!("frame-src {}", join(&["'self'"], &frames)),
        "object-src 'none'".into(),
        "base-uri 'self'".into(),
        "form-action 'self'".into(),
    ];
    match report_uri.filter(|u| safe_source(u)) {
        Some(u) => directives.push(format!("report-uri {u}")),
        None => warnings.push(
            "no report URI: give Bulwark's public address so violations reach /v1/csp-reports"
                .into(),
        ),
    }
    Proposal {
        header: match stage {
            Stage::ReportOnly => "Content-Security-Policy-Report-Only",
            Stage::Enforce => "Content-Security-Policy",
        },
        value: directives.join("; "),
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Page;
    use crate::inventory::{
        update, Approval, Digests, Observation, ObservedScript, SecurityHeaders,
    };
    use time::OffsetDateTime;

    fn script(source: ScriptSource, body: &str, sri: bool) -> ObservedScript {
        ObservedScript {
            source,
            digests: Digests::of(body.as_bytes()),
            size: body.len() as u64,
            initiator: Some("parser".into()),
            has_sri: sri,
        }
    }

    fn approve(scope: ApprovalScope) -> Approval {
        Approval {
            owner: "web".into(),
            justification: "needed".into(),
            approver: "alice".into(),
            at: OffsetDateTime::UNIX_EPOCH,
            scope,
        }
    }

    #[test]
    fn only_authorised_scripts_enter_the_policy_report_only_by_origin_enforce_by_hash() {
        let lib = script(
            ScriptSource::Url("https://cdn.example/lib.js".into()),
            "lib()",
            true,
        );
        let plain = script(
            ScriptSource::Url("https://static.example/a.js".into()),
            "a()",
            false,
        );
        let inline = script(ScriptSource::Inline, "ready()", false);
        let evil = script(
            ScriptSource::Url("https://evil.example/skim.js".into()),
            "skim()",
            false,
        );
        let obs = Observation {
            page: Page {
                url: "https://shop.example/checkout".into(),
                page_type: "payment".into(),
            },
            at: OffsetDateTime::UNIX_EPOCH,
            scripts: vec![lib.clone(), plain.clone(), inline.clone(), evil],
            headers: SecurityHeaders::default(),
            iframes: vec!["https://pay.example/frame?x=1".into()],
            connections: vec![],
        };
        let approvals = Approvals(
            [&lib, &plain, &inline]
                .iter()
                .map(|s| {
                    approve(ApprovalScope::Script {
                        key: s.key(),
                        sha256: vec![s.digests.sha256.clone()],
                    })
                })
                .chain([approve(ApprovalScope::Host {
                    host: "api.pay.example".into(),
                })])
                .collect(),
        );
        let inv = update(&Default::default(), &approvals, &obs).inventory;
        let ro = propose(
            &inv,
            &approvals,
            Some("https://bulwark.example/v1/csp-reports/t"),
            Stage::ReportOnly,
        );
        assert_eq!(ro.header, "Content-Security-Policy-Report-Only");
        assert!(ro.value.contains("script-src 'self' "), "{}", ro.value);
        assert!(
            ro.value.contains("https://cdn.example") && ro.value.contains("https://static.example")
        );
        assert!(
            !ro.value.contains("evil.example"),
            "unapproved never allowed: {}",
            ro.value
        );
        let inline_hash = csp_hash(&inline.digests.sha256, "sha256").unwrap();
        assert!(ro.value.contains(&inline_hash));
        assert!(ro.value.contains("connect-src 'self' api.pay.example"));
        assert!(ro.value.contains("frame-src 'self' https://pay.example"));
        assert!(ro
            .value
            .ends_with("report-uri https://bulwark.example/v1/csp-reports/t"));
        assert!(ro.warnings.iter().any(|w| w.starts_with("1 script(s)")));

        let en = propose(&inv, &approvals, None, Stage::Enforce);
        assert_eq!(en.header, "Content-Security-Policy");
        let lib_hash = csp_hash(&lib.digests.sha384, "sha384").unwrap();
        assert!(
            en.value.contains(&lib_hash),
            "pinned by hash with SRI: {}",
            en.value
        );
        assert!(!en.value.contains("https://cdn.example"), "{}", en.value);
        assert!(
            en.value.contains("https://static.example"),
            "no SRI: by origin"
        );
        assert!(en.warnings.iter().any(|w| w.contains("no `integrity`")));
        assert!(en.warnings.iter().any(|w| w.starts_with("no report URI")));
    }

    #[test]
    fn hostile_names_never_reach_the_header() {
        let bad = script(
            ScriptSource::Url("https://a.example/x.js".into()),
            "x",
            false,
        );
        let obs = Observation {
            page: Page {
                url: "https://shop.example/".into(),
                page_type: "payment".into(),
            },
            at: OffsetDateTime::UNIX_EPOCH,
            scripts: vec![bad.clone()],
            headers: SecurityHeaders::default(),
            iframes: vec!["https://pay.example/'unsafe-inline';".into()],
            connections: vec![],
        };
        let approvals = Approvals(vec![
            approve(ApprovalScope::Script {
                key: bad.key(),
                sha256: vec![bad.digests.sha256.clone()],
            }),
            approve(ApprovalScope::Host {
                host: "x.example; script-src *".into(),
            }),
        ]);
        let inv = update(&Default::default(), &approvals, &obs).inventory;
        let p = propose(
            &inv,
            &approvals,
            Some("https://b.example/r; script-src *"),
            Stage::ReportOnly,
        );
        assert!(!p.value.contains("script-src *"), "{}", p.value);
        assert_eq!(p.value.matches("script-src").count(), 1, "{}", p.value);
        assert!(!p.value.contains("'unsafe-inline'"), "{}", p.value);
    }
}
