//! `portreg free` end to end: the exact semantics on small hand-made registries, then the
//! answer on real versions against a plain per-port reference.

use crate::fixtures::real_versions;
use crate::support::*;
use portreg::model::Registry;
use portreg::model::{PortRange, ServiceRecord};
use portreg::store::Store;
use std::path::Path;

/// A registry document dated `updated` holding `records`, each `(name, protocol, port,
/// description)`, written to `dir` and imported into `db`.
pub fn import_registry(
    db: &Path,
    dir: &Path,
    updated: &str,
    records: &[(Option<&str>, Option<&str>, &str, &str)],
) {
    let mut doc = format!(
        "<?xml version='1.0' encoding='UTF-8'?>\n\
         <registry xmlns=\"http://www.iana.org/assignments\" id=\"service-names-port-numbers\">\n\
         <title>Service Name and Transport Protocol Port Number Registry</title>\n\
         <updated>{updated}</updated>\n"
    );
    for (name, protocol, port, description) in records {
        doc.push_str("<record>");
        if let Some(name) = name {
            doc.push_str(&format!("<name>{name}</name>"));
        }
        if let Some(protocol) = protocol {
            doc.push_str(&format!("<protocol>{protocol}</protocol>"));
        }
        doc.push_str(&format!(
            "<number>{port}</number><description>{description}</description></record>\n"
        ));
    }
    doc.push_str("</registry>\n");
    let path = dir.join(format!("registry-{updated}.xml"));
    std::fs::write(&path, doc).unwrap();
    import(db, &[path.display().to_string()]);
}

type Spec<'a> = (Option<&'a str>, Option<&'a str>, &'a str, &'a str);

const TCP: Option<&str> = Some("tcp");
const UDP: Option<&str> = Some("udp");
const SCTP: Option<&str> = Some("sctp");

/// What both versions share: each case of the rules, at its own ports.
fn common() -> Vec<Spec<'static>> {
    vec![
        // Below the User Ports: only found when asked for.
        (None, TCP, "80", "Unassigned"),
        (None, UDP, "80", "Unassigned"),
        // One Unassigned record with no protocol covers tcp and udp (and sctp).
        (None, None, "5100-5104", "Unassigned"),
        // Unassigned and Reserved on the same port: not free.
        (None, TCP, "5200", "Unassigned"),
        (None, TCP, "5200", "Reserved"),
        (None, UDP, "5200", "Unassigned"),
        // Unassigned for tcp only; udp not listed at all.
        (None, TCP, "5300", "UNASSIGNED"),
        // Free for tcp and udp; a service for sctp.
        (None, TCP, "5400", "Unassigned"),
        (None, UDP, "5400", "Unassigned"),
        (Some("sctp-svc"), SCTP, "5400", "An SCTP service"),
        // A Reserved range without protocol over Unassigned ports.
        (None, TCP, "5500-5509", "Unassigned"),
        (None, UDP, "5500-5509", "Unassigned"),
        (None, None, "5505-5506", "Reserved"),
        // A de-assignment note is not Unassigned.
        (None, TCP, "5600", "Unassigned [was oldname]"),
        (None, UDP, "5600", "Unassigned"),
        // A named range covers every port of it.
        (None, TCP, "5700-5709", "Unassigned"),
        (None, UDP, "5700-5709", "Unassigned"),
        (Some("ranged"), TCP, "5702-5704", "A named range"),
        // Service names without a port cover nothing.
        (Some("portless"), None, "", "Only a name"),
    ]
}

