//! Many documents into one history, as fast as both cores allow.
//!
//! One thread reads each document, takes its sha256 and parses it; the calling thread stores
//! the one before meanwhile. The channel between them holds nothing, so at most two documents
//! are in memory. What is stored already is recognised by its sha256 and not parsed again
//! (its observation still counts), and consecutive versions, which share about 99% of their
//! elements, are parsed with a memo of the previous one (see [`ParseMemo`]).

use super::{Document, DocumentError, Unreadable};
use crate::model::Registry;
use crate::parse::{ParseMemo, parse_registry, parse_registry_with_memo};
use crate::store::raw::sha256_hex;
use crate::store::{NewSnapshot, Store, StoreError, Stored};
use crate::time::Timestamp;
use rustc_hash::FxHashSet;
use std::sync::mpsc::sync_channel;

/// Where a batch stores.
pub enum Target<'a> {
    /// A database that is open.
    Open(&'a mut Store),
    /// No database yet: it is opened (created) when the first document is to be stored, so a
    /// batch that stores nothing, such as one refused document, leaves no file behind.
    OnDemand(&'a dyn Fn() -> Result<Store, StoreError>),
}

/// Times a batch is given rather than reads.
#[derive(Debug, Clone, Copy)]
pub struct BatchTimes {
    /// When every document was seen, overriding what its source says.
    pub observed_at: Option<Timestamp>,
    /// Now: the import time, and the observation time of documents whose source has none.
    pub now: Timestamp,
}

impl BatchTimes {
    /// When a document whose source says it was seen at `seen` counts as observed.
    fn observed(&self, seen: Option<Timestamp>) -> Timestamp {
        self.observed_at.or(seen).unwrap_or(self.now)
    }
}

/// How a batch went, document by document.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchCounts {
    pub stored: usize,
    pub already_stored: usize,
    pub failed: usize,
}

