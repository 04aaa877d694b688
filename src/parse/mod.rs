//! The registry parser: one streaming pass of quick-xml over the document's bytes.
//!
//! It is namespace-aware (elements count only in the IANA namespace, or in none), keeps what
//! the contract names and ignores everything else, so new elements in a later format do not
//! break it. It refuses anything that is not one complete `service-names-port-numbers`
//! registry, and it never panics on input: every way a document can be wrong is a
//! [`ParseError`].

mod text;

use crate::model::{ContentHashes, Person, Record, Registry};
use memchr::memmem::Finder;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::{NsReader, Reader};
use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};
use std::hash::BuildHasher;
use std::sync::{Arc, LazyLock};
use text::{normalise, push_entity};

pub const IANA_NAMESPACE: &str = "http://www.iana.org/assignments";
pub const REGISTRY_ID: &str = "service-names-port-numbers";

/// Why a document is not a registry portreg can store.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("empty input")]
    Empty,
    #[error("an HTML page, not the registry XML")]
    Html,
    #[error("truncated: the document ends inside <{inside}>")]
    Truncated { inside: String },
    #[error("not well-formed XML at byte {position}: {message}")]
    Malformed { position: u64, message: String },
    #[error("not an IANA registry: the root element is <{root}>")]
    NotARegistry { root: String },
    #[error("the IANA registry {id:?}, not {REGISTRY_ID:?}")]
    WrongRegistry { id: String },
    #[error("the registry has no <updated> date")]
    NoUpdatedDate,
    #[error("the registry's <updated> date {0:?} is not a YYYY-MM-DD date")]
    BadUpdatedDate(String),
    #[error("the registry holds no records")]
    NoRecords,
}

/// Parses a whole registry document.
pub fn parse_registry(bytes: &[u8]) -> Result<Registry, ParseError> {
    check_not_empty_or_html(bytes)?;
    Parser::default().run(bytes)
}

/// Parses like [`parse_registry`], always with namespace resolution, which `parse_registry`
/// skips where the names alone tell every element's namespace: the two must agree (the
/// `parse` fuzz target checks it).
#[doc(hidden)]
pub fn parse_registry_namespace_aware(bytes: &[u8]) -> Result<Registry, ParseError> {
    check_not_empty_or_html(bytes)?;
    Parser {
        namespace_aware: true,
        ..Parser::default()
    }
    .run(bytes)
}

fn check_not_empty_or_html(bytes: &[u8]) -> Result<(), ParseError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty);
    }
    if looks_like_html(bytes) {
        return Err(ParseError::Html);
    }
    Ok(())
}

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

/// A parsed element and its content hash (which does not depend on where it stands).
#[derive(Clone)]
enum Memoized {
    /// Shared with the registry that produced it: reuse copies no strings. Its ordinal is 1.
    Record(Arc<Record>, i64),
    /// None: a person without an id, which is not kept.
    Person(Option<(Arc<Person>, i64)>),
}

/// The registry date from the start of a document, without parsing it: enough to put a batch
/// of files in history order before the real work. None when it is not found there.
pub fn peek_updated(head: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(head);
    let start = text.find("<updated>")? + "<updated>".len();
    let len = text[start..].find("</updated>")?;
    let date = text[start..start + len].trim();
    (date.len() == 10 && chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok())
        .then(|| date.to_owned())
}

/// An HTML error page is the most common wrong answer from a web server; say so plainly rather
/// than reporting the XML syntax error it usually trips first.
fn looks_like_html(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

// Searchers for the end tags of reusable elements, built once (building one per element cost
// 4% of a batch import).
static RECORD_END: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"</record>"));
static PERSON_END: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"</person>"));

/// What an open element is, as far as the parser cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elem {
    Registry,
    Title,
    Updated,
    Record,
    Field(Field),
    RecordXref,
    Assignee,
    AssigneeXref,
    Contact,
    ContactXref,
    InlineXref { bracket: bool },
    InlineOther,
    People,
    Person,
    PersonField(PersonField),
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Name,
    Protocol,
    Number,
    Description,
    Note,
    ServiceCode,
    Unauthorized,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PersonField {
    Name,
    Org,
    Uri,
    Updated,
}

