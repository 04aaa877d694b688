//! A downloaded document, from IANA or the Internet Archive: stored only if it is a complete,
//! plausible registry (see [`Refusal`]), and only if its bytes are not stored already.

use crate::input::decompress_if_gzip;
use crate::model::Record;
use crate::parse::{ParseError, parse_document};
use crate::store::raw::sha256_hex;
use crate::store::{NewSnapshot, Store, StoreError, Stored};
use crate::time::Timestamp;

/// A new document with fewer records than this share of the latest snapshot's is refused
/// (without `--force`): a registry does not lose a tenth of its records in one update.
pub const MIN_RECORD_SHARE: f64 = 0.9;

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

/// Validates a downloaded body (complete, a document of `R`'s registry, its record count not
/// collapsed below [`MIN_RECORD_SHARE`] of the latest snapshot's unless `force`) and stores it
/// unless its bytes are stored already.
pub fn store_download<R: Record>(
    store: &mut Store,
    body: Vec<u8>,
    source: &str,
    force: bool,
    observed_at: Timestamp,
    now: Timestamp,
) -> Result<Stored, DownloadError> {
    // Some mirrors serve the .xml.gz bytes as they are.
    let bytes = decompress_if_gzip(body).map_err(|e| Refusal::Undecodable(e.to_string()))?;
    let sha256 = sha256_hex(&bytes);
    if let Some(snapshot) = store.snapshot_by_sha256(&sha256)? {
        // The bytes of another registry, stored as its own: still not this registry's.
        if snapshot.registry != R::REGISTRY {
            return Err(Refusal::NotARegistry(ParseError::WrongRegistry {
                id: snapshot.registry.root_id().to_string(),
                expected: R::REGISTRY,
            })
            .into());
        }
        let placement = store.placement_of(&snapshot)?;
        return Ok(Stored::Known {
            snapshot,
            placement,
        });
    }
    let document = parse_document::<R>(&bytes).map_err(Refusal::NotARegistry)?;
    if let Some(latest) = store.latest_snapshot(R::REGISTRY)?
        && !force
        && (document.records.len() as f64) < latest.records as f64 * MIN_RECORD_SHARE
    {
        return Err(Refusal::Collapsed {
            records: document.records.len(),
            latest: latest.records,
        }
        .into());
    }
    // Another process may store the same bytes meanwhile (overlapping cron runs): then this
    // is a known snapshot too.
    Ok(store.import(&NewSnapshot {
        bytes: &bytes,
        sha256: &sha256,
        document: &document,
        source,
        observed_at,
        imported_at: now,
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServiceRecord;
    use crate::store::Placement;

    fn store_download(
        store: &mut Store,
        body: Vec<u8>,
        source: &str,
        force: bool,
        observed_at: Timestamp,
        now: Timestamp,
    ) -> Result<Stored, DownloadError> {
        super::store_download::<ServiceRecord>(store, body, source, force, observed_at, now)
    }

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
        let Ok(Stored::New {
            snapshot,
            placement: Placement::Latest,
        }) = first
        else {
            panic!("{first:?}");
        };
        assert_eq!(snapshot.observed_at, seen);
        let imported: Timestamp = store
            .connection()
            .query_row("SELECT imported_at FROM snapshot", [], |r| r.get(0))
            .unwrap();
        assert_eq!(imported, now);
        let again = store_download(&mut store, document("2024-04-30", 20), "u", false, now, now);
        assert!(
            matches!(&again, Ok(Stored::Known { snapshot: known, placement: Placement::Latest }) if known.id == snapshot.id),
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
        assert!(matches!(forced, Ok(Stored::New { .. })), "{forced:?}");
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
