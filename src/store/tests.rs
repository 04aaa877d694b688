//! The store against in-memory databases: histories in any import order, raw bytes, keys,
//! indexes, outcomes, migrations.

use super::*;
use crate::diff::diff_records;
use crate::model::Person;
use crate::model::{Document, Registry, ServiceRecord};
use crate::time::Timestamp;
use std::sync::Arc;

fn record(name: &str, port: &str, description: &str) -> ServiceRecord {
    ServiceRecord {
        name: Some(name.into()),
        protocol: Some("tcp".into()),
        port: Some(port.into()),
        description: Some(description.into()),
        ordinal: 1,
        ..ServiceRecord::default()
    }
}

fn registry(date: &str, records: Vec<ServiceRecord>) -> Document<ServiceRecord> {
    with_people(date, records, vec![])
}

fn with_people(
    date: &str,
    records: Vec<ServiceRecord>,
    people: Vec<Person>,
) -> Document<ServiceRecord> {
    Document::new(
        None,
        date.parse().unwrap(),
        records.into_iter().map(Arc::new).collect(),
        people.into_iter().map(Arc::new).collect(),
    )
}

/// A time in 2024: month and day.
fn day(month: u32, day: u32) -> Timestamp {
    format!("2024-{month:02}-{day:02}T00:00:00Z")
        .parse()
        .unwrap()
}

fn new_snapshot<'a>(
    bytes: &'a [u8],
    sha256: &'a str,
    registry: &'a Document<ServiceRecord>,
    day_of_january: u32,
) -> NewSnapshot<'a, ServiceRecord> {
    NewSnapshot {
        bytes,
        sha256,
        document: registry,
        source: "test",
        observed_at: day(1, day_of_january),
        imported_at: day(2, 1),
    }
}

fn import(store: &mut Store, registry: &Document<ServiceRecord>, day: u32) -> Stored {
    let bytes = format!("{registry:?}");
    let sha256 = raw::sha256_hex(bytes.as_bytes());
    store
        .import(&new_snapshot(bytes.as_bytes(), &sha256, registry, day))
        .unwrap()
}

