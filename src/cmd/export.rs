//! `portreg export services|csv|json [--as-of DATE] [-o FILE]`.

use super::Context;
use super::publish::write_atomically;
use anyhow::Result;
use portreg::cli::{ExportArgs, ExportKind};
use portreg::output::{self, Format};
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: ExportArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    let snapshot = store.as_of(args.as_of.reference())?;
    let records = store.records_at(snapshot.seq)?;
    let write = |sink: &mut dyn Write| -> std::io::Result<()> {
        let mut sink = std::io::BufWriter::new(sink);
        match args.kind {
            ExportKind::Services => {
                output::services::services(&mut sink, &records, &snapshot)?;
            }
            ExportKind::Csv => output::services::iana_csv(&mut sink, &records)?,
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
