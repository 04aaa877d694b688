//! The exact bytes of every snapshot, compact, and any of them read in bounded time.
//!
//! Each registry has its own chain: "the snapshot before it" is in the same registry.
//! - The oldest snapshot's document is one zstd frame (about 430 KB for a 3.5 MB document).
//! - Every other snapshot holds a *step*: the line delta from the snapshot before it (see
//!   [`delta`]), zstd-compressed; a real weekly change is about 360 bytes.
//! - Derived from the steps (table `snapshot_raw_skip`): at every 64th place a *skip*, the delta
//!   spanning the 64 snapshots before it, and at every 1024th a *keyframe*, the whole document.
//!
//! Reading snapshot `k` takes the nearest keyframe before it (the oldest document is the first
//! one), at most 15 skips, then at most 63 steps, composes those deltas (without rebuilding any
//! document in between) and applies the result once: bounded, whatever the history's length.
//! A real history under 1024 snapshots has no keyframe but the oldest document.
//! Storing a new version needs only the latest document (read that way, or kept from the
//! import before) and one line diff, on lines tokenized once per document (see [`lines`]).
//! Steps are the source of truth: skips are rebuilt from them wherever a version lands before
//! the latest.
//!
//! Schema 5 and before kept zstd "patch-from" frames instead, each against the snapshot
//! before it, so reading snapshot `k` decompressed `k` frames; [`legacy`] reads them once, when
//! such a database is upgraded.

pub mod delta;
pub(super) mod legacy;
mod lines;

use super::{Result, Seq, SnapshotId, Store, StoreError, caches_of};
use crate::model::Registry;
use delta::{BadDelta, Delta};
use lines::{LineTable, Lines};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// zstd level of the oldest document: fast enough for a first import.
const DOCUMENT_LEVEL: i32 = 3;
/// zstd level of deltas. Level 19 made raw bytes 0.1% smaller than 15 and a whole history's
/// import an eighth slower: every version compresses a step, and every 64th a skip.
const DELTA_LEVEL: i32 = 15;
/// Places between two skips.
const SKIP_SPAN: usize = 64;
/// Places between two keyframes (a multiple of [`SKIP_SPAN`]).
const KEYFRAME_SPAN: usize = 1024;

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// What a store keeps between reads and imports: the document read or imported last (the base
/// of the next in-order import, so a batch never reads its way to it), and the line table with
/// the lines it tokenized last (so a batch tokenizes each version once).
#[derive(Default)]
pub(super) struct RawCache {
    last: Option<(SnapshotId, Arc<Vec<u8>>)>,
    lines: Option<(SnapshotId, Lines)>,
    table: LineTable,
}

impl RawCache {
    /// Keeps `bytes` as the document imported last, refilling the cache's buffer rather than
    /// allocating a new 4 MB one.
    pub(super) fn keep(&mut self, id: SnapshotId, bytes: &[u8]) {
        let mut buffer = self
            .last
            .take()
            .and_then(|(_, bytes)| Arc::try_unwrap(bytes).ok())
            .unwrap_or_default();
        buffer.clear();
        buffer.extend_from_slice(bytes);
        self.last = Some((id, Arc::new(buffer)));
    }

    /// Reads the document at `latest` and tokenizes its lines, for an import at the end to
    /// come (see `Store::read_ahead`).
    pub(super) fn read_ahead(
        &mut self,
        conn: &Connection,
        registry: Registry,
        latest: Seq,
    ) -> Result<()> {
        let (id, bytes) = document_at(conn, self, registry, latest)?;
        let tokenized = matches!(&self.lines, Some((cached, lines)) if *cached == id && self.table.is_last(lines));
        if !tokenized {
            self.lines = Some((id, self.table.tokenize(&bytes, None)));
        }
        Ok(())
    }

    /// The delta that makes snapshot `id`'s document `new` from `base`'s, with `base`'s lines
    /// as the table tokenized them last when they are, and `new`'s kept for the next one.
    fn delta(&mut self, base: (SnapshotId, &[u8]), id: SnapshotId, new: &[u8]) -> Delta {
        let (base_id, base_bytes) = base;
        // Tokens of lines gone from the history pile up over a long batch: past four per line,
        // the table starts afresh.
        let base_lines = match self.lines.take() {
            Some((cached, lines))
                if cached == base_id
                    && self.table.is_last(&lines)
                    && self.table.token_count() as usize <= 4 * lines.len() + 1024 =>
            {
                lines
            }
            _ => self.table.tokenize(base_bytes, None),
        };
        let new_lines = self.table.tokenize(new, Some((base_bytes, &base_lines)));
        let delta = Delta::of_lines(&base_lines, new, &new_lines);
        self.lines = Some((id, new_lines));
        delta
    }
}

