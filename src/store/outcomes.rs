//! How a fetch attempt or an archive capture ended, as the database writes it.
//!
//! The text of each value is given here once, and nowhere else in the code: the `CHECK`
//! constraints of `fetch_attempt.outcome` (migrations/0002) and `wayback_capture.outcome`
//! (migrations/0004) list the same words, which a test holds them to.

use super::{Placement, Stored};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::Serialize;
use std::fmt;

/// How a fetch attempt ended (`fetch_attempt.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "&'static str")]
pub enum FetchOutcome {
    /// A new snapshot, the latest one.
    Stored,
    /// A new snapshot dated before the latest, put in its place in history.
    StoredOlder,
    /// 200 with the bytes of the latest snapshot.
    Unchanged,
    /// 304 Not Modified.
    NotModified,
    /// 200 with the bytes of an older stored snapshot (a stale mirror or cache).
    Stale,
    /// A body that is not a complete, plausible registry.
    Refused,
    /// No usable answer: network, HTTP error, timeout, or the store failed.
    Failed,
}

/// How a checked archive capture ended (`wayback_capture.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "&'static str")]
pub enum CaptureOutcome {
    Stored,
    StoredOlder,
    AlreadyStored,
    Refused,
}

macro_rules! text_column {
    ($type:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $type {
            pub const ALL: &'static [$type] = &[$($type::$variant),+];

            /// The value the database holds.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($type::$variant => $text),+
                }
            }
        }

        impl From<$type> for &'static str {
            fn from(value: $type) -> &'static str {
                value.as_str()
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ToSql for $type {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $type {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let text = value.as_str()?;
                $type::ALL
                    .iter()
                    .copied()
                    .find(|outcome| outcome.as_str() == text)
                    .ok_or_else(|| FromSqlError::Other(format!("unknown outcome {text:?}").into()))
            }
        }
    };
}

text_column!(FetchOutcome {
    Stored => "stored",
    StoredOlder => "stored-older",
    Unchanged => "unchanged",
    NotModified => "not-modified",
    Stale => "stale",
    Refused => "refused",
    Failed => "failed",
});

text_column!(CaptureOutcome {
    Stored => "stored",
    StoredOlder => "stored-older",
    AlreadyStored => "already-stored",
    Refused => "refused",
});

impl FetchOutcome {
    /// The server answered with something usable.
    pub fn is_success(self) -> bool {
        !matches!(self, FetchOutcome::Refused | FetchOutcome::Failed)
    }

    /// A new snapshot was stored.
    pub fn is_stored(self) -> bool {
        matches!(self, FetchOutcome::Stored | FetchOutcome::StoredOlder)
    }
}

/// What the fetch log says of a body stored: the same bytes as the latest snapshot are
/// "unchanged", those of an older one "stale".
impl From<&Stored> for FetchOutcome {
    fn from(stored: &Stored) -> FetchOutcome {
        match (stored, stored.placement()) {
            (Stored::New { .. }, Placement::Latest) => FetchOutcome::Stored,
            (Stored::New { .. }, Placement::BeforeLatest) => FetchOutcome::StoredOlder,
            (Stored::Known { .. }, Placement::Latest) => FetchOutcome::Unchanged,
            (Stored::Known { .. }, Placement::BeforeLatest) => FetchOutcome::Stale,
        }
    }
}

impl From<&Stored> for CaptureOutcome {
    fn from(stored: &Stored) -> CaptureOutcome {
        match (stored, stored.placement()) {
            (Stored::New { .. }, Placement::Latest) => CaptureOutcome::Stored,
            (Stored::New { .. }, Placement::BeforeLatest) => CaptureOutcome::StoredOlder,
            (Stored::Known { .. }, _) => CaptureOutcome::AlreadyStored,
        }
    }
}
