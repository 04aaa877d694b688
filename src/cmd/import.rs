//! `portreg import FILE...` and `portreg import --git REPO`: documents are read and parsed on
//! a worker thread while the main thread stores the previous one, so a batch uses both cores.

use super::{Context, progress_bar};
use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use portreg::cli::ImportArgs;
use portreg::git::{GitHistory, GitVersion};
use portreg::input::{Input, read_head, read_input};
use portreg::model::Registry;
use portreg::parse::{
    ParseMemo, parse_registry, parse_registry_streaming, parse_registry_with_memo, peek_updated,
};
use portreg::store::raw::sha256_hex;
use portreg::store::{ContentHashes, ImportOutcome, NewFile, NewSnapshot, Store, StreamedDocument};
use rustc_hash::FxHashSet;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::mpsc::{channel, sync_channel};

/// How far into a document its `<updated>` date is looked for when ordering a batch.
const HEAD_BYTES: u64 = 64 * 1024;

/// Where a document comes from, as a source produces it (with its bytes beside it).
struct Document {
    /// How messages name it (a path, or `REPO@commit`).
    label: String,
    /// What the snapshot records as its source.
    source: String,
    observed_at: Option<DateTime<Utc>>,
}

/// The source of a snapshot read from a git history.
fn git_source(repo: &str, commit: &str) -> String {
    format!("git:{repo}@{commit}")
}

/// What the worker hands to the storing thread.
enum Loaded {
    /// Bytes already stored: not parsed again (their observation still counts).
    Known {
        document: Document,
        sha256: String,
    },
    Parsed {
        document: Box<(Document, Vec<u8>, Registry, ContentHashes)>,
        sha256: String,
    },
    Failed {
        error: anyhow::Error,
    },
}

pub fn run(args: ImportArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let observed_override = args.observed_at.map(|t| t.with_timezone(&Utc));
    let counts = match &args.git {
        Some(repo) => {
            let mut store = ctx.open_store()?;
            let mut history = GitHistory::open(repo, &args.path, &args.rev)
                .with_context(|| format!("cannot read the history of {}", repo.display()))?;
            let label = repo.display().to_string();
            // A commit that is already the source of a snapshot is not read again: a rerun
            // on a mirror reads only the new commits.
            let sources: FxHashSet<String> = store.snapshot_sources()?.into_iter().collect();
            let done = history.skip_commits(|commit| sources.contains(&git_source(&label, commit)));
            if done > 0 {
                writeln!(
                    out,
                    "skipped {done} commits of {label}: already stored from them"
                )?;
            }
            let total = history.len();
            let documents = history.versions().map(move |version| match version {
                Ok(GitVersion {
                    commit,
                    time,
                    bytes,
                }) => {
                    let document = Document {
                        label: format!("{label}@{}", &commit[..12.min(commit.len())]),
                        source: git_source(&label, &commit),
                        observed_at: Some(time),
                    };
                    Ok((document, bytes))
                }
                Err(error) => Err(anyhow::Error::new(error).context(label.clone())),
            });
            let mut counts = pipeline(&mut store, documents, total, observed_override, out)?;
            counts.skipped += done;
            counts
        }
        None if args.files.len() == 1 => {
            let path = args.files.into_iter().next().unwrap_or_default();
            import_single(ctx, path, observed_override, out)?
        }
        None => {
            let mut store = ctx.open_store()?;
            let files = in_history_order(args.files);
            let total = files.len();
            let documents = files.into_iter().map(|path| {
                let input = read_input(&path).with_context(|| format!("{path}: cannot read"))?;
                let document = Document {
                    label: path.clone(),
                    source: path,
                    observed_at: input.modified,
                };
                Ok((document, input.bytes))
            });
            pipeline(&mut store, documents, total, observed_override, out)?
        }
    };
    let Counts {
        stored,
        skipped,
        failed,
    } = counts;
    if stored + skipped + failed > 1 {
        writeln!(
            out,
            "{stored} stored, {skipped} already stored, {failed} failed"
        )?;
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[derive(Default)]
struct Counts {
    stored: usize,
    skipped: usize,
    failed: usize,
}

impl Counts {
    /// Counts and prints what became of a parsed document of `records` records.
    fn report(
        &mut self,
        out: &mut impl Write,
        label: &str,
        outcome: portreg::store::Result<ImportOutcome>,
        records: usize,
    ) -> Result<()> {
        match outcome {
            Ok(ImportOutcome::Stored {
                id,
                registry_date,
                latest,
            }) => {
                self.stored += 1;
                let place = if latest {
                    ""
                } else {
                    ", placed before the latest"
                };
                writeln!(
                    out,
                    "stored {label} as snapshot {id} (registry {registry_date}, {records} records{place})"
                )?;
            }
            Ok(ImportOutcome::AlreadyStored { id, registry_date }) => {
                self.skipped += 1;
                writeln!(
                    out,
                    "skipped {label}: already stored as snapshot {id} (registry {registry_date})"
                )?;
            }
            Err(error) => {
                self.failed += 1;
                eprintln!("portreg: {label}: cannot store: {error}");
            }
        }
        Ok(())
    }

    fn failed(&mut self, error: &anyhow::Error) {
        self.failed += 1;
        eprintln!("portreg: {error:#}");
    }
}

/// One file, which is what a first import is. Into a database that does not exist yet, it is
/// built in memory and written out whole (see [`Store::write_new_file`]): a refused document
/// creates no database at all.
fn import_single(
    ctx: &Context,
    path: String,
    observed_override: Option<DateTime<Utc>>,
    out: &mut impl Write,
) -> Result<Counts> {
    let new_database = !ctx.database_exists();
    // The in-memory database is set up while the file is read.
    let opening = new_database.then(|| std::thread::spawn(Store::open_in_memory));
    let input = match read_input(&path).with_context(|| format!("{path}: cannot read")) {
        Ok(input) => input,
        Err(error) => {
            let mut counts = Counts::default();
            counts.failed(&error);
            return Ok(counts);
        }
    };
    if let Some(opening) = opening {
        ctx.create_parent_directory()?;
        // Reported only once the database is written.
        let mut report = Vec::new();
        let imported = import_one_file(
            || {
                Ok(opening
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p))?)
            },
            &path,
            &input,
            observed_override,
            &mut report,
        )?;
        // Nothing stored (a refused document): nothing to write.
        let done = imported.counts.stored == 0
            || imported
                .store
                .write_new_file(&ctx.db_path)
                .with_context(|| format!("cannot write database {}", ctx.db_path.display()))?
                == NewFile::Written;
        if done {
            out.write_all(&report)?;
            let Imported {
                counts,
                store,
                registry,
            } = imported;
            // The process ends here: freeing the database and the 20,000 records and people
            // piece by piece would take a tenth of the import.
            std::mem::forget((store, registry));
            return Ok(counts);
        }
        // Another portreg created the database meanwhile: the document goes into that one.
    }
    let imported = import_one_file(|| ctx.open_store(), &path, &input, observed_override, out)?;
    Ok(imported.counts)
}

