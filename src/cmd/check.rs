//! `portreg check FILE|- [--as-of DATE]`: a services(5) file against the registry. Exit 0
//! when every entry agrees, 1 when there are findings (as linters do), 2 on errors, a failure
//! to write the findings included.

use super::Context;
use anyhow::{Context as _, Result};
use portreg::check::RegistryIndex;
use portreg::check::services_file::read_services;
use portreg::cli::CheckArgs;
use portreg::output::check::{CheckedFile, findings};
use portreg::store::SnapshotRef;
use std::io::{self, Read, Write};
use std::process::ExitCode;

/// A services file is a few hundred kilobytes at most (iana-etc's, every IANA port, is 1 MB);
/// a cap keeps `check /dev/zero` from filling memory.
const MAX_FILE_BYTES: u64 = 64 << 20;

/// Errors exit 2, not main's 1: exit 1 says "findings". So the findings are written and
/// flushed here, where a failure can still be told apart (`out` reports a failure once, and
/// a closed pipe not at all, as for every command).
pub fn run(args: CheckArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    match check(args, ctx, out) {
        Ok(code) => Ok(code),
        Err(error) => {
            super::warn(format_args!("{error:#}"));
            Ok(ExitCode::from(2))
        }
    }
}

fn check(args: CheckArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    let reference = args.as_of.as_of.clone().unwrap_or(SnapshotRef::Latest);
    let snapshot = store.resolve(&reference)?;
    let bytes = read_file(&args.file)?;
    let index = RegistryIndex::at(
        store.port_versions()?,
        &store.registry_dates()?,
        snapshot.seq,
    );

    let lines = read_services(&bytes);
    let entries = lines.len();
    let found = index.check_lines(lines);
    let checked = CheckedFile {
        file: &args.file,
        entries,
        snapshot_id: snapshot.id,
        registry_date: &snapshot.registry_date,
    };
    findings(&mut *out, &found, &checked, args.format)
        .and_then(|()| out.flush())
        .context("cannot write the findings")?;
    Ok(if found.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The file's bytes (standard input for `-`), at most [`MAX_FILE_BYTES`].
fn read_file(file: &str) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let read = if file == "-" {
        io::stdin()
            .lock()
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
    };
    read.with_context(|| format!("cannot read {file}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        anyhow::bail!("cannot read {file}: larger than {MAX_FILE_BYTES} bytes");
    }
    Ok(bytes)
}
