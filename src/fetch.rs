//! One fetch cycle of one registry: download it (politely, see [`crate::http`]), store it if it
//! is a new, complete and plausible version (see [`crate::load::download`]), and log the
//! attempt.
//!
//! Nothing is written before the body has been validated; the snapshot itself is written in
//! the store's single import transaction, and the attempt is logged right after.

use crate::http::{self, Downloaded, HttpConfig, HttpError, RetryNotice, Validators};
use crate::load::download::{DownloadError, Refusal, store_download};
use crate::model::Record;
use crate::store::{FetchAttempt, FetchOutcome, Store, StoreError, Stored};
use crate::time::Timestamp;
use reqwest::blocking::Client;
use std::sync::atomic::AtomicBool;

#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Where the registry is downloaded from (its [`crate::model::Registry::url`] unless
    /// told otherwise).
    pub url: String,
    pub http: HttpConfig,
    /// Store a document even if its record count collapsed.
    pub force: bool,
}

/// What a successful cycle did.
#[derive(Debug)]
pub enum Fetched {
    /// 304 Not Modified.
    NotModified,
    /// A body, and what storing it did: a new snapshot, the latest one again (unchanged), or
    /// an older stored one (a stale copy, from a mirror or cache that is behind).
    Body(Stored),
}

impl Fetched {
    /// What the fetch log says of it.
    pub fn logged_as(&self) -> FetchOutcome {
        match self {
            Fetched::NotModified => FetchOutcome::NotModified,
            Fetched::Body(stored) => FetchOutcome::from(stored),
        }
    }

    /// The new snapshot it stored, if it stored one.
    pub fn stored_new(&self) -> Option<&Stored> {
        match self {
            Fetched::Body(stored) if stored.is_new() => Some(stored),
            _ => None,
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

/// Runs one cycle for `R`'s registry and logs it in `fetch_attempt`, whatever happened.
/// `clock` says when it started and ended (the system clock, but for tests).
pub fn fetch_once<R: Record>(
    store: &mut Store,
    client: &Client,
    options: &FetchOptions,
    cancel: &AtomicBool,
    on_retry: impl FnMut(RetryNotice),
    clock: impl Fn() -> Timestamp,
) -> Result<Fetched, FetchError> {
    let started_at = clock();
    let (etag, last_modified) = store.fetch_validators(R::REGISTRY, &options.url)?;
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
        registry: R::REGISTRY,
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
        Ok(Downloaded::NotModified) => Ok(Fetched::NotModified),
        Ok(Downloaded::Body {
            bytes,
            validators,
            final_url,
        }) => {
            attempt.byte_size = Some(bytes.len() as i64);
            attempt.etag = validators.etag;
            attempt.last_modified = validators.last_modified;
            attempt.final_url = Some(final_url.clone());
            store_download::<R>(store, bytes, &final_url, options.force, started_at, clock())
                .map(Fetched::Body)
                .map_err(|error| FetchError::of_download(&final_url, error))
        }
    };
    attempt.finished_at = clock();
    match &result {
        Ok(fetched) => {
            attempt.outcome = fetched.logged_as();
            if let Fetched::Body(stored) = fetched {
                attempt.snapshot_id = Some(stored.snapshot().id);
            }
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