/// What [`import_one_file`] leaves.
struct Imported {
    counts: Counts,
    store: Store,
    /// The document's registry, if it was stored.
    registry: Option<Registry>,
}

/// One file into the store that `open_store` opens (while the parse begins): its records are
/// stored while it is still being parsed (see [`Store::import_streamed`]) if the history is
/// empty.
fn import_one_file(
    open_store: impl FnOnce() -> Result<Store>,
    path: &str,
    input: &Input,
    observed_override: Option<DateTime<Utc>>,
    out: &mut impl Write,
) -> Result<Imported> {
    let now = Utc::now();
    let document = StreamedDocument {
        bytes: &input.bytes,
        source: path,
        observed_at: observed_override.or(input.modified).unwrap_or(now),
        imported_at: now,
    };
    let (sender, chunks) = channel();
    std::thread::scope(|scope| {
        let parsing = scope.spawn(|| parse_registry_streaming(&input.bytes, sender));
        let mut store = open_store()?;
        let mut refused = None;
        let outcome = store.import_streamed(&document, chunks, || {
            match parsing
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            {
                Ok(parsed) => Some(parsed),
                Err(error) => {
                    refused = Some(error);
                    None
                }
            }
        });
        let mut counts = Counts::default();
        let registry = match (outcome, refused) {
            (_, Some(error)) => {
                counts.failed(&anyhow::Error::new(error).context(format!("{path}: refused")));
                None
            }
            (Ok(Some((outcome, registry))), None) => {
                counts.report(out, path, Ok(outcome), registry.records.len())?;
                Some(registry)
            }
            (Ok(None), None) => {
                counts.failed(&anyhow::anyhow!("{path}: refused"));
                None
            }
            (Err(error), None) => {
                counts.report(out, path, Err(error), 0)?;
                None
            }
        };
        Ok(Imported {
            counts,
            store,
            registry,
        })
    })
}

