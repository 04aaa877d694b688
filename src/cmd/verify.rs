//! `portreg verify`: exits 1 when anything is wrong, naming each problem on stdout.

use super::{Context, progress_bar};
use anyhow::Result;
use portreg::output;
use portreg::verify::verify;
use std::io::Write;
use std::process::ExitCode;

pub fn run(ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    let bar = progress_bar(0, "verifying");
    let report = verify(&store, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64)
    })?;
    bar.finish_and_clear();
    output::verify::report(out, &report)?;
    Ok(if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
