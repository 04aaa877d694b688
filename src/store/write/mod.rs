//! Storing one document as a snapshot, in its place in history, in one transaction.
//!
//! The steps, in [`Store::import`]: a document whose bytes are stored already only moves its
//! snapshot's observation earlier ([`EARLIER_OBSERVATION`]); otherwise its place in history is
//! found, later places move up by one ([`SHIFT_PLACES`]), its records and people enter the
//! version intervals ([`intervals`]), and its raw bytes are stored against the snapshot before
//! it, while the snapshot after it is re-based on it ([`crate::store::raw`]).
//!
//! Each registry has its own history: its own places (`seq`), keys and version tables (named
//! by its record), and its own caches in the store.
//!
//! - [`keys`]: record identities (`record_key` for the port registry).
//! - [`tables`]: a registry's two version tables, described once.
//! - [`intervals`]: how a version's interval is split, stretched or joined.

mod intervals;
mod keys;
mod tables;

pub(super) use intervals::AroundScratch;
pub(super) use keys::KeyCache;

use super::raw;
use super::{Caches, Result, Seq, SnapshotId, SnapshotRow, Store, StoreError, caches_of};
use crate::model::{ContentHashes, Document, Person, Record};
use crate::time::Timestamp;
use intervals::{Place, place};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use rustc_hash::FxHashSet;
use std::borrow::Cow;
use std::sync::Arc;
use tables::{PersonVersions, RecordVersions};

/// A parsed document and where it came from.
pub struct NewSnapshot<'a, R: Record> {
    pub bytes: &'a [u8],
    /// The sha256 of `bytes`, hex (the caller has it: it is how a batch skips what is stored).
    pub sha256: &'a str,
    pub document: &'a Document<R>,
    pub source: &'a str,
    pub observed_at: Timestamp,
    pub imported_at: Timestamp,
}

/// Where a snapshot stands in history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// It is the latest snapshot.
    Latest,
    /// A newer snapshot is stored: it went into its place in history before the latest one
    /// (an older version imported late), or, for bytes stored before, it is a stale copy.
    BeforeLatest,
}

/// What storing a document did: the one outcome of every way a document comes in (files, git,
/// fetch, the archive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// A new snapshot, in its place in history.
    New {
        snapshot: SnapshotRow,
        placement: Placement,
    },
    /// These exact bytes were stored before, as this snapshot.
    Known {
        snapshot: SnapshotRow,
        placement: Placement,
    },
}

impl Stored {
    pub fn snapshot(&self) -> &SnapshotRow {
        match self {
            Stored::New { snapshot, .. } | Stored::Known { snapshot, .. } => snapshot,
        }
    }

    pub fn placement(&self) -> Placement {
        match self {
            Stored::New { placement, .. } | Stored::Known { placement, .. } => *placement,
        }
    }

    /// Whether a new snapshot was stored.
    pub fn is_new(&self) -> bool {
        matches!(self, Stored::New { .. })
    }
}

/// Moves a snapshot's observation (and source) to an earlier sighting of the same bytes, when
/// no snapshot of the same registry and registry date was observed in between.
const EARLIER_OBSERVATION: &str = "UPDATE snapshot SET observed_at = ?2, source = ?3
    WHERE id = ?1 AND observed_at > ?2
      AND NOT EXISTS (SELECT 1 FROM snapshot o WHERE o.registry = snapshot.registry
                      AND o.registry_date = snapshot.registry_date
                      AND o.id != snapshot.id AND o.observed_at BETWEEN ?2 AND snapshot.observed_at)";

/// Makes room at place ?1 of `R`'s history for an older version imported after newer ones
/// (`last_seq` first, so the `last_seq >= first_seq` check holds row by row).
fn shift_places<R: Record>(tx: &Connection, seq: Seq) -> Result<()> {
    tx.execute(
        "UPDATE snapshot SET seq = seq + 1 WHERE registry = ?2 AND seq >= ?1",
        params![seq, R::REGISTRY],
    )?;
    for table in [R::TABLES.versions, R::TABLES.people] {
        for column in ["last_seq", "first_seq"] {
            let sql = format!("UPDATE {table} SET {column} = {column} + 1 WHERE {column} >= ?1");
            tx.execute(&sql, [seq])?;
        }
    }
    Ok(())
}

/// A snapshot's place in its registry's history: by registry date, then observation time,
/// then sha256.
const PLACE_OF: &str = "SELECT count(*) + 1 FROM snapshot
    WHERE registry = ?4 AND (registry_date, observed_at, sha256) < (?1, ?2, ?3)";

const LATEST_PLACE: &str = "SELECT max(seq) FROM snapshot WHERE registry = ?1";

const INSERT_SNAPSHOT: &str = "INSERT INTO snapshot (seq, registry_date, observed_at,
    imported_at, source, sha256, byte_size, record_count, person_count, title, registry)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

