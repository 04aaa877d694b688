//! `portreg export services|csv|protocols|json [--as-of DATE] [-o FILE]`.

use super::Context;
use super::publish::write_atomically;
use anyhow::Result;
use portreg::cli::{ExportArgs, ExportKind};
use portreg::model::{ProtocolRecord, ServiceRecord};
use portreg::output::{self, Format};
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

pub fn run(args: ExportArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    // services, csv and protocols say their registry; json is of the one --registry names.
    let registry = match (args.kind.registry(), ctx.registry_given) {
        (Some(own), Some(given)) if own != given => anyhow::bail!(
            "this export is made from the {own} registry, not from {given}: leave out --registry"
        ),
        (Some(own), _) => own,
        (None, _) => ctx.registry(),
    };
    let store = ctx.open_reader()?;
    let snapshot = store.as_of(registry, args.as_of.reference())?;
    let path = args.output.as_deref();
    match args.kind {
        ExportKind::Services => {
            let records = store.records_at::<ServiceRecord>(snapshot.seq)?;
            emit(out, path, |sink| {
                output::services::services(sink, &records, &snapshot).map(drop)
            })?
        }
        ExportKind::Csv => {
            let records = store.records_at::<ServiceRecord>(snapshot.seq)?;
            emit(out, path, |sink| output::services::iana_csv(sink, &records))?
        }
        ExportKind::Protocols => {
            let records = store.records_at::<ProtocolRecord>(snapshot.seq)?;
            emit(out, path, |sink| {
                output::protocols::protocols(sink, &records, &snapshot).map(drop)
            })?
        }
        ExportKind::Json => portreg::with_record_type!(registry, R => {
            let records = store.records_at::<R>(snapshot.seq)?;
            emit(out, path, |sink| output::records(sink, &records, Format::Json))?
        }),
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the export to `path` (atomically: a temp file renamed into place), or to `out`.
fn emit(
    out: &mut impl Write,
    path: Option<&Path>,
    write: impl Fn(&mut io::BufWriter<&mut dyn Write>) -> io::Result<()>,
) -> Result<()> {
    let buffered = |sink: &mut dyn Write| -> io::Result<()> {
        let mut sink = io::BufWriter::new(sink);
        write(&mut sink)?;
        sink.flush()
    };
    match path {
        None => Ok(buffered(&mut *out)?),
        Some(path) => write_atomically(path, |file| buffered(file)),
    }
}
