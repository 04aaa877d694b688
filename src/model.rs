//! The registry as data: records, people and changes, shaped as `registry-model.md` says.
//!
//! These types are what the parser produces, what the store keeps and what every JSON output
//! prints, so their serde form *is* the contract: field order, `null` for absent values, and
//! `ordinal` only when it is above 1.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::borrow::Borrow;
use std::cmp::Ordering;
use std::sync::Arc;

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

fn first_ordinal() -> u32 {
    1
}

fn is_first_ordinal(ordinal: &u32) -> bool {
    *ordinal <= 1
}

/// The names of the fields a change can list in `changed_fields`, in contract order.
pub const CONTENT_FIELDS: [&str; 9] = [
    "description",
    "assignee",
    "contact",
    "references",
    "registered",
    "modified",
    "service_code",
    "unauthorized",
    "notes",
];

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
        let port_order = |k: &RecordKey| match k.port.as_deref().map(parse_port_range) {
            Some(Some((lo, hi))) => (0u8, lo, hi),
            Some(None) => (1, 0, 0),
            None => (2, 0, 0),
        };
        port_order(self)
            .cmp(&port_order(other))
            .then_with(|| self.port.cmp(&other.port))
            .then_with(|| self.protocol.cmp(&other.protocol))
            .then_with(|| self.name.cmp(&other.name))
            .then_with(|| self.ordinal.cmp(&other.ordinal))
    }
}

/// `"443"` -> (443, 443); `"225-241"` -> (225, 241); anything else -> None.
pub fn parse_port_range(port: &str) -> Option<(u32, u32)> {
    let (lo, hi) = match port.split_once('-') {
        Some((lo, hi)) => (lo.trim(), hi.trim()),
        None => (port.trim(), port.trim()),
    };
    let lo: u32 = lo.parse().ok()?;
    let hi: u32 = hi.parse().ok()?;
    (lo <= hi && hi <= 65535).then_some((lo, hi))
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

    /// The names of the content fields whose values differ between `self` and `other`.
    pub fn changed_fields(&self, other: &Record) -> Vec<&'static str> {
        let mut changed = Vec::new();
        if self.description != other.description {
            changed.push("description");
        }
        if self.assignee != other.assignee {
            changed.push("assignee");
        }
        if self.contact != other.contact {
            changed.push("contact");
        }
        if self.references != other.references {
            changed.push("references");
        }
        if self.registered != other.registered {
            changed.push("registered");
        }
        if self.modified != other.modified {
            changed.push("modified");
        }
        if self.service_code != other.service_code {
            changed.push("service_code");
        }
        if self.unauthorized != other.unauthorized {
            changed.push("unauthorized");
        }
        if self.notes != other.notes {
            changed.push("notes");
        }
        changed
    }

    /// A stable 64-bit digest of the content fields (everything but the key), so the store
    /// can tell "same version" without comparing every column.
    pub fn content_hash(&self) -> i64 {
        let mut hasher = Sha256::new();
        hash_opt_str(&mut hasher, &self.description);
        for list in [&self.assignee, &self.contact, &self.references] {
            match list {
                None => hasher.update([0u8]),
                Some(items) => {
                    hasher.update([1u8]);
                    hasher.update((items.len() as u64).to_le_bytes());
                    for item in items {
                        hash_str(&mut hasher, item);
                    }
                }
            }
        }
        for text in [
            &self.registered,
            &self.modified,
            &self.service_code,
            &self.unauthorized,
            &self.notes,
        ] {
            hash_opt_str(&mut hasher, text);
        }
        digest_to_i64(hasher)
    }
}

/// One `<person>` of `<people>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub id: String,
    pub name: Option<String>,
    pub org: Option<String>,
    pub uri: Option<String>,
    pub updated: Option<String>,
}

impl Person {
    pub fn content_hash(&self) -> i64 {
        let mut hasher = Sha256::new();
        for text in [&self.name, &self.org, &self.uri, &self.updated] {
            hash_opt_str(&mut hasher, text);
        }
        digest_to_i64(hasher)
    }
}

fn hash_str(hasher: &mut Sha256, text: &str) {
    hasher.update((text.len() as u64).to_le_bytes());
    hasher.update(text.as_bytes());
}