impl Store {
    /// Stores a document as a snapshot in its place in its registry's history, in one
    /// transaction.
    pub fn import<R: Record>(&mut self, new: &NewSnapshot<R>) -> Result<Stored> {
        let imported = self.import_in_transaction(new);
        if imported.is_err() {
            // The caches may hold ids that were rolled back.
            *caches_of(&mut self.caches, R::REGISTRY) = Caches::default();
        }
        self.stored(imported?)
    }

    /// Bytes already stored seen again (without parsing them): the snapshot takes this
    /// observation if it is earlier, as [`Store::import`] does. None when not stored.
    pub fn seen_again(
        &mut self,
        sha256: &str,
        observed_at: Timestamp,
        source: &str,
    ) -> Result<Option<Stored>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let seen = seen_again_in(&tx, sha256, observed_at, source)?;
        tx.commit()?;
        seen.map(|known| self.stored(known)).transpose()
    }

    /// Reads what storing a version at the end of history will need (the latest document and
    /// its lines, the record keys, the open versions) while the caller waits anyway, as a batch
    /// does while its first document is parsed. Each is checked again when used, so another
    /// writer meanwhile costs only the time.
    pub fn read_ahead<R: Record>(&mut self) -> Result<()> {
        let Store { conn, caches } = self;
        let Caches { raw, keys, around } = caches_of(caches, R::REGISTRY);
        // One read transaction: the open versions and data_version agree.
        let tx = conn.transaction()?;
        let latest: Option<Seq> = tx.query_row(LATEST_PLACE, [R::REGISTRY], |r| r.get(0))?;
        let Some(latest) = latest else {
            return Ok(());
        };
        let data_version: i64 = tx.pragma_query_value(None, "data_version", |r| r.get(0))?;
        raw.read_ahead(&tx, R::REGISTRY, latest)?;
        keys.refresh::<R>(&tx)?;
        intervals::read_open_ahead::<RecordVersions<R>>(
            &tx,
            latest,
            &mut around.records,
            data_version,
        )?;
        intervals::read_open_ahead::<PersonVersions<R>>(
            &tx,
            latest,
            &mut around.people,
            data_version,
        )?;
        Ok(())
    }

    /// Where a stored snapshot stands in its registry's history.
    pub fn placement_of(&self, snapshot: &SnapshotRow) -> Result<Placement> {
        Ok(match self.latest_seq(snapshot.registry)? {
            Some(latest) if latest > snapshot.seq => Placement::BeforeLatest,
            _ => Placement::Latest,
        })
    }

    /// The outcome of an import, with the snapshot's row as it reads now.
    fn stored(&self, imported: Imported) -> Result<Stored> {
        let id = match imported {
            Imported::New(id, _) | Imported::Known(id) => id,
        };
        let snapshot = self
            .snapshot_by_id(id)?
            .ok_or_else(|| StoreError::NoSuchSnapshot(format!("snapshot {id}")))?;
        Ok(match imported {
            // Where the import put it, whatever another writer has stored since.
            Imported::New(_, placement) => Stored::New {
                snapshot,
                placement,
            },
            Imported::Known(_) => Stored::Known {
                placement: self.placement_of(&snapshot)?,
                snapshot,
            },
        })
    }

    fn import_in_transaction<R: Record>(&mut self, new: &NewSnapshot<R>) -> Result<Imported> {
        let Store { conn, caches } = self;
        let Caches {
            raw: raw_cache,
            keys: key_cache,
            around,
        } = caches_of(caches, R::REGISTRY);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(known) = seen_again_in(&tx, new.sha256, new.observed_at, new.source)? {
            tx.commit()?;
            return Ok(known);
        }
        let document = new.document;
        let registry = R::REGISTRY;
        let seq: Seq = tx.query_row(
            PLACE_OF,
            params![document.updated, new.observed_at, new.sha256, registry],
            |r| r.get(0),
        )?;
        let last: Option<Seq> = tx.query_row(LATEST_PLACE, [registry], |r| r.get(0))?;
        let place = Place {
            seq,
            latest: last.is_none_or(|last| seq > last),
        };
        // The documents either side of the new place, read while places are still 1..n.
        let previous = match seq.0 > 1 {
            true => Some(raw::document_at(&tx, raw_cache, registry, seq.before())?),
            false => None,
        };
        let next = match place.latest {
            false => Some(raw::document_at(&tx, raw_cache, registry, seq)?),
            true => None,
        };
        if !place.latest {
            shift_places::<R>(&tx, seq)?;
        }
        // Another connection's commits change it: then nothing kept from the import before
        // counts.
        let data_version: i64 = tx.pragma_query_value(None, "data_version", |r| r.get(0))?;
        let hashes = content_hashes(document);
        let at = (place, data_version);
        place_records(
            &tx,
            at,
            key_cache,
            around,
            &document.records,
            &hashes.records,
        )?;
        place_people::<R>(&tx, at, around, &document.people, &hashes.people)?;
        let id = insert_snapshot_row(&tx, seq, new)?;
        // Its step from the one before (or its whole document, as the oldest), and the step of
        // the one after, which now comes from it.
        let base = previous.as_ref().map(|(id, bytes)| (*id, bytes.as_slice()));
        raw::put_step(&tx, raw_cache, id, base, new.bytes)?;
        if let Some((next_id, next_bytes)) = &next {
            raw::put_step(&tx, raw_cache, *next_id, Some((id, new.bytes)), next_bytes)?;
        }
        raw::rebuild_skips(&tx, registry, seq)?;
        drop((previous, next));
        tx.commit()?;
        raw_cache.keep(id, new.bytes);
        let placement = match place.latest {
            true => Placement::Latest,
            false => Placement::BeforeLatest,
        };
        Ok(Imported::New(id, placement))
    }
}

