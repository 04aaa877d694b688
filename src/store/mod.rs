//! The SQLite store: the only place SQL lives. One [`Store`] owns the connection.
//!
//! # Storage design
//! - `snapshot`: one row per distinct document (by sha256), of one registry (`registry`). Its
//!   `seq` is its place in that registry's history, ordered by registry date, then observed
//!   time, then sha256; 1 is the oldest. Each registry has its own history: nothing below ever
//!   mixes two.
//! - Each registry's version tables (named by its record, [`crate::model::RecordTables`]:
//!   `record_version` and `person_version` for the port registry): each distinct version of a
//!   record or person is stored once with the interval `[first_seq, last_seq]` of snapshots it
//!   held in (`last_seq` NULL = still holds in the latest). 390 real snapshots make about
//!   15,200 record rows, not 390 x 14,500.
//! - Intervals are kept canonical: maximal runs of consecutive snapshots with equal content.
//!   Appending a snapshot touches only the keys that changed. Importing an older version shifts
//!   every `seq` at or after its place by one, then splits the intervals that span it (where it
//!   differs) or stretches and joins its neighbours (where it agrees). The result is the same
//!   rows as an import in date order, which is what makes import order irrelevant.
//! - `snapshot_raw`: the exact bytes: the oldest document of a registry whole, every other one
//!   as a line delta from the snapshot before it; `snapshot_raw_skip` holds deltas over 64
//!   places and whole documents every 1,024, derived from them (see [`raw`]).
//!
//! Every import runs in one IMMEDIATE transaction: a snapshot is stored whole or not at all,
//! and a second writer waits (busy timeout) instead of interleaving.
//!
//! # Where is what
//! - this module: opening a database, its settings and migrations, the errors.
//! - [`write`]: storing a document as a snapshot (the write path).
//! - [`snapshots`], [`records`]: the read side: snapshots, records, versions, changes.
//! - [`ports`]: the versions that cover ports, read lean for `free` and `check`.
//! - [`raw`]: each snapshot's exact bytes, as line deltas against its neighbour.
//! - [`fetch_log`]: fetch attempts and archive captures.
//! - [`adhoc`]: ad-hoc SQL from users, read-only.
//! - [`checks`]: SQLite's checks and the history's invariants, for `verify`.
//! - [`ids`], [`outcomes`]: the typed values written to and read from the database.

mod adhoc;
mod checks;
mod fetch_log;
mod ids;
mod outcomes;
mod ports;
pub mod raw;
mod records;
mod snapshots;
mod write;

pub use adhoc::{QueryLimits, SqlAnswer, SqlError};
pub use fetch_log::{CaptureCheck, FetchAttempt, FetchStatus};
pub use ids::{Seq, SnapshotId};
pub use outcomes::{CaptureOutcome, FetchOutcome};
pub use ports::PortVersion;
pub use records::{RecordFilter, StoredPerson, StoredVersion, VersionSpan};
pub use snapshots::{SnapshotRef, SnapshotRow};
pub use write::{NewSnapshot, Placement, Stored};

use crate::model::{Record, RecordTables, Registry};
use include_dir::{Dir, include_dir};
use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{M, Migrations};
use std::path::Path;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

static MIGRATIONS_DIR: Dir = include_dir!("$CARGO_MANIFEST_DIR/migrations");

/// The numbered `migrations/NNNN_name.sql` files, in order: the one list that both the
/// migrations and the schema version this portreg knows are made from.
fn migration_files() -> Vec<&'static include_dir::File<'static>> {
    let mut files: Vec<_> = MIGRATIONS_DIR
        .files()
        .filter(|f| f.path().extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort_by_key(|f| f.path());
    files
}

/// Migrations whose SQL is followed by code (what SQL cannot do), by file name.
/// Code run after a migration's SQL, in its transaction.
type MigrationCode = fn(&rusqlite::Transaction) -> rusqlite_migration::HookResult;

const MIGRATION_CODE: [(&str, MigrationCode); 1] = [(
    "0006_raw_line_deltas.sql",
    raw::legacy::upgrade_to_line_deltas,
)];

static MIGRATIONS: LazyLock<Migrations<'static>> = LazyLock::new(|| {
    Migrations::new(
        migration_files()
            .into_iter()
            .map(|f| {
                let sql = f.contents_utf8().expect("migrations are UTF-8");
                let name = f.path().file_name().and_then(|n| n.to_str());
                match MIGRATION_CODE.iter().find(|(file, _)| Some(*file) == name) {
                    Some(&(_, code)) => M::up_with_hook(sql, code),
                    None => M::up(sql),
                }
            })
            .collect(),
    )
});

