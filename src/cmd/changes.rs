//! `portreg changes --since DATE`: from the stored history when it reaches back to DATE, else
//! (or with `--source registry`) from the registry's own registration and modification dates.

use super::{Context, warn};
use anyhow::Result;
use portreg::changes::{ChangesError, Compared, changes_since};
use portreg::cli::{ChangeFormat, ChangesArgs};
use portreg::model::Record;
use portreg::output::{self, Format};
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

pub fn run(args: ChangesArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    portreg::with_record_type!(ctx.registry(), R => changes::<R>(args, ctx, out))
}

fn changes<R: Record>(args: ChangesArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    let answer = match changes_since::<R>(&store, args.since, args.source.into()) {
        Ok(answer) => answer,
        Err(error @ ChangesError::HistoryStartsLater { .. }) => {
            anyhow::bail!("{error}; use --source registry to answer from the registry's own dates")
        }
        Err(ChangesError::Store(error)) => return Err(error.into()),
    };
    if let Compared::RegistryDates {
        since,
        fell_back: Some(oldest),
        ..
    } = &answer.compared
    {
        warn(format_args!(
            "the stored history starts after {since} (oldest snapshot: {oldest}), so this answer comes from the registry's own registration and modification dates"
        ));
    }
    let title = output::grouped::title(&answer.compared);
    match args.format {
        ChangeFormat::Table => {
            writeln!(out, "{title}:")?;
            let color = output::color_wanted(std::io::stdout().is_terminal());
            output::report(out, &answer.lines, color)?;
        }
        ChangeFormat::Markdown => output::grouped::markdown(out, &title, &answer.lines)?,
        ChangeFormat::Json => output::changes(out, &answer.changes, Format::Json)?,
        ChangeFormat::Csv => output::changes(out, &answer.changes, Format::Csv)?,
    }
    Ok(ExitCode::SUCCESS)
}
