//! What the previous document of a batch parsed, kept to be reused: consecutive versions share
//! all but a few hundred of their 20,000 elements, so a batch parses only what changed.
//!
//! The memo knows bytes and what they parsed to, nothing of the parser: the parser asks it for
//! an element by its exact bytes ([`ParseMemo::take`]), tells it each element it parsed
//! ([`ParseMemo::remember`]), and at the end of a document whether it parsed
//! ([`ParseMemo::end`]).

use crate::model::{Person, Record};
use rustc_hash::{FxBuildHasher, FxHashMap};
use std::hash::BuildHasher;
use std::sync::Arc;

/// The elements of the previous document parsed with this memo, by a hash of their bytes,
/// and the elements of the document being parsed, for the next one.
#[derive(Default)]
pub struct ParseMemo {
    /// The previous document.
    bytes: Vec<u8>,
    entries: MemoEntries,
    /// The document being parsed: its elements so far.
    next: MemoEntries,
}

/// A parsed element and its content hash (which does not depend on where it stands).
#[derive(Clone)]
pub(super) enum Memoized {
    /// Shared with the registry that produced it: reuse copies no strings. Its ordinal is 1.
    Record(Arc<Record>, i64),
    /// None: a person without an id, which is not kept.
    Person(Option<(Arc<Person>, i64)>),
}

impl ParseMemo {
    /// A new document starts.
    pub(super) fn begin(&mut self) {
        self.next.clear();
    }

    /// The element at `document[at..end]`, if the previous document had one of exactly these
    /// bytes (compared in full, not by hash). It counts as seen in this document too.
    pub(super) fn take(&mut self, document: &[u8], at: usize, end: usize) -> Option<Memoized> {
        let element = &document[at..end];
        let digest = FxBuildHasher.hash_one(element);
        let previous = &self.bytes;
        let item = self.entries.take(digest, |start, stop| {
            previous.get(start..stop) == Some(element)
        })?;
        self.next.insert(digest, at, end, item.clone());
        Some(item)
    }

    /// The element at `document[at..end]` parsed to `item`.
    pub(super) fn remember(&mut self, document: &[u8], at: usize, end: usize, item: Memoized) {
        let digest = FxBuildHasher.hash_one(&document[at..end]);
        self.next.insert(digest, at, end, item);
    }

    /// The document ended: when it parsed, its elements are what the next one may reuse;
    /// otherwise the memo stays as it was.
    pub(super) fn end(&mut self, document: &[u8], parsed: bool) {
        if !parsed {
            return;
        }
        // The buffers are reused from one document to the next: a fresh 4 MB copy and map
        // each time cost more than the parse they save.
        self.bytes.clear();
        self.bytes.extend_from_slice(document);
        std::mem::swap(&mut self.entries, &mut self.next);
    }
}

/// Parsed elements by the hash of their bytes: one arena, with a chain per hash for the
/// (rare) repeats and collisions. A map of vectors cost 25 MB more for a whole registry.
#[derive(Default)]
struct MemoEntries {
    heads: FxHashMap<u64, u32>,
    items: Vec<MemoEntry>,
}

struct MemoEntry {
    start: usize,
    end: usize,
    next: u32,
    /// Taken when reused.
    item: Option<Memoized>,
}

const NO_ENTRY: u32 = u32::MAX;

impl MemoEntries {
    fn clear(&mut self) {
        self.heads.clear();
        self.items.clear();
    }

    fn insert(&mut self, digest: u64, start: usize, end: usize, item: Memoized) {
        let Ok(index) = u32::try_from(self.items.len()) else {
            return;
        };
        let next = self.heads.insert(digest, index).unwrap_or(NO_ENTRY);
        self.items.push(MemoEntry {
            start,
            end,
            next,
            item: Some(item),
        });
    }

    /// Takes the first entry with this digest whose span `same` accepts.
    fn take(&mut self, digest: u64, same: impl Fn(usize, usize) -> bool) -> Option<Memoized> {
        let mut index = *self.heads.get(&digest)?;
        while let Some(entry) = self.items.get_mut(index as usize) {
            if entry.item.is_some() && same(entry.start, entry.end) {
                return entry.item.take();
            }
            index = entry.next;
        }
        None
    }
}
