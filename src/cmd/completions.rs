//! `portreg completions SHELL`.

use anyhow::Result;
use clap::CommandFactory;
use portreg::cli::{Cli, CompletionsArgs};
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: CompletionsArgs, out: &mut impl Write) -> Result<ExitCode> {
    clap_complete::generate(args.shell, &mut Cli::command(), "portreg", out);
    Ok(ExitCode::SUCCESS)
}
