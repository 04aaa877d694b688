//! A document's records and people, built from its elements as they open and close: fields
//! filled, text normalised, references written as the contract says, ordinals and content
//! hashes given. The builder knows elements, never bytes: reading them is [`super::parser`]'s.

use super::elements::{Elem, Frame, PersonField, Sink, classify, holds_records};
use super::reader::{attribute, attributes};
use super::text::{self, normalise};
use super::{IANA_NAMESPACE, ParseError};
use crate::model::{ContentHashes, Document, Field, FieldSlot, Person, Record, RegistryDate};
use quick_xml::events::BytesStart;
use rustc_hash::{FxHashSet, FxHasher};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A record's own `<xref>` being read.
#[derive(Default)]
struct RecordXref {
    kind: String,
    data: Option<String>,
    section: Option<String>,
}

/// Everything known of the document so far; `R` is the registry's record.
pub(super) struct Builder<R: Record> {
    stack: Vec<Frame<R::Field>>,
    seen_root: bool,
    root_closed: bool,
    /// The root is unprefixed and binds no namespace but IANA's default (see
    /// [`Builder::reusable`]).
    root_plain: bool,
    /// `<people>` declares no namespace.
    people_plain: bool,
    title: Option<String>,
    updated: Option<String>,
    records: Vec<Arc<R>>,
    people: Vec<Arc<Person>>,
    /// The content hash of every record and person pushed, in document order.
    hashes: ContentHashes,
    /// Digests of the keys seen so far; a repeat (rare) is then counted exactly.
    key_digests: FxHashSet<u64>,
    record: R,
    person: Person,
    text: String,
    xref: RecordXref,
    xref_text: String,
}

/// An element a memo may hold: one of the registry's `<record>`s, or a `<person>` in `<people>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reusable {
    Record,
    Person,
}

impl<R: Record> Default for Builder<R> {
    fn default() -> Self {
        Builder {
            stack: Vec::new(),
            seen_root: false,
            root_closed: false,
            root_plain: false,
            people_plain: false,
            title: None,
            updated: None,
            records: Vec::new(),
            people: Vec::new(),
            hashes: ContentHashes::default(),
            key_digests: FxHashSet::default(),
            record: R::default(),
            person: Person::default(),
            text: String::new(),
            xref: RecordXref::default(),
            xref_text: String::new(),
        }
    }
}

impl<R: Record> Builder<R> {
    /// A builder sized for a document of this many bytes (a port record takes about 260
    /// bytes of XML, a person 150 after the records): growing a 5 MB vector by doubling
    /// copies it and faults in fresh pages.
    pub(super) fn for_document(len: usize) -> Builder<R> {
        Builder {
            records: Vec::with_capacity(len / 260),
            people: Vec::with_capacity(len / 600),
            ..Builder::default()
        }
    }

    /// The innermost open element.
    pub(super) fn innermost(&self) -> Option<&Frame<R::Field>> {
        self.stack.last()
    }

    /// The name of the innermost open element, for messages.
    pub(super) fn innermost_name(&self) -> Option<&str> {
        Some(self.stack.last()?.name(&R::RULES))
    }

    /// Whether the document has started and not ended: an end of input here cuts it short.
    pub(super) fn inside_root(&self) -> bool {
        self.seen_root && !self.root_closed
    }

    /// What an element of this name, opened now in IANA's namespace, would be if a memo may
    /// hold it: an unprefixed `<record>` of the registry or `<person>` in `<people>`, where
    /// no ancestor declares a namespace but the root's default, so it means the same wherever
    /// it stands.
    pub(super) fn reusable(&self, name: &str) -> Option<Reusable> {
        if !self.root_plain {
            return None;
        }
        let parent = self.stack.last()?.elem;
        match name {
            "record" if holds_records(parent, &R::RULES) => Some(Reusable::Record),
            "person" if parent == Elem::PersonList && self.people_plain => Some(Reusable::Person),
            _ => None,
        }
    }