/// How long a writer waits for another one (an overlapping cron run) before giving up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite's own message, once (rusqlite's source chain would repeat it).
    #[error("{0}")]
    Sqlite(rusqlite::Error),
    #[error(
        "the database was written by a newer portreg (schema {found}, this one knows {known}); upgrade portreg"
    )]
    NewerSchema { found: i64, known: usize },
    #[error("cannot migrate the database: {0}")]
    Migration(String),
    #[error("no snapshot matches {0}")]
    NoSuchSnapshot(String),
    #[error(
        "snapshot {id} is a version of {}: select it with `--registry {registry}`",
        .registry.title()
    )]
    OtherRegistry { id: SnapshotId, registry: Registry },
    #[error("{}", empty_message(*.registry, .held))]
    Empty {
        registry: Registry,
        /// The registries the database does hold snapshots of, for the hint.
        held: Vec<Registry>,
    },
    #[error("stored raw bytes of snapshot {id} are damaged: {reason}")]
    DamagedRaw { id: SnapshotId, reason: String },
    #[error("cannot compress: {0}")]
    Compression(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// What the database holds no snapshots of, said as the way to get some, and which registry
/// it does hold when that is another one (a protocols-only database asked without --registry).
fn empty_message(registry: Registry, held: &[Registry]) -> String {
    let mut message = match registry {
        Registry::Services => {
            "the database holds no snapshots yet (run `portreg import FILE` or `portreg fetch`)"
                .to_string()
        }
        other => format!(
            "the database holds no snapshots of {} yet (run `portreg --registry {other} fetch` or `portreg import FILE`)",
            other.title()
        ),
    };
    if let Some(other) = held.first() {
        if registry == Registry::Services {
            message = format!(
                "the database holds no snapshots of {} yet",
                registry.title()
            );
        }
        message.push_str(&format!(
            "; it holds {} (select it with `--registry {other}`)",
            other.title()
        ));
    }
    message
}

pub struct Store {
    conn: Connection,
    /// What is kept between the imports and reads of a process, per registry.
    caches: Vec<(Registry, Caches)>,
}

/// What a store keeps for one registry between imports and reads.
#[derive(Default)]
struct Caches {
    /// The document imported or read last, the base of the next in-order import (so a batch
    /// never walks the delta chain), and the line table with the lines it tokenized last.
    raw: raw::RawCache,
    /// The ids of the record keys, so an import does not look them up in the table.
    keys: write::KeyCache,
    /// Working maps of the import, kept between the imports of a batch: allocating them
    /// afresh (5 MB) for every document faults in fresh pages each time.
    around: write::AroundScratch,
}

/// The caches of `registry`, made when first needed.
fn caches_of(caches: &mut Vec<(Registry, Caches)>, registry: Registry) -> &mut Caches {
    let index = match caches.iter().position(|(r, _)| *r == registry) {
        Some(index) => index,
        None => {
            caches.push((registry, Caches::default()));
            caches.len() - 1
        }
    };
    &mut caches[index].1
}

/// The tables of a registry's history.
pub(crate) fn tables_of(registry: Registry) -> RecordTables {
    crate::with_record_type!(registry, R => R::TABLES)
}

/// A database about to be upgraded in place to the schema this portreg knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaUpgrade {
    pub from: i64,
    pub to: i64,
}

impl Store {
    /// Opens (creating if needed) and migrates the database file.
    pub fn open(path: &Path) -> Result<Store> {
        Self::open_upgrading(path, |_| {})
    }

    /// Opens like [`Store::open`], telling `before_upgrade` when an existing database is about
    /// to be upgraded to this portreg's schema (which may take seconds for a long history).
    pub fn open_upgrading(path: &Path, before_upgrade: impl FnMut(SchemaUpgrade)) -> Result<Store> {
        let mut conn = connection_settings(Connection::open(path)?)?;
        set_up_for_writing(&mut conn, before_upgrade)?;
        Self::from_connection(conn, true)
    }

