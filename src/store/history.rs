//! Storing one document as a snapshot: the interval bookkeeping described in the module doc
//! of [`super`].

use super::raw::{self, RawCache, sha256_hex};
use super::{Result, Store};
use crate::model::{ContentHashes, Person, Record, RecordChunk, Registry, parse_port_range};
use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{
    CachedStatement, Connection, OptionalExtension, Statement, TransactionBehavior, params,
};
use rustc_hash::{FxHashMap, FxHashSet};
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::mpsc::Receiver;

/// A parsed document and where it came from.
pub struct NewSnapshot<'a> {
    pub bytes: &'a [u8],
    pub registry: &'a Registry,
    pub source: &'a str,
    pub observed_at: DateTime<Utc>,
    pub imported_at: DateTime<Utc>,
    /// The sha256 of `bytes` when the caller has it already (it is computed otherwise).
    pub sha256: Option<&'a str>,
    /// The content hashes of the records and people, when computed already (on another
    /// thread); they must be [`Record::content_hash`] and [`Person::content_hash`].
    pub hashes: Option<&'a ContentHashes>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    /// A new snapshot; `latest` is false when it went into the history before the latest one.
    Stored {
        id: i64,
        registry_date: String,
        latest: bool,
    },
    /// These exact bytes were stored before.
    AlreadyStored { id: i64, registry_date: String },
}

/// A stored version's interval and content digest.
#[derive(Debug, Clone, Copy)]
struct Interval {
    row_id: i64,
    first: i64,
    last: Option<i64>,
    hash: i64,
}

/// The versions of one key around the new snapshot's place `p`.
#[derive(Default, Clone, Copy)]
struct Around {
    /// Holds at p-1 and p+1 (or at p-1 and is still open when p is the end).
    spanning: Option<Interval>,
    /// Ends at p-1.
    left: Option<Interval>,
    /// Starts at p+1.
    right: Option<Interval>,
}

/// What differs between the record and person tables, so one algorithm serves both.
trait VersionTable {
    const TABLE: &'static str;
    /// The columns a version is inserted with, in the order [`VersionTable::bind`] binds them.
    const COLUMNS: &'static [&'static str];
    type Item;
    type KeyId: std::hash::Hash + Eq + Clone;
    /// Binds one version's values to the parameters from `at` (counted from 1) on.
    fn bind(
        insert: &mut Statement,
        at: usize,
        key_id: &Self::KeyId,
        item: &Self::Item,
        content_hash: i64,
        first: i64,
        last: Option<i64>,
    ) -> rusqlite::Result<()>;
}

struct Records;
struct People;

fn json_list(list: &Option<Vec<String>>) -> Option<String> {
    list.as_ref()
        .map(|items| serde_json::to_string(items).expect("a list of strings serialises"))
}

impl VersionTable for Records {
    const TABLE: &'static str = "record_version";
    const COLUMNS: &'static [&'static str] = &[
        "key_id",
        "first_seq",
        "last_seq",
        "description",
        "assignee",
        "contact",
        "\"references\"",
        "registered",
        "modified",
        "service_code",
        "unauthorized",
        "notes",
        "content_hash",
    ];
    type Item = Record;
    type KeyId = i64;
    fn bind(
        insert: &mut Statement,
        at: usize,
        key_id: &i64,
        r: &Record,
        content_hash: i64,
        first: i64,
        last: Option<i64>,
    ) -> rusqlite::Result<()> {
        insert.raw_bind_parameter(at, key_id)?;
        insert.raw_bind_parameter(at + 1, first)?;
        insert.raw_bind_parameter(at + 2, last)?;
        insert.raw_bind_parameter(at + 3, &r.description)?;
        insert.raw_bind_parameter(at + 4, json_list(&r.assignee))?;
        insert.raw_bind_parameter(at + 5, json_list(&r.contact))?;
        insert.raw_bind_parameter(at + 6, json_list(&r.references))?;
        insert.raw_bind_parameter(at + 7, &r.registered)?;
        insert.raw_bind_parameter(at + 8, &r.modified)?;
        insert.raw_bind_parameter(at + 9, &r.service_code)?;
        insert.raw_bind_parameter(at + 10, &r.unauthorized)?;
        insert.raw_bind_parameter(at + 11, &r.notes)?;
        insert.raw_bind_parameter(at + 12, content_hash)
    }
}

