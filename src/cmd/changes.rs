//! `portreg changes --since DATE`: from the stored history when it reaches back to DATE, else
//! (or with `--source registry`) from the registry's own registration and modification dates.

use super::{Context, warn};
use anyhow::{Result, bail};
use portreg::cli::{ChangeSource, ChangesArgs};
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
    let color = output::color_wanted(std::io::stdout().is_terminal());
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
    if let (true, Some(base)) = (use_history, base) {
        let changes = store.diff(base.seq, latest.seq)?;
        if args.format == Format::Table {
            writeln!(
                out,
                "Changes from snapshot {} (registry {}) to snapshot {} (registry {}):",
                base.id, base.registry_date, latest.id, latest.registry_date
            )?;
            output::report(out, &group_changes(&changes), color)?;
        } else {
            output::changes(out, &changes, args.format)?;
        }
    } else {
        let records = store.records_at(latest.seq)?;
        let lines = by_registry_dates(&records, since);
        if args.format == Format::Table {
            writeln!(
                out,
                "Records of snapshot {} (registry {}) registered or modified on or after {since}, by the registry's own dates:",
                latest.id, latest.registry_date
            )?;
            output::report(out, &lines, color)?;
        } else {
            output::changes(out, &registry_date_changes(&lines, since), args.format)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
