//! `portreg stats [--svg FILE]`: the registry's story per year, and its chart.

use super::Context;
use super::publish::write_atomically;
use anyhow::Result;
use portreg::cli::StatsArgs;
use portreg::output::{self, chart};
use portreg::stats;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

pub fn run(args: StatsArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    let story = portreg::with_record_type!(ctx.registry(), R => stats::story::<R>(&store)?);
    match args.svg.as_deref() {
        // One document on standard output: the chart instead of the table.
        Some(path) if path == Path::new("-") => {
            out.write_all(chart::svg(&story)?.as_bytes())?;
            return Ok(ExitCode::SUCCESS);
        }
        Some(path) => {
            let svg = chart::svg(&story)?;
            write_atomically(path, |file| file.write_all(svg.as_bytes()))?
        }
        None => {}
    }
    output::stats::years(out, &story.years, args.format)?;
    Ok(ExitCode::SUCCESS)
}
