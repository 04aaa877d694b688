//! `portreg backfill --wayback`: the registry's captures in the Internet Archive that were not
//! checked before, stored as `fetch` stores a download.

use super::fetch::{http_config, url_for};
use super::{Context, progress_bar, warn};
use anyhow::Result;
use indicatif::ProgressBar;
use portreg::cli::BackfillArgs;
use portreg::http::build_client;
use portreg::load::wayback::{BackfillEvent, BackfillOptions, backfill};
use portreg::model::Record;
use portreg::output::stored::{backfill_counts, capture_problem, captured, captures_listed};
use portreg::time::Timestamp;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

pub fn run(args: BackfillArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    portreg::with_record_type!(ctx.registry(), R => run_for::<R>(args, ctx, out))
}

/// The backfill of `R`'s registry.
fn run_for<R: Record>(args: BackfillArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let mut store = ctx.open_store()?;
    let options = BackfillOptions {
        wayback_url: args.wayback_url,
        registry_url: url_for(&args.options, ctx, R::REGISTRY),
        from: args.from.map(|d| d.0),
        to: args.to,
        delay: args.delay,
        force: args.options.force,
        http: http_config(&args.options),
    };
    let client = build_client(&options.http)?;
    let mut progress = Progress {
        quiet: args.options.quiet,
        bar: None,
    };
    let report = |event: BackfillEvent| progress.report(event, out);
    let counts = backfill::<R>(&mut store, &client, &options, Timestamp::now, report)?;
    backfill_counts(out, &counts)?;
    Ok(if counts.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// What the user sees as the backfill goes: a line per capture stored on `out`, problems on
/// stderr, and a progress bar on a terminal.
struct Progress {
    quiet: bool,
    bar: Option<ProgressBar>,
}

impl Progress {
    fn report(&mut self, event: BackfillEvent, out: &mut impl Write) -> std::io::Result<()> {
        match event {
            BackfillEvent::Listed {
                captures,
                checked_before,
                to_download,
            } => {
                if !self.quiet {
                    captures_listed(out, captures, checked_before, to_download)?;
                    out.flush()?;
                }
                if to_download > 1 && std::io::stderr().is_terminal() {
                    self.bar = Some(progress_bar(to_download as u64, "downloading"));
                }
            }
            BackfillEvent::Checked {
                capture,
                url,
                result,
            } => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
                match result {
                    Ok(stored) => captured(out, &capture.timestamp, stored)?,
                    Err(error) => {
                        let line = capture_problem(&capture.timestamp, url, error);
                        match &self.bar {
                            Some(bar) => bar.suspend(|| warn(&line)),
                            None => warn(&line),
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
