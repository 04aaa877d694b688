//! The registry parser: one pass of quick-xml over a document's bytes, into a [`Document`] of
//! one registry's records (the record type says which, and how its documents hold records:
//! [`crate::model::ParseRules`]).
//!
//! It keeps what the contract names and ignores everything else, so new elements in a later
//! format do not break it; elements count only in IANA's namespace (or in none). It refuses
//! anything that is not one complete document of the registry asked for, and it never panics
//! on input: every way a document can be wrong is a [`ParseError`]. No I/O.
//!
//! - [`parser`]: the loop that reads a document and hands its elements on.
//! - [`reader`]: reading XML events, and which namespace an element is in.
//! - [`elements`]: what each element is, as far as the registry goes.
//! - [`builder`]: records and people built from the elements, with their content hashes.
//! - [`memo`]: the elements of the previous document of a batch, to reuse.
//! - [`text`]: text normalisation as the contract defines it.

mod builder;
mod elements;
mod memo;
mod parser;
mod reader;
mod text;

pub use memo::ParseMemo;

use crate::model::{Document, Record, Registry, RegistryDate};
use parser::Parser;
use quick_xml::events::Event;

pub const IANA_NAMESPACE: &str = "http://www.iana.org/assignments";

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
    #[error("the IANA registry {id:?}, not {:?}", expected.root_id())]
    WrongRegistry { id: String, expected: Registry },
    #[error(
        "the IANA registry {id:?}, which portreg does not keep (it keeps {})",
        known_root_ids()
    )]
    UnknownRegistry { id: String },
    #[error("the registry has no <updated> date")]
    NoUpdatedDate,
    #[error("the registry's <updated> date {0:?} is not a YYYY-MM-DD date")]
    BadUpdatedDate(String),
    #[error("the registry holds no records")]
    NoRecords,
}

/// `"service-names-port-numbers" and "protocol-numbers"`.
fn known_root_ids() -> String {
    let ids: Vec<String> = Registry::ALL
        .iter()
        .map(|r| format!("{:?}", r.root_id()))
        .collect();
    ids.join(" and ")
}

/// Parses a whole document of `R`'s registry.
pub fn parse_document<R: Record>(bytes: &[u8]) -> Result<Document<R>, ParseError> {
    check_not_empty_or_html(bytes)?;
    Parser::new(None, false).run(bytes)
}

/// Which registry a document is, from its root element (what comes before it is read, not
/// what comes after): the error a parse would give when it is none that portreg keeps.
pub fn registry_of(bytes: &[u8]) -> Result<Registry, ParseError> {
    check_not_empty_or_html(bytes)?;
    let mut reader = reader::XmlReader::new(bytes, false);
    loop {
        let position = reader.buffer_position();
        let (in_iana, start) = match reader.read_event() {
            Ok((in_iana, Event::Start(start) | Event::Empty(start))) => (in_iana, start),
            Ok((_, Event::Eof)) => {
                return Err(ParseError::Malformed {
                    position,
                    message: "no root element".into(),
                });
            }
            Ok(_) => continue,
            Err(error) => {
                return Err(ParseError::Malformed {
                    position: reader.error_position().max(position),
                    message: error.to_string(),
                });
            }
        };
        let local_name = start.local_name();
        let local: &str = local_name.as_ref();
        let local = local.to_owned();
        if local != "registry" || !in_iana {
            if local.eq_ignore_ascii_case("html") {
                return Err(ParseError::Html);
            }
            return Err(ParseError::NotARegistry { root: local });
        }
        let id = reader::attribute(&start, "id").unwrap_or_default();
        return Registry::of_root_id(&id).ok_or(ParseError::UnknownRegistry { id });
    }
}

/// Parses like [`parse_document`], reusing the records and people of the previous document
/// parsed with the same memo whose bytes are identical: what a batch does, where consecutive
/// versions share all but a few hundred of their 20,000 elements.
///
/// The result is exactly that of [`parse_document`]: an element is reused only when its bytes
/// equal (compared in full, not by hash) those of an element that was parsed in the same
/// context (one of the registry's `<record>`s, or a `<person>` in `<people>`, unprefixed, with
/// the root binding no prefixes). Every other element, and all the rest of the document, is parsed
/// as usual. A reused element's end is found by its end tag, and the elements after it by
/// comparing bytes with the previous document (see [`ParseMemo`]).
pub fn parse_with_memo<R: Record>(
    bytes: &[u8],
    memo: &mut ParseMemo<R>,
) -> Result<Document<R>, ParseError> {
    check_not_empty_or_html(bytes)?;
    Parser::new(Some(memo), false).run(bytes)
}

/// Parses like [`parse_document`], always with namespace resolution, which `parse_document`
/// skips where the names alone tell every element's namespace: the two must agree (the
/// `parse` fuzz target checks it).
#[doc(hidden)]
pub fn parse_namespace_aware<R: Record>(bytes: &[u8]) -> Result<Document<R>, ParseError> {
    check_not_empty_or_html(bytes)?;
    Parser::new(None, true).run(bytes)
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

/// The registry date from the start of a document, without parsing it: enough to put a batch
/// of files in history order before the real work. None when it is not found there.
pub fn peek_updated(head: &[u8]) -> Option<RegistryDate> {
    let text = String::from_utf8_lossy(head);
    let start = text.find("<updated>")? + "<updated>".len();
    let len = text[start..].find("</updated>")?;
    text[start..start + len].trim().parse().ok()
}

/// An HTML error page is the most common wrong answer from a web server; say so plainly rather
/// than reporting the XML syntax error it usually trips first.
fn looks_like_html(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    head.starts_with("<!doctype html") || head.starts_with("<html")
}

#[cfg(test)]
mod tests;
