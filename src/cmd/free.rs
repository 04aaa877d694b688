//! `portreg free [RANGE] [--proto P]... [--never-assigned] [--as-of DATE]`: the ports free to
//! ask IANA for, as maximal runs.

use super::Context;
use anyhow::Result;
use portreg::cli::{FreeArgs, USER_PORTS};
use portreg::free::{ever_taken, free_ports, wanted_protocols};
use portreg::output::free::{FreeQuestion, free};
use portreg::store::SnapshotRef;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: FreeArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    let reference = args.as_of.as_of.clone().unwrap_or(SnapshotRef::Latest);
    let snapshot = store.resolve(&reference)?;
    let span = args.range.unwrap_or(USER_PORTS);
    let protocols = wanted_protocols(&args.proto);
    // One read of the history's port-holding versions serves both questions: the snapshot's
    // records are the versions holding at its place.
    let versions = store.port_versions()?;
    let at = versions
        .iter()
        .filter(|v| v.holds_at(snapshot.seq))
        .map(|v| &v.record);
    let mut ports = free_ports(at, &protocols);
    if args.never_assigned {
        ports.subtract(&ever_taken(versions.iter().map(|v| &v.record), &protocols));
    }
    let runs = ports.runs_within(span.first, span.last);
    let question = FreeQuestion {
        first: span.first,
        last: span.last,
        protocols: &protocols,
        never_assigned: args.never_assigned,
        snapshot_id: snapshot.id,
        registry_date: &snapshot.registry_date,
    };
    free(out, &runs, &question, args.format)?;
    Ok(ExitCode::SUCCESS)
}