impl VersionTable for People {
    const TABLE: &'static str = "person_version";
    const COLUMNS: &'static [&'static str] = &[
        "person_id",
        "first_seq",
        "last_seq",
        "name",
        "org",
        "uri",
        "updated",
        "content_hash",
    ];
    type Item = Person;
    type KeyId = String;
    fn bind(
        insert: &mut Statement,
        at: usize,
        key_id: &String,
        p: &Person,
        content_hash: i64,
        first: i64,
        last: Option<i64>,
    ) -> rusqlite::Result<()> {
        insert.raw_bind_parameter(at, key_id)?;
        insert.raw_bind_parameter(at + 1, first)?;
        insert.raw_bind_parameter(at + 2, last)?;
        insert.raw_bind_parameter(at + 3, &p.name)?;
        insert.raw_bind_parameter(at + 4, &p.org)?;
        insert.raw_bind_parameter(at + 5, &p.uri)?;
        insert.raw_bind_parameter(at + 6, &p.updated)?;
        insert.raw_bind_parameter(at + 7, content_hash)
    }
}

/// Rows per statement when many rows go into a table at once: a statement per row spends a
/// fifth of its time opening and closing the table's and indexes' cursors.
const ROWS_PER_INSERT: usize = 64;

/// `INSERT INTO table (columns) VALUES (?, ...), ...` with `rows` rows of parameters.
fn multi_row_insert(table: &str, columns: &[&str], rows: usize) -> String {
    let row = format!("({})", vec!["?"; columns.len()].join(", "));
    format!(
        "INSERT INTO {table} ({}) VALUES {}",
        columns.join(", "),
        vec![row; rows].join(", ")
    )
}

/// Inserts versions of `T` that all hold from `first` to `last`, [`ROWS_PER_INSERT`] per
/// statement.
fn insert_versions<T: VersionTable>(
    conn: &Connection,
    items: &[(T::KeyId, &T::Item, i64)],
    first: i64,
    last: Option<i64>,
) -> Result<()> {
    for rows in items.chunks(ROWS_PER_INSERT) {
        let mut insert =
            conn.prepare_cached(&multi_row_insert(T::TABLE, T::COLUMNS, rows.len()))?;
        for (i, (key, item, hash)) in rows.iter().enumerate() {
            T::bind(
                &mut insert,
                1 + i * T::COLUMNS.len(),
                key,
                item,
                *hash,
                first,
                last,
            )?;
        }
        insert.raw_execute()?;
    }
    Ok(())
}

