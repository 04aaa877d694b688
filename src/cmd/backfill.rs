//! `portreg backfill --wayback`: every capture of the registry URL in the Internet Archive that
//! is not stored yet, downloaded one at a time with a delay, validated as `fetch` validates.

use super::fetch::http_config;
use super::{Context, progress_bar};
use anyhow::{Context as _, Result};
use portreg::backfill::{Capture, capture_time, capture_url, cdx_query, parse_cdx};
use portreg::cli::BackfillArgs;
use portreg::fetch::http::{
    Downloaded, Validators, build_client, download, sleep_unless_cancelled,
};
use portreg::fetch::{FetchError, Outcome, store_document};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

#[derive(Default)]
struct Counts {
    stored: usize,
    known: usize,
    refused: usize,
    failed: usize,
    checked_before: usize,
}

pub fn run(args: BackfillArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let mut store = ctx.open_store()?;
    let config = http_config(&args.options);
    let client = build_client(&config)?;
    let never = AtomicBool::new(false);
    let quiet = args.options.quiet;
    let warn = |line: String| eprintln!("portreg: {line}");

    let query = cdx_query(
        &args.wayback_url,
        &args.options.url,
        args.from.map(|d| d.0),
        args.to,
    )?;
    // One request at a time, unconditional, never cancelled, no progress of its own.
    let get = |url: &str| {
        download(
            &client,
            url,
            &Validators::default(),
            &config,
            &never,
            |_| {},
        )
    };
    let listing = get(&query);
    let captures = match listing.result {
        Ok(Downloaded::Body { bytes, .. }) => {
            parse_cdx(&bytes).with_context(|| format!("{query}: unusable answer"))?
        }
        Ok(Downloaded::NotModified) => Vec::new(),
        Err(error) => anyhow::bail!("cannot list the captures: {query}: {error}"),
    };
    let mut counts = Counts::default();
    let mut todo: Vec<&Capture> = Vec::new();
    for capture in &captures {
        if store.wayback_checked(&capture.digest)? {
            counts.checked_before += 1;
        } else {
            todo.push(capture);
        }
    }
    if !quiet {
        writeln!(
            out,
            "{} captures in the archive, {} checked before, {} to download",
            captures.len(),
            counts.checked_before,
            todo.len()
        )?;
        out.flush()?;
    }
    let bar = (todo.len() > 1 && std::io::stderr().is_terminal())
        .then(|| progress_bar(todo.len() as u64, "downloading"));
    for (n, capture) in todo.iter().enumerate() {
        if n > 0 {
            sleep_unless_cancelled(args.delay, &never);
        }
        if let Some(bar) = &bar {
            bar.inc(1);
        }
        let url = capture_url(&args.wayback_url, capture);
        let observed_at = capture_time(&capture.timestamp).unwrap_or_else(chrono::Utc::now);
        let got = get(&url);
        let bytes = match got.result {
            Ok(Downloaded::Body { bytes, .. }) => bytes,
            Ok(Downloaded::NotModified) => continue,
            Err(error) => {
                // Not remembered: the next run tries it again.
                counts.failed += 1;
                warn(format!("capture {}: {url}: {error}", capture.timestamp));
                continue;
            }
        };
        let (outcome, message, snapshot_id) =
            match store_document(&mut store, bytes, &url, args.options.force, observed_at) {
                Ok(Outcome::Stored {
                    snapshot, latest, ..
                }) => {
                    counts.stored += 1;
                    writeln!(
                        out,
                        "stored capture {} as snapshot {} (registry {}{})",
                        capture.timestamp,
                        snapshot.id,
                        snapshot.registry_date,
                        if latest {
                            ""
                        } else {
                            ", placed before the latest"
                        }
                    )?;
                    let outcome = if latest { "stored" } else { "stored-older" };
                    (outcome, None, Some(snapshot.id))
                }
                Ok(Outcome::Unchanged { snapshot } | Outcome::Stale { snapshot, .. }) => {
                    counts.known += 1;
                    ("already-stored", None, Some(snapshot.id))
                }
                Ok(Outcome::NotModified) => continue,
                Err(error @ FetchError::Store(_)) => {
                    counts.failed += 1;
                    warn(format!(
                        "capture {}: cannot store: {error}",
                        capture.timestamp
                    ));
                    continue;
                }
                Err(error) => {
                    counts.refused += 1;
                    warn(format!("skipped capture {}: {error}", capture.timestamp));
                    ("refused", Some(error.to_string()), None)
                }
            };
        store.record_wayback(capture, &url, outcome, message.as_deref(), snapshot_id)?;
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    writeln!(
        out,
        "{} stored, {} already stored, {} refused, {} failed (tried again next time), {} checked before",
        counts.stored, counts.known, counts.refused, counts.failed, counts.checked_before
    )?;
    Ok(if counts.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
