//! What users see: read-only commands without a database, output into a closed pipe
//! (`| head`), every `--format` and its help line, and the help, tables and error messages
//! people read, pinned with insta so that a change users will see is a reviewed change.

use crate::fixtures::real_versions;
use crate::support::*;
use std::collections::HashSet;
use std::io::{BufRead, BufReader, PipeWriter};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::OnceLock;

/// Two real versions eight years apart (2017-03-10 and 2025-12-15), so that every query has
/// plenty to print. Shared by the tests that only read it.
fn two_versions() -> &'static Path {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DB.get_or_init(|| {
        let (dir, db) = temp_db();
        import(&db, &paths(&[0, 20]));
        (dir, db)
    })
    .1
}

/// Runs portreg in `dir` (relative file names stay relative in what it prints), never
/// coloured, even where the environment would force colour.
fn run_in(dir: &Path, db: &Path, args: &[&str]) -> Run {
    let output = portreg_command(db, args)
        .current_dir(dir)
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// The names in a directory, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// Without a database.

#[test]
fn read_only_commands_refuse_a_missing_database_and_create_nothing() {
    let services = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/netbase-services"
    );
    let commands: [&[&str]; 15] = [
        &["snapshots"],
        &["free"],
        &["check", services],
        &["feed"],
        &["stats"],
        &["diff", "latest", "previous"],
        &["raw", "latest"],
        &["status"],
        &["changes", "--since", "2024"],
        &["show", "443"],
        &["search", "http"],
        &["history", "443"],
        &["export", "services"],
        &["sql", "SELECT 1"],
        &["verify"],
    ];
    let dir = tempfile::tempdir().unwrap();
    // In the directory itself, and in one that does not exist (a typo in --db must not
    // leave a directory behind either).
    for db in [
        dir.path().join("portreg.sqlite3"),
        dir.path().join("missing/portreg.sqlite3"),
    ] {
        for args in commands {
            let run = portreg(&db, args);
            assert_ne!(run.code, 0, "{args:?} succeeded without a database");
            let lines: Vec<&str> = run.stderr.lines().collect();
            assert_eq!(lines.len(), 1, "{args:?}: {}", run.stderr);
            assert!(
                lines[0].starts_with("portreg: no database at ")
                    && lines[0].contains(&db.display().to_string()),
                "{args:?}: {}",
                run.stderr
            );
            assert!(
                entries(dir.path()).is_empty(),
                "{args:?} created {:?}",
                entries(dir.path())
            );
        }
    }
}

// Output into a closed pipe: `portreg ... | head` ends quietly, with exit 0.

/// Every output portreg prints, each command in each format it accepts.
fn every_output() -> Vec<Vec<&'static str>> {
    let lists: [&[&str]; 9] = [
        &["snapshots"],
        &["free", "0-65535", "--proto", "tcp"],
        &["stats"],
        &["diff", "1", "2"],
        &["changes", "--since", "2017"],
        &["search", "tcp"],
        // Twenty megabytes of table: far more than a pipe holds.
        &["show", "1-65535"],
        &["history", "443/tcp"],
        &["sql", "SELECT * FROM record_key"],
    ];
    let mut outputs = Vec::new();
    for list in lists {
        for format in ["table", "json", "csv"] {
            outputs.push([list, &["--format", format]].concat());
        }
    }
    for format in ["table", "json"] {
        outputs.push(vec!["status", "--format", format]);
    }
    for kind in ["services", "csv", "json"] {
        outputs.push(vec!["export", kind]);
    }
    for list in [&["diff", "1", "2"][..], &["changes", "--since", "2017"]] {
        outputs.push([list, &["--format", "markdown"]].concat());
    }
    outputs.extend([
        vec!["raw", "latest"],
        vec!["feed", "--limit", "1000"],
        vec!["stats", "--svg", "-"],
        vec!["completions", "bash"],
        vec!["man"],
        vec!["verify"],
    ]);
    outputs
}

/// The writing end of a pipe whose reading end is closed before anyone writes: every write
/// fails (EPIPE), as it does once `head` has exited.
fn closed_pipe() -> PipeWriter {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer
}

/// Where standard error goes while standard output is a closed pipe.
#[derive(Clone, Copy, Debug)]
enum Stderr {
    /// A pipe the test reads to the end.
    Read,
    /// A closed pipe of its own: whoever read it is gone too.
    Closed,
    /// The very pipe stdout is (`portreg ... 2>&1 | head`).
    SameAsStdout,
}

