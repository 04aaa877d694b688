//! End-to-end tests: the real `portreg` binary on real registry versions and a temp database.

mod architecture;
mod backfill;
mod behaviour;
mod check;
mod feed;
mod fetch;
mod fixtures;
mod free;
mod markdown;
mod properties;
mod protocols;
mod queries;
mod safety;
mod serve;
mod server;
mod stats;
mod support;

use fixtures::{FIXTURES, real_versions};
use portreg::diff::diff_records;
use portreg::model::Registry;
use portreg::model::{Change, Record, ServiceRecord};
use portreg::parse::parse_document;
use portreg::store::{Seq, SnapshotRef, Store};
use std::path::Path;
use std::process::Command;
use support::*;
#[test]
fn any_import_order_gives_the_same_snapshots_and_diffs() {
    let n = real_versions().len();
    let (_dir_a, in_order) = temp_db();
    let out = import(&in_order, &paths(&(0..n).collect::<Vec<_>>()));
    assert!(
        out.contains("19 stored, 2 already stored, 0 failed"),
        "{out}"
    );

    // One file per process, in a shuffled order: every older version lands in the middle.
    let (_dir_b, shuffled_db) = temp_db();
    let mut already = 0;
    for i in shuffled(n, 7) {
        let out = import(&shuffled_db, &paths(&[i]));
        already += out.contains("already stored") as usize;
    }
    assert_eq!(already, 2);

    let snapshots_a = ok(portreg(&in_order, &["snapshots", "--format", "json"]));
    let snapshots_b = ok(portreg(&shuffled_db, &["snapshots", "--format", "json"]));
    let rows_a: Vec<serde_json::Value> = serde_json::from_str(&snapshots_a).unwrap();
    let rows_b: Vec<serde_json::Value> = serde_json::from_str(&snapshots_b).unwrap();
    assert_eq!(rows_a.len(), 19);
    // Ids differ with import order; everything else must not.
    let strip = |rows: &[serde_json::Value]| -> Vec<serde_json::Value> {
        rows.iter()
            .map(|r| {
                let mut r = r.clone();
                r.as_object_mut().unwrap().remove("id");
                r
            })
            .collect()
    };
    assert_eq!(strip(&rows_a), strip(&rows_b));
    for key in [
        "id",
        "sha256",
        "registry_date",
        "observed_at",
        "source",
        "records",
    ] {
        assert!(rows_a[0].get(key).is_some(), "snapshots JSON lacks {key}");
    }

    // Diffs by date and by position agree for every pair.
    let store_a = Store::open(&in_order).unwrap();
    let store_b = Store::open(&shuffled_db).unwrap();
    for i in 1..=19 {
        for j in 1..=19 {
            assert_eq!(
                store_a.diff::<ServiceRecord>(Seq(i), Seq(j)).unwrap(),
                store_b.diff::<ServiceRecord>(Seq(i), Seq(j)).unwrap(),
                "{i}->{j}"
            );
        }
    }
    let cli_a = ok(portreg(
        &in_order,
        &["diff", "2019-01-08", "latest", "--format", "json"],
    ));
    let cli_b = ok(portreg(
        &shuffled_db,
        &["diff", "2019-01-08", "latest", "--format", "json"],
    ));
    assert_eq!(cli_a, cli_b);
    let changes: Vec<Change<ServiceRecord>> = serde_json::from_str(&cli_a).unwrap();
    assert!(changes.len() > 300);
}

#[test]
fn stored_diffs_equal_in_memory_diffs_of_the_parsed_documents() {
    let versions = real_versions();
    let (_dir, db) = temp_db();
    import(&db, &paths(&(0..versions.len()).collect::<Vec<_>>()));
    let store = Store::open(&db).unwrap();
    let snapshots = store.snapshots(Registry::Services).unwrap();
    // The documents in history order, duplicates dropped (as the store does).
    let mut parsed = Vec::new();
    for version in versions {
        let bytes = std::fs::read(&version.path).unwrap();
        if parsed.iter().any(|(sha, _)| *sha == version.sha256) {
            continue;
        }
        parsed.push((
            version.sha256.clone(),
            parse_document::<ServiceRecord>(&bytes).unwrap(),
        ));
    }
    assert_eq!(parsed.len(), snapshots.len());
    for (row, (sha, _)) in snapshots.iter().zip(&parsed) {
        assert_eq!(&row.sha256, sha);
    }
    let mut pairs = 0;
    let mut non_empty = 0;
    for from in 0..parsed.len() {
        for to in 0..parsed.len() {
            if from != to && (to == from + 1 || (from * 7 + to * 3) % 5 == 0) {
                let expected = diff_records(&parsed[from].1.records, &parsed[to].1.records);
                let stored = store
                    .diff::<ServiceRecord>(snapshots[from].seq, snapshots[to].seq)
                    .unwrap();
                assert_eq!(stored, expected, "{} -> {}", from + 1, to + 1);
                pairs += 1;
                non_empty += !expected.is_empty() as usize;
            }
        }
    }
    assert!(
        pairs > 60 && non_empty > 60,
        "{pairs} pairs, {non_empty} with changes"
    );
    // And each snapshot's records are the document's.
    for (row, (_, registry)) in snapshots.iter().zip(&parsed) {
        let mut want: Vec<ServiceRecord> = registry
            .records
            .iter()
            .map(|r| ServiceRecord::clone(r))
            .collect();
        portreg::model::sort_records(&mut want);
        assert_eq!(store.records_at::<ServiceRecord>(row.seq).unwrap(), want);
    }
}

