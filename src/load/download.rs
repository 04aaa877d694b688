//! A downloaded document, from IANA or the Internet Archive: stored only if it is a complete,
//! plausible registry (see [`Refusal`]), and only if its bytes are not stored already.

use crate::fetch::MIN_RECORD_SHARE;
use crate::input::decompress_if_gzip;
use crate::model::Change;
use crate::parse::{ParseError, parse_registry};
use crate::store::raw::sha256_hex;
use crate::store::{ImportOutcome, NewSnapshot, SnapshotRef, SnapshotRow, Store, StoreError};
use crate::time::Timestamp;

/// What became of a downloaded document.
#[derive(Debug)]
pub enum DownloadOutcome {
    /// A new snapshot. `previous` is the snapshot just before it in history (None for the
    /// first one); `changes` go from `previous` to it. `latest` is false when it went into
    /// its place in history before the latest snapshot.
    Stored {
        snapshot: SnapshotRow,
        previous: Option<SnapshotRow>,
        changes: Vec<Change>,
        latest: bool,
    },
    /// Its bytes were stored already, as `snapshot`; `latest` is the latest snapshot (the same
    /// one when nothing changed, a newer one when the copy was stale).
    AlreadyStored {
        snapshot: SnapshotRow,
        latest: SnapshotRow,
    },
}

/// Why a downloaded body is not stored.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("cannot decompress: {0}")]
    Undecodable(String),
    #[error("{0}")]
    NotARegistry(#[from] ParseError),
    #[error(
        "{records} records where the latest snapshot has {latest} (below {share}%); use --force if the registry really shrank",
        share = (MIN_RECORD_SHARE * 100.0) as u32
    )]
    Collapsed { records: usize, latest: i64 },
}

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("refused: {0}")]
    Refused(#[from] Refusal),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Validates a downloaded body (complete, one registry, its record count not collapsed below
/// [`MIN_RECORD_SHARE`] of the latest snapshot's unless `force`) and stores it unless its bytes
/// are stored already.
pub fn store_download(
    store: &mut Store,
    body: Vec<u8>,
    source: &str,
    force: bool,
    observed_at: Timestamp,
    now: Timestamp,
) -> Result<DownloadOutcome, DownloadError> {
    // Some mirrors serve the .xml.gz bytes as they are.
    let bytes = decompress_if_gzip(body).map_err(|e| Refusal::Undecodable(e.to_string()))?;
    let sha256 = sha256_hex(&bytes);
    if let Some(known) = store.snapshot_by_sha256(&sha256)? {
        return Ok(already_stored(store, known)?);
    }
    let registry = parse_registry(&bytes).map_err(Refusal::NotARegistry)?;
    if let Some(latest) = store.latest_snapshot()?
        && !force
        && (registry.records.len() as f64) < latest.records as f64 * MIN_RECORD_SHARE
    {
        return Err(Refusal::Collapsed {
            records: registry.records.len(),
            latest: latest.records,
        }
        .into());
    }
    let imported = store.import(&NewSnapshot {
        bytes: &bytes,
        sha256: &sha256,
        registry: &registry,
        source,
        observed_at,
        imported_at: now,
    })?;
    let id = match imported {
        ImportOutcome::Stored { id, .. } => id,
        // Another process stored the same bytes meanwhile (overlapping cron runs).
        ImportOutcome::AlreadyStored { id, .. } => {
            let known = store.resolve(&SnapshotRef::Id(id))?;
            return Ok(already_stored(store, known)?);
        }
    };
    let snapshot = store.resolve(&SnapshotRef::Id(id))?;
    let previous = store.snapshot_at_seq(snapshot.seq.before())?;
    let changes = match &previous {
        Some(previous) => store.diff(previous.seq, snapshot.seq)?,
        None => Vec::new(),
    };
    let latest = store
        .latest_snapshot()?
        .is_some_and(|latest| latest.id == snapshot.id);
    Ok(DownloadOutcome::Stored {
        snapshot,
        previous,
        changes,
        latest,
    })
}

fn already_stored(store: &Store, snapshot: SnapshotRow) -> Result<DownloadOutcome, StoreError> {
    let latest = store.latest_snapshot()?.ok_or(StoreError::Empty)?;
    Ok(DownloadOutcome::AlreadyStored { snapshot, latest })
}
