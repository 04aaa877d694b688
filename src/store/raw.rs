//! The raw bytes of every snapshot, compact.
//!
//! The oldest snapshot is one standalone zstd frame (about 465 KB for a 3.8 MB document); every
//! other one is a zstd frame compressed with the previous snapshot's bytes as a referenced
//! prefix ("patch-from"), which makes a real weekly change about 0.5-1 KB. That is the same
//! trade git makes with its delta chains: reading snapshot k decompresses the chain from the
//! oldest, a millisecond or two per step, and a batch import keeps the last document in memory
//! so it never walks the chain.

use super::{Result, SnapshotId, Store, StoreError};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use zstd::zstd_safe::{self, CCtx, CParameter, DCtx, DParameter};

/// Level for both kinds of frame: fast enough for a 50 ms import, and patch-from frames gain
/// almost nothing from higher levels.
const LEVEL: i32 = 3;
/// 2^27 = 128 MiB window: covers prefix plus document for the largest accepted document.
const WINDOW_LOG: u32 = 27;

fn zstd_error(code: usize) -> StoreError {
    StoreError::Compression(zstd_safe::get_error_name(code).to_string())
}

/// Compresses `bytes`, against `base` when given.
pub fn compress(bytes: &[u8], base: Option<&[u8]>) -> Result<Vec<u8>> {
    let mut cctx = CCtx::create();
    cctx.set_parameter(CParameter::CompressionLevel(LEVEL))
        .map_err(zstd_error)?;
    cctx.set_parameter(CParameter::ContentSizeFlag(true))
        .map_err(zstd_error)?;
    cctx.set_parameter(CParameter::ChecksumFlag(true))
        .map_err(zstd_error)?;
    if let Some(base) = base {
        // Just large enough for prefix plus document: the long-distance matcher's tables
        // grow with the window (8 MB at the maximum, 1 MB for the real registry).
        let needed = (base.len() + bytes.len()).max(1 << 20) as u64;
        let window_log = (64 - (needed - 1).leading_zeros()).clamp(20, WINDOW_LOG);
        cctx.set_parameter(CParameter::WindowLog(window_log))
            .map_err(zstd_error)?;
        cctx.set_parameter(CParameter::EnableLongDistanceMatching(true))
            .map_err(zstd_error)?;
        cctx.ref_prefix(base).map_err(zstd_error)?;
    }
    let mut out = Vec::with_capacity(zstd_safe::compress_bound(bytes.len()));
    cctx.compress2(&mut out, bytes).map_err(zstd_error)?;
    Ok(out)
}

/// Decompresses one frame made by [`compress`] with the same `base`.
pub fn decompress(frame: &[u8], base: Option<&[u8]>) -> std::result::Result<Vec<u8>, String> {
    let size = match zstd_safe::get_frame_content_size(frame) {
        Ok(Some(size)) if size <= crate::input::MAX_DOCUMENT_BYTES => size as usize,
        Ok(_) => return Err("frame has no plausible content size".into()),
        Err(_) => return Err("not a zstd frame".into()),
    };
    let mut dctx = DCtx::create();
    dctx.set_parameter(DParameter::WindowLogMax(WINDOW_LOG))
        .map_err(|c| zstd_safe::get_error_name(c).to_string())?;
    if let Some(base) = base {
        dctx.ref_prefix(base)
            .map_err(|c| zstd_safe::get_error_name(c).to_string())?;
    }
    let mut out = Vec::with_capacity(size);
    dctx.decompress(&mut out, frame)
        .map_err(|c| zstd_safe::get_error_name(c).to_string())?;
    if out.len() != size {
        return Err(format!("{} bytes instead of {size}", out.len()));
    }
    Ok(out)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The bytes of the snapshot read or imported last, so an in-order batch never walks the chain.
pub(super) type RawCache = Option<(SnapshotId, Arc<Vec<u8>>)>;

impl Store {
    /// The exact bytes of a snapshot, checked against its stored sha256.
    pub fn raw_bytes(&mut self, snapshot_id: SnapshotId) -> Result<Arc<Vec<u8>>> {
        let bytes = chain_bytes(&self.conn, &mut self.raw_cache, snapshot_id)?;
        let expected: String = self.conn.query_row(
            "SELECT sha256 FROM snapshot WHERE id = ?1",
            [snapshot_id],
            |row| row.get(0),
        )?;
        if sha256_hex(&bytes) != expected {
            return Err(StoreError::DamagedRaw {
                id: snapshot_id,
                reason: "sha256 differs from the stored one".into(),
            });
        }
        Ok(bytes)
    }

    /// Total bytes of stored raw frames.
    pub fn raw_size(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            "SELECT ifnull(sum(length(zstd)), 0) FROM snapshot_raw",
            [],
            |row| row.get(0),
        )?)
    }
}

