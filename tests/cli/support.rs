//! Helpers shared by the end-to-end tests: running the binary, temp databases, fingerprints.

use crate::fixtures::real_versions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn portreg(db: &Path, args: &[&str]) -> Run {
    portreg_with_stdin(db, args, None)
}

/// The binary with a test's database, no colour, and no way to the internet: proxies off, and
/// every registry's mirror variable set to a closed port on 127.0.0.1, so a fetch a test did
/// not aim at its own server fails at once instead of reaching IANA.
pub fn portreg_command(db: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_portreg"));
    command
        .args(args)
        .env("PORTREG_DB", db)
        .env("NO_COLOR", "1");
    for proxy in [
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
    ] {
        command.env_remove(proxy);
    }
    for mirror in ["PORTREG_URL", "PORTREG_PROTOCOLS_URL"] {
        command.env(
            mirror,
            "http://127.0.0.1:9/no-registry-url-given-by-this-test.xml",
        );
    }
    command.env_remove("PORTREG_REGISTRY");
    command.env("NO_PROXY", "127.0.0.1,localhost");
    command
}

pub fn portreg_with_stdin(db: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut child = portreg_command(db, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        input.write_all(bytes).unwrap();
    }
    drop(input);
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8(stdout).unwrap(),
        stderr: String::from_utf8(stderr).unwrap(),
    }
}

pub fn ok(run: Run) -> String {
    assert_eq!(run.code, 0, "stderr: {}", run.stderr);
    run.stdout
}

pub fn paths(indices: &[usize]) -> Vec<String> {
    let versions = real_versions();
    indices
        .iter()
        .map(|&i| versions[i].path.display().to_string())
        .collect()
}

pub fn import(db: &Path, files: &[String]) -> String {
    let mut args = vec!["import"];
    args.extend(files.iter().map(String::as_str));
    ok(portreg(db, &args))
}

/// `portreg snapshots --format json`, line by line, without the lines of these keys.
pub fn snapshots_json_without(db: &Path, keys: &[&str]) -> Vec<String> {
    ok(portreg(db, &["snapshots", "--format", "json"]))
        .lines()
        .filter(|line| !keys.iter().any(|key| line.contains(&format!("\"{key}\""))))
        .map(str::to_string)
        .collect()
}

/// Every row of every table, for "nothing changed" checks.
pub fn fingerprint(db: &Path) -> Vec<String> {
    if !db.exists() {
        return vec!["no database".into()];
    }
    let conn = rusqlite::Connection::open(db).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut rows = Vec::new();
    for table in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{table}\" ORDER BY rowid"))
            .unwrap();
        let columns = stmt.column_count();
        let mut query = stmt.query([]).unwrap();
        while let Some(row) = query.next().unwrap() {
            let values: Vec<String> = (0..columns)
                .map(|i| format!("{:?}", row.get_ref(i).unwrap()))
                .collect();
            rows.push(format!("{table}: {}", values.join("|")));
        }
    }
    rows
}

/// Creates an empty database (schema only, no snapshot) at `db`.
pub fn empty_database(db: &Path) {
    portreg::store::Store::open(db).unwrap();
}

pub fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("portreg.sqlite3");
    (dir, db)
}

/// A small deterministic shuffle (no RNG crate needed for a fixed permutation).
pub fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state = seed;
    for i in (1..n).rev() {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = (state >> 33) as usize % (i + 1);
        order.swap(i, j);
    }
    order
}

/// The process's file mode creation mask, as the kernel reports it (`Umask:` in
/// /proc/self/status; 022 where that cannot be read).
#[cfg(unix)]
pub fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Umask:"))?;
            u32::from_str_radix(line["Umask:".len()..].trim(), 8).ok()
        })
        .unwrap_or(0o022)
}
