//! One fetch cycle: download the registry (politely, see [`http`]), refuse anything that is not
//! a complete and plausible registry, store it if it is new, and log the attempt.
//!
//! Nothing is written before the body has been validated; the snapshot itself is written in
//! the store's single import transaction, and the attempt is logged right after.

pub mod http;

use crate::input::decompress_if_gzip;
use crate::model::Change;
use crate::parse::{ParseError, parse_registry};
use crate::store::raw::sha256_hex;
use crate::store::{FetchAttempt, ImportOutcome, NewSnapshot, SnapshotRow, Store, StoreError};
use chrono::{DateTime, SecondsFormat, Utc};
use http::{Downloaded, HttpConfig, HttpError, RetryNotice, Validators};
use reqwest::blocking::Client;
use std::sync::atomic::AtomicBool;

/// Where IANA publishes the registry.
pub const IANA_URL: &str =
    "https://www.iana.org/assignments/service-names-port-numbers/service-names-port-numbers.xml";

/// A new document with fewer records than this share of the latest snapshot's is refused
/// (without `--force`): a registry does not lose a tenth of its records in one update.
pub const MIN_RECORD_SHARE: f64 = 0.9;

#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub url: String,
    pub http: HttpConfig,
    /// Store a document even if its record count collapsed.
    pub force: bool,
}

/// What a successful cycle did.
#[derive(Debug)]
pub enum Outcome {
    /// A new snapshot. `previous` is the snapshot just before it in history (None for the
    /// first one); `changes` go from `previous` to it. `latest` is false when the server sent
    /// a version dated before the latest stored one, which went into its place in history.
    Stored {
        snapshot: SnapshotRow,
        previous: Option<SnapshotRow>,
        changes: Vec<Change>,
        latest: bool,
    },
    /// 200 with exactly the latest snapshot's bytes.
    Unchanged { snapshot: SnapshotRow },
    /// 304.
    NotModified,
    /// 200 with the bytes of a stored snapshot older than the latest: a stale mirror or cache.
    Stale {
        snapshot: SnapshotRow,
        latest: SnapshotRow,
    },
}

impl Outcome {
    fn name(&self) -> &'static str {
        match self {
            Outcome::Stored { latest: true, .. } => "stored",
            Outcome::Stored { latest: false, .. } => "stored-older",
            Outcome::Unchanged { .. } => "unchanged",
            Outcome::NotModified => "not-modified",
            Outcome::Stale { .. } => "stale",
        }
    }

    fn snapshot_id(&self) -> Option<i64> {
        match self {
            Outcome::Stored { snapshot, .. }
            | Outcome::Unchanged { snapshot }
            | Outcome::Stale { snapshot, .. } => Some(snapshot.id),
            Outcome::NotModified => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: {error}")]
    Http { url: String, error: HttpError },
    #[error("{url}: refused: {error}")]
    Refused { url: String, error: ParseError },
    #[error("{url}: refused: cannot decompress: {reason}")]
    Undecodable { url: String, reason: String },
    #[error(
        "{url}: refused: {records} records where the latest snapshot has {latest} (below {share}%); use --force if the registry really shrank",
        share = (MIN_RECORD_SHARE * 100.0) as u32
    )]
    Collapsed {
        url: String,
        records: usize,
        latest: i64,
    },
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl FetchError {
    fn outcome(&self) -> &'static str {
        match self {
            FetchError::Refused { .. }
            | FetchError::Undecodable { .. }
            | FetchError::Collapsed { .. } => "refused",
            FetchError::Http { .. } | FetchError::Store(_) => "failed",
        }
    }
}

