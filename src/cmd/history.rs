//! `portreg history 443/tcp`: every version of the matching records, with the dates each held.

use super::Context;
use anyhow::Result;
use portreg::cli::HistoryArgs;
use portreg::model::Record;
use portreg::output;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: HistoryArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    portreg::with_record_type!(ctx.registry(), R => history::<R>(args, ctx, out))
}

fn history<R: Record>(args: HistoryArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    if store.snapshot_count(R::REGISTRY)? == 0 {
        return Err(store.empty(R::REGISTRY)?.into());
    }
    let lookup = args.what.with_protocol(args.proto).for_record::<R>()?;
    let spans = store.versions_of::<R>(&lookup)?;
    output::history(out, &spans, args.format)?;
    Ok(ExitCode::SUCCESS)
}
