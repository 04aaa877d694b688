//! `portreg history 443/tcp`: every version of the matching records, with the dates each held.

use super::Context;
use anyhow::Result;
use portreg::cli::HistoryArgs;
use portreg::output;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: HistoryArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    if store.snapshot_count()? == 0 {
        return Err(portreg::store::StoreError::Empty.into());
    }
    let lookup = args.what.with_protocol(args.proto);
    let spans = store.versions_of(&lookup)?;
    output::history(out, &spans, args.format)?;
    Ok(ExitCode::SUCCESS)
}