/// A whole document as stored: one zstd frame.
pub(super) fn compress_document(bytes: &[u8]) -> Result<Vec<u8>> {
    zstd::bulk::compress(bytes, DOCUMENT_LEVEL).map_err(|e| StoreError::Compression(e.to_string()))
}

/// A delta as stored: its encoding in one zstd frame.
fn compress_delta(delta: &Delta) -> Result<Vec<u8>> {
    zstd::bulk::compress(&delta.encode(), DELTA_LEVEL)
        .map_err(|e| StoreError::Compression(e.to_string()))
}

/// The one frame of a zstd-compressed payload, at most a document's size.
fn decompress(frame: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let size = match zstd::zstd_safe::get_frame_content_size(frame) {
        Ok(Some(size)) if size <= crate::input::MAX_DOCUMENT_BYTES => size as usize,
        Ok(_) => return Err("frame has no plausible content size".into()),
        Err(_) => return Err("not a zstd frame".into()),
    };
    zstd::bulk::decompress(frame, size).map_err(|e| e.to_string())
}

fn damaged(id: SnapshotId, reason: impl std::fmt::Display) -> StoreError {
    StoreError::DamagedRaw {
        id,
        reason: reason.to_string(),
    }
}

/// The delta stored in a frame.
fn delta_of(id: SnapshotId, frame: &[u8]) -> Result<Delta> {
    let bytes = decompress(frame).map_err(|reason| damaged(id, reason))?;
    Delta::decode(&bytes).map_err(|error: BadDelta| damaged(id, error))
}

impl Store {
    /// The exact bytes of a snapshot, checked against its stored sha256.
    pub fn raw_bytes(&mut self, snapshot_id: SnapshotId) -> Result<Arc<Vec<u8>>> {
        let (registry, seq, expected): (Registry, Seq, String) = self
            .conn
            .query_row(
                "SELECT registry, seq, sha256 FROM snapshot WHERE id = ?1",
                [snapshot_id],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?
            .ok_or_else(|| StoreError::NoSuchSnapshot(format!("snapshot {snapshot_id}")))?;
        let cache = &mut caches_of(&mut self.caches, registry).raw;
        let bytes = document_at(&self.conn, cache, registry, seq)?.1;
        if sha256_hex(&bytes) != expected {
            return Err(damaged(snapshot_id, "sha256 differs from the stored one"));
        }
        Ok(bytes)
    }

    /// Total bytes of stored raw frames, skips included.
    pub fn raw_size(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT (SELECT ifnull(sum(length(zstd)), 0) FROM snapshot_raw)
                  + (SELECT ifnull(sum(length(zstd)), 0) FROM snapshot_raw_skip)",
            [],
            |row| row.get(0),
        )?)
    }

    /// Every document of `registry` in history order, one step after the other (what
    /// `verify` reads): `each(place, id, bytes or why they cannot be read)`, which may stop
    /// the walk with an error. After a step that cannot be read, the next document is read by
    /// its own path.
    pub fn each_document<E: From<StoreError>>(
        &self,
        registry: Registry,
        mut each: impl FnMut(Seq, SnapshotId, Result<&[u8]>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let ids = ids_by_place(&self.conn, registry)?;
        let mut previous: Option<Vec<u8>> = None;
        for (index, &id) in ids.iter().enumerate() {
            let seq = Seq(index as i64 + 1);
            let before_id = index.checked_sub(1).map(|i| ids[i]);
            let document = match (&previous, step_frame(&self.conn, id)?) {
                (_, None) => Err(damaged(id, "no stored bytes")),
                (_, Some((None, frame))) => {
                    decompress(&frame).map_err(|reason| damaged(id, reason))
                }
                (Some(before), Some((Some(base), frame))) if Some(base) == before_id => {
                    delta_of(id, &frame)
                        .and_then(|delta| delta.apply(before).map_err(|e| damaged(id, e)))
                }
                // The one before was unreadable, or this step is not against it.
                _ => document_at(&self.conn, &mut RawCache::default(), registry, seq)
                    .map(|(_, bytes)| bytes.to_vec()),
            };
            match document {
                Ok(document) => {
                    each(seq, id, Ok(&document))?;
                    previous = Some(document);
                }
                Err(error) => {
                    each(seq, id, Err(error))?;
                    previous = None;
                }
            }
        }
        Ok(())
    }
}

