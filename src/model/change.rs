//! What changed about a record between two snapshots, as the contract's JSON has it.

use super::record::{Field, FieldValue, Record, RecordKey};
use serde::ser::SerializeMap;
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

/// One record change. As JSON: `change`, the record's key fields (and `ordinal` when above
/// 1), `changed_fields`, `before`, `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change<R: Record> {
    pub change: ChangeKind,
    pub changed_fields: Vec<R::Field>,
    pub before: Option<R>,
    pub after: Option<R>,
}

impl<R: Record> Change<R> {
    /// The record the change is about: as it is after, or as it was for a removal.
    pub fn record(&self) -> Option<&R> {
        self.after.as_ref().or(self.before.as_ref())
    }

    pub fn key(&self) -> Option<RecordKey> {
        self.record().map(R::key)
    }

    /// Builds the change between two versions of one key (either may be absent); None when
    /// nothing differs.
    pub fn between(before: Option<R>, after: Option<R>) -> Option<Change<R>> {
        let (change, changed_fields) = match (&before, &after) {
            (None, None) => return None,
            (None, Some(_)) => (ChangeKind::Added, Vec::new()),
            (Some(_), None) => (ChangeKind::Removed, Vec::new()),
            (Some(b), Some(a)) => {
                let fields = b.changed_fields(a);
                if fields.is_empty() {
                    return None;
                }
                (ChangeKind::Modified, fields)
            }
        };
        Some(Change {
            change,
            changed_fields,
            before,
            after,
        })
    }
}

/// Sorts changes into their display order (by their records' order).
pub fn sort_changes<R: Record>(changes: &mut [Change<R>]) {
    changes.sort_by(|a, b| match (a.record(), b.record()) {
        (Some(a), Some(b)) => a.display_cmp(b),
        (a, b) => a.is_some().cmp(&b.is_some()),
    });
}

impl<R: Record> Serialize for Change<R> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let record = self.record();
        let ordinal = record.map_or(1, R::ordinal);
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("change", &self.change)?;
        for &field in R::Field::KEY {
            let value = record.and_then(|r| field.value(r).text());
            map.serialize_entry(field.name(), &value)?;
        }
        if ordinal > 1 {
            map.serialize_entry("ordinal", &ordinal)?;
        }
        map.serialize_entry("changed_fields", &self.changed_fields)?;
        map.serialize_entry("before", &self.before)?;
        map.serialize_entry("after", &self.after)?;
        map.end()
    }
}

/// The JSON form read back: what is not the change's own goes into `key`, which must then be
/// exactly the record's key fields (and its ordinal, when above 1).
#[derive(Deserialize)]
#[serde(bound = "R: Record")]
struct ChangeJson<R: Record> {
    change: ChangeKind,
    changed_fields: Vec<R::Field>,
    before: Option<R>,
    after: Option<R>,
    #[serde(flatten)]
    key: serde_json::Map<String, serde_json::Value>,
}

impl<'de, R: Record> Deserialize<'de> for Change<R> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let json = ChangeJson::<R>::deserialize(deserializer)?;
        let change = Change {
            change: json.change,
            changed_fields: json.changed_fields,
            before: json.before,
            after: json.after,
        };
        let record = change
            .record()
            .ok_or_else(|| D::Error::custom("a change with neither before nor after"))?;
        let mut expected = serde_json::Map::new();
        for &field in R::Field::KEY {
            let value = match field.value(record) {
                FieldValue::Text(Some(text)) => serde_json::Value::from(text),
                _ => serde_json::Value::Null,
            };
            expected.insert(field.name().to_string(), value);
        }
        if record.ordinal() > 1 {
            expected.insert("ordinal".into(), record.ordinal().into());
        }
        if json.key != expected {
            return Err(D::Error::custom(format!(
                "the change's key {:?} is not its record's {:?}",
                json.key, expected
            )));
        }
        Ok(change)
    }
}
