//! Property tests (proptest): random edits of a real document, stored as a second snapshot in
//! either order, give back exactly those edits as the stored diff.

use crate::fixtures::real_versions;
use portreg::model::Registry;
use portreg::model::{ChangeKind, ServiceRecord};
use portreg::parse::parse_document;
use portreg::store::raw::sha256_hex;
use portreg::store::{NewSnapshot, SnapshotId, SnapshotRef, Store};
use portreg::time::Timestamp;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// A real document cut to its first records (fast to store many times), and the byte spans of
/// its records whose key is unique (so deleting one does not renumber a repeat).
struct Base {
    text: String,
    spans: Vec<(usize, usize)>,
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let full = std::fs::read_to_string(&real_versions()[20].path).unwrap();
        let starts: Vec<usize> = full.match_indices("<record").map(|(i, _)| i).collect();
        let keep = 1200;
        let end_of_kept = full[starts[keep]..].find("</record>").unwrap() + starts[keep] + 9;
        let text = format!("{}\n</registry>\n", &full[..end_of_kept]);
        let registry = parse_document::<ServiceRecord>(text.as_bytes()).unwrap();
        let spans: Vec<(usize, usize)> = text
            .match_indices("<record")
            .map(|(i, _)| (i, text[i..].find("</record>").unwrap() + i + 9))
            .collect();
        assert_eq!(spans.len(), registry.records.len());
        let mut seen = std::collections::HashMap::new();
        for record in &registry.records {
            *seen
                .entry((&record.name, &record.protocol, &record.port))
                .or_insert(0) += 1;
        }
        let spans = spans
            .into_iter()
            .zip(&registry.records)
            .filter(|(_, r)| seen[&(&r.name, &r.protocol, &r.port)] == 1)
            .map(|(span, _)| span)
            .collect();
        Base { text, spans }
    })
}

#[derive(Debug, Clone)]
enum Edit {
    Delete,
    /// Edit the description (or add a note when there is none).
    Modify,
}

/// (change kind, name, protocol, port, changed fields) as the store reports them.
type Expected = BTreeSet<(
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Vec<String>,
)>;

/// Applies edits to chosen records and appends `added` new ones; returns the document and the
/// changes it makes.
fn edited(edits: &[(usize, Edit)], added: usize) -> (String, Expected) {
    let base = base();
    // A record as the parser reads it: its span alone, under the document's head.
    let head = &base.text[..base.spans[0].0];
    let key_of = |span: (usize, usize)| {
        let alone = format!("{head}{}\n</registry>\n", &base.text[span.0..span.1]);
        parse_document::<ServiceRecord>(alone.as_bytes())
            .unwrap()
            .records
            .remove(0)
    };
    let mut chosen: Vec<(usize, Edit)> = edits
        .iter()
        .map(|(i, e)| (i % base.spans.len(), e.clone()))
        .collect();
    chosen.sort_by_key(|(i, _)| *i);
    chosen.dedup_by_key(|(i, _)| *i);

    let mut text = base.text.clone();
    let mut expected = Expected::new();
    // From the end, so earlier spans keep their offsets.
    for (index, edit) in chosen.iter().rev() {
        let (start, end) = base.spans[*index];
        let record = key_of((start, end));
        let key = (
            record.name.clone(),
            record.protocol.clone(),
            record.port.clone(),
        );
        match edit {
            Edit::Delete => {
                text.replace_range(start..end, "");
                expected.insert(("removed".into(), key.0, key.1, key.2, vec![]));
            }
            Edit::Modify => {
                let xml = text[start..end].to_string();
                let (new_xml, field) = match xml.find("</description>") {
                    Some(at) if record.description.is_some() => (
                        format!("{} (edited){}", &xml[..at], &xml[at..]),
                        "description",
                    ),
                    _ if record.notes.is_none() => (
                        xml.replace("</record>", "<note>edited</note></record>"),
                        "notes",
                    ),
                    _ => continue,
                };
                text.replace_range(start..end, &new_xml);
                expected.insert(("modified".into(), key.0, key.1, key.2, vec![field.into()]));
            }
        }
    }
    let mut additions = String::new();
    for n in 0..added {
        let name = format!("proptest-{n}");
        additions.push_str(&format!(
            "<record><name>{name}</name><protocol>tcp</protocol><number>{}</number><description>added</description></record>\n",
            40000 + n
        ));
        expected.insert((
            "added".into(),
            Some(name),
            Some("tcp".into()),
            Some((40000 + n).to_string()),
            vec![],
        ));
    }
    let closing = text.rfind("</registry>").unwrap();
    text.insert_str(closing, &additions);
    (text, expected)
}

