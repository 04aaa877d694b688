//! `import --git` on repositories the tests build, and `backfill --wayback` against a local
//! CDX and capture server replaying real versions.

use crate::fixtures::{RealVersion, real_versions};
use crate::server::{Reply, TestServer};
use crate::support::*;
use std::path::Path;
use std::process::Command;

pub fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "mirror")
        .env("GIT_AUTHOR_EMAIL", "mirror@example.org")
        .env("GIT_COMMITTER_NAME", "mirror")
        .env("GIT_COMMITTER_EMAIL", "mirror@example.org")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// A port registry mirror repository of these real versions (see [`mirror_of`]).
fn mirror(dir: &Path, versions: &[usize]) {
    let versions: Vec<&RealVersion> = versions.iter().map(|&i| &real_versions()[i]).collect();
    mirror_of(dir, &versions, "service-names-port-numbers.xml");
}

/// A mirror repository of these versions as `file_name`, one commit per version at its
/// mirror time, and a commit touching only a README after the second.
pub fn mirror_of(dir: &Path, versions: &[&RealVersion], file_name: &str) {
    git(dir, &["init", "--quiet", "--initial-branch=main"]);
    let file = dir.join(file_name);
    for (n, version) in versions.iter().enumerate() {
        std::fs::copy(&version.path, &file).unwrap();
        let time = std::fs::metadata(&version.path)
            .unwrap()
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        git(dir, &["add", "-A"]);
        let date = format!("@{time} +0000");
        let status = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["commit", "--quiet", "-m", &format!("version {n}")])
            .env("GIT_AUTHOR_NAME", "mirror")
            .env("GIT_AUTHOR_EMAIL", "mirror@example.org")
            .env("GIT_COMMITTER_NAME", "mirror")
            .env("GIT_COMMITTER_EMAIL", "mirror@example.org")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", dir)
            .status()
            .unwrap();
        assert!(status.success());
        if n == 1 {
            std::fs::write(dir.join("README"), "a mirror\n").unwrap();
            git(dir, &["add", "-A"]);
            git(dir, &["commit", "--quiet", "-m", "readme"]);
        }
    }
}