/// Parses on a worker (skipping bytes already stored) and stores on this thread, printing a
/// line per document; a progress bar on a terminal for batches.
fn pipeline(
    store: &mut Store,
    documents: impl Iterator<Item = Result<(Document, Vec<u8>)>> + Send,
    total: usize,
    observed_override: Option<DateTime<Utc>>,
    out: &mut impl Write,
) -> Result<Counts> {
    // What is stored already is recognised by its sha256 and not parsed again.
    let known: FxHashSet<String> = store.snapshot_shas()?.into_iter().collect();
    let now = Utc::now();
    let bar = (total > 1 && std::io::stderr().is_terminal())
        .then(|| progress_bar(total as u64, "importing"));
    let (sender, receiver) = sync_channel::<Loaded>(0);
    let mut counts = Counts::default();
    std::thread::scope(|scope| -> Result<()> {
        let worker = std::thread::Builder::new().name("parse".into());
        worker
            .spawn_scoped(scope, move || {
                // Consecutive versions share almost every element: parse only what changed. A
                // lone document has nothing to share, and building the memo costs a quarter more.
                let mut memo = (total > 1).then(ParseMemo::default);
                for document in documents {
                    let loaded = load(document, &known, memo.as_mut());
                    if sender.send(loaded).is_err() {
                        break;
                    }
                }
            })
            .context("cannot start the parsing thread")?;
        for loaded in receiver {
            if let Some(bar) = &bar {
                bar.inc(1);
            }
            let (document, bytes, registry, sha256, hashes) = match loaded {
                Loaded::Known { document, sha256 } => {
                    counts.skipped += 1;
                    let observed_at = observed_override.or(document.observed_at).unwrap_or(now);
                    let label = &document.label;
                    match store.seen_again(&sha256, observed_at, &document.source)? {
                        Some(ImportOutcome::AlreadyStored { id, registry_date }) => writeln!(
                            out,
                            "skipped {label}: already stored as snapshot {id} (registry {registry_date})"
                        )?,
                        _ => writeln!(out, "skipped {label}: already stored")?,
                    }
                    continue;
                }
                Loaded::Failed { error, .. } => {
                    counts.failed += 1;
                    let line = format!("portreg: {error:#}");
                    match &bar {
                        Some(bar) => bar.suspend(|| eprintln!("{line}")),
                        None => eprintln!("{line}"),
                    }
                    continue;
                }
                Loaded::Parsed { document, sha256 } => {
                    let (document, bytes, registry, hashes) = *document;
                    (document, bytes, registry, sha256, hashes)
                }
            };
            let observed_at = observed_override.or(document.observed_at).unwrap_or(now);
            let outcome = store.import(&NewSnapshot {
                bytes: &bytes,
                registry: &registry,
                source: &document.source,
                observed_at,
                imported_at: now,
                sha256: Some(&sha256),
                hashes: Some(&hashes),
            });
            counts.report(out, &document.label, outcome, registry.records.len())?;
        }
        Ok(())
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(counts)
}

fn load(
    document: Result<(Document, Vec<u8>)>,
    known: &FxHashSet<String>,
    memo: Option<&mut ParseMemo>,
) -> Loaded {
    let (document, bytes) = match document {
        Ok(document) => document,
        Err(error) => return Loaded::Failed { error },
    };
    let label = document.label.clone();
    // The sha256 is taken here, off the storing thread (the busier one), and first, so that
    // what is stored already is skipped without being parsed.
    let sha256 = sha256_hex(&bytes);
    if known.contains(&sha256) {
        return Loaded::Known { document, sha256 };
    }
    let (parsed, memo_hashes) = match memo {
        Some(memo) => {
            let parsed = parse_registry_with_memo(&bytes, memo);
            (parsed, memo.take_hashes())
        }
        None => (parse_registry(&bytes), None),
    };
    match parsed.map(|registry| {
        let hashes = memo_hashes
            .filter(|h| h.fit(&registry))
            .unwrap_or_else(|| ContentHashes::of(&registry));
        (registry, hashes)
    }) {
        Ok((registry, hashes)) => Loaded::Parsed {
            document: Box::new((document, bytes, registry, hashes)),
            sha256,
        },
        Err(error) => Loaded::Failed {
            error: anyhow::Error::new(error).context(format!("{label}: refused")),
        },
    }
}

/// Sorts a batch by registry date and modification time, as history will order it, so that
/// each document's neighbour is the one imported just before it. Standard input comes first
/// (it can be read only once and its date is unknown until then); unreadable files come last,
/// where their error is reported.
fn in_history_order(files: Vec<String>) -> Vec<String> {
    if files.len() < 2 {
        return files;
    }
    // (group, registry date, modification time, path): stdin, dated files, the rest.
    type SortKey = (u8, Option<String>, Option<DateTime<Utc>>, String);
    let mut keyed: Vec<SortKey> = files
        .into_iter()
        .map(|path| {
            if path == "-" {
                return (0, None, None, path);
            }
            let date = read_head(&path, HEAD_BYTES)
                .ok()
                .and_then(|h| peek_updated(&h));
            let modified = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .map(DateTime::<Utc>::from);
            (if date.is_some() { 1 } else { 2 }, date, modified, path)
        })
        .collect();
    keyed.sort();
    keyed.into_iter().map(|(_, _, _, path)| path).collect()
}