/// When these bytes are stored: the snapshot takes this observation if it is earlier (a
/// snapshot is dated by its first observation, whatever order the copies come in, unless that
/// would move it past another snapshot of the same registry date).
fn seen_again_in(
    tx: &Connection,
    sha256: &str,
    observed_at: &str,
    source: &str,
) -> Result<Option<ImportOutcome>> {
    let existing: Option<(i64, String)> = tx
        .query_row(
            "SELECT id, registry_date FROM snapshot WHERE sha256 = ?1",
            [sha256],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    let Some((id, registry_date)) = existing else {
        return Ok(None);
    };
    tx.execute(EARLIER_OBSERVATION, params![id, observed_at, source])?;
    Ok(Some(ImportOutcome::AlreadyStored { id, registry_date }))
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Store {
    /// Stores a document as a snapshot in its place in history, in one transaction.
    pub fn import(&mut self, new: &NewSnapshot) -> Result<ImportOutcome> {
        let sha256 = match new.sha256 {
            Some(known) => known.to_string(),
            None => sha256_hex(new.bytes),
        };
        let result = self.import_inner(new, &sha256);
        self.checked(result)
    }

    /// After a failed import the caches may hold ids that were rolled back: they go.
    fn checked<T>(&mut self, result: Result<T>) -> Result<T> {
        if result.is_err() {
            self.raw_cache = None;
            self.key_cache = KeyCache::default();
        }
        result
    }

    /// Bytes already stored seen again (without parsing them): the snapshot takes this
    /// observation if it is earlier, as [`Store::import`] does. None when not stored.
    pub fn seen_again(
        &mut self,
        sha256: &str,
        observed_at: DateTime<Utc>,
        source: &str,
    ) -> Result<Option<ImportOutcome>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let seen = seen_again_in(&tx, sha256, &rfc3339(observed_at), source)?;
        tx.commit()?;
        Ok(seen)
    }

    fn import_inner(&mut self, new: &NewSnapshot, sha256: &str) -> Result<ImportOutcome> {
        let Store {
            conn,
            raw_cache,
            key_cache,
            scratch,
        } = self;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let observed_at = rfc3339(new.observed_at);
        if let Some(seen) = seen_again_in(&tx, sha256, &observed_at, new.source)? {
            tx.commit()?;
            return Ok(seen);
        }
        let count: i64 = tx.query_row("SELECT count(*) FROM snapshot", [], |r| r.get(0))?;
        let before: i64 = tx.query_row(
            "SELECT count(*) FROM snapshot WHERE (registry_date, observed_at, sha256) < (?1, ?2, ?3)",
            params![new.registry.updated, observed_at, sha256],
            |r| r.get(0),
        )?;
        let p = before + 1;
        let at_end = p == count + 1;
        // Into an empty history every row is new: building the version tables' indexes once,
        // after the rows, costs about half of keeping them up to date row by row.
        let deferred_indexes = if count == 0 {
            drop_version_indexes(&tx, ALL_VERSION_TABLES)?
        } else {
            Vec::new()
        };
        if !at_end {
            for sql in SHIFT_SEQ {
                tx.execute(sql, [p])?;
            }
        }

        // Raw bytes: against the previous snapshot; the next one is re-based on this one.
        let snapshot_at = |seq: i64| -> Result<Option<i64>> {
            Ok(tx
                .query_row("SELECT id FROM snapshot WHERE seq = ?1", [seq], |r| {
                    r.get(0)
                })
                .optional()?)
        };
        let previous = snapshot_at(p - 1)?;
        let next = snapshot_at(p + 1)?;
        let base = match previous {
            Some(prev_id) => Some((prev_id, raw::chain_bytes(&tx, raw_cache, prev_id)?)),
            None => None,
        };
        let hashes = new.hashes.filter(|h| h.fit(new.registry));
        let placing = Placing {
            tx: &tx,
            p,
            at_end,
            into_empty: count == 0,
            new_keys: false,
        };
        placing.records(
            key_cache,
            scratch,
            &new.registry.records,
            hashes.map(|h| h.records.as_slice()),
        )?;
        placing.people(
            scratch,
            &new.registry.people,
            hashes.map(|h| h.people.as_slice()),
        )?;
        create_indexes(&tx, &deferred_indexes)?;
        // In a batch both cores are busy already (reading and storing): the frame is made
        // here rather than on a thread of its own.
        let frame = raw::compress(new.bytes, base.as_ref().map(|(_, b)| b.as_slice()))?;
        let id = insert_snapshot_row(&tx, p, new, sha256)?;
        raw::insert_frame(&tx, id, base.as_ref().map(|(i, _)| *i), &frame)?;
        if let Some(next_id) = next {
            let next_bytes = raw::chain_bytes(&tx, raw_cache, next_id)?;
            raw::put_frame(&tx, next_id, Some((id, new.bytes)), &next_bytes)?;
        }
        drop(base);
        tx.commit()?;
        keep_as_base(raw_cache, id, new.bytes);
        Ok(ImportOutcome::Stored {
            id,
            registry_date: new.registry.updated.clone(),
            latest: at_end,
        })
    }

    /// Stores a document whose records arrive while it is still being parsed: `chunks` gives
    /// them in document order and ends with them (see
    /// [`crate::parse::parse_registry_streaming`]); `parsed` then gives the whole registry, or
    /// None when the document was refused (nothing is stored then). The registry is handed
    /// back with the outcome: freeing it is the caller's choice.
    ///
    /// Into an empty history the records go in as they come, so parsing and storing overlap
    /// (a first import takes about a third less time); otherwise this waits for the registry
    /// and imports it as [`Store::import`] does.
    pub fn import_streamed(
        &mut self,
        new: &StreamedDocument,
        chunks: Receiver<RecordChunk>,
        parsed: impl FnOnce() -> Option<(Registry, ContentHashes)>,
    ) -> Result<Option<(ImportOutcome, Registry)>> {
        let result = self.import_streamed_inner(new, chunks, parsed);
        self.checked(result)
    }

    fn import_streamed_inner(
        &mut self,
        new: &StreamedDocument,
        chunks: Receiver<RecordChunk>,
        parsed: impl FnOnce() -> Option<(Registry, ContentHashes)>,
    ) -> Result<Option<(ImportOutcome, Registry)>> {
        let Store {
            conn,
            raw_cache: _,
            key_cache,
            scratch,
        } = self;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let empty: bool = tx.query_row("SELECT NOT EXISTS (SELECT 1 FROM snapshot)", [], |r| {
            r.get(0)
        })?;
        if !empty {
            drop(tx);
            drop(chunks);
            let Some((registry, hashes)) = parsed() else {
                return Ok(None);
            };
            let sha256 = sha256_hex(new.bytes);
            let outcome = self.import(&new.with(&registry, &sha256, Some(&hashes)))?;
            return Ok(Some((outcome, registry)));
        }
        // The indexes of keys and people are built once their rows are in. The versions' own
        // indexes stay: their rows come in the order of those indexes (new keys, all from
        // snapshot 1), so keeping them costs little, and it is spent while the parse is the
        // slower side.
        let key_indexes = drop_version_indexes(&tx, &["record_key"])?;
        let person_indexes = drop_version_indexes(&tx, &["person_version"])?;
        let placing = Placing {
            tx: &tx,
            p: 1,
            at_end: true,
            into_empty: true,
            new_keys: true,
        };
        let stored = std::thread::scope(|scope| -> Result<Option<(Registry, String, Vec<u8>)>> {
            let mut streamed = 0;
            for chunk in chunks {
                let hashes =
                    (chunk.hashes.len() == chunk.records.len()).then_some(&chunk.hashes[..]);
                placing.records(key_cache, scratch, &chunk.records, hashes)?;
                streamed += chunk.records.len();
            }
            // The stream ends with the records. While the other core reads the people, then
            // makes the digest and the frame, this one builds the keys' indexes, then stores
            // the people.
            let framing = scope.spawn(|| {
                raw::compress(new.bytes, None).map(|frame| (sha256_hex(new.bytes), frame))
            });
            create_indexes(&tx, &key_indexes)?;
            let Some((registry, hashes)) = parsed() else {
                return Ok(None);
            };
            let hashes = Some(&hashes).filter(|h| h.fit(&registry));
            let rest = registry.records.get(streamed..).unwrap_or_default();
            let rest_hashes = hashes.map(|h| &h.records[streamed.min(h.records.len())..]);
            placing.records(key_cache, scratch, rest, rest_hashes)?;
            placing.people(scratch, &registry.people, hashes.map(|h| &h.people[..]))?;
            create_indexes(&tx, &person_indexes)?;
            let (sha256, frame) = framing
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            Ok(Some((registry, sha256, frame)))
        })?;
        // A refused document: the transaction rolls back as it is dropped.
        let Some((registry, sha256, frame)) = stored else {
            return Ok(None);
        };
        let id = insert_snapshot_row(&tx, 1, &new.with(&registry, &sha256, None), &sha256)?;
        raw::insert_frame(&tx, id, None, &frame)?;
        tx.commit()?;
        // Not kept as the base of a next import (one document comes this way, and copying
        // it would cost a millisecond): a next import reads it back if it needs it.
        let outcome = ImportOutcome::Stored {
            id,
            registry_date: registry.updated.clone(),
            latest: true,
        };
        Ok(Some((outcome, registry)))
    }
}

/// A document being parsed while it is stored (see [`Store::import_streamed`]).
pub struct StreamedDocument<'a> {
    pub bytes: &'a [u8],
    pub source: &'a str,
    pub observed_at: DateTime<Utc>,
    pub imported_at: DateTime<Utc>,
}

