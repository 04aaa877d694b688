//! `portreg import FILE...`: each file is read and parsed on a worker thread while the main
//! thread stores the previous one, so a batch uses both cores.

use super::Context;
use anyhow::{Context as _, Result};
use chrono::{DateTime, Utc};
use portreg::cli::ImportArgs;
use portreg::input::{Input, read_head, read_input};
use portreg::model::Registry;
use portreg::parse::{ParseMemo, parse_registry_with_memo, peek_updated};
use portreg::store::{ImportOutcome, NewSnapshot};
use std::io::Write;
use std::process::ExitCode;
use std::sync::mpsc::sync_channel;

/// How far into a document its `<updated>` date is looked for when ordering a batch.
const HEAD_BYTES: u64 = 64 * 1024;

pub fn run(args: ImportArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let mut store = ctx.open_store()?;
    let now = Utc::now();
    let files = in_history_order(args.files);
    let observed_override = args.observed_at.map(|t| t.with_timezone(&Utc));

    let (sender, receiver) = sync_channel::<(String, Result<(Input, Registry)>)>(1);
    let (mut stored, mut skipped, mut failed) = (0usize, 0usize, 0usize);
    std::thread::scope(|scope| -> Result<()> {
        scope.spawn(move || {
            // Consecutive versions share almost every element: parse only what changed.
            let mut memo = ParseMemo::default();
            for path in files {
                let loaded = load(&path, &mut memo);
                if sender.send((path, loaded)).is_err() {
                    break;
                }
            }
        });
        for (path, loaded) in receiver {
            let (input, registry) = match loaded {
                Ok(loaded) => loaded,
                Err(error) => {
                    eprintln!("portreg: {error:#}");
                    failed += 1;
                    continue;
                }
            };
            let source = if path == "-" {
                "-".to_string()
            } else {
                path.clone()
            };
            let observed_at = observed_override.or(input.modified).unwrap_or(now);
            let outcome = store.import(&NewSnapshot {
                bytes: &input.bytes,
                registry: &registry,
                source: &source,
                observed_at,
                imported_at: now,
            });
            match outcome {
                Ok(ImportOutcome::Stored {
                    id,
                    registry_date,
                    latest,
                }) => {
                    stored += 1;
                    let place = if latest {
                        ""
                    } else {
                        ", placed before the latest"
                    };
                    writeln!(
                        out,
                        "stored {path} as snapshot {id} (registry {registry_date}, {} records{place})",
                        registry.records.len()
                    )?;
                }
                Ok(ImportOutcome::AlreadyStored { id, registry_date }) => {
                    skipped += 1;
                    writeln!(
                        out,
                        "skipped {path}: already stored as snapshot {id} (registry {registry_date})"
                    )?;
                }
                Err(error) => {
                    eprintln!("portreg: {path}: cannot store: {error}");
                    failed += 1;
                }
            }
        }
        Ok(())
    })?;
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

fn load(path: &str, memo: &mut ParseMemo) -> Result<(Input, Registry)> {
    let input = read_input(path).with_context(|| format!("{path}: cannot read"))?;
    let registry =
        parse_registry_with_memo(&input.bytes, memo).with_context(|| format!("{path}: refused"))?;
    Ok((input, registry))
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
