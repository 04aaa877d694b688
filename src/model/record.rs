//! A record of the registry, the one table of its fields, and its identity across snapshots.

use super::digest::ContentDigest;
use super::port::PortRange;
use serde::{Deserialize, Serialize};
use std::borrow::Borrow;
use std::cmp::Ordering;

/// One `<record>` of the registry, normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub name: Option<String>,
    pub protocol: Option<String>,
    pub port: Option<String>,
    pub description: Option<String>,
    pub assignee: Option<Vec<String>>,
    pub contact: Option<Vec<String>>,
    pub references: Option<Vec<String>>,
    pub registered: Option<String>,
    pub modified: Option<String>,
    pub service_code: Option<String>,
    pub unauthorized: Option<String>,
    pub notes: Option<String>,
    /// 1 for the first record with its (name, protocol, port) in document order, 2 for the
    /// second, ... Printed only when above 1.
    #[serde(default = "first_ordinal", skip_serializing_if = "is_first_ordinal")]
    pub ordinal: u32,
}

pub(super) fn first_ordinal() -> u32 {
    1
}

pub(super) fn is_first_ordinal(ordinal: &u32) -> bool {
    *ordinal <= 1
}

/// A record's fields, in contract order: the one list of them that the parser, the store,
/// the diff and the renderers share. Its names are the canonical ones (JSON keys and the
/// store's column names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordField {
    Name,
    Protocol,
    Port,
    Description,
    Assignee,
    Contact,
    References,
    Registered,
    Modified,
    ServiceCode,
    Unauthorized,
    Notes,
}

impl Serialize for RecordField {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for RecordField {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        RecordField::named(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown field {name:?}")))
    }
}

impl std::fmt::Display for RecordField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A field's value: text, or a list of strings (people ids, references).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValue<'a> {
    Text(Option<&'a str>),
    List(Option<&'a [String]>),
}

impl RecordField {
    /// Every field, in contract order.
    pub const ALL: [RecordField; 12] = [
        RecordField::Name,
        RecordField::Protocol,
        RecordField::Port,
        RecordField::Description,
        RecordField::Assignee,
        RecordField::Contact,
        RecordField::References,
        RecordField::Registered,
        RecordField::Modified,
        RecordField::ServiceCode,
        RecordField::Unauthorized,
        RecordField::Notes,
    ];

    /// The fields of a record's identity (with its ordinal).
    pub const KEY: [RecordField; 3] = [RecordField::Name, RecordField::Protocol, RecordField::Port];

    /// The fields a version holds, and a change lists in `changed_fields`.
    pub const CONTENT: [RecordField; 9] = [
        RecordField::Description,
        RecordField::Assignee,
        RecordField::Contact,
        RecordField::References,
        RecordField::Registered,
        RecordField::Modified,
        RecordField::ServiceCode,
        RecordField::Unauthorized,
        RecordField::Notes,
    ];

    /// The canonical name: the JSON key and the store's column.
    pub fn name(self) -> &'static str {
        match self {
            RecordField::Name => "name",
            RecordField::Protocol => "protocol",
            RecordField::Port => "port",
            RecordField::Description => "description",
            RecordField::Assignee => "assignee",
            RecordField::Contact => "contact",
            RecordField::References => "references",
            RecordField::Registered => "registered",
            RecordField::Modified => "modified",
            RecordField::ServiceCode => "service_code",
            RecordField::Unauthorized => "unauthorized",
            RecordField::Notes => "notes",
        }
    }

    /// The field of a canonical name.
    pub fn named(name: &str) -> Option<RecordField> {
        RecordField::ALL
            .into_iter()
            .find(|field| field.name() == name)
    }

    /// The value of this field in `record`.
    pub fn value(self, record: &Record) -> FieldValue<'_> {
        match self {
            RecordField::Assignee => FieldValue::List(record.assignee.as_deref()),
            RecordField::Contact => FieldValue::List(record.contact.as_deref()),
            RecordField::References => FieldValue::List(record.references.as_deref()),
            text => FieldValue::Text(text.text(record).and_then(|value| value.as_deref())),
        }
    }

