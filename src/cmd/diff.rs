//! `portreg diff FROM TO`: what changed between two snapshots.

use super::Context;
use anyhow::Result;
use portreg::changes::Compared;
use portreg::cli::DiffArgs;
use portreg::output;
use portreg::report::group_changes;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: DiffArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    let from = store.resolve(&args.from)?;
    let to = store.resolve(&args.to)?;
    let changes = store.diff(from.seq, to.seq)?;
    match args.format.as_list() {
        Some(format) => output::changes(out, &changes, format)?,
        None => {
            // Markdown, grouped as `changes` groups them.
            let title = output::grouped::title(&Compared::Snapshots { from, to });
            output::grouped::markdown(out, &title, &group_changes(&changes))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
