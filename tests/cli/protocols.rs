//! The second registry, IANA's Protocol Numbers, on all 17 real versions of the shared bundle
//! (`tests/fixtures/protocols/`): import by root id, `--registry protocols` on every history
//! command, the protocols(5) export against iana-etc's rules, the check of a real netbase
//! file, fetch per registry, and a history that never mixes with the port registry's.

use crate::backfill::{git, mirror_of};
use crate::fixtures::{FIXTURES, protocol_versions, real_versions};
use crate::server::{Reply, TestServer};
use crate::support::*;
use quick_xml::events::Event;
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

/// The protocol versions at these indices (0 = 2017-05-24 ... 16 = 2024-01-08), as paths.
fn protocol_paths(indices: &[usize]) -> Vec<String> {
    indices
        .iter()
        .map(|&i| protocol_versions()[i].path.display().to_string())
        .collect()
}

fn all_protocols() -> Vec<String> {
    protocol_paths(&(0..protocol_versions().len()).collect::<Vec<_>>())
}

/// `portreg --registry protocols ARGS`.
fn protocols(db: &Path, args: &[&str]) -> Run {
    let mut all = vec!["--registry", "protocols"];
    all.extend(args);
    portreg(db, &all)
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The database with all 17 versions, imported in date order in one process.
fn all_versions_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, db) = temp_db();
    import(&db, &all_protocols());
    (dir, db)
}

