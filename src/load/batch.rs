//! Many documents into one history, as fast as both cores allow.
//!
//! One thread reads each document, takes its sha256 and parses it; the calling thread stores
//! the one before meanwhile. The channel between them holds nothing, so at most two documents
//! are in memory. What is stored already is recognised by its sha256 and not parsed again
//! (its observation still counts), and consecutive versions, which share about 99% of their
//! elements, are parsed with a memo of the previous one (see [`crate::parse::ParseMemo`]).
//!
//! A lone document (a first import, most often) has nothing to overlap with: its records are
//! handed over as they are parsed instead, and into an empty history they go in at once (see
//! [`Store::import_streamed`]).

use super::{Document, DocumentError, Unreadable};
use crate::model::RecordChunk;
use crate::model::Registry;
use crate::parse::{ParseError, ParseMemo, parse_registry_streaming, parse_registry_with_memo};
use crate::store::raw::sha256_hex;
use crate::store::{ImportOutcome, NewSnapshot, SnapshotId, Store, StoreError, StreamedSnapshot};
use crate::time::Timestamp;
use rustc_hash::FxHashSet;
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};

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

/// What became of one document.
#[derive(Debug)]
pub enum DocumentOutcome {
    Stored {
        id: SnapshotId,
        registry_date: String,
        records: usize,
        /// False when it went into the history before the latest snapshot.
        latest: bool,
    },
    AlreadyStored {
        id: SnapshotId,
        registry_date: String,
    },
    Failed(DocumentError),
}

/// How a batch went, document by document.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchCounts {
    pub stored: usize,
    pub already_stored: usize,
    pub failed: usize,
}

