//! The log of fetch attempts: what `portreg status` reports and where the validators of the
//! next conditional GET come from.

use super::{CaptureOutcome, FetchOutcome, Result, SnapshotId, Store};
use crate::model::Registry;
use crate::time::Timestamp;
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;
use std::sync::LazyLock;

/// One row of `fetch_attempt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetchAttempt {
    /// The registry fetched (`status` answers for one, so its JSON does not repeat it).
    #[serde(skip)]
    pub registry: Registry,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub url: String,
    pub final_url: Option<String>,
    pub http_status: Option<u16>,
    pub tries: u32,
    pub outcome: FetchOutcome,
    pub message: Option<String>,
    pub snapshot_id: Option<SnapshotId>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub byte_size: Option<i64>,
}

/// One row of `wayback_capture`: an archive capture that was downloaded and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureCheck<'a> {
    /// The archive's digest of the capture's content: equal digests, equal bytes.
    pub digest: &'a str,
    /// When it was captured, `YYYYMMDDhhmmss` (UTC).
    pub timestamp: &'a str,
    /// Where its bytes were downloaded from.
    pub url: &'a str,
    pub outcome: CaptureOutcome,
    pub message: Option<String>,
    pub snapshot_id: Option<SnapshotId>,
    pub checked_at: Timestamp,
}

/// What `portreg status` says about fetching.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FetchStatus {
    pub last_attempt: Option<FetchAttempt>,
    /// The last attempt that got a usable answer (stored, unchanged, not modified or stale).
    pub last_success: Option<FetchAttempt>,
    /// The last attempt that stored a snapshot.
    pub last_change: Option<FetchAttempt>,
    /// Failed or refused attempts since the last success.
    pub failures_since_success: i64,
}

const INSERT_ATTEMPT: &str = "INSERT INTO fetch_attempt (started_at, finished_at, url,
    final_url, http_status, tries, outcome, message, snapshot_id, etag, last_modified, byte_size,
    registry)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

const ATTEMPT_COLUMNS: &str = "started_at, finished_at, url, final_url, http_status, tries,
    outcome, message, snapshot_id, etag, last_modified, byte_size, registry";

/// `('stored', ...)`: the outcomes that pass `is`, as an SQL list.
fn outcomes_where(is: fn(FetchOutcome) -> bool) -> String {
    let quoted: Vec<String> = FetchOutcome::ALL
        .iter()
        .filter(|o| is(**o))
        .map(|o| format!("'{o}'"))
        .collect();
    format!("({})", quoted.join(", "))
}

/// Outcomes that mean the server answered with something usable.
static SUCCESS: LazyLock<String> = LazyLock::new(|| outcomes_where(FetchOutcome::is_success));
/// Outcomes that stored a snapshot.
static STORED: LazyLock<String> = LazyLock::new(|| outcomes_where(FetchOutcome::is_stored));

impl Store {
    pub fn record_fetch(&self, attempt: &FetchAttempt) -> Result<()> {
        self.conn.execute(
            INSERT_ATTEMPT,
            params![
                attempt.started_at,
                attempt.finished_at,
                attempt.url,
                attempt.final_url,
                attempt.http_status,
                attempt.tries,
                attempt.outcome,
                attempt.message,
                attempt.snapshot_id,
                attempt.etag,
                attempt.last_modified,
                attempt.byte_size,
                attempt.registry,
            ],
        )?;
        Ok(())
    }

    /// The ETag and Last-Modified of the last body of `registry` from `url` that matched a
    /// stored snapshot, or `(None, None)`: a refused body is never cached, so the next fetch
    /// gets it again.
    pub fn fetch_validators(
        &self,
        registry: Registry,
        url: &str,
    ) -> Result<(Option<String>, Option<String>)> {
        let sql = format!(
            "SELECT etag, last_modified FROM fetch_attempt a
             WHERE url = ?1 AND registry = ?2 AND outcome IN {SUCCESS}
               AND (etag IS NOT NULL OR last_modified IS NOT NULL)
               AND EXISTS (SELECT 1 FROM snapshot s WHERE s.id = a.snapshot_id)
             ORDER BY id DESC LIMIT 1",
            SUCCESS = *SUCCESS
        );
        Ok(self
            .conn
            .query_row(&sql, params![url, registry], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?
            .unwrap_or((None, None)))
    }

    /// How fetching `registry` went.
    pub fn fetch_status(&self, registry: Registry) -> Result<FetchStatus> {
        let one = |condition: &str| -> Result<Option<FetchAttempt>> {
            let sql = format!(
                "SELECT {ATTEMPT_COLUMNS} FROM fetch_attempt WHERE registry = ?1 {condition}
                 ORDER BY id DESC LIMIT 1"
            );
            Ok(self
                .conn
                .query_row(&sql, [registry], attempt_from_row)
                .optional()?)
        };
        let failures_since_success = self.conn.query_row(
            &format!(
                "SELECT count(*) FROM fetch_attempt WHERE registry = ?1 AND id > coalesce(
                    (SELECT max(id) FROM fetch_attempt
                     WHERE registry = ?1 AND outcome IN {SUCCESS}), 0)",
                SUCCESS = *SUCCESS
            ),
            [registry],
            |row| row.get(0),
        )?;
        Ok(FetchStatus {
            last_attempt: one("")?,
            last_success: one(&format!("AND outcome IN {}", *SUCCESS))?,
            last_change: one(&format!("AND outcome IN {}", *STORED))?,
            failures_since_success,
        })
    }
}

fn attempt_from_row(row: &Row) -> rusqlite::Result<FetchAttempt> {
    Ok(FetchAttempt {
        started_at: row.get(0)?,
        finished_at: row.get(1)?,
        url: row.get(2)?,
        final_url: row.get(3)?,
        http_status: row.get(4)?,
        tries: row.get(5)?,
        outcome: row.get(6)?,
        message: row.get(7)?,
        snapshot_id: row.get(8)?,
        etag: row.get(9)?,
        last_modified: row.get(10)?,
        byte_size: row.get(11)?,
        registry: row.get(12)?,
    })
}

impl Store {
    /// Whether a capture with this digest was checked by an earlier backfill.
    pub fn wayback_checked(&self, digest: &str) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM wayback_capture WHERE digest = ?1",
                [digest],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Remembers a checked capture (a failed download is not remembered: it is tried again).
    pub fn record_wayback(&self, check: &CaptureCheck) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO wayback_capture
                 (digest, timestamp, url, outcome, message, snapshot_id, checked_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                check.digest,
                check.timestamp,
                check.url,
                check.outcome,
                check.message,
                check.snapshot_id,
                check.checked_at,
            ],
        )?;
        Ok(())
    }
}
