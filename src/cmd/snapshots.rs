//! `portreg snapshots`: the stored snapshots, oldest first.

use super::Context;
use anyhow::Result;
use portreg::cli::SnapshotsArgs;
use portreg::output;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: SnapshotsArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    let rows = store.snapshots(ctx.registry())?;
    output::snapshots(out, &rows, args.format)?;
    Ok(ExitCode::SUCCESS)
}