/// A snapshot's bytes: walks the delta chain back to the cached or a standalone frame, then
/// decompresses forward.
pub(super) fn chain_bytes(
    conn: &Connection,
    cache: &mut RawCache,
    snapshot_id: SnapshotId,
) -> Result<Arc<Vec<u8>>> {
    if let Some((id, bytes)) = cache
        && *id == snapshot_id
    {
        return Ok(bytes.clone());
    }
    let cached_id = cache.as_ref().map(|(id, _)| *id);
    let mut chain: Vec<(SnapshotId, Vec<u8>)> = Vec::new();
    let mut start: Option<Arc<Vec<u8>>> = None;
    let mut next = Some(snapshot_id);
    let mut frames =
        conn.prepare_cached("SELECT base_id, zstd FROM snapshot_raw WHERE snapshot_id = ?1")?;
    while let Some(id) = next {
        if Some(id) == cached_id {
            start = cache.as_ref().map(|(_, b)| b.clone());
            break;
        }
        if chain.iter().any(|(seen, _)| *seen == id) {
            return Err(StoreError::DamagedRaw {
                id: snapshot_id,
                reason: "the delta chain loops".into(),
            });
        }
        let (base, frame): (Option<SnapshotId>, Vec<u8>) = frames
            .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?
            .ok_or_else(|| StoreError::DamagedRaw {
                id,
                reason: "no stored bytes".into(),
            })?;
        chain.push((id, frame));
        next = base;
    }
    let mut current = start;
    for (id, frame) in chain.into_iter().rev() {
        let bytes = decompress(&frame, current.as_deref().map(Vec::as_slice))
            .map_err(|reason| StoreError::DamagedRaw { id, reason })?;
        current = Some(Arc::new(bytes));
    }
    let bytes = current.ok_or(StoreError::DamagedRaw {
        id: snapshot_id,
        reason: "empty delta chain".into(),
    })?;
    *cache = Some((snapshot_id, bytes.clone()));
    Ok(bytes)
}

/// Stores (or replaces) a snapshot's frame, compressed against `base` when given.
pub(super) fn put_frame(
    conn: &Connection,
    snapshot_id: SnapshotId,
    base: Option<(SnapshotId, &[u8])>,
    bytes: &[u8],
) -> Result<()> {
    let frame = compress(bytes, base.map(|(_, b)| b))?;
    insert_frame(conn, snapshot_id, base.map(|(id, _)| id), &frame)
}

/// Stores (or replaces) a snapshot's frame made by [`compress`] against `base_id`'s bytes.
pub(super) fn insert_frame(
    conn: &Connection,
    snapshot_id: SnapshotId,
    base_id: Option<SnapshotId>,
    frame: &[u8],
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO snapshot_raw (snapshot_id, base_id, zstd) VALUES (?1, ?2, ?3)
         ON CONFLICT (snapshot_id) DO UPDATE SET base_id = excluded.base_id, zstd = excluded.zstd",
    )?
    .execute(params![snapshot_id, base_id, frame])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_from_round_trips_and_is_small() {
        let base: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let mut next = base.clone();
        next[1234] ^= 0xff;
        next.extend_from_slice(b"tail");
        let standalone = compress(&base, None).unwrap();
        assert_eq!(decompress(&standalone, None).unwrap(), base);
        let delta = compress(&next, Some(&base)).unwrap();
        assert!(delta.len() < 200, "delta is {} bytes", delta.len());
        assert_eq!(decompress(&delta, Some(&base)).unwrap(), next);
        assert!(
            decompress(&delta, Some(&next)).is_err()
                || decompress(&delta, Some(&next)).unwrap() != next
        );
        assert!(decompress(b"garbage", None).is_err());
    }
}
