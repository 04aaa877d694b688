//! `changes`, `show`, `search`, `history`, `export`, `sql` and `completions` on a database
//! built from the real versions, checked against the parsed documents themselves.

use crate::fixtures::real_versions;
use crate::support::*;
use portreg::model::Registry;
use portreg::model::{Change, ServiceRecord};
use portreg::parse::parse_document;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::OnceLock;

/// One database holding every real fixture version, shared by the tests that only read it.
fn history_db() -> &'static Path {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DB.get_or_init(|| {
        let (dir, db) = temp_db();
        import(&db, &paths(&(0..real_versions().len()).collect::<Vec<_>>()));
        (dir, db)
    })
    .1
}

fn json<T: serde::de::DeserializeOwned>(db: &Path, args: &[&str]) -> T {
    let mut args = args.to_vec();
    args.extend(["--format", "json"]);
    serde_json::from_str(&ok(portreg(db, &args))).unwrap()
}

fn registry(i: usize) -> portreg::model::Document<ServiceRecord> {
    parse_document::<ServiceRecord>(&std::fs::read(&real_versions()[i].path).unwrap()).unwrap()
}

/// The index of the fixture that is the latest snapshot, and the registry dates in history.
fn latest_index() -> usize {
    real_versions().len() - 1
}

#[test]
fn changes_since_equals_the_diff_from_that_date_to_the_latest() {
    let db = history_db();
    let snapshots: Vec<serde_json::Value> = json(db, &["snapshots"]);
    let dates: Vec<String> = snapshots
        .iter()
        .map(|s| s["registry_date"].as_str().unwrap().to_string())
        .collect();
    // A date inside every stretch of the history, as a day, and its month and year forms.
    for date in [&dates[1], &dates[dates.len() / 2], &dates[dates.len() - 3]] {
        for since in [date.as_str(), &date[..7], &date[..4]] {
            let changes: Vec<Change<ServiceRecord>> = json(db, &["changes", "--since", since]);
            let day = match since.len() {
                4 => format!("{since}-01-01"),
                7 => format!("{since}-01"),
                _ => since.to_string(),
            };
            let run = portreg(db, &["diff", &day, "latest", "--format", "json"]);
            if run.code != 0 {
                // The history does not reach back to that day: changes falls back (tested below).
                assert!(run.stderr.contains("no snapshot matches"), "{}", run.stderr);
                continue;
            }
            let diff: Vec<Change<ServiceRecord>> = serde_json::from_str(&run.stdout).unwrap();
            assert_eq!(changes, diff, "changes --since {since}");
        }
    }
    let table = ok(portreg(db, &["changes", "--since", &dates[1]]));
    assert!(table.starts_with("Changes from snapshot "), "{table}");
    for heading in ["Newly assigned (", "Modified ("] {
        assert!(table.contains(heading), "{heading} missing in {table}");
    }
    let csv = ok(portreg(
        db,
        &["changes", "--since", &dates[1], "--format", "csv"],
    ));
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let changes: Vec<Change<ServiceRecord>> = json(db, &["changes", "--since", &dates[1]]);
    assert_eq!(reader.records().count(), changes.len());
}

