use clap::Parser;
use portreg::cli::Cli;
use std::process::ExitCode;

mod cmd;

// The import pipeline allocates on one thread and frees on another; glibc malloc spends a
// quarter of the time on that, mimalloc almost none. Built without transparent huge pages
// (feature `no_thp`): asking for them made the kernel compact memory on page faults whenever
// free memory was fragmented (after any big process), a third more time for a first import,
// and a whole-history import peaked at 80 MB instead of 55 MB.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (not among the sys crate's named constants).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // Memory left free for 10 ms goes back to the system. mimalloc waits 1 s by default, so a
    // batch import kept freed document buffers around: a peak of 115 MB instead of 80 MB for
    // the whole history, at no measurable cost in time. MIMALLOC_PURGE_DELAY still wins.
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: called before any other thread exists; the option only tunes purging.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10) };
    }
    // SQLite counts every allocation it makes under a global lock, for statistics portreg
    // never reads: 4% of a first import's CPU time.
    // SAFETY: called before SQLite is used and before any other thread exists. Should SQLite be
    // initialised already, the call fails and changes nothing.
    unsafe {
        rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int)
    };
    cmd::survive_file_size_limits();
    let cli = Cli::parse();
    match cmd::run(cli) {
        Ok(code) => code,
        Err(error) if cmd::is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("portreg: {error:#}");
            ExitCode::FAILURE
        }
    }
}
