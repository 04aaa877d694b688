//! `fetch`, `watch` and `status` against real HTTP servers on 127.0.0.1 serving real versions.

use crate::fixtures::real_versions;
use crate::server::{Reply, TestServer};
use crate::support::*;
use portreg::model::ServiceRecord;
use portreg::parse::parse_document;
use std::path::Path;
use std::time::{Duration, Instant};

fn version(i: usize) -> Vec<u8> {
    std::fs::read(&real_versions()[i].path).unwrap()
}

fn registry_date(bytes: &[u8]) -> String {
    parse_document::<ServiceRecord>(bytes)
        .unwrap()
        .updated
        .to_string()
}

/// Fast retries so failure tests stay short.
const FAST: [&str; 4] = ["--retry-wait", "50ms", "--timeout", "5s"];

fn fetch(db: &Path, server: &TestServer, extra: &[&str]) -> Run {
    let mut args = vec!["fetch", "--url", &server.url];
    args.extend(FAST);
    args.extend(extra);
    portreg(db, &args)
}

fn query<T: rusqlite::types::FromSql>(db: &Path, sql: &str) -> Vec<T> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut statement = conn.prepare(sql).unwrap();
    statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn outcomes(db: &Path) -> Vec<String> {
    query(db, "SELECT outcome FROM fetch_attempt ORDER BY id")
}

/// Integrity check passes and every snapshot has its raw bytes and its record count.
fn assert_consistent(db: &Path) -> usize {
    assert_eq!(query::<String>(db, "PRAGMA integrity_check"), ["ok"]);
    let snapshots: Vec<i64> = query(db, "SELECT id FROM snapshot ORDER BY seq");
    for id in &snapshots {
        let raw = portreg(db, &["raw", &id.to_string()]);
        assert_eq!(raw.code, 0, "{}", raw.stderr);
    }
    snapshots.len()
}

/// One line on stderr naming the problem, and exit status 2.
fn assert_failed(run: &Run, what: &str) {
    assert_eq!(run.code, 2, "stdout: {} stderr: {}", run.stdout, run.stderr);
    let last = run.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("portreg: fetch failed: ") && last.contains(what),
        "{what:?} not in {:?}",
        run.stderr
    );
}

#[test]
fn first_fetch_stores_and_the_etag_makes_the_next_one_a_304() {
    let (_dir, db) = temp_db();
    let body = version(20);
    let server = TestServer::start(move |_, seen| {
        if seen.if_none_match.as_deref() == Some("\"v20\"") {
            Reply::NotModified
        } else {
            Reply::Body {
                bytes: body.clone(),
                etag: Some("\"v20\""),
            }
        }
    });
    let first = ok(fetch(&db, &server, &[]));
    assert!(first.starts_with("stored snapshot 1: registry "), "{first}");
    assert!(first.contains("(the first snapshot)"), "{first}");
    let second = ok(fetch(&db, &server, &[]));
    assert_eq!(second, "unchanged: not modified since the last fetch\n");
    assert_eq!(ok(fetch(&db, &server, &["--quiet"])), "");

    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].if_none_match, None);
    assert_eq!(seen[1].if_none_match.as_deref(), Some("\"v20\""));
    let agent = seen[0].user_agent.as_deref().unwrap();
    assert!(
        agent.starts_with(concat!("portreg/", env!("CARGO_PKG_VERSION"))),
        "{agent}"
    );
    assert!(seen[0].accept_encoding.as_deref().unwrap().contains("gzip"));
    assert_eq!(assert_consistent(&db), 1);
    assert_eq!(outcomes(&db), ["stored", "not-modified", "not-modified"]);
    let sha: Vec<String> = query(&db, "SELECT sha256 FROM snapshot");
    assert_eq!(sha, [real_versions()[20].sha256.clone()]);
}

