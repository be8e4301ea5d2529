//! Operator roles and the API scopes they grant. The team roles are the
//! people of an incident (`bulwark_model::Role`); `admin` manages keys,
//! operators and settings. No role grants a reveal of personal data: an
//! operator who must read PII is given an API key for it, which the access
//! review lists.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use bulwark_model::{Role, Scope, Scopes};
use serde::{Deserialize, Serialize};

/// One role an operator holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OperatorRole {
    Team(Role),
    Admin,
}

impl OperatorRole {
    pub const ALL: [OperatorRole; 7] = [
        OperatorRole::Team(Role::IncidentCommander),
        OperatorRole::Team(Role::SecurityLead),
        OperatorRole::Team(Role::Legal),
        OperatorRole::Team(Role::PrComms),
        OperatorRole::Team(Role::CustomerService),
        OperatorRole::Team(Role::ExecutiveSponsor),
        OperatorRole::Admin,
    ];

    pub fn code(self) -> &'static str {
        match self {
            OperatorRole::Team(r) => r.code(),
            OperatorRole::Admin => "admin",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            OperatorRole::Team(r) => r.title(),
            OperatorRole::Admin => "Administrator",
        }
    }

    /// What the role may do through the API.
    pub fn scopes(self) -> &'static [Scope] {
        match self {
            OperatorRole::Team(Role::IncidentCommander) => &[
                Scope::IncidentsAll,
                Scope::AlertsRead,
                Scope::AuditRead,
                Scope::VaultRead,
            ],
            OperatorRole::Team(Role::SecurityLead) => &[
                Scope::IncidentsAll,
                Scope::AlertsRead,
                Scope::AuditRead,
                Scope::VaultRead,
                Scope::VaultLockdown,
                Scope::EventsWrite,
            ],
            OperatorRole::Team(Role::Legal) => &[
                Scope::IncidentsRead,
                Scope::IncidentsWrite,
                Scope::AuditRead,
            ],
            OperatorRole::Team(Role::PrComms) => &[Scope::IncidentsRead],
            OperatorRole::Team(Role::CustomerService) => {
                &[Scope::IncidentsRead, Scope::VaultLookup]
            }
            OperatorRole::Team(Role::ExecutiveSponsor) => {
                &[Scope::IncidentsRead, Scope::AlertsRead, Scope::AuditRead]
            }
            OperatorRole::Admin => &[Scope::Admin, Scope::AuditRead],
        }
    }
}

impl fmt::Display for OperatorRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`; known: incident_commander, security_lead, legal, pr_comms, customer_service, executive_sponsor, admin")]
pub struct UnknownOperatorRole(pub String);

impl FromStr for OperatorRole {
    type Err = UnknownOperatorRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OperatorRole::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| UnknownOperatorRole(s.chars().take(64).collect()))
    }
}

impl Serialize for OperatorRole {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for OperatorRole {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
mod openapi {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    use utoipa::openapi::{RefOr, Schema};

    impl utoipa::PartialSchema for super::OperatorRole {
        fn schema() -> RefOr<Schema> {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(super::OperatorRole::ALL.iter().map(|r| r.code())))
                .into()
        }
    }

    impl utoipa::ToSchema for super::OperatorRole {}
}

/// The roles of one operator.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct OperatorRoles(pub BTreeSet<OperatorRole>);

impl OperatorRoles {
    pub fn new(roles: impl IntoIterator<Item = OperatorRole>) -> Self {
        OperatorRoles(roles.into_iter().collect())
    }

    pub fn has(&self, role: OperatorRole) -> bool {
        self.0.contains(&role)
    }

    pub fn has_team(&self, role: Role) -> bool {
        self.has(OperatorRole::Team(role))
    }

    /// Everything the roles together grant.
    pub fn scopes(&self) -> Scopes {
        Scopes::new(self.0.iter().flat_map(|r| r.scopes().iter().copied()))
    }

    pub fn codes(&self) -> Vec<&'static str> {
        self.0.iter().map(|r| r.code()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_ones_are_named() {
        for r in OperatorRole::ALL {
            assert_eq!(r.code().parse::<OperatorRole>(), Ok(r));
        }
        let e = "root".parse::<OperatorRole>().unwrap_err();
        assert!(e.to_string().contains("`root`") && e.to_string().contains("legal"));
    }

    #[test]
    fn no_role_reveals_personal_data() {
        for r in OperatorRole::ALL {
            let s = OperatorRoles::new([r]).scopes();
            assert!(!s.allows(Scope::VaultRevealAll), "{r}");
            for e in bulwark_model::DataElement::ALL {
                assert!(!s.allows(Scope::VaultReveal(e)), "{r} reveals {e}");
            }
        }
    }

    #[test]
    fn roles_grant_what_their_work_needs() {
        let cs = OperatorRoles::new([OperatorRole::Team(Role::CustomerService)]).scopes();
        assert!(cs.allows(Scope::VaultLookup) && !cs.allows(Scope::IncidentsWrite));
        let sec = OperatorRoles::new([OperatorRole::Team(Role::SecurityLead)]).scopes();
        assert!(sec.allows(Scope::VaultLockdown) && !sec.allows(Scope::Admin));
        let admin = OperatorRoles::new([OperatorRole::Admin]).scopes();
        assert!(admin.allows(Scope::Admin) && !admin.allows(Scope::IncidentsWrite));
    }
}