/// Where character data under the current element goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sink {
    Nowhere,
    Text,
    XrefText,
}

#[derive(Debug, Clone)]
struct Frame {
    elem: Elem,
    sink: Sink,
    /// The element's name when [`Elem`] does not say it (unknown elements), for messages.
    unknown_name: Option<Box<str>>,
    /// Where its qualified name is in the document, to match its end tag.
    qname: Option<(usize, usize)>,
}

impl Frame {
    fn name(&self) -> &str {
        match self.elem {
            Elem::Registry => "registry",
            Elem::Title => "title",
            Elem::Updated => "updated",
            Elem::Record => "record",
            Elem::Field(Field::Name) | Elem::PersonField(PersonField::Name) => "name",
            Elem::Field(Field::Protocol) => "protocol",
            Elem::Field(Field::Number) => "number",
            Elem::Field(Field::Description) => "description",
            Elem::Field(Field::Note) => "note",
            Elem::Field(Field::ServiceCode) => "sc",
            Elem::Field(Field::Unauthorized) => "unauthorized",
            Elem::RecordXref | Elem::AssigneeXref | Elem::ContactXref => "xref",
            Elem::InlineXref { .. } => "xref",
            Elem::Assignee => "assignee",
            Elem::Contact => "contact",
            Elem::People => "people",
            Elem::Person => "person",
            Elem::PersonField(PersonField::Org) => "org",
            Elem::PersonField(PersonField::Uri) => "uri",
            Elem::PersonField(PersonField::Updated) => "updated",
            Elem::InlineOther | Elem::Other => self.unknown_name.as_deref().unwrap_or("?"),
        }
    }
}

#[derive(Default)]
struct RecordXref {
    kind: String,
    data: Option<String>,
    section: Option<String>,
}

#[derive(Default)]
struct Parser {
    stack: Vec<Frame>,
    seen_root: bool,
    root_closed: bool,
    title: Option<String>,
    updated: Option<String>,
    records: Vec<Arc<Record>>,
    people: Vec<Arc<Person>>,
    record: Record,
    person: Person,
    text: String,
    xref: RecordXref,
    xref_text: String,
    /// Digests of the keys seen so far; a repeat (rare) is then counted exactly.
    key_digests: FxHashSet<u64>,
    /// The previous document's elements, when reuse is allowed for this document.
    memo: Option<ParseMemo>,
    /// Whether this document's context allows reuse (see [`parse_registry_with_memo`]).
    reuse_allowed: bool,
    /// This document's elements, for the next one.
    new_entries: MemoEntries,
    /// Where the reusable element being parsed started.
    element_start: Option<usize>,
    /// Whether `<people>` declares no namespace (persons in it may then be reused).
    people_plain: bool,
    /// The content hashes of what was pushed (a memo keeps them with its elements, so a batch
    /// hashes only what changed).
    hashes: ContentHashes,
    /// Read with namespace resolution even where names alone tell the namespace (see
    /// [`namespaces_follow_from_names`]); for checking that both readings agree.
    namespace_aware: bool,
}

impl Parser {
    fn run(&mut self, bytes: &[u8]) -> Result<Registry, ParseError> {
        // Sized from the start (a record takes about 260 bytes of XML, a person 150 after the
        // records): growing a 5 MB vector by doubling copies it and faults in fresh pages.
        self.records.reserve(bytes.len() / 260);
        self.people.reserve(bytes.len() / 600);
        self.feed(bytes)?;
        self.finish()
    }

