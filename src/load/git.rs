//! Every version of a file in a git repository's history, read with git itself: `git log` for
//! the commits that touched it, one `git cat-file --batch` process for their contents.

use super::{Document, Unreadable};
use crate::input::decompress_if_gzip;
use crate::model::Registry;
use crate::store::{Store, StoreError};
use crate::time::Timestamp;
use chrono::DateTime;
use rustc_hash::FxHashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run git (is it installed?): {0}")]
    NoGit(std::io::Error),
    #[error("git {what} failed: {stderr}")]
    Command { what: String, stderr: String },
    #[error("no commit of {rev} touches {path}")]
    NoVersions { rev: String, path: String },
    #[error("reading from git: {0}")]
    Io(#[from] std::io::Error),
    #[error("{path} at {commit} is not readable: {reason}")]
    Blob {
        path: String,
        commit: String,
        reason: String,
    },
}

/// One version of the file.
struct GitVersion {
    commit: String,
    /// The commit time: when the mirror saw this version.
    time: Timestamp,
    bytes: Vec<u8>,
}

/// The commits that touched a file, oldest first.
pub struct GitHistory {
    repo: PathBuf,
    path: String,
    commits: Vec<(String, Timestamp)>,
    /// A bundle file is cloned here first (git reads bundles only that way).
    _clone: Option<tempfile::TempDir>,
}

/// What a snapshot read from a git history records as its source.
pub fn git_source(repo: &str, commit: &str) -> String {
    format!("git:{repo}@{commit}")
}

/// Git's cache of delta bases: 96 MB per process by default, which made cloning the 2017-2025
/// bundle peak at 190 MB and reading its versions at 155 MB. At 32 MB: 70-75 MB, and reading
/// takes 0.2 s longer (cloning no longer).
const DELTA_BASE_CACHE: &str = "core.deltaBaseCacheLimit=32m";

fn git(repo: &Path) -> Command {
    let mut command = Command::new("git");
    command.arg("-C").arg(repo).args(["-c", DELTA_BASE_CACHE]);
    // Nothing in the user's configuration should change what is read.
    command.env("GIT_CONFIG_NOSYSTEM", "1").env("LC_ALL", "C");
    command
}

