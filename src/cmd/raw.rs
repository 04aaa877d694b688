//! `portreg raw SNAPSHOT`: a snapshot's exact original bytes.

use super::Context;
use anyhow::{Context as _, Result};
use portreg::cli::RawArgs;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: RawArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let mut store = ctx.open_reader()?;
    let snapshot = store.resolve(ctx.registry(), &args.snapshot)?;
    let bytes = store
        .raw_bytes(snapshot.id)
        .with_context(|| format!("cannot read the bytes of snapshot {}", snapshot.id))?;
    out.write_all(&bytes)?;
    Ok(ExitCode::SUCCESS)
}
