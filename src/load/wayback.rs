//! The Internet Archive as a source of old versions: its CDX index lists the captures of the
//! registry URL; each capture's raw bytes come from the `id_` form of its Wayback URL.
//!
//! [`backfill`] downloads every capture not checked before, one at a time with a delay, and
//! stores it as a download is stored (see [`super::download`]). Every capture checked is
//! remembered by its digest (`wayback_capture`), so a second run downloads nothing it has
//! seen; a capture whose download or storing failed is not remembered, and is tried again.

use super::download::{DownloadError, Refusal, store_download};
use crate::http::{self, Downloaded, HttpConfig, HttpError, Validators};
use crate::model::Record;
use crate::store::{CaptureCheck, CaptureOutcome, Store, StoreError, Stored};
use crate::time::Timestamp;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use reqwest::blocking::Client;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// Where the Wayback Machine answers (CDX index at `/cdx/search/cdx`, captures at `/web/`).
pub const WAYBACK_URL: &str = "https://web.archive.org";

/// One capture of the registry URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// YYYYMMDDhhmmss, UTC.
    pub timestamp: String,
    /// The URL that was captured.
    pub original: String,
    /// The archive's digest of the content (base32 SHA-1): equal digests, equal bytes.
    pub digest: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CdxError {
    #[error("the CDX answer is not JSON: {0}")]
    NotJson(String),
    #[error("the CDX answer has no {0} column")]
    MissingColumn(&'static str),
    #[error("cannot build a URL from {0:?}")]
    BadUrl(String),
}

/// The CDX query for the captures of `registry_url` with status 200, one per distinct digest,
/// optionally between two days.
pub fn cdx_query(
    wayback: &str,
    registry_url: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<String, CdxError> {
    let base = format!("{}/cdx/search/cdx", wayback.trim_end_matches('/'));
    let mut url = reqwest::Url::parse(&base).map_err(|_| CdxError::BadUrl(base.clone()))?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("url", registry_url)
            .append_pair("output", "json")
            .append_pair("filter", "statuscode:200")
            .append_pair("collapse", "digest");
        if let Some(from) = from {
            query.append_pair("from", &from.format("%Y%m%d").to_string());
        }
        if let Some(to) = to {
            query.append_pair("to", &to.format("%Y%m%d235959").to_string());
        }
    }
    Ok(url.to_string())
}

/// The captures in a CDX JSON answer (an array of rows, the first one naming the columns),
/// oldest first, without rows that are not plausible captures.
pub fn parse_cdx(json: &[u8]) -> Result<Vec<Capture>, CdxError> {
    if json.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new()); // the CDX server answers nothing at all when nothing matches
    }
    let rows: Vec<Vec<String>> =
        serde_json::from_slice(json).map_err(|e| CdxError::NotJson(e.to_string()))?;
    let Some((header, rows)) = rows.split_first() else {
        return Ok(Vec::new());
    };
    let column = |name: &'static str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or(CdxError::MissingColumn(name))
    };
    let (timestamp, original, digest) =
        (column("timestamp")?, column("original")?, column("digest")?);
    let status = header.iter().position(|h| h == "statuscode");
    let mut captures: Vec<Capture> = rows
        .iter()
        .filter(|row| status.is_none_or(|s| row.get(s).is_some_and(|v| v == "200")))
        .filter_map(|row| {
            let capture = Capture {
                timestamp: row.get(timestamp)?.clone(),
                original: row.get(original)?.clone(),
                digest: row.get(digest)?.clone(),
            };
            capture_time(&capture.timestamp)?;
            (!capture.digest.is_empty()).then_some(capture)
        })
        .collect();
    captures.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
    captures.dedup_by(|a, b| a.digest == b.digest);
    Ok(captures)
}

/// What a backfill asks of the archive.
#[derive(Debug, Clone)]
pub struct BackfillOptions {
    /// The archive's address (CDX index and captures).
    pub wayback_url: String,
    /// The address whose captures are wanted: the registry's.
    pub registry_url: String,
    /// Only captures made on or after this day.
    pub from: Option<NaiveDate>,
    /// Only captures made on or before this day.
    pub to: Option<NaiveDate>,
    /// The wait between two downloads, to be polite to the archive.
    pub delay: Duration,
    /// Store a capture even if its record count collapsed.
    pub force: bool,
    pub http: HttpConfig,
}

