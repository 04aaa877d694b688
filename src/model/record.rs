//! What every registry's record is: the [`Record`] trait, its table of fields ([`Field`]),
//! its identity across snapshots ([`RecordKey`]), and the digest of its content.
//!
//! Each registry writes its record once, in its own module ([`super::service`],
//! [`super::protocol`]): the struct, its field table (the [`record_fields!`] macro), its key,
//! where its documents keep records, how its text is read, and its tables in the store.
//! Everything else (the parser, the store, the diff, the reports, the renderers) works from
//! those alone.

use super::digest::ContentDigest;
use super::port::PortRange;
use super::registry::{Registry, RegistryInfo};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt::{Debug, Display};
use std::hash::Hash;

/// A record of a registry, normalised as the contract says.
pub trait Record:
    Clone + Debug + Default + PartialEq + Eq + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// Its fields, in contract order.
    type Field: Field<Record = Self>;
    /// The registry it is a record of.
    const REGISTRY: Registry;
    /// That registry's name, root id, URL and words.
    const INFO: RegistryInfo;
    /// How its documents are read.
    const RULES: ParseRules<Self::Field>;
    /// Where the store keeps its history.
    const TABLES: RecordTables;
    /// The key field users look records up by name with (a service name, a keyword).
    const NAME: Self::Field;
    /// The fields `search` looks in.
    const SEARCHED: &'static [Self::Field];
    /// A key field that narrows a lookup (`443/tcp`: the transport protocol), if it has one.
    const QUALIFIER: Option<Self::Field>;
    /// What tables call [`Record::label`] and [`Record::owners`]: `port`, `assignee`.
    const LABEL_HEADER: &'static str;
    const OWNERS_HEADER: &'static str;

    /// 1 for the first record with its key in document order, 2 for the second, ...
    fn ordinal(&self) -> u32;
    fn set_ordinal(&mut self, ordinal: u32);
    fn name(&self) -> Option<&str>;
    fn description(&self) -> Option<&str>;
    fn notes(&self) -> Option<&str>;
    fn registered(&self) -> Option<&str>;
    fn modified(&self) -> Option<&str>;
    /// Who answers for it, as a table shows them (assignees; contacts).
    fn owners(&self) -> Option<&[String]>;
    /// Where it is, as people write it: `443/tcp`, `225-241`, `6`.
    fn label(&self) -> String;
    /// The numbers it covers (ports, protocol values), when it has numeric ones.
    fn range(&self) -> Option<PortRange>;
    /// Whether the two cover something in common.
    fn overlaps(&self, other: &Self) -> bool;
    /// Whether the two stand at exactly the same place (port and protocol; value), so a
    /// named one taking the other's place is a rename or a new owner.
    fn same_place(&self, other: &Self) -> bool;
    /// The order in which records are listed.
    fn display_cmp(&self, other: &Self) -> Ordering;

    /// Whether it is an Unassigned entry: no name, description `Unassigned` (any case, blanks
    /// around ignored), whatever its notes say. `Unassigned [was netstat]` is not: it records
    /// a de-assignment.
    fn is_unassigned(&self) -> bool {
        self.name().is_none()
            && self
                .description()
                .is_some_and(|text| text.trim().eq_ignore_ascii_case("unassigned"))
    }

    /// Whether it has a place besides its name (a port or protocol; a value): its label then
    /// says more than its name.
    fn has_place(&self) -> bool {
        Self::Field::KEY
            .iter()
            .any(|&field| field != Self::NAME && field.value(self).text().is_some())
    }

    /// Its identity across snapshots.
    fn key(&self) -> RecordKey {
        RecordKey {
            parts: Self::Field::KEY
                .iter()
                .map(|field| field.value(self).text().map(str::to_owned))
                .collect(),
            ordinal: self.ordinal(),
        }
    }

    /// The content fields whose values differ between `self` and `other`.
    fn changed_fields(&self, other: &Self) -> Vec<Self::Field> {
        Self::Field::CONTENT
            .iter()
            .copied()
            .filter(|field| field.value(self) != field.value(other))
            .collect()
    }

    /// A stable 64-bit digest of the content fields (everything but the key), so the store
    /// can tell "same version" without comparing every column. Stored in every database: the
    /// bytes hashed must never change.
    fn content_hash(&self) -> i64 {
        let mut digest = ContentDigest::new();
        for field in Self::Field::CONTENT {
            match field.value(self) {
                FieldValue::Text(text) => digest.optional_text(text),
                FieldValue::List(None) => digest.byte(0),
                FieldValue::List(Some(items)) => {
                    digest.byte(1);
                    digest.length(items.len());
                    for item in items {
                        digest.text(item);
                    }
                }
                FieldValue::Flag(flag) => digest.byte(2 + u8::from(flag)),
            }
        }
        digest.finish()
    }
}

/// A record's field: one row of its registry's field table.
pub trait Field:
    Copy + Eq + Hash + Debug + Display + Serialize + DeserializeOwned + Send + Sync + 'static
{
    type Record;
    /// Every field, in contract order: the key's, then the content's.
    const ALL: &'static [Self];
    /// The fields of a record's identity (with its ordinal).
    const KEY: &'static [Self];
    /// The fields a version holds, and a change lists in `changed_fields`.
    const CONTENT: &'static [Self];

    /// The canonical name: the JSON key and the store's column.
    fn name(self) -> &'static str;
    /// Its value in `record`.
    fn value(self, record: &Self::Record) -> FieldValue<'_>;
    /// Its slot in `record`, to fill.
    fn slot(self, record: &mut Self::Record) -> FieldSlot<'_>;

    /// The field of a canonical name.
    fn named(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|field| field.name() == name)
    }
}

