//! Nothing lost: processes killed at random moments, concurrent writers, tampered, old and
//! newer databases. Each check ends with `portreg verify` (SQLite integrity, and every
//! snapshot's raw bytes re-parsed against the stored history).

use crate::fixtures::{FIXTURES, real_versions};
use crate::server::{Reply, TestServer};
use crate::support::*;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn verified(db: &Path) -> String {
    let run = portreg(db, &["verify"]);
    assert_eq!(run.code, 0, "verify failed:\n{}{}", run.stdout, run.stderr);
    run.stdout
}

/// The one value a query answers, as the type asked for (`i64` for a count, `String` for
/// `PRAGMA integrity_check`).
fn sql_value<T: rusqlite::types::FromSql>(db: &Path, sql: &str) -> T {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(sql, [], |row| row.get(0))
        .unwrap()
}

/// What a history looks like from outside: the snapshot list (without ids, which depend on
/// import order) and the diff between its ends.
fn history_view(db: &Path) -> (String, String) {
    let snapshots = ok(portreg(db, &["snapshots", "--format", "json"]));
    let without_ids: Vec<String> = snapshots
        .lines()
        .filter(|l| !l.trim_start().starts_with("\"id\""))
        .map(str::to_string)
        .collect();
    // From the oldest in history (whose id depends on which process stored it first).
    let oldest = sql_value::<i64>(db, "SELECT id FROM snapshot WHERE seq = 1").to_string();
    let diff = ok(portreg(
        db,
        &["diff", &oldest, "latest", "--format", "json"],
    ));
    (without_ids.join("\n"), diff)
}

/// Waits until `ready` says so or `child` has ended, checking every millisecond.
fn wait_for(child: &mut std::process::Child, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() && child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "waited a minute in vain");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn verify_passes_on_a_good_database_and_names_each_kind_of_damage() {
    let (_dir, db) = temp_db();
    import(&db, &paths(&[0, 1, 2, 5]));
    let good = verified(&db);
    assert!(good.contains("verified 4 snapshots"), "{good}");

    // (damage, what verify says, how many snapshots it checks then)
    let damages: [(&str, &str, usize); 8] = [
        (
            "UPDATE record_version SET description = 'tampered'
             WHERE id = (SELECT min(id) FROM record_version WHERE description IS NOT NULL)",
            "differs in description",
            4,
        ),
        (
            "DELETE FROM record_version WHERE id = (SELECT max(id) FROM record_version)",
            "is in the bytes but not stored",
            4,
        ),
        (
            "UPDATE snapshot_raw SET zstd = substr(zstd, 1, 200)
             WHERE snapshot_id = (SELECT id FROM snapshot WHERE seq = 2)",
            "raw bytes",
            4,
        ),
        // One bit flipped in the middle of the oldest document's frame, and in a step.
        ("FLIP 1 200000 4", "raw bytes", 4),
        ("FLIP 3 100 1", "raw bytes", 4),
        (
            "UPDATE person_version SET name = 'Someone Else'
             WHERE id = (SELECT min(id) FROM person_version WHERE name IS NOT NULL)",
            "stored people differ",
            4,
        ),
        // A version that ended made to hold on: it overlaps the version after it.
        (
            "UPDATE record_version SET last_seq = NULL
             WHERE id = (SELECT min(a.id) FROM record_version a JOIN record_version b
                         ON b.key_id = a.key_id AND b.first_seq = a.last_seq + 1)",
            "overlap",
            4,
        ),
        // A snapshot's row gone (with foreign keys off, as a careless edit would).
        (
            "PRAGMA foreign_keys = OFF; DELETE FROM snapshot WHERE seq = 2",
            "snapshot places are not 1..3",
            3,
        ),
    ];
    for (damage, expected, checked) in damages {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("copy.sqlite3");
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute("VACUUM INTO ?1", [copy.to_str().unwrap()])
            .unwrap();
        let conn = rusqlite::Connection::open(&copy).unwrap();
        match damage.strip_prefix("FLIP ") {
            // FLIP SEQ BYTE BIT: one bit of a snapshot's raw frame.
            Some(flip) => {
                let [seq, byte, bit]: [usize; 3] = flip
                    .split(' ')
                    .map(|n| n.parse().unwrap())
                    .collect::<Vec<_>>()
                    .try_into()
                    .unwrap();
                let select = "SELECT zstd FROM snapshot_raw
                    WHERE snapshot_id = (SELECT id FROM snapshot WHERE seq = ?1)";
                let seq = seq as i64;
                let mut frame: Vec<u8> = conn.query_row(select, [seq], |r| r.get(0)).unwrap();
                frame[byte] ^= 1 << bit;
                conn.execute(
                    "UPDATE snapshot_raw SET zstd = ?2
                     WHERE snapshot_id = (SELECT id FROM snapshot WHERE seq = ?1)",
                    rusqlite::params![seq, frame],
                )
                .unwrap();
            }
            None => conn.execute_batch(damage).unwrap(),
        }
        let run = portreg(&copy, &["verify"]);
        assert_eq!(run.code, 1, "{damage}: {}", run.stdout);
        assert!(run.stdout.contains(expected), "{damage}: {}", run.stdout);
        assert!(
            run.stdout
                .contains(&format!("problems in {checked} snapshots checked")),
            "{damage}: {}",
            run.stdout
        );
    }
}