impl StreamedDocument<'_> {
    /// The document as [`Store::import`] takes it, once parsed.
    fn with<'a>(
        &'a self,
        registry: &'a Registry,
        sha256: &'a str,
        hashes: Option<&'a ContentHashes>,
    ) -> NewSnapshot<'a> {
        NewSnapshot {
            bytes: self.bytes,
            registry,
            source: self.source,
            observed_at: self.observed_at,
            imported_at: self.imported_at,
            sha256: Some(sha256),
            hashes,
        }
    }
}

/// The new snapshot's place, inside the import's transaction.
struct Placing<'t> {
    tx: &'t Connection,
    p: i64,
    at_end: bool,
    /// The history is empty: every version is new, and is inserted as it is.
    into_empty: bool,
    /// Every key is new (the history is empty and one document comes): keys are inserted
    /// without the key cache, which reads them back from the table when next needed.
    new_keys: bool,
}

impl Placing<'_> {
    /// Places records (all of the document's, or in document order chunk by chunk into an
    /// empty history); `hashes` are their content hashes when computed already.
    fn records(
        &self,
        key_cache: &mut KeyCache,
        scratch: &mut PlaceScratch,
        records: &[Arc<Record>],
        hashes: Option<&[i64]>,
    ) -> Result<()> {
        let key_ids = if self.new_keys {
            insert_record_keys(self.tx, records)?
        } else {
            record_key_ids(self.tx, key_cache, records)?
        };
        let items: Vec<(i64, &Record, i64)> = key_ids
            .into_iter()
            .zip(records)
            .enumerate()
            .map(|(i, (key, record))| {
                let hash = hashes.map_or_else(|| record.content_hash(), |h| h[i]);
                (key, &**record, hash)
            })
            .collect();
        if self.into_empty {
            return insert_versions::<Records>(self.tx, &items, self.p, None);
        }
        place::<Records>(self.tx, self.p, self.at_end, &items, &mut scratch.records)
    }

    fn people(
        &self,
        scratch: &mut PlaceScratch,
        people: &[Arc<Person>],
        hashes: Option<&[i64]>,
    ) -> Result<()> {
        // A repeated id keeps its first entry, as a reader of the document would. The rest
        // stay in document order, which is by id: their index is then built from sorted rows.
        let mut seen: FxHashSet<&str> = FxHashSet::default();
        seen.reserve(people.len());
        let items: Vec<(String, &Person, i64)> = people
            .iter()
            .enumerate()
            .filter(|(_, person)| seen.insert(person.id.as_str()))
            .map(|(i, person)| {
                let hash = hashes.map_or_else(|| person.content_hash(), |h| h[i]);
                (person.id.clone(), &**person, hash)
            })
            .collect();
        if self.into_empty {
            return insert_versions::<People>(self.tx, &items, self.p, None);
        }
        place::<People>(self.tx, self.p, self.at_end, &items, &mut scratch.people)
    }
}