/// A field's value: text, a list of strings (people ids, references), or a yes/no.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldValue<'a> {
    Text(Option<&'a str>),
    List(Option<&'a [String]>),
    Flag(bool),
}

impl<'a> FieldValue<'a> {
    /// The text of a text field; None for the others.
    pub fn text(self) -> Option<&'a str> {
        match self {
            FieldValue::Text(text) => text,
            FieldValue::List(_) | FieldValue::Flag(_) => None,
        }
    }
}

/// A field's slot in a record, to fill.
#[derive(Debug)]
pub enum FieldSlot<'a> {
    Text(&'a mut Option<String>),
    List(&'a mut Option<Vec<String>>),
    Flag(&'a mut bool),
}

/// How a registry's documents hold its records, for the parser.
#[derive(Debug, Clone, Copy)]
pub struct ParseRules<F: 'static> {
    /// The id of the `<registry>` inside the root that holds the records; None: the root.
    pub records_in: Option<&'static str>,
    /// The elements of a record whose text is a field (a flag field is true for `Y`, any case).
    pub text_elements: &'static [(&'static str, F)],
    /// The elements of a record whose `<xref type="person">` children make a list field.
    pub people_elements: &'static [(&'static str, F)],
    /// Text fields kept in lower case.
    pub lower_case: &'static [F],
    /// Where a record's own `<xref>`s go: people to `contact`, the others to `references`.
    pub contact: F,
    pub references: F,
    /// Where `record/@date` and `record/@updated` go.
    pub registered: F,
    pub modified: F,
}

/// Where the store keeps a registry's history: its record keys, their versions, and the
/// versions of its people. The key table holds the key fields, `ordinal`, and the numeric
/// bounds of the range field in `range_columns` (for lookups by number).
#[derive(Debug, Clone, Copy)]
pub struct RecordTables {
    pub keys: &'static str,
    pub versions: &'static str,
    pub people: &'static str,
    pub range_columns: (&'static str, &'static str),
}

/// A record's identity across snapshots: its key fields' values, in field-table order, and
/// the ordinal that tells apart repeated keys within one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordKey {
    pub parts: Box<[Option<String>]>,
    pub ordinal: u32,
}

/// Sorts records into their display order.
pub fn sort_records<R: Record, B: Borrow<R>>(records: &mut [B]) {
    records.sort_by(|a, b| a.borrow().display_cmp(b.borrow()));
}

/// `#N` after a name for a repeated key (ordinal above 1), as tables show it.
pub fn name_with_ordinal<R: Record>(record: &R) -> String {
    let mut name = record.name().unwrap_or_default().to_string();
    if record.ordinal() > 1 {
        name.push_str(&format!(" #{}", record.ordinal()));
    }
    name
}

pub(super) fn first_ordinal() -> u32 {
    1
}

pub(super) fn is_first_ordinal(ordinal: &u32) -> bool {
    *ordinal <= 1
}

/// A registry's field table: the enum of its record's fields, each with its canonical name,
/// its kind (`Text`, `List` or `Flag`) and the struct member holding it, key fields first.
/// Makes the enum, its [`Field`] implementation, and its JSON form (the name).
macro_rules! record_fields {
    (
        $(#[$meta:meta])*
        pub enum $Field:ident for $Record:ident {
            key: [$($KeyVariant:ident = $key_name:literal, $key_kind:ident($key_member:ident);)*]
            content: [$($Variant:ident = $name:literal, $kind:ident($member:ident);)*]
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $Field {
            $($KeyVariant,)*
            $($Variant,)*
        }

        impl $crate::model::Field for $Field {
            type Record = $Record;
            const ALL: &'static [$Field] = &[$($Field::$KeyVariant,)* $($Field::$Variant,)*];
            const KEY: &'static [$Field] = &[$($Field::$KeyVariant,)*];
            const CONTENT: &'static [$Field] = &[$($Field::$Variant,)*];

            fn name(self) -> &'static str {
                match self {
                    $($Field::$KeyVariant => $key_name,)*
                    $($Field::$Variant => $name,)*
                }
            }

            fn value(self, record: &$Record) -> $crate::model::FieldValue<'_> {
                match self {
                    $($Field::$KeyVariant => record_fields!(@value $key_kind, record.$key_member),)*
                    $($Field::$Variant => record_fields!(@value $kind, record.$member),)*
                }
            }

            fn slot(self, record: &mut $Record) -> $crate::model::FieldSlot<'_> {
                match self {
                    $($Field::$KeyVariant => $crate::model::FieldSlot::$key_kind(&mut record.$key_member),)*
                    $($Field::$Variant => $crate::model::FieldSlot::$kind(&mut record.$member),)*
                }
            }
        }

        impl serde::Serialize for $Field {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str($crate::model::Field::name(*self))
            }
        }

        impl<'de> serde::Deserialize<'de> for $Field {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let name = String::deserialize(deserializer)?;
                <$Field as $crate::model::Field>::named(&name)
                    .ok_or_else(|| serde::de::Error::custom(format!("unknown field {name:?}")))
            }
        }

        impl std::fmt::Display for $Field {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str($crate::model::Field::name(*self))
            }
        }
    };
    (@value Text, $member:expr) => { $crate::model::FieldValue::Text($member.as_deref()) };
    (@value List, $member:expr) => { $crate::model::FieldValue::List($member.as_deref()) };
    (@value Flag, $member:expr) => { $crate::model::FieldValue::Flag($member) };
}

pub(super) use record_fields;
