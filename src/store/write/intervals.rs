//! How a new snapshot's versions enter the intervals of a version table.
//!
//! Every version holds over a run of places `first_seq..=last_seq` (`last_seq` NULL: still in
//! the latest snapshot), and runs are kept canonical: maximal runs of consecutive snapshots
//! with equal content. The new snapshot takes place `p` (the places from `p` on have already
//! moved one up to make room). For each key, only three versions can matter: one that spans
//! `p` (held at `p-1` and `p+1`), one that ends at `p-1`, and one that starts at `p+1`. Then:
//!
//! | the key in the new snapshot | what happens |
//! |---|---|
//! | equal to a version spanning `p` | nothing: the version now spans the new snapshot too |
//! | different from a version spanning `p` | the version is split around `p`; a new version holds at `p` |
//! | equal to the versions on both sides | they are joined into one |
//! | equal to one side | that version is stretched to `p` |
//! | equal to neither, or new | a new version holds at `p` |
//! | absent, where a version spans `p` | the version is split around `p` |
//!
//! The result is the rows an import in date order makes, whatever the order of imports.
//!
//! At the end of history (`p` after the latest place) only the versions open there can matter,
//! and every one of them spans `p`: an import there closes the versions that changed or went,
//! and opens new ones. A batch imports version after version at the end, so the open versions
//! an import leaves are kept for the next one ([`OpenVersions`]) instead of read back; they
//! count only while no other connection has written since (SQLite's `data_version`).

use super::tables::{NewVersion, VersionTable, copy_version_sql, insert_versions};
use crate::store::Seq;
use rusqlite::{Connection, params};
use rustc_hash::FxHashMap;
use std::hash::Hash;

/// Where the new snapshot goes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Place {
    pub seq: Seq,
    /// Whether it becomes the latest snapshot: the versions it starts stay open.
    pub latest: bool,
}

/// A stored version's row, interval and content digest.
#[derive(Debug, Clone, Copy)]
pub(super) struct Interval {
    row_id: i64,
    first: Seq,
    last: Option<Seq>,
    hash: i64,
}

/// The versions of one key around the new snapshot's place `p`.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Around {
    /// Holds at p-1 and p+1.
    spanning: Option<Interval>,
    /// Ends at p-1.
    left: Option<Interval>,
    /// Starts at p+1.
    right: Option<Interval>,
}

/// The versions open at the latest place (`last_seq` NULL), by key.
pub(in crate::store) struct OpenVersions<K> {
    /// The latest place they are open at, and the database's `data_version` then.
    valid_at: Option<(Seq, i64)>,
    by_key: FxHashMap<K, Interval>,
    /// An emptied map, to fill with the next import's.
    spare: FxHashMap<K, Interval>,
}

impl<K> Default for OpenVersions<K> {
    fn default() -> Self {
        OpenVersions {
            valid_at: None,
            by_key: FxHashMap::default(),
            spare: FxHashMap::default(),
        }
    }
}

/// What placing keeps between the imports of a batch, for one version table: the versions
/// around the place (allocating the map afresh faults in fresh pages each time), and the
/// versions open at the end.
pub(in crate::store) struct Scratch<K> {
    around: FxHashMap<K, Around>,
    open: OpenVersions<K>,
}

impl<K> Default for Scratch<K> {
    fn default() -> Self {
        Scratch {
            around: FxHashMap::default(),
            open: OpenVersions::default(),
        }
    }
}

/// The scratch of each version table.
#[derive(Default)]
pub(in crate::store) struct AroundScratch {
    pub(super) records: Scratch<i64>,
    pub(super) people: Scratch<String>,
}

/// Places the new snapshot's items in one version table (after the places' shift).
/// `data_version` is the database's, read in the import's transaction.
pub(super) fn place<T: VersionTable>(
    conn: &Connection,
    place: Place,
    items: &[NewVersion<T>],
    scratch: &mut Scratch<T::KeyId>,
    data_version: i64,
) -> rusqlite::Result<()> {
    if place.latest {
        return place_at_end::<T>(conn, place.seq, items, &mut scratch.open, data_version);
    }
    scratch.open.valid_at = None;
    place_between::<T>(conn, place.seq, items, &mut scratch.around)
}