/// A batch is killed after its k-th document is stored (it prints a line for each), at once
/// or a little later: whatever it was doing then, the stored snapshots are whole, and the next
/// run completes the history. The kills follow what the process says, not the clock, so they
/// land mid-batch on a machine of any speed.
#[test]
fn imports_killed_mid_batch_lose_nothing_and_resume() {
    use std::io::BufRead;
    let (_dir, reference) = temp_db();
    let base = paths(&[0, 20]);
    // Older versions that land in the middle of the history, and newer ones after it.
    let batch = paths(&[4, 5, 6, 13, 14, 15]);
    import(&reference, &base);
    import(&reference, &batch);
    let expected = history_view(&reference);

    for stored_before_kill in 0..5 {
        for delay_ms in [0, 15, 40] {
            let (_dir, db) = temp_db();
            import(&db, &base);
            let mut args = vec!["import"];
            args.extend(batch.iter().map(String::as_str));
            let mut child = portreg_command(&db, &args)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
            for _ in 0..stored_before_kill {
                let line = lines.next().unwrap().unwrap();
                assert!(line.starts_with("stored "), "{line}");
            }
            std::thread::sleep(Duration::from_millis(delay_ms));
            if delay_ms == 0 {
                // At least one document is left to store.
                assert!(child.try_wait().unwrap().is_none());
            }
            child.kill().unwrap();
            child.wait().unwrap();
            let stored: i64 = sql_value(&db, "SELECT count(*) FROM snapshot");
            assert!(stored >= 2 + stored_before_kill, "{stored}");
            // Whole snapshots only, each giving back its records and bytes.
            assert_eq!(sql_value::<String>(&db, "PRAGMA integrity_check"), "ok");
            verified(&db);
            // The next run completes the history as if nothing had happened.
            import(&db, &batch);
            let after = format!("after {stored_before_kill} stored and {delay_ms} ms");
            assert_eq!(history_view(&db), expected, "{after}");
        }
    }
}

