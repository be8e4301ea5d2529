//! The PII discovery engine (issue 15), pure: no database, no I/O, no clock.
//! The shell reads a schema and bounded samples of each column and hands
//! them in; this crate says what each column holds and what in it breaks
//! the rules.
//!
//! - [`value`]: what one value is — an e-mail address, a Luhn-valid card
//!   number and its brand, an IBAN with a valid checksum, a phone number, an
//!   IP address, a national id of a country, a date, a password hash and its
//!   scheme — each detector linear in the value and bounded.
//! - [`names`]: what a column's name suggests (`billing_email`, `cc_number`,
//!   `dob`, `notes`).
//! - [`classify`]: both together over a column's samples, as a
//!   [`classify::ColumnReport`] with an element, a confidence and the reasons,
//!   including key-value tables (`wp_usermeta`, Magento's EAV) and JSON
//!   columns, whose keys are classified as columns of their own.
//! - [`findings`]: what is a violation in itself: full card numbers stored
//!   (PCI DSS 3.5.1), card security codes kept (3.3.1.2), weak password
//!   hashing (8.3.2), personal data in free-text columns.
//! - [`subjects`]: which table holds the customers, which tables tie rows
//!   to one, and where each lives ([`residency`]: country and region values
//!   as shops write them, phone prefixes as a weaker signal) — a plan of
//!   whole-table reads and the tally that counts customers per jurisdiction
//!   and element, or lists the exact customers for scope.
//! - [`mask`]: the only form in which a sampled value may leave this crate
//!   (`411111******1111`), and only when the caller asks.
//!
//! No sampled value is kept in any report: reports hold counts, patterns,
//! reasons and, on request, masked examples.
#![forbid(unsafe_code)]

pub mod classify;
pub mod findings;
pub mod mask;
pub mod names;
pub mod residency;
pub mod subjects;
pub mod value;
