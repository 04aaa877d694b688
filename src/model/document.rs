//! A whole registry document, as the parser makes it and the store takes it.

use super::date::RegistryDate;
use super::person::Person;
use super::record::Record;
use std::sync::Arc;

/// A whole registry document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document<R: Record> {
    pub title: Option<String>,
    /// `<updated>`: the registry's own version date.
    pub updated: RegistryDate,
    /// Shared (not copied) with the parse memo of the next document in a batch.
    pub records: Vec<Arc<R>>,
    pub people: Vec<Arc<Person>>,
    /// The content hash of every record and person, in document order: made by the parser
    /// (a batch then hashes only what changed) and stored with each version.
    pub hashes: ContentHashes,
}

impl<R: Record> Document<R> {
    /// A document of these records and people, hashed.
    pub fn new(
        title: Option<String>,
        updated: RegistryDate,
        records: Vec<Arc<R>>,
        people: Vec<Arc<Person>>,
    ) -> Document<R> {
        let hashes = ContentHashes::of(&records, &people);
        Document {
            title,
            updated,
            records,
            people,
            hashes,
        }
    }
}

/// [`Record::content_hash`] of each record and [`Person::content_hash`] of each person of a
/// document, in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentHashes {
    pub records: Vec<i64>,
    pub people: Vec<i64>,
}

impl ContentHashes {
    /// The hashes of these records and people.
    pub fn of<R: Record>(records: &[Arc<R>], people: &[Arc<Person>]) -> ContentHashes {
        ContentHashes {
            records: records.iter().map(|r| r.content_hash()).collect(),
            people: people.iter().map(|p| p.content_hash()).collect(),
        }
    }
}