#[test]
fn identical_bytes_without_validators_store_nothing() {
    let (_dir, db) = temp_db();
    let body = version(20);
    let server = TestServer::start(move |_, _| Reply::Body {
        bytes: body.clone(),
        etag: None,
    });
    ok(fetch(&db, &server, &[]));
    let again = ok(fetch(&db, &server, &[]));
    assert!(again.starts_with("unchanged: registry "), "{again}");
    assert_eq!(ok(fetch(&db, &server, &["-q"])), "");
    assert_eq!(assert_consistent(&db), 1);
    assert_eq!(outcomes(&db), ["stored", "unchanged", "unchanged"]);
}

#[test]
fn a_gzip_encoded_transfer_is_decoded() {
    let (_dir, db) = temp_db();
    let body = version(20);
    let server = TestServer::start(move |_, _| Reply::Gzipped(body.clone()));
    ok(fetch(&db, &server, &[]));
    let sha: Vec<String> = query(&db, "SELECT sha256 FROM snapshot");
    assert_eq!(sha, [real_versions()[20].sha256.clone()]);
}

#[test]
fn a_changed_version_is_stored_and_summarised() {
    let (_dir, db) = temp_db();
    let (old, new) = (version(19), version(20));
    assert_ne!(registry_date(&old), registry_date(&new));
    let server = TestServer::start(move |n, _| Reply::Body {
        bytes: if n == 0 { old.clone() } else { new.clone() },
        etag: None,
    });
    ok(fetch(&db, &server, &[]));
    let run = fetch(&db, &server, &["--exit-code", "--quiet"]);
    assert_eq!(
        run.code, 1,
        "--exit-code: a new snapshot exits 1; {}",
        run.stderr
    );
    let first_line = run.stdout.lines().next().unwrap();
    let diff: Vec<serde_json::Value> =
        serde_json::from_str(&ok(portreg(&db, &["diff", "1", "2", "--format", "json"]))).unwrap();
    let count = |kind: &str| diff.iter().filter(|c| c["change"] == kind).count();
    assert_eq!(
        first_line,
        format!(
            "stored snapshot 2: registry {} (was {}): {} added, {} removed, {} modified",
            registry_date(&version(20)),
            registry_date(&version(19)),
            count("added"),
            count("removed"),
            count("modified")
        )
    );
    // 2025-11-20 -> 2025-12-15: ten references and notes updated; the first five are listed,
    // in the order of `portreg changes`, and the command that lists them all.
    assert_eq!(
        run.stdout.lines().skip(1).collect::<Vec<_>>(),
        [
            "  modified: 300/tcp tacacss: references",
            "  modified: 831/tcp: notes",
            "  modified: 831/udp: notes",
            "  modified: 832/tcp: notes",
            "  modified: 832/udp: notes",
            "  ... 5 more: portreg diff 1 2 --format markdown",
        ]
    );
    // Without --exit-code the same situation exits 0.
    let unchanged = fetch(&db, &server, &["--exit-code"]);
    assert_eq!(unchanged.code, 0);
    assert_eq!(assert_consistent(&db), 2);
}