/// Runs one cycle and logs it in `fetch_attempt`, whatever happened.
pub fn fetch_once(
    store: &mut Store,
    client: &Client,
    options: &FetchOptions,
    cancel: &AtomicBool,
    on_retry: impl FnMut(RetryNotice),
) -> Result<Outcome, FetchError> {
    let started_at = Utc::now();
    let (etag, last_modified) = store.fetch_validators(&options.url)?;
    let validators = Validators {
        etag,
        last_modified,
    };
    let download = http::download(
        client,
        &options.url,
        &validators,
        &options.http,
        cancel,
        on_retry,
    );
    let mut attempt = FetchAttempt {
        started_at: timestamp(started_at),
        finished_at: String::new(),
        url: options.url.clone(),
        final_url: None,
        http_status: download.status,
        tries: download.tries,
        outcome: String::new(),
        message: None,
        snapshot_id: None,
        etag: None,
        last_modified: None,
        byte_size: None,
    };
    let result = match download.result {
        Err(error) => Err(FetchError::Http {
            url: options.url.clone(),
            error,
        }),
        Ok(Downloaded::NotModified) if validators.is_empty() => Err(FetchError::Http {
            url: options.url.clone(),
            error: HttpError::Network(
                "304 Not Modified to a request that was not conditional".into(),
            ),
        }),
        Ok(Downloaded::NotModified) => Ok(Outcome::NotModified),
        Ok(Downloaded::Body {
            bytes,
            validators,
            final_url,
        }) => {
            attempt.byte_size = Some(bytes.len() as i64);
            attempt.etag = validators.etag;
            attempt.last_modified = validators.last_modified;
            attempt.final_url = Some(final_url.clone());
            store_document(store, bytes, &final_url, options.force, started_at)
        }
    };
    attempt.finished_at = timestamp(Utc::now());
    match &result {
        Ok(outcome) => {
            attempt.outcome = outcome.name().to_string();
            attempt.snapshot_id = outcome.snapshot_id();
        }
        Err(error) => {
            attempt.outcome = error.outcome().to_string();
            attempt.message = Some(error.to_string());
            // A refused body must come again next time, not as a 304.
            attempt.etag = None;
            attempt.last_modified = None;
        }
    }
    store.record_fetch(&attempt)?;
    result
}

/// Validates a downloaded document (complete, one registry, its record count not collapsed
/// unless `force`) and stores it unless its bytes are already stored.
pub fn store_document(
    store: &mut Store,
    bytes: Vec<u8>,
    url: &str,
    force: bool,
    observed_at: DateTime<Utc>,
) -> Result<Outcome, FetchError> {
    // Some mirrors serve the .xml.gz bytes as they are.
    let bytes = decompress_if_gzip(bytes).map_err(|e| FetchError::Undecodable {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    let sha256 = sha256_hex(&bytes);
    if let Some(known) = store.snapshot_by_sha256(&sha256)? {
        return already_stored(store, known);
    }
    let registry = parse_registry(&bytes).map_err(|error| FetchError::Refused {
        url: url.to_string(),
        error,
    })?;
    if let Some(latest) = store.latest_snapshot()?
        && !force
        && (registry.records.len() as f64) < latest.records as f64 * MIN_RECORD_SHARE
    {
        return Err(FetchError::Collapsed {
            url: url.to_string(),
            records: registry.records.len(),
            latest: latest.records,
        });
    }
    let outcome = store.import(&NewSnapshot {
        bytes: &bytes,
        registry: &registry,
        source: url,
        observed_at,
        imported_at: Utc::now(),
        sha256: Some(&sha256),
        hashes: None,
    })?;
    let id = match outcome {
        ImportOutcome::Stored { id, .. } => id,
        // Another process stored the same bytes meanwhile (overlapping cron runs).
        ImportOutcome::AlreadyStored { id, .. } => {
            let known = store.resolve(&crate::store::SnapshotRef::Id(id))?;
            return already_stored(store, known);
        }
    };
    let snapshot = store.resolve(&crate::store::SnapshotRef::Id(id))?;
    let previous = store.snapshot_at_seq(snapshot.seq - 1)?;
    let changes = match &previous {
        Some(previous) => store.diff(previous.seq, snapshot.seq)?,
        None => Vec::new(),
    };
    let latest = store
        .latest_snapshot()?
        .is_some_and(|latest| latest.id == snapshot.id);
    Ok(Outcome::Stored {
        snapshot,
        previous,
        changes,
        latest,
    })
}

fn already_stored(store: &Store, known: SnapshotRow) -> Result<Outcome, FetchError> {
    let latest = store.latest_snapshot()?.ok_or(StoreError::Empty)?;
    Ok(if latest.id == known.id {
        Outcome::Unchanged { snapshot: known }
    } else {
        Outcome::Stale {
            snapshot: known,
            latest,
        }
    })
}

fn timestamp(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}
