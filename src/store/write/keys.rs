//! Record keys (`record_key`): a record's identity gets its row once, the first time any
//! snapshot has it, and every version of that record refers to it.

use super::tables::{ROWS_PER_INSERT, multi_row_insert};
use crate::model::{PortRange, Record};
use rusqlite::Connection;
use rustc_hash::FxHashMap;
use std::hash::BuildHasher;
use std::sync::Arc;

/// The ids of `record_key` rows, kept between the imports of one process. Keys are never
/// deleted, so the cache is current while the table's largest id is the one it saw last
/// (another process adding keys changes it).
#[derive(Default)]
pub(in crate::store) struct KeyCache {
    max_id: i64,
    /// By a digest of the key's parts, with a record of that key to confirm the match: the
    /// record that brought it, shared with the registry (copying the key's strings cost 5 MB
    /// and a tenth of a first import), or one holding only the key when read from the table.
    ids: FxHashMap<u64, (Arc<Record>, i64)>,
    /// Keys whose digest another key had first (possible, never seen).
    colliding: Vec<(Arc<Record>, i64)>,
}

fn key_digest(record: &Record) -> u64 {
    rustc_hash::FxBuildHasher.hash_one((
        record.name.as_deref(),
        record.protocol.as_deref(),
        record.port.as_deref(),
        record.ordinal,
    ))
}

fn same_key(a: &Record, b: &Record) -> bool {
    a.name == b.name && a.protocol == b.protocol && a.port == b.port && a.ordinal == b.ordinal
}

impl KeyCache {
    fn get(&self, record: &Record) -> Option<i64> {
        match self.ids.get(&key_digest(record)) {
            Some((key, id)) if same_key(key, record) => Some(*id),
            Some(_) => self
                .colliding
                .iter()
                .find_map(|(key, id)| same_key(key, record).then_some(*id)),
            None => None,
        }
    }

    fn insert(&mut self, key: Arc<Record>, id: i64) {
        match self.ids.entry(key_digest(&key)) {
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert((key, id));
            }
            std::collections::hash_map::Entry::Occupied(_) => self.colliding.push((key, id)),
        }
    }

    /// Reads every key when another process has added some since this cache last looked.
    pub(super) fn refresh(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        let max_id: i64 = conn.query_row("SELECT ifnull(max(id), 0) FROM record_key", [], |r| {
            r.get(0)
        })?;
        if max_id == self.max_id {
            return Ok(());
        }
        *self = KeyCache::default();
        let mut stmt =
            conn.prepare_cached("SELECT id, name, protocol, port, ordinal FROM record_key")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let key = Record {
                name: row.get(1)?,
                protocol: row.get(2)?,
                port: row.get(3)?,
                ordinal: row.get(4)?,
                ..Record::default()
            };
            self.insert(Arc::new(key), row.get(0)?);
        }
        self.max_id = max_id;
        Ok(())
    }
}

/// The key id of every record, inserting the keys not stored yet. Call it inside the import's
/// write transaction: new keys take the ids after the largest one.
pub(super) fn record_key_ids(
    conn: &Connection,
    cache: &mut KeyCache,
    records: &[Arc<Record>],
) -> rusqlite::Result<Vec<i64>> {
    cache.refresh(conn)?;
    let mut ids = Vec::with_capacity(records.len());
    let mut new_keys: Vec<(i64, &Record)> = Vec::new();
    for record in records {
        let id = match cache.get(record) {
            Some(id) => id,
            None => {
                cache.max_id += 1;
                cache.insert(Arc::clone(record), cache.max_id);
                new_keys.push((cache.max_id, record));
                cache.max_id
            }
        };
        ids.push(id);
    }
    // Many rows per statement (with their ids given, so none has to be read back): a row per
    // statement was a sixth of a first import.
    const COLUMNS: [&str; 7] = [
        "id", "name", "protocol", "port", "ordinal", "port_lo", "port_hi",
    ];
    for rows in new_keys.chunks(ROWS_PER_INSERT) {
        let mut insert =
            conn.prepare_cached(&multi_row_insert("record_key", &COLUMNS, rows.len()))?;
        for (i, (id, record)) in rows.iter().enumerate() {
            let range = record.covered_ports();
            let at = 1 + i * COLUMNS.len();
            insert.raw_bind_parameter(at, id)?;
            insert.raw_bind_parameter(at + 1, &record.name)?;
            insert.raw_bind_parameter(at + 2, &record.protocol)?;
            insert.raw_bind_parameter(at + 3, &record.port)?;
            insert.raw_bind_parameter(at + 4, record.ordinal)?;
            insert.raw_bind_parameter(at + 5, range.map(|r: PortRange| r.first))?;
            insert.raw_bind_parameter(at + 6, range.map(|r: PortRange| r.last))?;
        }
        insert.raw_execute()?;
    }
    Ok(ids)
}