#[test]
fn raw_gives_back_the_exact_bytes() {
    let versions = real_versions();
    let (_dir, db) = temp_db();
    // Out of order on purpose, so frames get re-based.
    import(&db, &paths(&[20, 0]));
    import(&db, &paths(&[10, 5]));
    let store = Store::open(&db).unwrap();
    for row in store.snapshots(Registry::Services).unwrap() {
        let out = Command::new(env!("CARGO_BIN_EXE_portreg"))
            .args(["raw", &row.id.to_string()])
            .env("PORTREG_DB", &db)
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(portreg::store::raw::sha256_hex(&out.stdout), row.sha256);
    }
    assert!(store.raw_size().unwrap() < 600_000);
    let latest = store
        .resolve(Registry::Services, &SnapshotRef::Latest)
        .unwrap();
    assert_eq!(latest.sha256, versions[20].sha256);
}

#[test]
fn gzip_and_standard_input_are_read() {
    let (_dir, db) = temp_db();
    let gz = Path::new(FIXTURES).join("registry-2017-03-10.xml.gz");
    let out = ok(portreg(&db, &["import", gz.to_str().unwrap()]));
    assert!(out.contains("registry 2017-03-10, 13955 records"), "{out}");
    let bytes = std::fs::read(&real_versions()[1].path).unwrap();
    let out = ok(portreg_with_stdin(&db, &["import", "-"], Some(&bytes)));
    assert!(
        out.contains("stored - as snapshot 2 (registry 2017-03-13"),
        "{out}"
    );
    let out = ok(portreg_with_stdin(&db, &["import", "-"], Some(&bytes)));
    assert!(
        out.contains("skipped -: already stored as snapshot 2"),
        "{out}"
    );
}

#[test]
fn an_older_version_is_placed_before_the_latest() {
    let (_dir, db) = temp_db();
    import(&db, &paths(&[20]));
    let out = import(&db, &paths(&[0]));
    assert!(out.contains("placed before the latest"), "{out}");
    let table = ok(portreg(&db, &["diff", "previous", "latest"]));
    assert!(table.contains("Added ("), "{table}");
    assert!(table.contains("Modified ("), "{table}");
    assert!(table.contains(" -> "), "{table}");
    let csv = ok(portreg(&db, &["diff", "1", "2", "--format", "csv"]));
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        reader.headers().unwrap(),
        vec![
            "change",
            "name",
            "protocol",
            "port",
            "ordinal",
            "changed_fields",
            "before",
            "after"
        ]
    );
    assert!(reader.records().count() > 500);
}

/// A registry portreg does not keep, cut from IANA's dns-parameters.xml.
const DNS_PARAMETERS: &str = r#"<?xml version='1.0' encoding='UTF-8'?>
<registry xmlns="http://www.iana.org/assignments" id="dns-parameters">
  <title>Domain Name System (DNS) Parameters</title>
  <updated>2024-01-01</updated>
  <registry id="dns-parameters-1">
    <record><value>0</value><description>Reserved</description></record>
  </registry>
</registry>
"#;

