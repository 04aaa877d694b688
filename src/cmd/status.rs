//! `portreg status`: what the database holds and how fetching has gone.

use super::Context;
use anyhow::Result;
use portreg::cli::StatusArgs;
use portreg::output::{self, StatusReport};
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: StatusArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    let registry = ctx.registry();
    let report = StatusReport {
        database: ctx.db_path.display().to_string(),
        snapshots: store.snapshot_count(registry)?,
        latest: store.latest_snapshot(registry)?,
        fetch: store.fetch_status(registry)?,
    };
    output::status(out, &report, args.format)?;
    Ok(ExitCode::SUCCESS)
}
