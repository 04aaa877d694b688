//! The registry as data: records, people, changes, dates and ports, shaped as the data
//! contract (`docs/data-model.md`) says.
//!
//! These types are what the parser produces, what the store keeps and what every JSON output
//! prints, so their serde form *is* the contract: field order, `null` for absent values, and
//! `ordinal` only when it is above 1.
//!
//! - [`record`]: a record, the one table of its fields, its key across snapshots.
//! - [`person`]: a person or organisation records refer to.
//! - [`change`]: what changed about a record between two snapshots.
//! - [`registry`]: a whole document.
//! - [`date`]: the registry's own version date.
//! - [`port`]: ports, port ranges and protocols.
//! - [`digest`]: the content digests every database stores.

mod change;
mod date;
mod digest;
mod person;
mod port;
mod record;
mod registry;

pub use change::{Change, ChangeKind, sort_changes};
pub use date::{NotARegistryDate, RegistryDate};
pub use person::Person;
pub use port::{PROTOCOLS, PortRange, parse_protocol};
pub use record::{FieldValue, Record, RecordField, RecordKey, key_label, sort_records};
pub use registry::{ContentHashes, Registry};
