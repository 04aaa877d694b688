//! What each element of a registry document is, as far as the registry goes: the parser keeps
//! a stack of these, one per open element.

use crate::model::RecordField;

/// What an open element is, as far as the parser cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Elem {
    Registry,
    Title,
    Updated,
    Record,
    /// A record's text field (`<name>`, `<number>`, `<note>`, ...).
    Field(RecordField),
    RecordXref,
    Assignee,
    AssigneeXref,
    Contact,
    ContactXref,
    InlineXref {
        bracket: bool,
    },
    InlineOther,
    People,
    Person,
    PersonField(PersonField),
    Other,
}

/// The elements of a record that hold a text field, and the field each holds.
const RECORD_TEXT_ELEMENTS: [(&str, RecordField); 7] = [
    ("name", RecordField::Name),
    ("protocol", RecordField::Protocol),
    ("number", RecordField::Port),
    ("description", RecordField::Description),
    ("note", RecordField::Notes),
    ("sc", RecordField::ServiceCode),
    ("unauthorized", RecordField::Unauthorized),
];

/// A person's text field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PersonField {
    Name,
    Org,
    Uri,
    Updated,
}

/// Where character data under the current element goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sink {
    Nowhere,
    Text,
    XrefText,
}

/// An open element.
#[derive(Debug, Clone)]
pub(super) struct Frame {
    pub elem: Elem,
    pub sink: Sink,
    /// The element's name when [`Elem`] does not say it (unknown elements), for messages.
    pub unknown_name: Option<Box<str>>,
    /// Where its qualified name is in the document, to match its end tag.
    pub qname: Option<(usize, usize)>,
}

impl Frame {
    /// The element's local name.
    pub fn name(&self) -> &str {
        match self.elem {
            Elem::Registry => "registry",
            Elem::Title => "title",
            Elem::Updated => "updated",
            Elem::Record => "record",
            Elem::Field(field) => RECORD_TEXT_ELEMENTS
                .iter()
                .find_map(|&(name, f)| (f == field).then_some(name))
                .unwrap_or("?"),
            Elem::PersonField(PersonField::Name) => "name",
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

/// What an element is, from its parent, its local name and its namespace. `top_level`: the
/// parent is the root element.
pub(super) fn classify(parent: Elem, local: &str, in_iana: bool, top_level: bool) -> Elem {
    if !in_iana {
        return match parent {
            Elem::Field(_) | Elem::PersonField(_) | Elem::InlineOther => Elem::InlineOther,
            _ => Elem::Other,
        };
    }
    if parent == Elem::Record
        && let Some(field) = record_text_field(local)
    {
        return Elem::Field(field);
    }
    match (parent, local) {
        (Elem::Registry, "record") => Elem::Record,
        (Elem::Registry, "title") if top_level => Elem::Title,
        (Elem::Registry, "updated") if top_level => Elem::Updated,
        (Elem::Registry, "people") => Elem::People,
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

/// The record field an element of this name holds.
fn record_text_field(local: &str) -> Option<RecordField> {
    RECORD_TEXT_ELEMENTS
        .iter()
        .find_map(|&(name, field)| (name == local).then_some(field))
}