/// Which snapshot an import ended with.
enum Imported {
    New(SnapshotId, Placement),
    /// Its bytes were stored already.
    Known(SnapshotId),
}

fn insert_snapshot_row<R: Record>(
    tx: &Connection,
    seq: Seq,
    new: &NewSnapshot<R>,
) -> Result<SnapshotId> {
    let document = new.document;
    tx.execute(
        INSERT_SNAPSHOT,
        params![
            seq,
            document.updated,
            new.observed_at,
            new.imported_at,
            new.source,
            new.sha256,
            new.bytes.len() as i64,
            document.records.len() as i64,
            document.people.len() as i64,
            document.title,
            R::REGISTRY,
        ],
    )?;
    Ok(SnapshotId(tx.last_insert_rowid()))
}

/// When these bytes are stored: the snapshot takes this observation if it is earlier (a
/// snapshot is dated by its first observation, whatever order the copies come in, unless that
/// would move it past another snapshot of the same registry date).
fn seen_again_in(
    tx: &Connection,
    sha256: &str,
    observed_at: Timestamp,
    source: &str,
) -> Result<Option<Imported>> {
    let existing: Option<SnapshotId> = tx
        .query_row(
            "SELECT id FROM snapshot WHERE sha256 = ?1",
            [sha256],
            |row| row.get(0),
        )
        .optional()?;
    let Some(id) = existing else {
        return Ok(None);
    };
    tx.execute(EARLIER_OBSERVATION, params![id, observed_at, source])?;
    Ok(Some(Imported::Known(id)))
}

/// Places records (all of a document's, or some, in document order) and their content hashes.
fn place_records<R: Record>(
    tx: &Connection,
    (at, data_version): (Place, i64),
    key_cache: &mut KeyCache,
    around: &mut AroundScratch,
    records: &[Arc<R>],
    hashes: &[i64],
) -> Result<()> {
    let key_ids = keys::record_key_ids(tx, key_cache, records)?;
    let versions: Vec<(i64, &R, i64)> = key_ids
        .into_iter()
        .zip(records)
        .zip(hashes)
        .map(|((key, record), hash)| (key, &**record, *hash))
        .collect();
    Ok(place::<RecordVersions<R>>(
        tx,
        at,
        &versions,
        &mut around.records,
        data_version,
    )?)
}

/// The document's content hashes; made afresh when they do not fit its records and people (a
/// document put together by hand rather than parsed), so that no item is ever stored without
/// its hash.
fn content_hashes<R: Record>(document: &Document<R>) -> Cow<'_, ContentHashes> {
    let hashes = &document.hashes;
    if hashes.records.len() == document.records.len()
        && hashes.people.len() == document.people.len()
    {
        return Cow::Borrowed(hashes);
    }
    Cow::Owned(ContentHashes::of(&document.records, &document.people))
}

fn place_people<R: Record>(
    tx: &Connection,
    (at, data_version): (Place, i64),
    around: &mut AroundScratch,
    people: &[Arc<Person>],
    hashes: &[i64],
) -> Result<()> {
    // A repeated id keeps its first entry, as a reader of the document would. The rest stay in
    // document order, which is by id: their index is then built from sorted rows.
    let mut seen: FxHashSet<&str> = FxHashSet::default();
    seen.reserve(people.len());
    let versions: Vec<(String, &Person, i64)> = people
        .iter()
        .zip(hashes)
        .filter(|(person, _)| seen.insert(person.id.as_str()))
        .map(|(person, hash)| (person.id.clone(), &**person, *hash))
        .collect();
    Ok(place::<PersonVersions<R>>(
        tx,
        at,
        &versions,
        &mut around.people,
        data_version,
    )?)
}
