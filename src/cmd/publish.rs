//! Files that commands write for others to read (`export -o`, `feed -o`, `stats --svg`): whole
//! or not at all.

use anyhow::{Result, anyhow};
use std::fs::File;
use std::io;
use std::path::Path;

/// Writes `path` through a temp file in its directory, renamed into place: a reader (a web
/// server, a package build) never sees half a file, and a failure (a full disk) leaves the
/// old one. The file keeps the permissions of the one it replaces; a new one gets what a
/// shell's `>` would give (0666 less the umask), not a temp file's 0600.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".portreg-").suffix(".tmp");
    match std::fs::metadata(path) {
        Ok(existing) => {
            builder.permissions(existing.permissions());
        }
        #[cfg(unix)]
        Err(_) => {
            use std::os::unix::fs::PermissionsExt as _;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        #[cfg(not(unix))]
        Err(_) => {}
    }
    let cannot = |error: &io::Error| anyhow!("cannot write {}: {}", path.display(), reason(error));
    let mut temp = builder.tempfile_in(dir).map_err(|e| cannot(&e))?;
    write(temp.as_file_mut())
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|e| cannot(&e))?;
    temp.persist(path).map_err(|e| cannot(&e.error))?;
    Ok(())
}

/// The system's words for an I/O error, without the temp file's name that tempfile adds
/// (`... at path "/dir/.portreg-XXXXXX.tmp"`): the user named another file.
fn reason(error: &io::Error) -> String {
    let text = error.to_string();
    match text.split_once(" at path \"") {
        Some((reason, _)) => reason.to_string(),
        None => text,
    }
}
