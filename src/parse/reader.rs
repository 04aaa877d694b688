//! Reading XML events with quick-xml, and telling which namespace an element is in.

use super::IANA_NAMESPACE;
use quick_xml::events::{BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::{NsReader, Reader};

/// Whether a new reader may start here and read what the old one would: white space, then a
/// start or end tag. A reader treats its first bytes specially (a byte-order mark is dropped,
/// an XML declaration is allowed), so it never starts before anything else.
pub(super) fn restartable_at(rest: &[u8]) -> bool {
    let rest = rest.trim_ascii_start();
    rest.first() == Some(&b'<')
        && rest
            .get(1)
            .is_some_and(|&b| b == b'/' || b.is_ascii_alphabetic() || b == b'_' || b >= 0x80)
}

/// Reads events and tells whether an element is in IANA's namespace (or in none).
pub(super) enum XmlReader<'a> {
    /// Where the namespace follows from the name (see [`namespaces_follow_from_names`]).
    Plain(Reader<&'a [u8]>),
    Namespaced(NsReader<&'a [u8]>),
}

impl<'a> XmlReader<'a> {
    pub(super) fn new(bytes: &'a [u8], plain: bool) -> XmlReader<'a> {
        let mut reader = if plain {
            XmlReader::Plain(Reader::from_reader(bytes))
        } else {
            XmlReader::Namespaced(NsReader::from_reader(bytes))
        };
        let config = match &mut reader {
            XmlReader::Plain(reader) => reader.config_mut(),
            XmlReader::Namespaced(reader) => reader.config_mut(),
        };
        // End tags are matched by the parser, against its own frames (see `feed`).
        config.check_end_names = false;
        config.allow_unmatched_ends = true;
        reader
    }

    pub(super) fn read_event(&mut self) -> Result<(bool, Event<'a>), quick_xml::Error> {
        match self {
            XmlReader::Plain(reader) => {
                let event = reader.read_event()?;
                let prefixed = matches!(&event, Event::Start(e) | Event::Empty(e) if e.name().prefix().is_some());
                Ok((!prefixed, event))
            }
            XmlReader::Namespaced(reader) => {
                let (namespace, event) = reader.read_resolved_event()?;
                let in_iana = match namespace {
                    ResolveResult::Bound(Namespace(ns)) => ns == IANA_NAMESPACE,
                    ResolveResult::Unbound => true,
                    ResolveResult::Unknown(_) => false,
                };
                Ok((in_iana, event))
            }
        }
    }

    pub(super) fn buffer_position(&self) -> u64 {
        match self {
            XmlReader::Plain(reader) => reader.buffer_position(),
            XmlReader::Namespaced(reader) => reader.buffer_position(),
        }
    }

    pub(super) fn error_position(&self) -> u64 {
        match self {
            XmlReader::Plain(reader) => reader.error_position(),
            XmlReader::Namespaced(reader) => reader.error_position(),
        }
    }
}

/// Whether every element's namespace follows from its name alone: the root declares at most
/// the default namespace, as IANA's, and nothing else declares one (`xmlns` appears nowhere
/// else, as in every real version). Then an unprefixed element is in IANA's namespace and a
/// prefixed one is not, so a plain reader reads the document exactly as a namespace-aware one
/// does, without its bookkeeping (a fifth of the parse).
pub(super) fn namespaces_follow_from_names(document: &[u8]) -> bool {
    let declarations = memchr::memmem::find_iter(document, b"xmlns").count();
    if declarations > 1 {
        return false;
    }
    let mut reader = Reader::from_reader(document);
    loop {
        match reader.read_event() {
            Ok(Event::Start(root) | Event::Empty(root)) => {
                let declared: Vec<_> = root
                    .attributes()
                    .with_checks(false)
                    .flatten()
                    .filter(|a| {
                        let key: &str = a.key.as_ref();
                        key.starts_with("xmlns")
                    })
                    .collect();
                return declared.len() == declarations
                    && declared.iter().all(|a| {
                        let key: &str = a.key.as_ref();
                        key == "xmlns" && a.value.as_ref() == IANA_NAMESPACE
                    });
            }
            // Whatever is wrong, the namespace-aware reader finds and reports it.
            Ok(Event::Eof) | Err(_) => return false,
            Ok(_) => {}
        }
    }
}

/// Where `name` (borrowed from the document by the reader) lies in `document`.
pub(super) fn name_span(document: &[u8], name: &[u8]) -> Option<(usize, usize)> {
    let start = (name.as_ptr() as usize).checked_sub(document.as_ptr() as usize)?;
    (start + name.len() <= document.len()).then_some((start, name.len()))
}

/// The unescaped value of the attribute with this local name, if present and readable.
pub(super) fn attribute(start: &BytesStart, wanted: &str) -> Option<String> {
    let [value] = attributes(start, [wanted]);
    value
}

/// The unescaped values of the attributes with these local names (the first of each name, if
/// readable), in one pass over the tag.
pub(super) fn attributes<const N: usize>(
    start: &BytesStart,
    wanted: [&str; N],
) -> [Option<String>; N] {
    let mut found: [Option<Option<String>>; N] = std::array::from_fn(|_| None);
    // Without quick-xml's duplicate check (a list of the names seen, allocated per tag): the
    // first of each name is taken, which is what the check would have left readable anyway.
    for attr in start.attributes().with_checks(false).flatten() {
        let name = attr.key.local_name();
        let Some(i) = wanted.iter().position(|w| name.as_ref() == *w) else {
            continue;
        };
        if found[i].is_none() {
            found[i] = Some(
                attr.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .ok()
                    .map(|v| v.into_owned()),
            );
        }
    }
    found.map(Option::flatten)
}
