//! The loop that reads a document: events from [`super::reader`] go to the [`Builder`];
//! elements the [`ParseMemo`] holds are skipped at the byte level and taken from it.

use super::ParseError;
use super::builder::{Builder, Reusable};
use super::elements::Elem;
use super::memo::{Memoized, ParseMemo};
use super::reader::{XmlReader, name_span, namespaces_follow_from_names, restartable_at};
use super::text::push_entity;
use crate::model::{Document, Record};
use memchr::memmem::Finder;
use quick_xml::events::{BytesStart, Event};
use std::sync::LazyLock;

// Searchers for the end tags of reusable elements, built once (building one per element cost
// 4% of a batch import).
static RECORD_END: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"</record>"));
static PERSON_END: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"</person>"));

/// One document being read; `R` is the registry's record.
pub(super) struct Parser<'m, R: Record> {
    builder: Builder<R>,
    /// The previous document's elements, to reuse.
    memo: Option<&'m mut ParseMemo<R>>,
    /// Where the reusable element being parsed started, to remember it when it ends.
    element_start: Option<usize>,
    /// Read with namespace resolution even where names alone tell the namespace (see
    /// [`namespaces_follow_from_names`]); for checking that both readings agree.
    namespace_aware: bool,
}

/// What the reader found, for the loop.
enum Next {
    /// Go on reading.
    Read,
    /// An element was taken from the memo: a new reader starts at this byte.
    RestartAt(usize),
    End,
}

impl<'m, R: Record> Parser<'m, R> {
    pub(super) fn new(memo: Option<&'m mut ParseMemo<R>>, namespace_aware: bool) -> Parser<'m, R> {
        Parser {
            builder: Builder::default(),
            memo,
            element_start: None,
            namespace_aware,
        }
    }

    pub(super) fn run(mut self, document: &[u8]) -> Result<Document<R>, ParseError> {
        self.builder = Builder::for_document(document.len());
        if let Some(memo) = self.memo.as_deref_mut() {
            memo.begin();
        }
        let result = self.feed(document).and_then(|()| self.builder.finish());
        if let Some(memo) = self.memo {
            memo.end(document, result.is_ok());
        }
        result
    }

    /// Reads the document, skipping the elements the memo holds.
    ///
    /// A reused element is skipped at the byte level, and reading goes on with a new reader
    /// after it. So end tags are matched here, against the names the frames keep, rather than
    /// by quick-xml (whose record of open elements a new reader would not have).
    fn feed(&mut self, document: &[u8]) -> Result<(), ParseError> {
        let plain = !self.namespace_aware && namespaces_follow_from_names(document);
        let mut pos = 0;
        loop {
            let mut reader = XmlReader::new(&document[pos..], plain);
            let restart = loop {
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
                let event_end = pos + reader.buffer_position() as usize;
                match self.event(document, event_start, event_end, event, in_iana)? {
                    Next::Read => {}
                    Next::RestartAt(at) => break Some(at),
                    Next::End => break None,
                }
            };
            match restart {
                Some(at) => pos = at,
                None => return Ok(()),
            }
        }
    }

    /// One event, which starts at `document[at]` and ends at `end`.
    fn event(
        &mut self,
        document: &[u8],
        at: usize,
        end: usize,
        event: Event,
        in_iana: bool,
    ) -> Result<Next, ParseError> {
        match event {
            Event::Start(start) => return self.start(document, at, &start, in_iana),
            Event::Empty(start) => {
                self.builder.open(&start, in_iana, None)?;
                self.builder.close();
            }
            Event::End(tag) => {
                self.check_end(document, tag.name().as_ref().as_bytes(), at)?;
                self.end(document, end);
            }
            // Most text is the white space between elements, which nothing keeps.
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_)
                if !self.builder.keeps_text() => {}
            Event::Text(text) => self.builder.characters(&text.xml10_content())?,
            Event::CData(cdata) => self.builder.characters(&cdata.xml10_content())?,
            Event::GeneralRef(reference) => {
                let mut resolved = String::new();
                push_entity(&mut resolved, &reference);
                self.builder.characters(&resolved)?;
            }
            Event::Eof => return Ok(Next::End),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
        Ok(Next::Read)
    }

    /// A start tag at `document[at]`: an element the memo holds is taken whole, anything else
    /// opens.
    fn start(
        &mut self,
        document: &[u8],
        at: usize,
        start: &BytesStart,
        in_iana: bool,
    ) -> Result<Next, ParseError> {
        let reusable = in_iana && self.memo.is_some();
        if let Some(kind) = reusable
            .then(|| self.builder.reusable(start.name().as_ref()))
            .flatten()
        {
            if let Some(end) = self.reuse(document, at, kind) {
                return Ok(Next::RestartAt(end));
            }
            self.element_start = Some(at);
        }
        let qname = name_span(document, start.name().as_ref().as_bytes());
        self.builder.open(start, in_iana, qname)?;
        Ok(Next::Read)
    }

    /// Takes the element starting at `document[at]` from the memo, if it holds its exact
    /// bytes and a reader can start after it, and the unchanged ones after it; where they end.
    fn reuse(&mut self, document: &[u8], at: usize, kind: Reusable) -> Option<usize> {
        let close_tag: &Finder = match kind {
            Reusable::Record => &RECORD_END,
            Reusable::Person => &PERSON_END,
        };
        let mut end = at + close_tag.find(&document[at..])? + close_tag.needle().len();
        if !restartable_at(&document[end..]) {
            return None;
        }
        let memo = self.memo.as_deref_mut()?;
        let mut item = memo.take(document, at, end)?;
        loop {
            match item {
                Memoized::Record(record, hash) => self.builder.push_record(record, hash),
                Memoized::Person(Some((person, hash))) => self.builder.push_person(person, hash),
                Memoized::Person(None) => {}
            }
            let ends_well = |end: usize| restartable_at(&document[end..]);
            match memo.take_next(document, end, ends_well) {
                Some((next, next_end)) => (item, end) = (next, next_end),
                None => return Some(end),
            }
        }
    }

    /// The innermost element ends at `document[..end]`; a reusable one is remembered.
    fn end(&mut self, document: &[u8], end: usize) {
        let people = self.builder.people_count();
        let closed = self.builder.close();
        let Some(at) = self.element_start else {
            return;
        };
        let item = match closed {
            Some(Elem::Record) => {
                let (record, hash) = self.builder.last_record().unwrap_or_default();
                Memoized::Record(record, hash)
            }
            Some(Elem::Person) => Memoized::Person(self.builder.person_at(people)),
            _ => return,
        };
        self.element_start = None;
        if let Some(memo) = self.memo.as_deref_mut() {
            memo.remember(document, at, end, item);
        }
    }

    /// An end tag must close the innermost open element, by the same name.
    fn check_end(&self, document: &[u8], name: &[u8], at: usize) -> Result<(), ParseError> {
        // Named only in an error: most end tags are fine.
        let found = || String::from_utf8_lossy(name);
        let Some(frame) = self.builder.innermost() else {
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
        if at_end && self.builder.inside_root() {
            let inside = self.builder.innermost_name().unwrap_or("registry");
            return ParseError::Truncated {
                inside: inside.to_owned(),
            };
        }
        ParseError::Malformed {
            position,
            message: error.to_string(),
        }
    }
}
