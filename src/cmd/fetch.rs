//! `portreg fetch`: one download-validate-store cycle, made for cron. Exit status: 0 done,
//! 1 a new snapshot landed (only with `--exit-code`), 2 failed.

use super::{Context, warn};
use anyhow::Result;
use portreg::cli::{FetchArgs, FetchOptionArgs};
use portreg::fetch::{FetchOptions, Fetched, fetch_once};
use portreg::http::{HttpConfig, RetryNotice, build_client};
use portreg::output::stored::{FetchContext, fetched};
use portreg::store::{Placement, Store};
use portreg::time::Timestamp;
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

pub const EXIT_FAILED: u8 = 2;

pub fn run(args: FetchArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let never = AtomicBool::new(false);
    Ok(match cycle(&args.options, ctx, out, &never)? {
        Some(fetched) if args.exit_code && fetched.stored_new().is_some() => ExitCode::from(1),
        Some(_) => ExitCode::SUCCESS,
        None => ExitCode::from(EXIT_FAILED),
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

/// One cycle with its output: the summary on `out`, retries and errors on stderr. None when
/// it failed, and said so.
pub fn cycle(
    args: &FetchOptionArgs,
    ctx: &Context,
    out: &mut impl Write,
    cancel: &AtomicBool,
) -> Result<Option<Fetched>> {
    let options = FetchOptions {
        url: args.url.clone(),
        http: http_config(args),
        force: args.force,
    };
    let quiet = args.quiet;
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
    let cycle = ctx.open_store().and_then(|mut store| {
        let client = build_client(&options.http)?;
        let fetched = fetch_once(
            &mut store,
            &client,
            &options,
            cancel,
            on_retry,
            Timestamp::now,
        )?;
        Ok((store, fetched))
    });
    let (store, fetched) = match cycle {
        Ok(done) => done,
        Err(error) => {
            warn(format_args!("fetch failed: {error:#}"));
            return Ok(None);
        }
    };
    if let Some(new) = fetched.stored_new()
        && new.placement() == Placement::BeforeLatest
    {
        warn(format_args!(
            "warning: {} sent registry {}, older than the latest stored snapshot; stored it in its place in history",
            options.url,
            new.snapshot().registry_date
        ));
    }
    match report(&store, &fetched, out, quiet) {
        Ok(()) => Ok(Some(fetched)),
        Err(error) => {
            warn(format_args!("fetch failed: {error:#}"));
            Ok(None)
        }
    }
}

/// What a cycle stored, with the changes a new snapshot brought.
fn report(store: &Store, done: &Fetched, out: &mut impl Write, quiet: bool) -> Result<()> {
    let before = match done.stored_new() {
        Some(new) => store.changes_into(new.snapshot())?,
        None => None,
    };
    let latest = store.latest_snapshot()?;
    let context = FetchContext {
        before: before
            .as_ref()
            .map(|(row, changes)| (row, changes.as_slice())),
        latest: latest.as_ref(),
    };
    fetched(out, done, &context, quiet)?;
    out.flush()?;
    Ok(())
}
