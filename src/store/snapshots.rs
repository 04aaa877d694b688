//! The snapshots: the list, and which snapshot a user's reference (`3`, `2024-06-01`,
//! `latest`, `previous`) means.

use super::{Result, Seq, SnapshotId, Store, StoreError, tables_of};
use crate::model::{Registry, RegistryDate};
use crate::time::Timestamp;
use chrono::NaiveDate;
use rusqlite::{OptionalExtension, Row};
use serde::Serialize;

/// One row of `portreg snapshots`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotRow {
    pub id: SnapshotId,
    pub sha256: String,
    pub registry_date: RegistryDate,
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
    #[serde(skip)]
    pub registry: Registry,
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
    byte_size, added, removed, modified, seq, registry";

/// One snapshot's row with its change counts, without the `snapshots` view (which counts
/// for every snapshot: 3 ms on the whole history, a fifth of a `show`); `{versions}` is the
/// registry's version table. The conditions that follow start with `AND`.
const ONE_SNAPSHOT: &str = "SELECT s.id, s.sha256, s.registry_date, s.observed_at, s.source,
    s.record_count, s.person_count, s.byte_size,
    CASE WHEN s.seq > 1 THEN (SELECT count(*) FROM {versions} a WHERE a.first_seq = s.seq
        AND NOT EXISTS (SELECT 1 FROM {versions} b
                        WHERE b.key_id = a.key_id AND b.last_seq = s.seq - 1)) END,
    CASE WHEN s.seq > 1 THEN (SELECT count(*) FROM {versions} b WHERE b.last_seq = s.seq - 1
        AND NOT EXISTS (SELECT 1 FROM {versions} a
                        WHERE a.key_id = b.key_id AND a.first_seq = s.seq)) END,
    CASE WHEN s.seq > 1 THEN (SELECT count(*) FROM {versions} a WHERE a.first_seq = s.seq
        AND EXISTS (SELECT 1 FROM {versions} b
                    WHERE b.key_id = a.key_id AND b.last_seq = s.seq - 1)) END,
    s.seq, s.registry
    FROM snapshot s WHERE s.registry = :registry";

/// [`ONE_SNAPSHOT`] for `registry`, with `condition` on `s` (using `:value`).
fn one_snapshot_sql(registry: Registry, condition: &str) -> String {
    let sql = ONE_SNAPSHOT.replace("{versions}", tables_of(registry).versions);
    format!("{sql} AND {condition}")
}

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
        registry: row.get(12)?,
    })
}

