//! `portreg check` end to end: each finding on a small hand-made registry, an exported
//! snapshot checked against itself, Debian's netbase `/etc/services` against a real version,
//! and the exit codes.

use crate::fixtures::{FIXTURES, real_versions};
use crate::free::import_registry;
use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::Stdio;

const TCP: Option<&str> = Some("tcp");
const UDP: Option<&str> = Some("udp");

/// 2024-01-01, then 2024-06-01, which gives 4700/tcp to `newsvc` and reserves 4800/tcp,
/// `gone`'s in the first.
fn two_versions() -> (tempfile::TempDir, PathBuf) {
    let (dir, db) = temp_db();
    let common = [
        (Some("ssh"), TCP, "22", "The Secure Shell (SSH) Protocol"),
        (Some("ftp"), UDP, "21", "File Transfer"),
        (Some("x11"), TCP, "6000-6063", "X Window System"),
        (Some("foo"), TCP, "4000", "Foo"),
        (Some("FOO"), TCP, "4100", "Foo again"),
        (Some("foo"), UDP, "4200", "Foo on udp"),
        (None, TCP, "4500-4600", "Unassigned"),
        (None, TCP, "15", "Unassigned [was netstat]"),
        (None, None, "1011-1020", "Reserved"),
        (None, TCP, "1015", "Unassigned"),
    ];
    let mut old = common.to_vec();
    old.extend([
        (None, TCP, "4700", "Unassigned"),
        (Some("gone"), TCP, "4800", "Gone later"),
    ]);
    import_registry(&db, dir.path(), "2024-01-01", &old);
    let mut new = common.to_vec();
    new.extend([
        (Some("newsvc"), TCP, "4700", "New in June"),
        (None, TCP, "4800", "Reserved"),
    ]);
    import_registry(&db, dir.path(), "2024-06-01", &new);
    (dir, db)
}

/// A services file with a line for every case; line numbers are in the comments of the test.
const SERVICES: &[u8] = b"# services for the test\n\
ssh\t\t22/tcp\n\
SSH 22/tcp # any case\n\
secure 22/tcp ssh\r\n\
x11-1 6001/tcp\n\
foo 22/tcp\n\
foo 4550/tcp\n\
netstat 15/tcp\n\
mine 1015/tcp\n\
mine 4550/tcp\n\
mine 9999/udp\n\
rtmp 1/ddp\n\
mine 4700/tcp mine-alias\n\
gone 4800/tcp\n\
\n\
bad 70000/tcp\n\
caf\xe9 22/tcp\n\
nopro 22\n\
x11 6010/tcp # a comment with caf\xe9 in Latin-1\n";

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

fn json_of(run: Run) -> Vec<serde_json::Value> {
    assert!(run.stderr.is_empty(), "{}", run.stderr);
    let findings: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).unwrap();
    assert_one_shape(&findings);
    findings
}

/// Every key of a finding, in order: one shape for entries and unreadable lines alike.
const KEYS: [&str; 11] = [
    "line",
    "name",
    "aliases",
    "port",
    "protocol",
    "finding",
    "iana",
    "iana_ports",
    "since",
    "text",
    "reason",
];

/// An entry's finding as JSON has it: `(line, name, aliases, "port/protocol")` of the entry,
/// then what IANA says; `text` and `reason` are null.
fn entry_finding(
    (line, name, aliases, port_protocol): (u64, &str, &[&str], &str),
    finding: &str,
    iana: &[&str],
    iana_ports: &[&str],
    since: Option<&str>,
) -> serde_json::Value {
    let (port, protocol) = port_protocol.split_once('/').unwrap();
    serde_json::json!({
        "line": line, "name": name, "aliases": aliases, "port": port.parse::<u16>().unwrap(),
        "protocol": protocol, "finding": finding, "iana": iana, "iana_ports": iana_ports,
        "since": since, "text": null, "reason": null,
    })
}

/// An unreadable line as JSON has it: what an entry would have is null or empty.
fn unreadable(line: u64, text: &str, reason: &str) -> serde_json::Value {
    serde_json::json!({
        "line": line, "name": null, "aliases": [], "port": null, "protocol": null,
        "finding": "unreadable", "iana": [], "iana_ports": [], "since": null,
        "text": text, "reason": reason,
    })
}

/// Every finding has every key, in order.
fn assert_one_shape(findings: &[serde_json::Value]) {
    for finding in findings {
        let keys: Vec<&str> = finding
            .as_object()
            .unwrap_or_else(|| panic!("{finding}"))
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, KEYS, "{finding}");
    }
}