#[test]
fn bad_inputs_are_refused_with_one_line_and_change_nothing() {
    let versions = real_versions();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("portreg.sqlite3");
    import(&db, &paths(&[0]));
    let before = fingerprint(&db);

    let real = std::fs::read(&versions[1].path).unwrap();
    let head = String::from_utf8_lossy(&real[..20_000]).into_owned();
    let no_records = format!("{}</registry>\n", &head[..head.find("<record").unwrap()]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.xml", Vec::new(), "empty input"),
        ("half.xml", real[..real.len() / 2].to_vec(), "truncated"),
        ("almost.xml", real[..real.len() - 3].to_vec(), "truncated"),
        ("first-byte.xml", real[..1].to_vec(), "not well-formed"),
        (
            "text.xml",
            b"Service Unavailable\n".to_vec(),
            "not well-formed",
        ),
        (
            "error.html",
            b"<!DOCTYPE html>\n<html><head><title>503</title></head><body>busy</body></html>"
                .to_vec(),
            "HTML page",
        ),
        (
            "dns-parameters.xml",
            DNS_PARAMETERS.as_bytes().to_vec(),
            "the IANA registry \"dns-parameters\", which portreg does not keep",
        ),
        ("no-records.xml", no_records.clone().into_bytes(), "no records"),
        (
            "no-date.xml",
            no_records.replace("<updated>", "<!--").replace("</updated>", "-->").into_bytes(),
            "no <updated> date",
        ),
        (
            "bad-date.xml",
            {
                let at = no_records.find("<updated>").unwrap() + "<updated>".len();
                format!("{}2024-02-30{}", &no_records[..at], &no_records[at + 10..]).into_bytes()
            },
            "not a YYYY-MM-DD date",
        ),
        (
            "feed.xml",
            b"<?xml version='1.0'?>\n<feed xmlns='http://www.w3.org/2005/Atom'><title>x</title></feed>\n".to_vec(),
            "root element is <feed>",
        ),
        (
            "huge.xml",
            vec![b' '; portreg::input::MAX_DOCUMENT_BYTES as usize + 1],
            "larger than 67108864 bytes",
        ),
        (
            "bomb.xml.gz",
            {
                use std::io::Write;
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                let zeros = vec![b' '; 1 << 20];
                for _ in 0..65 {
                    gz.write_all(&zeros).unwrap();
                }
                gz.finish().unwrap()
            },
            "larger than 67108864 bytes",
        ),
        (
            "cut.xml.gz",
            {
                let gz =
                    std::fs::read(Path::new(FIXTURES).join("registry-2017-03-10.xml.gz")).unwrap();
                gz[..gz.len() / 3].to_vec()
            },
            "gzip",
        ),
    ];
    for (name, bytes, reason) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let run = portreg(&db, &["import", path.to_str().unwrap()]);
        assert_ne!(run.code, 0, "{name} was accepted");
        assert_eq!(run.stderr.lines().count(), 1, "{name}: {}", run.stderr);
        assert!(run.stderr.contains(name), "{name}: {}", run.stderr);
        assert!(run.stderr.contains(reason), "{name}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
        assert_eq!(fingerprint(&db), before, "{name} changed the database");
    }
    // A missing file too.
    let run = portreg(&db, &["import", "/nonexistent/registry.xml"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("cannot read"), "{}", run.stderr);
    assert_eq!(fingerprint(&db), before);
}

#[test]
fn a_good_file_in_a_batch_is_stored_even_when_another_is_bad() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("portreg.sqlite3");
    let bad = dir.path().join("bad.xml");
    std::fs::write(&bad, "<html></html>").unwrap();
    let mut files = paths(&[0]);
    files.push(bad.display().to_string());
    let mut args = vec!["import"];
    args.extend(files.iter().map(String::as_str));
    let run = portreg(&db, &args);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("1 stored, 0 already stored, 1 failed"),
        "{}",
        run.stdout
    );
}