    /// Parses the document, reusing memoised elements where allowed (see [`Parser::reusable`]).
    ///
    /// A reused element is skipped at the byte level, and reading goes on with a new reader
    /// after it. So end tags are matched here, against the names the frames keep, rather than
    /// by quick-xml (whose record of open elements a new reader would not have).
    fn feed(&mut self, document: &[u8]) -> Result<(), ParseError> {
        let mut pos = 0;
        let plain = !self.namespace_aware && namespaces_follow_from_names(document);
        'readers: loop {
            let mut reader = XmlReader::new(&document[pos..], plain);
            loop {
                let event_start = pos + reader.buffer_position() as usize;
                let (in_iana, event) = match reader.read_event() {
                    Ok(ok) => ok,
                    Err(error) => {
                        // quick-xml sets error_position for syntax errors only; a text that is
                        // not UTF-8 is reported at the start of its event.
                        let position =
                            (pos as u64 + reader.error_position()).max(event_start as u64);
                        return Err(self.syntax_error(position, document, error));
                    }
                };
                match event {
                    Event::Start(start) => {
                        if let Some(close_tag) = self.reusable(&start, in_iana) {
                            let after = &document[event_start..];
                            let end = close_tag
                                .find(after)
                                .map(|i| event_start + i + close_tag.needle().len());
                            if let Some(end) = end
                                && restartable_at(&document[end..])
                                && self.reuse(document, event_start, end)
                            {
                                pos = end;
                                continue 'readers;
                            }
                            self.element_start = Some(event_start);
                        }
                        self.open(&start, in_iana, false)?;
                        let qname = name_span(document, start.name().as_ref().as_bytes());
                        if let Some(frame) = self.stack.last_mut() {
                            frame.qname = qname;
                        }
                    }
                    Event::Empty(start) => {
                        self.open(&start, in_iana, true)?;
                        self.close();
                    }
                    Event::End(end) => {
                        self.check_end(document, end.name().as_ref().as_bytes(), event_start)?;
                        let closing = self.stack.last().map(|f| f.elem);
                        let people = self.people.len();
                        self.close();
                        if let (Some(at), Some(Elem::Record | Elem::Person)) =
                            (self.element_start, closing)
                        {
                            self.element_start = None;
                            let end = pos + reader.buffer_position() as usize;
                            let item = if closing == Some(Elem::Record) {
                                let record = match self.records.last() {
                                    Some(last) if last.ordinal == 1 => Arc::clone(last),
                                    Some(last) => Arc::new(Record {
                                        ordinal: 1,
                                        ..Record::clone(last)
                                    }),
                                    None => Arc::default(),
                                };
                                let hash = self.hashes.records.last().copied().unwrap_or_default();
                                Memoized::Record(record, hash)
                            } else {
                                Memoized::Person(
                                    self.people
                                        .get(people)
                                        .cloned()
                                        .zip(self.hashes.people.get(people).copied()),
                                )
                            };
                            self.remember(document, at, end, item);
                        }
                    }
                    Event::Text(text) => {
                        let content = text.xml10_content();
                        self.characters(&content)?;
                    }
                    Event::CData(cdata) => {
                        let content = cdata.xml10_content();
                        self.characters(&content)?;
                    }
                    Event::GeneralRef(reference) => {
                        let mut resolved = String::new();
                        push_entity(&mut resolved, &reference);
                        self.characters(&resolved)?;
                    }
                    Event::Eof => break 'readers,
                    Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
                }
            }
        }
        Ok(())
    }

    /// An end tag must close the innermost open element, by the same name.
    fn check_end(&self, document: &[u8], name: &[u8], at: usize) -> Result<(), ParseError> {
        // Named only in an error: most end tags are fine.
        let found = || String::from_utf8_lossy(name);
        let Some(frame) = self.stack.last() else {
            return Err(ParseError::Malformed {
                position: at as u64,
                message: format!("end tag </{}> without a start tag", found()),
            });
        };
        match frame.qname {
            Some((start, len)) if document.get(start..start + len) != Some(name) => {
                Err(ParseError::Malformed {
                    position: at as u64,
                    message: format!(
                        "expected </{}>, found </{}>",
                        String::from_utf8_lossy(&document[start..start + len]),
                        found()
                    ),
                })
            }
            _ => Ok(()),
        }
    }

    /// Whether this start tag opens an element that may be reused, and if so the end tag to
    /// look for: a `<record>` child of the root or a `<person>` in `<people>`, unprefixed,
    /// where no ancestor declares a namespace but the root's default (see
    /// [`parse_registry_with_memo`]).
    fn reusable(&self, start: &BytesStart, in_iana: bool) -> Option<&'static Finder<'static>> {
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
    fn reuse(&mut self, document: &[u8], at: usize, end: usize) -> bool {
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
                self.people.push(Arc::clone(person));
                self.hashes.people.push(*hash);
            }
            Memoized::Person(None) => {}
        }
        self.new_entries.insert(digest, at, end, item);
        true
    }

    fn remember(&mut self, document: &[u8], at: usize, end: usize, item: Memoized) {
        let digest = FxBuildHasher.hash_one(&document[at..end]);
        self.new_entries.insert(digest, at, end, item);
    }

    fn finish(&mut self) -> Result<Registry, ParseError> {
        if !self.seen_root {
            return Err(ParseError::Malformed {
                position: 0,
                message: "no root element".into(),
            });
        }
        if let Some(frame) = self.stack.last() {
            return Err(ParseError::Truncated {
                inside: frame.name().to_owned(),
            });
        }
        let updated = self.updated.take().ok_or(ParseError::NoUpdatedDate)?;
        if chrono::NaiveDate::parse_from_str(&updated, "%Y-%m-%d").is_err() || updated.len() != 10 {
            return Err(ParseError::BadUpdatedDate(updated));
        }
        if self.records.is_empty() {
            return Err(ParseError::NoRecords);
        }
        Ok(Registry {
            title: self.title.take(),
            updated,
            records: std::mem::take(&mut self.records),
            people: std::mem::take(&mut self.people),
            hashes: std::mem::take(&mut self.hashes),
        })
    }

    /// A freshly parsed record; hashed when a memo is in use (the memo keeps the hash, so a
    /// batch hashes only what changed).
    fn push_record(&mut self, record: Record) {
        let hash = record.content_hash();
        self.push_record_hashed(Arc::new(record), hash);
    }

    /// `record` comes with ordinal 1 (parsed afresh, or from the memo).
    fn push_record_hashed(&mut self, mut record: Arc<Record>, hash: i64) {
        self.hashes.records.push(hash);
        let ordinal = self.ordinal_of(&record);
        if ordinal != record.ordinal {
            Arc::make_mut(&mut record).ordinal = ordinal;
        }
        self.records.push(record);
    }

    /// 1 + the number of earlier records with the same (name, protocol, port).
    fn ordinal_of(&mut self, record: &Record) -> u32 {
        let same_key = |other: &Record| {
            other.name == record.name
                && other.protocol == record.protocol
                && other.port == record.port
        };
        let digest = FxBuildHasher.hash_one((&record.name, &record.protocol, &record.port));
        if self.key_digests.insert(digest) {
            return 1;
        }
        1 + self.records.iter().filter(|r| same_key(r)).count() as u32
    }

    fn syntax_error(&self, position: u64, bytes: &[u8], error: quick_xml::Error) -> ParseError {
        // An unfinished construct at the very end of the input is a document cut short, not a
        // bad one.
        let tail = bytes.get(position as usize..).unwrap_or_default();
        let at_end = !tail.contains(&b'>');
        if at_end && self.seen_root && !self.root_closed {
            let inside = self.stack.last().map_or("registry", Frame::name).to_owned();
            return ParseError::Truncated { inside };
        }
        ParseError::Malformed {
            position,
            message: error.to_string(),
        }
    }

    fn open(&mut self, start: &BytesStart, in_iana: bool, empty: bool) -> Result<(), ParseError> {
        let local_name = start.local_name();
        let local: &str = local_name.as_ref();
        let parent = self.stack.last().map(|f| (f.elem, f.sink));
        let elem = match parent {
            None => {
                if self.root_closed || self.seen_root {
                    return Err(ParseError::Malformed {
                        position: 0,
                        message: "more than one root element".into(),
                    });
                }
                self.seen_root = true;
                if local != "registry" || !in_iana {
                    if local.eq_ignore_ascii_case("html") {
                        return Err(ParseError::Html);
                    }
                    return Err(ParseError::NotARegistry {
                        root: local.to_owned(),
                    });
                }
                let id = attribute(start, "id").unwrap_or_default();
                if id != REGISTRY_ID {
                    return Err(ParseError::WrongRegistry { id });
                }
                // Reuse needs elements to mean the same wherever they stand: an unprefixed
                // root that binds no prefix (the real registry binds only the default).
                self.reuse_allowed = self.memo.is_some()
                    && start.name().as_ref() == "registry"
                    && start.attributes().flatten().all(|a| {
                        let key: &str = a.key.as_ref();
                        key != "xmlns" && !key.starts_with("xmlns:")
                            || key == "xmlns" && a.value.as_ref() == IANA_NAMESPACE
                    });
                Elem::Registry
            }
            Some((parent, _)) => self.classify(parent, local, in_iana),
        };
        let parent_sink = parent.map_or(Sink::Nowhere, |(_, sink)| sink);
        let sink = match elem {
            Elem::Title | Elem::Updated | Elem::Field(_) | Elem::PersonField(_) => {
                self.text.clear();
                Sink::Text
            }
            Elem::Record => {
                let [date, updated] = attributes(start, ["date", "updated"]);
                self.record = Record {
                    registered: date.and_then(non_empty),
                    modified: updated.and_then(non_empty),
                    ..Record::default()
                };
                Sink::Nowhere
            }
            Elem::Person => {
                self.person = Person {
                    id: attribute(start, "id").unwrap_or_default(),
                    ..Person::default()
                };
                Sink::Nowhere
            }
            Elem::RecordXref => {
                let [kind, data, section] = attributes(start, ["type", "data", "section"]);
                self.xref = RecordXref {
                    kind: kind.unwrap_or_default(),
                    data: data.and_then(non_empty),
                    section: section.and_then(non_empty),
                };
                self.xref_text.clear();
                Sink::XrefText
            }
            Elem::AssigneeXref | Elem::ContactXref => {
                let [kind, data] = attributes(start, ["type", "data"]);
                if let (Some("person"), Some(id)) = (kind.as_deref(), data.and_then(non_empty)) {
                    let list = if elem == Elem::AssigneeXref {
                        &mut self.record.assignee
                    } else {
                        &mut self.record.contact
                    };
                    list.get_or_insert_with(Vec::new).push(id);
                }
                Sink::Nowhere
            }
            Elem::InlineXref { .. } => {
                let sink_buf = self.sink_buffer(parent_sink);
                match attribute(start, "data").and_then(non_empty) {
                    Some(data) => {
                        if let Some(buf) = sink_buf {
                            buf.push('[');
                            buf.push_str(&data);
                            buf.push(']');
                        }
                        self.push_frame(Elem::InlineXref { bracket: false }, Sink::Nowhere, local);
                        return Ok(());
                    }
                    None => {
                        if let Some(buf) = sink_buf {
                            buf.push('[');
                        }
                        let frame = Elem::InlineXref {
                            bracket: parent_sink != Sink::Nowhere,
                        };
                        self.push_frame(frame, parent_sink, local);
                        return Ok(());
                    }
                }
            }
            Elem::InlineOther => {
                // <br/>, <paragraph> and friends separate words.
                if let Some(buf) = self.sink_buffer(parent_sink) {
                    buf.push(' ');
                }
                parent_sink
            }
            Elem::People => {
                self.people_plain = start.attributes().flatten().all(|a| {
                    let key: &str = a.key.as_ref();
                    !key.starts_with("xmlns")
                });
                Sink::Nowhere
            }
            Elem::Registry | Elem::Assignee | Elem::Contact => Sink::Nowhere,
            Elem::Other => Sink::Nowhere,
        };
        let _ = empty;
        self.push_frame(elem, sink, local);
        Ok(())
    }

    fn push_frame(&mut self, elem: Elem, sink: Sink, name: &str) {
        let unknown_name = matches!(elem, Elem::InlineOther | Elem::Other).then(|| name.into());
        self.stack.push(Frame {
            elem,
            sink,
            unknown_name,
            qname: None,
        });
    }

    fn classify(&self, parent: Elem, local: &str, in_iana: bool) -> Elem {
        if !in_iana {
            return match parent {
                Elem::Field(_) | Elem::PersonField(_) | Elem::InlineOther => Elem::InlineOther,
                _ => Elem::Other,
            };
        }
        match (parent, local) {
            (Elem::Registry, "record") => Elem::Record,
            (Elem::Registry, "title") if self.stack.len() == 1 => Elem::Title,
            (Elem::Registry, "updated") if self.stack.len() == 1 => Elem::Updated,
            (Elem::Registry, "people") => Elem::People,
            (Elem::Record, "name") => Elem::Field(Field::Name),
            (Elem::Record, "protocol") => Elem::Field(Field::Protocol),
            (Elem::Record, "number") => Elem::Field(Field::Number),
            (Elem::Record, "description") => Elem::Field(Field::Description),
            (Elem::Record, "note") => Elem::Field(Field::Note),
            (Elem::Record, "sc") => Elem::Field(Field::ServiceCode),
            (Elem::Record, "unauthorized") => Elem::Field(Field::Unauthorized),
            (Elem::Record, "xref") => Elem::RecordXref,
            (Elem::Record, "assignee") => Elem::Assignee,
            (Elem::Record, "contact") => Elem::Contact,
            (Elem::Assignee, "xref") => Elem::AssigneeXref,
            (Elem::Contact, "xref") => Elem::ContactXref,
            (Elem::People, "person") => Elem::Person,
            (Elem::Person, "name") => Elem::PersonField(PersonField::Name),
            (Elem::Person, "org") => Elem::PersonField(PersonField::Org),
            (Elem::Person, "uri") => Elem::PersonField(PersonField::Uri),
            (Elem::Person, "updated") => Elem::PersonField(PersonField::Updated),
            (
                Elem::Field(_)
                | Elem::PersonField(_)
                | Elem::InlineOther
                | Elem::InlineXref { .. }
                | Elem::Title,
                "xref",
            ) => Elem::InlineXref { bracket: false },
            (
                Elem::Field(_)
                | Elem::PersonField(_)
                | Elem::InlineOther
                | Elem::InlineXref { .. }
                | Elem::Title
                | Elem::Updated
                | Elem::RecordXref,
                _,
            ) => Elem::InlineOther,
            _ => Elem::Other,
        }
    }

    fn sink_buffer(&mut self, sink: Sink) -> Option<&mut String> {
        match sink {
            Sink::Nowhere => None,
            Sink::Text => Some(&mut self.text),
            Sink::XrefText => Some(&mut self.xref_text),
        }
    }

    fn characters(&mut self, content: &str) -> Result<(), ParseError> {
        match self.stack.last() {
            Some(frame) => {
                if let Some(buf) = self.sink_buffer(frame.sink) {
                    buf.push_str(content);
                }
                Ok(())
            }
            None if content.trim_matches(text::is_xml_space).is_empty() => Ok(()),
            None => Err(ParseError::Malformed {
                position: 0,
                message: "text outside the root element".into(),
            }),
        }
    }

    fn close(&mut self) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let parent_sink = self.stack.last().map_or(Sink::Nowhere, |p| p.sink);
        match frame.elem {
            Elem::Registry => {
                if self.stack.is_empty() {
                    self.root_closed = true;
                }
            }
            Elem::Title => self.title = normalise(&self.text),
            Elem::Updated => self.updated = normalise(&self.text),
            Elem::Field(field) => {
                let value = normalise(&self.text);
                let value = match field {
                    Field::Protocol => value.map(|p| p.to_lowercase()),
                    _ => value,
                };
                let slot = match field {
                    Field::Name => &mut self.record.name,
                    Field::Protocol => &mut self.record.protocol,
                    Field::Number => &mut self.record.port,
                    Field::Description => &mut self.record.description,
                    Field::Note => &mut self.record.notes,
                    Field::ServiceCode => &mut self.record.service_code,
                    Field::Unauthorized => &mut self.record.unauthorized,
                };
                join_into(slot, value);
            }
            Elem::PersonField(field) => {
                let value = normalise(&self.text);
                let slot = match field {
                    PersonField::Name => &mut self.person.name,
                    PersonField::Org => &mut self.person.org,
                    PersonField::Uri => &mut self.person.uri,
                    PersonField::Updated => &mut self.person.updated,
                };
                join_into(slot, value);
            }
            Elem::RecordXref => {
                let xref = std::mem::take(&mut self.xref);
                if xref.kind == "person" {
                    if let Some(id) = xref.data {
                        self.record.contact.get_or_insert_with(Vec::new).push(id);
                    }
                } else {
                    let text = normalise(&self.xref_text);
                    let reference = reference_string(&xref, text.as_deref());
                    if let Some(reference) = reference {
                        self.record
                            .references
                            .get_or_insert_with(Vec::new)
                            .push(reference);
                    }
                }
            }
            Elem::InlineXref { bracket: true } => {
                if let Some(buf) = self.sink_buffer(parent_sink) {
                    buf.push(']');
                }
            }
            Elem::InlineOther => {
                if let Some(buf) = self.sink_buffer(parent_sink) {
                    buf.push(' ');
                }
            }
            Elem::Record => {
                let record = std::mem::take(&mut self.record);
                self.push_record(record);
            }
            Elem::Person => {
                let person = std::mem::take(&mut self.person);
                if !person.id.is_empty() {
                    self.hashes.people.push(person.content_hash());
                    self.people.push(Arc::new(person));
                }
            }
            Elem::InlineXref { bracket: false }
            | Elem::Assignee
            | Elem::AssigneeXref
            | Elem::Contact
            | Elem::ContactXref
            | Elem::People
            | Elem::Other => {}
        }
    }
}

