use clap::Parser;
use portreg::cli::Cli;
use std::process::ExitCode;

mod cmd;

// The import pipeline allocates on one thread and frees on another; glibc malloc spends a
// quarter of the time on that, mimalloc almost none.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (not among the sys crate's named constants).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> ExitCode {
    // Memory left free for 100 ms goes back to the system (mimalloc waits 1 s by default, so a
    // batch import kept every freed document buffer: 115 MB instead of 95 MB at the peak). A
    // document takes about 20 ms, so the buffers a batch reuses are not given back.
    // SAFETY: called before any other thread exists; the option only tunes purging.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 100) };
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