/// What cron mails: each new version's summary, one line per line of the grouped report
/// (`portreg changes`), from a server that publishes these versions one after the other.
#[test]
fn the_summary_of_each_new_version_reads_as_changes_groups_it() {
    let (_dir, db) = temp_db();
    let published: Vec<Vec<u8>> = [15, 16, 18, 19].into_iter().map(version).collect();
    let server = TestServer::start(move |n, _| Reply::Body {
        bytes: published[n.min(3)].clone(),
        etag: None,
    });
    ok(fetch(&db, &server, &[]));

    // 2023-12-27 -> 2024-01-05: every line shown, none hidden, the pieces of the split range
    // last.
    assert_eq!(
        ok(fetch(&db, &server, &[])),
        "stored snapshot 2: registry 2024-01-05 (was 2023-12-27): 6 added, 2 removed, 0 modified\n\
         \x20 newly assigned: 5543/tcp qftest-licserve (was Unassigned)\n\
         \x20 newly assigned: -/tcp mles\n\
         \x20 reserved: 5543/udp Reserved\n\
         \x20 de-assigned: 8077/tcp mles\n\
         \x20 redrawn: 5541-5542 Unassigned (was 5541-5549 Unassigned)\n\
         \x20 redrawn: 5544-5549 Unassigned (was 5541-5549 Unassigned)\n"
    );

    // 2024-01-05 -> 2025-11-14: the first five, then how many more and where to see them.
    let big = ok(fetch(&db, &server, &[]));
    let changes: Vec<portreg::model::Change<ServiceRecord>> =
        serde_json::from_str(&ok(portreg(&db, &["diff", "2", "3", "--format", "json"]))).unwrap();
    let lines = portreg::report::group_changes(&changes);
    let listed: Vec<&str> = big.lines().skip(1).collect();
    assert_eq!(
        listed,
        [
            "  newly assigned: 300/tcp tacacss (was Unassigned)".to_string(),
            "  newly assigned: 2794/tcp urp (was Unassigned)".to_string(),
            "  newly assigned: 2794/udp urp (was Unassigned)".to_string(),
            "  newly assigned: 3157/tcp lsa-comm (was e3consultants)".to_string(),
            "  newly assigned: 3157/udp lsa-comm (was e3consultants)".to_string(),
            format!(
                "  ... {} more: portreg diff 2 3 --format markdown",
                lines.len() - 5
            ),
        ]
    );

    // The command it names lists them all: the five shown and the N more.
    let hidden: usize = listed[5]
        .trim_start()
        .strip_prefix("... ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    let all = ok(portreg(&db, &["diff", "2", "3", "--format", "markdown"]));
    let items: Vec<&str> = all.lines().filter(|l| l.starts_with("- ")).collect();
    assert_eq!(items.len(), 5 + hidden, "{all}");
    assert!(items[0].starts_with("- 300/tcp **tacacss**: "), "{all}");

    // 2025-11-14 -> 2025-11-20: a service renamed on its ports.
    let renamed = ok(fetch(&db, &server, &[]));
    assert_eq!(
        renamed.lines().skip(1).collect::<Vec<_>>(),
        [
            "  newly assigned: 1980/tcp panquest-xact (was pearldoc-xact)",
            "  newly assigned: 1980/udp panquest-xact (was pearldoc-xact)",
        ]
    );
    assert_eq!(assert_consistent(&db), 4);
}

#[test]
fn a_server_error_is_retried_until_it_passes() {
    let (_dir, db) = temp_db();
    let body = version(20);
    let server = TestServer::start(move |n, _| match n {
        0 | 1 => Reply::Status {
            code: if n == 0 { 500 } else { 503 },
            headers: vec![],
        },
        _ => Reply::Body {
            bytes: body.clone(),
            etag: None,
        },
    });
    let run = fetch(&db, &server, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("try 1 of 4 failed (HTTP 500"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("try 2 of 4 failed (HTTP 503"),
        "{}",
        run.stderr
    );
    assert_eq!(server.seen().len(), 3);
    assert_eq!(query::<i64>(&db, "SELECT tries FROM fetch_attempt"), [3]);
    assert_eq!(assert_consistent(&db), 1);
}

#[test]
fn too_many_requests_waits_as_long_as_retry_after_says() {
    let (_dir, db) = temp_db();
    let body = version(20);
    let server = TestServer::start(move |n, _| match n {
        0 => Reply::Status {
            code: 429,
            headers: vec![("Retry-After", "2".into())],
        },
        _ => Reply::Body {
            bytes: body.clone(),
            etag: None,
        },
    });
    let started = Instant::now();
    let run = fetch(&db, &server, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // The backoff alone would wait 50 ms.
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert!(
        run.stderr
            .contains("(HTTP 429 Too Many Requests); retrying in 2.0s"),
        "{}",
        run.stderr
    );
    assert_eq!(assert_consistent(&db), 1);
}

#[test]
fn a_retry_after_beyond_the_budget_gives_up_at_once() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(|_, _| Reply::Status {
        code: 503,
        headers: vec![("Retry-After", "3600".into())],
    });
    let started = Instant::now();
    let run = fetch(&db, &server, &["--retry-budget", "1m"]);
    assert_failed(&run, "HTTP 503 Service Unavailable");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(server.seen().len(), 1);
    assert_eq!(outcomes(&db), ["failed"]);
}

#[test]
fn a_client_error_is_not_retried() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(|_, _| Reply::Status {
        code: 404,
        headers: vec![],
    });
    let run = fetch(&db, &server, &[]);
    assert_failed(&run, "HTTP 404 Not Found");
    assert_eq!(server.seen().len(), 1);
    assert_eq!(assert_consistent(&db), 0);
    let status: Vec<Option<i64>> = query(&db, "SELECT http_status FROM fetch_attempt");
    assert_eq!(status, [Some(404)]);
}

#[test]
fn a_body_cut_short_of_its_content_length_is_refused() {
    let (_dir, db) = temp_db();
    let body = version(20);
    let server = TestServer::start(move |_, _| Reply::CutShort {
        bytes: body[..body.len() / 2].to_vec(),
        claimed: body.len(),
    });
    let run = fetch(&db, &server, &["--retries", "1"]);
    assert_failed(&run, "gave up after 2 tries");
    assert_eq!(server.seen().len(), 2);
    assert_eq!(assert_consistent(&db), 0);
    assert_eq!(outcomes(&db), ["failed"]);
}

#[test]
fn an_html_page_with_status_200_is_refused_and_not_cached() {
    let (_dir, db) = temp_db();
    let page = b"<!DOCTYPE html>\n<html><head><title>Service unavailable</title></head><body>Try later</body></html>\n";
    let server = TestServer::start(move |_, _| Reply::Body {
        bytes: page.to_vec(),
        etag: Some("\"error-page\""),
    });
    let run = fetch(&db, &server, &[]);
    assert_failed(&run, "refused: an HTML page, not the registry XML");
    let again = fetch(&db, &server, &[]);
    assert_failed(&again, "refused");
    // A refused body's ETag is not sent back: the next try must get the whole body again.
    assert_eq!(server.seen()[1].if_none_match, None);
    assert_eq!(assert_consistent(&db), 0);
    assert_eq!(outcomes(&db), ["refused", "refused"]);
}

/// The document with only the first third of its records.
fn a_third_of(bytes: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(bytes).unwrap();
    let starts: Vec<usize> = text.match_indices("<record").map(|(i, _)| i).collect();
    let cut = starts[starts.len() / 3];
    let tail = text.rfind("</record>").unwrap() + "</record>".len();
    [&text[..cut], &text[tail..]].concat().into_bytes()
}

#[test]
fn a_collapsed_record_count_is_refused_unless_forced() {
    let (_dir, db) = temp_db();
    import(&db, &paths(&[19]));
    let third = a_third_of(&version(20));
    let records = parse_document::<ServiceRecord>(&third)
        .unwrap()
        .records
        .len();
    let server = TestServer::start(move |_, _| Reply::Body {
        bytes: third.clone(),
        etag: None,
    });
    let before = fingerprint(&db);
    let run = fetch(&db, &server, &[]);
    assert_failed(
        &run,
        &format!("refused: {records} records where the latest snapshot has"),
    );
    assert!(run.stderr.contains("--force"));
    assert_eq!(assert_consistent(&db), 1);
    let forced = ok(fetch(&db, &server, &["--force"]));
    assert!(forced.starts_with("stored snapshot 2"), "{forced}");
    assert_eq!(assert_consistent(&db), 2);
    assert_eq!(outcomes(&db), ["refused", "stored"]);
    assert!(before.len() < fingerprint(&db).len());
}

/// Two indices of real versions with different registry dates, older first.
fn older_and_newer() -> (usize, usize) {
    let n = real_versions().len();
    let newest = registry_date(&version(n - 1));
    let older = (0..n - 1)
        .rev()
        .find(|&i| registry_date(&version(i)) < newest)
        .unwrap();
    (older, n - 1)
}

#[test]
fn a_stale_copy_of_an_older_version_is_reported_and_not_stored() {
    let (_dir, db) = temp_db();
    let (older, newer) = older_and_newer();
    import(&db, &paths(&[older, newer]));
    let body = version(older);
    let server = TestServer::start(move |_, _| Reply::Body {
        bytes: body.clone(),
        etag: Some("\"stale\""),
    });
    let before = query::<String>(&db, "SELECT sha256 || seq FROM snapshot ORDER BY id");
    let run = ok(fetch(&db, &server, &[]));
    assert!(
        run.starts_with("stale copy: the server sent registry "),
        "{run}"
    );
    assert!(run.contains("nothing stored"), "{run}");
    assert_eq!(ok(fetch(&db, &server, &["--quiet"])), "");
    assert_eq!(
        query::<String>(&db, "SELECT sha256 || seq FROM snapshot ORDER BY id"),
        before
    );
    assert_eq!(outcomes(&db), ["stale", "stale"]);
}

#[test]
fn an_older_version_not_yet_stored_goes_into_its_place_with_a_warning() {
    let (_dir, db) = temp_db();
    let (older, newer) = older_and_newer();
    import(&db, &paths(&[newer]));
    let body = version(older);
    let server = TestServer::start(move |_, _| Reply::Body {
        bytes: body.clone(),
        etag: None,
    });
    let run = fetch(&db, &server, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("placed "), "{}", run.stdout);
    assert!(run.stderr.contains("warning: "), "{}", run.stderr);
    assert_eq!(assert_consistent(&db), 2);
    assert_eq!(outcomes(&db), ["stored-older"]);
    // The latest is still the newer version.
    let latest: Vec<String> = query(&db, "SELECT sha256 FROM snapshot ORDER BY seq DESC LIMIT 1");
    assert_eq!(latest, [real_versions()[newer].sha256.clone()]);
}

#[test]
fn a_stalled_server_times_out_within_bounds() {
    let (_dir, db) = temp_db();
    let server = TestServer::start(|_, _| Reply::Stall(Duration::from_secs(20)));
    let started = Instant::now();
    let run = portreg(
        &db,
        &[
            "fetch",
            "--url",
            &server.url,
            "--timeout",
            "1s",
            "--retries",
            "1",
            "--retry-wait",
            "50ms",
        ],
    );
    assert_failed(&run, "timed out");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.seen().len(), 2);
    assert_eq!(assert_consistent(&db), 0);
    assert_eq!(outcomes(&db), ["failed"]);
}