    /// The record pushed last, with ordinal 1 as a memo keeps it, and its content hash.
    pub(super) fn last_record(&self) -> Option<(Arc<R>, i64)> {
        let record = match self.records.last()? {
            last if last.ordinal() == 1 => Arc::clone(last),
            last => {
                let mut first = R::clone(last);
                first.set_ordinal(1);
                Arc::new(first)
            }
        };
        Some((record, *self.hashes.records.last()?))
    }

    /// How many people were pushed so far.
    pub(super) fn people_count(&self) -> usize {
        self.people.len()
    }

    /// The person pushed at `index`, with its content hash.
    pub(super) fn person_at(&self, index: usize) -> Option<(Arc<Person>, i64)> {
        Some((
            Arc::clone(self.people.get(index)?),
            *self.hashes.people.get(index)?,
        ))
    }

    /// A record, hashed, with ordinal 1 (parsed afresh, or reused from a memo).
    pub(super) fn push_record(&mut self, mut record: Arc<R>, hash: i64) {
        self.hashes.records.push(hash);
        let ordinal = self.ordinal_of(&record);
        if ordinal != record.ordinal() {
            Arc::make_mut(&mut record).set_ordinal(ordinal);
        }
        self.records.push(record);
    }

    /// A person with its content hash.
    pub(super) fn push_person(&mut self, person: Arc<Person>, hash: i64) {
        self.hashes.people.push(hash);
        self.people.push(person);
    }

    /// 1 + the number of earlier records with the same key fields.
    fn ordinal_of(&mut self, record: &R) -> u32 {
        let mut hasher = FxHasher::default();
        for field in R::Field::KEY {
            field.value(record).hash(&mut hasher);
        }
        if self.key_digests.insert(hasher.finish()) {
            return 1;
        }
        let same_key = |other: &&Arc<R>| {
            R::Field::KEY
                .iter()
                .all(|field| field.value(other) == field.value(record))
        };
        1 + self.records.iter().filter(same_key).count() as u32
    }

    /// The document, once it has ended.
    pub(super) fn finish(self) -> Result<Document<R>, ParseError> {
        if !self.seen_root {
            return Err(ParseError::Malformed {
                position: 0,
                message: "no root element".into(),
            });
        }
        if let Some(inside) = self.innermost_name() {
            return Err(ParseError::Truncated {
                inside: inside.to_owned(),
            });
        }
        let updated = self.updated.ok_or(ParseError::NoUpdatedDate)?;
        let updated = updated
            .parse::<RegistryDate>()
            .map_err(|_| ParseError::BadUpdatedDate(updated))?;
        if self.records.is_empty() {
            return Err(ParseError::NoRecords);
        }
        Ok(Document {
            title: self.title,
            updated,
            records: self.records,
            people: self.people,
            hashes: self.hashes,
        })
    }

    /// An element starts: a frame for it (`qname`: where its name is in the document, to
    /// match its end tag), and whatever its start tag says.
    pub(super) fn open(
        &mut self,
        start: &BytesStart,
        in_iana: bool,
        qname: Option<(usize, usize)>,
    ) -> Result<(), ParseError> {
        let local_name = start.local_name();
        let local: &str = local_name.as_ref();
        let (elem, sink) = match self.stack.last().map(|f| (f.elem, f.sink)) {
            None => (self.open_root(start, local, in_iana)?, Sink::Nowhere),
            Some((Elem::Root, _)) if in_iana && local == "registry" => {
                (self.open_inner_registry(start), Sink::Nowhere)
            }
            Some((parent, parent_sink)) => {
                let elem = classify(&R::RULES, parent, local, in_iana);
                self.open_child(start, elem, parent_sink)
            }
        };
        let unknown_name = matches!(elem, Elem::InlineOther | Elem::Other).then(|| local.into());
        self.stack.push(Frame {
            elem,
            sink,
            unknown_name,
            qname,
        });
        Ok(())
    }

