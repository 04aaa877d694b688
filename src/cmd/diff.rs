//! `portreg diff FROM TO`: what changed between two snapshots.

use super::Context;
use anyhow::Result;
use portreg::cli::DiffArgs;
use portreg::output;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: DiffArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    let from = store.resolve(&args.from)?;
    let to = store.resolve(&args.to)?;
    let changes = store.diff(from.seq, to.seq)?;
    output::changes(out, &changes, args.format)?;
    Ok(ExitCode::SUCCESS)
}
