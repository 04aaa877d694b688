//! What each element of a registry document is, as far as the registry goes: the parser keeps
//! a stack of these, one per open element. Which elements hold which fields is the record's
//! ([`ParseRules`]).

use crate::model::{Field, ParseRules};

/// What an open element is, as far as the parser cares; `F` is the record's field type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Elem<F> {
    /// The root `<registry>`.
    Root,
    /// The `<registry>` inside the root that holds the records, for a registry that keeps
    /// them there (see [`ParseRules::records_in`]).
    Records,
    Title,
    Updated,
    Record,
    /// A record's text field (`<name>`, `<number>`, `<note>`, ...).
    Field(F),
    RecordXref,
    /// An element whose `<xref type="person">` children make a list field (`<assignee>`).
    People(F),
    PeopleXref(F),
    InlineXref {
        bracket: bool,
    },
    InlineOther,
    PersonList,
    Person,
    PersonField(PersonField),
    Other,
}

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
pub(super) struct Frame<F> {
    pub elem: Elem<F>,
    pub sink: Sink,
    /// The element's name when [`Elem`] does not say it (unknown elements), for messages.
    pub unknown_name: Option<Box<str>>,
    /// Where its qualified name is in the document, to match its end tag.
    pub qname: Option<(usize, usize)>,
}

/// The element of `elements` that holds `field`.
fn element_of<F: Field>(elements: &[(&'static str, F)], field: F) -> &'static str {
    elements
        .iter()
        .find_map(|&(name, f)| (f == field).then_some(name))
        .unwrap_or("?")
}

impl<F: Field> Frame<F> {
    /// The element's local name.
    pub fn name(&self, rules: &ParseRules<F>) -> &str {
        match self.elem {
            Elem::Root | Elem::Records => "registry",
            Elem::Title => "title",
            Elem::Updated => "updated",
            Elem::Record => "record",
            Elem::Field(field) => element_of(rules.text_elements, field),
            Elem::People(field) => element_of(rules.people_elements, field),
            Elem::PersonField(PersonField::Name) => "name",
            Elem::RecordXref | Elem::PeopleXref(_) => "xref",
            Elem::InlineXref { .. } => "xref",
            Elem::PersonList => "people",
            Elem::Person => "person",
            Elem::PersonField(PersonField::Org) => "org",
            Elem::PersonField(PersonField::Uri) => "uri",
            Elem::PersonField(PersonField::Updated) => "updated",
            Elem::InlineOther | Elem::Other => self.unknown_name.as_deref().unwrap_or("?"),
        }
    }
}

/// Whether `<record>` children of this element are the registry's records.
pub(super) fn holds_records<F: Field>(elem: Elem<F>, rules: &ParseRules<F>) -> bool {
    match elem {
        Elem::Root => rules.records_in.is_none(),
        Elem::Records => true,
        _ => false,
    }
}

/// What an element is, from its parent, its local name and its namespace. A `<registry>`
/// inside the root is [`Elem::Other`] here: whether it holds the records depends on its id.
pub(super) fn classify<F: Field>(
    rules: &ParseRules<F>,
    parent: Elem<F>,
    local: &str,
    in_iana: bool,
) -> Elem<F> {
    if !in_iana {
        return match parent {
            Elem::Field(_) | Elem::PersonField(_) | Elem::InlineOther => Elem::InlineOther,
            _ => Elem::Other,
        };
    }
    if parent == Elem::Record {
        if let Some(field) = field_of(rules.text_elements, local) {
            return Elem::Field(field);
        }
        if let Some(field) = field_of(rules.people_elements, local) {
            return Elem::People(field);
        }
    }
    if local == "record" && holds_records(parent, rules) {
        return Elem::Record;
    }
    match (parent, local) {
        (Elem::Root, "title") => Elem::Title,
        (Elem::Root, "updated") => Elem::Updated,
        (Elem::Root, "people") => Elem::PersonList,
        (Elem::Record, "xref") => Elem::RecordXref,
        (Elem::People(field), "xref") => Elem::PeopleXref(field),
        (Elem::PersonList, "person") => Elem::Person,
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

/// The field an element of this name holds, by `elements`.
fn field_of<F: Field>(elements: &[(&'static str, F)], local: &str) -> Option<F> {
    elements
        .iter()
        .find_map(|&(name, field)| (name == local).then_some(field))
}
