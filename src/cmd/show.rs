//! `portreg show PORT|RANGE|NAME` and `portreg search TEXT`, now or `--as-of` a date.

use super::Context;
use anyhow::Result;
use portreg::cli::{SearchArgs, ShowArgs};
use portreg::lookup::Lookup;
use portreg::model::{PortRange, Record};
use portreg::output;
use portreg::store::RecordFilter;
use std::io::Write;
use std::process::ExitCode;

pub fn show(args: ShowArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    portreg::with_record_type!(ctx.registry(), R => show_records::<R>(args, ctx, out))
}

fn show_records<R: Record>(
    args: ShowArgs,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    let filter = args.filter;
    let seq = store.as_of(R::REGISTRY, filter.as_of.reference())?.seq;
    let lookup = args.what.with_protocol(filter.proto).for_record::<R>()?;
    let records = store.find_records::<R>(
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
    portreg::with_record_type!(ctx.registry(), R => search_records::<R>(args, ctx, out))
}

fn search_records<R: Record>(
    args: SearchArgs,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    let filter = args.filter;
    let seq = store.as_of(R::REGISTRY, filter.as_of.reference())?.seq;
    // Any port, restricted to a protocol when one was asked for.
    let lookup = filter
        .proto
        .map(|protocol| {
            Lookup::Ports {
                ports: PortRange::ALL,
                protocol: Some(protocol),
            }
            .for_record::<R>()
        })
        .transpose()?;
    let records = store.find_records::<R>(
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