    /// The slot of a text field; None for the list fields.
    pub fn text(self, record: &Record) -> Option<&Option<String>> {
        match self {
            RecordField::Name => Some(&record.name),
            RecordField::Protocol => Some(&record.protocol),
            RecordField::Port => Some(&record.port),
            RecordField::Description => Some(&record.description),
            RecordField::Registered => Some(&record.registered),
            RecordField::Modified => Some(&record.modified),
            RecordField::ServiceCode => Some(&record.service_code),
            RecordField::Unauthorized => Some(&record.unauthorized),
            RecordField::Notes => Some(&record.notes),
            RecordField::Assignee | RecordField::Contact | RecordField::References => None,
        }
    }

    /// The slot of a text field, to fill; None for the list fields.
    pub fn text_mut(self, record: &mut Record) -> Option<&mut Option<String>> {
        match self {
            RecordField::Name => Some(&mut record.name),
            RecordField::Protocol => Some(&mut record.protocol),
            RecordField::Port => Some(&mut record.port),
            RecordField::Description => Some(&mut record.description),
            RecordField::Registered => Some(&mut record.registered),
            RecordField::Modified => Some(&mut record.modified),
            RecordField::ServiceCode => Some(&mut record.service_code),
            RecordField::Unauthorized => Some(&mut record.unauthorized),
            RecordField::Notes => Some(&mut record.notes),
            RecordField::Assignee | RecordField::Contact | RecordField::References => None,
        }
    }

    /// The slot of a list field, to fill; None for the text fields.
    pub fn list_mut(self, record: &mut Record) -> Option<&mut Option<Vec<String>>> {
        match self {
            RecordField::Assignee => Some(&mut record.assignee),
            RecordField::Contact => Some(&mut record.contact),
            RecordField::References => Some(&mut record.references),
            _ => None,
        }
    }
}

/// A record's identity across snapshots: (name, protocol, port) plus the ordinal that tells
/// apart repeated keys within one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordKey {
    pub name: Option<String>,
    pub protocol: Option<String>,
    pub port: Option<String>,
    pub ordinal: u32,
}

impl RecordKey {
    /// The order in which keys are listed: by port number, then protocol, name and ordinal;
    /// service names without a port come last, by name.
    pub fn display_cmp(&self, other: &Self) -> Ordering {
        let port_order = |k: &RecordKey| match k.port.as_deref().map(str::parse::<PortRange>) {
            Some(Ok(range)) => (0u8, range),
            Some(Err(_)) => (1, PortRange::ALL),
            None => (2, PortRange::ALL),
        };
        port_order(self)
            .cmp(&port_order(other))
            .then_with(|| self.port.cmp(&other.port))
            .then_with(|| self.protocol.cmp(&other.protocol))
            .then_with(|| self.name.cmp(&other.name))
            .then_with(|| self.ordinal.cmp(&other.ordinal))
    }
}

impl Record {
    pub fn key(&self) -> RecordKey {
        RecordKey {
            name: self.name.clone(),
            protocol: self.protocol.clone(),
            port: self.port.clone(),
            ordinal: self.ordinal,
        }
    }

    /// The ports it covers, when it has a numeric port or range. With
    /// [`Record::covers_protocol`], the one notion of coverage that `free`, `check` and the
    /// grouped report share.
    pub fn covered_ports(&self) -> Option<PortRange> {
        self.port.as_deref()?.parse().ok()
    }

    /// Whether it covers this protocol: its own, or every one when it has none. IANA writes
    /// its Unassigned and Reserved ranges without one (`4700-4720`, not `4700-4720/tcp`).
    pub fn covers_protocol(&self, protocol: &str) -> bool {
        self.protocol.as_deref().is_none_or(|own| own == protocol)
    }

    /// Whether the two cover some (port, protocol) in common.
    pub fn overlaps(&self, other: &Record) -> bool {
        let common_protocol = match &self.protocol {
            Some(protocol) => other.covers_protocol(protocol),
            None => true,
        };
        match (self.covered_ports(), other.covered_ports()) {
            (Some(ours), Some(theirs)) => common_protocol && ours.overlaps(theirs),
            _ => false,
        }
    }

