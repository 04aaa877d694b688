//! What changed about a record between two snapshots, as the contract's JSON has it.

use super::record::{Record, RecordField, RecordKey, first_ordinal, is_first_ordinal};
use serde::{Deserialize, Serialize};

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
    pub changed_fields: Vec<RecordField>,
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