#[test]
fn each_finding_on_a_hand_made_registry() {
    let (dir, db) = two_versions();
    let file = write(dir.path(), "services", SERVICES);
    let run = portreg(&db, &["check", &file, "--format", "json"]);
    assert_eq!(run.code, 1);
    let findings = json_of(run);
    assert_eq!(
        findings,
        [
            // Lines 2-4 are fine: the name in any case, or an alias, is IANA's there.
            entry_finding(
                (5, "x11-1", &[], "6001/tcp"),
                "conflict",
                &["x11"],
                &[],
                None
            ),
            entry_finding(
                (6, "foo", &[], "22/tcp"),
                "conflict",
                &["ssh"],
                &["4000", "4100"],
                None
            ),
            entry_finding(
                (7, "foo", &[], "4550/tcp"),
                "moved",
                &[],
                &["4000", "4100"],
                None
            ),
            entry_finding((8, "netstat", &[], "15/tcp"), "reserved", &[], &[], None),
            // Reserved by a range without protocol, beside an Unassigned record.
            entry_finding((9, "mine", &[], "1015/tcp"), "reserved", &[], &[], None),
            entry_finding((10, "mine", &[], "4550/tcp"), "unassigned", &[], &[], None),
            // Not listed at all, and a protocol IANA does not list.
            entry_finding((11, "mine", &[], "9999/udp"), "unassigned", &[], &[], None),
            entry_finding((12, "rtmp", &[], "1/ddp"), "unassigned", &[], &[], None),
            // Changed in the second version: since its date.
            entry_finding(
                (13, "mine", &["mine-alias"], "4700/tcp"),
                "conflict",
                &["newsvc"],
                &[],
                Some("2024-06-01")
            ),
            entry_finding(
                (14, "gone", &[], "4800/tcp"),
                "reserved",
                &[],
                &[],
                Some("2024-06-01")
            ),
            unreadable(16, "bad 70000/tcp", "port 70000 is above 65535"),
            unreadable(17, "caf\u{fffd} 22/tcp", "not UTF-8 (byte 4 of the line)"),
            unreadable(18, "nopro 22", "no protocol in \"22\" (port/protocol)"),
            // Line 19 is fine: a port inside IANA's range, bytes not UTF-8 only in the comment.
        ]
    );

    // As of the first version: 4700 was Unassigned, and 4800 was gone's.
    let older = json_of(portreg(
        &db,
        &["check", &file, "--as-of", "2024-01-01", "--format", "json"],
    ));
    let line =
        |findings: &[serde_json::Value], n: u64| findings.iter().find(|f| f["line"] == n).cloned();
    assert_eq!(line(&older, 13).unwrap()["finding"], "unassigned");
    assert_eq!(line(&older, 13).unwrap()["since"], serde_json::Value::Null);
    assert_eq!(line(&older, 14), None);
    assert_eq!(older.len(), 12);

    // CSV: the same fields, lists joined by spaces.
    let run = portreg(&db, &["check", &file, "--format", "csv"]);
    assert_eq!(run.code, 1);
    let mut reader = csv::Reader::from_reader(run.stdout.as_bytes());
    assert_eq!(reader.headers().unwrap(), KEYS.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 13);
    assert_eq!(
        rows[1].iter().collect::<Vec<_>>(),
        [
            "6",
            "foo",
            "",
            "22",
            "tcp",
            "conflict",
            "ssh",
            "4000 4100",
            "",
            "",
            ""
        ]
    );
    assert_eq!(
        rows[8].iter().collect::<Vec<_>>(),
        [
            "13",
            "mine",
            "mine-alias",
            "4700",
            "tcp",
            "conflict",
            "newsvc",
            "",
            "2024-06-01",
            "",
            ""
        ]
    );
    assert_eq!(
        rows[12].iter().collect::<Vec<_>>(),
        [
            "18",
            "",
            "",
            "",
            "",
            "unreadable",
            "",
            "",
            "",
            "nopro 22",
            "no protocol in \"22\" (port/protocol)"
        ]
    );

    // The table: a row per finding by line, then a count per kind.
    let run = portreg(&db, &["check", &file]);
    assert_eq!(run.code, 1);
    let table = run.stdout;
    let lines: Vec<&str> = table.lines().collect();
    let rows: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with('│'))
        .collect();
    assert_eq!(rows.len(), 14, "{table}");
    assert!(rows[1].starts_with("│ 5 "), "{table}");
    assert!(rows[4].contains("(Unassigned [was netstat])"), "{table}");
    assert!(
        rows[9].contains("mine 4700/tcp (mine-alias)") && rows[9].contains("2024-06-01"),
        "{table}"
    );
    let tail: Vec<&str> = lines.iter().rev().take(6).rev().copied().collect();
    assert_eq!(
        tail,
        [
            format!(
                "13 findings in 17 entries of {file}, against the registry of 2024-06-01 (snapshot 2):"
            )
            .as_str(),
            "     3 conflict    IANA gives the port to another service",
            "     1 moved       IANA has the name on another port",
            "     3 reserved    IANA reserves the port, or took it back",
            "     3 unassigned  IANA has no service on the port",
            "     3 unreadable  lines that are not entries",
        ]
    );
}

