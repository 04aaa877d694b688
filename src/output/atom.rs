//! The feed (see [`crate::feed`]) as Atom 1.0 (RFC 4287): one entry per snapshot, newest
//! first, each holding its grouped changes as HTML.
//!
//! Two runs on the same history write the same bytes, and a feed reader shows each version
//! once:
//! - the feed's id is one constant per registry ([`feed_id`]): every portreg feed of a
//!   registry is the same feed, and one made from another database holds the same entries;
//! - an entry's id names the document by its sha256 in RFC 6920's hex form
//!   (`nih:sha-256;HEX`), the same wherever and whenever the version was stored;
//! - an entry's `<updated>` is when the snapshot was observed, the feed's the latest of them.

use super::grouped::{html, html_text};
use crate::feed::{Feed, FeedEntry};
use crate::model::{Record, Registry};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};
use std::io::{self, Write};

/// The port registry's feed's id: a UUID made once for portreg's feed of it.
pub const FEED_ID: &str = "urn:uuid:18d038be-c489-4b53-bbca-96c2e3d99c57";

/// A registry's feed's id: [`FEED_ID`] for the port registry, which had it first; a tag URI
/// (RFC 4151) of the registry's root id for the others.
pub fn feed_id(registry: Registry) -> String {
    match registry {
        Registry::Services => FEED_ID.to_string(),
        other => format!("tag:portreg,2026:{}", other.root_id()),
    }
}

const ATOM_NAMESPACE: &str = "http://www.w3.org/2005/Atom";

/// The feed as Atom XML.
pub fn atom<R: Record>(feed: &Feed<R>, out: impl Write) -> io::Result<()> {
    let registry = R::REGISTRY;
    let page = registry.page_url();
    let mut xml = Writer::new_with_indent(out, b' ', 2);
    xml.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))?;
    xml.create_element("feed")
        .with_attribute(("xmlns", ATOM_NAMESPACE))
        .write_inner_content(|xml| {
            text_element(xml, "id", &feed_id(registry))?;
            text_element(xml, "title", &format!("{}: changes", registry.iana_name()))?;
            text_element(
                xml,
                "subtitle",
                "Each version of the registry with what changed in it, newly assigned, \
                 de-assigned or reserved, removed and modified, as portreg stored it",
            )?;
            text_element(xml, "updated", &feed.updated().to_string())?;
            xml.create_element("link")
                .with_attributes([
                    ("rel", "alternate"),
                    ("type", "text/html"),
                    ("href", page.as_str()),
                ])
                .write_empty()?;
            xml.create_element("author").write_inner_content(|xml| {
                text_element(xml, "name", "IANA")?;
                text_element(xml, "uri", "https://www.iana.org/")
            })?;
            xml.create_element("generator")
                .with_attribute(("version", env!("CARGO_PKG_VERSION")))
                .write_text_content(BytesText::new("portreg"))?;
            for entry in feed.entries() {
                write_entry(xml, entry)?;
            }
            Ok(())
        })?;
    xml.get_mut().write_all(b"\n")
}

fn text_element<W: Write>(xml: &mut Writer<W>, name: &str, text: &str) -> io::Result<()> {
    xml.create_element(name)
        .write_text_content(BytesText::new(&xml_chars(text)))?;
    Ok(())
}

fn write_entry<W: Write, R: Record>(xml: &mut Writer<W>, entry: &FeedEntry<R>) -> io::Result<()> {
    let page = R::REGISTRY.page_url();
    xml.create_element("entry").write_inner_content(|xml| {
        text_element(xml, "id", &entry_id(&entry.snapshot.sha256))?;
        text_element(xml, "title", &entry_title(entry))?;
        text_element(xml, "updated", &entry.snapshot.observed_at.to_string())?;
        xml.create_element("link")
            .with_attributes([
                ("rel", "related"),
                ("type", "text/html"),
                ("href", page.as_str()),
            ])
            .write_empty()?;
        xml.create_element("content")
            .with_attribute(("type", "html"))
            .write_text_content(BytesText::new(&xml_chars(&entry_html(entry))))?;
        Ok(())
    })?;
    Ok(())
}

/// An entry's id: the document's sha256 as an RFC 6920 "named information for humans" URI.
pub fn entry_id(sha256: &str) -> String {
    format!("nih:sha-256;{sha256}")
}

/// `Registry 2025-12-15: 0 added, 0 removed, 10 modified` (the counts of `portreg
/// snapshots`), or `Registry 2017-03-10: first snapshot, 13955 records` for the oldest.
pub fn entry_title<R: Record>(entry: &FeedEntry<R>) -> String {
    let snapshot = &entry.snapshot;
    match (snapshot.added, snapshot.removed, snapshot.modified) {
        (Some(added), Some(removed), Some(modified)) => format!(
            "Registry {}: {added} added, {removed} removed, {modified} modified",
            snapshot.registry_date
        ),
        _ => format!(
            "Registry {}: first snapshot, {} records",
            snapshot.registry_date, snapshot.records
        ),
    }
}