impl BatchCounts {
    fn count(&mut self, outcome: &Result<Stored, DocumentError>) {
        match outcome {
            Ok(Stored::New { .. }) => self.stored += 1,
            Ok(Stored::Known { .. }) => self.already_stored += 1,
            Err(_) => self.failed += 1,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The database could not be opened when the first document was to be stored.
    #[error(transparent)]
    Open(StoreError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("cannot start the parsing thread: {0}")]
    Thread(std::io::Error),
    /// The caller's report of a document failed (its output was closed, say).
    #[error("cannot report progress")]
    Report(#[source] std::io::Error),
}

/// What the reading thread hands to the storing one.
enum Loaded {
    /// Bytes already stored: not parsed.
    AlreadyStored {
        document: Document,
        sha256: String,
    },
    Parsed {
        document: Document,
        sha256: String,
        registry: Box<Registry>,
    },
    Failed(Unreadable),
}

/// Stores `documents` (`total` of them) in order, calling `report` after each with its label
/// and outcome. A document that fails is reported and the batch goes on; only the database
/// failing outside a document's transaction, or `report` failing, ends it early.
pub fn store_batch(
    target: Target,
    documents: impl Iterator<Item = Result<Document, Unreadable>> + Send,
    total: usize,
    times: BatchTimes,
    mut report: impl FnMut(&str, &Result<Stored, DocumentError>) -> std::io::Result<()>,
) -> Result<BatchCounts, BatchError> {
    let mut database = Database::from(target);
    let known: FxHashSet<String> = match &database {
        Database::Borrowed(store) => store.snapshot_shas()?.into_iter().collect(),
        _ => FxHashSet::default(),
    };
    let (sender, receiver) = sync_channel::<Loaded>(0);
    let mut counts = BatchCounts::default();
    std::thread::scope(|scope| -> Result<(), BatchError> {
        std::thread::Builder::new()
            .name("parse".into())
            .spawn_scoped(scope, move || {
                // A lone document has nothing to share, and building a memo costs a quarter
                // more.
                let mut memo = (total > 1).then(ParseMemo::default);
                for document in documents {
                    if sender.send(load(document, &known, memo.as_mut())).is_err() {
                        break;
                    }
                }
            })
            .map_err(BatchError::Thread)?;
        if let Database::Borrowed(store) = &mut database {
            // While the first document is read and parsed. Whatever it read is checked again
            // where it is used (a read that failed half-way is not taken), so a failure here
            // is met there, by the document that needs it.
            let _ = store.read_ahead();
        }
        for loaded in receiver {
            let (label, outcome) = store_one(&mut database, loaded, times)?;
            counts.count(&outcome);
            report(&label, &outcome).map_err(BatchError::Report)?;
        }
        Ok(())
    })?;
    Ok(counts)
}

/// The database of a batch, opened when first needed.
enum Database<'a> {
    Borrowed(&'a mut Store),
    Owned(Box<Store>),
    NotYet(&'a dyn Fn() -> Result<Store, StoreError>),
}

impl<'a> From<Target<'a>> for Database<'a> {
    fn from(target: Target<'a>) -> Self {
        match target {
            Target::Open(store) => Database::Borrowed(store),
            Target::OnDemand(open) => Database::NotYet(open),
        }
    }
}

impl Database<'_> {
    fn store(&mut self) -> Result<&mut Store, BatchError> {
        if let Database::NotYet(open) = self {
            *self = Database::Owned(Box::new(open().map_err(BatchError::Open)?));
        }
        match self {
            Database::Borrowed(store) => Ok(store),
            Database::Owned(store) => Ok(store),
            Database::NotYet(_) => unreachable!("opened above"),
        }
    }
}

/// Stores a document the reading thread made ready: its label and what became of it. The
/// database is opened only for a document to store.
fn store_one(
    database: &mut Database,
    loaded: Loaded,
    times: BatchTimes,
) -> Result<(String, Result<Stored, DocumentError>), BatchError> {
    if let Loaded::Failed(Unreadable { label, error }) = loaded {
        return Ok((label, Err(error)));
    }
    let store = database.store()?;
    Ok(match loaded {
        Loaded::AlreadyStored { document, sha256 } => {
            let observed_at = times.observed(document.observed_at);
            let outcome = match store.seen_again(&sha256, observed_at, &document.source) {
                Ok(Some(known)) => Ok(known),
                // Snapshots are never deleted: only a damaged database gets here.
                Ok(None) => Err(StoreError::NoSuchSnapshot(format!("sha256 {sha256}")).into()),
                Err(error) => Err(error.into()),
            };
            (document.label, outcome)
        }
        Loaded::Parsed {
            document,
            sha256,
            registry,
        } => {
            let imported = store.import(&NewSnapshot {
                bytes: &document.bytes,
                sha256: &sha256,
                registry: &registry,
                source: &document.source,
                observed_at: times.observed(document.observed_at),
                imported_at: times.now,
            });
            (document.label, imported.map_err(DocumentError::from))
        }
        Loaded::Failed(Unreadable { label, error }) => (label, Err(error)),
    })
}

/// Reads, hashes and parses one document of a batch (on the reading thread). The sha256
/// comes first, so that what is stored already is skipped without being parsed.
fn load(
    document: Result<Document, Unreadable>,
    known: &FxHashSet<String>,
    memo: Option<&mut ParseMemo>,
) -> Loaded {
    let document = match document {
        Ok(document) => document,
        Err(unreadable) => return Loaded::Failed(unreadable),
    };
    let sha256 = sha256_hex(&document.bytes);
    if known.contains(&sha256) {
        return Loaded::AlreadyStored { document, sha256 };
    }
    let parsed = match memo {
        Some(memo) => parse_registry_with_memo(&document.bytes, memo),
        None => parse_registry(&document.bytes),
    };
    match parsed {
        Ok(registry) => Loaded::Parsed {
            document,
            sha256,
            registry: Box::new(registry),
        },
        Err(error) => Loaded::Failed(Unreadable {
            label: document.label,
            error: DocumentError::Refused(error),
        }),
    }
}