/// The answers of the port registry a protocols import must leave alone.
fn port_registry_answers(db: &Path) -> Vec<String> {
    [
        vec!["snapshots", "--format", "json"],
        vec!["show", "443", "--format", "json"],
        vec!["changes", "--since", "2017-01-01", "--format", "json"],
        vec!["history", "cfg-cloud", "--format", "json"],
        vec!["stats", "--format", "json"],
        vec!["export", "services"],
        vec!["status", "--format", "json"],
    ]
    .iter()
    .map(|args| {
        ok(portreg(db, args))
            .lines()
            // Snapshot ids and the database's path depend on what else the file holds.
            .filter(|line| {
                !line.contains("\"database\"")
                    && !line.contains("id\":")
                    && !line.contains("(snapshot ")
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
    .collect()
}

#[test]
fn import_recognises_each_document_by_its_root_and_the_histories_never_mix() {
    let (_dir, db) = temp_db();
    import(&db, &paths(&[0, 13, 20]));
    let ports_before = port_registry_answers(&db);

    // One process per version, shuffled: most land before the latest, in their place.
    let n = protocol_versions().len();
    for i in shuffled(n, 11) {
        let out = import(&db, &protocol_paths(&[i]));
        assert!(out.contains("stored "), "{out}");
    }
    for (after, before) in port_registry_answers(&db).iter().zip(&ports_before) {
        assert_eq!(after, before, "the port registry's answers moved");
    }
    // And a port registry version and a protocols version in one batch, no flag needed.
    let mixed = import(
        &db,
        &[paths(&[1]).remove(0), protocol_paths(&[3]).remove(0)],
    );
    assert!(
        mixed.contains("1 stored, 1 already stored, 0 failed"),
        "{mixed}"
    );
    // Its port registry version went into its own history, as into a database without
    // protocols (snapshot ids aside).
    let (_fresh_dir, fresh) = temp_db();
    import(&fresh, &paths(&[0, 1, 13, 20]));
    for (mixed, fresh) in port_registry_answers(&db)
        .iter()
        .zip(&port_registry_answers(&fresh))
    {
        assert_eq!(mixed, fresh);
    }

    // The protocols history is the one an in-order import makes.
    let (_ordered_dir, ordered) = all_versions_db();
    let view = |db: &Path| -> Vec<serde_json::Value> {
        let rows = json(&ok(protocols(db, &["snapshots", "--format", "json"])));
        rows.as_array()
            .unwrap()
            .iter()
            .map(|row| {
                let mut row = row.clone();
                let object = row.as_object_mut().unwrap();
                object.remove("id");
                object.remove("observed_at");
                row
            })
            .collect()
    };
    let shuffled_view = view(&db);
    assert_eq!(shuffled_view, view(&ordered));
    assert_eq!(shuffled_view.len(), 17);
    let shas: Vec<&str> = shuffled_view
        .iter()
        .map(|row| row["sha256"].as_str().unwrap())
        .collect();
    let manifest: Vec<&str> = protocol_versions()
        .iter()
        .map(|v| v.sha256.as_str())
        .collect();
    assert_eq!(shas, manifest, "history order is the registry's");
    let dates: Vec<&str> = shuffled_view
        .iter()
        .map(|row| row["registry_date"].as_str().unwrap())
        .collect();
    assert_eq!(dates.iter().filter(|d| **d == "2021-02-26").count(), 2);
    for (from, to) in [
        ("2017-05-24", "latest"),
        ("2021-01-08", "2023-06-06"),
        ("2017-10-13", "2017-05-24"),
    ] {
        let args = ["diff", from, to, "--format", "json"];
        assert_eq!(ok(protocols(&db, &args)), ok(protocols(&ordered, &args)));
    }
    let records: Vec<u64> = shuffled_view
        .iter()
        .map(|row| row["records"].as_u64().unwrap())
        .collect();
    assert!(records.iter().all(|&n| (148..=150).contains(&n)));
    // The port registry's views and snapshots hold its own versions only.
    let services = json(&ok(portreg(&db, &["snapshots", "--format", "json"])));
    assert_eq!(services.as_array().unwrap().len(), 4);
    let sql = ok(portreg(
        &db,
        &[
            "sql",
            "SELECT count(*) AS n FROM snapshot WHERE registry = 'protocols'",
        ],
    ));
    assert!(sql.contains("17"), "{sql}");
}

#[test]
fn import_git_takes_the_protocols_file_by_path_or_by_registry() {
    let repo = tempfile::tempdir().unwrap();
    let versions: Vec<_> = protocol_versions().iter().collect();
    mirror_of(repo.path(), &versions, "protocol-numbers.xml");
    let repo_arg = repo.path().to_str().unwrap();
    let (_ordered_dir, ordered) = all_versions_db();
    let (_dir, by_path) = temp_db();
    let out = ok(portreg(
        &by_path,
        &[
            "import",
            "--git",
            repo_arg,
            "--path",
            "protocol-numbers.xml",
        ],
    ));
    assert!(
        out.contains("17 stored, 0 already stored, 0 failed"),
        "{out}"
    );
    let by_path_view = ok(protocols(&by_path, &["snapshots", "--format", "json"]));
    let ordered_view = ok(protocols(&ordered, &["snapshots", "--format", "json"]));
    let strip = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| {
                !["\"id\"", "\"source\"", "\"observed_at\""]
                    .iter()
                    .any(|k| l.contains(k))
            })
            .map(str::to_string)
            .collect()
    };
    assert_eq!(strip(&by_path_view), strip(&ordered_view));
    assert_eq!(
        ok(portreg(&by_path, &["snapshots", "--format", "json"])),
        "[]\n"
    );

    // --registry protocols names the file; a port registry repository has no such file.
    let (_dir2, by_registry) = temp_db();
    let out = ok(protocols(&by_registry, &["import", "--git", repo_arg]));
    assert!(out.contains("17 stored"), "{out}");
    let out = portreg(&by_registry, &["import", "--git", repo_arg]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("service-names-port-numbers.xml"),
        "{}",
        out.stderr
    );
}

/// A mirror whose commits change both registries' files: each registry's import reads every
/// commit, whichever registry was imported from it first.
#[test]
fn import_git_of_a_mirror_of_both_registries_misses_no_commit() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path();
    git(dir, &["init", "--quiet", "--initial-branch=main"]);
    for (ports, protocols) in [(0, 0), (1, 3), (2, 16)] {
        std::fs::copy(
            &real_versions()[ports].path,
            dir.join("service-names-port-numbers.xml"),
        )
        .unwrap();
        std::fs::copy(
            &protocol_versions()[protocols].path,
            dir.join("protocol-numbers.xml"),
        )
        .unwrap();
        git(dir, &["add", "-A"]);
        git(dir, &["commit", "--quiet", "-m", "both"]);
    }
    let (_dir, db) = temp_db();
    let repo_arg = dir.to_str().unwrap();
    let ports = ok(portreg(&db, &["import", "--git", repo_arg]));
    assert!(ports.contains("3 stored, 0 already stored"), "{ports}");
    let protocols_out = ok(portreg(
        &db,
        &[
            "import",
            "--git",
            repo_arg,
            "--path",
            "protocol-numbers.xml",
        ],
    ));
    assert!(
        protocols_out.contains("3 stored, 0 already stored"),
        "{protocols_out}"
    );
    // A rerun of each reads no commit again.
    let again = ok(protocols(&db, &["import", "--git", repo_arg]));
    assert!(again.contains("0 stored"), "{again}");
    let rows = json(&ok(protocols(&db, &["snapshots", "--format", "json"])));
    assert_eq!(rows.as_array().unwrap().len(), 3);
}

#[test]
fn the_real_quirks_value_84_twice_a_shared_date_and_ranges() {
    let (_dir, db) = all_versions_db();
    let at = |args: &[&str]| -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        json(&ok(protocols(&db, &all)))
    };
    // Until March 2023 value 84 held TTP and IPTM; then TTP was removed.
    let before = at(&["show", "84", "--as-of", "2022-12-31"]);
    let names: BTreeSet<&str> = before
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, BTreeSet::from(["IPTM", "TTP"]));
    let now = at(&["show", "84"]);
    assert_eq!(now.as_array().unwrap().len(), 1);
    assert_eq!(now[0]["name"], "IPTM");
    let diff = at(&["diff", "2023-02-02", "2023-03-16"]);
    let removed: Vec<&serde_json::Value> = diff
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["change"] == "removed")
        .collect();
    assert_eq!(removed.len(), 1);
    assert_eq!(
        (&removed[0]["value"], &removed[0]["name"]),
        (&"84".into(), &"TTP".into())
    );
    assert!(removed[0]["after"].is_null());
    assert_eq!(
        removed[0]["before"]["description"],
        "Transaction Transport Protocol"
    );
    // Its history: TTP from the oldest version to 2023-02-02, IPTM on, changed in 2023-03.
    let history = at(&["history", "84"]);
    let spans: Vec<(&str, &str, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|span| {
            (
                span["name"].as_str().unwrap(),
                span["first_registry_date"].as_str().unwrap(),
                span["last_registry_date"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        spans,
        [
            ("IPTM", "2017-05-24", "2023-02-02"),
            ("IPTM", "2023-03-16", "2024-01-08"),
            ("TTP", "2017-05-24", "2023-02-02"),
        ]
    );

    // Two documents dated 2021-02-26: both kept, in the order they were published.
    let snapshots = at(&["snapshots"]);
    let same_day: Vec<u64> = snapshots
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["registry_date"] == "2021-02-26")
        .map(|s| s["id"].as_u64().unwrap())
        .collect();
    assert_eq!(same_day.len(), 2);
    let as_of = at(&["show", "143", "--as-of", "2021-02-26"]);
    let later = at(&["show", "143", "--as-of", &same_day[1].to_string()]);
    assert_eq!(as_of, later, "a date means its latest version");

    // Ranges: a number inside one finds it; the range itself is a lookup too.
    let inside = at(&["show", "200"]);
    assert_eq!(inside[0]["value"], "146-252");
    assert_eq!(inside[0]["name"], serde_json::Value::Null);
    assert_eq!(at(&["show", "146-252"]), inside);
    let old_range = at(&["show", "200", "--as-of", "2018-01-01"]);
    assert_eq!(old_range[0]["value"], "143-252");

    // Keywords in any case; the JSON is the contract's record.
    let icmp = at(&["show", "IPV6-icmp"]);
    assert_eq!(icmp[0]["value"], "58");
    assert_eq!(icmp[0]["name"], "IPv6-ICMP");
    let keys: Vec<&str> = icmp[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "value",
            "name",
            "description",
            "ipv6_extension_header",
            "contact",
            "references",
            "registered",
            "modified",
            "notes"
        ]
    );
    let route = at(&["show", "43"]);
    assert_eq!(route[0]["ipv6_extension_header"], true);
    assert_eq!(route[0]["contact"], serde_json::json!(["Steve_Deering"]));
    assert_eq!(
        at(&["show", "6"])[0]["references"],
        serde_json::json!(["rfc:rfc9293"])
    );
    let found = at(&["search", "ipv6"]);
    assert!(found.as_array().unwrap().len() >= 7, "{found}");

    // A transport protocol means nothing here, and free is about ports.
    let tcp = protocols(&db, &["show", "6/tcp"]);
    assert_eq!(tcp.code, 1, "{}", tcp.stderr);
    assert!(
        tcp.stderr.contains("no transport protocols"),
        "{}",
        tcp.stderr
    );
    let free = protocols(&db, &["free", "1-20"]);
    assert_eq!(free.code, 1);
    assert!(
        free.stderr.contains("free finds free ports"),
        "{}",
        free.stderr
    );
    // Asked without --registry, a protocols-only database says what it holds.
    let ports = portreg(&db, &["show", "443"]);
    assert_eq!(ports.code, 1);
    assert!(
        ports.stderr.contains("--registry protocols"),
        "{}",
        ports.stderr
    );
}

