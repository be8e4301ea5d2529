//! Who may do what, and how an operator proves who they are (pure: times,
//! randomness and stored state come in as parameters).
//!
//! - [`roles`]: an operator's roles (the team roles plus `admin`) and the API
//!   scopes each grants; least privilege, and no role reads PII by default.
//! - [`password`]: the password policy of OWASP ASVS 5.0 §6.2: at least 8
//!   characters (15 recommended), up to 128, no composition rules, refused when
//!   it is a well-known password (zxcvbn's frequency lists).
//! - [`totp`]: RFC 6238 codes (SHA-1, 6 digits, 30 s, ±1 step), each accepted
//!   once: the caller stores the last accepted step and passes it back.
//! - [`recovery`]: ten single-use recovery codes and their normal form.
//! - [`session`]: idle and absolute lifetimes, and when an action needs the
//!   second factor again (step-up).
//! - [`throttle`]: growing delays after failed logins, per account and per
//!   source address, that slow guessing without locking a real user out.
#![forbid(unsafe_code)]

pub mod password;
pub mod recovery;
pub mod roles;
pub mod session;
pub mod throttle;
pub mod totp;

pub use password::{check_new_password, PasswordRefused, Strength};
pub use recovery::{normalize_recovery_code, recovery_codes, RECOVERY_CODES};
pub use roles::{OperatorRole, OperatorRoles, UnknownOperatorRole};
pub use session::{span, SessionPolicy, SessionTimes, SessionVerdict};
pub use throttle::{Throttle, ThrottlePolicy};
pub use totp::{TotpError, TotpSecret};
