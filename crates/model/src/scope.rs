//! What an API key or operator may do. Scopes are strings such as
//! `vault:reveal:email`; a key holds a set of them.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DataElement;

/// One grant.
///
/// `admin` administers (keys, lockdown, settings, audit logs) but deliberately does
/// not reveal PII: reading customer data takes an explicit `vault:reveal:*` grant,
/// which is itself recorded in the ledger when issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Admin,
    /// Create, update and erase customers.
    VaultWrite,
    /// Customer metadata (residency, card BIN/last four, which elements are held).
    VaultRead,
    /// Exact-match search through blind indexes.
    VaultLookup,
    /// Decrypt one element.
    VaultReveal(DataElement),
    /// Decrypt every element.
    VaultRevealAll,
    /// Reveal while the vault is locked down.
    VaultBreakGlass,
    /// Switch lockdown on and off.
    VaultLockdown,
    /// Read the access log and the ledger.
    AuditRead,
    EventsWrite,
    AlertsRead,
    IncidentsRead,
    IncidentsWrite,
    /// `incidents:*`
    IncidentsAll,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope `{0}`; known: admin, vault:write, vault:read, vault:lookup, vault:reveal:<element>, vault:reveal:*, vault:break-glass, vault:lockdown, audit:read, events:write, alerts:read, incidents:read, incidents:write, incidents:*")]
pub struct ScopeError(pub String);

impl FromStr for Scope {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let scope = match s {
            "admin" => Scope::Admin,
            "vault:write" => Scope::VaultWrite,
            "vault:read" => Scope::VaultRead,
            "vault:lookup" => Scope::VaultLookup,
            "vault:reveal:*" => Scope::VaultRevealAll,
            "vault:break-glass" => Scope::VaultBreakGlass,
            "vault:lockdown" => Scope::VaultLockdown,
            "audit:read" => Scope::AuditRead,
            "events:write" => Scope::EventsWrite,
            "alerts:read" => Scope::AlertsRead,
            "incidents:read" => Scope::IncidentsRead,
            "incidents:write" => Scope::IncidentsWrite,
            "incidents:*" => Scope::IncidentsAll,
            other => match other.strip_prefix("vault:reveal:") {
                Some(code) => Scope::VaultReveal(
                    code.parse()
                        .map_err(|_| ScopeError(other.chars().take(64).collect()))?,
                ),
                None => return Err(ScopeError(other.chars().take(64).collect())),
            },
        };
        Ok(scope)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Admin => f.write_str("admin"),
            Scope::VaultWrite => f.write_str("vault:write"),
            Scope::VaultRead => f.write_str("vault:read"),
            Scope::VaultLookup => f.write_str("vault:lookup"),
            Scope::VaultReveal(e) => write!(f, "vault:reveal:{e}"),
            Scope::VaultRevealAll => f.write_str("vault:reveal:*"),
            Scope::VaultBreakGlass => f.write_str("vault:break-glass"),
            Scope::VaultLockdown => f.write_str("vault:lockdown"),
            Scope::AuditRead => f.write_str("audit:read"),
            Scope::EventsWrite => f.write_str("events:write"),
            Scope::AlertsRead => f.write_str("alerts:read"),
            Scope::IncidentsRead => f.write_str("incidents:read"),
            Scope::IncidentsWrite => f.write_str("incidents:write"),
            Scope::IncidentsAll => f.write_str("incidents:*"),
        }
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
mod openapi {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::{RefOr, Schema};

    /// Scopes travel as their text form.
    impl utoipa::PartialSchema for super::Scope {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(
                    "A grant: admin, vault:write, vault:read, vault:lookup, vault:reveal:<element> or vault:reveal:*, vault:break-glass, vault:lockdown, audit:read, events:write, alerts:read, incidents:read, incidents:write, incidents:*",
                ))
                .examples(["vault:reveal:email"])
                .into()
        }
    }

    impl utoipa::ToSchema for super::Scope {}
}

/// The grants one principal holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Scopes(pub BTreeSet<Scope>);

impl Scopes {
    pub fn new(scopes: impl IntoIterator<Item = Scope>) -> Self {
        Scopes(scopes.into_iter().collect())
    }

    /// The grant that satisfies `wanted`, if any: used both to decide and to
    /// record which grants are actually exercised (for access reviews).
    pub fn grant_for(&self, wanted: Scope) -> Option<Scope> {
        if self.0.contains(&wanted) {
            return Some(wanted);
        }
        let implied = match wanted {
            Scope::VaultReveal(_) => Scope::VaultRevealAll,
            Scope::IncidentsRead | Scope::IncidentsWrite => Scope::IncidentsAll,
            // admin administers everything except reading PII and breaking glass.
            Scope::VaultRevealAll | Scope::VaultBreakGlass => return None,
            _ => Scope::Admin,
        };
        self.0.contains(&implied).then_some(implied)
    }

    pub fn allows(&self, wanted: Scope) -> bool {
        self.grant_for(wanted).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scope> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print_round_trip() {
        for s in [
            "admin",
            "vault:reveal:card_number",
            "vault:reveal:*",
            "incidents:*",
            "vault:break-glass",
        ] {
            assert_eq!(s.parse::<Scope>().unwrap().to_string(), s);
        }
        assert!("vault:reveal:ssn".parse::<Scope>().is_err());
        assert!("root".parse::<Scope>().is_err());
    }

    #[test]
    fn admin_does_not_read_pii() {
        let admin = Scopes::new([Scope::Admin]);
        assert!(admin.allows(Scope::VaultWrite));
        assert!(admin.allows(Scope::AuditRead));
        assert!(!admin.allows(Scope::VaultReveal(DataElement::Email)));
        assert!(!admin.allows(Scope::VaultBreakGlass));
    }

    #[test]
    fn reveal_grants_are_per_element() {
        let s = Scopes::new([Scope::VaultReveal(DataElement::Email)]);
        assert!(s.allows(Scope::VaultReveal(DataElement::Email)));
        assert!(!s.allows(Scope::VaultReveal(DataElement::CardNumber)));
        let all = Scopes::new([Scope::VaultRevealAll]);
        assert_eq!(
            all.grant_for(Scope::VaultReveal(DataElement::CardNumber)),
            Some(Scope::VaultRevealAll)
        );
    }
}
