//! Many documents into their histories, as fast as both cores allow.
//!
//! One thread reads each document, takes its sha256, tells which registry it is (by its root
//! element) and parses it; the calling thread stores the one before meanwhile. The channel
//! between them holds nothing, so at most two documents are in memory. What is stored already
//! is recognised by its sha256 and not parsed again (its observation still counts), and
//! consecutive versions, which share about 99% of their elements, are parsed with a memo of
//! the previous one of their registry (see [`ParseMemo`]).

use super::{Document, DocumentError, Unreadable};
use crate::model::{Document as Parsed, Record, Registry};
use crate::parse::{ParseError, ParseMemo, parse_document, parse_with_memo, registry_of};
use crate::store::raw::sha256_hex;
use crate::store::{NewSnapshot, Store, StoreError, Stored};
use crate::time::Timestamp;
use rustc_hash::FxHashSet;
use std::any::Any;
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

/// What the reading thread tells the storing one.
enum Message {
    /// The next document is of this registry (another than the one before), and is being
    /// parsed: what storing it will need can be read meanwhile.
    Parsing(Registry),
    Loaded(Loaded),
}

/// A document the reading thread made ready.
enum Loaded {
    /// Bytes already stored: not parsed.
    AlreadyStored {
        document: Document,
        sha256: String,
    },
    Parsed {
        document: Document,
        sha256: String,
        parsed: Box<dyn Storable>,
    },
    Failed(Unreadable),
}

/// A parsed document of some registry, ready to store.
trait Storable: Send {
    fn store(&self, store: &mut Store, new: Metadata) -> Result<Stored, StoreError>;
}

/// What a snapshot records besides its document.
struct Metadata<'a> {
    bytes: &'a [u8],
    sha256: &'a str,
    source: &'a str,
    observed_at: Timestamp,
    imported_at: Timestamp,
}

impl<R: Record> Storable for Parsed<R> {
    fn store(&self, store: &mut Store, new: Metadata) -> Result<Stored, StoreError> {
        store.import(&NewSnapshot {
            bytes: new.bytes,
            sha256: new.sha256,
            document: self,
            source: new.source,
            observed_at: new.observed_at,
            imported_at: new.imported_at,
        })
    }
}

/// The parse memo of each registry a batch has met.
#[derive(Default)]
struct Memos(Vec<Box<dyn Any + Send>>);

impl Memos {
    fn of<R: Record>(&mut self) -> &mut ParseMemo<R> {
        let index = match self.0.iter().position(|memo| memo.is::<ParseMemo<R>>()) {
            Some(index) => index,
            None => {
                self.0.push(Box::new(ParseMemo::<R>::default()));
                self.0.len() - 1
            }
        };
        self.0[index]
            .downcast_mut()
            .expect("the memo found is of this type")
    }
}

/// Parses a document of `registry`, with its memo when the batch keeps memos.
fn parse_any(
    registry: Registry,
    bytes: &[u8],
    memos: Option<&mut Memos>,
) -> Result<Box<dyn Storable>, ParseError> {
    crate::with_record_type!(registry, R => {
        let parsed = match memos {
            Some(memos) => parse_with_memo::<R>(bytes, memos.of::<R>()),
            None => parse_document::<R>(bytes),
        };
        parsed.map(|document| Box::new(document) as Box<dyn Storable>)
    })
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
    let (sender, receiver) = sync_channel::<Message>(0);
    let mut counts = BatchCounts::default();
    std::thread::scope(|scope| -> Result<(), BatchError> {
        std::thread::Builder::new()
            .name("parse".into())
            .spawn_scoped(scope, move || {
                // A lone document has nothing to share, and building a memo costs a quarter
                // more.
                let mut memos = (total > 1).then(Memos::default);
                let mut last_registry = None;
                let send = |message| sender.send(message).is_ok();
                for document in documents {
                    let loaded = load(document, &known, memos.as_mut(), &mut last_registry, send);
                    if !send(Message::Loaded(loaded)) {
                        break;
                    }
                }
            })
            .map_err(BatchError::Thread)?;
        for message in receiver {
            let loaded = match message {
                Message::Loaded(loaded) => loaded,
                Message::Parsing(registry) => {
                    if let Database::Borrowed(store) = &mut database {
                        // While the document is parsed. Whatever it read is checked again
                        // where it is used (a read that failed half-way is not taken), so a
                        // failure here is met there, by the document that needs it.
                        let _ = crate::with_record_type!(registry, R => store.read_ahead::<R>());
                    }
                    continue;
                }
            };
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
            parsed,
        } => {
            let imported = parsed.store(
                store,
                Metadata {
                    bytes: &document.bytes,
                    sha256: &sha256,
                    source: &document.source,
                    observed_at: times.observed(document.observed_at),
                    imported_at: times.now,
                },
            );
            (document.label, imported.map_err(DocumentError::from))
        }
        Loaded::Failed(Unreadable { label, error }) => (label, Err(error)),
    })
}

/// Reads, hashes and parses one document of a batch (on the reading thread). The sha256
/// comes first, so that what is stored already is skipped without being parsed. Before a
/// document of another registry than the one before is parsed, `announce` tells the storing
/// thread which.
fn load(
    document: Result<Document, Unreadable>,
    known: &FxHashSet<String>,
    memos: Option<&mut Memos>,
    last_registry: &mut Option<Registry>,
    announce: impl Fn(Message) -> bool,
) -> Loaded {
    let document = match document {
        Ok(document) => document,
        Err(unreadable) => return Loaded::Failed(unreadable),
    };
    let sha256 = sha256_hex(&document.bytes);
    if known.contains(&sha256) {
        return Loaded::AlreadyStored { document, sha256 };
    }
    let refused = |label: String, error: ParseError| {
        Loaded::Failed(Unreadable {
            label,
            error: DocumentError::Refused(error),
        })
    };
    let registry = match registry_of(&document.bytes) {
        Ok(registry) => registry,
        Err(error) => return refused(document.label, error),
    };
    if *last_registry != Some(registry) {
        *last_registry = Some(registry);
        announce(Message::Parsing(registry));
    }
    match parse_any(registry, &document.bytes, memos) {
        Ok(parsed) => Loaded::Parsed {
            document,
            sha256,
            parsed,
        },
        Err(error) => refused(document.label, error),
    }
}
