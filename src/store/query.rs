//! Read-side questions: the snapshot list, which snapshot a reference means, the records of a
//! snapshot, and the changes between two snapshots.

use super::{Result, Store, StoreError};
use crate::model::{Change, Record, sort_changes, sort_records};
use chrono::NaiveDate;
use rusqlite::{OptionalExtension, Row};
use rustc_hash::FxHashMap;
use serde::Serialize;

/// One row of `portreg snapshots`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotRow {
    pub id: i64,
    pub sha256: String,
    pub registry_date: String,
    pub observed_at: String,
    pub source: String,
    pub records: i64,
    pub people: i64,
    pub byte_size: i64,
    /// Against the snapshot before it; null for the oldest.
    pub added: Option<i64>,
    pub removed: Option<i64>,
    pub modified: Option<i64>,
    #[serde(skip)]
    pub seq: i64,
}

/// How a user names a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotRef {
    Id(i64),
    /// The latest snapshot dated on or before this day.
    Date(NaiveDate),
    Latest,
    Previous,
}

impl std::str::FromStr for SnapshotRef {
    type Err = String;
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        let text = text.trim();
        match text {
            "latest" => return Ok(SnapshotRef::Latest),
            "previous" => return Ok(SnapshotRef::Previous),
            _ => {}
        }
        if let Ok(id) = text.parse::<i64>()
            && id > 0
        {
            return Ok(SnapshotRef::Id(id));
        }
        if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
            && text.len() == 10
        {
            return Ok(SnapshotRef::Date(date));
        }
        Err(format!(
            "{text:?} is not a snapshot: expected an id (see `portreg snapshots`), a date YYYY-MM-DD, `latest` or `previous`"
        ))
    }
}

impl std::fmt::Display for SnapshotRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SnapshotRef::Id(id) => write!(f, "snapshot {id}"),
            SnapshotRef::Date(date) => write!(f, "a snapshot dated on or before {date}"),
            SnapshotRef::Latest => write!(f, "latest"),
            SnapshotRef::Previous => write!(f, "previous"),
        }
    }
}

const SNAPSHOT_COLUMNS: &str = "id, sha256, registry_date, observed_at, source, records, people,
    byte_size, added, removed, modified, seq";

fn snapshot_row(row: &Row) -> rusqlite::Result<SnapshotRow> {
    Ok(SnapshotRow {
        id: row.get(0)?,
        sha256: row.get(1)?,
        registry_date: row.get(2)?,
        observed_at: row.get(3)?,
        source: row.get(4)?,
        records: row.get(5)?,
        people: row.get(6)?,
        byte_size: row.get(7)?,
        added: row.get(8)?,
        removed: row.get(9)?,
        modified: row.get(10)?,
        seq: row.get(11)?,
    })
}

const RECORD_COLUMNS: &str = "k.name, k.protocol, k.port, k.ordinal, v.description, v.assignee,
    v.contact, v.\"references\", v.registered, v.modified, v.service_code, v.unauthorized, v.notes";

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
    Ok(Record {
        name: row.get(at)?,
        protocol: row.get(at + 1)?,
        port: row.get(at + 2)?,
        ordinal: row.get(at + 3)?,
        description: row.get(at + 4)?,
        assignee: json_list(row.get(at + 5)?)?,
        contact: json_list(row.get(at + 6)?)?,
        references: json_list(row.get(at + 7)?)?,
        registered: row.get(at + 8)?,
        modified: row.get(at + 9)?,
        service_code: row.get(at + 10)?,
        unauthorized: row.get(at + 11)?,
        notes: row.get(at + 12)?,
    })
}

impl Store {
    /// Every snapshot in history order, with its change counts.
    pub fn snapshots(&self) -> Result<Vec<SnapshotRow>> {
        let sql = format!("SELECT {SNAPSHOT_COLUMNS} FROM snapshots ORDER BY seq");
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], snapshot_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The snapshot a reference names.
    pub fn resolve(&self, reference: &SnapshotRef) -> Result<SnapshotRow> {
        let (condition, value): (&str, String) = match reference {
            SnapshotRef::Id(id) => ("id = ?1", id.to_string()),
            SnapshotRef::Date(date) => (
                "seq = (SELECT max(seq) FROM snapshot WHERE registry_date <= ?1)",
                date.format("%Y-%m-%d").to_string(),
            ),
            SnapshotRef::Latest => (
                "seq = (SELECT max(seq) FROM snapshot) AND ?1 = ?1",
                String::new(),
            ),
            SnapshotRef::Previous => (
                "seq = (SELECT max(seq) - 1 FROM snapshot) AND ?1 = ?1",
                String::new(),
            ),
        };
        let sql = format!("SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE {condition}");
        let found = self
            .conn
            .query_row(&sql, [value], snapshot_row)
            .optional()?;
        match found {
            Some(row) => Ok(row),
            None if self.snapshot_count()? == 0 => Err(StoreError::Empty),
            None => Err(StoreError::NoSuchSnapshot(reference.to_string())),
        }
    }

    /// The snapshot whose document has this sha256, if stored.
    pub fn snapshot_by_sha256(&self, sha256: &str) -> Result<Option<SnapshotRow>> {
        self.snapshot_where("sha256 = ?1", sha256)
    }

    /// The snapshot at a place in history (1 = oldest), if there is one.
    pub fn snapshot_at_seq(&self, seq: i64) -> Result<Option<SnapshotRow>> {
        self.snapshot_where("seq = ?1", seq)
    }

    /// The latest snapshot, or None for an empty database.
    pub fn latest_snapshot(&self) -> Result<Option<SnapshotRow>> {
        self.snapshot_where("seq = (SELECT max(seq) FROM snapshot) AND ?1", true)
    }

    fn snapshot_where(
        &self,
        condition: &str,
        value: impl rusqlite::ToSql,
    ) -> Result<Option<SnapshotRow>> {
        let sql = format!("SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE {condition}");
        Ok(self
            .conn
            .query_row(&sql, [value], snapshot_row)
            .optional()?)
    }

    pub fn snapshot_count(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM snapshot", [], |r| r.get(0))?)
    }

    /// The records of the snapshot at `seq`, in display order.
    pub fn records_at(&self, seq: i64) -> Result<Vec<Record>> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM record_version v JOIN record_key k ON k.id = v.key_id
             WHERE v.first_seq <= ?1 AND (v.last_seq IS NULL OR v.last_seq >= ?1)"
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
    pub fn diff(&self, from_seq: i64, to_seq: i64) -> Result<Vec<Change>> {
        let sql = format!(
            "SELECT v.key_id, v.first_seq <= ?1 AND (v.last_seq IS NULL OR v.last_seq >= ?1),
                    {RECORD_COLUMNS}
             FROM record_version v JOIN record_key k ON k.id = v.key_id
             WHERE (v.first_seq <= ?1 AND (v.last_seq IS NULL OR v.last_seq >= ?1))
                != (v.first_seq <= ?2 AND (v.last_seq IS NULL OR v.last_seq >= ?2))"
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
