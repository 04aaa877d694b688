//! `portreg completions SHELL`.

use anyhow::Result;
use clap::CommandFactory;
use portreg::cli::{Cli, CompletionsArgs};
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: CompletionsArgs, out: &mut impl Write) -> Result<ExitCode> {
    // clap_complete panics when its writer fails (a full disk): it writes into memory here,
    // and the error, if any, comes from our own write.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "portreg", &mut script);
    out.write_all(&script)?;
    Ok(ExitCode::SUCCESS)
}