/// The entry's content: a paragraph on what was compared, the grouped changes, and a link to
/// the registry.
pub fn entry_html<R: Record>(entry: &FeedEntry<R>) -> String {
    let snapshot = &entry.snapshot;
    let about = format!(
        "{} records; sha256 {}; observed {}",
        snapshot.records, snapshot.sha256, snapshot.observed_at
    );
    let mut content = match &entry.previous {
        None => {
            let first = format!(
                "The first snapshot of this history: registry {} ({about}).",
                snapshot.registry_date
            );
            format!("<p>{}</p>\n", html_text(&first))
        }
        Some(previous) => {
            let against = format!(
                "Changes from registry {} to registry {} ({about}).",
                previous.registry_date, snapshot.registry_date
            );
            let mut content = format!("<p>{}</p>\n", html_text(&against));
            if entry.lines.is_empty() {
                // Only people or the document's other parts changed.
                content.push_str("<p>No record changed.</p>\n");
            }
            content.push_str(&html(&entry.lines));
            content
        }
    };
    content.push_str(&format!(
        "<p>The registry: <a href=\"{}\">{}</a>.</p>\n",
        html_text(&R::REGISTRY.page_url()),
        html_text(R::REGISTRY.iana_name())
    ));
    content
}

/// Text that XML 1.0 can hold: the control characters it forbids (never in a registry that
/// parsed, but a feed must stay well-formed whatever is stored) become U+FFFD.
fn xml_chars(text: &str) -> std::borrow::Cow<'_, str> {
    let forbidden = |c: char| matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}');
    if text.contains(forbidden) {
        text.replace(forbidden, "\u{FFFD}").into()
    } else {
        text.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Registry, ServiceRecord};
    use crate::report::{Group, Line};
    use crate::store::{Seq, SnapshotId, SnapshotRow};

    fn snapshot(
        id: i64,
        date: &str,
        observed: &str,
        counts: Option<(i64, i64, i64)>,
    ) -> SnapshotRow {
        SnapshotRow {
            id: SnapshotId(id),
            sha256: format!("{id:064x}"),
            registry_date: date.parse().unwrap(),
            observed_at: observed.parse().unwrap(),
            source: "test".to_string(),
            records: 13955,
            people: 1,
            byte_size: 1,
            added: counts.map(|c| c.0),
            removed: counts.map(|c| c.1),
            modified: counts.map(|c| c.2),
            seq: Seq(id),
            registry: Registry::Services,
        }
    }

    fn entry(
        snapshot: SnapshotRow,
        previous: Option<SnapshotRow>,
        lines: Vec<Line<ServiceRecord>>,
    ) -> FeedEntry<ServiceRecord> {
        FeedEntry {
            snapshot,
            previous,
            lines,
        }
    }

    #[test]
    fn titles_hold_the_date_and_the_counts_or_say_first() {
        let first = snapshot(1, "2017-03-10", "2017-03-14T19:45:24Z", None);
        let second = snapshot(2, "2017-03-13", "2017-03-15T07:49:34Z", Some((1, 0, 2)));
        assert_eq!(
            entry_title(&entry(first.clone(), None, vec![])),
            "Registry 2017-03-10: first snapshot, 13955 records"
        );
        assert_eq!(
            entry_title(&entry(second, Some(first), vec![])),
            "Registry 2017-03-13: 1 added, 0 removed, 2 modified"
        );
    }

    #[test]
    fn the_atom_escapes_html_once_and_takes_the_latest_observation() {
        let first = snapshot(1, "2017-03-10", "2017-03-14T19:45:24Z", None);
        // Observed before the first (an older download imported later): the feed's
        // <updated> is still the latest observation.
        let second = snapshot(2, "2017-03-13", "2017-03-01T00:00:00Z", Some((1, 0, 0)));
        let added = ServiceRecord {
            name: Some("a<b>&c".into()),
            protocol: Some("tcp".into()),
            port: Some("4711".into()),
            description: Some("x \u{1} y".into()),
            ..ServiceRecord::default()
        };
        let line = Line {
            group: Group::NewlyAssigned,
            record: added,
            before: Vec::new(),
            changed_fields: vec![],
        };
        let feed = Feed::new(vec![
            entry(second, Some(first.clone()), vec![line]),
            entry(first, None, vec![]),
        ])
        .unwrap();
        let mut bytes = Vec::new();
        atom(&feed, &mut bytes).unwrap();
        let xml = String::from_utf8(bytes).unwrap();
        assert!(
            xml.contains("<updated>2017-03-14T19:45:24Z</updated>\n  <link"),
            "{xml}"
        );
        // The name is HTML-escaped (&lt;), and that HTML is XML-escaped (&amp;lt;).
        assert!(
            xml.contains("&lt;td&gt;a&amp;lt;b&amp;gt;&amp;amp;c&lt;/td&gt;"),
            "{xml}"
        );
        assert!(xml.contains("x \u{FFFD} y"), "{xml}");
        assert!(!xml.contains('\u{1}'));
        assert_eq!(xml.matches("<entry>").count(), 2);
        assert!(xml.contains(&format!("<id>nih:sha-256;{:064x}</id>", 2)));
    }
}
