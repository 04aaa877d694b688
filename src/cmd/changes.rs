//! `portreg changes --since DATE`: from the stored history when it reaches back to DATE, else
//! (or with `--source registry`) from the registry's own registration and modification dates.

use super::{Context, warn};
use anyhow::{Result, bail};
use portreg::cli::{ChangeFormat, ChangeSource, ChangesArgs};
use portreg::output::{self, Format};
use portreg::report::{by_registry_dates, group_changes, registry_date_changes};
use portreg::store::{Seq, SnapshotRef, StoreError};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

pub fn run(args: ChangesArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    let latest = store.latest_snapshot()?.ok_or(StoreError::Empty)?;
    let since = args.since;
    let base = match store.resolve(&SnapshotRef::Date(since.0)) {
        Ok(base) => Some(base),
        Err(StoreError::NoSuchSnapshot(_)) => None,
        Err(error) => return Err(error.into()),
    };
    let use_history = match (args.source, &base) {
        (ChangeSource::Registry, _) => false,
        (_, Some(_)) => true,
        (ChangeSource::Observed, None) => bail!(
            "the stored history starts after {since} (oldest snapshot: {}); use --source registry to answer from the registry's own dates",
            store
                .snapshot_at_seq(Seq::FIRST)?
                .map(|s| s.registry_date)
                .unwrap_or_default()
        ),
        (ChangeSource::Auto, None) => {
            warn(format_args!(
                "the stored history starts after {since} (oldest snapshot: {}), so this answer comes from the registry's own registration and modification dates",
                store
                    .snapshot_at_seq(Seq::FIRST)?
                    .map(|s| s.registry_date)
                    .unwrap_or_default()
            ));
            false
        }
    };
    // The same answer three ways: a title, the lines people read, the contract's changes.
    let (title, lines, changes) = match (use_history, base) {
        (true, Some(base)) => {
            let changes = store.diff(base.seq, latest.seq)?;
            let title = format!(
                "Changes from snapshot {} (registry {}) to snapshot {} (registry {})",
                base.id, base.registry_date, latest.id, latest.registry_date
            );
            (title, group_changes(&changes), changes)
        }
        _ => {
            let records = store.records_at(latest.seq)?;
            let lines = by_registry_dates(&records, since);
            let title = format!(
                "Records of snapshot {} (registry {}) registered or modified on or after {since}, by the registry's own dates",
                latest.id, latest.registry_date
            );
            let changes = registry_date_changes(&lines, since);
            (title, lines, changes)
        }
    };
    match args.format {
        ChangeFormat::Table => {
            writeln!(out, "{title}:")?;
            let color = output::color_wanted(std::io::stdout().is_terminal());
            output::report(out, &lines, color)?;
        }
        ChangeFormat::Markdown => output::grouped::markdown(out, &title, &lines)?,
        ChangeFormat::Json => output::changes(out, &changes, Format::Json)?,
        ChangeFormat::Csv => output::changes(out, &changes, Format::Csv)?,
    }
    Ok(ExitCode::SUCCESS)
}