#[test]
fn a_one_snapshot_database_answers_from_the_registry_dates() {
    let (_dir, db) = temp_db();
    let last = latest_index();
    import(&db, &paths(&[last]));
    let records = registry(last).records;
    for since in ["2024", "2023-06", "2022-02-18"] {
        let run = portreg(&db, &["changes", "--since", since, "--format", "json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            run.stderr.lines().count(),
            1,
            "one line says so: {}",
            run.stderr
        );
        assert!(run.stderr.contains("registry's own"), "{}", run.stderr);
        let changes: Vec<Change<ServiceRecord>> = serde_json::from_str(&run.stdout).unwrap();
        // Independently: a date as written is on or after `since` when its first characters
        // (as many as both have) compare so.
        let after = |date: &Option<String>| {
            date.as_deref().is_some_and(|d| {
                let since_day = match since.len() {
                    4 => format!("{since}-01-01"),
                    7 => format!("{since}-01"),
                    _ => since.to_string(),
                };
                let n = d.len().min(10);
                d[..n] >= since_day[..n]
            })
        };
        let mut expected: Vec<&ServiceRecord> = records
            .iter()
            .map(|r| &**r)
            .filter(|r| after(&r.registered) || after(&r.modified))
            .collect();
        assert!(!expected.is_empty(), "{since}");
        assert_eq!(changes.len(), expected.len(), "--since {since}");
        for change in &changes {
            let after = change.after.as_ref().unwrap();
            assert!(change.before.is_none());
            expected.retain(|r| *r != after);
        }
        assert!(expected.is_empty(), "not reported: {expected:?}");
    }
    let table = ok(portreg(&db, &["changes", "--since", "2024"]));
    assert!(table.contains("by the registry's own dates"), "{table}");
    let observed = portreg(&db, &["changes", "--since", "2024", "--source", "observed"]);
    assert_ne!(observed.code, 0);
    assert!(
        observed.stderr.contains("--source registry"),
        "{}",
        observed.stderr
    );
}

/// The latest records whose port overlaps lo..=hi, from the parsed document.
fn overlapping(
    records: &[Arc<ServiceRecord>],
    lo: u32,
    hi: u32,
    protocol: Option<&str>,
) -> Vec<ServiceRecord> {
    records
        .iter()
        .filter(|r| {
            r.port
                .as_deref()
                .and_then(|port| port.parse::<portreg::model::PortRange>().ok())
                .is_some_and(|r| u32::from(r.first) <= hi && u32::from(r.last) >= lo)
                && protocol.is_none_or(|p| r.protocol.as_deref() == Some(p))
        })
        .map(|r| ServiceRecord::clone(r))
        .collect()
}

fn sorted(mut records: Vec<ServiceRecord>) -> Vec<ServiceRecord> {
    portreg::model::sort_records(&mut records);
    records
}

#[test]
fn show_finds_ports_ranges_and_names_now_and_as_of_a_date() {
    let db = history_db();
    let latest = registry(latest_index()).records;
    let shown: Vec<ServiceRecord> = json(db, &["show", "443"]);
    assert_eq!(shown, sorted(overlapping(&latest, 443, 443, None)));
    assert!(shown.iter().any(|r| r.name.as_deref() == Some("https")));

    let range: Vec<ServiceRecord> = json(db, &["show", "8000-8100", "--proto", "tcp"]);
    assert_eq!(range, sorted(overlapping(&latest, 8000, 8100, Some("tcp"))));
    assert!(range.len() > 20, "{}", range.len());
    let same: Vec<ServiceRecord> = json(db, &["show", "8000-8100/tcp"]);
    assert_eq!(same, range);

    let by_name: Vec<ServiceRecord> = json(db, &["show", "HTTPS"]);
    let expected: Vec<ServiceRecord> = latest
        .iter()
        .filter(|r| r.name.as_deref() == Some("https"))
        .map(|r| ServiceRecord::clone(r))
        .collect();
    assert_eq!(by_name, sorted(expected));

    let assigned: Vec<ServiceRecord> = json(db, &["show", "0-1023", "--assigned"]);
    assert!(assigned.iter().all(|r| r.name.is_some()));
    let all: Vec<ServiceRecord> = json(db, &["show", "0-1023"]);
    assert!(all.len() > assigned.len());

    // As of the oldest snapshot's date: the oldest document's records.
    let snapshots: Vec<serde_json::Value> = json(db, &["snapshots"]);
    let oldest_date = snapshots[0]["registry_date"].as_str().unwrap();
    let then: Vec<ServiceRecord> = json(db, &["show", "1-100", "--as-of", oldest_date]);
    assert_eq!(
        then,
        sorted(overlapping(&registry(0).records, 1, 100, None))
    );

    let table = ok(portreg(db, &["show", "443"]));
    assert!(
        table.contains("443/tcp") && table.contains("https"),
        "{table}"
    );
    assert_eq!(ok(portreg(db, &["show", "nosuchservice"])), "No records.\n");
    let bad = portreg(db, &["show", "70000"]);
    assert_eq!(bad.code, 2, "clap rejects it: {}", bad.stderr);
    assert!(bad.stderr.contains("above 65535"), "{}", bad.stderr);
}

#[test]
fn search_matches_name_description_assignee_and_contact_in_any_case() {
    let db = history_db();
    let latest = registry(latest_index()).records;
    let found: Vec<ServiceRecord> = json(db, &["search", "KERBEROS"]);
    let contains = |field: &Option<String>| {
        field
            .as_deref()
            .is_some_and(|t| t.to_lowercase().contains("kerberos"))
    };
    let expected: Vec<ServiceRecord> = latest
        .iter()
        .filter(|r| {
            contains(&r.name)
                || contains(&r.description)
                || r.assignee
                    .iter()
                    .flatten()
                    .any(|a| a.to_lowercase().contains("kerberos"))
                || r.contact
                    .iter()
                    .flatten()
                    .any(|a| a.to_lowercase().contains("kerberos"))
        })
        .map(|r| ServiceRecord::clone(r))
        .collect();
    assert!(expected.len() > 5);
    assert_eq!(found, sorted(expected));
    let udp: Vec<ServiceRecord> = json(db, &["search", "kerberos", "--proto", "udp"]);
    assert!(!udp.is_empty() && udp.iter().all(|r| r.protocol.as_deref() == Some("udp")));
}

#[test]
fn history_gives_each_version_with_the_snapshots_it_held_in() {
    let db = history_db();
    let spans: Vec<serde_json::Value> = json(db, &["history", "443/tcp"]);
    assert!(!spans.is_empty());
    let snapshots: Vec<serde_json::Value> = json(db, &["snapshots"]);
    // Every snapshot's 443/tcp records are exactly the versions whose span covers it.
    let position = |id: &serde_json::Value| snapshots.iter().position(|s| s["id"] == *id).unwrap();
    for (i, snapshot) in snapshots.iter().enumerate() {
        let id = snapshot["id"].to_string();
        let shown: Vec<ServiceRecord> = json(db, &["show", "443/tcp", "--as-of", &id]);
        let covering: Vec<ServiceRecord> = spans
            .iter()
            .filter(|s| {
                position(&s["first_snapshot_id"]) <= i && i <= position(&s["last_snapshot_id"])
            })
            .map(|s| {
                let mut record = s.as_object().unwrap().clone();
                for span_field in [
                    "first_snapshot_id",
                    "first_registry_date",
                    "last_snapshot_id",
                    "last_registry_date",
                    "current",
                ] {
                    record.remove(span_field).unwrap();
                }
                serde_json::from_value(serde_json::Value::Object(record)).unwrap()
            })
            .collect();
        assert_eq!(shown, sorted(covering), "snapshot {id}");
    }
    let table = ok(portreg(db, &["history", "https", "--proto", "tcp"]));
    assert!(table.contains("now"), "{table}");
    let csv = ok(portreg(db, &["history", "443/tcp", "--format", "csv"]));
    assert_eq!(
        csv::Reader::from_reader(csv.as_bytes()).records().count(),
        spans.len()
    );
}

#[test]
fn exports_write_services_iana_csv_and_json() {
    let db = history_db();
    let services = ok(portreg(db, &["export", "services"]));
    for line in [
        "ssh             22/tcp          # The Secure Shell (SSH) Protocol",
        "domain          53/udp          # Domain Name Server",
        "http            80/tcp          # World Wide Web HTTP",
        "https           443/tcp         # http protocol over TLS/SSL",
    ] {
        assert!(services.lines().any(|l| l == line), "{line:?} missing");
    }
    // Every entry is `name port/proto`, assigned, single port, of the four protocols.
    let latest = registry(latest_index()).records;
    for line in services.lines().filter(|l| !l.starts_with('#')) {
        let mut fields = line.split_whitespace();
        let name = fields.next().unwrap();
        let (port, protocol) = fields.next().unwrap().split_once('/').unwrap();
        assert!(["tcp", "udp", "sctp", "dccp"].contains(&protocol), "{line}");
        assert!(
            latest.iter().any(|r| r.name.as_deref() == Some(name)
                && r.port.as_deref() == Some(port)
                && r.protocol.as_deref() == Some(protocol)),
            "{line} is not in the registry"
        );
    }

    let csv = ok(portreg(db, &["export", "csv"]));
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        portreg::output::services::IANA_CSV_HEADER
    );
    assert_eq!(reader.records().count(), latest.len());

    let records: Vec<ServiceRecord> =
        serde_json::from_str(&ok(portreg(db, &["export", "json"]))).unwrap();
    assert_eq!(
        records,
        sorted(latest.iter().map(|r| ServiceRecord::clone(r)).collect())
    );

    // --as-of and -o: the oldest version, written to a file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("services");
    let snapshots: Vec<serde_json::Value> = json(db, &["snapshots"]);
    let oldest = snapshots[0]["id"].to_string();
    ok(portreg(
        db,
        &[
            "export",
            "services",
            "--as-of",
            &oldest,
            "-o",
            file.to_str().unwrap(),
        ],
    ));
    let written = std::fs::read_to_string(&file).unwrap();
    assert!(
        written.contains(&format!("(snapshot {oldest},")),
        "{}",
        &written[..300]
    );
}