/// Places the new snapshot's items at place `p`, before the latest one: every version it
/// starts or stretches ends at `p` or later.
fn place_between<T: VersionTable>(
    conn: &Connection,
    p: Seq,
    items: &[NewVersion<T>],
    around: &mut FxHashMap<T::KeyId, Around>,
) -> rusqlite::Result<()> {
    read_around::<T>(conn, p, around)?;
    let table = T::TABLE;
    let set_last = format!("UPDATE {table} SET last_seq = ?2 WHERE id = ?1");
    let set_first = format!("UPDATE {table} SET first_seq = ?2 WHERE id = ?1");
    let delete = format!("DELETE FROM {table} WHERE id = ?1");
    let copy = copy_version_sql::<T>();
    // Splits a spanning version around p: it ends at p-1 and a copy resumes at p+1.
    let split = |s: Interval| -> rusqlite::Result<()> {
        conn.prepare_cached(&set_last)?
            .execute(params![s.row_id, p.before()])?;
        conn.prepare_cached(&copy)?
            .execute(params![s.row_id, p.after(), s.last])?;
        Ok(())
    };
    // Versions that hold at p alone (or from p on), inserted together at the end.
    let mut new_versions: Vec<NewVersion<T>> = Vec::new();
    for (key, item, hash) in items {
        let state = around.remove(key).unwrap_or_default();
        if let Some(spanning) = state.spanning {
            if spanning.hash != *hash {
                split(spanning)?;
                new_versions.push((key.clone(), *item, *hash));
            }
            continue;
        }
        let left = state.left.filter(|l| l.hash == *hash);
        let right = state.right.filter(|r| r.hash == *hash);
        match (left, right) {
            (Some(left), Some(right)) => {
                conn.prepare_cached(&set_last)?
                    .execute(params![left.row_id, right.last])?;
                conn.prepare_cached(&delete)?.execute([right.row_id])?;
            }
            (Some(left), None) => {
                conn.prepare_cached(&set_last)?
                    .execute(params![left.row_id, p])?;
            }
            (None, Some(right)) => {
                conn.prepare_cached(&set_first)?
                    .execute(params![right.row_id, p])?;
            }
            (None, None) => new_versions.push((key.clone(), *item, *hash)),
        }
    }
    // Keys absent from the new snapshot: a version that spanned p no longer does.
    for (_, state) in around.drain() {
        if let Some(spanning) = state.spanning {
            split(spanning)?;
        }
    }
    insert_versions::<T>(conn, &new_versions, p, Some(p))
}

/// Places the new snapshot's items at place `p`, after the latest one: the open versions that
/// changed or went are closed at `p - 1`, and the new ones open at `p`.
fn place_at_end<T: VersionTable>(
    conn: &Connection,
    p: Seq,
    items: &[NewVersion<T>],
    open: &mut OpenVersions<T::KeyId>,
    data_version: i64,
) -> rusqlite::Result<()> {
    if open.valid_at.take() != Some((p.before(), data_version)) {
        read_open::<T>(conn, &mut open.by_key)?;
    }
    let close = format!("UPDATE {} SET last_seq = ?2 WHERE id = ?1", T::TABLE);
    // What stays open moves to `kept`; what is left in `by_key` went from the snapshot.
    let mut kept = std::mem::take(&mut open.spare);
    kept.clear();
    let mut new_versions: Vec<NewVersion<T>> = Vec::new();
    for (key, item, hash) in items {
        match open.by_key.remove(key) {
            Some(version) if version.hash == *hash => {
                kept.insert(key.clone(), version);
            }
            Some(changed) => {
                conn.prepare_cached(&close)?
                    .execute(params![changed.row_id, p.before()])?;
                new_versions.push((key.clone(), *item, *hash));
            }
            None => new_versions.push((key.clone(), *item, *hash)),
        }
    }
    for (_, gone) in open.by_key.drain() {
        conn.prepare_cached(&close)?
            .execute(params![gone.row_id, p.before()])?;
    }
    // Reading the new versions back costs as much as reading all when most are new (a first
    // import): then the next import at the end reads them all.
    let read_back = new_versions.len() <= kept.len();
    insert_versions::<T>(conn, &new_versions, p, None)?;
    if read_back {
        read_starting_at::<T>(conn, p, &mut kept)?;
        open.valid_at = Some((p, data_version));
    }
    open.spare = std::mem::replace(&mut open.by_key, kept);
    Ok(())
}

