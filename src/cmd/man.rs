//! `portreg man`: the man page, made from the command line's own definition (as the
//! completions are), for packagers.

use anyhow::{Context as _, Result};
use clap::CommandFactory;
use portreg::cli::{Cli, ManArgs};
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: ManArgs, out: &mut impl Write) -> Result<ExitCode> {
    let command = Cli::command();
    match args.out_dir {
        None => clap_mangen::Man::new(command).render(out)?,
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(command, &dir)
                .with_context(|| format!("cannot write the man pages in {}", dir.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
