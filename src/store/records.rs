//! The records of a snapshot, what a lookup finds in it, every version of a record, the
//! changes between two snapshots, and a snapshot's people.

use super::{Result, Seq, SnapshotId, SnapshotRow, Store, tables_of};
use crate::lookup::Lookup;
use crate::model::{
    Change, Field, FieldSlot, Person, Record, Registry, RegistryDate, sort_changes, sort_records,
};
use rusqlite::Row;
use rusqlite::types::Value;
use rustc_hash::FxHashMap;
use serde::Serialize;

/// The columns of a record, from `k` (its key table) and `v` (its version table), in the order
/// [`record_from`] reads them: the key fields, the ordinal, the content fields.
fn record_columns<R: Record>() -> String {
    let key = R::Field::KEY.iter().map(|f| format!("k.\"{}\"", f.name()));
    let content = R::Field::CONTENT
        .iter()
        .map(|f| format!("v.\"{}\"", f.name()));
    key.chain(["k.ordinal".to_string()])
        .chain(content)
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many columns [`record_columns`] has.
fn record_column_count<R: Record>() -> usize {
    R::Field::ALL.len() + 1
}

/// `{keys} k JOIN {versions} v`: a record's two tables, in the order the planner should walk
/// them (`keys_first`: by a lookup's keys, else every version by its interval).
fn record_tables<R: Record>(keys_first: bool) -> String {
    let (keys, versions) = (R::TABLES.keys, R::TABLES.versions);
    match keys_first {
        true => format!("{keys} k CROSS JOIN {versions} v ON v.key_id = k.id"),
        false => format!("{versions} v JOIN {keys} k ON k.id = v.key_id"),
    }
}

fn json_list(text: Option<String>) -> rusqlite::Result<Option<Vec<String>>> {
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
    })
    .transpose()
}

/// Reads the columns of [`record_columns`] starting at `at`.
fn record_from<R: Record>(row: &Row, at: usize) -> rusqlite::Result<R> {
    let mut record = R::default();
    record.set_ordinal(row.get(at + R::Field::KEY.len())?);
    let key = R::Field::KEY.iter().zip(at..);
    let content = R::Field::CONTENT.iter().zip(at + R::Field::KEY.len() + 1..);
    for (field, column) in key.chain(content) {
        match field.slot(&mut record) {
            FieldSlot::Text(text) => *text = row.get(column)?,
            FieldSlot::List(list) => *list = json_list(row.get(column)?)?,
            FieldSlot::Flag(flag) => *flag = row.get(column)?,
        }
    }
    Ok(record)
}

