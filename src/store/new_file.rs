//! Writing a database built in memory out as a new file, whole or not at all.
//!
//! A first import into a database that does not exist yet is built in memory: SQLite would
//! otherwise write every page twice (to the write-ahead log, then to the file at the
//! checkpoint when the connection closes), a page per system call, which is a third of a
//! one-version import. The image is then written in one go to a file with no name yet, synced,
//! and only then linked at its path. So the path shows either nothing or a complete database,
//! whatever stops the process; and a database that another process created meanwhile is
//! never overwritten.

use super::{Result, Store, StoreError};
use rusqlite::MAIN_DB;
use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

/// The database header's "file format write version" and "read version" bytes: 2 means a
/// WAL database (<https://sqlite.org/fileformat2.html#file_format_version_numbers>). An
/// in-memory database has 1 there (rollback journal); SQLite switches a file to WAL by
/// setting both, and does so itself on opening a file that has them.
const FORMAT_VERSION_BYTES: std::ops::Range<usize> = 18..20;
const WAL_FORMAT_VERSION: u8 = 2;
const HEADER_SIZE: usize = 100;

/// What became of [`Store::write_new_file`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewFile {
    Written,
    /// A file appeared at the path meanwhile (another portreg); it was left as it is.
    AlreadyThere,
}

impl Store {
    /// Writes this database (one opened with [`Store::open_in_memory`]) to `path`, which must
    /// not exist, as a WAL-mode database file: complete and synced, or not at all.
    pub fn write_new_file(&self, path: &Path) -> Result<NewFile> {
        self.write_new_file_as(path, TemporaryFile::Unnamed)
    }

    fn write_new_file_as(&self, path: &Path, temporary: TemporaryFile) -> Result<NewFile> {
        let image = self.conn.serialize(MAIN_DB)?;
        let Some(body) = image.get(HEADER_SIZE..) else {
            return Err(StoreError::Io(io::Error::other(
                "the database image is shorter than its header",
            )));
        };
        let mut header = [0; HEADER_SIZE];
        header.copy_from_slice(&image[..HEADER_SIZE]);
        header[FORMAT_VERSION_BYTES].fill(WAL_FORMAT_VERSION);
        let write = |file: &mut File| -> io::Result<()> {
            file.write_all(&header)?;
            file.write_all(body)?;
            file.sync_all()
        };
        let directory = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let unnamed = match temporary {
            TemporaryFile::Unnamed => unnamed::create(directory),
            #[cfg(test)]
            TemporaryFile::Named => None,
        };
        let linked = match unnamed {
            Some(mut file) => {
                write(&mut file)?;
                unnamed::link(&file, path)
            }
            None => Err(io::ErrorKind::Unsupported.into()),
        };
        let linked = match linked {
            Err(error) if error.kind() != io::ErrorKind::AlreadyExists => {
                // No unnamed files here (or no /proc to link one by): a named temporary
                // file in the same directory, renamed into place only if nothing is there.
                let mut file = tempfile::Builder::new()
                    .prefix(".portreg-")
                    .suffix(".new")
                    .permissions(new_file_permissions())
                    .tempfile_in(directory)?;
                write(file.as_file_mut())?;
                file.persist_noclobber(path)
                    .map(drop)
                    .map_err(|error| error.error)
            }
            other => other,
        };
        match linked {
            Ok(()) => {
                // The new name itself survives a crash only once the directory is synced.
                File::open(directory)?.sync_all()?;
                Ok(NewFile::Written)
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(NewFile::AlreadyThere),
            Err(error) => Err(error.into()),
        }
    }
}

/// How the file is written before it gets its name.
#[derive(Debug, Clone, Copy)]
enum TemporaryFile {
    /// Without a name where the system allows (else as `Named`).
    Unnamed,
    /// Under a temporary name in the same directory, then renamed (what happens where no
    /// unnamed file can be made; chosen outright in tests).
    #[cfg(test)]
    Named,
}

/// What SQLite creates a database file with (before the umask).
fn new_file_permissions() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o644)
}

/// Files created without a name (`O_TMPFILE`): nothing is left behind when the process is
/// killed before the file is linked.
#[cfg(target_os = "linux")]
mod unnamed {
    use rustix::fs::{AtFlags, CWD, Mode, OFlags};
    use std::fs::File;
    use std::io;
    use std::os::fd::AsRawFd;
    use std::path::Path;

    /// None where the file system cannot make one.
    pub fn create(directory: &Path) -> Option<File> {
        let flags = OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC;
        rustix::fs::open(directory, flags, Mode::from_raw_mode(0o644))
            .ok()
            .map(File::from)
    }

