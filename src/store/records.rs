//! The records of a snapshot, what a lookup finds in it, every version of a record, the
//! changes between two snapshots, and a snapshot's people.

use super::{Result, Seq, SnapshotId, SnapshotRow, Store};
use crate::lookup::Lookup;
use crate::model::{Change, Person, Record, RecordField, RegistryDate, sort_changes, sort_records};
use rusqlite::Row;
use rusqlite::types::Value;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::sync::LazyLock;

/// The columns of a record, from `k` (record_key) and `v` (record_version), in the order
/// [`record_from`] reads them: the key fields, the ordinal, the content fields.
static RECORD_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    let key = RecordField::KEY
        .iter()
        .map(|f| format!("k.\"{}\"", f.name()));
    let content = RecordField::CONTENT
        .iter()
        .map(|f| format!("v.\"{}\"", f.name()));
    key.chain(["k.ordinal".to_string()])
        .chain(content)
        .collect::<Vec<_>>()
        .join(", ")
});

/// How many columns [`RECORD_COLUMNS`] has.
const RECORD_COLUMN_COUNT: usize = RecordField::ALL.len() + 1;

fn json_list(text: Option<String>) -> rusqlite::Result<Option<Vec<String>>> {
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
    })
    .transpose()
}

/// Reads the columns of [`RECORD_COLUMNS`] starting at `at`.
fn record_from(row: &Row, at: usize) -> rusqlite::Result<Record> {
    let mut record = Record {
        ordinal: row.get(at + RecordField::KEY.len())?,
        ..Record::default()
    };
    let key = RecordField::KEY.into_iter().zip(at..);
    let content = RecordField::CONTENT
        .into_iter()
        .zip(at + RecordField::KEY.len() + 1..);
    for (field, column) in key.chain(content) {
        if let Some(text) = field.text_mut(&mut record) {
            *text = row.get(column)?;
        } else if let Some(list) = field.list_mut(&mut record) {
            *list = json_list(row.get(column)?)?;
        }
    }
    Ok(record)
}

impl Store {
    /// The records of the snapshot at `seq`, in display order.
    pub fn records_at(&self, seq: Seq) -> Result<Vec<Record>> {
        let sql = format!(
            "SELECT {columns} FROM record_version v JOIN record_key k ON k.id = v.key_id
             WHERE v.first_seq <= ?1 AND (v.last_seq IS NULL OR v.last_seq >= ?1)",
            columns = *RECORD_COLUMNS
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([seq], |row| record_from(row, 0))?;
        let mut records: Vec<Record> = rows.collect::<rusqlite::Result<_>>()?;
        sort_records(&mut records);
        Ok(records)
    }

    /// Every record change from the snapshot at `from_seq` to the one at `to_seq` (either
    /// direction), in display order. Only the versions that hold at one side and not the other
    /// are read.
    pub fn diff(&self, from_seq: Seq, to_seq: Seq) -> Result<Vec<Change>> {
        let sql = format!(
            "SELECT v.key_id, v.first_seq <= ?1 AND (v.last_seq IS NULL OR v.last_seq >= ?1),
                    {columns}
             FROM record_version v JOIN record_key k ON k.id = v.key_id
             WHERE (v.first_seq <= ?1 AND (v.last_seq IS NULL OR v.last_seq >= ?1))
                != (v.first_seq <= ?2 AND (v.last_seq IS NULL OR v.last_seq >= ?2))",
            columns = *RECORD_COLUMNS
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([from_seq, to_seq])?;
        let mut sides: FxHashMap<i64, (Option<Record>, Option<Record>)> = FxHashMap::default();
        while let Some(row) = rows.next()? {
            let key_id: i64 = row.get(0)?;
            let in_from: bool = row.get(1)?;
            let record = record_from(row, 2)?;
            let entry = sides.entry(key_id).or_default();
            if in_from {
                entry.0 = Some(record);
            } else {
                entry.1 = Some(record);
            }
        }
        let mut changes: Vec<Change> = sides
            .into_values()
            .filter_map(|(before, after)| Change::between(before, after))
            .collect();
        sort_changes(&mut changes);
        Ok(changes)
    }
}

impl Store {
    /// The snapshot before `snapshot` in history, and the changes from it to `snapshot`; None
    /// for the oldest.
    pub fn changes_into(
        &self,
        snapshot: &SnapshotRow,
    ) -> Result<Option<(SnapshotRow, Vec<Change>)>> {
        let Some(previous) = self.snapshot_at_seq(snapshot.seq.before())? else {
            return Ok(None);
        };
        let changes = self.diff(previous.seq, snapshot.seq)?;
        Ok(Some((previous, changes)))
    }
}

/// Which records of a snapshot a lookup wants.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter<'a> {
    pub lookup: Option<&'a Lookup>,
    /// Case-insensitive text in the name, description, assignee or contact.
    pub text: Option<&'a str>,
    /// Only records with a service name (hides Unassigned, Reserved and de-assigned ports).
    pub assigned_only: bool,
}

/// One version of a record and the snapshots it held in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionSpan {
    #[serde(flatten)]
    pub record: Record,
    pub first_snapshot_id: SnapshotId,
    pub first_registry_date: RegistryDate,
    /// The last snapshot it held in; the latest one when `current`.
    pub last_snapshot_id: SnapshotId,
    pub last_registry_date: RegistryDate,
    /// Whether it holds in the latest snapshot.
    pub current: bool,
    #[serde(skip)]
    pub key_id: i64,
    #[serde(skip)]
    pub first_seq: Seq,
}