/// The full state of the history tables, row ids aside.
fn dump(store: &Store) -> Vec<String> {
    let mut stmt = store
        .conn
        .prepare(
            "SELECT k.name || '/' || k.port || ' ' || v.first_seq || '-' || ifnull(v.last_seq, 'open')
                    || ' ' || ifnull(v.description, '')
             FROM record_version v JOIN record_key k ON k.id = v.key_id ORDER BY 1",
        )
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Every row of a two-column query.
fn pairs<A: rusqlite::types::FromSql, B: rusqlite::types::FromSql>(
    store: &Store,
    sql: &str,
) -> Vec<(A, B)> {
    store
        .conn
        .prepare(sql)
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn versions() -> Vec<Document<ServiceRecord>> {
    vec![
        registry(
            "2024-01-01",
            vec![record("a", "1", "x"), record("b", "2", "y")],
        ),
        registry(
            "2024-01-02",
            vec![record("a", "1", "x2"), record("b", "2", "y")],
        ),
        registry(
            "2024-01-03",
            vec![record("a", "1", "x"), record("c", "3", "z")],
        ),
        registry(
            "2024-01-04",
            vec![
                record("a", "1", "x"),
                record("c", "3", "z"),
                record("b", "2", "y"),
            ],
        ),
        registry("2024-01-05", vec![record("a", "1", "x")]),
    ]
}

#[test]
fn any_import_order_gives_the_same_history() {
    let all = versions();
    let mut in_order = Store::open_in_memory().unwrap();
    for (i, r) in all.iter().enumerate() {
        import(&mut in_order, r, i as u32 + 1);
    }
    let expected = dump(&in_order);
    let orders: [&[usize]; 5] = [
        &[4, 3, 2, 1, 0],
        &[2, 0, 4, 1, 3],
        &[1, 3, 0, 4, 2],
        &[0, 4, 2, 3, 1],
        &[3, 1, 4, 0, 2],
    ];
    for order in orders {
        let mut store = Store::open_in_memory().unwrap();
        for &i in order {
            import(&mut store, &all[i], i as u32 + 1);
        }
        assert_eq!(dump(&store), expected, "order {order:?}");
        for (i, j) in [(1, 2), (1, 5), (2, 4), (5, 1), (3, 3)] {
            let want = diff_records(&all[i - 1].records, &all[j - 1].records);
            assert_eq!(
                store
                    .diff::<ServiceRecord>(Seq(i as i64), Seq(j as i64))
                    .unwrap(),
                want,
                "diff {i}->{j}"
            );
        }
        for seq in 1..=5 {
            let mut want: Vec<ServiceRecord> = all[seq - 1]
                .records
                .iter()
                .map(|r| ServiceRecord::clone(r))
                .collect();
            crate::model::sort_records(&mut want);
            assert_eq!(
                store.records_at::<ServiceRecord>(Seq(seq as i64)).unwrap(),
                want
            );
        }
    }
}

/// What a store keeps between its imports at the end of history, or reads ahead of one (the
/// versions open there, the last document and its lines, the keys), counts only while nobody
/// else writes: two connections taking turns, at the end and in the middle, make the history
/// one connection makes.
#[test]
fn two_connections_taking_turns_make_the_same_history() {
    let all = versions();
    let mut in_order = Store::open_in_memory().unwrap();
    for (i, r) in all.iter().enumerate() {
        import(&mut in_order, r, i as u32 + 1);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("turns.sqlite3");
    let mut a = Store::open(&path).unwrap();
    let mut b = Store::open(&path).unwrap();
    // a: 1, 2 at the end; b: 4 at the end; a: 3 in the middle; b: 5 at the end.
    for (first, i) in [(true, 0), (true, 1), (false, 3), (true, 2), (false, 4)] {
        // Each reads ahead too, as a batch does while its first document is parsed: what it
        // read is stale by the time the other has written.
        a.read_ahead::<ServiceRecord>().unwrap();
        b.read_ahead::<ServiceRecord>().unwrap();
        let store = if first { &mut a } else { &mut b };
        import(store, &all[i], i as u32 + 1);
    }
    assert_eq!(dump(&a), dump(&in_order));
    assert_eq!(dump(&b), dump(&in_order));
    for snapshot in b.snapshots(Registry::Services).unwrap() {
        let bytes = a.raw_bytes(snapshot.id).unwrap();
        assert_eq!(raw::sha256_hex(&bytes), snapshot.sha256);
    }
    assert!(a.consistency_problems().unwrap().is_empty());
}

#[test]
fn raw_bytes_come_back_exactly_in_any_order() {
    let all = versions();
    let mut store = Store::open_in_memory().unwrap();
    for &i in &[2usize, 0, 4, 1, 3] {
        import(&mut store, &all[i], i as u32 + 1);
    }
    for snapshot in store.snapshots(Registry::Services).unwrap() {
        store.caches.clear();
        let bytes = store.raw_bytes(snapshot.id).unwrap();
        assert_eq!(raw::sha256_hex(&bytes), snapshot.sha256);
    }
    // Every frame but the oldest's is a delta on the previous snapshot.
    let bases: Vec<(i64, Option<i64>)> = pairs(
        &store,
        "SELECT s.seq, b.seq FROM snapshot_raw r JOIN snapshot s ON s.id = r.snapshot_id LEFT JOIN snapshot b ON b.id = r.base_id ORDER BY s.seq",
    );
    assert_eq!(
        bases,
        vec![
            (1, None),
            (2, Some(1)),
            (3, Some(2)),
            (4, Some(3)),
            (5, Some(4))
        ]
    );
}

#[test]
fn the_same_bytes_are_stored_once() {
    let all = versions();
    let mut store = Store::open_in_memory().unwrap();
    assert!(matches!(
        import(&mut store, &all[0], 1),
        Stored::New {
            placement: Placement::Latest,
            ..
        }
    ));
    assert!(matches!(
        import(&mut store, &all[0], 1),
        Stored::Known { .. }
    ));
    assert_eq!(store.snapshot_count(Registry::Services).unwrap(), 1);
}

#[test]
fn snapshot_counts_and_references() {
    let all = versions();
    let mut store = Store::open_in_memory().unwrap();
    for (i, r) in all.iter().enumerate() {
        import(&mut store, r, i as u32 + 1);
    }
    let rows = store.snapshots(Registry::Services).unwrap();
    let counts: Vec<_> = rows
        .iter()
        .map(|r| (r.added, r.removed, r.modified))
        .collect();
    assert_eq!(
        counts,
        vec![
            (None, None, None),
            (Some(0), Some(0), Some(1)),
            (Some(1), Some(1), Some(1)),
            (Some(1), Some(0), Some(0)),
            (Some(0), Some(2), Some(0)),
        ]
    );
    assert_eq!(
        store
            .resolve(Registry::Services, &SnapshotRef::Latest)
            .unwrap()
            .seq,
        Seq(5)
    );
    assert_eq!(
        store
            .resolve(Registry::Services, &SnapshotRef::Previous)
            .unwrap()
            .seq,
        Seq(4)
    );
    let date = chrono::NaiveDate::from_ymd_opt(2024, 1, 3).unwrap();
    assert_eq!(
        store
            .resolve(Registry::Services, &SnapshotRef::Date(date))
            .unwrap()
            .seq,
        Seq(3)
    );
    let too_early = chrono::NaiveDate::from_ymd_opt(2023, 1, 3).unwrap();
    assert!(matches!(
        store.resolve(Registry::Services, &SnapshotRef::Date(too_early)),
        Err(StoreError::NoSuchSnapshot(_))
    ));
}

#[test]
fn migrations_are_valid() {
    assert!(MIGRATIONS.validate().is_ok());
}

/// The schema version a new database gets and the one this portreg knows (what a read-only
/// open checks) are counted from the same list of `.sql` files.
#[test]
fn migrations_are_counted_one_way() {
    let files = migration_files();
    assert!(
        files
            .iter()
            .all(|f| f.path().extension().is_some_and(|e| e == "sql"))
    );
    let store = Store::open_in_memory().unwrap();
    assert_eq!(store.schema_version().unwrap(), files.len() as i64);
}

/// Every outcome the code writes passes the table's CHECK and reads back as itself; a word
/// the code does not know is refused by the database.
#[test]
fn outcomes_are_the_words_the_schema_allows() {
    let store = Store::open_in_memory().unwrap();
    for &outcome in FetchOutcome::ALL {
        store
            .conn
            .execute(
                "INSERT INTO fetch_attempt (started_at, finished_at, url, tries, outcome)
                 VALUES ('2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', 'u', 1, ?1)",
                [outcome],
            )
            .unwrap();
        let back: FetchOutcome = store
            .conn
            .query_row(
                "SELECT outcome FROM fetch_attempt ORDER BY id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(back, outcome);
    }
    for (i, &outcome) in CaptureOutcome::ALL.iter().enumerate() {
        store
            .conn
            .execute(
                "INSERT INTO wayback_capture (digest, timestamp, url, outcome, checked_at)
                 VALUES (?1, '20240101000000', 'u', ?2, '2024-01-01T00:00:00Z')",
                rusqlite::params![i.to_string(), outcome],
            )
            .unwrap();
        let back: CaptureOutcome = store
            .conn
            .query_row(
                "SELECT outcome FROM wayback_capture WHERE digest = ?1",
                [i.to_string()],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(back, outcome);
    }
    let unknown = store.conn.execute(
        "INSERT INTO fetch_attempt (started_at, finished_at, url, tries, outcome)
         VALUES ('2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', 'u', 1, 'maybe')",
        [],
    );
    assert!(unknown.is_err());
}

fn index_definitions(store: &Store) -> Vec<(String, String)> {
    pairs(
        store,
        "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
    )
}

/// Imports leave every index in place, also one that fails half-way.
#[test]
fn a_first_import_leaves_every_index_in_place() {
    let schema = index_definitions(&Store::open_in_memory().unwrap());
    assert!(schema.len() >= 10, "{schema:?}");

    let mut failing = Store::open_in_memory().unwrap();
    failing
        .conn
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON person_version
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
        )
        .unwrap();
    let with_person = with_people(
        "2024-01-01",
        vec![record("a", "1", "x")],
        vec![Person {
            id: "someone".into(),
            ..Default::default()
        }],
    );
    let bytes = b"bytes".to_vec();
    let sha256 = raw::sha256_hex(&bytes);
    let failed = failing.import(&new_snapshot(&bytes, &sha256, &with_person, 1));
    assert!(failed.is_err());
    assert_eq!(index_definitions(&failing), schema);
    assert!(dump(&failing).is_empty());

    let mut store = Store::open_in_memory().unwrap();
    for (i, r) in versions().iter().enumerate() {
        import(&mut store, r, i as u32 + 1);
        assert_eq!(index_definitions(&store), schema);
    }
}

/// The keys' identity is (name, protocol, port, ordinal), NULLs equal to each other, whether
/// the port is a number, a range, absent or unreadable (migrations/0005).
#[test]
fn record_keys_are_unique_by_name_protocol_port_and_ordinal() {
    let store = Store::open_in_memory().unwrap();
    let insert = |name: Option<&str>, protocol: Option<&str>, port: Option<&str>, ordinal: i64| {
        let bounds = port.and_then(|port| port.parse::<crate::model::PortRange>().ok());
        store.conn.execute(
            "INSERT INTO record_key (name, protocol, port, ordinal, port_lo, port_hi)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![
                name,
                protocol,
                port,
                ordinal,
                bounds.map(|b| b.first),
                bounds.map(|b| b.last)
            ],
        )
    };
    let keys = [
        (Some("http"), Some("tcp"), Some("80"), 1),
        (Some("http"), Some("udp"), Some("80"), 1),
        (Some("http"), Some("tcp"), Some("80"), 2),
        (Some("www"), Some("tcp"), Some("80"), 1),
        // The same bounds, spelt differently: another key.
        (Some("http"), Some("tcp"), Some("080"), 1),
        (Some("x11"), Some("tcp"), Some("6000-6063"), 1),
        (None, Some("tcp"), Some("80"), 1),
        (None, None, Some("80"), 1),
        (Some("noport"), None, None, 1),
        (None, None, None, 1),
        (Some("odd"), Some("tcp"), Some("70000"), 1),
    ];
    for (name, protocol, port, ordinal) in keys {
        insert(name, protocol, port, ordinal).unwrap();
    }
    for (name, protocol, port, ordinal) in keys {
        let again = insert(name, protocol, port, ordinal);
        assert!(
            matches!(&again, Err(e) if e.to_string().contains("UNIQUE")),
            "{name:?} {protocol:?} {port:?} {ordinal}: {again:?}"
        );
    }
}

/// Port lookups go by index, not through every key.
#[test]
fn port_lookups_use_an_index() {
    let store = Store::open_in_memory().unwrap();
    let plan: Vec<String> = store
        .conn
        .prepare(
            "EXPLAIN QUERY PLAN SELECT id FROM record_key WHERE port_lo BETWEEN 443 AND 443
             UNION ALL
             SELECT id FROM record_key WHERE port_hi > port_lo AND port_hi >= 443 AND port_lo < 443",
        )
        .unwrap()
        .query_map([], |r| r.get(3))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(
        plan.iter().all(|step| !step.starts_with("SCAN")),
        "{plan:?}"
    );
    assert!(
        plan.iter().any(|step| step.contains("record_key_identity")),
        "{plan:?}"
    );
}

/// A person id given twice in a document keeps its first entry, as a reader would; the
/// people are stored in document order.
#[test]
fn a_repeated_person_id_keeps_its_first_entry() {
    let person = |id: &str, name: &str| Person {
        id: id.into(),
        name: Some(name.into()),
        ..Default::default()
    };
    let with_people = with_people(
        "2024-01-01",
        vec![record("a", "1", "x")],
        vec![
            person("Ann", "first"),
            person("Bob", "only"),
            person("Ann", "second"),
            person("Cy", "last"),
        ],
    );
    for mut store in [Store::open_in_memory().unwrap(), {
        let mut store = Store::open_in_memory().unwrap();
        import(&mut store, &registry("2023-01-01", vec![]), 1);
        store
    }] {
        import(&mut store, &with_people, 2);
        let rows: Vec<(String, String)> = pairs(
            &store,
            "SELECT person_id, name FROM person_version ORDER BY id",
        );
        let expected = [("Ann", "first"), ("Bob", "only"), ("Cy", "last")]
            .map(|(id, name)| (id.to_string(), name.to_string()));
        assert_eq!(rows, expected);
    }
}

/// Past 1024 snapshots a keyframe (the whole document) is kept at the 1025th place, and a
/// version that lands near the start moves it: every snapshot still gives back its bytes.
#[test]
fn keyframes_keep_long_histories_readable_in_bounded_steps() {
    let version = |i: u32| {
        let records = (0..3)
            .map(|j| {
                record(
                    &format!("s{j}"),
                    &j.to_string(),
                    &format!("v{}", (i + j) / 2),
                )
            })
            .collect();
        registry(
            &format!(
                "20{:02}-{:02}-{:02}",
                30 + i / 336,
                1 + i / 28 % 12,
                1 + i % 28
            ),
            records,
        )
    };
    let mut store = Store::open_in_memory().unwrap();
    for i in (0..1090).filter(|i| *i != 5) {
        import(&mut store, &version(i), 1);
    }
    let keyframe = "SELECT s.seq FROM snapshot_raw_skip k JOIN snapshot s ON s.id = k.snapshot_id
                    WHERE k.base_id IS NULL";
    let keyframes: Vec<(i64, i64)> = pairs(&store, &format!("SELECT seq, seq FROM ({keyframe})"));
    assert_eq!(keyframes, [(1025, 1025)]);
    import(&mut store, &version(5), 1);
    let keyframes: Vec<(i64, i64)> = pairs(&store, &format!("SELECT seq, seq FROM ({keyframe})"));
    assert_eq!(keyframes, [(1025, 1025)]);
    let snapshots = store.snapshots(Registry::Services).unwrap();
    assert_eq!(snapshots.len(), 1090);
    for snapshot in snapshots.iter().rev().step_by(7) {
        store.caches.clear();
        let bytes = store.raw_bytes(snapshot.id).unwrap();
        assert_eq!(raw::sha256_hex(&bytes), snapshot.sha256);
    }
}