/// A fetch is killed while the body arrives (after each eighth of it), once it has all
/// arrived, and a little later while it is checked and stored: the database is whole each
/// time, and the next fetch stores the version.
#[test]
fn fetches_killed_mid_download_lose_nothing_and_resume() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let body = std::fs::read(&real_versions()[20].path).unwrap();
    // Pieces of the body sent before the kill (9: all of it), and a wait after that.
    let mut kills: Vec<(usize, u64)> = (0..=9).map(|pieces| (pieces, 0)).collect();
    kills.extend([(9, 20), (9, 50), (9, 100)]);
    for (pieces, delay_ms) in kills {
        let sent = Arc::new(AtomicUsize::new(0));
        let server = {
            let (body, sent) = (body.clone(), Arc::clone(&sent));
            TestServer::start(move |_, _| Reply::Slowly {
                bytes: body.clone(),
                sent: Arc::clone(&sent),
            })
        };
        let (_dir, db) = temp_db();
        import(&db, &paths(&[0]));
        let mut child = portreg_command(&db, &["fetch", "--url", &server.url, "--retries", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if pieces > 0 {
            wait_for(&mut child, || sent.load(Ordering::SeqCst) >= pieces);
        }
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap();
        child.wait().unwrap();
        let after = format!("after {pieces} pieces and {delay_ms} ms");
        assert_eq!(
            sql_value::<String>(&db, "PRAGMA integrity_check"),
            "ok",
            "{after}"
        );
        verified(&db);
        let again = portreg(&db, &["fetch", "--url", &server.url, "--retries", "0"]);
        assert_eq!(again.code, 0, "{after}: {}", again.stderr);
        assert_eq!(
            sql_value::<i64>(&db, "SELECT count(*) FROM snapshot"),
            2,
            "{after}"
        );
        verified(&db);
    }
}

#[test]
fn concurrent_imports_and_fetches_end_as_a_sequential_import_does() {
    let (_dir, sequential) = temp_db();
    let all = paths(&[0, 1, 2, 3, 4, 5, 6, 7, 20]);
    import(&sequential, &all);
    let expected = history_view(&sequential);

    let body = std::fs::read(&real_versions()[20].path).unwrap();
    let server = TestServer::start(move |_, _| Reply::Body {
        bytes: body.clone(),
        etag: None,
    });
    let url = server.url.clone();
    for round in 0..3 {
        let (_dir, db) = temp_db();
        // Overlapping batches, in different orders, plus two fetches of the newest version.
        let batches: [Vec<String>; 3] = [
            paths(&[7, 0, 3, 5]),
            paths(&[2, 20, 4, 1, 0]),
            paths(&[6, 5, 1, 3]),
        ];
        let started = Instant::now();
        let mut children = Vec::new();
        for batch in &batches {
            let mut args = vec!["import"];
            args.extend(batch.iter().map(String::as_str));
            children.push(
                portreg_command(&db, &args)
                    .stdout(Stdio::null())
                    .spawn()
                    .unwrap(),
            );
        }
        for _ in 0..2 {
            children.push(
                portreg_command(&db, &["fetch", "--url", &url, "--quiet"])
                    .stdout(Stdio::null())
                    .spawn()
                    .unwrap(),
            );
        }
        for mut child in children {
            assert!(child.wait().unwrap().success(), "round {round}");
        }
        assert!(started.elapsed() < Duration::from_secs(60));
        verified(&db);
        // Observation times differ (fetch says now), so compare what does not depend on them.
        let (snapshots, diff) = history_view(&db);
        let strip = |s: &str| -> Vec<String> {
            s.lines()
                .filter(|l| !l.contains("\"observed_at\"") && !l.contains("\"source\""))
                .map(str::to_string)
                .collect()
        };
        assert_eq!(strip(&snapshots), strip(&expected.0), "round {round}");
        assert_eq!(diff, expected.1, "round {round}");
    }
}

/// Every snapshot's raw bytes give back exactly its document: the sha256 of `portreg raw` is
/// the snapshot's.
fn raw_bytes_are_exact(db: &Path) {
    let snapshots: Vec<serde_json::Value> =
        serde_json::from_str(&ok(portreg(db, &["snapshots", "--format", "json"]))).unwrap();
    assert!(!snapshots.is_empty());
    for snapshot in snapshots {
        let id = snapshot["id"].to_string();
        let raw = portreg_command(db, &["raw", &id]).output().unwrap();
        assert!(raw.status.success(), "raw {id}");
        let sha256 = portreg::store::raw::sha256_hex(&raw.stdout);
        assert_eq!(snapshot["sha256"], sha256.as_str(), "snapshot {id}");
    }
}

/// An older database upgraded in place: every row of its tables is still there, unchanged,
/// but the raw frames, which schema 6 rewrites as line deltas; those give back exactly the
/// same bytes. Then it answers as a fresh import of the same versions does.
fn upgraded_with_nothing_lost(
    fixture: &str,
    from_schema: i64,
    versions: &[usize],
) -> (tempfile::TempDir, std::path::PathBuf) {
    let frame = std::fs::read(Path::new(FIXTURES).join(fixture)).unwrap();
    let bytes = crate::fixtures::unzstd(&frame, None);
    let (dir, db) = temp_db();
    std::fs::write(&db, bytes).unwrap();
    assert_eq!(sql_value::<i64>(&db, "PRAGMA user_version"), from_schema);
    let before = fingerprint(&db);

    // The same versions imported fresh by this portreg, in date order.
    let (_fresh_dir, fresh) = temp_db();
    import(&fresh, &paths(versions));

    let upgraded = portreg(&db, &["snapshots", "--format", "json"]);
    let known = portreg::store::Store::open_in_memory()
        .unwrap()
        .schema_version()
        .unwrap();
    assert_eq!(sql_value::<i64>(&db, "PRAGMA user_version"), known);
    // The upgrade says so, once, on stderr; the next command is silent.
    let said = format!("from schema {from_schema} to {known}: once");
    assert_eq!(upgraded.stderr.lines().count(), 1, "{}", upgraded.stderr);
    assert!(upgraded.stderr.contains(&said), "{}", upgraded.stderr);
    let snapshots = ok(upgraded);
    assert_eq!(portreg(&db, &["snapshots"]).stderr, "");
    let after = fingerprint(&db);
    // Columns a later schema added come last in a row (`snapshot.registry`, ...).
    for row in before
        .iter()
        .filter(|row| !row.starts_with("snapshot_raw:"))
    {
        let widened = format!("{row}|");
        assert!(
            after.iter().any(|a| a == row || a.starts_with(&widened)),
            "lost in the upgrade: {row}"
        );
    }
    raw_bytes_are_exact(&db);
    verified(&db);
    let strip_ids = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.contains("\"id\"") && !l.contains("\"source\""))
            .map(str::to_string)
            .collect()
    };
    let fresh_snapshots = ok(portreg(&fresh, &["snapshots", "--format", "json"]));
    assert_eq!(strip_ids(&snapshots), strip_ids(&fresh_snapshots));
    assert_eq!(
        ok(portreg(
            &db,
            &["diff", "2017-03-10", "latest", "--format", "json"]
        )),
        ok(portreg(
            &fresh,
            &["diff", "2017-03-10", "latest", "--format", "json"]
        ))
    );
    // And it takes new versions like any other.
    import(&db, &paths(&[4]));
    raw_bytes_are_exact(&db);
    verified(&db);
    (dir, db)
}

