//! Read-side questions: the snapshot list, which snapshot a reference means, the records of a
//! snapshot, and the changes between two snapshots.

use super::{Result, Seq, SnapshotId, Store, StoreError};
use crate::lookup::Lookup;
use crate::model::{Change, Record, RecordField, sort_changes, sort_records};
use crate::time::Timestamp;
use chrono::NaiveDate;
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Row};
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::sync::LazyLock;

/// One row of `portreg snapshots`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotRow {
    pub id: SnapshotId,
    pub sha256: String,
    pub registry_date: String,
    pub observed_at: Timestamp,
    pub source: String,
    pub records: i64,
    pub people: i64,
    pub byte_size: i64,
    /// Against the snapshot before it; null for the oldest.
    pub added: Option<i64>,
    pub removed: Option<i64>,
    pub modified: Option<i64>,
    #[serde(skip)]
    pub seq: Seq,
}

/// How a user names a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotRef {
    Id(SnapshotId),
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
            return Ok(SnapshotRef::Id(SnapshotId(id)));
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

/// One snapshot's row with its change counts, without the `snapshots` view (which counts
/// for every snapshot: 3 ms on the whole history, a fifth of a `show`).
const ONE_SNAPSHOT: &str = "SELECT s.id, s.sha256, s.registry_date, s.observed_at, s.source,
    s.record_count, s.person_count, s.byte_size,
    CASE WHEN s.seq > 1 THEN (SELECT count(*) FROM record_version a WHERE a.first_seq = s.seq
        AND NOT EXISTS (SELECT 1 FROM record_version b
                        WHERE b.key_id = a.key_id AND b.last_seq = s.seq - 1)) END,
    CASE WHEN s.seq > 1 THEN (SELECT count(*) FROM record_version b WHERE b.last_seq = s.seq - 1
        AND NOT EXISTS (SELECT 1 FROM record_version a
                        WHERE a.key_id = b.key_id AND a.first_seq = s.seq)) END,
    CASE WHEN s.seq > 1 THEN (SELECT count(*) FROM record_version a WHERE a.first_seq = s.seq
        AND EXISTS (SELECT 1 FROM record_version b
                    WHERE b.key_id = a.key_id AND b.last_seq = s.seq - 1)) END,
    s.seq
    FROM snapshot s";

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
        let sql = format!("{ONE_SNAPSHOT} WHERE {condition}");
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
    pub fn snapshot_at_seq(&self, seq: Seq) -> Result<Option<SnapshotRow>> {
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
        let sql = format!("{ONE_SNAPSHOT} WHERE {condition}");
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
    pub first_registry_date: String,
    /// The last snapshot it held in; the latest one when `current`.
    pub last_snapshot_id: SnapshotId,
    pub last_registry_date: String,
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
        Some(Lookup::Ports { lo, hi, .. }) => {
            // Keys starting inside lo..=hi, plus ranges starting below it that reach into it;
            // both by index (record_key_identity leads with port_lo, and
            // migrations/0003_port_range_index.sql).
            conditions.push(
                "k.id IN (SELECT id FROM record_key WHERE port_lo BETWEEN :lo AND :hi
                          UNION ALL
                          SELECT id FROM record_key WHERE port_hi > port_lo
                              AND port_hi >= :lo AND port_lo < :lo)",
            );
            params.push((":lo", Value::Integer(i64::from(*lo))));
            params.push((":hi", Value::Integer(i64::from(*hi))));
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
    pub fn people_at(&self, seq: Seq) -> Result<Vec<crate::model::Person>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT person_id, name, org, uri, updated FROM person_version
             WHERE first_seq <= ?1 AND (last_seq IS NULL OR last_seq >= ?1)
             ORDER BY person_id",
        )?;
        let rows = stmt.query_map([seq], |row| {
            Ok(crate::model::Person {
                id: row.get(0)?,
                name: row.get(1)?,
                org: row.get(2)?,
                uri: row.get(3)?,
                updated: row.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// SQLite's own checks: `integrity_check` and `foreign_key_check`; empty when all is well.
    pub fn sqlite_checks(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        for line in stmt.query_map([], |row| row.get::<_, String>(0))? {
            let line = line?;
            if line != "ok" {
                problems.push(format!("integrity_check: {line}"));
            }
        }
        let mut stmt = self.conn.prepare("PRAGMA foreign_key_check")?;
        let rows = stmt.query_map([], |row| {
            Ok(format!(
                "foreign_key_check: {} row {} has no parent in {}",
                row.get::<_, String>(0)?,
                row.get::<_, Option<i64>>(1)?.unwrap_or_default(),
                row.get::<_, String>(2)?
            ))
        })?;
        for row in rows {
            problems.push(row?);
        }
        // History invariants the schema cannot state.
        let (count, min_seq, max_seq, distinct): (i64, Option<i64>, Option<i64>, i64) =
            self.conn.query_row(
                "SELECT count(*), min(seq), max(seq), count(DISTINCT seq) FROM snapshot",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?;
        if count > 0 && (min_seq != Some(1) || max_seq != Some(count) || distinct != count) {
            problems.push(format!(
                "snapshot places are not 1..{count}: min {min_seq:?}, max {max_seq:?}, {distinct} distinct"
            ));
        }
        for table in ["record_version", "person_version"] {
            let bad: i64 = self.conn.query_row(
                &format!(
                    "SELECT count(*) FROM {table}
                     WHERE first_seq < 1 OR first_seq > ?1 OR last_seq > ?1 OR last_seq < first_seq"
                ),
                [count],
                |r| r.get(0),
            )?;
            if bad > 0 {
                problems.push(format!(
                    "{table}: {bad} versions with an interval outside the history"
                ));
            }
        }
        let overlapping: i64 = self.conn.query_row(
            "SELECT count(*) FROM record_version a JOIN record_version b
               ON a.key_id = b.key_id AND a.id < b.id
              AND a.first_seq <= ifnull(b.last_seq, ?1) AND b.first_seq <= ifnull(a.last_seq, ?1)",
            [count],
            |r| r.get(0),
        )?;
        if overlapping > 0 {
            problems.push(format!(
                "record_version: {overlapping} pairs of versions of one record overlap in time"
            ));
        }
        Ok(problems)
    }
}

impl Store {
    /// The sha256 of every stored document.
    pub fn snapshot_shas(&self) -> Result<Vec<String>> {
        self.texts("SELECT sha256 FROM snapshot")
    }

    /// Where each snapshot was first observed (a path, a URL, `git:REPO@COMMIT`, ...).
    pub fn snapshot_sources(&self) -> Result<Vec<String>> {
        self.texts("SELECT source FROM snapshot")
    }

    /// The one text column of every row of `sql`.
    fn texts(&self, sql: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map([], |row| row.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
