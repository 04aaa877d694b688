//! `portreg show PORT|RANGE|NAME` and `portreg search TEXT`, now or `--as-of` a date.

use super::Context;
use anyhow::Result;
use portreg::cli::{AsOfArgs, SearchArgs, ShowArgs};
use portreg::lookup::Lookup;
use portreg::output;
use portreg::store::{RecordFilter, Seq, SnapshotRef, Store};
use std::io::Write;
use std::process::ExitCode;

pub fn show(args: ShowArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    let filter = args.filter;
    let seq = as_of_seq(&store, &filter.as_of)?;
    let lookup = args.what.with_protocol(filter.proto);
    let records = store.find_records(
        seq,
        &RecordFilter {
            lookup: Some(&lookup),
            text: None,
            assigned_only: filter.assigned,
        },
    )?;
    output::records(out, &records, filter.format)?;
    Ok(ExitCode::SUCCESS)
}

pub fn search(args: SearchArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    let filter = args.filter;
    let seq = as_of_seq(&store, &filter.as_of)?;
    // Any port, restricted to a protocol when one was asked for.
    let lookup = filter.proto.map(|protocol| Lookup::Ports {
        lo: 0,
        hi: portreg::lookup::MAX_PORT,
        protocol: Some(protocol),
    });
    let records = store.find_records(
        seq,
        &RecordFilter {
            lookup: lookup.as_ref(),
            text: Some(&args.text),
            assigned_only: filter.assigned,
        },
    )?;
    output::records(out, &records, filter.format)?;
    Ok(ExitCode::SUCCESS)
}

/// The place in history of the snapshot `--as-of` names (the latest without it).
pub fn as_of_seq(store: &Store, as_of: &AsOfArgs) -> Result<Seq> {
    let reference = as_of.as_of.clone().unwrap_or(SnapshotRef::Latest);
    Ok(store.resolve(&reference)?.seq)
}
