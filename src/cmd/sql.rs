//! `portreg sql "SELECT ..."` / `portreg sql --file F --param k=v`: one read-only statement.

use super::Context;
use anyhow::{Context as _, Result};
use portreg::cli::SqlArgs;
use portreg::output;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: SqlArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let (sql, origin) = match (&args.query, &args.file) {
        (_, Some(file)) => (
            std::fs::read_to_string(file)
                .with_context(|| format!("cannot read {}", file.display()))?,
            file.display().to_string(),
        ),
        (Some(query), None) => (query.clone(), "the query".to_string()),
        (None, None) => unreachable!("clap requires a query or --file"),
    };
    let store = ctx.open_reader()?;
    let answer = store
        .run_sql(&sql, &args.param)
        .with_context(|| format!("{origin} was refused"))?;
    output::sql(out, &answer, args.format)?;
    Ok(ExitCode::SUCCESS)
}