/// The tables of a filtered query. With a lookup, keys come first (few, by index) and their
/// versions after; the planner otherwise walks every version by its interval.
fn filter_from(filter: &RecordFilter) -> &'static str {
    if filter.lookup.is_some() {
        "record_key k CROSS JOIN record_version v ON v.key_id = k.id"
    } else {
        "record_version v JOIN record_key k ON k.id = v.key_id"
    }
}

/// The SQL condition and named parameters for a filter, on `k` (record_key) and `v`
/// (record_version).
fn filter_sql(filter: &RecordFilter) -> (String, Vec<(&'static str, Value)>) {
    let mut conditions = Vec::new();
    let mut params: Vec<(&'static str, Value)> = Vec::new();
    match filter.lookup {
        Some(Lookup::Ports { ports, .. }) => {
            // Keys starting inside the range, plus ranges starting below it that reach into it;
            // both by index (record_key_identity leads with port_lo, and
            // migrations/0003_port_range_index.sql).
            conditions.push(
                "k.id IN (SELECT id FROM record_key WHERE port_lo BETWEEN :lo AND :hi
                          UNION ALL
                          SELECT id FROM record_key WHERE port_hi > port_lo
                              AND port_hi >= :lo AND port_lo < :lo)",
            );
            params.push((":lo", Value::Integer(i64::from(ports.first))));
            params.push((":hi", Value::Integer(i64::from(ports.last))));
        }
        Some(Lookup::Name { name, .. }) => {
            conditions.push("k.name = :name COLLATE NOCASE");
            params.push((":name", Value::Text(name.clone())));
        }
        None => {}
    }
    if let Some(protocol) = filter.lookup.and_then(Lookup::protocol) {
        conditions.push("k.protocol = :protocol");
        params.push((":protocol", Value::Text(protocol.to_string())));
    }
    if let Some(text) = filter.text {
        conditions.push(
            "(instr(lower(k.name), :text) OR instr(lower(v.description), :text)
              OR instr(lower(v.assignee), :text) OR instr(lower(v.contact), :text))",
        );
        params.push((":text", Value::Text(text.to_lowercase())));
    }
    if filter.assigned_only {
        conditions.push("k.name IS NOT NULL");
    }
    if conditions.is_empty() {
        conditions.push("1");
    }
    (conditions.join(" AND "), params)
}

impl Store {
    /// The records of the snapshot at `seq` that the filter wants, in display order.
    pub fn find_records(&self, seq: Seq, filter: &RecordFilter) -> Result<Vec<Record>> {
        let (condition, mut params) = filter_sql(filter);
        let sql = format!(
            "SELECT {columns} FROM {from}
             WHERE v.first_seq <= :seq AND (v.last_seq IS NULL OR v.last_seq >= :seq)
               AND {condition}",
            columns = *RECORD_COLUMNS,
            from = filter_from(filter)
        );
        params.push((":seq", Value::Integer(seq.0)));
        let mut stmt = self.conn.prepare(&sql)?;
        let bound: Vec<(&str, &dyn rusqlite::ToSql)> = params
            .iter()
            .map(|(name, value)| (*name, value as &dyn rusqlite::ToSql))
            .collect();
        let rows = stmt.query_map(bound.as_slice(), |row| record_from(row, 0))?;
        let mut records: Vec<Record> = rows.collect::<rusqlite::Result<_>>()?;
        sort_records(&mut records);
        Ok(records)
    }

