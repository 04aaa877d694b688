//! Storing registry documents from any source: files, git histories, the Internet Archive and
//! HTTP downloads. Each source yields [`Document`]s; storing them is the same for all.
//!
//! - [`batch`]: many documents stored in one process, reading and parsing on one thread while
//!   the other stores (files, a git history).
//! - [`files`]: documents from files and standard input, in the order history will give them.
//! - [`git`]: every version of a file in a git history.
//! - [`download`]: one downloaded document, validated as a download must be, then stored
//!   (what `fetch` and the archive share).
//! - [`wayback`]: old versions from the Internet Archive's captures.
//!
//! Progress reaches the caller through callbacks; nothing here prints.

pub mod batch;
pub mod download;
pub mod files;
pub mod git;
pub mod wayback;

use crate::input::InputError;
use crate::parse::ParseError;
use crate::store::StoreError;
use crate::time::Timestamp;

/// A registry document as a source gives it.
#[derive(Debug)]
pub struct Document {
    /// How messages name it (a path, or `REPO@commit`).
    pub label: String,
    /// What the snapshot records as its source (a path, a URL, `git:REPO@COMMIT`).
    pub source: String,
    /// When it was seen, if the source knows (a file's modification time, a commit's time).
    pub observed_at: Option<Timestamp>,
    /// The document, decompressed.
    pub bytes: Vec<u8>,
}

/// A document a source could not give.
#[derive(Debug)]
pub struct Unreadable {
    pub label: String,
    pub error: DocumentError,
}

/// Why one document was not stored.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("cannot read: {0}")]
    Read(#[from] InputError),
    #[error("{0}")]
    Git(#[from] git::GitError),
    #[error("refused: {0}")]
    Refused(#[from] ParseError),
    #[error("cannot store: {0}")]
    Store(#[from] StoreError),
}
