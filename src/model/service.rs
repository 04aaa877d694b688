//! The port registry's record: a service, a port, a range, Unassigned or Reserved entries.

use super::port::PortRange;
use super::record::{
    ParseRules, Record, RecordTables, first_ordinal, is_first_ordinal, record_fields,
};
use super::registry::{Registry, RegistryInfo};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// One `<record>` of the port registry, normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceRecord {
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

record_fields! {
    /// The port registry's field table, in contract order: the one list of its fields that
    /// the parser, the store, the diff and the renderers share.
    pub enum ServiceField for ServiceRecord {
        key: [
            Name = "name", Text(name);
            Protocol = "protocol", Text(protocol);
            Port = "port", Text(port);
        ]
        content: [
            Description = "description", Text(description);
            Assignee = "assignee", List(assignee);
            Contact = "contact", List(contact);
            References = "references", List(references);
            Registered = "registered", Text(registered);
            Modified = "modified", Text(modified);
            ServiceCode = "service_code", Text(service_code);
            Unauthorized = "unauthorized", Text(unauthorized);
            Notes = "notes", Text(notes);
        ]
    }
}

impl Record for ServiceRecord {
    type Field = ServiceField;
    const REGISTRY: Registry = Registry::Services;
    const INFO: RegistryInfo = RegistryInfo {
        name: "services",
        root_id: "service-names-port-numbers",
        url: "https://www.iana.org/assignments/service-names-port-numbers/service-names-port-numbers.xml",
        iana_name: "IANA Service Name and Transport Protocol Port Number Registry",
        file_name: "service-names-port-numbers.xml",
        title: "the port registry",
        subject: "service name and port number registry",
        record_name: "a service name",
    };
    const RULES: ParseRules<ServiceField> = ParseRules {
        records_in: None,
        text_elements: &[
            ("name", ServiceField::Name),
            ("protocol", ServiceField::Protocol),
            ("number", ServiceField::Port),
            ("description", ServiceField::Description),
            ("note", ServiceField::Notes),
            ("sc", ServiceField::ServiceCode),
            ("unauthorized", ServiceField::Unauthorized),
        ],
        people_elements: &[
            ("assignee", ServiceField::Assignee),
            ("contact", ServiceField::Contact),
        ],
        lower_case: &[ServiceField::Protocol],
        contact: ServiceField::Contact,
        references: ServiceField::References,
        registered: ServiceField::Registered,
        modified: ServiceField::Modified,
    };
    const TABLES: RecordTables = RecordTables {
        keys: "record_key",
        versions: "record_version",
        people: "person_version",
        range_columns: ("port_lo", "port_hi"),
    };
    const NAME: ServiceField = ServiceField::Name;
    const SEARCHED: &'static [ServiceField] = &[
        ServiceField::Name,
        ServiceField::Description,
        ServiceField::Assignee,
        ServiceField::Contact,
    ];
    const QUALIFIER: Option<ServiceField> = Some(ServiceField::Protocol);
    const LABEL_HEADER: &'static str = "port";
    const OWNERS_HEADER: &'static str = "assignee";

    fn ordinal(&self) -> u32 {
        self.ordinal
    }

    fn set_ordinal(&mut self, ordinal: u32) {
        self.ordinal = ordinal;
    }

    fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    fn notes(&self) -> Option<&str> {
        self.notes.as_deref()
    }

    fn registered(&self) -> Option<&str> {
        self.registered.as_deref()
    }

    fn modified(&self) -> Option<&str> {
        self.modified.as_deref()
    }

    fn owners(&self) -> Option<&[String]> {
        self.assignee.as_deref()
    }

    fn label(&self) -> String {
        key_label(
            self.name.as_deref(),
            self.protocol.as_deref(),
            self.port.as_deref(),
        )
    }

    fn range(&self) -> Option<PortRange> {
        self.covered_ports()
    }

    /// Whether the two cover some (port, protocol) in common.
    fn overlaps(&self, other: &ServiceRecord) -> bool {
        let common_protocol = match &self.protocol {
            Some(protocol) => other.covers_protocol(protocol),
            None => true,
        };
        match (self.covered_ports(), other.covered_ports()) {
            (Some(ours), Some(theirs)) => common_protocol && ours.overlaps(theirs),
            _ => false,
        }
    }

    fn same_place(&self, other: &ServiceRecord) -> bool {
        self.port.is_some() && self.port == other.port && self.protocol == other.protocol
    }

    /// By port number, then protocol, name and ordinal; service names without a port come
    /// last, by name.
    fn display_cmp(&self, other: &ServiceRecord) -> Ordering {
        let port_order = |r: &ServiceRecord| match r.port.as_deref().map(str::parse::<PortRange>) {
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

impl ServiceRecord {
    /// The ports it covers, when it has a numeric port or range. With
    /// [`ServiceRecord::covers_protocol`], the one notion of coverage that `free`, `check`
    /// and the grouped report share.
    pub fn covered_ports(&self) -> Option<PortRange> {
        self.port.as_deref()?.parse().ok()
    }

    /// Whether it covers this protocol: its own, or every one when it has none. IANA writes
    /// its Unassigned and Reserved ranges without one (`4700-4720`, not `4700-4720/tcp`).
    pub fn covers_protocol(&self, protocol: &str) -> bool {
        self.protocol.as_deref().is_none_or(|own| own == protocol)
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

/// A record of a name, protocol, port and description only, for tests across the crate.
#[cfg(test)]
impl ServiceRecord {
    pub(crate) fn entry(
        name: Option<&str>,
        protocol: Option<&str>,
        port: &str,
        description: &str,
    ) -> ServiceRecord {
        ServiceRecord {
            name: name.map(str::to_string),
            protocol: protocol.map(str::to_string),
            port: Some(port.to_string()),
            description: Some(description.to_string()),
            ..ServiceRecord::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Field, FieldSlot, FieldValue, Person};

    #[test]
    fn ordinal_is_printed_only_above_one() {
        let mut record = ServiceRecord {
            name: Some("rdp".into()),
            ordinal: 1,
            ..ServiceRecord::default()
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
        let json = serde_json::to_value(ServiceRecord::default()).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let names: Vec<&str> = ServiceField::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(keys, names);
        let key_and_content: Vec<ServiceField> = ServiceField::KEY
            .iter()
            .chain(ServiceField::CONTENT)
            .copied()
            .collect();
        assert_eq!(key_and_content, ServiceField::ALL);
        for &field in ServiceField::ALL {
            assert_eq!(ServiceField::named(field.name()), Some(field));
            let mut record = ServiceRecord::default();
            match field.slot(&mut record) {
                FieldSlot::Text(slot) => {
                    *slot = Some("x".into());
                    assert_eq!(field.value(&record), FieldValue::Text(Some("x")));
                }
                FieldSlot::List(slot) => {
                    *slot = Some(vec!["x".into()]);
                    assert_eq!(field.value(&record), FieldValue::List(Some(&["x".into()])));
                }
                FieldSlot::Flag(_) => panic!("the port registry has no yes/no field: {field}"),
            }
            // The slot is the member the JSON names.
            let json = serde_json::to_value(&record).unwrap();
            assert_ne!(json[field.name()], serde_json::Value::Null, "{field}");
        }
    }

    /// The digest is stored in every database, so the bytes it is made of are pinned.
    #[test]
    fn content_hashes_are_what_every_stored_database_holds() {
        let record = ServiceRecord {
            name: Some("https".into()),
            description: Some("http protocol over TLS/SSL".into()),
            assignee: Some(vec!["IESG".into()]),
            references: Some(vec!["rfc:rfc9110".into()]),
            registered: Some("2012-07-31".into()),
            ..ServiceRecord::default()
        };
        assert_eq!(record.content_hash(), -6_016_274_249_424_944_025);
        let person = Person {
            id: "IESG".into(),
            name: Some("IESG".into()),
            ..Person::default()
        };
        assert_eq!(person.content_hash(), -9_152_689_341_434_142_925);
    }

    fn entry(
        name: Option<&str>,
        protocol: Option<&str>,
        port: &str,
        description: &str,
    ) -> ServiceRecord {
        ServiceRecord::entry(name, protocol, port, description)
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
        let name_only = ServiceRecord {
            name: Some("mles".into()),
            protocol: Some("tcp".into()),
            ..ServiceRecord::default()
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
        let a = ServiceRecord {
            name: Some("a".into()),
            description: Some("x".into()),
            ..ServiceRecord::default()
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
