//! `portreg diff FROM TO`: what changed between two snapshots.

use super::Context;
use anyhow::Result;
use portreg::changes::Compared;
use portreg::cli::DiffArgs;
use portreg::model::Record;
use portreg::output;
use portreg::report::group_changes;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: DiffArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    portreg::with_record_type!(ctx.registry(), R => diff::<R>(args, ctx, out))
}

fn diff<R: Record>(args: DiffArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    let from = store.resolve(R::REGISTRY, &args.from)?;
    let to = store.resolve(R::REGISTRY, &args.to)?;
    let changes = store.diff::<R>(from.seq, to.seq)?;
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
