//! The registries as data: records, people, changes, dates and ports, shaped as the data
//! contract (`docs/data-model.md`) says.
//!
//! These types are what the parser produces, what the store keeps and what every JSON output
//! prints, so their serde form *is* the contract: field order, `null` for absent values, and
//! `ordinal` only when it is above 1.
//!
//! - [`registry`]: which registry: its name, its document's root id, its URL.
//! - [`record`]: what every registry's record is: the [`Record`] trait, the field table, the
//!   key across snapshots, the content digest.
//! - [`service`]: the port registry's record; [`protocol`]: the protocol numbers registry's.
//! - [`person`]: a person or organisation records refer to.
//! - [`change`]: what changed about a record between two snapshots.
//! - [`document`]: a whole document.
//! - [`date`]: the registry's own version date.
//! - [`port`]: ports, port ranges and protocols.
//! - [`digest`]: the content digests every database stores.

mod change;
mod date;
mod digest;
mod document;
mod person;
mod port;
mod protocol;
mod record;
mod registry;
mod service;

pub use change::{Change, ChangeKind, sort_changes};
pub use date::{NotARegistryDate, RegistryDate};
pub use document::{ContentHashes, Document};
pub use person::Person;
pub use port::{PROTOCOLS, PortRange, parse_protocol};
pub use protocol::{ProtocolField, ProtocolRecord};
pub use record::{
    Field, FieldSlot, FieldValue, ParseRules, Record, RecordKey, RecordTables, name_with_ordinal,
    sort_records,
};
pub use registry::{Registry, RegistryInfo};
pub use service::{ServiceField, ServiceRecord, key_label};
