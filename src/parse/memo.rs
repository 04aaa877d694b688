//! Reusing what the previous document of a batch parsed: consecutive versions share all but a
//! few hundred of their 20,000 elements, so a batch parses only what changed.

use super::elements::Elem;
use super::parser::Parser;
use super::{ParseError, check_not_empty_or_html};
use crate::model::{Person, Record, Registry};
use memchr::memmem::Finder;
use quick_xml::events::BytesStart;
use rustc_hash::{FxBuildHasher, FxHashMap};
use std::hash::BuildHasher;
use std::sync::{Arc, LazyLock};

/// Parses a document, reusing the records and people of the previous document parsed with
/// the same memo whose bytes are identical: consecutive versions share all but a few hundred
/// of their 20,000 elements, so a batch parses only what changed.
///
/// The result is exactly that of [`parse_registry`]: an element is reused only when its bytes
/// equal (compared in full, not by hash) those of an element that was parsed in the same
/// context (a `<record>` child of the root, or a `<person>` in `<people>`, unprefixed, with the
/// root binding no prefixes). Every other element, and all the rest of the document, is parsed
/// as usual, and the bytes of a reused element are still read as XML to find where it ends.
pub fn parse_registry_with_memo(
    bytes: &[u8],
    memo: &mut ParseMemo,
) -> Result<Registry, ParseError> {
    check_not_empty_or_html(bytes)?;
    let mut spare = std::mem::take(&mut memo.spare);
    spare.clear();
    let mut parser = Parser {
        memo: Some(std::mem::take(memo)),
        new_entries: spare,
        ..Parser::default()
    };
    let result = parser.run(bytes);
    let mut old = parser.memo.take().unwrap_or_default();
    if result.is_ok() {
        // The buffers are reused from one document to the next: a fresh 4 MB copy and map
        // each time cost more than the parse they save.
        old.bytes.clear();
        old.bytes.extend_from_slice(bytes);
        old.spare = std::mem::replace(&mut old.entries, std::mem::take(&mut parser.new_entries));
    }
    *memo = old;
    result
}

/// What [`parse_registry_with_memo`] keeps of the previous document: its bytes, and the
/// parsed elements by a hash of their bytes (start, end, result).
#[derive(Default)]
pub struct ParseMemo {
    bytes: Vec<u8>,
    entries: MemoEntries,
    /// An emptied map to fill with the next document's entries.
    spare: MemoEntries,
}

/// Parsed elements by the hash of their bytes: one arena, with a chain per hash for the
/// (rare) repeats and collisions. A map of vectors cost 25 MB more for a whole registry.
#[derive(Default)]
pub(super) struct MemoEntries {
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
    pub(super) fn clear(&mut self) {
        self.heads.clear();
        self.items.clear();
    }

    pub(super) fn insert(&mut self, digest: u64, start: usize, end: usize, item: Memoized) {
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

/// A parsed element and its content hash (which does not depend on where it stands).
#[derive(Clone)]
pub(super) enum Memoized {
    /// Shared with the registry that produced it: reuse copies no strings. Its ordinal is 1.
    Record(Arc<Record>, i64),
    /// None: a person without an id, which is not kept.
    Person(Option<(Arc<Person>, i64)>),
}

// Searchers for the end tags of reusable elements, built once (building one per element cost
// 4% of a batch import).
static RECORD_END: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"</record>"));
static PERSON_END: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"</person>"));

impl Parser {
    /// Whether this start tag opens an element that may be reused, and if so the end tag to
    /// look for: a `<record>` child of the root or a `<person>` in `<people>`, unprefixed,
    /// where no ancestor declares a namespace but the root's default (see
    /// [`parse_registry_with_memo`]).
    pub(super) fn reusable(
        &self,
        start: &BytesStart,
        in_iana: bool,
    ) -> Option<&'static Finder<'static>> {
        if !self.reuse_allowed || !in_iana {
            return None;
        }
        let parent = self.stack.last().map(|f| f.elem);
        match start.name().as_ref() {
            "record" if parent == Some(Elem::Registry) => Some(&RECORD_END),
            "person" if parent == Some(Elem::People) && self.people_plain => Some(&PERSON_END),
            _ => None,
        }
    }

    /// Takes the element at `document[at..end]` from the memo if its exact bytes are there.
    pub(super) fn reuse(&mut self, document: &[u8], at: usize, end: usize) -> bool {
        let element = &document[at..end];
        let digest = FxBuildHasher.hash_one(element);
        let Some(item) = self.memo.as_mut().and_then(|memo| {
            let previous = &memo.bytes;
            memo.entries.take(digest, |start, stop| {
                previous.get(start..stop) == Some(element)
            })
        }) else {
            return false;
        };
        match &item {
            Memoized::Record(record, hash) => self.push_record_hashed(Arc::clone(record), *hash),
            Memoized::Person(Some((person, hash))) => {
                self.end_record_stream();
                self.people.push(Arc::clone(person));
                self.hashes.people.push(*hash);
            }
            Memoized::Person(None) => {}
        }
        self.new_entries.insert(digest, at, end, item);
        true
    }

    pub(super) fn remember(&mut self, document: &[u8], at: usize, end: usize, item: Memoized) {
        let digest = FxBuildHasher.hash_one(&document[at..end]);
        self.new_entries.insert(digest, at, end, item);
    }
}