#[test]
fn a_database_of_the_first_schema_is_upgraded_with_nothing_lost() {
    upgraded_with_nothing_lost("schema-1.sqlite3.zst", 1, &[0, 1, 2]);
}

/// Written by the release before line deltas (schema 5, patch-from frames, re-based by older
/// versions landing before the latest): see tests/fixtures/schema-5.md.
#[test]
fn a_database_of_schema_5_is_upgraded_to_line_deltas_with_its_bytes_exact() {
    upgraded_with_nothing_lost("schema-5.sqlite3.zst", 5, &[0, 1, 2, 3]);
}

/// Written by the release before the second registry (schema 6, tests/fixtures/schema-6.md):
/// its history and fetch log become the port registry's, and a protocols history starts
/// beside them without moving any of the port registry's answers.
#[test]
fn a_database_of_schema_6_takes_the_protocol_numbers_beside_its_history() {
    let (_dir, db) = upgraded_with_nothing_lost("schema-6.sqlite3.zst", 6, &[0, 1, 2, 3]);
    let status: serde_json::Value =
        serde_json::from_str(&ok(portreg(&db, &["status", "--format", "json"]))).unwrap();
    assert_eq!(
        status["fetch"]["last_attempt"]["outcome"], "failed",
        "{status}"
    );
    let answers = |db: &Path| -> Vec<String> {
        [
            vec!["snapshots", "--format", "json"],
            vec!["diff", "2017-03-10", "latest", "--format", "json"],
            vec!["status", "--format", "json"],
            vec!["export", "services"],
        ]
        .iter()
        .map(|args| ok(portreg(db, args)))
        .collect()
    };
    let before = answers(&db);
    let protocols: Vec<String> = crate::fixtures::protocol_versions()
        .iter()
        .map(|v| v.path.display().to_string())
        .collect();
    let out = import(&db, &protocols);
    assert!(
        out.contains("17 stored, 0 already stored, 0 failed"),
        "{out}"
    );
    assert_eq!(answers(&db), before);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&ok(portreg(
        &db,
        &["--registry", "protocols", "snapshots", "--format", "json"],
    )))
    .unwrap();
    assert_eq!(rows.len(), 17);
    verified(&db);
}