#[test]
fn changes_since_2020_are_the_registrys_own() {
    let (_dir, db) = all_versions_db();
    let changes = json(&ok(protocols(
        &db,
        &["changes", "--since", "2020", "--format", "json"],
    )));
    let mut seen: Vec<(String, String, String)> = changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["change"].as_str().unwrap().to_string(),
                c["value"].as_str().unwrap().to_string(),
                c["name"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    seen.sort();
    let want: Vec<(String, String, String)> = [
        ("added", "143", "Ethernet"),
        ("added", "144", "AGGFRAG"),
        ("added", "145", "NSH"),
        ("added", "146-252", "-"),
        ("added", "55", "Min-IPv4"),
        ("modified", "112", "VRRP"),
        ("modified", "14", "EMCON"),
        ("modified", "29", "ISO-TP4"),
        ("modified", "6", "TCP"),
        ("modified", "84", "IPTM"),
        ("removed", "143-252", "-"),
        ("removed", "55", "MOBILE"),
        ("removed", "84", "TTP"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    assert_eq!(seen, want);
    let table = ok(protocols(&db, &["changes", "--since", "2020"]));
    for line in [
        "Newly assigned (4)",
        "Min-IPv4 ┆ Minimal IPv4 Encapsulation (was 55 MOBILE)",
        "Removed (1)",
        "Modified (5)",
        "references: rfc:rfc793 -> rfc:rfc9293",
        "Unassigned ranges redrawn (1)",
    ] {
        assert!(table.contains(line), "{line:?} not in\n{table}");
    }
}

#[test]
fn raw_verify_feed_stats_and_status_work_per_registry() {
    let (_dir, db) = temp_db();
    import(&db, &paths(&[20]));
    // Out of order, so stored deltas are re-based.
    import(&db, &protocol_paths(&[16, 0, 8]));
    import(
        &db,
        &protocol_paths(&[1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15]),
    );
    let snapshots = json(&ok(protocols(&db, &["snapshots", "--format", "json"])));
    for (row, version) in snapshots
        .as_array()
        .unwrap()
        .iter()
        .zip(protocol_versions())
    {
        let id = row["id"].to_string();
        let raw = portreg_command(&db, &["raw", &id]).output().unwrap();
        assert!(raw.status.success());
        assert_eq!(std::fs::read(&version.path).unwrap(), raw.stdout);
    }
    let latest = portreg_command(&db, &["--registry", "protocols", "raw", "latest"])
        .output()
        .unwrap();
    assert_eq!(
        latest.stdout,
        std::fs::read(&protocol_versions()[16].path).unwrap()
    );
    let verify = ok(protocols(&db, &["verify"]));
    assert!(verify.starts_with("verified 18 snapshots"), "{verify}");
    // verify checks the whole file, every registry's snapshots.
    assert!(ok(portreg(&db, &["verify"])).starts_with("verified 18 snapshots"));
    // 17 documents of 42 kB (720 kB) in about 11 kB: compact, as the port registry's are.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let raw_bytes: i64 = conn
        .query_row(
            "SELECT sum(length(r.zstd)) FROM (SELECT snapshot_id, zstd FROM snapshot_raw
                                              UNION ALL SELECT snapshot_id, zstd FROM snapshot_raw_skip) r
             JOIN snapshot s ON s.id = r.snapshot_id WHERE s.registry = 'protocols'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(raw_bytes < 30_000, "{raw_bytes}");

    let feed = ok(protocols(&db, &["feed"]));
    assert!(
        feed.contains("<id>tag:portreg,2026:protocol-numbers</id>"),
        "{feed}"
    );
    assert_eq!(feed.matches("<entry>").count(), 17);
    assert!(feed.contains("protocol-numbers.xhtml"));
    assert!(!feed.contains("service-names-port-numbers"));
    let services_feed = ok(portreg(&db, &["feed"]));
    assert_eq!(services_feed.matches("<entry>").count(), 1);

    let stats = json(&ok(protocols(&db, &["stats", "--format", "json"])));
    let years = stats.as_array().unwrap();
    let snapshots: u64 = years.iter().map(|y| y["snapshots"].as_u64().unwrap()).sum();
    assert_eq!(snapshots, 17, "{stats}");
    assert_eq!(years.last().unwrap()["records"], 150, "{stats}");
    assert_eq!(years[0]["year"], 2017, "{stats}");
    let chart_dir = tempfile::tempdir().unwrap();
    let chart = chart_dir.path().join("chart.svg");
    ok(protocols(&db, &["stats", "--svg", chart.to_str().unwrap()]));
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(
        svg.contains("The IANA protocol numbers registry, 2017")
            && svg.contains("assigned (a keyword)")
            && !svg.contains("service"),
        "{svg}"
    );

    let status = json(&ok(protocols(&db, &["status", "--format", "json"])));
    assert_eq!(status["latest"]["registry_date"], "2024-01-08", "{status}");
}

/// iana-etc's rules as the contract states them, run on the XML itself (not through portreg's
/// parser): one `keyword-lower number Keyword` for each record with a single numeric value
/// whose name and description contain none of unassigned, deprecated, reserved, historic (any
/// case) and whose name has no white space.
fn iana_etc_entries(xml: &[u8]) -> Vec<(String, u8, String)> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut entries = Vec::new();
    let (mut in_record, mut field) = (false, String::new());
    let (mut value, mut name, mut description) = (String::new(), String::new(), String::new());
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).unwrap() {
            Event::Start(e) if e.name().as_ref() == "record" => {
                in_record = true;
                (value, name, description) = Default::default();
            }
            Event::Start(e) if in_record => {
                field = e.name().as_ref().to_string();
            }
            Event::Text(t) if in_record => {
                let text = t.xml10_content().into_owned();
                match field.as_str() {
                    "value" => value.push_str(&text),
                    "name" => name.push_str(&text),
                    "description" => description.push_str(&text),
                    _ => {}
                }
            }
            // An entity (`&amp;`) holds none of the four words: a space stands for it.
            Event::GeneralRef(_) if in_record && field == "description" => description.push(' '),
            Event::End(e) if e.name().as_ref() == "record" => {
                in_record = false;
                let name = name.trim();
                let set_aside = |text: &str| {
                    let text = text.to_lowercase();
                    ["unassigned", "deprecated", "reserved", "historic"]
                        .iter()
                        .any(|word| text.contains(word))
                };
                let single = value
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .filter(|_| value.trim().bytes().all(|b| b.is_ascii_digit()));
                if let Some(number) = single
                    && !name.is_empty()
                    && !set_aside(name)
                    && !set_aside(&description)
                    && !name.chars().any(char::is_whitespace)
                {
                    entries.push((name.to_lowercase(), number, name.to_string()));
                }
            }
            Event::End(_) => field.clear(),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    entries
}

/// The entries of a protocols(5) file: `name number aliases...`, comments dropped.
fn protocols_file_entries(text: &str) -> Vec<(String, u8, String)> {
    text.lines()
        .map(|line| line.split('#').next().unwrap())
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(words.len(), 3, "{line:?}");
            (
                words[0].to_string(),
                words[1].parse().unwrap(),
                words[2].to_string(),
            )
        })
        .collect()
}