fn insert_snapshot_row(tx: &Connection, p: i64, new: &NewSnapshot, sha256: &str) -> Result<i64> {
    let registry = new.registry;
    tx.execute(
        "INSERT INTO snapshot (seq, registry_date, observed_at, imported_at, source, sha256,
             byte_size, record_count, person_count, title)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            p,
            registry.updated,
            rfc3339(new.observed_at),
            rfc3339(new.imported_at),
            new.source,
            sha256,
            new.bytes.len() as i64,
            registry.records.len() as i64,
            registry.people.len() as i64,
            registry.title,
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Keeps the bytes just stored as the base of the next in-order import, refilling the
/// cache's buffer rather than allocating a new 4 MB one.
fn keep_as_base(raw_cache: &mut RawCache, id: i64, bytes: &[u8]) {
    let mut buffer = raw_cache
        .take()
        .and_then(|(_, bytes)| Arc::try_unwrap(bytes).ok())
        .unwrap_or_default();
    buffer.clear();
    buffer.extend_from_slice(bytes);
    *raw_cache = Some((id, Arc::new(buffer)));
}

/// The indexes of the tables that hold the history's rows, as `CREATE INDEX` statements.
const VERSION_TABLE_INDEXES: &str = "SELECT name, sql FROM sqlite_schema
    WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (SELECT value FROM json_each(?1))
    ORDER BY name";

/// The tables whose indexes a first import builds after its rows.
const ALL_VERSION_TABLES: &[&str] = &["record_key", "record_version", "person_version"];

/// Drops the version tables' indexes (inside the import's transaction, so a failed import
/// keeps them) and returns the statements that build them again.
fn drop_version_indexes(tx: &Connection, tables: &[&str]) -> Result<Vec<String>> {
    let tables = serde_json::to_string(tables).expect("table names serialise");
    let indexes: Vec<(String, String)> = tx
        .prepare(VERSION_TABLE_INDEXES)?
        .query_map([tables], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (name, _) in &indexes {
        tx.execute_batch(&format!("DROP INDEX \"{}\"", name.replace('"', "\"\"")))?;
    }
    Ok(indexes.into_iter().map(|(_, sql)| sql).collect())
}

fn create_indexes(tx: &Connection, creates: &[String]) -> Result<()> {
    for create in creates {
        tx.execute_batch(create)?;
    }
    Ok(())
}

/// Moves a snapshot's observation (and source) to an earlier sighting of the same bytes, when
/// no snapshot of the same registry date was observed in between.
const EARLIER_OBSERVATION: &str = "UPDATE snapshot SET observed_at = ?2, source = ?3
    WHERE id = ?1 AND observed_at > ?2
      AND NOT EXISTS (SELECT 1 FROM snapshot o WHERE o.registry_date = snapshot.registry_date
                      AND o.id != snapshot.id AND o.observed_at BETWEEN ?2 AND snapshot.observed_at)";

/// Makes room at `seq` ?1 for an older version imported after newer ones (`last_seq` first, so
/// the `last_seq >= first_seq` check holds row by row).
const SHIFT_SEQ: [&str; 5] = [
    "UPDATE snapshot SET seq = seq + 1 WHERE seq >= ?1",
    "UPDATE record_version SET last_seq = last_seq + 1 WHERE last_seq >= ?1",
    "UPDATE record_version SET first_seq = first_seq + 1 WHERE first_seq >= ?1",
    "UPDATE person_version SET last_seq = last_seq + 1 WHERE last_seq >= ?1",
    "UPDATE person_version SET first_seq = first_seq + 1 WHERE first_seq >= ?1",
];

/// The versions around the new snapshot's place, by key, for each version table.
#[derive(Default)]
pub(super) struct PlaceScratch {
    records: FxHashMap<i64, Around>,
    people: FxHashMap<String, Around>,
}

/// The ids of `record_key` rows, kept between the imports of one process. Keys are never
/// deleted, so the cache is current while the table's largest id is the one it saw last
/// (another process adding keys changes it).
#[derive(Default)]
pub(super) struct KeyCache {
    max_id: i64,
    /// By a digest of the key's parts, each with a record of that key to confirm: the record
    /// that brought it, shared with the registry (copying the key's strings cost 5 MB and a
    /// tenth of a first import), or one holding only the key when read back from the table.
    ids: FxHashMap<u64, Vec<(Arc<Record>, i64)>>,
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
        self.ids
            .get(&key_digest(record))?
            .iter()
            .find_map(|(key, id)| same_key(key, record).then_some(*id))
    }

    fn insert(&mut self, key: Arc<Record>, id: i64) {
        self.ids
            .entry(key_digest(&key))
            .or_default()
            .push((key, id));
    }
}

/// The key id of every record, inserting the keys not seen before.
fn record_key_ids(
    conn: &Connection,
    cache: &mut KeyCache,
    records: &[Arc<Record>],
) -> Result<Vec<i64>> {
    let max_id: i64 = conn.query_row("SELECT ifnull(max(id), 0) FROM record_key", [], |r| {
        r.get(0)
    })?;
    if max_id != cache.max_id {
        cache.ids.clear();
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
            cache.insert(Arc::new(key), row.get(0)?);
        }
        cache.max_id = max_id;
    }
    let mut insert = conn.prepare_cached(INSERT_RECORD_KEY)?;
    let mut ids = Vec::with_capacity(records.len());
    for record in records {
        let id = match cache.get(record) {
            Some(id) => id,
            None => {
                let id = insert_record_key(&mut insert, record)?;
                cache.insert(Arc::clone(record), id);
                cache.max_id = cache.max_id.max(id);
                id
            }
        };
        ids.push(id);
    }
    Ok(ids)
}