/// Two versions: 2024-01-01 has `old-svc` on 5003/tcp, 2024-06-01 has it Unassigned again.
fn two_versions() -> (tempfile::TempDir, std::path::PathBuf) {
    let (dir, db) = temp_db();
    let mut old = common();
    old.extend([
        (None, TCP, "5000-5002", "Unassigned"),
        (Some("old-svc"), TCP, "5003", "De-assigned later"),
        (None, TCP, "5004-5009", "Unassigned"),
        (None, UDP, "5000-5009", "Unassigned"),
    ]);
    import_registry(&db, dir.path(), "2024-01-01", &old);
    let mut new = common();
    new.extend([
        (None, TCP, "5000-5009", "Unassigned"),
        (None, UDP, "5000-5009", "Unassigned"),
    ]);
    import_registry(&db, dir.path(), "2024-06-01", &new);
    (dir, db)
}

fn runs(db: &Path, args: &[&str]) -> Vec<(u16, u16)> {
    let mut args = args.to_vec();
    args.extend(["--format", "json"]);
    let json: Vec<serde_json::Value> = serde_json::from_str(&ok(portreg(db, &args))).unwrap();
    json.iter()
        .map(|run| {
            assert_eq!(run.as_object().unwrap().len(), 2, "{run}");
            (
                run["from"].as_u64().unwrap() as u16,
                run["to"].as_u64().unwrap() as u16,
            )
        })
        .collect()
}

#[test]
fn free_ports_follow_the_rules_case_by_case() {
    let (_dir, db) = two_versions();
    // Latest: 5003 is Unassigned again, so 5000-5009 is one run. Default range 1024-49151.
    let latest = vec![
        (5000, 5009),
        (5100, 5104),
        (5400, 5400),
        (5500, 5504),
        (5507, 5509),
        (5700, 5701),
        (5705, 5709),
    ];
    assert_eq!(runs(&db, &["free"]), latest);
    assert_eq!(
        runs(&db, &["free", "1024-49151", "--as-of", "latest"]),
        latest
    );
    // As of the older version, 5003/tcp had a service.
    let older = runs(&db, &["free", "--as-of", "2024-03-01"]);
    assert_eq!(&older[..2], [(5000, 5002), (5004, 5009)]);
    assert_eq!(&older[2..], &latest[1..]);
    // --never-assigned drops 5003, taken in an older version, also for the latest.
    let never = runs(&db, &["free", "--never-assigned"]);
    assert_eq!(&never[..2], [(5000, 5002), (5004, 5009)]);
    assert_eq!(&never[2..], &latest[1..]);
    assert_eq!(
        runs(&db, &["free", "--never-assigned", "--as-of", "1"]),
        never
    );
    // ... but only for the protocols asked: 5003/udp was never taken.
    assert_eq!(
        runs(
            &db,
            &["free", "5000-5009", "--never-assigned", "--proto", "udp"]
        ),
        [(5000, 5009)]
    );
    // One protocol: 5300 is free for tcp (Unassigned in capitals), not listed for udp.
    assert_eq!(
        runs(&db, &["free", "5000-5399", "--proto", "tcp"]),
        [(5000, 5009), (5100, 5104), (5300, 5300)]
    );
    // 5200/udp is free: the Reserved record there is tcp's.
    assert_eq!(
        runs(&db, &["free", "5000-5399", "--proto", "udp"]),
        [(5000, 5009), (5100, 5104), (5200, 5200)]
    );
    // The de-assignment note on 5600/tcp keeps it from being free for tcp, not for udp.
    assert_eq!(runs(&db, &["free", "5600", "--proto", "tcp"]), []);
    assert_eq!(
        runs(&db, &["free", "5600", "--proto", "udp"]),
        [(5600, 5600)]
    );
    // --proto repeated: free for each. sctp is spoken for only by the record without a
    // protocol (5100-5104) and the service on 5400/sctp.
    assert_eq!(
        runs(&db, &["free", "--proto", "tcp", "--proto", "sctp"]),
        [(5100, 5104)]
    );
    assert_eq!(runs(&db, &["free", "--proto", "sctp"]), [(5100, 5104)]);
    assert_eq!(
        runs(&db, &["free", "--proto", "UDP", "--proto", "udp"]),
        runs(&db, &["free", "--proto", "udp"])
    );
    // Single ports, and a range cutting runs at its ends.
    assert_eq!(runs(&db, &["free", "5003"]), [(5003, 5003)]);
    assert_eq!(runs(&db, &["free", "5003", "--never-assigned"]), []);
    assert_eq!(runs(&db, &["free", "5200"]), []);
    assert_eq!(
        runs(&db, &["free", "5102-5400"]),
        [(5102, 5104), (5400, 5400)]
    );
    // Below the User Ports only when asked.
    assert_eq!(runs(&db, &["free", "0-1023"]), [(80, 80)]);
    assert_eq!(runs(&db, &["free", "0-65535"])[0], (80, 80));
}