#[test]
fn export_protocols_has_iana_etcs_entries_on_every_real_version() {
    let (_dir, db) = all_versions_db();
    let snapshots = json(&ok(protocols(&db, &["snapshots", "--format", "json"])));
    let mut checked = 0;
    for (row, version) in snapshots
        .as_array()
        .unwrap()
        .iter()
        .zip(protocol_versions())
    {
        let id = row["id"].to_string();
        let exported = ok(protocols(&db, &["export", "protocols", "--as-of", &id]));
        let mut want = iana_etc_entries(&std::fs::read(&version.path).unwrap());
        assert!(want.len() > 130, "{} entries", want.len());
        // By number, as the document is; entries sharing a number (84 until 2023) come in
        // keyword order, where the document has TTP before IPTM.
        let entries = protocols_file_entries(&exported);
        assert!(entries.windows(2).all(|pair| pair[0].1 <= pair[1].1));
        want.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
        assert_eq!(entries, want, "version {id}");
        // The header says which version it is.
        let date = row["registry_date"].as_str().unwrap();
        let sha = row["sha256"].as_str().unwrap();
        let header: String = exported
            .lines()
            .take_while(|l| l.starts_with('#'))
            .collect();
        assert!(header.contains(date) && header.contains(sha), "{header}");
        checked += 1;
    }
    assert_eq!(checked, 17);

    // The newest version, as a file, written atomically; entries a reader expects.
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("protocols");
    ok(protocols(
        &db,
        &["export", "protocols", "-o", file.to_str().unwrap()],
    ));
    let written = std::fs::read_to_string(&file).unwrap();
    let entries = protocols_file_entries(&written);
    for entry in [
        ("tcp", 6, "TCP"),
        ("ipv6-icmp", 58, "IPv6-ICMP"),
        ("ethernet", 143, "Ethernet"),
    ] {
        assert!(
            entries.contains(&(entry.0.into(), entry.1, entry.2.into())),
            "{entry:?}"
        );
    }
    assert!(!entries.iter().any(|e| e.0 == "ttp"), "removed in 2023");
    assert!(!entries.iter().any(|e| e.1 == 255), "255 is Reserved");
    // `export protocols` reads the protocols history whatever --registry says.
    assert_eq!(ok(portreg(&db, &["export", "protocols"])), written);
}