/// `registry`'s snapshot ids by place: `ids[0]` is the oldest.
fn ids_by_place(conn: &Connection, registry: Registry) -> Result<Vec<SnapshotId>> {
    let mut stmt =
        conn.prepare_cached("SELECT id FROM snapshot WHERE registry = ?1 ORDER BY seq")?;
    let ids = stmt.query_map([registry], |row| row.get(0))?;
    Ok(ids.collect::<rusqlite::Result<_>>()?)
}

/// A snapshot's step: its base (None: a whole document) and frame.
fn step_frame(conn: &Connection, id: SnapshotId) -> Result<Option<(Option<SnapshotId>, Vec<u8>)>> {
    Ok(conn
        .prepare_cached("SELECT base_id, zstd FROM snapshot_raw WHERE snapshot_id = ?1")?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?)
}

/// A snapshot's skip, if it has one: its base (None: a keyframe, the whole document) and frame.
fn skip_frame(conn: &Connection, id: SnapshotId) -> Result<Option<(Option<SnapshotId>, Vec<u8>)>> {
    Ok(conn
        .prepare_cached("SELECT base_id, zstd FROM snapshot_raw_skip WHERE snapshot_id = ?1")?
        .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?)
}

/// The document of `registry`'s snapshot at `seq`, with its id: from the cache (of that
/// registry) when it holds that snapshot or one at most 63 places before it, else from the
/// oldest document along the skips. Places must be 1..n, as they are between imports.
pub(super) fn document_at(
    conn: &Connection,
    cache: &mut RawCache,
    registry: Registry,
    seq: Seq,
) -> Result<(SnapshotId, Arc<Vec<u8>>)> {
    let ids = ids_by_place(conn, registry)?;
    let index = usize::try_from(seq.0 - 1)
        .ok()
        .filter(|&i| i < ids.len())
        .ok_or_else(|| StoreError::NoSuchSnapshot(format!("place {seq}")))?;
    document_in(conn, cache, &ids, index)
}

/// The document of the snapshot `ids[index]`, where `ids` are a history's snapshots by place.
fn document_in(
    conn: &Connection,
    cache: &mut RawCache,
    ids: &[SnapshotId],
    index: usize,
) -> Result<(SnapshotId, Arc<Vec<u8>>)> {
    let id = ids[index];
    let cached = cache
        .last
        .as_ref()
        .and_then(|(cached, bytes)| Some((ids.iter().position(|i| i == cached)?, bytes)))
        .filter(|&(at, _)| at <= index && index - at < 64);
    if let Some((at, bytes)) = cached {
        if at == index {
            return Ok((id, Arc::clone(bytes)));
        }
        let bytes = Arc::clone(bytes);
        let deltas = steps(conn, ids, at, index)?;
        let document = apply_all(id, deltas, &bytes)?;
        return Ok((id, Arc::new(document)));
    }
    // The nearest keyframe at or before it (the oldest document is the first one).
    let mut at = index / KEYFRAME_SPAN * KEYFRAME_SPAN;
    let start = loop {
        let (base, frame) = match at {
            0 => step_frame(conn, ids[0])?.ok_or_else(|| damaged(ids[0], "no stored bytes"))?,
            _ => match skip_frame(conn, ids[at])? {
                Some(found) => found,
                None => (Some(ids[at]), Vec::new()),
            },
        };
        match (base, at) {
            (None, _) => break decompress(&frame).map_err(|reason| damaged(ids[at], reason))?,
            (Some(_), 0) => {
                return Err(damaged(ids[0], "the oldest snapshot's bytes are not whole"));
            }
            // Not a keyframe (missing, or a place that moved): the one before.
            (Some(_), _) => at -= KEYFRAME_SPAN,
        }
    };
    let mut deltas = Vec::new();
    while at + SKIP_SPAN <= index {
        match skip_frame(conn, ids[at + SKIP_SPAN])? {
            Some((Some(base), frame)) if base == ids[at] => {
                deltas.push(delta_of(ids[at + SKIP_SPAN], &frame)?)
            }
            _ => break,
        }
        at += SKIP_SPAN;
    }
    deltas.extend(steps(conn, ids, at, index)?);
    let document = apply_all(id, deltas, &start)?;
    let document = Arc::new(document);
    cache.last = Some((id, Arc::clone(&document)));
    Ok((id, document))
}