#[test]
fn sql_reads_with_parameters_and_refuses_to_write() {
    let (_dir, db) = temp_db();
    import(&db, &paths(&[0, 1, 2, latest_index()]));
    let rows: Vec<serde_json::Value> = json(
        &db,
        &[
            "sql",
            "SELECT count(*) AS n FROM snapshot WHERE registry_date >= :since",
            "--param",
            "since=2000-01-01",
        ],
    );
    assert_eq!(rows, [serde_json::json!({"n": 4})]);
    let csv = ok(portreg(
        &db,
        &["sql", "SELECT id, sha256 FROM snapshot", "--format", "csv"],
    ));
    assert_eq!(csv.lines().next(), Some("id,sha256"));

    let before = fingerprint(&db);
    for statement in [
        "DELETE FROM snapshot",
        "UPDATE record_version SET description = 'x'",
        "DROP TABLE snapshot",
        "INSERT INTO fetch_attempt (started_at, finished_at, url, tries, outcome) VALUES ('a','b','c',1,'failed')",
        "PRAGMA user_version = 99",
    ] {
        let run = portreg(&db, &["sql", statement]);
        assert_ne!(run.code, 0, "{statement} was allowed");
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.contains("only reads") || run.stderr.contains("readonly"),
            "{statement}: {}",
            run.stderr
        );
    }
    assert_eq!(fingerprint(&db), before);
    let missing = portreg(&db, &["sql", "SELECT :since"]);
    assert!(
        missing.stderr.contains("--param since=VALUE"),
        "{}",
        missing.stderr
    );
}

