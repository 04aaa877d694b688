//! `portreg backfill --wayback`: the registry's captures in the Internet Archive that were not
//! checked before, stored as `fetch` stores a download.

use super::fetch::http_config;
use super::{Context, progress_bar, warn};
use anyhow::Result;
use portreg::cli::BackfillArgs;
use portreg::fetch::http::build_client;
use portreg::load::wayback::{BackfillEvent, BackfillOptions, CaptureResult, backfill};
use portreg::time::Timestamp;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

pub fn run(args: BackfillArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let mut store = ctx.open_store()?;
    let options = BackfillOptions {
        wayback_url: args.wayback_url,
        registry_url: args.options.url.clone(),
        from: args.from.map(|d| d.0),
        to: args.to,
        delay: args.delay,
        force: args.options.force,
        http: http_config(&args.options),
    };
    let client = build_client(&options.http)?;
    let quiet = args.options.quiet;
    let mut bar = None;
    let report = |event: BackfillEvent| -> std::io::Result<()> {
        match event {
            BackfillEvent::Listed {
                captures,
                checked_before,
                to_download,
            } => {
                if !quiet {
                    writeln!(
                        out,
                        "{captures} captures in the archive, {checked_before} checked before, {to_download} to download"
                    )?;
                    out.flush()?;
                }
                if to_download > 1 && std::io::stderr().is_terminal() {
                    bar = Some(progress_bar(to_download as u64, "downloading"));
                }
            }
            BackfillEvent::Checked {
                capture,
                url,
                result,
            } => {
                if let Some(bar) = &bar {
                    bar.inc(1);
                }
                let stamp = &capture.timestamp;
                let problem = match result {
                    CaptureResult::Stored { snapshot, latest } => {
                        let place = if *latest {
                            ""
                        } else {
                            ", placed before the latest"
                        };
                        writeln!(
                            out,
                            "stored capture {stamp} as snapshot {} (registry {}{place})",
                            snapshot.id, snapshot.registry_date
                        )?;
                        None
                    }
                    CaptureResult::AlreadyStored { .. } => None,
                    CaptureResult::Refused(refusal) => Some(format!(
                        "skipped capture {stamp}: {url}: refused: {refusal}"
                    )),
                    CaptureResult::DownloadFailed(error) => {
                        Some(format!("capture {stamp}: {url}: {error}"))
                    }
                    CaptureResult::StoreFailed(error) => {
                        Some(format!("capture {stamp}: cannot store: {error}"))
                    }
                };
                if let Some(line) = problem {
                    match &bar {
                        Some(bar) => bar.suspend(|| warn(&line)),
                        None => warn(&line),
                    }
                }
            }
        }
        Ok(())
    };
    let counts = backfill(&mut store, &client, &options, Timestamp::now, report)?;
    writeln!(
        out,
        "{} stored, {} already stored, {} refused, {} failed (tried again next time), {} checked before",
        counts.stored, counts.already_stored, counts.refused, counts.failed, counts.checked_before
    )?;
    Ok(if counts.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
