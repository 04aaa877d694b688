//! The `portreg` binary: parses the arguments, runs the command (see `cmd`), and turns an
//! error into one line on standard error and a non-zero exit.

use clap::Parser;
use portreg::cli::Cli;
use std::process::ExitCode;

mod cmd;

// A batch allocates on its reading thread and frees on its storing one; glibc's malloc spent a
// quarter of the time on that, mimalloc almost none. Built without transparent huge pages
// (feature `no_thp`): asking for them made the kernel compact memory on page faults whenever
// free memory was fragmented, a third more time for an import.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h's `mi_option_t` (15 since it was `reset_delay`; the
/// sys crate names only some options).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Memory left free for 10 ms goes back to the system. A batch frees a document's worth of
/// memory per version; with mimalloc's longer default the whole history peaked at 72 MB
/// instead of 55 MB, at no measurable cost in time. `MIMALLOC_PURGE_DELAY` still wins.
fn return_freed_memory_soon() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: called first in main, before any other thread exists; the option only tunes
        // when freed pages are returned.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10) };
    }
}

fn main() -> ExitCode {
    return_freed_memory_soon();
    cmd::survive_file_size_limits();
    match cmd::run(Cli::parse()) {
        Ok(code) => code,
        Err(error) => {
            cmd::warn(format_args!("{error:#}"));
            ExitCode::FAILURE
        }
    }
}
