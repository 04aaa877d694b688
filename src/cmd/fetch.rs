//! `portreg fetch`: one download-validate-store cycle, made for cron. Exit status: 0 done,
//! 1 a new snapshot landed (only with `--exit-code`), 2 failed.

use super::{Context, warn};
use anyhow::Result;
use portreg::cli::{FetchArgs, FetchOptionArgs};
use portreg::fetch::http::{HttpConfig, RetryNotice, build_client};
use portreg::fetch::{FetchOptions, Outcome, fetch_once};
use portreg::output;
use portreg::time::Timestamp;
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

/// How one cycle ended, for the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cycle {
    Stored,
    NothingNew,
    Failed,
}

pub const EXIT_FAILED: u8 = 2;

pub fn run(args: FetchArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let never = AtomicBool::new(false);
    Ok(match cycle(&args.options, ctx, out, &never)? {
        Cycle::Stored if args.exit_code => ExitCode::from(1),
        Cycle::Stored | Cycle::NothingNew => ExitCode::SUCCESS,
        Cycle::Failed => ExitCode::from(EXIT_FAILED),
    })
}

/// The HTTP behaviour the options ask for.
pub fn http_config(args: &FetchOptionArgs) -> HttpConfig {
    HttpConfig {
        connect_timeout: args.connect_timeout,
        timeout: args.timeout,
        max_tries: args.retries + 1,
        backoff: args.retry_wait,
        retry_budget: args.retry_budget,
        ..HttpConfig::default()
    }
}

/// One cycle with its output: the summary on `out`, retries and errors on stderr. Only an
/// error writing the output itself is returned as an error.
pub fn cycle(
    args: &FetchOptionArgs,
    ctx: &Context,
    out: &mut impl Write,
    cancel: &AtomicBool,
) -> Result<Cycle> {
    let options = FetchOptions {
        url: args.url.clone(),
        http: http_config(args),
        force: args.force,
    };
    let quiet = args.quiet;
    let outcome = ctx.open_store().and_then(|mut store| {
        let client = build_client(&options.http)?;
        let on_retry = |notice: RetryNotice| {
            if !quiet {
                warn(format_args!(
                    "try {} of {} failed ({}); retrying in {:.1}s",
                    notice.try_number,
                    options.http.max_tries,
                    notice.error,
                    notice.wait.as_secs_f64()
                ));
            }
        };
        Ok(fetch_once(
            &mut store,
            &client,
            &options,
            cancel,
            on_retry,
            Timestamp::now,
        )?)
    });
    match outcome {
        Ok(outcome) => {
            if let Outcome::Stored {
                snapshot,
                latest: false,
                ..
            } = &outcome
            {
                warn(format_args!(
                    "warning: {} sent registry {}, older than the latest stored snapshot; stored it in its place in history",
                    options.url, snapshot.registry_date
                ));
            }
            output::fetch_outcome(out, &outcome, quiet)?;
            out.flush()?;
            Ok(match outcome {
                Outcome::Stored { .. } => Cycle::Stored,
                _ => Cycle::NothingNew,
            })
        }
        Err(error) => {
            warn(format_args!("fetch failed: {error:#}"));
            Ok(Cycle::Failed)
        }
    }
}