/// A finding's line, kind, keyword, number and IANA's keywords there.
type Finding<'a> = (u64, &'a str, Option<&'a str>, Option<u64>, Vec<&'a str>);

#[test]
fn check_a_real_netbase_protocols_file() {
    let (_dir, db) = all_versions_db();
    let file = Path::new(FIXTURES).join("netbase-protocols");
    let file = file.to_str().unwrap();
    let run = protocols(&db, &["check", file, "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let findings = json(&run.stdout);
    let summary: Vec<Finding> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["line"].as_u64().unwrap(),
                f["finding"].as_str().unwrap(),
                f["name"].as_str(),
                f["value"].as_u64(),
                f["iana"]
                    .as_array()
                    .map(|names| names.iter().map(|n| n.as_str().unwrap()).collect())
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (9, "conflict", Some("ip"), Some(0), vec!["HOPOPT"]),
            (14, "conflict", Some("ipencap"), Some(4), vec!["IPv4"]),
            (68, "unreadable", None, None, vec![]),
        ]
    );
    // `mobility-header 135` is IANA's `Mobility Header` hyphenated: no finding.
    assert!(findings[2]["reason"].as_str().unwrap().contains("262"));
    let table = protocols(&db, &["check", file]);
    assert_eq!(table.code, 1);
    assert!(
        table.stdout.contains("3 findings in 57 entries"),
        "{}",
        table.stdout
    );
    assert!(
        table
            .stdout
            .contains("conflict    IANA gives the number another keyword")
    );

    // As of 2017, 55 was MOBILE; a file written then agrees with it, and today's does not.
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("protocols");
    std::fs::write(&old, "mobile 55 MOBILE\nttp 84 TTP\niptm 84 IPTM\n").unwrap();
    let old = old.to_str().unwrap();
    let then = protocols(&db, &["check", old, "--as-of", "2018-01-01"]);
    assert_eq!(then.code, 0, "{}{}", then.stdout, then.stderr);
    let now = json(&protocols(&db, &["check", old, "--format", "json"]).stdout);
    let kinds: Vec<(&str, &str)> = now
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["name"].as_str().unwrap(), f["finding"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, [("mobile", "conflict"), ("ttp", "conflict")]);

    // Reserved and unassigned numbers are findings of their own kinds.
    let odd = dir.path().join("odd");
    std::fs::write(&odd, "reserved 255 RESERVED\nspare 200 SPARE\ntcp 6 TCP\n").unwrap();
    let odd = json(&protocols(&db, &["check", odd.to_str().unwrap(), "--format", "json"]).stdout);
    let kinds: Vec<&str> = odd
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["finding"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["reserved", "unassigned"]);
}