/// The key ids of records whose keys are all new (see [`Placing::new_keys`]).
fn insert_record_keys(conn: &Connection, records: &[Arc<Record>]) -> Result<Vec<i64>> {
    let mut insert = conn.prepare_cached(INSERT_RECORD_KEY)?;
    records
        .iter()
        .map(|record| insert_record_key(&mut insert, record))
        .collect()
}

const INSERT_RECORD_KEY: &str = "INSERT INTO record_key
    (name, protocol, port, ordinal, port_lo, port_hi) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

fn insert_record_key(insert: &mut CachedStatement, record: &Record) -> Result<i64> {
    let range = record.port.as_deref().and_then(parse_port_range);
    Ok(insert.insert(params![
        record.name,
        record.protocol,
        record.port,
        record.ordinal,
        range.map(|r| r.0),
        range.map(|r| r.1),
    ])?)
}

/// Places the new snapshot's items at `p` in one version table (after the `seq` shift).
fn place<T: VersionTable>(
    conn: &Connection,
    p: i64,
    at_end: bool,
    items: &[(T::KeyId, &T::Item, i64)],
    around: &mut FxHashMap<T::KeyId, Around>,
) -> Result<()>
where
    T::KeyId: rusqlite::types::FromSql + rusqlite::ToSql,
{
    let key_column = if T::TABLE == "record_version" {
        "key_id"
    } else {
        "person_id"
    };
    around.clear();
    {
        let sql = format!(
            "SELECT id, {key_column}, first_seq, last_seq, content_hash FROM {table}
             WHERE (first_seq <= ?1 - 1 AND (last_seq IS NULL OR last_seq >= ?1 - 1))
                OR first_seq = ?1 + 1",
            table = T::TABLE
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([p])?;
        while let Some(row) = rows.next()? {
            let interval = Interval {
                row_id: row.get(0)?,
                first: row.get(2)?,
                last: row.get(3)?,
                hash: row.get(4)?,
            };
            let entry = around.entry(row.get(1)?).or_default();
            if interval.first == p + 1 {
                entry.right = Some(interval);
            } else if interval.last == Some(p - 1) {
                entry.left = Some(interval);
            } else {
                entry.spanning = Some(interval);
            }
        }
    }
    // The new snapshot's own last_seq when it starts or stretches a version.
    let own_last = if at_end { None } else { Some(p) };
    let set_last = format!("UPDATE {} SET last_seq = ?2 WHERE id = ?1", T::TABLE);
    let set_first = format!("UPDATE {} SET first_seq = ?2 WHERE id = ?1", T::TABLE);
    let delete = format!("DELETE FROM {} WHERE id = ?1", T::TABLE);
    let copy = copy_sql(T::TABLE);
    let mut insert = conn.prepare_cached(&multi_row_insert(T::TABLE, T::COLUMNS, 1))?;
    let mut insert_one = |key: &T::KeyId, item: &T::Item, hash: i64| -> Result<()> {
        T::bind(&mut insert, 1, key, item, hash, p, own_last)?;
        insert.raw_execute()?;
        Ok(())
    };

    // Splits a spanning version around p: it ends at p-1 and a copy resumes at p+1.
    let split = |s: Interval| -> Result<()> {
        conn.prepare_cached(&set_last)?
            .execute(params![s.row_id, p - 1])?;
        if !at_end {
            conn.prepare_cached(&copy)?
                .execute(params![s.row_id, p + 1, s.last])?;
        }
        Ok(())
    };

    for &(ref key, item, hash) in items {
        let state = around.remove(key).unwrap_or_default();
        if let Some(s) = state.spanning {
            if s.hash != hash {
                split(s)?;
                insert_one(key, item, hash)?;
            }
            continue;
        }
        let left = state.left.filter(|l| l.hash == hash);
        let right = state.right.filter(|r| r.hash == hash);
        match (left, right) {
            (Some(l), Some(r)) => {
                conn.prepare_cached(&set_last)?
                    .execute(params![l.row_id, r.last])?;
                conn.prepare_cached(&delete)?.execute([r.row_id])?;
            }
            (Some(l), None) => {
                conn.prepare_cached(&set_last)?
                    .execute(params![l.row_id, own_last])?;
            }
            (None, Some(r)) => {
                conn.prepare_cached(&set_first)?
                    .execute(params![r.row_id, p])?;
            }
            (None, None) => insert_one(key, item, hash)?,
        }
    }
    // Keys absent from the new snapshot: a version that spanned p no longer does.
    for (_, state) in around.drain() {
        if let Some(s) = state.spanning {
            split(s)?;
        }
    }
    Ok(())
}

fn copy_sql(table: &str) -> String {
    let columns = if table == "record_version" {
        "key_id, description, assignee, contact, \"references\", registered, modified, \
         service_code, unauthorized, notes, content_hash"
    } else {
        "person_id, name, org, uri, updated, content_hash"
    };
    format!(
        "INSERT INTO {table} (first_seq, last_seq, {columns})
         SELECT ?2, ?3, {columns} FROM {table} WHERE id = ?1"
    )
}