#[test]
fn a_file_that_agrees_says_so_and_exits_0() {
    let (dir, db) = two_versions();
    let file = write(
        dir.path(),
        "good",
        b"ssh 22/tcp\nftp 21/udp\nx11 6063/tcp\n# newsvc is new\nnewsvc 4700/tcp\n",
    );
    let run = portreg(&db, &["check", &file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "No findings: 4 entries of {file} checked against the registry of 2024-06-01 (snapshot 2), all agree.\n"
        )
    );
    let run = portreg(&db, &["check", &file, "--format", "json"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "[]\n"));
    let run = portreg(&db, &["check", &file, "--format", "csv"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout.lines().count(), 1);
    // Standard input, and a file with no entries at all.
    let run = portreg_with_stdin(&db, &["check", "-"], Some(b"ssh 22/tcp\n"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("No findings: 1 entry of -"),
        "{}",
        run.stdout
    );
    let run = portreg_with_stdin(&db, &["check", "-"], Some(b"# nothing\n\n"));
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.starts_with("No findings: 0 entries"),
        "{}",
        run.stdout
    );
    // The same file is not fine as of the first version: newsvc did not exist yet.
    let run = portreg(&db, &["check", &file, "--as-of", "1"]);
    assert_eq!(run.code, 1);
}

#[test]
fn errors_exit_2_and_say_why_in_one_line() {
    let (dir, db) = temp_db();
    let file = write(dir.path(), "services", b"ssh 22/tcp\n");
    let run = portreg(&db, &["check", &file]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("portreg: no database at"),
        "{}",
        run.stderr
    );
    assert!(!db.exists());
    empty_database(&db);
    let run = portreg(&db, &["check", &file]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("no snapshots yet"), "{}", run.stderr);

    let (dir, db) = two_versions();
    let file = write(dir.path(), "services", b"ssh 22/tcp\n");
    let missing = dir.path().join("missing").display().to_string();
    let directory = dir.path().display().to_string();
    for (args, message) in [
        (
            vec!["check", missing.as_str()],
            format!("cannot read {missing}"),
        ),
        (
            vec!["check", directory.as_str()],
            format!("cannot read {directory}"),
        ),
        (
            vec!["check", &file, "--as-of", "2001-01-01"],
            "no snapshot matches".to_string(),
        ),
        (
            vec!["check", &file, "--as-of", "99"],
            "no snapshot matches".to_string(),
        ),
        (
            vec!["check", &file, "--as-of", "yesterday"],
            "is not a snapshot".to_string(),
        ),
        (vec!["check"], "FILE".to_string()),
    ] {
        let run = portreg(&db, &args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}");
        assert!(run.stderr.contains(&message), "{args:?}: {}", run.stderr);
        if !args.contains(&"yesterday") && args.len() > 1 {
            assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        }
    }
}

/// Runs `check` with its standard output `stdout`; its exit code and what it said on stderr.
fn check_into(db: &Path, args: &[&str], stdout: impl Into<Stdio>) -> (Option<i32>, String) {
    let output = portreg_command(db, args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    (output.status.code(), stderr)
}

#[test]
fn a_failed_write_exits_2_in_one_line_and_a_closed_pipe_stays_quiet() {
    let (dir, db) = two_versions();
    let file = write(dir.path(), "services", SERVICES);
    let good = write(dir.path(), "good", b"ssh 22/tcp\n");
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    // The writing end of a pipe whose reading end is gone, as once `head` has exited.
    let closed_pipe = || {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        writer
    };
    for format in ["table", "json", "csv"] {
        for services in [&file, &good] {
            let args = ["check", services.as_str(), "--format", format];
            // A full disk is an error: exit 2, said once.
            assert_eq!(
                check_into(&db, &args, full()),
                (
                    Some(2),
                    "portreg: cannot write the findings: No space left on device (os error 28)\n"
                        .to_string()
                ),
                "{args:?} > /dev/full"
            );
            // A closed pipe is not: the exit says whether there were findings, nothing more.
            let findings = if services == &file { 1 } else { 0 };
            assert_eq!(
                check_into(&db, &args, closed_pipe()),
                (Some(findings), String::new()),
                "{args:?} | (closed)"
            );
        }
    }
}

#[test]
fn an_exported_snapshot_checks_clean_against_itself() {
    let (dir, db) = temp_db();
    let last = real_versions().len() - 1;
    import(&db, &paths(&[0, 6, 12, 16, last]));
    for id in ["1", "2", "3", "4", "5"] {
        let services = ok(portreg(&db, &["export", "services", "--as-of", id]));
        assert!(services.lines().count() > 11_000);
        let file = write(dir.path(), &format!("services-{id}"), services.as_bytes());
        let run = portreg(&db, &["check", &file, "--as-of", id]);
        assert_eq!(run.code, 0, "snapshot {id}: {}", run.stdout);
        assert!(run.stdout.starts_with("No findings: "), "{}", run.stdout);
        assert!(
            run.stdout.contains(&format!("(snapshot {id})")),
            "{}",
            run.stdout
        );
    }
    // The oldest export against the latest: what changed since shows, dated.
    let old = ok(portreg(&db, &["export", "services", "--as-of", "1"]));
    let run = portreg_with_stdin(
        &db,
        &["check", "-", "--format", "json"],
        Some(old.as_bytes()),
    );
    assert_eq!(run.code, 1);
    let findings = json_of(run);
    assert!(findings.len() > 20, "{}", findings.len());
    for finding in &findings {
        assert_ne!(finding["finding"], "unreadable", "{finding}");
        assert_ne!(finding["finding"], "unassigned", "{finding}");
        // Everything that changed did so after the oldest snapshot.
        let since = finding["since"]
            .as_str()
            .unwrap_or_else(|| panic!("{finding}"));
        assert!(since > "2017-03-10", "{finding}");
    }
}

#[test]
fn netbase_services_is_read_whole_with_stable_findings() {
    let (_dir, db) = temp_db();
    let last = real_versions().len() - 1;
    import(&db, &paths(&[last]));
    let netbase = Path::new(FIXTURES).join("netbase-services");
    let netbase = netbase.to_str().unwrap();
    let run = portreg(&db, &["check", netbase, "--format", "json"]);
    assert_eq!(run.code, 1);
    let findings = json_of(run);
    let at = |line: u64| findings.iter().find(|f| f["line"] == line);
    let kind = |line: u64| at(line).map(|f| f["finding"].as_str().unwrap().to_string());
    assert!(findings.iter().all(|f| f["finding"] != "unreadable"));
    // Entries IANA agrees with: tcpmux, echo, ssh, http (with its alias www).
    let text = std::fs::read_to_string(netbase).unwrap();
    let line_of = |prefix: &str| {
        text.lines()
            .position(|l| l.starts_with(prefix))
            .map(|i| i as u64 + 1)
            .unwrap()
    };
    for entry in [
        "tcpmux\t",
        "echo\t\t7/tcp",
        "ssh\t",
        "http\t",
        "https\t\t443/tcp",
    ] {
        assert_eq!(kind(line_of(entry)), None, "{entry}");
    }
    // IANA's 15/tcp is "Unassigned [was netstat]": a de-assignment, not Unassigned.
    assert_eq!(line_of("netstat\t"), 17);
    assert_eq!(kind(17).as_deref(), Some("reserved"));
    // fsp shares 21 with ftp on udp.
    let fsp = at(line_of("fsp\t")).unwrap();
    assert_eq!(fsp["finding"], "conflict");
    assert_eq!(fsp["iana"], serde_json::json!(["ftp"]));
    assert_eq!(fsp["aliases"], serde_json::json!(["fspd"]));
    // X displays 1-7 fall in IANA's x11 range 6000-6063.
    let x11 = at(line_of("x11-1\t")).unwrap();
    assert_eq!(x11["finding"], "conflict");
    assert_eq!(x11["iana"], serde_json::json!(["x11"]));
    // AppleTalk's ddp numbers are not IANA's.
    assert_eq!(kind(line_of("rtmp\t")).as_deref(), Some("unassigned"));
    let mut counts = std::collections::BTreeMap::new();
    for finding in &findings {
        *counts
            .entry(finding["finding"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    assert_eq!(
        counts.into_iter().collect::<Vec<_>>(),
        [
            ("conflict".to_string(), 47),
            ("reserved".to_string(), 2),
            ("unassigned".to_string(), 22)
        ]
    );
}