#[test]
fn free_prints_json_csv_and_a_table_and_says_when_nothing_is_free() {
    let (_dir, db) = two_versions();
    let json = ok(portreg(&db, &["free", "5100-5400", "--format", "json"]));
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        value,
        serde_json::json!([{"from": 5100, "to": 5104}, {"from": 5400, "to": 5400}])
    );
    assert_eq!(
        ok(portreg(&db, &["free", "5100-5400", "--format", "csv"])),
        "from,to\n5100,5104\n5400,5400\n"
    );
    let table = ok(portreg(&db, &["free", "5100-5400"]));
    let rows: Vec<Vec<&str>> = table
        .lines()
        .filter(|line| line.starts_with('│'))
        .map(|line| {
            line.trim_matches('│')
                .split('┆')
                .map(str::trim)
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        rows,
        [
            vec!["from", "to", "ports"],
            vec!["5100", "5104", "5"],
            vec!["5400", "5400", "1"]
        ]
    );
    assert!(
        table.ends_with(
            "6 free ports in 2 runs: 5100-5400 for tcp and udp in the registry of 2024-06-01 (snapshot 2).\n"
        ),
        "{table}"
    );
    let never = ok(portreg(
        &db,
        &["free", "5003", "--never-assigned", "--proto", "tcp"],
    ));
    assert_eq!(
        never,
        "No free ports in 5003 for tcp in the registry of 2024-06-01 (snapshot 2), never assigned in any stored snapshot.\n"
    );
    let none = ok(portreg(
        &db,
        &[
            "free", "5200", "--proto", "tcp", "--proto", "udp", "--proto", "sctp",
        ],
    ));
    assert_eq!(
        none,
        "No free ports in 5200 for tcp, udp and sctp in the registry of 2024-06-01 (snapshot 2).\n"
    );
    assert_eq!(
        ok(portreg(&db, &["free", "5200", "--format", "json"])),
        "[]\n"
    );
    assert_eq!(
        ok(portreg(&db, &["free", "5200", "--format", "csv"])),
        "from,to\n"
    );
}

