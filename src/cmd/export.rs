//! `portreg export services|csv|json [--as-of DATE] [-o FILE]`.

use super::Context;
use super::show::as_of_seq;
use anyhow::{Context as _, Result};
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
        Some(path) => {
            // A temp file in the same directory, renamed into place: readers of the target
            // never see half a file, and a full disk leaves the old one intact.
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let mut temp = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("cannot write in {}", dir.display()))?;
            write(temp.as_file_mut())
                .and_then(|()| temp.as_file().sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            temp.persist(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
