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

fn sql_one(db: &Path, sql: &str) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |row| row.get::<_, rusqlite::types::Value>(0))
        .map(|v| format!("{v:?}"))
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
    let oldest = sql_one(db, "SELECT id FROM snapshot WHERE seq = 1");
    let oldest = oldest.trim_start_matches("Integer(").trim_end_matches(')');
    let diff = ok(portreg(db, &["diff", oldest, "latest", "--format", "json"]));
    (without_ids.join("\n"), diff)
}

/// A deterministic spread of delays in 0..max_ms.
fn delays(count: usize, max_ms: u64) -> Vec<Duration> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            Duration::from_millis(state % max_ms)
        })
        .collect()
}

#[test]
fn verify_passes_on_a_good_database_and_names_each_kind_of_damage() {
    let (_dir, db) = temp_db();
    import(&db, &paths(&[0, 1, 2, 5]));
    let good = verified(&db);
    assert!(good.contains("verified 4 snapshots"), "{good}");

    let damages: [(&str, &str); 4] = [
        (
            "UPDATE record_version SET description = 'tampered'
             WHERE id = (SELECT min(id) FROM record_version WHERE description IS NOT NULL)",
            "differs in description",
        ),
        (
            "DELETE FROM record_version WHERE id = (SELECT max(id) FROM record_version)",
            "is in the bytes but not stored",
        ),
        (
            "UPDATE snapshot_raw SET zstd = substr(zstd, 1, 200)
             WHERE snapshot_id = (SELECT id FROM snapshot WHERE seq = 2)",
            "raw bytes",
        ),
        (
            "UPDATE person_version SET name = 'Someone Else'
             WHERE id = (SELECT min(id) FROM person_version WHERE name IS NOT NULL)",
            "stored people differ",
        ),
    ];
    for (damage, expected) in damages {
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("copy.sqlite3");
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute("VACUUM INTO ?1", [copy.to_str().unwrap()])
            .unwrap();
        rusqlite::Connection::open(&copy)
            .unwrap()
            .execute_batch(damage)
            .unwrap();
        let run = portreg(&copy, &["verify"]);
        assert_eq!(run.code, 1, "{damage}: {}", run.stdout);
        assert!(run.stdout.contains(expected), "{damage}: {}", run.stdout);
        assert!(
            run.stdout.contains("problems in 4 snapshots checked"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn imports_killed_at_random_moments_lose_nothing_and_resume() {
    let (_dir, reference) = temp_db();
    let base = paths(&[0, 20]);
    // Older versions that land in the middle of the history, and newer ones after it.
    let batch = paths(&[4, 5, 6, 13, 14, 15]);
    import(&reference, &base);
    import(&reference, &batch);
    let expected = history_view(&reference);

    let mut killed_mid_batch = 0;
    for delay in delays(16, 900) {
        let (_dir, db) = temp_db();
        import(&db, &base);
        let mut args = vec!["import"];
        args.extend(batch.iter().map(String::as_str));
        let mut child = portreg_command(&db, &args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let finished = child.try_wait().unwrap().is_some();
        child.kill().unwrap();
        child.wait().unwrap();
        let stored: i64 = sql_one(&db, "SELECT count(*) FROM snapshot")
            .trim_start_matches("Integer(")
            .trim_end_matches(')')
            .parse()
            .unwrap();
        if !finished && stored < 8 {
            killed_mid_batch += 1;
        }
        // Whole snapshots only, each giving back its records and bytes.
        assert_eq!(sql_one(&db, "PRAGMA integrity_check"), "Text(\"ok\")");
        verified(&db);
        // The next run completes the history as if nothing had happened.
        import(&db, &batch);
        assert_eq!(history_view(&db), expected, "after a kill at {delay:?}");
    }
    assert!(
        killed_mid_batch >= 4,
        "only {killed_mid_batch} kills landed mid-batch"
    );
}

#[test]
fn fetches_killed_at_random_moments_lose_nothing_and_resume() {
    let body = std::fs::read(&real_versions()[20].path).unwrap();
    // Sent slowly, so kills land during the download as well as after it.
    let server = TestServer::start(move |_, _| Reply::Slowly(body.clone()));
    let url = server.url.clone();
    for delay in delays(8, 500) {
        let (_dir, db) = temp_db();
        import(&db, &paths(&[0]));
        let mut child = portreg_command(&db, &["fetch", "--url", &url, "--retries", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(sql_one(&db, "PRAGMA integrity_check"), "Text(\"ok\")");
        verified(&db);
        let again = portreg(&db, &["fetch", "--url", &url, "--retries", "0"]);
        assert_eq!(again.code, 0, "{}", again.stderr);
        let count = sql_one(&db, "SELECT count(*) FROM snapshot");
        assert_eq!(count, "Integer(2)", "after a kill at {delay:?}");
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

#[test]
fn a_database_of_the_first_schema_is_upgraded_with_nothing_lost() {
    let frame = std::fs::read(Path::new(FIXTURES).join("schema-1.sqlite3.zst")).unwrap();
    let bytes = portreg::store::raw::decompress(&frame, None).unwrap();
    let (_dir, db) = temp_db();
    std::fs::write(&db, bytes).unwrap();
    assert_eq!(sql_one(&db, "PRAGMA user_version"), "Integer(1)");
    let before = fingerprint(&db);

    // The same versions imported fresh by this portreg, in date order.
    let (_fresh_dir, fresh) = temp_db();
    import(&fresh, &paths(&[0, 1, 2]));

    let snapshots = ok(portreg(&db, &["snapshots", "--format", "json"]));
    let known = portreg::store::Store::open_in_memory()
        .unwrap()
        .schema_version()
        .unwrap();
    assert_eq!(
        sql_one(&db, "PRAGMA user_version"),
        format!("Integer({known})")
    );
    // Every row of the old tables is still there, unchanged.
    let after = fingerprint(&db);
    for row in &before {
        assert!(after.contains(row), "lost in the upgrade: {row}");
    }
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
    import(&db, &paths(&[3]));
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

    // A first import (stored while it is parsed) that fills the disk leaves an empty history.
    let (_dir, empty) = temp_db();
    ok(portreg(&empty, &["snapshots"]));
    let before = fingerprint(&empty);
    let output = import_on_a_full_disk(&empty, &paths(&[20])[0], 1024 * 1024);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(fingerprint(&empty), before);
    import(&empty, &paths(&[20]));
    verified(&empty);

    // A first import into no database (built in memory, then written out) that cannot write
    // the file leaves no file at all, named or not.
    let (dir, fresh) = temp_db();
    let output = import_on_a_full_disk(&fresh, &paths(&[20])[0], 1024 * 1024);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("cannot write database"), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).is_empty());
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
    import(&fresh, &paths(&[20]));
    verified(&fresh);
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

/// A first import is stored while it is parsed; killed at any moment, it leaves either
/// nothing or the whole snapshot, and the next run completes it. Into an empty database it
/// is a transaction; into no database, a file that appears whole or not at all.
#[test]
fn a_first_import_killed_at_random_moments_leaves_nothing_half_done() {
    let file = paths(&[20]);
    let (_dir, reference) = temp_db();
    import(&reference, &file);
    let expected = history_view(&reference);
    // Kills that landed before the end, into an empty database and into none.
    let mut unfinished = [0, 0];
    for (round, delay) in delays(16, 150).into_iter().enumerate() {
        let (dir, db) = temp_db();
        let into_no_database = round % 2 == 1;
        if !into_no_database {
            ok(portreg(&db, &["snapshots"]));
        }
        let mut child = portreg_command(&db, &["import", &file[0]])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        unfinished[round % 2] += child.try_wait().unwrap().is_none() as usize;
        child.kill().unwrap();
        child.wait().unwrap();
        if into_no_database {
            // No temporary file is left behind, and the database is there whole or not at all.
            let names = files_in(dir.path());
            assert!(
                names.is_empty() || names == ["portreg.sqlite3"],
                "after a kill at {delay:?}: {names:?}"
            );
        }
        if db.exists() {
            assert_eq!(sql_one(&db, "PRAGMA integrity_check"), "Text(\"ok\")");
            let stored = sql_one(&db, "SELECT count(*) FROM snapshot");
            assert!(stored == "Integer(0)" || stored == "Integer(1)", "{stored}");
            verified(&db);
        }
        import(&db, &file);
        assert_eq!(history_view(&db), expected, "after a kill at {delay:?}");
    }
    assert!(
        unfinished.iter().all(|&n| n >= 2),
        "too few kills landed before the end: {unfinished:?}"
    );
}
