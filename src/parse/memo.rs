//! What the previous document of a batch parsed, kept to be reused: consecutive versions share
//! all but a few hundred of their 20,000 elements, so a batch parses only what changed.
//!
//! The memo knows bytes and what they parsed to, nothing of the parser: the parser asks it for
//! an element by its exact bytes ([`ParseMemo::take`]), then for the ones that followed it
//! ([`ParseMemo::take_next`]: a run of unchanged elements costs a comparison of bytes each, not
//! a hash and a lookup), tells it each element it parsed ([`ParseMemo::remember`]), and at the
//! end of a document whether it parsed ([`ParseMemo::end`]).

use crate::model::{Person, Record};
use rustc_hash::{FxBuildHasher, FxHashMap};
use std::hash::BuildHasher;
use std::sync::Arc;

/// The elements of the previous document parsed with this memo, by a hash of their bytes,
/// and the elements of the document being parsed, for the next one.
#[derive(Default)]
pub struct ParseMemo<R: Record> {
    /// The previous document.
    bytes: Vec<u8>,
    entries: MemoEntries<R>,
    /// The entry of `entries` taken last.
    taken: Option<u32>,
    /// The document being parsed: its elements so far.
    next: MemoEntries<R>,
}

/// A parsed element and its content hash (which does not depend on where it stands).
#[derive(Clone)]
pub(super) enum Memoized<R> {
    /// Shared with the registry that produced it: reuse copies no strings. Its ordinal is 1.
    Record(Arc<R>, i64),
    /// None: a person without an id, which is not kept.
    Person(Option<(Arc<Person>, i64)>),
}

impl<R: Record> ParseMemo<R> {
    /// A new document starts.
    pub(super) fn begin(&mut self) {
        self.next.clear();
        self.taken = None;
    }

    /// The element at `document[at..end]`, if the previous document had one of exactly these
    /// bytes (compared in full, not by hash). It counts as seen in this document too.
    pub(super) fn take(&mut self, document: &[u8], at: usize, end: usize) -> Option<Memoized<R>> {
        let element = &document[at..end];
        let digest = FxBuildHasher.hash_one(element);
        let previous = &self.bytes;
        let (index, item) = self.entries.take(digest, |start, stop| {
            previous.get(start..stop) == Some(element)
        })?;
        self.taken = Some(index);
        self.next.insert(document, digest, at, end, item.clone());
        Some(item)
    }

    /// The element after the one taken last, when this document goes on from `from` (where
    /// that one ended) exactly as the previous document did, through the next element: the
    /// white space between them and all its bytes. Where it ends here, which `ends_well` must
    /// accept.
    pub(super) fn take_next(
        &mut self,
        document: &[u8],
        from: usize,
        ends_well: impl Fn(usize) -> bool,
    ) -> Option<(Memoized<R>, usize)> {
        let taken = self.taken? as usize;
        let (before, rest) = self.entries.items.split_at_mut(taken + 1);
        let (last, next) = (before.last()?, rest.first_mut()?);
        if !next.after_white_space || next.item.is_none() {
            return None;
        }
        let old = self.bytes.get(last.end..next.end)?;
        let end = from + old.len();
        if document.get(from..end)? != old || !ends_well(end) {
            return None;
        }
        let item = next.item.take()?;
        let at = from + (next.start - last.end);
        self.next
            .insert(document, next.digest, at, end, item.clone());
        self.taken = Some(taken as u32 + 1);
        Some((item, end))
    }

    /// The element at `document[at..end]` parsed to `item`.
    pub(super) fn remember(&mut self, document: &[u8], at: usize, end: usize, item: Memoized<R>) {
        let digest = FxBuildHasher.hash_one(&document[at..end]);
        self.next.insert(document, digest, at, end, item);
    }

    /// The document ended: when it parsed, its elements are what the next one may reuse;
    /// otherwise the memo keeps the previous document's, less those this one took (the next
    /// document parses them afresh: only time is lost).
    pub(super) fn end(&mut self, document: &[u8], parsed: bool) {
        if !parsed {
            return;
        }
        // The buffers are reused from one document to the next: a fresh 4 MB copy and map
        // each time cost more than the parse they save.
        self.bytes.clear();
        self.bytes.extend_from_slice(document);
        std::mem::swap(&mut self.entries, &mut self.next);
        self.taken = None;
    }
}

/// Parsed elements by the hash of their bytes: one arena, with a chain per hash for the
/// (rare) repeats and collisions. A map of vectors cost 25 MB more for a whole registry.
struct MemoEntries<R> {
    heads: FxHashMap<u64, u32>,
    items: Vec<MemoEntry<R>>,
}

impl<R> Default for MemoEntries<R> {
    fn default() -> Self {
        MemoEntries {
            heads: FxHashMap::default(),
            items: Vec::new(),
        }
    }
}

struct MemoEntry<R> {
    start: usize,
    end: usize,
    digest: u64,
    /// Whether only white space stands between the entry before it and this one: then the
    /// two are siblings, and this one can follow that one in a run.
    after_white_space: bool,
    /// The next entry with the same digest.
    next: u32,
    /// Taken when reused.
    item: Option<Memoized<R>>,
}

const NO_ENTRY: u32 = u32::MAX;

impl<R: Clone> MemoEntries<R> {
    fn clear(&mut self) {
        self.heads.clear();
        self.items.clear();
    }

    /// Adds the element at `document[start..end]`, after the ones added before it.
    fn insert(
        &mut self,
        document: &[u8],
        digest: u64,
        start: usize,
        end: usize,
        item: Memoized<R>,
    ) {
        let Ok(index) = u32::try_from(self.items.len()) else {
            return;
        };
        let after_white_space = self.items.last().is_some_and(|last| {
            document.get(last.end..start).is_some_and(|gap| {
                gap.iter()
                    .all(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            })
        });
        let next = self.heads.insert(digest, index).unwrap_or(NO_ENTRY);
        self.items.push(MemoEntry {
            start,
            end,
            digest,
            after_white_space,
            next,
            item: Some(item),
        });
    }

    /// Takes the first entry with this digest whose span `same` accepts, with its index.
    fn take(
        &mut self,
        digest: u64,
        same: impl Fn(usize, usize) -> bool,
    ) -> Option<(u32, Memoized<R>)> {
        let mut index = *self.heads.get(&digest)?;
        while let Some(entry) = self.items.get_mut(index as usize) {
            if entry.item.is_some() && same(entry.start, entry.end) {
                return Some((index, entry.item.take()?));
            }
            index = entry.next;
        }
        None
    }
}