    /// The root: IANA's registry of the right id, or a refusal that says what it is instead.
    fn open_root(
        &mut self,
        start: &BytesStart,
        local: &str,
        in_iana: bool,
    ) -> Result<Elem<R::Field>, ParseError> {
        if self.seen_root {
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
        if id != R::REGISTRY.root_id() {
            return Err(ParseError::WrongRegistry {
                id,
                expected: R::REGISTRY,
            });
        }
        // The real registry binds only the default namespace, to IANA's.
        self.root_plain = start.name().as_ref() == "registry"
            && start.attributes().flatten().all(|a| {
                let key: &str = a.key.as_ref();
                key != "xmlns" && !key.starts_with("xmlns:")
                    || key == "xmlns" && a.value.as_ref() == IANA_NAMESPACE
            });
        Ok(Elem::Root)
    }

    /// A `<registry>` inside the root: the one that holds the records, if the registry keeps
    /// them in one of this id; any other is not the registry's.
    fn open_inner_registry(&mut self, start: &BytesStart) -> Elem<R::Field> {
        match R::RULES.records_in {
            Some(id) if attribute(start, "id").as_deref() == Some(id) => Elem::Records,
            _ => Elem::Other,
        }
    }

    /// An element inside the root: what its start tag says, and where its text goes.
    fn open_child(
        &mut self,
        start: &BytesStart,
        elem: Elem<R::Field>,
        parent_sink: Sink,
    ) -> (Elem<R::Field>, Sink) {
        let sink = match elem {
            Elem::Title | Elem::Updated | Elem::Field(_) | Elem::PersonField(_) => {
                self.text.clear();
                Sink::Text
            }
            Elem::Record => {
                let [date, updated] = attributes(start, ["date", "updated"]);
                self.record = R::default();
                for (field, value) in [(R::RULES.registered, date), (R::RULES.modified, updated)] {
                    if let FieldSlot::Text(slot) = field.slot(&mut self.record) {
                        *slot = value.and_then(non_empty);
                    }
                }
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
            Elem::PeopleXref(field) => {
                self.open_person_xref(start, field);
                Sink::Nowhere
            }
            Elem::InlineXref { .. } => return self.open_inline_xref(start, parent_sink),
            Elem::InlineOther => {
                // <br/>, <paragraph> and friends separate words.
                if let Some(buf) = self.sink_buffer(parent_sink) {
                    buf.push(' ');
                }
                parent_sink
            }
            Elem::PersonList => {
                self.people_plain = start.attributes().flatten().all(|a| {
                    let key: &str = a.key.as_ref();
                    !key.starts_with("xmlns")
                });
                Sink::Nowhere
            }
            Elem::Root | Elem::Records | Elem::People(_) | Elem::Other => Sink::Nowhere,
        };
        (elem, sink)
    }

    /// `<assignee><xref type="person" data="ID"/>`: the id joins the element's list field.
    fn open_person_xref(&mut self, start: &BytesStart, field: R::Field) {
        let [kind, data] = attributes(start, ["type", "data"]);
        if let (Some("person"), Some(id)) = (kind.as_deref(), data.and_then(non_empty)) {
            push_to_list(field.slot(&mut self.record), id);
        }
    }

    /// An `<xref>` inside text: `[data]`, or its own text in brackets when it has no data
    /// (the element then says that a closing bracket is owed).
    fn open_inline_xref(
        &mut self,
        start: &BytesStart,
        parent_sink: Sink,
    ) -> (Elem<R::Field>, Sink) {
        let buf = self.sink_buffer(parent_sink);
        match attribute(start, "data").and_then(non_empty) {
            Some(data) => {
                if let Some(buf) = buf {
                    buf.push('[');
                    buf.push_str(&data);
                    buf.push(']');
                }
                (Elem::InlineXref { bracket: false }, Sink::Nowhere)
            }
            None => {
                if let Some(buf) = buf {
                    buf.push('[');
                }
                let bracket = parent_sink != Sink::Nowhere;
                (Elem::InlineXref { bracket }, parent_sink)
            }
        }
    }

    fn sink_buffer(&mut self, sink: Sink) -> Option<&mut String> {
        match sink {
            Sink::Nowhere => None,
            Sink::Text => Some(&mut self.text),
            Sink::XrefText => Some(&mut self.xref_text),
        }
    }

    /// Whether character data now goes anywhere: into an open element's text, or (outside the
    /// root element) to be refused unless it is white space.
    pub(super) fn keeps_text(&self) -> bool {
        self.stack
            .last()
            .is_none_or(|frame| frame.sink != Sink::Nowhere)
    }

    /// Character data: into the open element's text, if it keeps any.
    pub(super) fn characters(&mut self, content: &str) -> Result<(), ParseError> {
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
}

impl<R: Record> Builder<R> {
    /// The innermost element ends: what it held goes where it belongs. Returns what it was.
    pub(super) fn close(&mut self) -> Option<Elem<R::Field>> {
        let frame = self.stack.pop()?;
        let parent_sink = self.stack.last().map_or(Sink::Nowhere, |p| p.sink);
        match frame.elem {
            Elem::Root => self.root_closed = true,
            Elem::Title => self.title = normalise(&self.text),
            Elem::Updated => self.updated = normalise(&self.text),
            Elem::Field(field) => self.close_field(field),
            Elem::PersonField(field) => self.close_person_field(field),
            Elem::RecordXref => self.close_record_xref(),
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
                let hash = record.content_hash();
                self.push_record(Arc::new(record), hash);
            }
            Elem::Person => {
                let person = std::mem::take(&mut self.person);
                if !person.id.is_empty() {
                    let hash = person.content_hash();
                    self.push_person(Arc::new(person), hash);
                }
            }
            Elem::InlineXref { bracket: false }
            | Elem::Records
            | Elem::People(_)
            | Elem::PeopleXref(_)
            | Elem::PersonList
            | Elem::Other => {}
        }
        Some(frame.elem)
    }

    fn close_field(&mut self, field: R::Field) {
        let value = normalise(&self.text);
        match field.slot(&mut self.record) {
            FieldSlot::Text(slot) if R::RULES.lower_case.contains(&field) => {
                join_into(slot, value.map(|text| text.to_lowercase()))
            }
            FieldSlot::Text(slot) => join_into(slot, value),
            // `<ipv6>Y</ipv6>`: a yes in any case.
            FieldSlot::Flag(flag) => *flag = value.is_some_and(|v| v.eq_ignore_ascii_case("y")),
            FieldSlot::List(list) => {
                if let Some(value) = value {
                    list.get_or_insert_with(Vec::new).push(value);
                }
            }
        }
    }

    fn close_person_field(&mut self, field: PersonField) {
        let value = normalise(&self.text);
        let slot = match field {
            PersonField::Name => &mut self.person.name,
            PersonField::Org => &mut self.person.org,
            PersonField::Uri => &mut self.person.uri,
            PersonField::Updated => &mut self.person.updated,
        };
        join_into(slot, value);
    }

    /// A record's own `<xref>`: a contact when it names a person, else a reference.
    fn close_record_xref(&mut self) {
        let xref = std::mem::take(&mut self.xref);
        if xref.kind == "person" {
            if let Some(id) = xref.data {
                push_to_list(R::RULES.contact.slot(&mut self.record), id);
            }
            return;
        }
        let text = normalise(&self.xref_text);
        if let Some(reference) = reference_string(&xref, text.as_deref()) {
            push_to_list(R::RULES.references.slot(&mut self.record), reference);
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

/// Adds an item to a list field (a field of another kind takes nothing).
fn push_to_list(slot: FieldSlot, item: String) {
    if let FieldSlot::List(list) = slot {
        list.get_or_insert_with(Vec::new).push(item);
    }
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
    match trimmed.len() {
        0 => None,
        // Most values are trimmed already: kept as they are, not copied.
        len if len == value.len() => Some(value),
        _ => Some(trimmed.to_owned()),
    }
}
