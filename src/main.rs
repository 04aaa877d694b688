use clap::Parser;
use portreg::cli::Cli;
use std::process::ExitCode;

mod cmd;

// The import pipeline allocates on one thread and frees on another; glibc malloc spends a
// quarter of the time on that, mimalloc almost none.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
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
