//! `portreg feed [--limit N] [-o FILE]`: the history as an Atom feed, for feed readers and for
//! publishing from cron.

use super::Context;
use super::publish::write_atomically;
use anyhow::Result;
use portreg::cli::FeedArgs;
use portreg::feed::Feed;
use portreg::model::Record;
use portreg::output::atom::atom;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

pub fn run(args: FeedArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    portreg::with_record_type!(ctx.registry(), R => feed::<R>(args, ctx, out))
}

fn feed<R: Record>(args: FeedArgs, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let store = ctx.open_reader()?;
    let feed = Feed::<R>::load(&store, args.limit)?;
    match &args.output {
        None => atom(&feed, out)?,
        Some(path) => publish(&feed, path)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the feed to `path` for a web server to serve. The same feed as the file holds leaves
/// the file untouched, its modification time too, so the server's Last-Modified and ETag stay
/// and feed readers polling it get "304 Not Modified". Otherwise it is replaced whole.
fn publish<R: Record>(feed: &Feed<R>, path: &Path) -> Result<()> {
    let mut xml = Vec::new();
    atom(feed, &mut xml)?;
    if std::fs::read(path).is_ok_and(|published| published == xml) {
        return Ok(());
    }
    write_atomically(path, |file| file.write_all(&xml))
}
