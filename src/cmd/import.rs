//! `portreg import FILE...` and `portreg import --git REPO`.

use super::{Context, progress_bar, warn};
use anyhow::{Context as _, Result};
use portreg::cli::ImportArgs;
use portreg::load::batch::{BatchCounts, BatchError, BatchTimes, Target, store_batch};
use portreg::load::files::file_documents;
use portreg::load::git::GitHistory;
use portreg::load::{Document, DocumentError, Unreadable};
use portreg::output;
use portreg::store::{Store, Stored};
use portreg::time::Timestamp;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

pub fn run(args: ImportArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let times = BatchTimes {
        observed_at: args.observed_at.as_ref().map(Timestamp::from),
        now: Timestamp::now(),
    };
    // A database that is not there yet is created by the first document stored: a refused
    // document leaves no file behind.
    let mut store = if ctx.database_exists() {
        Some(ctx.open_store()?)
    } else {
        None
    };
    let counts = match &args.git {
        Some(repo) => {
            let label = repo.display().to_string();
            let path = (args.path.as_deref()).unwrap_or(ctx.registry().file_name());
            let mut history = GitHistory::open(repo, path, &args.rev)
                .with_context(|| format!("cannot read the history of {label}"))?;
            let skipped = match &store {
                Some(store) => history.skip_stored(store, &label)?,
                None => 0,
            };
            output::stored::skipped_commits(out, skipped, &label)?;
            let total = history.len();
            let mut counts = import(
                ctx,
                store.as_mut(),
                history.documents(label),
                total,
                times,
                out,
            )?;
            counts.already_stored += skipped;
            counts
        }
        None => {
            let total = args.files.len();
            import(
                ctx,
                store.as_mut(),
                file_documents(args.files),
                total,
                times,
                out,
            )?
        }
    };
    output::stored::batch_counts(out, &counts)?;
    Ok(if counts.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Stores the documents, a line for each (failures on stderr), with a progress bar on a
/// terminal for batches.
fn import(
    ctx: &Context,
    store: Option<&mut Store>,
    documents: impl Iterator<Item = Result<Document, Unreadable>> + Send,
    total: usize,
    times: BatchTimes,
    out: &mut impl Write,
) -> Result<BatchCounts> {
    let open = || {
        // A directory that cannot be made: opening says so.
        let _ = ctx.create_parent_directory();
        Store::open(&ctx.db_path)
    };
    let target = match store {
        Some(store) => Target::Open(store),
        None => Target::OnDemand(&open),
    };
    let bar = (total > 1 && std::io::stderr().is_terminal())
        .then(|| progress_bar(total as u64, "importing"));
    // A line per document, flushed at once: someone watching sees the batch progress.
    let report = |label: &str, outcome: &Result<Stored, DocumentError>| {
        if let Some(bar) = &bar {
            bar.inc(1);
        }
        match outcome {
            Ok(stored) => output::stored::imported(out, label, stored)?,
            Err(error) => {
                let line = format!("{label}: {error}");
                match &bar {
                    Some(bar) => bar.suspend(|| warn(&line)),
                    None => warn(&line),
                }
            }
        }
        out.flush()
    };
    let counts =
        store_batch(target, documents, total, times, report).map_err(|error| match error {
            BatchError::Open(error) => ctx.open_error(error),
            other => other.into(),
        })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(counts)
}
