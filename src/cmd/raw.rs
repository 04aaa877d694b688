//! `portreg raw SNAPSHOT`: a snapshot's exact original bytes.

use super::Context;
use anyhow::{Context as _, Result};
use portreg::cli::RawArgs;
use portreg::store::SnapshotRef;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: RawArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let mut store = ctx.open_reader()?;
    // An id names one document whichever registry it is of; `latest` and dates need one.
    let by_id = match args.snapshot {
        SnapshotRef::Id(id) if ctx.registry_given.is_none() => store.snapshot_by_id(id)?,
        _ => None,
    };
    let snapshot = match by_id {
        Some(snapshot) => snapshot,
        None => store.resolve(ctx.registry(), &args.snapshot)?,
    };
    let bytes = store
        .raw_bytes(snapshot.id)
        .with_context(|| format!("cannot read the bytes of snapshot {}", snapshot.id))?;
    out.write_all(&bytes)?;
    Ok(ExitCode::SUCCESS)
}