/// Why a capture was not stored.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// Not a complete, plausible registry (an HTML error page, a truncated capture...):
    /// remembered, and not downloaded again.
    #[error("refused: {0}")]
    Refused(Refusal),
    /// The download failed: tried again next time.
    #[error("{0}")]
    Download(HttpError),
    /// The store failed: tried again next time.
    #[error("cannot store: {0}")]
    Store(StoreError),
}

/// What a backfill reports as it goes.
#[derive(Debug)]
pub enum BackfillEvent<'a> {
    /// The archive's list of captures is in.
    Listed {
        captures: usize,
        checked_before: usize,
        to_download: usize,
    },
    /// A capture was downloaded from `url` and checked.
    Checked {
        capture: &'a Capture,
        url: &'a str,
        result: &'a Result<Stored, CaptureError>,
    },
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BackfillCounts {
    pub stored: usize,
    pub already_stored: usize,
    pub refused: usize,
    pub failed: usize,
    pub checked_before: usize,
}

impl BackfillCounts {
    fn count(&mut self, result: &Result<Stored, CaptureError>) {
        match result {
            Ok(Stored::New { .. }) => self.stored += 1,
            Ok(Stored::Known { .. }) => self.already_stored += 1,
            Err(CaptureError::Refused(_)) => self.refused += 1,
            Err(CaptureError::Download(_) | CaptureError::Store(_)) => self.failed += 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error("{0}")]
    Cdx(#[from] CdxError),
    #[error("cannot list the captures: {query}: {error}")]
    Listing { query: String, error: HttpError },
    #[error("{query}: unusable answer: {error}")]
    UnusableListing { query: String, error: CdxError },
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The caller's report of a capture failed (its output was closed, say).
    #[error("cannot report progress")]
    Report(#[source] std::io::Error),
}

/// Downloads and stores every capture of `R`'s registry in the archive that no earlier run
/// checked, calling `report` as it goes. `clock` gives the time a capture is checked.
pub fn backfill<R: Record>(
    store: &mut Store,
    client: &Client,
    options: &BackfillOptions,
    clock: impl Fn() -> Timestamp,
    mut report: impl FnMut(BackfillEvent) -> std::io::Result<()>,
) -> Result<BackfillCounts, BackfillError> {
    let captures = list_captures(client, options)?;
    let mut counts = BackfillCounts::default();
    let mut to_download: Vec<&Capture> = Vec::new();
    for capture in &captures {
        if store.wayback_checked(&capture.digest)? {
            counts.checked_before += 1;
        } else {
            to_download.push(capture);
        }
    }
    report(BackfillEvent::Listed {
        captures: captures.len(),
        checked_before: counts.checked_before,
        to_download: to_download.len(),
    })
    .map_err(BackfillError::Report)?;
    let never = AtomicBool::new(false);
    for (n, capture) in to_download.into_iter().enumerate() {
        if n > 0 {
            http::sleep_unless_cancelled(options.delay, &never);
        }
        let url = capture_url(&options.wayback_url, capture);
        let result = check_capture::<R>(store, client, options, capture, &url, &clock);
        counts.count(&result);
        if let Some(check) = remembered(capture, &url, &result, clock()) {
            store.record_wayback(&check)?;
        }
        report(BackfillEvent::Checked {
            capture,
            url: &url,
            result: &result,
        })
        .map_err(BackfillError::Report)?;
    }
    Ok(counts)
}

/// One request at a time, unconditional, never cancelled, no progress of its own.
fn get(client: &Client, url: &str, config: &HttpConfig) -> Result<Vec<u8>, HttpError> {
    let never = AtomicBool::new(false);
    let download = http::download(client, url, &Validators::default(), config, &never, |_| {});
    match download.result? {
        Downloaded::Body { bytes, .. } => Ok(bytes),
        // `http::download` refuses a 304 to a request without validators, as this one is.
        Downloaded::NotModified => Err(HttpError::UnaskedNotModified),
    }
}

/// The archive's captures of the registry, oldest first.
fn list_captures(
    client: &Client,
    options: &BackfillOptions,
) -> Result<Vec<Capture>, BackfillError> {
    let query = cdx_query(
        &options.wayback_url,
        &options.registry_url,
        options.from,
        options.to,
    )?;
    match get(client, &query, &options.http) {
        Ok(bytes) => parse_cdx(&bytes).map_err(|error| BackfillError::UnusableListing {
            query: query.clone(),
            error,
        }),
        Err(error) => Err(BackfillError::Listing { query, error }),
    }
}

/// Downloads a capture from `url` and stores it as a download of `R`'s registry is stored.
fn check_capture<R: Record>(
    store: &mut Store,
    client: &Client,
    options: &BackfillOptions,
    capture: &Capture,
    url: &str,
    clock: &impl Fn() -> Timestamp,
) -> Result<Stored, CaptureError> {
    let bytes = get(client, url, &options.http).map_err(CaptureError::Download)?;
    let observed_at = capture_time(&capture.timestamp)
        .map(Timestamp::from)
        .unwrap_or_else(clock);
    store_download::<R>(store, bytes, url, options.force, observed_at, clock()).map_err(|error| {
        match error {
            DownloadError::Refused(refusal) => CaptureError::Refused(refusal),
            DownloadError::Store(error) => CaptureError::Store(error),
        }
    })
}

/// What the database remembers of a checked capture: nothing when it is to be tried again.
fn remembered<'a>(
    capture: &'a Capture,
    url: &'a str,
    result: &Result<Stored, CaptureError>,
    checked_at: Timestamp,
) -> Option<CaptureCheck<'a>> {
    let (outcome, message, snapshot_id) = match result {
        Ok(stored) => (
            CaptureOutcome::from(stored),
            None,
            Some(stored.snapshot().id),
        ),
        Err(CaptureError::Refused(refusal)) => (
            CaptureOutcome::Refused,
            Some(format!("{url}: refused: {refusal}")),
            None,
        ),
        Err(CaptureError::Download(_) | CaptureError::Store(_)) => return None,
    };
    Some(CaptureCheck {
        digest: &capture.digest,
        timestamp: &capture.timestamp,
        url,
        outcome,
        message,
        snapshot_id,
        checked_at,
    })
}

/// The capture's raw bytes, without the archive's rewriting (`id_`).
pub fn capture_url(wayback: &str, capture: &Capture) -> String {
    format!(
        "{}/web/{}id_/{}",
        wayback.trim_end_matches('/'),
        capture.timestamp,
        capture.original
    )
}

/// When a capture was made.
pub fn capture_time(timestamp: &str) -> Option<DateTime<Utc>> {
    if timestamp.len() != 14 {
        return None;
    }
    NaiveDateTime::parse_from_str(timestamp, "%Y%m%d%H%M%S")
        .ok()
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdx_rows_become_captures_oldest_first_one_per_digest() {
        let json =
            br#"[["urlkey","timestamp","original","mimetype","statuscode","digest","length"],
            ["org,iana)/x","20210921000000","https://www.iana.org/x","text/xml","200","BBB","1"],
            ["org,iana)/x","20170310000000","https://www.iana.org/x","text/xml","200","AAA","1"],
            ["org,iana)/x","20180101000000","https://www.iana.org/x","text/html","404","CCC","1"],
            ["org,iana)/x","2019","https://www.iana.org/x","text/xml","200","DDD","1"]]"#;
        let captures = parse_cdx(json).unwrap();
        let stamps: Vec<&str> = captures.iter().map(|c| c.timestamp.as_str()).collect();
        assert_eq!(stamps, ["20170310000000", "20210921000000"]);
        assert!(parse_cdx(b"").unwrap().is_empty());
        assert!(parse_cdx(b"[]").unwrap().is_empty());
        assert!(parse_cdx(b"<html>").is_err());
    }

    #[test]
    fn query_and_capture_urls() {
        let from = NaiveDate::from_ymd_opt(2017, 1, 1);
        let query = cdx_query(
            "http://127.0.0.1:9/",
            "https://www.iana.org/x.xml",
            from,
            None,
        )
        .unwrap();
        assert_eq!(
            query,
            "http://127.0.0.1:9/cdx/search/cdx?url=https%3A%2F%2Fwww.iana.org%2Fx.xml&output=json&filter=statuscode%3A200&collapse=digest&from=20170101"
        );
        let capture = Capture {
            timestamp: "20170310120000".into(),
            original: "https://www.iana.org/x.xml".into(),
            digest: "AAA".into(),
        };
        assert_eq!(
            capture_url("http://127.0.0.1:9", &capture),
            "http://127.0.0.1:9/web/20170310120000id_/https://www.iana.org/x.xml"
        );
        assert_eq!(
            capture_time("20170310120000").unwrap().to_rfc3339(),
            "2017-03-10T12:00:00+00:00"
        );
    }
}
