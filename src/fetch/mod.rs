//! One fetch cycle: download the registry (politely, see [`http`]), store it if it is a new,
//! complete and plausible version (see [`crate::load::download`]), and log the attempt.
//!
//! Nothing is written before the body has been validated; the snapshot itself is written in
//! the store's single import transaction, and the attempt is logged right after.

pub mod http;

use crate::load::download::{DownloadError, DownloadOutcome, Refusal, store_download};
use crate::model::Change;
use crate::store::{FetchAttempt, FetchOutcome, SnapshotId, SnapshotRow, Store, StoreError};
use crate::time::Timestamp;
use http::{Downloaded, HttpConfig, HttpError, RetryNotice, Validators};
use reqwest::blocking::Client;
use std::sync::atomic::AtomicBool;

/// Where IANA publishes the registry.
pub const IANA_URL: &str =
    "https://www.iana.org/assignments/service-names-port-numbers/service-names-port-numbers.xml";

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

impl From<DownloadOutcome> for Outcome {
    fn from(outcome: DownloadOutcome) -> Outcome {
        match outcome {
            DownloadOutcome::Stored {
                snapshot,
                previous,
                changes,
                latest,
            } => Outcome::Stored {
                snapshot,
                previous,
                changes,
                latest,
            },
            DownloadOutcome::AlreadyStored { snapshot, latest } if snapshot.id == latest.id => {
                Outcome::Unchanged { snapshot }
            }
            DownloadOutcome::AlreadyStored { snapshot, latest } => {
                Outcome::Stale { snapshot, latest }
            }
        }
    }
}

impl Outcome {
    /// What the fetch log says of it.
    pub fn logged_as(&self) -> FetchOutcome {
        match self {
            Outcome::Stored { latest: true, .. } => FetchOutcome::Stored,
            Outcome::Stored { latest: false, .. } => FetchOutcome::StoredOlder,
            Outcome::Unchanged { .. } => FetchOutcome::Unchanged,
            Outcome::NotModified => FetchOutcome::NotModified,
            Outcome::Stale { .. } => FetchOutcome::Stale,
        }
    }

    fn snapshot_id(&self) -> Option<SnapshotId> {
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
    #[error("{url}: refused: {refusal}")]
    Refused { url: String, refusal: Refusal },
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl FetchError {
    /// What the fetch log says of it.
    pub fn logged_as(&self) -> FetchOutcome {
        match self {
            FetchError::Refused { .. } => FetchOutcome::Refused,
            FetchError::Http { .. } | FetchError::Store(_) => FetchOutcome::Failed,
        }
    }

    fn of_download(url: &str, error: DownloadError) -> FetchError {
        match error {
            DownloadError::Refused(refusal) => FetchError::Refused {
                url: url.to_string(),
                refusal,
            },
            DownloadError::Store(error) => FetchError::Store(error),
        }
    }
}

/// Runs one cycle and logs it in `fetch_attempt`, whatever happened. `clock` says when it
/// started and ended (the system clock, but for tests).
pub fn fetch_once(
    store: &mut Store,
    client: &Client,
    options: &FetchOptions,
    cancel: &AtomicBool,
    on_retry: impl FnMut(RetryNotice),
    clock: impl Fn() -> Timestamp,
) -> Result<Outcome, FetchError> {
    let started_at = clock();
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
        started_at,
        finished_at: started_at,
        url: options.url.clone(),
        final_url: None,
        http_status: download.status,
        tries: download.tries,
        outcome: FetchOutcome::Failed,
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
            store_download(store, bytes, &final_url, options.force, started_at, clock())
                .map(Outcome::from)
                .map_err(|error| FetchError::of_download(&final_url, error))
        }
    };
    attempt.finished_at = clock();
    match &result {
        Ok(outcome) => {
            attempt.outcome = outcome.logged_as();
            attempt.snapshot_id = outcome.snapshot_id();
        }
        Err(error) => {
            attempt.outcome = error.logged_as();
            attempt.message = Some(error.to_string());
            // A refused body must come again next time, not as a 304.
            attempt.etag = None;
            attempt.last_modified = None;
        }
    }
    store.record_fetch(&attempt)?;
    result
}
