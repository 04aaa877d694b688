//! `portreg fetch`: one download-validate-store cycle per registry, made for cron: the
//! registry `--registry` names, else the port registry and every other one the database keeps.
//! Exit status: 0 done, 1 a new snapshot landed (only with `--exit-code`), 2 a cycle failed.

use super::{Context, warn};
use anyhow::Result;
use portreg::cli::{FetchArgs, FetchOptionArgs};
use portreg::fetch::{FetchOptions, Fetched, fetch_once};
use portreg::http::{HttpConfig, RetryNotice, build_client};
use portreg::model::{Change, Record, Registry};
use portreg::output::stored::{self, FetchContext};
use portreg::store::{Placement, SnapshotRow, Store, StoreError};
use portreg::time::Timestamp;
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

pub const EXIT_FAILED: u8 = 2;

pub fn run(args: FetchArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let never = AtomicBool::new(false);
    let round = round(&args.options, ctx, out, &never)?;
    Ok(if round.failed {
        ExitCode::from(EXIT_FAILED)
    } else if args.exit_code && round.stored_new {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
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

/// Where `registry` is downloaded from: `--url` for the registry `--registry` names (the port
/// registry when it names none), else its mirror from the environment ([`url_variable`]),
/// else IANA's address.
pub fn url_for(args: &FetchOptionArgs, ctx: &Context, registry: Registry) -> String {
    match &args.url {
        Some(url) if registry == ctx.registry() => url.clone(),
        _ => std::env::var(url_variable(registry))
            .ok()
            .filter(|url| !url.is_empty())
            .unwrap_or_else(|| registry.url().to_string()),
    }
}

/// The environment variable naming a registry's mirror: `PORTREG_URL` for the port registry
/// (its name before there were others), `PORTREG_<NAME>_URL` for the others, so a plain
/// `fetch` of several registries can take each from its own mirror.
pub fn url_variable(registry: Registry) -> String {
    match registry {
        Registry::Services => "PORTREG_URL".to_string(),
        other => format!("PORTREG_{}_URL", other.name().to_uppercase()),
    }
}

/// What a round of fetches did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Round {
    /// A cycle failed, and said so.
    pub failed: bool,
    /// A cycle stored a new snapshot.
    pub stored_new: bool,
}

/// One cycle for each registry to fetch: the one `--registry` names; else every registry the
/// database holds snapshots of (one starts being fetched with its first snapshot, so cron
/// lines keep doing what they did), or the port registry in a database that holds none.
pub fn round(
    args: &FetchOptionArgs,
    ctx: &Context,
    out: &mut impl Write,
    cancel: &AtomicBool,
) -> Result<Round> {
    let mut store = match ctx.open_store() {
        Ok(store) => store,
        Err(error) => {
            warn(format_args!("fetch failed: {error:#}"));
            return Ok(Round {
                failed: true,
                ..Round::default()
            });
        }
    };
    let registries = match ctx.registry_given {
        Some(registry) => vec![registry],
        None => match store.registries() {
            // A new database starts with the port registry, as it always did.
            Ok(kept) if kept.is_empty() => vec![Registry::Services],
            Ok(kept) => kept,
            Err(error) => {
                warn(format_args!("fetch failed: {error}"));
                return Ok(Round {
                    failed: true,
                    ..Round::default()
                });
            }
        },
    };
    let mut round = Round::default();
    for registry in registries {
        let fetched = portreg::with_record_type!(registry, R => {
            cycle::<R>(&mut store, args, ctx, out, cancel)?
        });
        match fetched {
            Some(fetched) => round.stored_new |= fetched.stored_new().is_some(),
            None => round.failed = true,
        }
    }
    Ok(round)
}

/// One cycle of `R`'s registry with its output: the summary on `out`, retries and errors on
/// stderr. None when it failed, and said so.
fn cycle<R: Record>(
    store: &mut Store,
    args: &FetchOptionArgs,
    ctx: &Context,
    out: &mut impl Write,
    cancel: &AtomicBool,
) -> Result<Option<Fetched>> {
    let options = FetchOptions {
        url: url_for(args, ctx, R::REGISTRY),
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
    let cycle = build_client(&options.http)
        .map_err(anyhow::Error::from)
        .and_then(|client| {
            Ok(fetch_once::<R>(
                store,
                &client,
                &options,
                cancel,
                on_retry,
                Timestamp::now,
            )?)
        });
    let fetched = match cycle {
        Ok(fetched) => fetched,
        Err(error) => {
            warn(format_args!(
                "fetch failed: {}{error:#}",
                stored::prefix(R::REGISTRY)
            ));
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
    let news = match News::<R>::read(store, &fetched) {
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
struct News<R: Record> {
    before: Option<(SnapshotRow, Vec<Change<R>>)>,
    latest: Option<SnapshotRow>,
}

impl<R: Record> News<R> {
    fn read(store: &Store, fetched: &Fetched) -> Result<News<R>, StoreError> {
        let before = match fetched.stored_new() {
            Some(new) => store.changes_into::<R>(new.snapshot())?,
            None => None,
        };
        Ok(News {
            before,
            latest: store.latest_snapshot(R::REGISTRY)?,
        })
    }

    fn as_context(&self) -> FetchContext<'_, R> {
        FetchContext {
            before: self
                .before
                .as_ref()
                .map(|(row, changes)| (row, changes.as_slice())),
            latest: self.latest.as_ref(),
        }
    }
}
