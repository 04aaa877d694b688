//! `portreg verify`'s report: a line per problem, then one that sums up.

use crate::verify::VerifyReport;
use std::io::{self, Write};

/// Each problem on a line (`snapshot N: ...` or `database: ...`), then how it went.
pub fn report(out: &mut impl Write, report: &VerifyReport) -> io::Result<()> {
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
        )
    } else {
        writeln!(
            out,
            "{} problems in {} snapshots checked",
            report.problems.len(),
            report.snapshots_checked
        )
    }
}
