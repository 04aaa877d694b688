//! `portreg free [RANGE] [--proto P]... [--never-assigned] [--as-of DATE]`: the ports free to
//! ask IANA for, as maximal runs.

use super::Context;
use anyhow::Result;
use portreg::cli::{FreeArgs, USER_PORTS};
use portreg::free::{ever_taken, free_ports, wanted_protocols};
use portreg::model::Registry;
use portreg::output::free::{FreeQuestion, free};
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: FreeArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    if ctx.registry() != Registry::Services {
        anyhow::bail!(
            "free finds free ports, in the port registry: run it without --registry {}",
            ctx.registry()
        );
    }
    let store = ctx.open_reader()?;
    let snapshot = store.as_of(Registry::Services, args.as_of.reference())?;
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
    let runs = ports.runs_within(span);
    let question = FreeQuestion {
        ports: span,
        protocols: &protocols,
        never_assigned: args.never_assigned,
        snapshot: &snapshot,
    };
    free(out, &runs, &question, args.format)?;
    Ok(ExitCode::SUCCESS)
}