#[test]
fn redirects_are_followed_within_a_limit() {
    let (_dir, db) = temp_db();
    let body = version(20);
    let server = TestServer::start(move |_, seen| match seen.path.as_str() {
        "/moved.xml" => Reply::Body {
            bytes: body.clone(),
            etag: None,
        },
        "/loop" => Reply::Redirect("/loop".into()),
        _ => Reply::Redirect("/moved.xml".into()),
    });
    ok(fetch(&db, &server, &[]));
    let source: Vec<String> = query(&db, "SELECT source FROM snapshot");
    assert!(source[0].ends_with("/moved.xml"), "{source:?}");

    let looping = server
        .url
        .replace("/service-names-port-numbers.xml", "/loop");
    let run = portreg(&db, &["fetch", "--url", &looping]);
    assert_failed(&run, "too many redirects");
    assert_eq!(assert_consistent(&db), 1);
}

#[test]
fn two_fetches_and_an_import_at_once_store_one_snapshot() {
    let (_dir, db) = temp_db();
    let body = version(20);
    let server = TestServer::start(move |_, _| {
        // Both requests are in flight before either answer arrives.
        std::thread::sleep(Duration::from_millis(300));
        Reply::Body {
            bytes: body.clone(),
            etag: None,
        }
    });
    let file = paths(&[20]).remove(0);
    let commands = [
        vec!["fetch", "--url", &server.url],
        vec!["fetch", "--url", &server.url],
        vec!["import", &file],
    ];
    let children: Vec<_> = commands
        .iter()
        .map(|args| {
            portreg_command(&db, args)
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
    assert_eq!(assert_consistent(&db), 1);
    let seen = outcomes(&db);
    assert_eq!(seen.len(), 2);
    assert!(
        seen.iter().filter(|o| *o == "stored").count() <= 1,
        "{seen:?}"
    );
    assert!(
        seen.iter().all(|o| o == "stored" || o == "unchanged"),
        "{seen:?}"
    );
}

#[test]
fn status_says_when_the_registry_was_checked_and_whether_it_failed() {
    let (_dir, db) = temp_db();
    let body = version(20);
    let server = TestServer::start(move |n, _| match n {
        0 => Reply::Body {
            bytes: body.clone(),
            etag: None,
        },
        _ => Reply::Status {
            code: 404,
            headers: vec![],
        },
    });
    empty_database(&db);
    let empty = ok(portreg(&db, &["status"]));
    assert!(empty.contains("never fetched"), "{empty}");
    ok(fetch(&db, &server, &[]));
    let good: serde_json::Value =
        serde_json::from_str(&ok(portreg(&db, &["status", "--format", "json"]))).unwrap();
    assert_eq!(good["fetch"]["failures_since_success"], 0);
    assert_eq!(good["fetch"]["last_change"]["outcome"], "stored");
    assert_eq!(good["latest"]["id"], 1);

    assert_eq!(fetch(&db, &server, &[]).code, 2);
    let bad: serde_json::Value =
        serde_json::from_str(&ok(portreg(&db, &["status", "--format", "json"]))).unwrap();
    assert_eq!(bad["fetch"]["failures_since_success"], 1);
    assert_eq!(bad["fetch"]["last_attempt"]["outcome"], "failed");
    assert_eq!(bad["fetch"]["last_attempt"]["http_status"], 404);
    assert_eq!(bad["fetch"]["last_success"]["outcome"], "stored");
    let table = ok(portreg(&db, &["status"]));
    assert!(table.contains("FAILING"), "{table}");
}

#[test]
fn watch_fetches_at_once_and_stops_cleanly_on_sigterm() {
    let (_dir, db) = temp_db();
    let body = version(20);
    let server = TestServer::start(move |_, _| Reply::Body {
        bytes: body.clone(),
        etag: None,
    });
    let child = portreg_command(&db, &["watch", "--every", "1h", "--url", &server.url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.seen().is_empty() || !db.exists() || outcomes(&db).is_empty() {
        assert!(Instant::now() < deadline, "watch did not fetch");
        std::thread::sleep(Duration::from_millis(50));
    }
    let started = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let output = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(output.status.code(), Some(0));
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.starts_with("stored snapshot 1"), "{stdout}");
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("watch stopped")
    );
    assert_eq!(assert_consistent(&db), 1);
}

#[test]
fn a_body_over_the_size_cap_is_refused_without_retrying() {
    use portreg::http::{HttpConfig, HttpError, Validators, build_client, download};
    let body = version(20);
    let server = TestServer::start(move |_, _| Reply::Body {
        bytes: body.clone(),
        etag: None,
    });
    let config = HttpConfig {
        max_bytes: 1_000_000,
        backoff: Duration::from_millis(10),
        ..HttpConfig::default()
    };
    let client = build_client(&config).unwrap();
    let never = std::sync::atomic::AtomicBool::new(false);
    let result = download(
        &client,
        &server.url,
        &Validators::default(),
        &config,
        &never,
        |_| {},
    );
    assert!(
        matches!(result.result, Err(HttpError::TooLarge { limit: 1_000_000 })),
        "{:?}",
        result.result.map(|_| ())
    );
    assert_eq!(result.tries, 1);
}