fn hash_opt_str(hasher: &mut Sha256, text: &Option<String>) {
    match text {
        None => hasher.update([0u8]),
        Some(text) => {
            hasher.update([1u8]);
            hash_str(hasher, text);
        }
    }
}

fn digest_to_i64(hasher: Sha256) -> i64 {
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_le_bytes(first)
}

/// A whole registry document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    pub title: Option<String>,
    /// `<updated>`, validated as YYYY-MM-DD.
    pub updated: String,
    /// Shared (not copied) with the parse memo of the next document in a batch.
    pub records: Vec<Arc<Record>>,
    pub people: Vec<Arc<Person>>,
}

/// The kind of a change between two snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Added,
    Removed,
    Modified,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Modified => "modified",
        }
    }
}

/// One record change, as the contract's JSON shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub change: ChangeKind,
    pub name: Option<String>,
    pub protocol: Option<String>,
    pub port: Option<String>,
    #[serde(default = "first_ordinal", skip_serializing_if = "is_first_ordinal")]
    pub ordinal: u32,
    pub changed_fields: Vec<String>,
    pub before: Option<Record>,
    pub after: Option<Record>,
}

impl Change {
    pub fn key(&self) -> RecordKey {
        RecordKey {
            name: self.name.clone(),
            protocol: self.protocol.clone(),
            port: self.port.clone(),
            ordinal: self.ordinal,
        }
    }

    /// Builds the change between two versions of one key (either may be absent); None when
    /// nothing differs.
    pub fn between(before: Option<Record>, after: Option<Record>) -> Option<Change> {
        let (kind, changed_fields, key) = match (&before, &after) {
            (None, None) => return None,
            (None, Some(a)) => (ChangeKind::Added, Vec::new(), a.key()),
            (Some(b), None) => (ChangeKind::Removed, Vec::new(), b.key()),
            (Some(b), Some(a)) => {
                let fields = b.changed_fields(a);
                if fields.is_empty() {
                    return None;
                }
                let fields = fields.into_iter().map(str::to_owned).collect();
                (ChangeKind::Modified, fields, a.key())
            }
        };
        Some(Change {
            change: kind,
            name: key.name,
            protocol: key.protocol,
            port: key.port,
            ordinal: key.ordinal,
            changed_fields,
            before,
            after,
        })
    }
}

/// Sorts changes into their display order (by key, see [`RecordKey::display_cmp`]).
pub fn sort_changes(changes: &mut [Change]) {
    changes.sort_by(|a, b| a.key().display_cmp(&b.key()));
}

/// Sorts records into their display order.
pub fn sort_records<R: Borrow<Record>>(records: &mut [R]) {
    records.sort_by(|a, b| a.borrow().key().display_cmp(&b.borrow().key()));
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn port_ranges_parse_and_reject_nonsense() {
        assert_eq!(parse_port_range("443"), Some((443, 443)));
        assert_eq!(parse_port_range("225-241"), Some((225, 241)));
        assert_eq!(parse_port_range("241-225"), None);
        assert_eq!(parse_port_range("70000"), None);
        assert_eq!(parse_port_range("abc"), None);
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

/// Records in document order with their content hashes ([`Record::content_hash`]), as
/// [`crate::parse::parse_registry_streaming`] sends them (the hashes made on its thread).
pub struct RecordChunk {
    pub records: Vec<Arc<Record>>,
    pub hashes: Vec<i64>,
}

/// [`Record::content_hash`] of each record and [`Person::content_hash`] of each person of a
/// registry, in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentHashes {
    pub records: Vec<i64>,
    pub people: Vec<i64>,
}

impl ContentHashes {
    pub fn of(registry: &Registry) -> ContentHashes {
        ContentHashes {
            records: registry.records.iter().map(|r| r.content_hash()).collect(),
            people: registry.people.iter().map(|p| p.content_hash()).collect(),
        }
    }

    /// Whether these are as many hashes as `registry` has records and people (hashes made
    /// elsewhere are used only then).
    pub fn fit(&self, registry: &Registry) -> bool {
        self.records.len() == registry.records.len() && self.people.len() == registry.people.len()
    }
}
