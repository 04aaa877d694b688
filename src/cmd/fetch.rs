//! `portreg fetch`: one download-validate-store cycle, made for cron. Exit status: 0 done,
//! 1 a new snapshot landed (only with `--exit-code`), 2 failed.

use super::{Context, warn};
use anyhow::Result;
use portreg::cli::{FetchArgs, FetchOptionArgs};
use portreg::fetch::{FetchOptions, Fetched, fetch_once};
use portreg::http::{HttpConfig, RetryNotice, build_client};
use portreg::model::Change;
use portreg::output::stored::{self, FetchContext};
use portreg::store::{Placement, SnapshotRow, Store, StoreError};
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
    // Stored (or found unchanged) and logged: what is left is to say so. The changes a new
    // version brought are read back for that; a failure there is the report's, not the fetch's.
    let news = match News::read(&store, &fetched) {
        Ok(news) => news,
        Err(error) => {
            let done = match fetched.stored_new() {
                Some(new) => format!("stored snapshot {}", new.snapshot().id),
                None => "fetched".to_string(),
            };
            warn(format_args!("{done}, but cannot read the history: {error}"));
            return Ok(None);
        }
    };
    stored::fetched(out, &fetched, &news.as_context(), quiet)?;
    out.flush()?;
    Ok(Some(fetched))
}

/// What a fetch's report needs besides its outcome, read from the store.
struct News {
    before: Option<(SnapshotRow, Vec<Change>)>,
    latest: Option<SnapshotRow>,
}

impl News {
    fn read(store: &Store, fetched: &Fetched) -> Result<News, StoreError> {
        let before = match fetched.stored_new() {
            Some(new) => store.changes_into(new.snapshot())?,
            None => None,
        };
        Ok(News {
            before,
            latest: store.latest_snapshot()?,
        })
    }

    fn as_context(&self) -> FetchContext<'_> {
        FetchContext {
            before: self
                .before
                .as_ref()
                .map(|(row, changes)| (row, changes.as_slice())),
            latest: self.latest.as_ref(),
        }
    }
}