#[test]
fn every_ready_query_in_sql_runs_through_portreg_sql() {
    let (_dir, db) = temp_db();
    import(&db, &paths(&[0, 1, 2, 3, latest_index()]));
    // And the protocol numbers, for the queries of that registry.
    let protocols: Vec<String> = crate::fixtures::protocol_versions()
        .iter()
        .map(|v| v.path.display().to_string())
        .collect();
    import(&db, &protocols);
    let sql_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sql");
    let mut ran = 0;
    for entry in std::fs::read_dir(sql_dir).unwrap() {
        let path = entry.unwrap().path();
        let sql = std::fs::read_to_string(&path).unwrap();
        assert!(
            sql.starts_with("-- "),
            "{} lacks a header comment",
            path.display()
        );
        let file = path.to_str().unwrap();
        let mut args = vec!["sql", "--file", file, "--format", "json"];
        if sql.contains(":since") {
            args.extend(["--param", "since=2017-01-01"]);
        }
        let rows: Vec<serde_json::Value> = serde_json::from_str(&ok(portreg(&db, &args))).unwrap();
        let wants_rows = !path.ends_with("fetch_log.sql");
        assert!(
            !wants_rows || !rows.is_empty(),
            "{} returned nothing",
            path.display()
        );
        ran += 1;
    }
    assert!(ran >= 7);
}

