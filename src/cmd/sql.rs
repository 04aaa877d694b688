//! `portreg sql "SELECT ..."` / `portreg sql --file F --param k=v`: one read-only statement.

use super::Context;
use anyhow::{Context as _, Result};
use portreg::cli::SqlArgs;
use portreg::output;
use portreg::store::{QueryLimits, SqlError};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
    // Ctrl-C stops the query, not the process, so the message can say what happened; once
    // the flag is set (by a first Ctrl-C, or when the query is over) Ctrl-C stops the process
    // as it always does.
    let cancel = Arc::new(AtomicBool::new(false));
    let sigint = signal_hook::consts::SIGINT;
    signal_hook::flag::register_conditional_default(sigint, Arc::clone(&cancel))
        .and_then(|_| signal_hook::flag::register(sigint, Arc::clone(&cancel)))
        .context("cannot catch Ctrl-C")?;
    let limits = QueryLimits {
        timeout: Some(args.timeout).filter(|t| !t.is_zero()),
        cancel: Some(Arc::clone(&cancel)),
    };
    let answer = store.run_sql(&sql, &args.param, &limits);
    cancel.store(true, Ordering::Relaxed);
    let answer = match answer {
        Ok(answer) => answer,
        Err(stopped @ (SqlError::TimedOut(_) | SqlError::Cancelled)) => return Err(stopped.into()),
        Err(refused) => {
            return Err(anyhow::Error::new(refused).context(format!("{origin} was refused")));
        }
    };
    output::sql(out, &answer, args.format)?;
    Ok(ExitCode::SUCCESS)
}
