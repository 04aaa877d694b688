//! A person or organisation of `<people>`, which records refer to by id.

use super::digest::ContentDigest;
use serde::{Deserialize, Serialize};

/// One `<person>` of `<people>`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    pub id: String,
    pub name: Option<String>,
    pub org: Option<String>,
    pub uri: Option<String>,
    pub updated: Option<String>,
}

impl Person {
    /// A stable digest of everything but the id (see [`super::digest`]).
    pub fn content_hash(&self) -> i64 {
        let mut digest = ContentDigest::new();
        for text in [&self.name, &self.org, &self.uri, &self.updated] {
            digest.optional_text(text.as_deref());
        }
        digest.finish()
    }
}
