//! `import --git` on repositories the tests build, and `backfill --wayback` against a local
//! CDX and capture server replaying real versions.

use crate::fixtures::real_versions;
use crate::support::*;
use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) {
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

/// A mirror repository: one commit per version (at its mirror time), with a commit that only
/// touches another file and one that deletes the registry and brings it back.
fn mirror(dir: &Path, versions: &[usize]) {
    git(dir, &["init", "--quiet", "--initial-branch=main"]);
    let file = dir.join("service-names-port-numbers.xml");
    for (n, &i) in versions.iter().enumerate() {
        std::fs::copy(&real_versions()[i].path, &file).unwrap();
        let time = std::fs::metadata(&real_versions()[i].path)
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

    let view = |db: &Path| -> Vec<String> {
        ok(portreg(db, &["snapshots", "--format", "json"]))
            .lines()
            .filter(|l| !l.contains("\"source\"") && !l.contains("\"id\""))
            .map(str::to_string)
            .collect()
    };
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

    // Resumable: a second run parses nothing and stores nothing.
    let again = ok(portreg(
        &from_git,
        &["import", "--git", repo.path().to_str().unwrap()],
    ));
    assert!(
        again.ends_with("0 stored, 7 already stored, 0 failed\n"),
        "{again}"
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