    /// Whether it is an Unassigned entry: no service name, description `Unassigned` (any case,
    /// blanks around ignored), whatever its notes say. `Unassigned [was netstat]` is not: it
    /// records a de-assignment.
    pub fn is_unassigned(&self) -> bool {
        self.name.is_none()
            && self
                .description
                .as_deref()
                .is_some_and(|text| text.trim().eq_ignore_ascii_case("unassigned"))
    }

    /// The content fields whose values differ between `self` and `other`.
    pub fn changed_fields(&self, other: &Record) -> Vec<RecordField> {
        RecordField::CONTENT
            .into_iter()
            .filter(|field| field.value(self) != field.value(other))
            .collect()
    }

    /// A stable 64-bit digest of the content fields (everything but the key), so the store
    /// can tell "same version" without comparing every column. Stored in every database: the
    /// bytes hashed must never change.
    pub fn content_hash(&self) -> i64 {
        let mut digest = ContentDigest::new();
        for field in RecordField::CONTENT {
            match field.value(self) {
                FieldValue::Text(text) => digest.optional_text(text),
                FieldValue::List(None) => digest.byte(0),
                FieldValue::List(Some(items)) => {
                    digest.byte(1);
                    digest.length(items.len());
                    for item in items {
                        digest.text(item);
                    }
                }
            }
        }
        digest.finish()
    }
}

/// `443/tcp`, `225-241`, or `-` for a service name without a port: where a record is, as people
/// write it.
pub fn key_label(name: Option<&str>, protocol: Option<&str>, port: Option<&str>) -> String {
    match (port, protocol) {
        (Some(port), Some(protocol)) => format!("{port}/{protocol}"),
        (Some(port), None) => port.to_string(),
        (None, Some(protocol)) => format!("-/{protocol}"),
        (None, None) => name.map(|_| "-".to_string()).unwrap_or_default(),
    }
}

/// Sorts records into their display order.
pub fn sort_records<R: Borrow<Record>>(records: &mut [R]) {
    records.sort_by(|a, b| a.borrow().key().display_cmp(&b.borrow().key()));
}