impl Store {
    /// Every snapshot of `registry` in history order, with its change counts.
    pub fn snapshots(&self, registry: Registry) -> Result<Vec<SnapshotRow>> {
        let sql =
            format!("SELECT {SNAPSHOT_COLUMNS} FROM snapshots WHERE registry = ?1 ORDER BY seq");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([registry], snapshot_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The snapshot a query answers from: the one `as_of` names, the latest without it.
    pub fn as_of(&self, registry: Registry, as_of: Option<&SnapshotRef>) -> Result<SnapshotRow> {
        self.resolve(registry, as_of.unwrap_or(&SnapshotRef::Latest))
    }

    /// The snapshot of `registry` a reference names.
    pub fn resolve(&self, registry: Registry, reference: &SnapshotRef) -> Result<SnapshotRow> {
        let (condition, value): (&str, String) = match reference {
            SnapshotRef::Id(id) => ("s.id = :value", id.to_string()),
            SnapshotRef::Date(date) => (
                "s.seq = (SELECT max(seq) FROM snapshot
                          WHERE registry = :registry AND registry_date <= :value)",
                date.format("%Y-%m-%d").to_string(),
            ),
            SnapshotRef::Latest => (
                "s.seq = (SELECT max(seq) FROM snapshot WHERE registry = :registry)
                 AND :value = :value",
                String::new(),
            ),
            SnapshotRef::Previous => (
                "s.seq = (SELECT max(seq) - 1 FROM snapshot WHERE registry = :registry)
                 AND :value = :value",
                String::new(),
            ),
        };
        match self.snapshot_where(registry, condition, value)? {
            Some(row) => Ok(row),
            None => match reference {
                SnapshotRef::Id(id) => match self.snapshot_by_id(*id)? {
                    Some(other) => Err(StoreError::OtherRegistry {
                        id: *id,
                        registry: other.registry,
                    }),
                    None => Err(StoreError::NoSuchSnapshot(reference.to_string())),
                },
                _ if self.snapshot_count(registry)? == 0 => Err(self.empty(registry)?),
                _ => Err(StoreError::NoSuchSnapshot(reference.to_string())),
            },
        }
    }

    /// The snapshot with this id, of whichever registry, if there is one.
    pub fn snapshot_by_id(&self, id: SnapshotId) -> Result<Option<SnapshotRow>> {
        let registry: Option<Registry> = self
            .conn
            .query_row("SELECT registry FROM snapshot WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?;
        match registry {
            Some(registry) => self.snapshot_where(registry, "s.id = :value", id),
            None => Ok(None),
        }
    }

    /// The place of `registry`'s latest snapshot, or None when it has none.
    pub fn latest_seq(&self, registry: Registry) -> Result<Option<Seq>> {
        Ok(self.conn.query_row(
            "SELECT max(seq) FROM snapshot WHERE registry = ?1",
            [registry],
            |r| r.get(0),
        )?)
    }

    /// The snapshot whose document has this sha256, if stored.
    pub fn snapshot_by_sha256(&self, sha256: &str) -> Result<Option<SnapshotRow>> {
        let id: Option<SnapshotId> = self
            .conn
            .query_row("SELECT id FROM snapshot WHERE sha256 = ?1", [sha256], |r| {
                r.get(0)
            })
            .optional()?;
        match id {
            Some(id) => self.snapshot_by_id(id),
            None => Ok(None),
        }
    }

    /// The snapshot at a place in `registry`'s history (1 = oldest), if there is one.
    pub fn snapshot_at_seq(&self, registry: Registry, seq: Seq) -> Result<Option<SnapshotRow>> {
        self.snapshot_where(registry, "s.seq = :value", seq)
    }

    /// `registry`'s latest snapshot, or None when it has none.
    pub fn latest_snapshot(&self, registry: Registry) -> Result<Option<SnapshotRow>> {
        self.snapshot_where(
            registry,
            "s.seq = (SELECT max(seq) FROM snapshot WHERE registry = :registry) AND :value",
            true,
        )
    }

    fn snapshot_where(
        &self,
        registry: Registry,
        condition: &str,
        value: impl rusqlite::ToSql,
    ) -> Result<Option<SnapshotRow>> {
        let sql = one_snapshot_sql(registry, condition);
        Ok(self
            .conn
            .prepare_cached(&sql)?
            .query_row(
                rusqlite::named_params! { ":registry": registry, ":value": value },
                snapshot_row,
            )
            .optional()?)
    }

    /// How many snapshots `registry` has.
    pub fn snapshot_count(&self, registry: Registry) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT count(*) FROM snapshot WHERE registry = ?1",
            [registry],
            |r| r.get(0),
        )?)
    }

    /// The error for asking `registry`'s history when it has no snapshot, naming the
    /// registries the database does hold.
    pub fn empty(&self, registry: Registry) -> Result<StoreError> {
        Ok(StoreError::Empty {
            registry,
            held: self.registries()?,
        })
    }

    /// The registries with at least one snapshot.
    pub fn registries(&self) -> Result<Vec<Registry>> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT registry FROM snapshot ORDER BY registry")?;
        let rows = stmt.query_map([], |row| row.get(0))?;
        let mut registries: Vec<Registry> = rows.collect::<rusqlite::Result<_>>()?;
        registries.sort();
        Ok(registries)
    }
}

impl Store {
    /// The sha256 of every stored document, of every registry.
    pub fn snapshot_shas(&self) -> Result<Vec<String>> {
        self.texts("SELECT sha256 FROM snapshot")
    }

    /// Where each snapshot was first observed (a path, a URL, `git:REPO@COMMIT`, ...), of
    /// `registry`, or of every registry.
    pub fn snapshot_sources(&self, registry: Option<Registry>) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT source FROM snapshot WHERE ?1 IS NULL OR registry = ?1")?;
        let rows = stmt.query_map([registry], |row| row.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The one text column of every row of `sql`.
    fn texts(&self, sql: &str) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare(sql)?;
        let rows = stmt.query_map([], |row| row.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