#[test]
fn a_database_from_a_newer_portreg_is_refused_and_never_modified() {
    let (_dir, db) = temp_db();
    import(&db, &paths(&[0]));
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA user_version = 99;")
        .unwrap();
    let bytes = std::fs::read(&db).unwrap();
    let file = paths(&[1]).remove(0);
    for args in [
        vec!["snapshots"],
        vec!["import", &file],
        vec!["show", "443"],
        vec![
            "fetch",
            "--url",
            "http://127.0.0.1:9/never-reached.xml",
            "--retries",
            "0",
        ],
        vec!["verify"],
    ] {
        let run = portreg(&db, &args);
        assert_ne!(run.code, 0, "{args:?}");
        assert!(
            run.stderr.contains("written by a newer portreg (schema 99"),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert_eq!(
            std::fs::read(&db).unwrap(),
            bytes,
            "{args:?} changed the file"
        );
    }
}

#[test]
fn a_corrupted_database_file_is_reported_not_overwritten() {
    let (_dir, db) = temp_db();
    std::fs::write(
        &db,
        b"this is not an SQLite database, whatever its name says\n",
    )
    .unwrap();
    let bytes = std::fs::read(&db).unwrap();
    for args in [
        vec!["snapshots"],
        vec!["import", &paths(&[0])[0]],
        vec!["verify"],
    ] {
        let run = portreg(&db, &args);
        assert_ne!(run.code, 0);
        assert!(
            run.stderr.contains("not a database"),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(std::fs::read(&db).unwrap(), bytes);
    }
}

#[test]
fn a_database_locked_by_another_writer_is_waited_for() {
    let (_dir, db) = temp_db();
    import(&db, &paths(&[0]));
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    // The writer waits for the lock (busy timeout) and succeeds once it is released.
    let mut child = portreg_command(&db, &["import", &paths(&[1])[0]])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    assert!(child.try_wait().unwrap().is_none(), "it did not wait");
    conn.execute_batch("COMMIT").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    verified(&db);
}

/// Runs portreg so it cannot write to `db` (nor its directory): as another user when the tests
/// run as root (who ignores permissions), else with the permission bits.
fn without_write_access(db: &Path, args: &[&str]) -> Run {
    use std::os::unix::fs::PermissionsExt;
    let dir = db.parent().unwrap();
    std::fs::set_permissions(db, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let output = if unsafe { libc::geteuid() } == 0 {
        let mut command = std::process::Command::new("setpriv");
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
        command.arg(env!("CARGO_BIN_EXE_portreg"));
        command
            .args(args)
            .env("PORTREG_DB", db)
            .env("NO_COLOR", "1");
        command.output().unwrap()
    } else {
        portreg_command(db, args).output().unwrap()
    };
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(db, std::fs::Permissions::from_mode(0o644)).unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

#[test]
fn a_read_only_database_answers_queries_and_refuses_writes_in_one_line() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, db) = temp_db();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    import(&db, &paths(&[0]));
    let before = fingerprint(&db);
    let file = paths(&[1]).remove(0);
    // The file must be readable by the other user the test may switch to.
    let copy = std::env::temp_dir().join(format!("portreg-ro-{}.xml", std::process::id()));
    std::fs::copy(&file, &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o644)).unwrap();

    let shown = without_write_access(&db, &["show", "443", "--format", "json"]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(shown.stdout.contains("\"https\""));
    let refused = without_write_access(&db, &["import", copy.to_str().unwrap()]);
    std::fs::remove_file(&copy).unwrap();
    assert_ne!(refused.code, 0);
    assert_eq!(
        refused.stderr.trim(),
        format!(
            "portreg: cannot write to database {}: the file or its directory is read-only",
            db.display()
        )
    );
    assert_eq!(fingerprint(&db), before);
    verified(&db);
}

/// `portreg import FILE` where no file may grow past `limit` bytes, as on a full disk.
fn import_on_a_full_disk(db: &Path, file: &str, limit: u64) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    unsafe {
        portreg_command(db, &["import", file])
            .pre_exec(move || {
                let limit = libc::rlimit {
                    rlim_cur: limit,
                    rlim_max: limit,
                };
                if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            })
            .output()
            .unwrap()
    }
}

#[test]
fn a_full_disk_fails_the_import_cleanly_and_the_next_one_succeeds() {
    let (_dir, db) = temp_db();
    import(&db, &paths(&[0]));
    let before = fingerprint(&db);
    // The write-ahead log of the next snapshot cannot be written past 64 KB.
    let output = import_on_a_full_disk(&db, &paths(&[20])[0], 64 * 1024);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot store"), "{stderr}");
    assert_eq!(fingerprint(&db), before);
    verified(&db);
    import(&db, &paths(&[20]));
    verified(&db);

    // A first import, into an empty database or into none, that fills the disk leaves an
    // empty history.
    for into_no_database in [false, true] {
        let (_dir, first) = temp_db();
        if !into_no_database {
            empty_database(&first);
        }
        let output = import_on_a_full_disk(&first, &paths(&[20])[0], 1024 * 1024);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("cannot store"), "{stderr}");
        assert!(String::from_utf8_lossy(&output.stdout).is_empty());
        assert_eq!(sql_value::<i64>(&first, "SELECT count(*) FROM snapshot"), 0);
        verified(&first);
        import(&first, &paths(&[20]));
        verified(&first);
    }
}