/// A record of a name, protocol, port and description only, for tests across the crate.
#[cfg(test)]
impl Record {
    pub(crate) fn entry(
        name: Option<&str>,
        protocol: Option<&str>,
        port: &str,
        description: &str,
    ) -> Record {
        Record {
            name: name.map(str::to_string),
            protocol: protocol.map(str::to_string),
            port: Some(port.to_string()),
            description: Some(description.to_string()),
            ..Record::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Person;

    #[test]
    fn ordinal_is_printed_only_above_one() {
        let mut record = Record {
            name: Some("rdp".into()),
            ordinal: 1,
            ..Record::default()
        };
        let json = serde_json::to_value(&record).unwrap();
        assert!(json.get("ordinal").is_none());
        assert_eq!(json["assignee"], serde_json::Value::Null);
        record.ordinal = 2;
        let json = serde_json::to_value(&record).unwrap();
        assert_eq!(json["ordinal"], 2);
    }

    #[test]
    fn the_field_table_is_the_records_json_in_contract_order() {
        let json = serde_json::to_value(Record::default()).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let names: Vec<&str> = RecordField::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(keys, names);
        let key_and_content: Vec<RecordField> = RecordField::KEY
            .into_iter()
            .chain(RecordField::CONTENT)
            .collect();
        assert_eq!(key_and_content, RecordField::ALL);
        for field in RecordField::ALL {
            assert_eq!(RecordField::named(field.name()), Some(field));
            let mut record = Record::default();
            let filled = match (
                field.text_mut(&mut record),
                field.list_mut(&mut Record::default()),
            ) {
                (Some(slot), None) => {
                    *slot = Some("x".into());
                    true
                }
                (None, Some(_)) => false,
                other => panic!("{field:?} is both or neither text and list: {other:?}"),
            };
            if filled {
                assert_eq!(field.value(&record), FieldValue::Text(Some("x")));
            }
        }
    }

    /// The digest is stored in every database, so the bytes it is made of are pinned.
    #[test]
    fn content_hashes_are_what_every_stored_database_holds() {
        let record = Record {
            name: Some("https".into()),
            description: Some("http protocol over TLS/SSL".into()),
            assignee: Some(vec!["IESG".into()]),
            references: Some(vec!["rfc:rfc9110".into()]),
            registered: Some("2012-07-31".into()),
            ..Record::default()
        };
        assert_eq!(record.content_hash(), -6_016_274_249_424_944_025);
        let person = Person {
            id: "IESG".into(),
            name: Some("IESG".into()),
            ..Person::default()
        };
        assert_eq!(person.content_hash(), -9_152_689_341_434_142_925);
    }

    fn entry(name: Option<&str>, protocol: Option<&str>, port: &str, description: &str) -> Record {
        Record::entry(name, protocol, port, description)
    }

    #[test]
    fn coverage_is_the_port_range_and_every_protocol_when_none_is_written() {
        let range = entry(None, None, "5541-5549", "Unassigned");
        let tcp = entry(Some("qftest-licserve"), Some("tcp"), "5543", "QF-Test");
        let udp = entry(None, Some("udp"), "5543", "Reserved");
        assert_eq!(range.covered_ports(), "5541-5549".parse().ok());
        assert!(range.covers_protocol("sctp") && tcp.covers_protocol("tcp"));
        assert!(!tcp.covers_protocol("udp"));
        assert!(range.overlaps(&tcp) && tcp.overlaps(&range) && range.overlaps(&udp));
        // Same port, other protocol; same protocol, next port.
        assert!(!tcp.overlaps(&udp) && !udp.overlaps(&tcp));
        assert!(!tcp.overlaps(&entry(Some("x"), Some("tcp"), "5544", "X")));
        // "80/tcp" is not "8080/tcp".
        assert!(!entry(None, Some("tcp"), "80", "x").overlaps(&entry(
            None,
            Some("tcp"),
            "8080",
            "x"
        )));
        // No numeric port: it covers nothing.
        let name_only = Record {
            name: Some("mles".into()),
            protocol: Some("tcp".into()),
            ..Record::default()
        };
        assert_eq!(name_only.covered_ports(), None);
        assert!(!name_only.overlaps(&range) && !range.overlaps(&name_only));
        assert_eq!(
            entry(None, None, "12ab", "Unassigned").covered_ports(),
            None
        );
    }

    #[test]
    fn unassigned_is_a_nameless_entry_that_says_so_whatever_its_notes() {
        assert!(entry(None, None, "5541-5549", "Unassigned").is_unassigned());
        assert!(entry(None, Some("tcp"), "1895", " unassigned ").is_unassigned());
        let mut noted = entry(None, None, "4501", "Unassigned");
        noted.notes = Some("De-registered 08 June 2001".into());
        assert!(noted.is_unassigned());
        assert!(!entry(None, Some("tcp"), "15", "Unassigned [was netstat]").is_unassigned());
        assert!(!entry(None, Some("udp"), "5543", "Reserved").is_unassigned());
        assert!(!entry(Some("x"), Some("tcp"), "1", "Unassigned").is_unassigned());
        let mut silent = entry(None, Some("tcp"), "7", "x");
        silent.description = None;
        assert!(!silent.is_unassigned());
    }

    #[test]
    fn content_hash_ignores_key_but_not_content() {
        let a = Record {
            name: Some("a".into()),
            description: Some("x".into()),
            ..Record::default()
        };
        let mut b = a.clone();
        b.name = Some("b".into());
        assert_eq!(a.content_hash(), b.content_hash());
        b.description = Some("y".into());
        assert_ne!(a.content_hash(), b.content_hash());
        // An empty list and an absent list are not the same value... but the parser never makes
        // empty lists, and None vs Some(["x"]) must differ.
        let mut c = a.clone();
        c.assignee = Some(vec!["x".into()]);
        assert_ne!(a.content_hash(), c.content_hash());
    }
}