    /// Every version of the records a lookup names, across all snapshots: by key in display
    /// order, then oldest first.
    pub fn versions_of(&self, lookup: &Lookup) -> Result<Vec<VersionSpan>> {
        let filter = RecordFilter {
            lookup: Some(lookup),
            ..RecordFilter::default()
        };
        let (condition, params) = filter_sql(&filter);
        let sql = format!(
            "SELECT {columns}, f.id, f.registry_date, l.id, l.registry_date,
                    v.last_seq IS NULL, k.id, v.first_seq
             FROM {from}
             JOIN snapshot f ON f.seq = v.first_seq
             JOIN snapshot l ON l.seq = ifnull(v.last_seq, (SELECT max(seq) FROM snapshot))
             WHERE {condition}",
            columns = *RECORD_COLUMNS,
            from = filter_from(&filter)
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let bound: Vec<(&str, &dyn rusqlite::ToSql)> = params
            .iter()
            .map(|(name, value)| (*name, value as &dyn rusqlite::ToSql))
            .collect();
        let n = RECORD_COLUMN_COUNT;
        let rows = stmt.query_map(bound.as_slice(), |row| {
            Ok(VersionSpan {
                record: record_from(row, 0)?,
                first_snapshot_id: row.get(n)?,
                first_registry_date: row.get(n + 1)?,
                last_snapshot_id: row.get(n + 2)?,
                last_registry_date: row.get(n + 3)?,
                current: row.get(n + 4)?,
                key_id: row.get(n + 5)?,
                first_seq: row.get(n + 6)?,
            })
        })?;
        let mut spans: Vec<VersionSpan> = rows.collect::<rusqlite::Result<_>>()?;
        spans.sort_by(|a, b| {
            a.record
                .key()
                .display_cmp(&b.record.key())
                .then(a.first_seq.cmp(&b.first_seq))
        });
        Ok(spans)
    }
}

impl Store {
    /// The people of the snapshot at `seq`, by id.
    pub fn people_at(&self, seq: Seq) -> Result<Vec<Person>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT person_id, name, org, uri, updated FROM person_version
             WHERE first_seq <= ?1 AND (last_seq IS NULL OR last_seq >= ?1)
             ORDER BY person_id",
        )?;
        let rows = stmt.query_map([seq], |row| person_from(row, 0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Reads `person_id, name, org, uri, updated` starting at column `at`.
fn person_from(row: &Row, at: usize) -> rusqlite::Result<Person> {
    Ok(Person {
        id: row.get(at)?,
        name: row.get(at + 1)?,
        org: row.get(at + 2)?,
        uri: row.get(at + 3)?,
        updated: row.get(at + 4)?,
    })
}

/// A stored version of a record: its key's row, its own row, the places it held in, and
/// the record it is.
#[derive(Debug, Clone)]
pub struct StoredVersion {
    pub key_id: i64,
    pub version_id: i64,
    pub first: Seq,
    /// None: it holds in the latest snapshot.
    pub last: Option<Seq>,
    pub record: Record,
}

/// A stored version of a person.
#[derive(Debug, Clone)]
pub struct StoredPerson {
    pub version_id: i64,
    pub first: Seq,
    pub last: Option<Seq>,
    pub person: Person,
}

impl Store {
    /// Every version of every record, by the place it starts at: the whole history in one
    /// read, which `verify` walks snapshot by snapshot.
    pub fn record_versions(&self) -> Result<Vec<StoredVersion>> {
        let sql = format!(
            "SELECT k.id, v.id, v.first_seq, v.last_seq, {columns}
             FROM record_version v JOIN record_key k ON k.id = v.key_id
             ORDER BY v.first_seq, v.id",
            columns = *RECORD_COLUMNS
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], |row| {
            Ok(StoredVersion {
                key_id: row.get(0)?,
                version_id: row.get(1)?,
                first: row.get(2)?,
                last: row.get(3)?,
                record: record_from(row, 4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every version of every person, by the place it starts at.
    pub fn person_versions(&self) -> Result<Vec<StoredPerson>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, first_seq, last_seq, person_id, name, org, uri, updated
             FROM person_version ORDER BY first_seq, id",
        )?;
        let rows = stmt.query_map([], |row| {
            Ok(StoredPerson {
                version_id: row.get(0)?,
                first: row.get(1)?,
                last: row.get(2)?,
                person: person_from(row, 3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