/// The steps from the snapshot at index `from` to the one at `to` (indexes into `ids`).
fn steps(conn: &Connection, ids: &[SnapshotId], from: usize, to: usize) -> Result<Vec<Delta>> {
    (from + 1..=to)
        .map(|i| {
            let (base, frame) =
                step_frame(conn, ids[i])?.ok_or_else(|| damaged(ids[i], "no stored bytes"))?;
            if base != Some(ids[i - 1]) {
                return Err(damaged(
                    ids[i],
                    "its bytes are not a step from the snapshot before it",
                ));
            }
            delta_of(ids[i], &frame)
        })
        .collect()
}

/// The document the deltas make from `base`, composed first so that no document in between
/// is built.
fn apply_all(id: SnapshotId, deltas: Vec<Delta>, base: &[u8]) -> Result<Vec<u8>> {
    match Delta::compose(deltas).map_err(|e| damaged(id, e))? {
        Some(delta) => delta.apply(base).map_err(|e| damaged(id, e)),
        None => Ok(base.to_vec()),
    }
}

/// Stores (or replaces) a snapshot's step: its whole document when `base` is None, else the
/// delta from `base`'s document.
pub(super) fn put_step(
    conn: &Connection,
    cache: &mut RawCache,
    id: SnapshotId,
    base: Option<(SnapshotId, &[u8])>,
    bytes: &[u8],
) -> Result<()> {
    let frame = match base {
        None => compress_document(bytes)?,
        Some(base) => compress_delta(&cache.delta(base, id, bytes))?,
    };
    insert_step(conn, id, base.map(|(base, _)| base), &frame)
}

/// Stores (or replaces) a snapshot's step frame made already.
fn insert_step(
    conn: &Connection,
    id: SnapshotId,
    base: Option<SnapshotId>,
    frame: &[u8],
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO snapshot_raw (snapshot_id, base_id, zstd) VALUES (?1, ?2, ?3)
         ON CONFLICT (snapshot_id) DO UPDATE SET base_id = excluded.base_id, zstd = excluded.zstd",
    )?
    .execute(params![id, base, frame])?;
    Ok(())
}

/// Builds the skips and keyframes at places from `from` on (1-based), after the steps there
/// changed: those of an import at the end, or all after a version that landed in between.
pub(super) fn rebuild_skips(conn: &Connection, registry: Registry, from: Seq) -> Result<()> {
    rebuild_skips_of(conn, &ids_by_place(conn, registry)?, from)
}

/// [`rebuild_skips`] for the history whose snapshots by place are `ids`.
pub(super) fn rebuild_skips_of(conn: &Connection, ids: &[SnapshotId], from: Seq) -> Result<()> {
    let first = usize::try_from(from.0 - 1).unwrap_or(0);
    let mut delete = conn.prepare_cached("DELETE FROM snapshot_raw_skip WHERE snapshot_id = ?1")?;
    for id in ids.get(first..).unwrap_or_default() {
        delete.execute([id])?;
    }
    let mut end = first.div_ceil(SKIP_SPAN).max(1) * SKIP_SPAN;
    while end < ids.len() {
        let (base, frame) = if end.is_multiple_of(KEYFRAME_SPAN) {
            let (_, document) = document_in(conn, &mut RawCache::default(), ids, end)?;
            (None, compress_document(&document)?)
        } else {
            let composed = Delta::compose(steps(conn, ids, end - SKIP_SPAN, end)?)
                .map_err(|e| damaged(ids[end], e))?
                .unwrap_or_default();
            (Some(ids[end - SKIP_SPAN]), compress_delta(&composed)?)
        };
        conn.prepare_cached(
            "INSERT INTO snapshot_raw_skip (snapshot_id, base_id, zstd) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![ids[end], base, frame])?;
        end += SKIP_SPAN;
    }
    Ok(())
}
