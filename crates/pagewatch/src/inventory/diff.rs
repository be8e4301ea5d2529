//! The diff of a crawl against the inventory and the approvals.

use std::collections::BTreeSet;

use super::{
    headers::weaknesses, Approvals, Change, Entry, Inventory, Observation, ScriptKey, State,
};

/// The changes a crawl shows, and the inventory to store after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    pub changes: Vec<Change>,
    pub inventory: Inventory,
}

/// The changes `observation` shows against `previous` and `approvals`.
pub fn diff(previous: &Inventory, approvals: &Approvals, observation: &Observation) -> Vec<Change> {
    update(previous, approvals, observation).changes
}

/// [`diff`], with the next inventory. States follow the approvals as they are
/// now: approving a script makes it `authorised` on the next run; a body no
/// approval covers is `new`, or `changed` once some body under the same name
/// was approved (its authorisation is reset). A script already reported is
/// not reported again until it changes.
pub fn update(previous: &Inventory, approvals: &Approvals, obs: &Observation) -> Update {
    let mut changes = Vec::new();
    let mut next = Inventory::default();
    let mut seen: BTreeSet<ScriptKey> = BTreeSet::new();

    for script in &obs.scripts {
        let key = script.key();
        if !seen.insert(key.clone()) {
            continue; // the same script executed twice
        }
        let approved = approvals.covering(&key, script).is_some();
        let before = previous.scripts.get(&key);
        let state = match before {
            _ if approved => State::Authorised,
            Some(e) if e.digests.sha256 != script.digests.sha256 => {
                let was_authorised = e.state == State::Authorised || approvals.ever_approved(&key);
                changes.push(Change::ScriptChanged {
                    key: key.clone(),
                    script: script.clone(),
                    previous: e.digests.clone(),
                    was_authorised,
                });
                if was_authorised {
                    State::Changed
                } else {
                    State::New
                }
            }
            // Same body as last time: keep the state it had (a reset
            // authorisation stays reset), unless it had been removed.
            Some(e) if e.state != State::Removed => e.state,
            Some(_) | None => {
                let reset = approvals.ever_approved(&key);
                changes.push(Change::NewScript {
                    key: key.clone(),
                    script: script.clone(),
                });
                if reset {
                    State::Changed
                } else {
                    State::New
                }
            }
        };
        next.scripts.insert(
            key,
            Entry {
                source: script.source.clone(),
                state,
                digests: script.digests.clone(),
                size: script.size,
                has_sri: script.has_sri,
                initiator: script.initiator.clone(),
                first_seen: before.map_or(obs.at, |e| e.first_seen),
                last_seen: obs.at,
                scan: before
                    .filter(|e| e.digests.sha256 == script.digests.sha256)
                    .and_then(|e| e.scan.clone()),
            },
        );
    }

    for (key, e) in &previous.scripts {
        if seen.contains(key) {
            continue;
        }
        if e.state != State::Removed {
            changes.push(Change::ScriptRemoved {
                key: key.clone(),
                previous: e.digests.clone(),
            });
        }
        let mut gone = e.clone();
        gone.state = State::Removed;
        next.scripts.insert(key.clone(), gone);
    }

    let own_host = crate::csp::host_of(&obs.page.url);
    next.hosts = previous.hosts.clone();
    for c in &obs.connections {
        let host = c.host.to_ascii_lowercase();
        let known = next.hosts.contains(&host)
            || own_host.as_deref() == Some(host.as_str())
            || approvals.allows_host(&host);
        if !known {
            changes.push(Change::NewOutboundHost(c.clone()));
        }
        next.hosts.insert(host);
    }

    if let Some(before) = &previous.headers {
        changes.extend(
            weaknesses(before, &obs.headers)
                .into_iter()
                .map(Change::HeaderWeakened),
        );
    }
    next.headers = Some(obs.headers.clone());

    next.iframes = obs.iframes.iter().cloned().collect();
    // The first run has nothing to compare its frames with.
    if previous.headers.is_some() && next.iframes != previous.iframes {
        changes.push(Change::IframeChanged {
            added: next
                .iframes
                .difference(&previous.iframes)
                .cloned()
                .collect(),
            removed: previous
                .iframes
                .difference(&next.iframes)
                .cloned()
                .collect(),
        });
    }

    Update {
        changes,
        inventory: next,
    }
}