fn run(mut command: Command, what: &str) -> Result<Vec<u8>, GitError> {
    let output = command.output().map_err(GitError::NoGit)?;
    if !output.status.success() {
        return Err(GitError::Command {
            what: what.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(output.stdout)
}

impl GitHistory {
    /// `repo` is a work tree, a bare repository, or a bundle file.
    pub fn open(repo: &Path, path: &str, rev: &str) -> Result<GitHistory, GitError> {
        let mut clone = None;
        let mut repo = repo.to_path_buf();
        if repo.is_file() {
            let dir = tempfile::tempdir()?;
            let mut command = Command::new("git");
            command
                .args(["-c", DELTA_BASE_CACHE])
                .args(["clone", "--quiet", "--bare"])
                .arg(&repo)
                .arg(dir.path().join("repo.git"));
            run(command, "clone of the bundle")?;
            repo = dir.path().join("repo.git");
            clone = Some(dir);
        }
        let mut log = git(&repo);
        log.args(["log", "--reverse", "--format=%H %ct", rev, "--", path]);
        let listing = String::from_utf8_lossy(&run(log, "log")?).into_owned();
        let commits: Vec<(String, Timestamp)> = listing
            .lines()
            .filter_map(|line| {
                let (hash, time) = line.split_once(' ')?;
                let time = DateTime::from_timestamp(time.trim().parse().ok()?, 0)?;
                Some((hash.to_string(), Timestamp::from(time)))
            })
            .collect();
        if commits.is_empty() {
            return Err(GitError::NoVersions {
                rev: rev.to_string(),
                path: path.to_string(),
            });
        }
        Ok(GitHistory {
            repo,
            path: path.to_string(),
            commits,
            _clone: clone,
        })
    }

    /// Leaves out the commits that are already the source of a snapshot in `store` (read as
    /// `label`): a rerun on a mirror reads only the new commits. Returns how many. A commit
    /// that changed two registries' files is the source of a snapshot of each, so when the
    /// file's name says which registry it holds, only that registry's sources count.
    pub fn skip_stored(&mut self, store: &Store, label: &str) -> Result<usize, StoreError> {
        let file_name = Path::new(&self.path).file_name().and_then(|n| n.to_str());
        let registry = Registry::ALL
            .into_iter()
            .find(|registry| Some(registry.file_name()) == file_name);
        let sources: FxHashSet<String> = store.snapshot_sources(registry)?.into_iter().collect();
        let before = self.commits.len();
        self.commits
            .retain(|(commit, _)| !sources.contains(&git_source(label, commit)));
        Ok(before - self.commits.len())
    }

    pub fn len(&self) -> usize {
        self.commits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.commits.is_empty()
    }

    /// Every version as a document, oldest first: labelled `LABEL@commit`, observed at its
    /// commit time, with [`git_source`] as its source.
    pub fn documents(
        self,
        label: String,
    ) -> impl Iterator<Item = Result<Document, Unreadable>> + Send {
        self.versions().map(move |version| {
            let version = version.map_err(|error| Unreadable {
                label: label.clone(),
                error: error.into(),
            })?;
            Ok(Document {
                label: format!(
                    "{label}@{}",
                    &version.commit[..12.min(version.commit.len())]
                ),
                source: git_source(&label, &version.commit),
                observed_at: Some(version.time),
                bytes: version.bytes,
            })
        })
    }

    /// Every version, oldest first, from one `git cat-file --batch`. A commit that deleted the
    /// file yields an error item (and the next ones go on).
    fn versions(self) -> impl Iterator<Item = Result<GitVersion, GitError>> + Send {
        let started = git(&self.repo)
            .args(["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let mut versions = Versions {
            history: self,
            next: 0,
            child: None,
            stdout: None,
            failed: None,
        };
        match started {
            Err(error) => versions.failed = Some(GitError::NoGit(error)),
            Ok(mut child) => {
                let requests: String = versions
                    .history
                    .commits
                    .iter()
                    .map(|(hash, _)| format!("{hash}:{}\n", versions.history.path))
                    .collect();
                // Written from another thread: git answers while it reads, and both pipes
                // would fill up otherwise.
                if let Some(mut stdin) = child.stdin.take() {
                    std::thread::spawn(move || {
                        let _ = stdin.write_all(requests.as_bytes());
                    });
                }
                versions.stdout = child.stdout.take().map(BufReader::new);
                versions.child = Some(child);
            }
        }
        versions
    }
}

struct Versions {
    history: GitHistory,
    next: usize,
    child: Option<Child>,
    stdout: Option<BufReader<ChildStdout>>,
    failed: Option<GitError>,
}

impl Versions {
    fn read_one(&mut self, commit: &str) -> Result<Vec<u8>, GitError> {
        let stdout = self.stdout.as_mut().ok_or_else(|| GitError::Command {
            what: "cat-file".into(),
            stderr: "no output".into(),
        })?;
        let mut header = String::new();
        if stdout.read_line(&mut header)? == 0 {
            return Err(GitError::Command {
                what: "cat-file".into(),
                stderr: "ended early".into(),
            });
        }
        let fields: Vec<&str> = header.split_whitespace().collect();
        let blob_error = |reason: &str| GitError::Blob {
            path: self.history.path.clone(),
            commit: commit.to_string(),
            reason: reason.to_string(),
        };
        let size: usize = match fields.as_slice() {
            [_, "blob", size] => size.parse().map_err(|_| blob_error("bad size"))?,
            [_, "missing"] => return Err(blob_error("the commit does not have the file")),
            _ => return Err(blob_error(header.trim())),
        };
        if size as u64 > crate::input::MAX_DOCUMENT_BYTES {
            // Read past it to stay in step with the next answer.
            std::io::copy(&mut stdout.take(size as u64 + 1), &mut std::io::sink())?;
            return Err(blob_error("larger than 64 MiB"));
        }
        // Not zeroed first: read_to_end fills only what it reads.
        let mut bytes = Vec::with_capacity(size + 1);
        stdout.take(size as u64 + 1).read_to_end(&mut bytes)?;
        if bytes.len() != size + 1 {
            return Err(GitError::Command {
                what: "cat-file".into(),
                stderr: "ended early".into(),
            });
        }
        bytes.pop(); // the newline after each blob
        decompress_if_gzip(bytes).map_err(|e| blob_error(&e.to_string()))
    }
}

impl Iterator for Versions {
    type Item = Result<GitVersion, GitError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.failed.take() {
            self.next = self.history.commits.len();
            return Some(Err(error));
        }
        let (commit, time) = self.history.commits.get(self.next)?.clone();
        self.next += 1;
        Some(self.read_one(&commit).map(|bytes| GitVersion {
            commit,
            time,
            bytes,
        }))
    }
}

impl Drop for Versions {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