    /// Gives the file its name; fails with `AlreadyExists` if the name is taken.
    pub fn link(file: &File, path: &Path) -> io::Result<()> {
        let by_descriptor = format!("/proc/self/fd/{}", file.as_raw_fd());
        rustix::fs::linkat(CWD, by_descriptor, CWD, path, AtFlags::SYMLINK_FOLLOW)?;
        Ok(())
    }
}

#[cfg(not(target_os = "linux"))]
mod unnamed {
    use std::fs::File;
    use std::io;
    use std::path::Path;

    pub fn create(_directory: &Path) -> Option<File> {
        None
    }

    pub fn link(_file: &File, _path: &Path) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_registry;

    const REGISTRY: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<registry xmlns="http://www.iana.org/assignments" id="service-names-port-numbers">
  <title>Service Name and Transport Protocol Port Number Registry</title>
  <updated>2024-05-01</updated>
  <record><name>http</name><protocol>tcp</protocol><number>80</number>
    <description>World Wide Web HTTP</description><xref type="person" data="Tim_Berners_Lee"/></record>
  <record><name>ssh</name><protocol>tcp</protocol><number>22</number>
    <description>The Secure Shell (SSH) Protocol</description></record>
  <people><person id="Tim_Berners_Lee"><name>Tim Berners-Lee</name></person></people>
</registry>"#;

    fn built_in_memory() -> Store {
        let mut store = Store::open_in_memory().unwrap();
        let registry = parse_registry(REGISTRY.as_bytes()).unwrap();
        store
            .import(&crate::store::NewSnapshot {
                bytes: REGISTRY.as_bytes(),
                registry: &registry,
                source: "test",
                observed_at: chrono::Utc::now(),
                imported_at: chrono::Utc::now(),
                sha256: None,
                hashes: None,
            })
            .unwrap();
        store
    }

    /// What a database holds, table by table, as text.
    fn contents(conn: &rusqlite::Connection) -> Vec<String> {
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let mut rows = Vec::new();
        for table in tables {
            let mut select = conn
                .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY rowid"))
                .unwrap();
            let width = select.column_count();
            let mut found = select.query([]).unwrap();
            while let Some(row) = found.next().unwrap() {
                let values: Vec<String> = (0..width)
                    .map(|i| format!("{:?}", row.get::<_, rusqlite::types::Value>(i).unwrap()))
                    .collect();
                rows.push(format!("{table}: {}", values.join(" | ")));
            }
        }
        rows
    }

    #[test]
    fn an_in_memory_database_is_written_whole_as_a_wal_file_and_never_over_another() {
        for temporary in [TemporaryFile::Unnamed, TemporaryFile::Named] {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("new.sqlite3");
            let store = built_in_memory();
            assert_eq!(
                store.write_new_file_as(&path, temporary).unwrap(),
                NewFile::Written,
                "{temporary:?}"
            );
            // Only the database is left in the directory.
            let names: Vec<_> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|entry| entry.unwrap().file_name())
                .collect();
            assert_eq!(names, ["new.sqlite3"], "{temporary:?}");

            let written = Store::open(&path).unwrap();
            let mode: String = written
                .conn
                .pragma_query_value(None, "journal_mode", |row| row.get(0))
                .unwrap();
            assert_eq!(mode, "wal");
            let check: String = written
                .conn
                .query_row("PRAGMA integrity_check", [], |row| row.get(0))
                .unwrap();
            assert_eq!(check, "ok");
            assert_eq!(contents(&written.conn), contents(&store.conn));
            assert_eq!(
                written.schema_version().unwrap(),
                store.schema_version().unwrap()
            );
            drop(written);

            // A file already at the path is left as it is.
            let before = std::fs::read(&path).unwrap();
            let other = built_in_memory();
            assert_eq!(
                other.write_new_file_as(&path, temporary).unwrap(),
                NewFile::AlreadyThere
            );
            assert_eq!(std::fs::read(&path).unwrap(), before);
            let names = std::fs::read_dir(dir.path()).unwrap().count();
            assert_eq!(names, 1, "{temporary:?}: a temporary file was left behind");
        }
    }

    #[test]
    fn a_database_that_cannot_be_written_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-directory").join("new.sqlite3");
        let error = built_in_memory().write_new_file(&path).unwrap_err();
        assert!(matches!(error, StoreError::Io(_)), "{error}");
        assert!(!path.exists());
    }
}