impl BatchCounts {
    fn count(&mut self, outcome: &DocumentOutcome) {
        match outcome {
            DocumentOutcome::Stored { .. } => self.stored += 1,
            DocumentOutcome::AlreadyStored { .. } => self.already_stored += 1,
            DocumentOutcome::Failed(_) => self.failed += 1,
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
    Ready(Ready),
    Streaming(Streaming),
    Failed(Unreadable),
}

/// A document ready to store.
enum Ready {
    /// Bytes already stored: not parsed.
    AlreadyStored { document: Document, sha256: String },
    Parsed {
        document: Document,
        sha256: String,
        registry: Box<Registry>,
    },
}

/// A document being parsed: its records arrive in `chunks`, then the registry (with the
/// document's bytes back) or the refusal in `parsed`.
struct Streaming {
    label: String,
    source: String,
    observed_at: Option<Timestamp>,
    sha256: String,
    chunks: Receiver<RecordChunk>,
    parsed: Receiver<Result<(Registry, Vec<u8>), ParseError>>,
}

impl BatchTimes {
    /// When a document whose source says it was seen at `seen` counts as observed.
    fn observed(&self, seen: Option<Timestamp>) -> Timestamp {
        self.observed_at.or(seen).unwrap_or(self.now)
    }
}

/// Stores `documents` (`total` of them) in order, calling `report` after each with its label
/// and outcome. A document that fails is reported and the batch goes on; only the database
/// failing outside a document's transaction, or `report` failing, ends it early.
pub fn store_batch(
    target: Target,
    documents: impl Iterator<Item = Result<Document, Unreadable>> + Send,
    total: usize,
    times: BatchTimes,
    mut report: impl FnMut(&str, &DocumentOutcome) -> std::io::Result<()>,
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
                if total > 1 {
                    let mut memo = ParseMemo::default();
                    for document in documents {
                        if sender.send(load(document, &known, &mut memo)).is_err() {
                            break;
                        }
                    }
                } else {
                    // A lone document has nothing to share, and building a memo costs a
                    // quarter more.
                    for document in documents {
                        load_streaming(document, &known, &sender);
                    }
                }
            })
            .map_err(BatchError::Thread)?;
        for loaded in receiver {
            let (label, outcome) = match loaded {
                Loaded::Failed(Unreadable { label, error }) => {
                    (label, DocumentOutcome::Failed(error))
                }
                Loaded::Streaming(streaming) => store_streaming(&mut database, streaming, times)?,
                Loaded::Ready(ready) => store_one(database.store()?, ready, times)?,
            };
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

/// Stores a document the reading thread made ready.
fn store_one(
    store: &mut Store,
    ready: Ready,
    times: BatchTimes,
) -> Result<(String, DocumentOutcome), BatchError> {
    Ok(match ready {
        Ready::AlreadyStored { document, sha256 } => {
            let observed_at = times.observed(document.observed_at);
            let seen = store.seen_again(&sha256, observed_at, &document.source)?;
            let outcome = match seen {
                Some(ImportOutcome::AlreadyStored { id, registry_date })
                | Some(ImportOutcome::Stored {
                    id, registry_date, ..
                }) => DocumentOutcome::AlreadyStored { id, registry_date },
                // Snapshots are never deleted: only a damaged database gets here.
                None => DocumentOutcome::Failed(DocumentError::Store(StoreError::NoSuchSnapshot(
                    format!("sha256 {sha256}"),
                ))),
            };
            (document.label, outcome)
        }
        Ready::Parsed {
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
            let outcome = stored(imported.map(|outcome| (outcome, registry.records.len())));
            (document.label, outcome)
        }
    })
}

/// Stores a document while it is parsed. The database is opened only once the first records
/// arrive, so a document refused before its records (an HTML page, another XML document)
/// creates no database where there was none.
fn store_streaming(
    database: &mut Database,
    streaming: Streaming,
    times: BatchTimes,
) -> Result<(String, DocumentOutcome), BatchError> {
    let Streaming {
        label,
        source,
        observed_at,
        sha256,
        chunks,
        parsed,
    } = streaming;
    let new = &StreamedSnapshot {
        sha256: &sha256,
        source: &source,
        observed_at: times.observed(observed_at),
        imported_at: times.now,
    };
    let wait = || {
        parsed
            .recv()
            .expect("the parsing thread sends the end of every parse")
    };
    let first = match chunks.recv() {
        Ok(first) => first,
        // Refused before its records, or too short to stream: the parse is over.
        Err(_) => {
            let (registry, bytes) = match wait() {
                Ok(parsed) => parsed,
                Err(refused) => return Ok((label, DocumentOutcome::Failed(refused.into()))),
            };
            let imported = database.store()?.import(&new.parsed(&bytes, &registry));
            let outcome = stored(imported.map(|outcome| (outcome, registry.records.len())));
            return Ok((label, outcome));
        }
    };
    let chunks = std::iter::once(first).chain(chunks);
    let outcome = match database.store()?.import_streamed(new, chunks, wait) {
        Ok(Ok((outcome, registry))) => stored(Ok((outcome, registry.records.len()))),
        Ok(Err(refused)) => DocumentOutcome::Failed(DocumentError::Refused(refused)),
        Err(error) => stored(Err(error)),
    };
    Ok((label, outcome))
}

/// The outcome of storing a document of `records` records.
fn stored(imported: Result<(ImportOutcome, usize), StoreError>) -> DocumentOutcome {
    match imported {
        Ok((
            ImportOutcome::Stored {
                id,
                registry_date,
                latest,
            },
            records,
        )) => DocumentOutcome::Stored {
            id,
            registry_date,
            records,
            latest,
        },
        Ok((ImportOutcome::AlreadyStored { id, registry_date }, _)) => {
            DocumentOutcome::AlreadyStored { id, registry_date }
        }
        Err(error) => DocumentOutcome::Failed(DocumentError::Store(error)),
    }
}

/// Takes a document's sha256: first, so that what is stored already is skipped without being
/// parsed; and on the reading thread, off the storing one, which is the busier.
fn hashed(
    document: Result<Document, Unreadable>,
    known: &FxHashSet<String>,
) -> Result<(Document, String), Loaded> {
    let document = document.map_err(Loaded::Failed)?;
    let sha256 = sha256_hex(&document.bytes);
    if known.contains(&sha256) {
        return Err(Loaded::Ready(Ready::AlreadyStored { document, sha256 }));
    }
    Ok((document, sha256))
}

/// Reads, hashes and parses one document of a batch (on the reading thread).
fn load(
    document: Result<Document, Unreadable>,
    known: &FxHashSet<String>,
    memo: &mut ParseMemo,
) -> Loaded {
    let (document, sha256) = match hashed(document, known) {
        Ok(hashed) => hashed,
        Err(loaded) => return loaded,
    };
    match parse_registry_with_memo(&document.bytes, memo) {
        Ok(registry) => Loaded::Ready(Ready::Parsed {
            document,
            sha256,
            registry: Box::new(registry),
        }),
        Err(error) => Loaded::Failed(Unreadable {
            label: document.label,
            error: DocumentError::Refused(error),
        }),
    }
}

/// Reads and hashes a lone document, then parses it while the storing thread takes its records
/// as they come (on the reading thread).
fn load_streaming(
    document: Result<Document, Unreadable>,
    known: &FxHashSet<String>,
    sender: &SyncSender<Loaded>,
) {
    let (document, sha256) = match hashed(document, known) {
        Ok(hashed) => hashed,
        Err(loaded) => {
            let _ = sender.send(loaded);
            return;
        }
    };
    let Document {
        label,
        source,
        observed_at,
        bytes,
    } = document;
    let (chunk_sender, chunks) = channel();
    let (parsed_sender, parsed) = channel();
    let streaming = Loaded::Streaming(Streaming {
        label,
        source,
        observed_at,
        sha256,
        chunks,
        parsed,
    });
    if sender.send(streaming).is_err() {
        return;
    }
    let result = parse_registry_streaming(&bytes, chunk_sender);
    let _ = parsed_sender.send(result.map(|registry| (registry, bytes)));
}
