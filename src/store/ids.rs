//! The two numbers that name a snapshot, as distinct types so they cannot be mixed up.
//!
//! A [`SnapshotId`] is the snapshot's row id: it never changes, users type it
//! (`portreg diff 3 7`) and other rows refer to it. A [`Seq`] is its place in history (1 is
//! the oldest): the version intervals are written in places, and places shift by one when an
//! older version is imported after newer ones.

use rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A snapshot's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SnapshotId(pub i64);

/// A snapshot's place in history: 1 is the oldest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seq(pub i64);

impl Seq {
    /// The oldest place.
    pub const FIRST: Seq = Seq(1);

    /// The place before this one (0 before the oldest: no snapshot is there).
    pub fn before(self) -> Seq {
        Seq(self.0 - 1)
    }

    /// The place after this one.
    pub fn after(self) -> Seq {
        Seq(self.0 + 1)
    }
}

macro_rules! integer_column {
    ($type:ident) => {
        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl ToSql for $type {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                self.0.to_sql()
            }
        }

        impl FromSql for $type {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                i64::column_result(value).map($type)
            }
        }
    };
}

integer_column!(SnapshotId);
integer_column!(Seq);