fn protocols_version(i: usize) -> Vec<u8> {
    std::fs::read(&protocol_versions()[i].path).unwrap()
}

fn fetch_protocols(db: &Path, url: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "--registry",
        "protocols",
        "fetch",
        "--url",
        url,
        "--retry-wait",
        "50ms",
        "--timeout",
        "5s",
    ];
    args.extend(extra);
    portreg(db, &args)
}

fn fetch_outcomes(db: &Path) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT registry, outcome FROM fetch_attempt ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn fetch_keeps_each_registry_with_its_own_validators_and_refuses_the_wrong_one() {
    let (_dir, db) = temp_db();
    // One address for both registries, so only the registry tells their validators apart.
    let ports = std::fs::read(&real_versions()[20].path).unwrap();
    let body = protocols_version(16);
    let server = TestServer::start(move |n, seen| match (n, seen.if_none_match.as_deref()) {
        (0, _) => Reply::Body {
            bytes: ports.clone(),
            etag: Some("\"s20\""),
        },
        (1, _) => Reply::Body {
            bytes: body.clone(),
            etag: Some("\"p16\""),
        },
        (_, Some(_)) => Reply::NotModified,
        (_, None) => Reply::Status {
            code: 500,
            headers: vec![],
        },
    });
    ok(portreg(&db, &["fetch", "--url", &server.url]));
    let first = ok(fetch_protocols(&db, &server.url, &[]));
    assert!(
        first.contains("stored snapshot 2: registry 2024-01-08"),
        "{first}"
    );
    let second = ok(fetch_protocols(&db, &server.url, &[]));
    assert!(
        second.starts_with("protocols: unchanged: not modified"),
        "{second}"
    );
    ok(portreg(
        &db,
        &["--registry", "services", "fetch", "--url", &server.url],
    ));
    let sent: Vec<Option<String>> = server.seen().into_iter().map(|s| s.if_none_match).collect();
    assert_eq!(
        sent,
        [None, None, Some("\"p16\"".into()), Some("\"s20\"".into())],
        "each registry's conditional GET uses its own ETag"
    );

    // A port registry document at the protocols address is refused; nothing is stored.
    let ports = std::fs::read(&real_versions()[20].path).unwrap();
    let wrong = TestServer::start(move |_, _| Reply::Body {
        bytes: ports.clone(),
        etag: None,
    });
    let before = fingerprint(&db);
    let refused = fetch_protocols(&db, &wrong.url, &[]);
    assert_eq!(refused.code, 2, "{}", refused.stdout);
    let last = refused.stderr.lines().last().unwrap();
    assert!(
        last.starts_with("portreg: fetch failed: protocols: ")
            && last.contains("service-names-port-numbers"),
        "{}",
        refused.stderr
    );
    let after = fingerprint(&db);
    let new_rows: Vec<&String> = after.iter().filter(|row| !before.contains(row)).collect();
    assert!(
        new_rows.iter().all(|row| row.starts_with("fetch_attempt:")),
        "{new_rows:?}"
    );
    assert_eq!(
        fetch_outcomes(&db),
        [
            ("services".to_string(), "stored".to_string()),
            ("protocols".into(), "stored".into()),
            ("protocols".into(), "not-modified".into()),
            ("services".into(), "not-modified".into()),
            ("protocols".into(), "refused".into()),
        ]
    );
    let status = json(&ok(protocols(&db, &["status", "--format", "json"])));
    assert_eq!(status["fetch"]["failures_since_success"], 1, "{status}");
    let ports_status = json(&ok(portreg(&db, &["status", "--format", "json"])));
    assert_eq!(ports_status["fetch"]["failures_since_success"], 0);
    assert_eq!(
        ports_status["fetch"]["last_attempt"]["outcome"],
        "not-modified"
    );
}