fn store(store: &mut Store, text: &str, observed_hour: u32) {
    let registry = parse_document::<ServiceRecord>(text.as_bytes()).unwrap();
    let observed_at: Timestamp = format!("2025-01-01T{observed_hour:02}:00:00Z")
        .parse()
        .unwrap();
    store
        .import(&NewSnapshot {
            bytes: text.as_bytes(),
            sha256: &sha256_hex(text.as_bytes()),
            document: &registry,
            source: "proptest",
            observed_at,
            imported_at: observed_at,
        })
        .unwrap();
}

fn edit_strategy() -> impl Strategy<Value = (Vec<(usize, Edit)>, usize, bool)> {
    (
        prop::collection::vec(
            (
                any::<usize>(),
                prop_oneof![Just(Edit::Delete), Just(Edit::Modify)],
            ),
            0..25,
        ),
        0..6usize,
        any::<bool>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_stored_diff_is_exactly_the_edits((edits, added, edited_first) in edit_strategy()) {
        let (text, expected) = edited(&edits, added);
        // No edit at all (or only edits that could not apply) leaves the same bytes: one
        // snapshot, nothing to compare.
        prop_assume!(text != base().text);
        let mut db = Store::open_in_memory().unwrap();
        // Same registry date: the edited one is observed later, whatever order they come in.
        if edited_first {
            store(&mut db, &text, 2);
            store(&mut db, &base().text, 1);
        } else {
            store(&mut db, &base().text, 1);
            store(&mut db, &text, 2);
        }
        let from = db.resolve(Registry::Services, &SnapshotRef::Id(SnapshotId(if edited_first { 2 } else { 1 }))).unwrap();
        let to = db.resolve(Registry::Services, &SnapshotRef::Id(SnapshotId(if edited_first { 1 } else { 2 }))).unwrap();
        prop_assert!(from.seq < to.seq);
        let found: Expected = db
            .diff::<ServiceRecord>(from.seq, to.seq)
            .unwrap()
            .into_iter()
            .map(|c| {
                let kind = match c.change {
                    ChangeKind::Added => "added",
                    ChangeKind::Removed => "removed",
                    ChangeKind::Modified => "modified",
                };
                let fields = c.changed_fields.iter().map(|f| f.to_string()).collect();
                let record = c.record().unwrap().clone();
                (kind.to_string(), record.name, record.protocol, record.port, fields)
            })
            .collect();
        prop_assert_eq!(found, expected);
    }
}

/// The fuzz targets' invariants on every kept crash and every seed, so CI replays them.
#[test]
fn fuzz_regressions_and_seeds_keep_their_invariants() {
    use portreg::lookup::{Lookup, SinceDate};
    use portreg::model::PortRange;
    use portreg::parse::{ParseMemo, parse_namespace_aware, parse_with_memo};
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = |dirs: &[&str]| -> Vec<Vec<u8>> {
        dirs.iter()
            .flat_map(|dir| std::fs::read_dir(root.join(dir)).unwrap())
            .map(|entry| entry.unwrap().path())
            .filter(|path| {
                path.file_name()
                    .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
            })
            .filter(|path| path.extension().is_none_or(|e| e != "md"))
            .map(|path| std::fs::read(path).unwrap())
            .collect()
    };
    // As the parse target checks them, for each registry with its seed.
    fn parse_invariants<R: portreg::model::Record>(data: &[u8], seed: &[u8]) -> bool {
        let fresh = parse_document::<R>(data);
        assert_eq!(parse_namespace_aware::<R>(data), fresh);
        let mut memo = ParseMemo::<R>::default();
        let _ = parse_with_memo(seed, &mut memo);
        assert_eq!(parse_with_memo(data, &mut memo), fresh);
        fresh.is_ok()
    }
    let seed = |name: &str| std::fs::read(root.join("fuzz/seeds/parse").join(name)).unwrap();
    let (services_seed, protocols_seed) = (seed("small.xml"), seed("protocols.xml"));
    let parse_inputs = files(&["fuzz/seeds/parse", "tests/fixtures/fuzz-regressions/parse"]);
    assert!(parse_inputs.len() >= 4);
    let mut parsed = (0, 0);
    for data in parse_inputs {
        let _ = portreg::parse::registry_of(&data);
        parsed.0 += usize::from(parse_invariants::<ServiceRecord>(&data, &services_seed));
        parsed.1 += usize::from(parse_invariants::<portreg::model::ProtocolRecord>(
            &data,
            &protocols_seed,
        ));
    }
    assert!(parsed.0 >= 1 && parsed.1 >= 1, "{parsed:?}");
    for data in files(&[
        "fuzz/seeds/arguments",
        "tests/fixtures/fuzz-regressions/arguments",
    ]) {
        let Ok(text) = std::str::from_utf8(&data) else {
            continue;
        };
        if let Ok(ports) = text.parse::<PortRange>() {
            assert!(ports.first <= ports.last);
        }
        if let Ok(Lookup::Ports { ports, .. }) = text.parse::<Lookup>() {
            assert!(ports.first <= ports.last);
        }
        let _ = text.parse::<SinceDate>();
    }
}
