//! `portreg verify`: exits 1 when anything is wrong, naming each problem on stdout.

use super::{Context, progress_bar};
use anyhow::Result;
use portreg::verify::verify;
use std::io::Write;
use std::process::ExitCode;

pub fn run(ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    let bar = progress_bar(store.snapshot_count()? as u64, "verifying");
    let report = verify(&store, |done, _| bar.set_position(done as u64))?;
    bar.finish_and_clear();
    for problem in &report.problems {
        match problem.snapshot_id {
            Some(id) => writeln!(out, "snapshot {id}: {}", problem.what)?,
            None => writeln!(out, "database: {}", problem.what)?,
        }
    }
    if report.problems.is_empty() {
        writeln!(
            out,
            "verified {} snapshots: every one gives back exactly its bytes' records and people; SQLite integrity ok",
            report.snapshots_checked
        )?;
        Ok(ExitCode::SUCCESS)
    } else {
        writeln!(
            out,
            "{} problems in {} snapshots checked",
            report.problems.len(),
            report.snapshots_checked
        )?;
        Ok(ExitCode::FAILURE)
    }
}