impl Store {
    /// The records of `R`'s snapshot at `seq`, in display order.
    pub fn records_at<R: Record>(&self, seq: Seq) -> Result<Vec<R>> {
        let sql = format!(
            "SELECT {columns} FROM {tables}
             WHERE v.first_seq <= ?1 AND (v.last_seq IS NULL OR v.last_seq >= ?1)",
            columns = record_columns::<R>(),
            tables = record_tables::<R>(false),
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([seq], |row| record_from(row, 0))?;
        let mut records: Vec<R> = rows.collect::<rusqlite::Result<_>>()?;
        sort_records(&mut records);
        Ok(records)
    }

    /// Every record change from `R`'s snapshot at `from_seq` to the one at `to_seq` (either
    /// direction), in display order. Only the versions that hold at one side and not the other
    /// are read.
    pub fn diff<R: Record>(&self, from_seq: Seq, to_seq: Seq) -> Result<Vec<Change<R>>> {
        let sql = format!(
            "SELECT v.key_id, v.first_seq <= ?1 AND (v.last_seq IS NULL OR v.last_seq >= ?1),
                    {columns}
             FROM {tables}
             WHERE (v.first_seq <= ?1 AND (v.last_seq IS NULL OR v.last_seq >= ?1))
                != (v.first_seq <= ?2 AND (v.last_seq IS NULL OR v.last_seq >= ?2))",
            columns = record_columns::<R>(),
            tables = record_tables::<R>(false),
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([from_seq, to_seq])?;
        let mut sides: FxHashMap<i64, (Option<R>, Option<R>)> = FxHashMap::default();
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
        let mut changes: Vec<Change<R>> = sides
            .into_values()
            .filter_map(|(before, after)| Change::between(before, after))
            .collect();
        sort_changes(&mut changes);
        Ok(changes)
    }
}

impl Store {
    /// The snapshot before `snapshot` in `R`'s history, and the changes from it to `snapshot`;
    /// None for the oldest.
    pub fn changes_into<R: Record>(
        &self,
        snapshot: &SnapshotRow,
    ) -> Result<Option<(SnapshotRow, Vec<Change<R>>)>> {
        let Some(previous) = self.snapshot_at_seq(R::REGISTRY, snapshot.seq.before())? else {
            return Ok(None);
        };
        let changes = self.diff::<R>(previous.seq, snapshot.seq)?;
        Ok(Some((previous, changes)))
    }
}

/// Which records of a snapshot a lookup wants.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter<'a> {
    pub lookup: Option<&'a Lookup>,
    /// Case-insensitive text in the fields `search` looks in ([`Record::SEARCHED`]).
    pub text: Option<&'a str>,
    /// Only records with a name (hides Unassigned, Reserved and de-assigned entries).
    pub assigned_only: bool,
}

/// One version of a record and the snapshots it held in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionSpan<R: Record> {
    #[serde(flatten)]
    pub record: R,
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

/// The SQL condition and named parameters for a filter, on `k` (`R`'s keys) and `v` (its
/// versions).
fn filter_sql<R: Record>(filter: &RecordFilter) -> (String, Vec<(&'static str, Value)>) {
    let mut conditions: Vec<String> = Vec::new();
    let mut params: Vec<(&'static str, Value)> = Vec::new();
    let name = R::NAME.name();
    match filter.lookup {
        Some(Lookup::Ports { ports, .. }) => {
            // Keys starting inside the range, plus ranges starting below it that reach into it;
            // both by index (for the port registry: record_key_identity leads with port_lo,
            // and migrations/0003_port_range_index.sql).
            let (lo, hi) = R::TABLES.range_columns;
            let keys = R::TABLES.keys;
            conditions.push(format!(
                "k.id IN (SELECT id FROM {keys} WHERE {lo} BETWEEN :lo AND :hi
                          UNION ALL
                          SELECT id FROM {keys} WHERE {hi} > {lo}
                              AND {hi} >= :lo AND {lo} < :lo)"
            ));
            params.push((":lo", Value::Integer(i64::from(ports.first))));
            params.push((":hi", Value::Integer(i64::from(ports.last))));
        }
        Some(Lookup::Name { name: wanted, .. }) => {
            conditions.push(format!("k.\"{name}\" = :name COLLATE NOCASE"));
            params.push((":name", Value::Text(wanted.clone())));
        }
        None => {}
    }
    if let (Some(qualifier), Some(wanted)) =
        (R::QUALIFIER, filter.lookup.and_then(Lookup::protocol))
    {
        conditions.push(format!("k.\"{}\" = :qualifier", qualifier.name()));
        params.push((":qualifier", Value::Text(wanted.to_string())));
    }
    if let Some(text) = filter.text {
        let searched: Vec<String> = R::SEARCHED
            .iter()
            .map(|field| {
                let table = if R::Field::KEY.contains(field) {
                    "k"
                } else {
                    "v"
                };
                format!("instr(lower({table}.\"{}\"), :text)", field.name())
            })
            .collect();
        conditions.push(format!("({})", searched.join(" OR ")));
        params.push((":text", Value::Text(text.to_lowercase())));
    }
    if filter.assigned_only {
        conditions.push(format!("k.\"{name}\" IS NOT NULL"));
    }
    if conditions.is_empty() {
        conditions.push("1".to_string());
    }
    (conditions.join(" AND "), params)
}

impl Store {
    /// The records of `R`'s snapshot at `seq` that the filter wants, in display order.
    pub fn find_records<R: Record>(&self, seq: Seq, filter: &RecordFilter) -> Result<Vec<R>> {
        let (condition, mut params) = filter_sql::<R>(filter);
        let sql = format!(
            "SELECT {columns} FROM {from}
             WHERE v.first_seq <= :seq AND (v.last_seq IS NULL OR v.last_seq >= :seq)
               AND {condition}",
            columns = record_columns::<R>(),
            from = record_tables::<R>(filter.lookup.is_some()),
        );
        params.push((":seq", Value::Integer(seq.0)));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let bound: Vec<(&str, &dyn rusqlite::ToSql)> = params
            .iter()
            .map(|(name, value)| (*name, value as &dyn rusqlite::ToSql))
            .collect();
        let rows = stmt.query_map(bound.as_slice(), |row| record_from(row, 0))?;
        let mut records: Vec<R> = rows.collect::<rusqlite::Result<_>>()?;
        sort_records(&mut records);
        Ok(records)
    }

    /// Every version of `R`'s records a lookup names, across all its snapshots: by key in
    /// display order, then oldest first.
    pub fn versions_of<R: Record>(&self, lookup: &Lookup) -> Result<Vec<VersionSpan<R>>> {
        let filter = RecordFilter {
            lookup: Some(lookup),
            ..RecordFilter::default()
        };
        let (condition, mut params) = filter_sql::<R>(&filter);
        let sql = format!(
            "SELECT {columns}, f.id, f.registry_date, l.id, l.registry_date,
                    v.last_seq IS NULL, k.id, v.first_seq
             FROM {from}
             JOIN snapshot f ON f.registry = :registry AND f.seq = v.first_seq
             JOIN snapshot l ON l.registry = :registry AND l.seq = ifnull(v.last_seq,
                 (SELECT max(seq) FROM snapshot WHERE registry = :registry))
             WHERE {condition}",
            columns = record_columns::<R>(),
            from = record_tables::<R>(true),
        );
        params.push((":registry", Value::Text(R::REGISTRY.name().to_string())));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let bound: Vec<(&str, &dyn rusqlite::ToSql)> = params
            .iter()
            .map(|(name, value)| (*name, value as &dyn rusqlite::ToSql))
            .collect();
        let n = record_column_count::<R>();
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
        let mut spans: Vec<VersionSpan<R>> = rows.collect::<rusqlite::Result<_>>()?;
        spans.sort_by(|a, b| {
            a.record
                .display_cmp(&b.record)
                .then(a.first_seq.cmp(&b.first_seq))
        });
        Ok(spans)
    }
}

impl Store {
    /// The people of `registry`'s snapshot at `seq`, by id.
    pub fn people_at(&self, registry: Registry, seq: Seq) -> Result<Vec<Person>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT person_id, name, org, uri, updated FROM {people}
             WHERE first_seq <= ?1 AND (last_seq IS NULL OR last_seq >= ?1)
             ORDER BY person_id",
            people = tables_of(registry).people
        ))?;
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
pub struct StoredVersion<R> {
    pub key_id: i64,
    pub version_id: i64,
    pub first: Seq,
    /// None: it holds in the latest snapshot.
    pub last: Option<Seq>,
    pub record: R,
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
    /// Every version of every record of `R`, by the place it starts at: the whole history in
    /// one read, which `verify` walks snapshot by snapshot.
    pub fn record_versions<R: Record>(&self) -> Result<Vec<StoredVersion<R>>> {
        let sql = format!(
            "SELECT k.id, v.id, v.first_seq, v.last_seq, {columns}
             FROM {tables}
             ORDER BY v.first_seq, v.id",
            columns = record_columns::<R>(),
            tables = record_tables::<R>(false),
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

    /// Every version of every person of `registry`, by the place it starts at.
    pub fn person_versions(&self, registry: Registry) -> Result<Vec<StoredPerson>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT id, first_seq, last_seq, person_id, name, org, uri, updated
             FROM {people} ORDER BY first_seq, id",
            people = tables_of(registry).people
        ))?;
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