#[test]
fn a_plain_fetch_fetches_every_registry_the_database_tracks() {
    let (_dir, db) = temp_db();
    let ports = std::fs::read(&real_versions()[20].path).unwrap();
    let ports_server = TestServer::start(move |_, _| Reply::Body {
        bytes: ports.clone(),
        etag: None,
    });
    let newer = protocols_version(16);
    let older = protocols_version(15);
    let protocols_server = TestServer::start(move |n, _| Reply::Body {
        bytes: if n == 0 { older.clone() } else { newer.clone() },
        etag: None,
    });
    let plain_fetch = |db: &Path| {
        portreg_command(db, &["fetch", "--retry-wait", "50ms", "--timeout", "5s"])
            .env("PORTREG_URL", &ports_server.url)
            .env("PORTREG_PROTOCOLS_URL", &protocols_server.url)
            .output()
            .unwrap()
    };
    // Today's cron line: the port registry only, until protocols are tracked.
    let out = plain_fetch(&db);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(protocols_server.seen().len(), 0);
    assert_eq!(ports_server.seen().len(), 1);
    // Tracking starts with the first protocols document stored.
    ok(protocols(
        &db,
        &[
            "fetch",
            "--retry-wait",
            "50ms",
            "--timeout",
            "5s",
            "--url",
            &protocols_server.url,
        ],
    ));
    let out = plain_fetch(&db);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(protocols_server.seen().len(), 2);
    assert_eq!(ports_server.seen().len(), 2);
    // Snapshot ids are the database's: the port registry's version is 1.
    assert!(
        stdout.contains("protocols: stored snapshot 3: registry 2024-01-08"),
        "{stdout}"
    );
    // --exit-code says 0 when neither registry stored a version (1 below, when one did).
    let out = portreg_command(&db, &["fetch", "--exit-code", "--timeout", "5s"])
        .env("PORTREG_URL", &ports_server.url)
        .env("PORTREG_PROTOCOLS_URL", &protocols_server.url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "nothing new");
    let snapshots = json(&ok(protocols(&db, &["snapshots", "--format", "json"])));
    assert_eq!(snapshots.as_array().unwrap().len(), 2);

    // A database of the protocol numbers only keeps to them; a new version there exits 1.
    let (_only_dir, only) = temp_db();
    import(&only, &protocol_paths(&[0]));
    let (ports_before, protocols_before) =
        (ports_server.seen().len(), protocols_server.seen().len());
    let out = portreg_command(&only, &["fetch", "--exit-code", "--timeout", "5s"])
        .env("PORTREG_URL", &ports_server.url)
        .env("PORTREG_PROTOCOLS_URL", &protocols_server.url)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(ports_server.seen().len(), ports_before);
    assert_eq!(protocols_server.seen().len(), protocols_before + 1);
}

#[test]
fn two_protocols_fetches_at_once_store_one_snapshot() {
    let (_dir, db) = temp_db();
    let body = protocols_version(16);
    let server = TestServer::start(move |_, _| {
        std::thread::sleep(Duration::from_millis(300));
        Reply::Body {
            bytes: body.clone(),
            etag: None,
        }
    });
    let children: Vec<_> = (0..2)
        .map(|_| {
            portreg_command(
                &db,
                &["--registry", "protocols", "fetch", "--url", &server.url],
            )
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let outcomes: Vec<String> = fetch_outcomes(&db).into_iter().map(|(_, o)| o).collect();
    assert_eq!(
        outcomes.iter().filter(|o| *o == "stored").count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(outcomes.len(), 2);
    let snapshots = json(&ok(protocols(&db, &["snapshots", "--format", "json"])));
    assert_eq!(snapshots.as_array().unwrap().len(), 1);
}