/// Runs portreg with its standard output a closed pipe.
fn into_closed_pipe(db: &Path, args: &[&str], stderr: Stderr) -> Output {
    let stdout = closed_pipe();
    let mut command = portreg_command(db, args);
    command.stdin(Stdio::null());
    match stderr {
        Stderr::Read => command.stderr(Stdio::piped()),
        Stderr::Closed => command.stderr(closed_pipe()),
        Stderr::SameAsStdout => command.stderr(stdout.try_clone().unwrap()),
    };
    command.stdout(stdout).output().unwrap()
}

/// How a process ended, and what it said on stderr.
fn exit_and_stderr(output: &Output) -> (Option<i32>, String) {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.code(), stderr)
}

/// Every output into a closed pipe exits 0, whatever becomes of stderr (no panic, no
/// "Broken pipe" error, no death by SIGPIPE).
fn every_output_into_a_closed_pipe_exits_0(stderr: Stderr) {
    let db = two_versions();
    for args in every_output() {
        let output = into_closed_pipe(db, &args, stderr);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?} into a closed pipe, stderr {stderr:?}: {}, {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn output_into_a_closed_pipe_exits_0_and_adds_nothing_to_stderr() {
    let db = two_versions();
    for args in every_output() {
        // What the command says on stderr when its output is read: nothing, except `changes`,
        // which says in one line that this history starts after 2017-01-01 and that it answers
        // from the registry's own dates. A closed pipe must not add a word to that.
        let read = portreg(db, &args);
        assert_eq!(read.code, 0, "{args:?}: {}", read.stderr);
        if args[0] != "changes" {
            assert_eq!(read.stderr, "", "{args:?}");
        }
        let output = into_closed_pipe(db, &args, Stderr::Read);
        assert_eq!(
            exit_and_stderr(&output),
            (Some(0), read.stderr.clone()),
            "{args:?} into a closed pipe"
        );
    }
}

#[test]
fn output_into_a_closed_pipe_exits_0_when_stderr_is_closed_too() {
    every_output_into_a_closed_pipe_exits_0(Stderr::Closed);
}

#[test]
fn output_into_a_closed_pipe_exits_0_when_stderr_shares_the_pipe() {
    every_output_into_a_closed_pipe_exits_0(Stderr::SameAsStdout);
}

#[test]
fn a_full_disk_under_the_output_is_said_once_and_exits_1() {
    let db = two_versions();
    for args in every_output() {
        let full = std::fs::File::options()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let output = portreg_command(db, &args)
            .stdin(Stdio::null())
            .stdout(full)
            .output()
            .unwrap();
        let (code, stderr) = exit_and_stderr(&output);
        let expected = match args[0] {
            // `changes` says first that it answers from the registry's dates.
            "changes" => 2,
            _ => 1,
        };
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), expected, "{args:?}: {stderr}");
        assert!(
            stderr.ends_with("portreg: No space left on device (os error 28)\n"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn reading_one_line_and_closing_the_pipe_like_head_1_ends_quietly() {
    let db = two_versions();
    for args in [
        &["export", "csv"][..],
        &["show", "1-65535", "--format", "csv"],
    ] {
        let mut child = portreg_command(db, args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        // The reader is dropped at the end of the statement, as `head -1` exits.
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(
            first.starts_with("Service Name,") || first.starts_with("name,"),
            "{args:?}: {first}"
        );
        assert_eq!(
            exit_and_stderr(&output),
            (Some(0), String::new()),
            "{args:?} | head -1"
        );
    }
}

#[test]
fn an_import_with_its_output_closed_still_stores_every_file() {
    let (_dir, db) = temp_db();
    // The newest first, so the older ones take their places in the history, and the 2021
    // stale copies (the same bytes twice each), which are stored once.
    let chosen = [20, 9, 10, 0, 11, 12];
    let distinct: HashSet<&str> = chosen
        .iter()
        .map(|&i| real_versions()[i].sha256.as_str())
        .collect();
    let files = paths(&chosen);
    let mut args = vec!["import"];
    args.extend(files.iter().map(String::as_str));
    let output = into_closed_pipe(&db, &args, Stderr::Read);
    assert_eq!(exit_and_stderr(&output), (Some(0), String::new()));
    let snapshots: Vec<serde_json::Value> =
        serde_json::from_str(&ok(portreg(&db, &["snapshots", "--format", "json"]))).unwrap();
    assert_eq!(snapshots.len(), distinct.len());
}

// Every format is the format asked for.

/// A name like `registry_date` or `sha256`: what a CSV header holds, and data rarely does.
/// A fetch from cron whose output is closed still stores the new version, and a second one
/// (nothing new) ends quietly too.
#[test]
fn a_fetch_with_its_output_closed_still_stores_the_new_version() {
    use crate::server::{Reply, TestServer};
    let body = std::fs::read(&real_versions()[20].path).unwrap();
    let server = TestServer::start(move |_, _| Reply::Body {
        bytes: body.clone(),
        etag: None,
    });
    let (_dir, db) = temp_db();
    import(&db, &paths(&[0]));
    for _ in 0..2 {
        let output = into_closed_pipe(&db, &["fetch", "--url", &server.url], Stderr::Read);
        assert_eq!(exit_and_stderr(&output), (Some(0), String::new()));
    }
    let snapshots: Vec<serde_json::Value> =
        serde_json::from_str(&ok(portreg(&db, &["snapshots", "--format", "json"]))).unwrap();
    assert_eq!(snapshots.len(), 2);
}

fn is_column_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[test]
fn every_format_a_command_accepts_is_the_format_it_prints() {
    let db = two_versions();
    let lists: [&[&str]; 9] = [
        &["snapshots"],
        &["free", "0-65535", "--proto", "tcp"],
        &["stats"],
        &["diff", "1", "2"],
        &["changes", "--since", "2017"],
        &["show", "443"],
        &["search", "http"],
        &["history", "443"],
        &["sql", "SELECT * FROM snapshot"],
    ];
    for list in lists {
        let with_format = |format: &str| ok(portreg(db, &[list, &["--format", format]].concat()));

        let table = with_format("table");
        assert!(table.contains('│'), "{list:?} table:\n{table}");

        let json: serde_json::Value = serde_json::from_str(&with_format("json"))
            .unwrap_or_else(|error| panic!("{list:?} JSON: {error}"));
        let json_rows = json
            .as_array()
            .unwrap_or_else(|| panic!("{list:?} JSON is not an array"))
            .len();
        assert!(json_rows > 0, "{list:?}: no rows to check");

        let csv = with_format("csv");
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let header = reader.headers().unwrap().clone();
        // A header names columns; it is not a row of data.
        assert!(
            header.iter().all(is_column_name),
            "{list:?} CSV header: {header:?}"
        );
        let mut csv_rows = 0;
        for record in reader.records() {
            let record = record.unwrap_or_else(|error| panic!("{list:?} CSV: {error}"));
            assert_eq!(record.len(), header.len(), "{list:?} CSV: {record:?}");
            csv_rows += 1;
        }
        // Both formats list the same rows.
        assert_eq!(csv_rows, json_rows, "{list:?}: CSV rows and JSON rows");
    }

    // `status` is one answer, not a list: a JSON object, and no CSV.
    let status: serde_json::Value =
        serde_json::from_str(&ok(portreg(db, &["status", "--format", "json"]))).unwrap();
    assert!(status.is_object(), "{status}");
    let csv = portreg(db, &["status", "--format", "csv"]);
    assert_eq!(csv.code, 2, "{}", csv.stderr);
    assert!(csv.stderr.contains("invalid value 'csv'"), "{}", csv.stderr);
}

// Help.

/// `portreg ARGS` with no database in the environment (help shows `[env: PORTREG_DB=...]`).
fn help(args: &[&str]) -> String {
    let output = portreg_command(Path::new("unused"), args)
        .env_remove("PORTREG_DB")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .unwrap();
    assert!(output.status.success(), "{args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// The values listed under an option's "Possible values:" in long help, each with its
/// description (clap prints `- table: A table for people`).
fn possible_values(help: &str, option: &str) -> Vec<(String, String)> {
    help.lines()
        .map(str::trim)
        .skip_while(|line| !line.starts_with(option))
        .skip(1)
        // Up to the next option (`--source`, `-h, --help`), not a value (`- auto:`).
        .take_while(|line| !line.starts_with('-') || line.starts_with("- "))
        .filter_map(|line| line.strip_prefix("- ")?.split_once(':'))
        .map(|(value, description)| (value.to_string(), description.trim().to_string()))
        .collect()
}

#[test]
fn every_value_of_format_and_source_has_a_help_line() {
    let lists = ["table", "json", "csv"];
    let changes = ["table", "json", "csv", "markdown"];
    let cases: [(&str, &str, &[&str]); 12] = [
        ("snapshots", "--format", &lists),
        ("diff", "--format", &changes),
        ("changes", "--format", &changes),
        ("free", "--format", &lists),
        ("check", "--format", &lists),
        ("stats", "--format", &lists),
        ("show", "--format", &lists),
        ("search", "--format", &lists),
        ("history", "--format", &lists),
        ("sql", "--format", &lists),
        ("status", "--format", &["table", "json"]),
        ("changes", "--source", &["auto", "observed", "registry"]),
    ];
    for (command, option, expected) in cases {
        let text = help(&[command, "--help"]);
        let values = possible_values(&text, option);
        let names: Vec<&str> = values.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, expected, "{command} {option}:\n{text}");
        for (name, description) in &values {
            assert!(
                !description.is_empty(),
                "{command} {option} {name} has no description:\n{text}"
            );
        }
    }
}

#[test]
fn help_text_is_a_reviewed_change() {
    insta::assert_snapshot!("help", help(&["--help"]));
    insta::assert_snapshot!("help_import", help(&["import", "--help"]));
    insta::assert_snapshot!("help_changes", help(&["changes", "--help"]));
}

// Tables and messages people read.

/// Long output is cut to this many lines (and a count) in snapshots.
const SNAPSHOT_LINES: usize = 30;

/// What a terminal shows for `portreg ARGS`: the command, its output (long output cut to
/// its first lines and a count), what it said on stderr, and a failure's exit status.
fn screen(args: &[&str], run: &Run) -> String {
    let mut screen = format!("$ portreg {}\n", args.join(" "));
    let lines = run.stdout.lines().count();
    for line in run.stdout.lines().take(SNAPSHOT_LINES) {
        screen += &format!("{line}\n");
    }
    if lines > SNAPSHOT_LINES {
        screen += &format!("[... {lines} lines in all]\n");
    }
    if !run.stderr.is_empty() {
        screen += &format!("--- stderr ---\n{}", run.stderr);
    }
    if run.code != 0 {
        screen += &format!("--- exit status {} ---\n", run.code);
    }
    screen
}

/// Runs `portreg ARGS` and shows it as [`screen`] does, with the temp directory (whose name
/// differs each run) as `[TMP]`.
fn seen(dir: &Path, db: &Path, args: &[&str]) -> String {
    let run = run_in(dir, db, args);
    screen(args, &run).replace(&dir.display().to_string(), "[TMP]")
}

#[test]
fn the_snapshots_table() {
    // Imported under their bare names from their own directory, so the source column holds
    // the same text (and the table the same widths) wherever the fixtures were decoded. The
    // observed times are the files' modification times, which the fixtures set.
    let (_dir, db) = temp_db();
    let fixtures = real_versions()[0].path.parent().unwrap();
    let files = [0, 20].map(|i| {
        real_versions()[i]
            .path
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
    });
    let stored = run_in(fixtures, &db, &["import", files[0], files[1]]);
    assert_eq!(stored.code, 0, "{}", stored.stderr);
    insta::assert_snapshot!(seen(fixtures, &db, &["snapshots"]));
}

#[test]
fn the_show_table() {
    let db = two_versions();
    insta::assert_snapshot!(seen(db.parent().unwrap(), db, &["show", "443"]));
}

#[test]
fn the_diff_table_of_two_consecutive_versions() {
    let (dir, db) = temp_db();
    import(&db, &paths(&[0, 1]));
    insta::assert_snapshot!(seen(dir.path(), &db, &["diff", "1", "2"]));
}

#[test]
fn the_changes_report_grouped_for_people() {
    let db = two_versions();
    insta::assert_snapshot!(seen(
        db.parent().unwrap(),
        db,
        &["changes", "--since", "2017"]
    ));
}

#[test]
fn a_bad_snapshot_reference_says_what_is_expected() {
    let db = two_versions();
    insta::assert_snapshot!(seen(
        db.parent().unwrap(),
        db,
        &["diff", "yesterday", "latest"]
    ));
}

#[test]
fn an_html_page_is_refused_in_one_line_naming_the_file() {
    let (dir, db) = temp_db();
    let page = dir.path().join("registry.xml");
    std::fs::write(
        &page,
        "<!DOCTYPE html>\n<html><head><title>503</title></head><body>busy</body></html>\n",
    )
    .unwrap();
    insta::assert_snapshot!(seen(dir.path(), &db, &["import", page.to_str().unwrap()]));
}

#[test]
fn a_missing_database_is_named_with_what_to_do() {
    let (dir, db) = temp_db();
    insta::assert_snapshot!(seen(dir.path(), &db, &["show", "443"]));
}