#[test]
fn import_git_stores_every_version_as_importing_the_files_does() {
    let versions = [0, 1, 2, 3, 13, 14, 20];
    let repo = tempfile::tempdir().unwrap();
    mirror(repo.path(), &versions);

    let (_dir, from_git) = temp_db();
    let out = ok(portreg(
        &from_git,
        &["import", "--git", repo.path().to_str().unwrap()],
    ));
    assert!(
        out.ends_with("7 stored, 0 already stored, 0 failed\n"),
        "{out}"
    );
    let (_dir2, from_files) = temp_db();
    import(&from_files, &paths(&versions));

    let view = |db: &Path| snapshots_json_without(db, &["source", "id"]);
    assert_eq!(view(&from_git), view(&from_files));
    for (from, to) in [("1", "latest"), ("2", "4"), ("3", "7")] {
        assert_eq!(
            ok(portreg(&from_git, &["diff", from, to, "--format", "json"])),
            ok(portreg(
                &from_files,
                &["diff", from, to, "--format", "json"]
            ))
        );
    }
    let sources: Vec<String> = {
        let conn = rusqlite::Connection::open(&from_git).unwrap();
        let mut stmt = conn.prepare("SELECT source FROM snapshot").unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert!(sources.iter().all(|s| s.starts_with("git:")), "{sources:?}");

    // Resumable: a second run reads none of the commits it stored from and stores nothing.
    let again = ok(portreg(
        &from_git,
        &["import", "--git", repo.path().to_str().unwrap()],
    ));
    assert!(again.starts_with("skipped 7 commits of "), "{again}");
    assert_eq!(again.lines().count(), 2, "{again}");
    assert!(
        again.ends_with("0 stored, 7 already stored, 0 failed\n"),
        "{again}"
    );

    // Interrupted after the older commits: the next run reads only the rest.
    let (_dir, partial) = temp_db();
    let repo_arg = repo.path().to_str().unwrap();
    let first = ok(portreg(
        &partial,
        &["import", "--git", repo_arg, "--rev", "HEAD~3"],
    ));
    let done = first.lines().filter(|l| l.starts_with("stored ")).count();
    assert!((1..7).contains(&done), "{first}");
    let rest = ok(portreg(&partial, &["import", "--git", repo_arg]));
    assert!(
        rest.starts_with(&format!("skipped {done} commits of ")),
        "{rest}"
    );
    assert_eq!(
        rest.lines().filter(|l| l.starts_with("stored ")).count(),
        7 - done,
        "{rest}"
    );
    assert_eq!(
        ok(portreg(&partial, &["snapshots", "--format", "json"])),
        ok(portreg(&from_git, &["snapshots", "--format", "json"]))
    );

    // A bare clone and a bundle give the same.
    let bare = tempfile::tempdir().unwrap();
    let bare_repo = bare.path().join("mirror.git");
    let status = Command::new("git")
        .args(["clone", "--quiet", "--bare"])
        .arg(repo.path())
        .arg(&bare_repo)
        .status()
        .unwrap();
    assert!(status.success());
    let bundle = bare.path().join("mirror.bundle");
    git(
        &bare_repo,
        &["bundle", "create", bundle.to_str().unwrap(), "--all"],
    );
    for source in [&bare_repo, &bundle] {
        let (_dir3, db) = temp_db();
        ok(portreg(&db, &["import", "--git", source.to_str().unwrap()]));
        assert_eq!(view(&db), view(&from_files), "{}", source.display());
    }
}

#[test]
fn import_git_names_a_bad_repository_or_path_in_one_line() {
    let (_dir, db) = temp_db();
    let nowhere = portreg(&db, &["import", "--git", "/nonexistent/repo"]);
    assert_ne!(nowhere.code, 0);
    assert_eq!(nowhere.stderr.lines().count(), 1, "{}", nowhere.stderr);
    assert!(
        nowhere
            .stderr
            .contains("cannot read the history of /nonexistent/repo")
    );

    let repo = tempfile::tempdir().unwrap();
    mirror(repo.path(), &[0]);
    let wrong_path = portreg(
        &db,
        &[
            "import",
            "--git",
            repo.path().to_str().unwrap(),
            "--path",
            "other.xml",
        ],
    );
    assert_ne!(wrong_path.code, 0);
    assert!(
        wrong_path
            .stderr
            .contains("no commit of HEAD touches other.xml"),
        "{}",
        wrong_path.stderr
    );
}

/// A Wayback Machine on 127.0.0.1: a CDX index of `captures` (timestamp, digest, bytes) and
/// their raw bytes at `/web/TIMESTAMPid_/URL`.
fn archive(captures: Vec<(&'static str, &'static str, Vec<u8>)>) -> TestServer {
    let original = portreg::model::Registry::Services.url();
    TestServer::start(move |_, seen| {
        if seen.path.starts_with("/cdx/search/cdx?") {
            let mut rows = vec![serde_json::json!([
                "urlkey",
                "timestamp",
                "original",
                "mimetype",
                "statuscode",
                "digest",
                "length"
            ])];
            for (timestamp, digest, bytes) in &captures {
                rows.push(serde_json::json!([
                    "org,iana)/assignments",
                    timestamp,
                    original,
                    "text/xml",
                    "200",
                    digest,
                    bytes.len().to_string()
                ]));
            }
            return Reply::Body {
                bytes: serde_json::to_vec(&rows).unwrap(),
                etag: None,
            };
        }
        match captures
            .iter()
            .find(|(timestamp, _, _)| seen.path == format!("/web/{timestamp}id_/{original}"))
        {
            Some((_, _, bytes)) => Reply::Body {
                bytes: bytes.clone(),
                etag: None,
            },
            None => Reply::Status {
                code: 404,
                headers: vec![],
            },
        }
    })
}

#[test]
fn backfill_from_the_wayback_machine_stores_the_good_captures_once() {
    let read = |i: usize| std::fs::read(&real_versions()[i].path).unwrap();
    let truncated = {
        let bytes = read(13);
        bytes[..bytes.len() / 2].to_vec()
    };
    let archive = archive(vec![
        ("20170310120000", "AAAA", read(0)),
        (
            "20180101000000",
            "HTML",
            b"<!DOCTYPE html><html><body>Wayback Machine error</body></html>".to_vec(),
        ),
        ("20190101000000", "CCCC", read(5)),
        ("20200101000000", "CUT0", truncated),
        ("20251220000000", "LAST", read(20)),
    ]);
    let (_dir, db) = temp_db();
    import(&db, &paths(&[20]));
    // The registry's address is asked of the archive, never fetched; the test helper sets the
    // mirror variables to a closed local port, so name IANA's here.
    let args = [
        "backfill",
        "--wayback",
        "--wayback-url",
        &archive.base,
        "--url",
        portreg::model::Registry::Services.url(),
        "--delay",
        "0s",
        "--retry-wait",
        "10ms",
    ];
    let run = portreg(&db, &args);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.ends_with("2 stored, 1 already stored, 2 refused, 0 failed (tried again next time), 0 checked before\n"),
        "{}",
        run.stdout
    );
    let warnings: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(warnings.len(), 2, "{}", run.stderr);
    assert!(
        warnings[0].contains("skipped capture 20180101000000") && warnings[0].contains("HTML page")
    );
    assert!(
        warnings[1].contains("skipped capture 20200101000000") && warnings[1].contains("truncated")
    );

    let conn = rusqlite::Connection::open(&db).unwrap();
    let shas: Vec<(String, String)> = conn
        .prepare("SELECT sha256, observed_at FROM snapshot ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let expected: Vec<String> = [0, 5, 20]
        .iter()
        .map(|&i| real_versions()[i].sha256.clone())
        .collect();
    assert_eq!(
        shas.iter().map(|s| s.0.clone()).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(shas[0].1, "2017-03-10T12:00:00Z", "observed when captured");
    assert!(ok(portreg(&db, &["verify"])).contains("verified 3 snapshots"));

    // A second run asks the index again and downloads nothing.
    let requests = || -> Vec<String> { archive.seen().into_iter().map(|s| s.path).collect() };
    let before = requests().len();
    let again = portreg(&db, &args);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("5 checked before"),
        "{}",
        again.stdout
    );
    let all = requests();
    let new_requests = &all[before..];
    assert_eq!(new_requests.len(), 1, "{new_requests:?}");
    assert!(new_requests[0].starts_with("/cdx/search/cdx?url=https%3A%2F%2Fwww.iana.org"));
    assert!(
        new_requests[0].contains("filter=statuscode%3A200")
            && new_requests[0].contains("collapse=digest")
    );

    // Dates bound the query.
    ok(portreg(
        &db,
        &[
            "backfill",
            "--wayback",
            "--wayback-url",
            &archive.base,
            "--from",
            "2019",
            "--to",
            "2020-06-30",
        ],
    ));
    let last = requests().last().unwrap().clone();
    assert!(
        last.contains("from=20190101") && last.contains("to=20200630235959"),
        "{last}"
    );
}

/// A backfill whose listing of the captures fails: one line naming `why`, a non-zero exit,
/// the database as it was.
fn a_failed_listing_changes_nothing(archive: &str, why: &str) {
    let (_dir, db) = temp_db();
    import(&db, &paths(&[0]));
    let before = fingerprint(&db);
    let args = [
        "backfill",
        "--wayback",
        "--wayback-url",
        archive,
        "--retries",
        "0",
    ];
    let run = portreg(&db, &args);
    assert_ne!(run.code, 0);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot list the captures") && run.stderr.contains(why),
        "{}",
        run.stderr
    );
    assert_eq!(fingerprint(&db), before);
}

#[test]
fn an_unreachable_archive_is_one_line_and_changes_nothing() {
    a_failed_listing_changes_nothing("http://127.0.0.1:9", "cannot connect");
}

#[test]
fn a_304_to_an_unconditional_listing_is_an_error_and_changes_nothing() {
    // A 304 answers only a conditional request; the listing never is one.
    let archive = TestServer::start(|_, _| Reply::NotModified);
    a_failed_listing_changes_nothing(
        &archive.base,
        "304 Not Modified to a request that was not conditional",
    );
}
