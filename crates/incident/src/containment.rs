//! The containment actions a playbook task can suggest. Running them is the
//! shell's job (store, server); this module names them, says which grant
//! running one needs and whether it can be undone.

use std::fmt;

use bulwark_model::Scope;
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;

use crate::timeline::{EntryKind, TimelineEntry};

/// Store webhook events Bulwark documents for stores to implement. Others are
/// allowed (a store may wire its own) but the playbook lint warns about them.
pub const KNOWN_WEBHOOK_EVENTS: &[(&str, &str)] = &[
    (
        "checkout.pause",
        "Stop taking payments until the checkout is known clean",
    ),
    ("checkout.resume", "Take payments again"),
    (
        "admin.force_password_reset",
        "Force every admin account to set a new password",
    ),
    (
        "customers.force_password_reset",
        "Force affected customers to set a new password",
    ),
    ("sessions.revoke_all", "Sign every user out everywhere"),
    (
        "system.isolate",
        "Take an affected host or service off the network",
    ),
    (
        "storefront.maintenance",
        "Put the storefront into maintenance mode",
    ),
    (
        "integrations.disable",
        "Disable a third-party integration or its credentials",
    ),
];

/// A containment action.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ContainmentAction {
    /// Revoke the API key (or operator) the attacker is using.
    RevokeApiKey,
    /// Break-glass lockdown: freeze all vault reveals.
    VaultLockdown,
    /// Rotate the vault data key (and re-wrap customer keys).
    RotateDataKey,
    /// Call the store's webhook for `event`.
    Webhook { event: String },
}

impl ContainmentAction {
    /// `revoke_api_key`, `vault_lockdown`, `rotate_data_key` or `webhook:<event>`.
    pub fn code(&self) -> String {
        match self {
            ContainmentAction::RevokeApiKey => "revoke_api_key".into(),
            ContainmentAction::VaultLockdown => "vault_lockdown".into(),
            ContainmentAction::RotateDataKey => "rotate_data_key".into(),
            ContainmentAction::Webhook { event } => format!("webhook:{event}"),
        }
    }

    /// The grant a caller needs to run the action.
    pub fn required_scope(&self) -> Scope {
        match self {
            ContainmentAction::RevokeApiKey | ContainmentAction::RotateDataKey => Scope::Admin,
            ContainmentAction::VaultLockdown => Scope::VaultLockdown,
            // A webhook changes the store, not Bulwark: it is incident work.
            ContainmentAction::Webhook { .. } => Scope::IncidentsWrite,
        }
    }

    /// Whether the action can be undone (lockdown off, checkout resumed).
    /// Revocation and rotation are one-way on purpose: undoing them would
    /// hand the attacker back what was taken away.
    pub fn reversible(&self) -> bool {
        match self {
            ContainmentAction::VaultLockdown => true,
            ContainmentAction::Webhook { event } => {
                event == "checkout.pause" || event == "storefront.maintenance"
            }
            ContainmentAction::RevokeApiKey | ContainmentAction::RotateDataKey => false,
        }
    }
}

impl fmt::Display for ContainmentAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

/// A webhook event name: dot-separated lower-case words (`checkout.pause`).
pub fn is_valid_event_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    name.len() <= 64
        && parts.len() >= 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        })
}

/// Whether Bulwark documents the event (see `KNOWN_WEBHOOK_EVENTS`).
pub fn is_known_event(name: &str) -> bool {
    KNOWN_WEBHOOK_EVENTS.iter().any(|(n, _)| *n == name)
}

/// What the shell records after running (or undoing) a containment action:
/// who, when (the entry's actor and time), why and with what result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContainmentRecord {
    pub action: ContainmentAction,
    /// What it acted on: an API key id, a webhook URL's name; never a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub reason: String,
    /// True when this undoes an earlier action (lockdown off, checkout resumed).
    #[serde(default)]
    pub undo: bool,
    pub succeeded: bool,
    /// The outcome in words: `HTTP 200 after 2 attempts`, `key revoked`.
    pub result: String,
    /// The playbook task that suggested it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
}

impl ContainmentRecord {
    /// The timeline entry for this record.
    pub fn entry(&self, incident: u64, actor: &str, at: OffsetDateTime) -> TimelineEntry {
        let verb = if self.undo { "Undid" } else { "Ran" };
        let outcome = if self.succeeded {
            "succeeded"
        } else {
            "FAILED"
        };
        let target = self
            .target
            .as_deref()
            .map(|t| format!(" on {t}"))
            .unwrap_or_default();
        TimelineEntry::new(
            incident,
            at,
            actor,
            EntryKind::Containment,
            format!(
                "{verb} {}{target}: {outcome} ({}). Why: {}",
                self.action, self.result, self.reason
            ),
            json!(self),
        )
    }
}