#[test]
fn snapshot_references_are_checked() {
    let (_dir, db) = temp_db();
    empty_database(&db);
    let run = portreg(&db, &["diff", "latest", "previous"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("no snapshots yet"), "{}", run.stderr);
    import(&db, &paths(&[0, 1]));
    let run = portreg(&db, &["diff", "2001-01-01", "latest"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("no snapshot matches"), "{}", run.stderr);
    let run = portreg(&db, &["diff", "yesterday", "latest"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("is not a snapshot"), "{}", run.stderr);
    let run = portreg(&db, &["raw", "99"]);
    assert_ne!(run.code, 0);
    let json = ok(portreg(
        &db,
        &["diff", "2017-03-10", "2017-03-13", "--format", "json"],
    ));
    let changes: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    assert!(!changes.is_empty());
    for change in &changes {
        for key in [
            "change",
            "name",
            "protocol",
            "port",
            "changed_fields",
            "before",
            "after",
        ] {
            assert!(change.get(key).is_some(), "{key} missing in {change}");
        }
    }
}

#[test]
fn the_database_defaults_to_the_user_data_directory() {
    let home = tempfile::tempdir().unwrap();
    let gz = Path::new(FIXTURES).join("registry-2017-03-10.xml.gz");
    let out = Command::new(env!("CARGO_BIN_EXE_portreg"))
        .args(["import", gz.to_str().unwrap()])
        .env_remove("PORTREG_DB")
        .env("HOME", home.path())
        .env("XDG_DATA_HOME", home.path().join("data"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(home.path().join("data/portreg/portreg.sqlite3").exists());
}

#[test]
fn parsing_with_a_memo_gives_what_a_fresh_parse_gives_on_real_versions() {
    use portreg::parse::{ParseMemo, parse_namespace_aware, parse_with_memo};
    let versions = real_versions();
    let bytes: Vec<Vec<u8>> = versions
        .iter()
        .map(|v| std::fs::read(&v.path).unwrap())
        .collect();
    let fresh: Vec<_> = bytes
        .iter()
        .map(|b| parse_document::<ServiceRecord>(b).unwrap())
        .collect();
    // Read without namespace resolution (see parse_registry_namespace_aware): the same.
    for (bytes, fresh) in bytes.iter().zip(&fresh) {
        assert_eq!(
            &parse_namespace_aware::<ServiceRecord>(bytes).unwrap(),
            fresh
        );
    }
    for order in [
        (0..bytes.len()).collect::<Vec<_>>(),
        shuffled(bytes.len(), 7),
    ] {
        let mut memo = ParseMemo::<ServiceRecord>::default();
        for &i in &order {
            let memoised = parse_with_memo(&bytes[i], &mut memo).unwrap();
            assert!(memoised == fresh[i], "version {i} differs with a memo");
            let hashes: Vec<i64> = memoised.records.iter().map(|r| r.content_hash()).collect();
            assert!(
                memoised.hashes.records == hashes,
                "version {i}: the memo's content hashes differ"
            );
        }
    }
}

#[test]
fn odd_records_are_kept_as_written() {
    let (_dir, db) = temp_db();
    let doc = r#"<?xml version='1.0' encoding='UTF-8'?>
<registry xmlns="http://www.iana.org/assignments" id="service-names-port-numbers">
  <updated>2024-05-06</updated>
  <record><name>rdp</name><description>first</description></record>
  <record><name>rdp</name><description>second, same key</description></record>
  <record date="2024-13-45" updated="sometime"><name>odd-dates</name><protocol>TCP</protocol><number>4711</number></record>
  <record><name>bad-port</name><protocol>udp</protocol><number>70000</number></record>
  <record><name>worse-port</name><protocol>udp</protocol><number>12ab</number></record>
  <record><name>Apple Remote Desktop (Net Assistant)</name><protocol>tcp</protocol><number>3283</number></record>
  <record><number>225-241</number><description>Reserved</description></record>
  <record><name>future</name><protocol>quic</protocol><number>443</number><shiny>new element</shiny></record>
</registry>
"#;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.xml");
    std::fs::write(&path, doc).unwrap();
    import(&db, &[path.display().to_string()]);
    let records: Vec<serde_json::Value> =
        serde_json::from_str(&ok(portreg(&db, &["export", "json"]))).unwrap();
    assert_eq!(records.len(), 8);
    let named = |name: &str| -> Vec<&serde_json::Value> {
        records.iter().filter(|r| r["name"] == name).collect()
    };
    assert_eq!(named("rdp").len(), 2);
    assert_eq!(named("rdp")[1]["ordinal"], 2);
    assert_eq!(named("odd-dates")[0]["registered"], "2024-13-45");
    assert_eq!(named("odd-dates")[0]["modified"], "sometime");
    assert_eq!(named("odd-dates")[0]["protocol"], "tcp");
    assert_eq!(named("bad-port")[0]["port"], "70000");
    assert_eq!(named("worse-port")[0]["port"], "12ab");
    assert_eq!(named("future")[0]["protocol"], "quic");
    // Lookups by port still find what has a usable port, and nothing breaks on the rest.
    let shown: Vec<serde_json::Value> =
        serde_json::from_str(&ok(portreg(&db, &["show", "230", "--format", "json"]))).unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0]["port"], "225-241");
    let services = ok(portreg(&db, &["export", "services"]));
    assert!(services.contains("odd-dates       4711/tcp"), "{services}");
    assert!(!services.contains("bad-port") && !services.contains("future"));
    assert!(ok(portreg(&db, &["verify"])).contains("verified 1 snapshots"));
}

/// A first import into no database, into an empty one (both stored while parsed), and as part
/// of a batch all store the same rows; a document refused at its very end leaves nothing but an
/// empty database, and one refused before its records no file where there was no database.
#[test]
fn a_first_import_equals_the_batch_path_and_a_late_refusal_leaves_nothing() {
    let latest = &real_versions()[real_versions().len() - 1].path;
    let latest = latest.to_str().unwrap().to_string();
    let history_rows = |db: &Path| -> Vec<String> {
        fingerprint(db)
            .into_iter()
            .filter(|row| !row.starts_with("snapshot:"))
            .collect()
    };
    let schema = |db: &Path| {
        ok(portreg(
            db,
            &[
                "sql",
                "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name",
            ],
        ))
    };
    let (_a, into_none) = temp_db();
    let out = import(&into_none, std::slice::from_ref(&latest));
    assert!(out.starts_with("stored "), "{out}");
    let (_d, into_empty) = temp_db();
    empty_database(&into_empty);
    let out = import(&into_empty, std::slice::from_ref(&latest));
    assert!(out.starts_with("stored "), "{out}");
    // Two arguments make a batch (the repeat is skipped).
    let (_b, batch) = temp_db();
    let out = import(&batch, &[latest.clone(), latest.clone()]);
    assert!(out.contains("1 stored, 1 already stored"), "{out}");
    let rows = history_rows(&into_none);
    assert!(rows.len() > 30_000, "{}", rows.len());
    assert_eq!(rows, history_rows(&batch));
    assert_eq!(rows, history_rows(&into_empty));
    assert_eq!(schema(&into_none), schema(&batch));
    assert_eq!(schema(&into_empty), schema(&batch));
    for db in [&into_none, &into_empty] {
        assert_eq!(
            ok(portreg(db, &["snapshots", "--format", "json"])),
            ok(portreg(&batch, &["snapshots", "--format", "json"]))
        );
        assert!(ok(portreg(db, &["verify"])).contains("verified 1 snapshots"));
        let mode: String = rusqlite::Connection::open(db)
            .unwrap()
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    // Cut just before its end.
    let bytes = std::fs::read(&latest).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.xml");
    std::fs::write(&cut, &bytes[..bytes.len() - 200]).unwrap();
    let (_c, refused) = temp_db();
    empty_database(&refused);
    let before = fingerprint(&refused);
    let run = portreg(&refused, &["import", cut.to_str().unwrap()]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("refused"), "{}", run.stderr);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert_eq!(fingerprint(&refused), before);
    // Into no database: a refused document creates none, whether it is refused at its start
    // or at its very end (a document is parsed whole before the database is opened).
    let html = dir.path().join("error.html");
    std::fs::write(&html, "<!DOCTYPE html><html><body>503</body></html>").unwrap();
    let (none_dir, none) = temp_db();
    for refused in [&html, &cut] {
        let run = portreg(&none, &["import", refused.to_str().unwrap()]);
        assert_ne!(run.code, 0);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert_eq!(std::fs::read_dir(none_dir.path()).unwrap().count(), 0);
    }
}

/// Two first imports at once into a database that does not exist yet: both land in it, one
/// after the other.
#[test]
fn two_first_imports_at_once_both_land_in_one_database() {
    let files = paths(&[19, 20]);
    let (_r, reference) = temp_db();
    import(&reference, &files);
    for round in 0..4 {
        let (_dir, db) = temp_db();
        // The same version twice, or two versions.
        let pair = if round % 2 == 0 {
            [&files[0], &files[0]]
        } else {
            [&files[0], &files[1]]
        };
        let children: Vec<_> = pair
            .iter()
            .map(|file| {
                portreg_command(&db, &["import", file])
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let outputs: Vec<String> = children
            .into_iter()
            .map(|child| {
                let output = child.wait_with_output().unwrap();
                assert!(output.status.success(), "round {round}");
                String::from_utf8(output.stdout).unwrap()
            })
            .collect();
        let stored = outputs.iter().filter(|o| o.starts_with("stored ")).count();
        let skipped = outputs.iter().filter(|o| o.starts_with("skipped ")).count();
        let expected = if round % 2 == 0 { (1, 1) } else { (2, 0) };
        assert_eq!((stored, skipped), expected, "round {round}: {outputs:?}");
        assert!(ok(portreg(&db, &["verify"])).contains(&format!("verified {stored} snapshots")));
        if stored == 2 {
            assert_eq!(
                snapshots_json_without(&db, &["id"]),
                snapshots_json_without(&reference, &["id"]),
                "round {round}"
            );
        }
    }
}
