//! Record keys (`record_key` for the port registry): a record's identity gets its row once,
//! the first time any snapshot has it, and every version of that record refers to it.

use super::tables::{ROWS_PER_INSERT, multi_row_insert};
use crate::model::{Field, PortRange, Record};
use rusqlite::Connection;
use rustc_hash::{FxBuildHasher, FxHashMap};
use std::hash::BuildHasher;
use std::sync::Arc;

/// The ids of a registry's key rows, kept between the imports of one process. Keys are never
/// deleted, so the cache is current while the table's largest id is the one it saw last
/// (another process adding keys changes it).
#[derive(Default)]
pub(in crate::store) struct KeyCache {
    max_id: i64,
    /// Every key, encoded (see [`encode`]), one after the other: one buffer, not three
    /// strings a key (nor the records that brought them, kept alive: their freeing was a
    /// twentieth of a first import).
    arena: Vec<u8>,
    /// By a digest of the encoded key: where it is in the arena, and its id.
    ids: FxHashMap<u64, ArenaKey>,
    /// Keys whose digest another key had first (possible, never seen).
    colliding: Vec<ArenaKey>,
    /// The key being looked up, encoded.
    probe: Vec<u8>,
}

/// A key in the arena, and its id.
#[derive(Clone, Copy)]
struct ArenaKey {
    start: u32,
    end: u32,
    id: i64,
}

/// Appends a key's parts to `out`: each key field as 0 (absent) or 1, its length and its
/// bytes, then the ordinal. Equal keys, equal bytes; different keys, different bytes.
fn encode<'a>(parts: impl IntoIterator<Item = Option<&'a str>>, ordinal: u32, out: &mut Vec<u8>) {
    for part in parts {
        match part {
            None => out.push(0),
            Some(text) => {
                out.push(1);
                out.extend_from_slice(&(text.len() as u32).to_le_bytes());
                out.extend_from_slice(text.as_bytes());
            }
        }
    }
    out.extend_from_slice(&ordinal.to_le_bytes());
}

/// A record's key fields, in field-table order.
fn record_parts<R: Record>(record: &R) -> impl Iterator<Item = Option<&str>> {
    R::Field::KEY
        .iter()
        .map(move |field| field.value(record).text())
}

impl KeyCache {
    /// The id of the key in `probe`, whose digest is `digest`.
    fn find(&self, digest: u64) -> Option<i64> {
        let is_probe = |stored: &ArenaKey| {
            self.arena.get(stored.start as usize..stored.end as usize) == Some(&self.probe[..])
        };
        match self.ids.get(&digest) {
            Some(stored) if is_probe(stored) => Some(stored.id),
            Some(_) => self.colliding.iter().find(|s| is_probe(s)).map(|s| s.id),
            None => None,
        }
    }

    /// Looks up a key (encoding it into `probe`); its digest, and its id if it is known.
    fn get<'a>(
        &mut self,
        parts: impl IntoIterator<Item = Option<&'a str>>,
        ordinal: u32,
    ) -> (u64, Option<i64>) {
        self.probe.clear();
        encode(parts, ordinal, &mut self.probe);
        let digest = FxBuildHasher.hash_one(&self.probe[..]);
        (digest, self.find(digest))
    }

    /// Adds the key in `probe`, whose digest is `digest`.
    fn insert(&mut self, digest: u64, id: i64) {
        let stored = ArenaKey {
            start: self.arena.len() as u32,
            end: (self.arena.len() + self.probe.len()) as u32,
            id,
        };
        self.arena.extend_from_slice(&self.probe);
        match self.ids.entry(digest) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(stored);
            }
            std::collections::hash_map::Entry::Occupied(_) => self.colliding.push(stored),
        }
    }

    /// Reads every key of `R` when another process has added some since this cache last
    /// looked.
    pub(super) fn refresh<R: Record>(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let keys = R::TABLES.keys;
        let max_id: i64 =
            conn.query_row(&format!("SELECT ifnull(max(id), 0) FROM {keys}"), [], |r| {
                r.get(0)
            })?;
        if max_id == self.max_id {
            return Ok(());
        }
        *self = KeyCache::default();
        let fields = key_columns::<R>().join(", ");
        let mut stmt = conn.prepare_cached(&format!("SELECT id, ordinal, {fields} FROM {keys}"))?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let parts = (2..2 + R::Field::KEY.len())
                .map(|column| row.get_ref(column)?.as_str_or_null().map_err(Into::into))
                .collect::<rusqlite::Result<Vec<Option<&str>>>>()?;
            let (digest, _) = self.get(parts, row.get(1)?);
            self.insert(digest, row.get(0)?);
        }
        self.max_id = max_id;
        Ok(())
    }
}

/// The key fields' columns, quoted.
fn key_columns<R: Record>() -> Vec<String> {
    R::Field::KEY
        .iter()
        .map(|field| format!("\"{}\"", field.name()))
        .collect()
}

/// The key id of every record, inserting the keys not stored yet. Call it inside the import's
/// write transaction: new keys take the ids after the largest one.
pub(super) fn record_key_ids<R: Record>(
    conn: &Connection,
    cache: &mut KeyCache,
    records: &[Arc<R>],
) -> rusqlite::Result<Vec<i64>> {
    cache.refresh::<R>(conn)?;
    let mut ids = Vec::with_capacity(records.len());
    let mut new_keys: Vec<(i64, &R)> = Vec::new();
    for record in records {
        let id = match cache.get(record_parts(&**record), record.ordinal()) {
            (_, Some(id)) => id,
            (digest, None) => {
                cache.max_id += 1;
                cache.insert(digest, cache.max_id);
                new_keys.push((cache.max_id, record));
                cache.max_id
            }
        };
        ids.push(id);
    }
    // Many rows per statement (with their ids given, so none has to be read back): a row per
    // statement was a sixth of a first import.
    let (lo, hi) = R::TABLES.range_columns;
    let mut columns = vec!["id"];
    columns.extend(R::Field::KEY.iter().map(|field| field.name()));
    columns.extend(["ordinal", lo, hi]);
    for rows in new_keys.chunks(ROWS_PER_INSERT) {
        let sql = multi_row_insert(R::TABLES.keys, &columns, rows.len());
        let mut insert = conn.prepare_cached(&sql)?;
        for (i, (id, record)) in rows.iter().enumerate() {
            let range = record.range();
            let mut at = 1 + i * columns.len();
            insert.raw_bind_parameter(at, id)?;
            for (field, column) in R::Field::KEY.iter().zip(at + 1..) {
                insert.raw_bind_parameter(column, field.value(record).text())?;
            }
            at += 1 + R::Field::KEY.len();
            insert.raw_bind_parameter(at, record.ordinal())?;
            insert.raw_bind_parameter(at + 1, range.map(|r: PortRange| r.first))?;
            insert.raw_bind_parameter(at + 2, range.map(|r: PortRange| r.last))?;
        }
        insert.raw_execute()?;
    }
    Ok(ids)
}
