//! The `portreg` binary: parses the arguments, runs the command (see `cmd`), and turns an
//! error into one line on standard error and a non-zero exit.

use clap::Parser;
use portreg::cli::Cli;
use std::process::ExitCode;

mod cmd;

// A batch allocates on its reading thread and frees on its storing one; glibc's malloc spent a
// quarter of the time on that, mimalloc almost none. Built without transparent huge pages
// (feature `no_thp`): asking for them made the kernel compact memory on page faults whenever
// free memory was fragmented, a third more time for an import. How soon freed memory goes
// back to the system is mimalloc's own setting, `MIMALLOC_PURGE_DELAY` (docs/design.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cmd::survive_file_size_limits();
    match cmd::run(Cli::parse()) {
        Ok(code) => code,
        Err(error) => {
            cmd::warn(format_args!("{error:#}"));
            ExitCode::FAILURE
        }
    }
}
