//! The raw bytes as schema 5 and before kept them, read once to upgrade a database: a zstd
//! frame per snapshot, standalone for the oldest and otherwise compressed with the bytes of
//! the snapshot before it as a referenced prefix ("patch-from").

use super::{Delta, compress_delta, rebuild_skips_of, sha256_hex};
use crate::store::{Seq, SnapshotId};
use rusqlite::{Transaction, params};
use rusqlite_migration::{HookError, HookResult};
use zstd::zstd_safe::{DCtx, DParameter};

/// The window the old frames were made with at most (2^27 = 128 MiB).
const WINDOW_LOG: u32 = 27;

/// One old frame, decompressed against `base` when it has one.
fn decompress(frame: &[u8], base: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let error = |code| zstd::zstd_safe::get_error_name(code).to_string();
    let size = match zstd::zstd_safe::get_frame_content_size(frame) {
        Ok(Some(size)) if size <= crate::input::MAX_DOCUMENT_BYTES => size as usize,
        _ => return Err("not a zstd frame of a plausible size".into()),
    };
    let mut dctx = DCtx::create();
    dctx.set_parameter(DParameter::WindowLogMax(WINDOW_LOG))
        .map_err(error)?;
    if let Some(base) = base {
        dctx.ref_prefix(base).map_err(error)?;
    }
    let mut out = Vec::with_capacity(size);
    dctx.decompress(&mut out, frame).map_err(error)?;
    Ok(out)
}

/// Rewrites every snapshot's raw bytes from patch-from frames to steps (the oldest keeps its
/// standalone frame, which is already a whole document), checking each document's sha256,
/// then builds the skips: the migration to schema 6.
pub fn upgrade_to_line_deltas(tx: &Transaction) -> HookResult {
    let snapshots: Vec<(SnapshotId, String)> = tx
        .prepare("SELECT id, sha256 FROM snapshot ORDER BY seq")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut previous: Option<(SnapshotId, Vec<u8>)> = None;
    for (id, sha256) in &snapshots {
        let (id, sha256) = (*id, sha256.clone());
        let fail = |reason: String| HookError::Hook(format!("snapshot {id}: {reason}"));
        let (base, frame): (Option<SnapshotId>, Vec<u8>) = tx.query_row(
            "SELECT base_id, zstd FROM snapshot_raw WHERE snapshot_id = ?1",
            [id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        let base_bytes = match (base, &previous) {
            (None, _) => None,
            (Some(base), Some((previous_id, bytes))) if base == *previous_id => {
                Some(bytes.as_slice())
            }
            _ => {
                return Err(fail(
                    "its raw bytes are not against the snapshot before it".into(),
                ));
            }
        };
        let document = decompress(&frame, base_bytes).map_err(fail)?;
        if sha256_hex(&document) != sha256 {
            return Err(fail("its raw bytes do not give back its sha256".into()));
        }
        if let Some((previous_id, previous_bytes)) = &previous {
            let step = compress_delta(&Delta::between(previous_bytes, &document))
                .map_err(|e| fail(e.to_string()))?;
            tx.execute(
                "UPDATE snapshot_raw SET base_id = ?2, zstd = ?3 WHERE snapshot_id = ?1",
                params![id, previous_id, step],
            )?;
        }
        previous = Some((id, document));
    }
    let ids: Vec<SnapshotId> = snapshots.iter().map(|(id, _)| *id).collect();
    rebuild_skips_of(tx, &ids, Seq::FIRST).map_err(|e| HookError::Hook(e.to_string()))
}
