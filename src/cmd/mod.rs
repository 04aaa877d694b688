//! One module per subcommand; this one builds the shared context and dispatches.

mod backfill;
mod changes;
mod completions;
mod diff;
mod export;
mod fetch;
mod history;
mod import;
mod raw;
mod show;
mod snapshots;
mod sql;
mod status;
mod verify;
mod watch;

use anyhow::{Context as _, Result};
use portreg::cli::{Cli, Command};
use portreg::store::{Store, StoreError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What every command may need, built once.
pub struct Context {
    pub db_path: PathBuf,
}

impl Context {
    pub fn open_store(&self) -> Result<Store> {
        self.create_parent_directory()?;
        match Store::open(&self.db_path) {
            Err(error) if error.is_read_only() => Err(anyhow::anyhow!(
                "cannot write to database {}: the file or its directory is read-only",
                self.db_path.display()
            )),
            other => {
                other.with_context(|| format!("cannot open database {}", self.db_path.display()))
            }
        }
    }
}

impl Context {
    pub fn create_parent_directory(&self) -> Result<()> {
        if let Some(parent) = self.db_path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        Ok(())
    }

    /// Whether the database file, or a write-ahead log left of one, is there (a dangling
    /// link counts: creating the file would follow it).
    pub fn database_exists(&self) -> bool {
        let mut wal = self.db_path.clone().into_os_string();
        wal.push("-wal");
        [self.db_path.as_path(), Path::new(&wal)]
            .iter()
            .any(|path| path.symlink_metadata().is_ok())
    }

    /// Opens the database for queries: read-only, and never created. A database from an
    /// older portreg is migrated first (that is the one write a query may cause).
    pub fn open_reader(&self) -> Result<Store> {
        if !self.db_path.exists() {
            anyhow::bail!(
                "no database at {} yet: run `portreg fetch` or `portreg import FILE` first",
                self.db_path.display()
            );
        }
        match Store::open_read_only(&self.db_path) {
            Err(StoreError::Migration(_)) => self.open_store(),
            other => {
                other.with_context(|| format!("cannot open database {}", self.db_path.display()))
            }
        }
    }
}

fn default_db_path() -> Result<PathBuf> {
    let data = dirs::data_dir()
        .context("no data directory for this user: give the database with --db or PORTREG_DB")?;
    Ok(data.join("portreg").join("portreg.sqlite3"))
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    let db_path = match cli.db {
        Some(path) => path,
        None => default_db_path()?,
    };
    let ctx = Context { db_path };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let code = match cli.command {
        Command::Import(args) => import::run(args, &ctx, &mut out)?,
        Command::Snapshots(args) => snapshots::run(args, &ctx, &mut out)?,
        Command::Diff(args) => diff::run(args, &ctx, &mut out)?,
        Command::Raw(args) => raw::run(args, &ctx, &mut out)?,
        Command::Fetch(args) => fetch::run(args, &ctx, &mut out)?,
        Command::Watch(args) => watch::run(args, &ctx, &mut out)?,
        Command::Status(args) => status::run(args, &ctx, &mut out)?,
        Command::Backfill(args) => backfill::run(args, &ctx, &mut out)?,
        Command::Changes(args) => changes::run(args, &ctx, &mut out)?,
        Command::Show(args) => show::show(args, &ctx, &mut out)?,
        Command::Search(args) => show::search(args, &ctx, &mut out)?,
        Command::History(args) => history::run(args, &ctx, &mut out)?,
        Command::Export(args) => export::run(args, &ctx, &mut out)?,
        Command::Sql(args) => sql::run(args, &ctx, &mut out)?,
        Command::Completions(args) => completions::run(args, &mut out)?,
        Command::Verify => verify::run(&ctx, &mut out)?,
    };
    out.flush()?;
    Ok(code)
}

/// A file-size limit (`ulimit -f`) reached while writing should fail that write, so SQLite rolls
/// the transaction back and portreg says so, rather than kill the process with SIGXFSZ.
pub fn survive_file_size_limits() {
    let ignored = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Without the handler the default (terminate) stays: no worse than before.
    let _ = signal_hook::flag::register(signal_hook::consts::SIGXFSZ, ignored);
}

/// A progress bar with count and ETA on stderr, drawn only on a terminal (cron and pipes get
/// nothing from it).
pub fn progress_bar(total: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total),
        indicatif::ProgressDrawTarget::stderr(),
    );
    let style = indicatif::ProgressStyle::with_template(
        "{msg} {bar:30} {pos}/{len} [{elapsed_precise}, ETA {eta}]",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(what.to_string());
    bar
}

/// `portreg diff ... | head` closes the pipe early: that is not an error.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
