//! The protocol numbers registry's record: an IP protocol number (IPv4 "Protocol", IPv6 "Next
//! Header"), a range of them, or an Unassigned or Reserved entry.

use super::port::PortRange;
use super::record::{
    ParseRules, Record, RecordTables, first_ordinal, is_first_ordinal, record_fields,
};
use super::registry::{Registry, RegistryInfo};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// One `<record>` of the protocol numbers registry, normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolRecord {
    /// `6`, or a range `148-252`.
    pub value: Option<String>,
    /// IANA's "keyword": `TCP`, `IPv6-ICMP`, as written.
    pub name: Option<String>,
    pub description: Option<String>,
    /// `<ipv6>Y</ipv6>`: the value is also an IPv6 extension header type.
    pub ipv6_extension_header: bool,
    pub contact: Option<Vec<String>>,
    pub references: Option<Vec<String>>,
    pub registered: Option<String>,
    pub modified: Option<String>,
    pub notes: Option<String>,
    /// 1 for the first record with its (value, name) in document order, 2 for the second, ...
    /// Printed only when above 1.
    #[serde(default = "first_ordinal", skip_serializing_if = "is_first_ordinal")]
    pub ordinal: u32,
}

record_fields! {
    /// The protocol numbers registry's field table, in contract order.
    pub enum ProtocolField for ProtocolRecord {
        key: [
            Value = "value", Text(value);
            Name = "name", Text(name);
        ]
        content: [
            Description = "description", Text(description);
            Ipv6ExtensionHeader = "ipv6_extension_header", Flag(ipv6_extension_header);
            Contact = "contact", List(contact);
            References = "references", List(references);
            Registered = "registered", Text(registered);
            Modified = "modified", Text(modified);
            Notes = "notes", Text(notes);
        ]
    }
}

impl Record for ProtocolRecord {
    type Field = ProtocolField;
    const REGISTRY: Registry = Registry::Protocols;
    const INFO: RegistryInfo = RegistryInfo {
        name: "protocols",
        root_id: "protocol-numbers",
        url: "https://www.iana.org/assignments/protocol-numbers/protocol-numbers.xml",
        iana_name: "IANA Assigned Internet Protocol Numbers",
        file_name: "protocol-numbers.xml",
        title: "the protocol numbers registry",
        subject: "protocol numbers registry",
        record_name: "a keyword",
    };
    const RULES: ParseRules<ProtocolField> = ParseRules {
        // The root holds one registry of records (and notes, people).
        records_in: Some("protocol-numbers-1"),
        text_elements: &[
            ("value", ProtocolField::Value),
            ("name", ProtocolField::Name),
            ("description", ProtocolField::Description),
            ("ipv6", ProtocolField::Ipv6ExtensionHeader),
            ("note", ProtocolField::Notes),
        ],
        people_elements: &[],
        lower_case: &[],
        contact: ProtocolField::Contact,
        references: ProtocolField::References,
        registered: ProtocolField::Registered,
        modified: ProtocolField::Modified,
    };
    const TABLES: RecordTables = RecordTables {
        keys: "protocol_number_key",
        versions: "protocol_number_version",
        people: "protocol_number_person_version",
        range_columns: ("value_lo", "value_hi"),
    };
    const NAME: ProtocolField = ProtocolField::Name;
    const SEARCHED: &'static [ProtocolField] = &[
        ProtocolField::Name,
        ProtocolField::Description,
        ProtocolField::Contact,
    ];
    const QUALIFIER: Option<ProtocolField> = None;
    const LABEL_HEADER: &'static str = "value";
    const OWNERS_HEADER: &'static str = "contact";

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
        self.contact.as_deref()
    }

    fn label(&self) -> String {
        self.value.clone().unwrap_or_else(|| "-".to_string())
    }

    fn range(&self) -> Option<PortRange> {
        self.value.as_deref()?.parse().ok()
    }

    fn overlaps(&self, other: &ProtocolRecord) -> bool {
        match (self.range(), other.range()) {
            (Some(ours), Some(theirs)) => ours.overlaps(theirs),
            _ => false,
        }
    }

    fn same_place(&self, other: &ProtocolRecord) -> bool {
        self.value.is_some() && self.value == other.value
    }

    /// By value, then keyword and ordinal; records without a numeric value come last.
    fn display_cmp(&self, other: &ProtocolRecord) -> Ordering {
        let value_order = |r: &ProtocolRecord| match r.range() {
            Some(range) => (0u8, range),
            None => (1, PortRange::ALL),
        };
        value_order(self)
            .cmp(&value_order(other))
            .then_with(|| self.value.cmp(&other.value))
            .then_with(|| self.name.cmp(&other.name))
            .then_with(|| self.ordinal.cmp(&other.ordinal))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Field, FieldSlot, FieldValue};

    #[test]
    fn the_field_table_is_the_records_json_in_contract_order() {
        let json = serde_json::to_value(ProtocolRecord::default()).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let names: Vec<&str> = ProtocolField::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(keys, names);
        assert_eq!(json["ipv6_extension_header"], false, "never null");
        for &field in ProtocolField::ALL {
            let mut record = ProtocolRecord::default();
            match field.slot(&mut record) {
                FieldSlot::Text(slot) => *slot = Some("x".into()),
                FieldSlot::List(slot) => *slot = Some(vec!["x".into()]),
                FieldSlot::Flag(slot) => *slot = true,
            }
            assert_ne!(
                field.value(&record),
                field.value(&ProtocolRecord::default())
            );
            let json = serde_json::to_value(&record).unwrap();
            assert_ne!(json[field.name()], serde_json::json!(null), "{field}");
            assert_ne!(json[field.name()], serde_json::json!(false), "{field}");
        }
    }

    #[test]
    fn the_key_is_value_and_keyword_and_the_flag_is_content() {
        let ttp = ProtocolRecord {
            value: Some("84".into()),
            name: Some("TTP".into()),
            ..ProtocolRecord::default()
        };
        let iptm = ProtocolRecord {
            name: Some("IPTM".into()),
            ..ttp.clone()
        };
        assert_ne!(ttp.key(), iptm.key());
        assert!(ttp.same_place(&iptm) && ttp.overlaps(&iptm));
        let mut flagged = ttp.clone();
        flagged.ipv6_extension_header = true;
        assert_eq!(flagged.key(), ttp.key());
        assert_eq!(
            ttp.changed_fields(&flagged),
            vec![ProtocolField::Ipv6ExtensionHeader]
        );
        assert_ne!(ttp.content_hash(), flagged.content_hash());
        assert_eq!(
            FieldValue::Flag(true),
            ProtocolField::Ipv6ExtensionHeader.value(&flagged)
        );
    }

    #[test]
    fn records_sort_by_value_then_keyword() {
        let record = |value: &str, name: &str| ProtocolRecord {
            value: Some(value.into()),
            name: Some(name.into()),
            ..ProtocolRecord::default()
        };
        let mut records = vec![
            record("148-252", ""),
            record("17", "UDP"),
            record("84", "TTP"),
            record("6", "TCP"),
            record("84", "IPTM"),
        ];
        crate::model::sort_records(&mut records);
        let order: Vec<String> = records.iter().map(|r| r.label()).collect();
        assert_eq!(order, ["6", "17", "84", "84", "148-252"]);
        assert_eq!(records[2].name.as_deref(), Some("IPTM"));
        assert_eq!(records[4].range(), "148-252".parse().ok());
    }
}