#[test]
fn free_refuses_bad_arguments_and_a_missing_database() {
    let (_dir, db) = temp_db();
    let run = portreg(&db, &["free"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("no database at"), "{}", run.stderr);
    assert!(!db.exists());
    for (args, message) in [
        (&["free", "5000-4000"][..], "runs backwards"),
        (&["free", "70000"][..], "port 70000 is above 65535"),
        (&["free", "+80"][..], "is not a port"),
        (&["free", "--proto", "quic"][..], "unknown protocol"),
        (&["free", "--as-of", "yesterday"][..], "is not a snapshot"),
    ] {
        let run = portreg(&db, args);
        assert_eq!(run.code, 2, "{args:?}");
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
    }
}

/// The free ports of `protocols` in `lo..=hi`, port by port, straight from the rules.
fn reference_free(
    at: &[ServiceRecord],
    history: &[ServiceRecord],
    protocols: &[&str],
    (lo, hi): (u32, u32),
    never_assigned: bool,
) -> Vec<(u16, u16)> {
    let unassigned = |r: &ServiceRecord| {
        r.name.is_none()
            && r.description
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case("unassigned"))
    };
    let covers = |r: &ServiceRecord, port: u32, protocol: &str| {
        r.protocol.as_deref().is_none_or(|p| p == protocol)
            && r.port
                .as_deref()
                .and_then(|text| text.parse::<PortRange>().ok())
                .is_some_and(|r| u32::from(r.first) <= port && port <= u32::from(r.last))
    };
    // Per port: (some Unassigned covers it, something else covers it), per protocol.
    let mut free = vec![true; 65536];
    for protocol in protocols {
        let mut has_unassigned = vec![false; 65536];
        let mut taken = vec![false; 65536];
        for r in at {
            if let Some(r2) = r.port.as_deref().and_then(|t| t.parse::<PortRange>().ok()) {
                for port in u32::from(r2.first)..=u32::from(r2.last) {
                    if covers(r, port, protocol) {
                        if unassigned(r) {
                            has_unassigned[port as usize] = true;
                        } else {
                            taken[port as usize] = true;
                        }
                    }
                }
            }
        }
        if never_assigned {
            for r in history.iter().filter(|r| !unassigned(r)) {
                if let Some(r2) = r.port.as_deref().and_then(|t| t.parse::<PortRange>().ok()) {
                    for port in u32::from(r2.first)..=u32::from(r2.last) {
                        taken[port as usize] |= covers(r, port, protocol);
                    }
                }
            }
        }
        for port in 0..65536 {
            free[port] &= has_unassigned[port] && !taken[port];
        }
    }
    let mut runs: Vec<(u16, u16)> = Vec::new();
    for port in lo..=hi {
        if !free[port as usize] {
            continue;
        }
        match runs.last_mut() {
            Some(last) if u32::from(last.1) + 1 == port => last.1 = port as u16,
            _ => runs.push((port as u16, port as u16)),
        }
    }
    runs
}

#[test]
fn free_on_real_versions_equals_a_port_by_port_reference() {
    let (_dir, db) = temp_db();
    let last = real_versions().len() - 1;
    import(&db, &paths(&[0, 8, 14, last]));
    let store = Store::open(&db).unwrap();
    let snapshots = store.snapshots(Registry::Services).unwrap();
    let versions = store.record_versions::<ServiceRecord>().unwrap();
    let history: Vec<ServiceRecord> = versions.into_iter().map(|v| v.record).collect();
    let mut dropped_somewhere = false;
    for snapshot in [&snapshots[0], &snapshots[snapshots.len() - 1]] {
        let at = store.records_at::<ServiceRecord>(snapshot.seq).unwrap();
        let id = snapshot.id.to_string();
        for protocols in [&["tcp", "udp"][..], &["tcp"][..], &["udp", "sctp"][..]] {
            let mut args = vec!["free", "--as-of", &id];
            for protocol in protocols {
                args.extend(["--proto", protocol]);
            }
            let free = runs(&db, &args);
            let expected = reference_free(&at, &history, protocols, (1024, 49151), false);
            assert_eq!(free, expected, "{args:?}");
            // Tens of thousands of ports in hundreds of runs, at real size.
            let total: u32 = free.iter().map(|(a, b)| u32::from(b - a) + 1).sum();
            assert!(
                total > 40_000 && free.len() > 500,
                "{total} in {}",
                free.len()
            );

            args.push("--never-assigned");
            let never = runs(&db, &args);
            let expected = reference_free(&at, &history, protocols, (1024, 49151), true);
            assert_eq!(never, expected, "{args:?}");
            dropped_somewhere |= never != free;
        }
        // The whole port space, one protocol at a time.
        let all = runs(&db, &["free", "0-65535", "--as-of", &id, "--proto", "udp"]);
        assert_eq!(
            all,
            reference_free(&at, &history, &["udp"], (0, 65535), false)
        );
    }
    assert!(
        dropped_somewhere,
        "no port was ever de-assigned into Unassigned"
    );
}