/// Reads the versions open at the latest place, `latest`, for an import at the end to come
/// (see `Store::read_ahead`).
pub(super) fn read_open_ahead<T: VersionTable>(
    conn: &Connection,
    latest: Seq,
    scratch: &mut Scratch<T::KeyId>,
    data_version: i64,
) -> rusqlite::Result<()> {
    // Not valid until read whole: a read that fails half-way leaves it invalid.
    scratch.open.valid_at = None;
    read_open::<T>(conn, &mut scratch.open.by_key)?;
    scratch.open.valid_at = Some((latest, data_version));
    Ok(())
}

/// Fills `open` with the versions open at the latest place.
fn read_open<T: VersionTable>(
    conn: &Connection,
    open: &mut FxHashMap<T::KeyId, Interval>,
) -> rusqlite::Result<()> {
    open.clear();
    let sql = format!(
        "SELECT id, {key}, first_seq, content_hash FROM {table} WHERE last_seq IS NULL",
        key = T::KEY_COLUMN,
        table = T::TABLE
    );
    read_intervals::<T>(conn, &sql, [], open)
}

/// Adds to `open` the versions that start at `p` (the ones an import at the end opened).
fn read_starting_at<T: VersionTable>(
    conn: &Connection,
    p: Seq,
    open: &mut FxHashMap<T::KeyId, Interval>,
) -> rusqlite::Result<()> {
    let sql = format!(
        "SELECT id, {key}, first_seq, content_hash FROM {table} WHERE first_seq = ?1",
        key = T::KEY_COLUMN,
        table = T::TABLE
    );
    read_intervals::<T>(conn, &sql, [p], open)
}

/// Reads open versions (`id, key, first_seq, content_hash`) into `open`.
fn read_intervals<T: VersionTable>(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    open: &mut FxHashMap<T::KeyId, Interval>,
) -> rusqlite::Result<()>
where
    T::KeyId: Hash + Eq,
{
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    while let Some(row) = rows.next()? {
        let interval = Interval {
            row_id: row.get(0)?,
            first: row.get(2)?,
            last: None,
            hash: row.get(3)?,
        };
        open.insert(row.get(1)?, interval);
    }
    Ok(())
}

/// Fills `around` with the versions that hold at p-1 or start at p+1.
fn read_around<T: VersionTable>(
    conn: &Connection,
    p: Seq,
    around: &mut FxHashMap<T::KeyId, Around>,
) -> rusqlite::Result<()> {
    around.clear();
    let sql = format!(
        "SELECT id, {key}, first_seq, last_seq, content_hash FROM {table}
         WHERE (first_seq <= ?1 AND (last_seq IS NULL OR last_seq >= ?1)) OR first_seq = ?2",
        key = T::KEY_COLUMN,
        table = T::TABLE
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([p.before(), p.after()])?;
    while let Some(row) = rows.next()? {
        let interval = Interval {
            row_id: row.get(0)?,
            first: row.get(2)?,
            last: row.get(3)?,
            hash: row.get(4)?,
        };
        let entry = around.entry(row.get(1)?).or_default();
        if interval.first == p.after() {
            entry.right = Some(interval);
        } else if interval.last == Some(p.before()) {
            entry.left = Some(interval);
        } else {
            entry.spanning = Some(interval);
        }
    }
    Ok(())
}
