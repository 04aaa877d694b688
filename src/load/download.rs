//! A downloaded document, from IANA or the Internet Archive: stored only if it is a complete,
//! plausible registry (see [`Refusal`]), and only if its bytes are not stored already.

use crate::input::decompress_if_gzip;
use crate::model::Change;
use crate::parse::{ParseError, parse_registry};
use crate::store::raw::sha256_hex;
use crate::store::{ImportOutcome, NewSnapshot, SnapshotRef, SnapshotRow, Store, StoreError};
use crate::time::Timestamp;

/// A new document with fewer records than this share of the latest snapshot's is refused
/// (without `--force`): a registry does not lose a tenth of its records in one update.
pub const MIN_RECORD_SHARE: f64 = 0.9;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn document(updated: &str, records: usize) -> Vec<u8> {
        let mut text = format!(
            r#"<registry xmlns="http://www.iana.org/assignments" id="service-names-port-numbers">
<updated>{updated}</updated>"#
        );
        for port in 0..records {
            text.push_str(&format!(
                "<record><name>s{port}</name><protocol>tcp</protocol><number>{port}</number></record>"
            ));
        }
        text.push_str("</registry>");
        text.into_bytes()
    }

    fn time(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    /// The times a download is stored with are the ones given (tests fix them; the command
    /// line gives the clock's).
    #[test]
    fn a_download_is_stored_at_the_times_given_and_only_once() {
        let mut store = Store::open_in_memory().unwrap();
        let (seen, now) = (time("2024-05-01T10:00:00Z"), time("2024-05-01T10:00:05Z"));
        let first = store_download(
            &mut store,
            document("2024-04-30", 20),
            "u",
            false,
            seen,
            now,
        );
        let Ok(DownloadOutcome::Stored {
            snapshot,
            previous,
            latest,
            ..
        }) = first
        else {
            panic!("{first:?}");
        };
        assert_eq!(snapshot.observed_at, seen);
        assert!(previous.is_none() && latest);
        let imported: Timestamp = store
            .connection()
            .query_row("SELECT imported_at FROM snapshot", [], |r| r.get(0))
            .unwrap();
        assert_eq!(imported, now);
        let again = store_download(&mut store, document("2024-04-30", 20), "u", false, now, now);
        assert!(
            matches!(&again, Ok(DownloadOutcome::AlreadyStored { snapshot, latest }) if snapshot.id == latest.id),
            "{again:?}"
        );
    }

    /// A body that lost most of its records is refused unless forced; one that is not a
    /// registry always is.
    #[test]
    fn collapsed_and_foreign_bodies_are_refused() {
        let mut store = Store::open_in_memory().unwrap();
        let now = time("2024-05-01T10:00:00Z");
        store_download(&mut store, document("2024-04-30", 20), "u", false, now, now).unwrap();
        let collapsed = store_download(&mut store, document("2024-05-01", 5), "u", false, now, now);
        assert!(
            matches!(
                collapsed,
                Err(DownloadError::Refused(Refusal::Collapsed {
                    records: 5,
                    latest: 20
                }))
            ),
            "{collapsed:?}"
        );
        let forced = store_download(&mut store, document("2024-05-01", 5), "u", true, now, now);
        assert!(
            matches!(forced, Ok(DownloadOutcome::Stored { .. })),
            "{forced:?}"
        );
        let html = store_download(
            &mut store,
            b"<html><body>503</body></html>".to_vec(),
            "u",
            false,
            now,
            now,
        );
        assert!(
            matches!(
                html,
                Err(DownloadError::Refused(Refusal::NotARegistry(
                    ParseError::Html
                )))
            ),
            "{html:?}"
        );
    }
}