/// `type:data[ section S][ (TEXT)]`, or `type:TEXT` for an xref without data.
fn reference_string(xref: &RecordXref, text: Option<&str>) -> Option<String> {
    let kind = if xref.kind.is_empty() {
        "unknown"
    } else {
        &xref.kind
    };
    let mut reference = match (&xref.data, text) {
        (Some(data), _) => format!("{kind}:{data}"),
        (None, Some(text)) => return Some(format!("{kind}:{text}")),
        (None, None) => return None,
    };
    if let Some(section) = &xref.section {
        reference.push_str(" section ");
        reference.push_str(section);
    }
    if let Some(text) = text {
        reference.push_str(" (");
        reference.push_str(text);
        reference.push(')');
    }
    Some(reference)
}

fn join_into(slot: &mut Option<String>, value: Option<String>) {
    match (slot.as_mut(), value) {
        (_, None) => {}
        (None, Some(value)) => *slot = Some(value),
        (Some(existing), Some(value)) => {
            existing.push_str(", ");
            existing.push_str(&value);
        }
    }
}

fn non_empty(value: String) -> Option<String> {
    let trimmed = value.trim_matches(text::is_xml_space);
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// Whether a new reader may start here and read what the old one would: white space, then a
/// start or end tag. A reader treats its first bytes specially (a byte-order mark is dropped,
/// an XML declaration is allowed), so it never starts before anything else.
fn restartable_at(rest: &[u8]) -> bool {
    let rest = rest.trim_ascii_start();
    rest.first() == Some(&b'<')
        && rest
            .get(1)
            .is_some_and(|&b| b == b'/' || b.is_ascii_alphabetic() || b == b'_' || b >= 0x80)
}

/// Reads events and tells whether an element is in IANA's namespace (or in none).
enum XmlReader<'a> {
    /// Where the namespace follows from the name (see [`namespaces_follow_from_names`]).
    Plain(Reader<&'a [u8]>),
    Namespaced(NsReader<&'a [u8]>),
}

impl<'a> XmlReader<'a> {
    fn new(bytes: &'a [u8], plain: bool) -> XmlReader<'a> {
        let mut reader = if plain {
            XmlReader::Plain(Reader::from_reader(bytes))
        } else {
            XmlReader::Namespaced(NsReader::from_reader(bytes))
        };
        let config = match &mut reader {
            XmlReader::Plain(reader) => reader.config_mut(),
            XmlReader::Namespaced(reader) => reader.config_mut(),
        };
        // End tags are matched by the parser, against its own frames (see `feed`).
        config.check_end_names = false;
        config.allow_unmatched_ends = true;
        reader
    }

    fn read_event(&mut self) -> Result<(bool, Event<'a>), quick_xml::Error> {
        match self {
            XmlReader::Plain(reader) => {
                let event = reader.read_event()?;
                let prefixed = matches!(&event, Event::Start(e) | Event::Empty(e) if e.name().prefix().is_some());
                Ok((!prefixed, event))
            }
            XmlReader::Namespaced(reader) => {
                let (namespace, event) = reader.read_resolved_event()?;
                let in_iana = match namespace {
                    ResolveResult::Bound(Namespace(ns)) => ns == IANA_NAMESPACE,
                    ResolveResult::Unbound => true,
                    ResolveResult::Unknown(_) => false,
                };
                Ok((in_iana, event))
            }
        }
    }

    fn buffer_position(&self) -> u64 {
        match self {
            XmlReader::Plain(reader) => reader.buffer_position(),
            XmlReader::Namespaced(reader) => reader.buffer_position(),
        }
    }

    fn error_position(&self) -> u64 {
        match self {
            XmlReader::Plain(reader) => reader.error_position(),
            XmlReader::Namespaced(reader) => reader.error_position(),
        }
    }
}

/// Whether every element's namespace follows from its name alone: the root declares at most
/// the default namespace, as IANA's, and nothing else declares one (`xmlns` appears nowhere
/// else, as in every real version). Then an unprefixed element is in IANA's namespace and a
/// prefixed one is not, so a plain reader reads the document exactly as a namespace-aware one
/// does, without its bookkeeping (a fifth of the parse).
fn namespaces_follow_from_names(document: &[u8]) -> bool {
    let declarations = memchr::memmem::find_iter(document, b"xmlns").count();
    if declarations > 1 {
        return false;
    }
    let mut reader = Reader::from_reader(document);
    loop {
        match reader.read_event() {
            Ok(Event::Start(root) | Event::Empty(root)) => {
                let declared: Vec<_> = root
                    .attributes()
                    .with_checks(false)
                    .flatten()
                    .filter(|a| {
                        let key: &str = a.key.as_ref();
                        key.starts_with("xmlns")
                    })
                    .collect();
                return declared.len() == declarations
                    && declared.iter().all(|a| {
                        let key: &str = a.key.as_ref();
                        key == "xmlns" && a.value.as_ref() == IANA_NAMESPACE
                    });
            }
            // Whatever is wrong, the namespace-aware reader finds and reports it.
            Ok(Event::Eof) | Err(_) => return false,
            Ok(_) => {}
        }
    }
}

/// Where `name` (borrowed from the document by the reader) lies in `document`.
fn name_span(document: &[u8], name: &[u8]) -> Option<(usize, usize)> {
    let start = (name.as_ptr() as usize).checked_sub(document.as_ptr() as usize)?;
    (start + name.len() <= document.len()).then_some((start, name.len()))
}

/// The unescaped value of the attribute with this local name, if present and readable.
fn attribute(start: &BytesStart, wanted: &str) -> Option<String> {
    let [value] = attributes(start, [wanted]);
    value
}

/// The unescaped values of the attributes with these local names (the first of each name, if
/// readable), in one pass over the tag.
fn attributes<const N: usize>(start: &BytesStart, wanted: [&str; N]) -> [Option<String>; N] {
    let mut found: [Option<Option<String>>; N] = std::array::from_fn(|_| None);
    // Without quick-xml's duplicate check (a list of the names seen, allocated per tag): the
    // first of each name is taken, which is what the check would have left readable anyway.
    for attr in start.attributes().with_checks(false).flatten() {
        let name = attr.key.local_name();
        let Some(i) = wanted.iter().position(|w| name.as_ref() == *w) else {
            continue;
        };
        if found[i].is_none() {
            found[i] = Some(
                attr.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .ok()
                    .map(|v| v.into_owned()),
            );
        }
    }
    found.map(Option::flatten)
}

#[cfg(test)]
mod tests;