/// The names of the files in a directory, sorted.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A first import is killed at the moments that matter, as the files show them: as soon as
/// it starts, once the database file exists (its schema being written), and as the snapshot's
/// pages go to the write-ahead log at its commit (a quarter, half, and all of them written).
/// It leaves no database, an empty one, or the whole snapshot; the next run completes it.
/// Into an empty database and into none.
#[test]
fn a_first_import_killed_at_any_moment_leaves_nothing_half_done() {
    let file = paths(&[20]);
    let (_dir, reference) = temp_db();
    import(&reference, &file);
    let expected = history_view(&reference);
    let wal_size = |db: &Path| {
        let mut wal = db.as_os_str().to_owned();
        wal.push("-wal");
        std::fs::metadata(wal).map_or(0, |m| m.len())
    };
    // How far the write-ahead log of a whole first import grows.
    let full_wal = {
        let (_dir, db) = temp_db();
        let mut child = portreg_command(&db, &["import", &file[0]])
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let mut largest = 0;
        while child.try_wait().unwrap().is_none() {
            largest = largest.max(wal_size(&db));
        }
        largest
    };
    assert!(full_wal > 1_000_000, "{full_wal}");
    for into_no_database in [true, false] {
        for moment in ["start", "file", "wal 1/4", "wal 1/2", "wal all"] {
            let (dir, db) = temp_db();
            if !into_no_database {
                empty_database(&db);
            }
            let mut child = portreg_command(&db, &["import", &file[0]])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let wal_part = |quarters: u64| full_wal / 4 * quarters;
            match moment {
                "start" => {}
                "file" => wait_for(&mut child, || db.exists()),
                "wal 1/4" => wait_for(&mut child, || wal_size(&db) >= wal_part(1)),
                "wal 1/2" => wait_for(&mut child, || wal_size(&db) >= wal_part(2)),
                _ => wait_for(&mut child, || wal_size(&db) >= wal_part(4)),
            }
            child.kill().unwrap();
            child.wait().unwrap();
            let after = format!("killed at {moment}, into no database: {into_no_database}");
            if into_no_database {
                // Nothing but the database and its own files is left behind.
                for name in files_in(dir.path()) {
                    assert!(name.starts_with("portreg.sqlite3"), "{after}: {name}");
                }
            }
            if db.exists() {
                assert_eq!(
                    sql_value::<String>(&db, "PRAGMA integrity_check"),
                    "ok",
                    "{after}"
                );
                // Killed before its schema was committed, the file holds no table yet.
                let schema = "SELECT count(*) FROM sqlite_schema WHERE name = 'snapshot'";
                if sql_value::<i64>(&db, schema) == 1 {
                    let stored: i64 = sql_value(&db, "SELECT count(*) FROM snapshot");
                    assert!(stored <= 1, "{after}: {stored}");
                }
                verified(&db);
            }
            import(&db, &file);
            assert_eq!(history_view(&db), expected, "{after}");
        }
    }
}
