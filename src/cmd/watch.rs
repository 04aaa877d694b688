//! `portreg watch --every 24h`: the fetch cycle forever, for machines without cron. SIGINT or
//! SIGTERM ends it between cycles (or during a wait); a second signal ends it at once.

use super::fetch::round;
use super::{Context, warn};
use anyhow::{Context as _, Result};
use portreg::cli::WatchArgs;
use portreg::http::sleep_unless_cancelled;
use signal_hook::consts::{SIGINT, SIGTERM};
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub fn run(args: WatchArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        // The second signal exits at once (the first one has set `stop`).
        signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop))
            .context("cannot install signal handlers")?;
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("cannot install signal handlers")?;
    }
    while !stop.load(Ordering::Relaxed) {
        // A failed cycle is reported and the next one tries again: that is what watch is for.
        round(&args.options, ctx, out, &stop)?;
        if !sleep_unless_cancelled(args.every, &stop) {
            break;
        }
    }
    if !args.options.quiet {
        warn("watch stopped");
    }
    Ok(ExitCode::SUCCESS)
}
