//! `portreg check FILE|- [--as-of DATE]`: a services(5) file against the port registry, or
//! with `--registry protocols` a protocols(5) file against the protocol numbers registry. Exit
//! 0 when every entry agrees, 1 when there are findings (as linters do), 2 on errors, a
//! failure to write the findings included.

use super::Context;
use anyhow::{Context as _, Result};
use portreg::check::protocols::{ProtocolIndex, read_protocols};
use portreg::check::services::RegistryIndex;
use portreg::check::services_file::read_services;
use portreg::cli::CheckArgs;
use portreg::input::read_capped_file;
use portreg::model::{ProtocolRecord, Registry};
use portreg::output::check::{CheckedFile, findings};
use std::io::Write;
use std::process::ExitCode;

/// A services or protocols file is a few hundred kilobytes at most (iana-etc's, every IANA port, is 1 MB);
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
    let registry = ctx.registry();
    let store = ctx.open_reader()?;
    let snapshot = store.as_of(registry, args.as_of.reference())?;
    let bytes = read_capped_file(&args.file, MAX_FILE_BYTES)
        .with_context(|| format!("cannot read {}", args.file))?
        .bytes;
    let checked = |entries| CheckedFile {
        file: &args.file,
        entries,
        snapshot: &snapshot,
    };
    let found_any = match registry {
        Registry::Services => {
            let index = RegistryIndex::at(
                store.port_versions()?,
                &store.registry_dates(registry)?,
                snapshot.seq,
            );
            let lines = read_services(&bytes);
            let checked = checked(lines.len());
            let found = index.check_lines(lines);
            findings(&mut *out, &found, &checked, args.format)
                .and_then(|()| out.flush())
                .context("cannot write the findings")?;
            !found.is_empty()
        }
        Registry::Protocols => {
            let versions = store.record_versions::<ProtocolRecord>()?;
            let index = ProtocolIndex::at(versions, &store.registry_dates(registry)?, snapshot.seq);
            let lines = read_protocols(&bytes);
            let checked = checked(lines.len());
            let found = index.check_lines(lines);
            findings(&mut *out, &found, &checked, args.format)
                .and_then(|()| out.flush())
                .context("cannot write the findings")?;
            !found.is_empty()
        }
    };
    Ok(if found_any {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
