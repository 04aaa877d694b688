//! The parser's state and its driving loop: events from [`super::reader`], elements reused from
//! [`super::memo`], everything else built by [`super::build`].

use super::ParseError;
use super::elements::{Elem, Frame};
use super::memo::{MemoEntries, Memoized, ParseMemo};
use super::reader::{XmlReader, name_span, namespaces_follow_from_names, restartable_at};
use super::stream::RecordStream;
use super::text::push_entity;
use crate::model::{ContentHashes, Person, Record, Registry};
use quick_xml::events::Event;
use rustc_hash::FxHashSet;
use std::sync::Arc;

/// A record's own `<xref>` being read.
#[derive(Default)]
pub(super) struct RecordXref {
    pub(super) kind: String,
    pub(super) data: Option<String>,
    pub(super) section: Option<String>,
}

/// Everything the parser knows while it reads one document.
#[derive(Default)]
pub(super) struct Parser {
    pub(super) stack: Vec<Frame>,
    pub(super) seen_root: bool,
    pub(super) root_closed: bool,
    pub(super) title: Option<String>,
    pub(super) updated: Option<String>,
    pub(super) records: Vec<Arc<Record>>,
    pub(super) people: Vec<Arc<Person>>,
    pub(super) record: Record,
    pub(super) person: Person,
    pub(super) text: String,
    pub(super) xref: RecordXref,
    pub(super) xref_text: String,
    /// Digests of the keys seen so far; a repeat (rare) is then counted exactly.
    pub(super) key_digests: FxHashSet<u64>,
    /// The previous document's elements, when reuse is allowed for this document.
    pub(super) memo: Option<ParseMemo>,
    /// Whether this document's context allows reuse (see [`super::parse_registry_with_memo`]).
    pub(super) reuse_allowed: bool,
    /// This document's elements, for the next one.
    pub(super) new_entries: MemoEntries,
    /// Where the reusable element being parsed started.
    pub(super) element_start: Option<usize>,
    /// Whether `<people>` declares no namespace (persons in it may then be reused).
    pub(super) people_plain: bool,
    /// The content hashes of what was pushed (a memo keeps them with its elements, so a batch
    /// hashes only what changed).
    pub(super) hashes: ContentHashes,
    /// Read with namespace resolution even where names alone tell the namespace (see
    /// [`namespaces_follow_from_names`]); for checking that both readings agree.
    pub(super) namespace_aware: bool,
    /// Where records go as they are parsed, if anywhere (see [`super::stream`]).
    pub(super) stream: Option<RecordStream>,
}

impl Parser {
    pub(super) fn run(&mut self, bytes: &[u8]) -> Result<Registry, ParseError> {
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
                        self.open(&start, in_iana)?;
                        let qname = name_span(document, start.name().as_ref().as_bytes());
                        if let Some(frame) = self.stack.last_mut() {
                            frame.qname = qname;
                        }
                    }
                    Event::Empty(start) => {
                        self.open(&start, in_iana)?;
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
}
