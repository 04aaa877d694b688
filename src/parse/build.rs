//! Records and people built from the elements as they open and close: fields filled, text
//! normalised, references written as the contract says, ordinals and content hashes given.

use super::IANA_NAMESPACE;
use super::ParseError;
use super::REGISTRY_ID;
use super::elements::{Elem, Frame, PersonField, Sink, classify};
use super::parser::{Parser, RecordXref};
use super::reader::{attribute, attributes};
use super::text::{self, normalise};
use crate::model::{Person, Record, RecordField, Registry};
use quick_xml::events::BytesStart;
use rustc_hash::FxBuildHasher;
use std::hash::BuildHasher;
use std::sync::Arc;

impl Parser {
    pub(super) fn finish(&mut self) -> Result<Registry, ParseError> {
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

    /// A freshly parsed record, hashed (a memo keeps the hash with the element, so a batch
    /// hashes only what changed).
    fn push_record(&mut self, record: Record) {
        let hash = record.content_hash();
        self.push_record_hashed(Arc::new(record), hash);
    }

    /// `record` comes with ordinal 1 (parsed afresh, or from the memo).
    pub(super) fn push_record_hashed(&mut self, mut record: Arc<Record>, hash: i64) {
        self.hashes.records.push(hash);
        let ordinal = self.ordinal_of(&record);
        if ordinal != record.ordinal {
            Arc::make_mut(&mut record).ordinal = ordinal;
        }
        self.records.push(record);
        self.stream_records();
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

    /// An element starts: a frame for it, and whatever its start tag says (attributes).
    pub(super) fn open(&mut self, start: &BytesStart, in_iana: bool) -> Result<(), ParseError> {
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
            Some((parent, _)) => classify(parent, local, in_iana, self.stack.len() == 1),
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
        self.push_frame(elem, sink, local);
        Ok(())
    }

    pub(super) fn push_frame(&mut self, elem: Elem, sink: Sink, name: &str) {
        let unknown_name = matches!(elem, Elem::InlineOther | Elem::Other).then(|| name.into());
        self.stack.push(Frame {
            elem,
            sink,
            unknown_name,
            qname: None,
        });
    }

    fn sink_buffer(&mut self, sink: Sink) -> Option<&mut String> {
        match sink {
            Sink::Nowhere => None,
            Sink::Text => Some(&mut self.text),
            Sink::XrefText => Some(&mut self.xref_text),
        }
    }

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

    pub(super) fn close(&mut self) {
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
                    RecordField::Protocol => value.map(|p| p.to_lowercase()),
                    _ => value,
                };
                if let Some(slot) = field.text_mut(&mut self.record) {
                    join_into(slot, value);
                }
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
                    self.end_record_stream();
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
