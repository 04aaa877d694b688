//! `portreg export services|csv|json [--as-of DATE] [-o FILE]`.

use super::Context;
use super::publish::write_atomically;
use super::show::as_of_seq;
use anyhow::Result;
use portreg::cli::{ExportArgs, ExportKind};
use portreg::export::{ExportSource, write_iana_csv, write_services};
use portreg::output::{self, Format};
use portreg::store::StoreError;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: ExportArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    let seq = as_of_seq(&store, &args.as_of)?;
    let snapshot = store.snapshot_at_seq(seq)?.ok_or(StoreError::Empty)?;
    let records = store.records_at(seq)?;
    let write = |sink: &mut dyn Write| -> std::io::Result<()> {
        let mut sink = std::io::BufWriter::new(sink);
        match args.kind {
            ExportKind::Services => {
                let source = ExportSource {
                    snapshot_id: snapshot.id,
                    registry_date: &snapshot.registry_date,
                    sha256: &snapshot.sha256,
                };
                write_services(&mut sink, &records, &source)?;
            }
            ExportKind::Csv => write_iana_csv(&mut sink, &records)?,
            ExportKind::Json => output::records(&mut sink, &records, Format::Json)?,
        }
        sink.flush()
    };
    match &args.output {
        None => write(out)?,
        Some(path) => write_atomically(path, |file| write(file))?,
    }
    Ok(ExitCode::SUCCESS)
}