#[test]
fn completions_are_printed_for_each_shell() {
    let (_dir, db) = temp_db();
    for shell in ["bash", "zsh", "fish"] {
        let script = ok(portreg(&db, &["completions", shell]));
        // Each command as the shell's own syntax names a subcommand.
        for command in ["changes", "free", "check", "feed", "stats", "sql"] {
            let entry = match shell {
                "bash" => format!("portreg,{command})"),
                "zsh" => format!("'{command}:"),
                _ => format!("-a \"{command}\""),
            };
            assert!(script.contains(&entry), "{shell} lacks {entry}");
        }
        for option in ["--never-assigned", "--svg", "--limit", "--timeout"] {
            let option = match shell {
                "fish" => format!("-l {}", &option[2..]),
                _ => option.to_string(),
            };
            assert!(script.contains(&option), "{shell} lacks {option}");
        }
        assert!(script.contains("markdown"), "{shell} lacks markdown");
    }
    assert!(!db.exists(), "completions need no database");
}

#[test]
fn a_missing_database_is_named_and_not_created() {
    let (_dir, db) = temp_db();
    let run = portreg(&db, &["show", "443"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("no database at"), "{}", run.stderr);
    assert!(!db.exists());
}

#[test]
fn one_snapshot_lookups_count_changes_as_the_snapshots_view_does() {
    use portreg::store::{SnapshotRef, Store};
    let store = Store::open_read_only(history_db()).unwrap();
    let rows = store.snapshots(Registry::Services).unwrap();
    assert_eq!(rows.len(), real_versions().len() - 2);
    for row in rows {
        assert_eq!(
            store
                .resolve(Registry::Services, &SnapshotRef::Id(row.id))
                .unwrap(),
            row
        );
    }
}

/// Whether process `pid` has a handler for SIGINT yet (`SigCgt` in /proc/PID/status), so a
/// signal sent now reaches it rather than its default action.
fn catches_sigint(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("SigCgt:"))?;
            u64::from_str_radix(line["SigCgt:".len()..].trim(), 16).ok()
        })
        .is_some_and(|caught| caught & (1 << (libc::SIGINT - 1)) != 0)
}

/// A query without an end (a recursive CTE), run as a child that a watchdog kills if the
/// limit under test does not stop it: its exit code and stderr, or None if it had to be killed.
fn endless_query(
    db: &Path,
    extra: &[&str],
    interrupt_after: Option<std::time::Duration>,
) -> Option<Run> {
    use std::time::{Duration, Instant};
    let mut args = vec![
        "sql",
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    ];
    args.extend(extra);
    let mut child = portreg_command(db, &args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut interrupted = false;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let output = child.wait_with_output().unwrap();
            return Some(Run {
                code: status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        if let Some(after) = interrupt_after
            && !interrupted
            && started.elapsed() >= after
            && catches_sigint(child.id())
        {
            // SAFETY: a signal to our own child, which is still running (not yet reaped).
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
            interrupted = true;
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            child.wait().unwrap();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sql_stops_a_runaway_query_at_its_timeout_and_on_ctrl_c() {
    let (_dir, db) = temp_db();
    import(&db, &paths(&[0]));
    let timed_out = endless_query(&db, &["--timeout", "300ms"], None)
        .expect("--timeout 300ms did not stop the query within a minute");
    assert_eq!(timed_out.code, 1);
    assert_eq!(timed_out.stdout, "");
    assert_eq!(
        timed_out.stderr,
        "portreg: the query took longer than 300ms and was stopped (give a longer --timeout, or 0 for none)\n"
    );

    let cancelled = endless_query(
        &db,
        &["--timeout", "0"],
        Some(std::time::Duration::from_millis(700)),
    )
    .expect("Ctrl-C did not stop the query within a minute");
    assert_eq!(cancelled.code, 1);
    assert_eq!(cancelled.stderr, "portreg: the query was cancelled\n");

    // The default limit lets a real query through.
    let rows: Vec<serde_json::Value> =
        json(&db, &["sql", "SELECT count(*) AS n FROM record_version"]);
    assert!(rows[0]["n"].as_i64().unwrap() > 5000, "{rows:?}");
}