    /// Opens an existing database without writing to it (no migration, queries only).
    pub fn open_read_only(path: &Path) -> Result<Store> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = connection_settings(Connection::open_with_flags(path, flags)?)?;
        match Self::from_connection(conn, false) {
            // A WAL database in a directory nobody may write to: SQLite cannot make its
            // shared-memory file. Nothing can change such a file, so read it as immutable.
            Err(error) if error.is_read_only() => {
                let uri = format!(
                    "file:{}?immutable=1",
                    path.display()
                        .to_string()
                        .replace('%', "%25")
                        .replace('?', "%3f")
                        .replace('#', "%23")
                );
                let conn = Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)?;
                Self::from_connection(connection_settings(conn)?, false)
            }
            other => other,
        }
    }

    /// A new database in memory, for tests.
    pub fn open_in_memory() -> Result<Store> {
        let mut conn = connection_settings(Connection::open_in_memory()?)?;
        set_up_for_writing(&mut conn, |_| {})?;
        Self::from_connection(conn, true)
    }

    /// A store on a connection that is set up: refused when its schema is newer than this
    /// portreg's, or (read-only) older.
    fn from_connection(conn: Connection, writable: bool) -> Result<Store> {
        let known = migration_files().len();
        let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if found > known as i64 {
            return Err(StoreError::NewerSchema { found, known });
        }
        if !writable && found < known as i64 {
            return Err(StoreError::Migration(format!(
                "the database has schema {found}, this portreg needs {known}: open it once for writing (e.g. `portreg snapshots`)"
            )));
        }
        Ok(Store {
            conn,
            caches: Vec::new(),
        })
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// A number that changes when another connection commits to the database (SQLite's
    /// `data_version`): an answer read before is still right while it stays the same.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "data_version", |row| row.get(0))?)
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |row| row.get(0))?)
    }
}

/// What every connection is opened with: a writer waits for another one, and the schema's
/// foreign keys hold.
fn connection_settings(conn: Connection) -> Result<Connection> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(conn)
}

/// WAL mode and migrations. Two processes opening a new database at once (overlapping cron
/// runs) may find it locked in ways the busy handler does not cover (a journal mode change,
/// a read transaction upgraded to a write), or may both start the same migration (the
/// migration crate reads the version before its transaction; the loser's transaction fails
/// and rolls back). Either way the setup is tried again, until the busy timeout.
/// `before_upgrade` hears once of an existing database's upgrade, before it starts.
fn set_up_for_writing(
    conn: &mut Connection,
    mut before_upgrade: impl FnMut(SchemaUpgrade),
) -> Result<()> {
    let deadline = Instant::now() + BUSY_TIMEOUT;
    let version = |conn: &Connection| -> Result<i64> {
        Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
    };
    let known = migration_files().len() as i64;
    let mut told = false;
    loop {
        let before = version(conn)?;
        if before > known {
            // Refused, untouched, by from_connection.
            return Ok(());
        }
        if (1..known).contains(&before) && !told {
            before_upgrade(SchemaUpgrade {
                from: before,
                to: known,
            });
            told = true;
        }
        match try_set_up_for_writing(conn) {
            Err(error)
                if (error.is_busy() || version(conn).is_ok_and(|now| now != before))
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20 + fastrand::u64(0..30)));
            }
            other => return other,
        }
    }
}

fn try_set_up_for_writing(conn: &mut Connection) -> Result<()> {
    let mode: String = conn.pragma_query_value(None, "journal_mode", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        // WAL: readers never block the writer, and a killed writer leaves the last commit.
        conn.pragma_update(None, "journal_mode", "WAL")?;
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "cache_size", -65536)?;
    // Sorts (index builds by migrations, ORDER BY) stay in memory rather than in temporary
    // files under /var/tmp.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    MIGRATIONS.to_latest(conn).map_err(|error| match error {
        rusqlite_migration::Error::RusqliteError { err, .. } => StoreError::Sqlite(err),
        other => StoreError::Migration(other.to_string()),
    })
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::Sqlite(error)
    }
}

impl StoreError {
    /// The file or its directory cannot be written.
    pub fn is_read_only(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(failure, _))
                if failure.code == rusqlite::ErrorCode::ReadOnly
        )
    }

    /// A query stopped by its deadline ([`Store::stop_queries_at`]).
    pub fn is_interrupted(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(failure, _))
                if failure.code == rusqlite::ErrorCode::OperationInterrupted
        )
    }

    /// Another connection holds a lock this one needs.
    pub fn is_busy(&self) -> bool {
        matches!(
            self,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(failure, _))
                if matches!(
                    failure.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                )
        )
    }
}

#[cfg(test)]
mod tests;
