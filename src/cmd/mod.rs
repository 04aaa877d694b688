//! One module per subcommand: each reads its arguments, calls the library and renders the
//! answer. This one builds what they share and dispatches.

mod backfill;
mod changes;
mod check;
mod completions;
mod diff;
mod export;
mod feed;
mod fetch;
mod free;
mod history;
mod import;
mod man;
mod publish;
mod raw;
mod serve;
mod show;
mod snapshots;
mod sql;
mod stats;
mod status;
mod verify;
mod watch;

use anyhow::{Context as _, Result};
use portreg::cli::{Cli, Command};
use portreg::model::Registry;
use portreg::store::{Store, StoreError};
use std::cell::{RefCell, RefMut};
use std::fmt::Display;
use std::io::{self, BufWriter, StdoutLock, Write};
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What every command may need, built once.
pub struct Context {
    pub db_path: PathBuf,
    /// The registry `--registry` named, if it named one.
    pub registry_given: Option<Registry>,
    /// A read-only store kept open between commands (`serve` answers every request of a
    /// thread from one), lent to the queries instead of opening the file each time.
    pub kept_reader: Option<RefCell<Store>>,
}

/// The store a query reads: its own, or the one its context keeps open.
pub enum Reader<'a> {
    Opened(Store),
    Kept(RefMut<'a, Store>),
}

impl Deref for Reader<'_> {
    type Target = Store;

    fn deref(&self) -> &Store {
        match self {
            Reader::Opened(store) => store,
            Reader::Kept(store) => store,
        }
    }
}

impl DerefMut for Reader<'_> {
    fn deref_mut(&mut self) -> &mut Store {
        match self {
            Reader::Opened(store) => store,
            Reader::Kept(store) => store,
        }
    }
}

impl Context {
    /// The registry a command answers about: the one `--registry` named, else services.
    pub fn registry(&self) -> Registry {
        self.registry_given.unwrap_or(Registry::Services)
    }

    /// Opens the database for writing, creating it (and its directory) if needed. An upgrade
    /// of its schema says so first: it happens once, and takes seconds for a long history.
    pub fn open_store(&self) -> Result<Store> {
        self.create_parent_directory()?;
        let path = self.db_path.display();
        Store::open_upgrading(&self.db_path, |upgrade| {
            warn(format_args!(
                "upgrading the database {path} from schema {} to {}: once, and for a long history it takes some seconds",
                upgrade.from, upgrade.to
            ))
        })
        .map_err(|error| self.open_error(error))
    }

    /// Opens the database for queries: read-only, and never created. A database from an
    /// older portreg is migrated first (that is the one write a query may cause). A kept
    /// store is lent instead.
    pub fn open_reader(&self) -> Result<Reader<'_>> {
        if let Some(kept) = &self.kept_reader {
            let store = kept
                .try_borrow_mut()
                .map_err(|_| anyhow::anyhow!("the database is in use by this request already"))?;
            return Ok(Reader::Kept(store));
        }
        self.open_own_reader().map(Reader::Opened)
    }

    fn open_own_reader(&self) -> Result<Store> {
        if !self.database_exists() {
            anyhow::bail!(
                "no database at {}: run `portreg fetch` or `portreg import FILE` first, or give another with --db",
                self.db_path.display()
            );
        }
        match Store::open_read_only(&self.db_path) {
            Err(StoreError::Migration(_)) => self.open_store(),
            other => other.map_err(|error| self.open_error(error)),
        }
    }

    /// The one-line message for a database that cannot be opened.
    pub fn open_error(&self, error: StoreError) -> anyhow::Error {
        let path = self.db_path.display();
        if error.is_read_only() {
            anyhow::anyhow!(
                "cannot write to database {path}: the file or its directory is read-only"
            )
        } else {
            anyhow::Error::new(error).context(format!("cannot open database {path}"))
        }
    }

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
}

fn default_db_path() -> Result<PathBuf> {
    let data = dirs::data_dir()
        .context("no data directory for this user: give the database with --db or PORTREG_DB")?;
    Ok(data.join("portreg").join("portreg.sqlite3"))
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    let registry_given = cli.registry.map(Registry::from);
    let db_path = match cli.db {
        Some(path) => path,
        None => default_db_path()?,
    };
    let ctx = Context {
        db_path,
        registry_given,
        kept_reader: None,
    };
    let mut out = Stdout::new();
    let code = match cli.command {
        Command::Serve(args) => serve::run(args, &ctx)?,
        command => dispatch(command, &ctx, &mut out)?,
    };
    out.flush()?;
    Ok(code)
}

/// Runs a command with its output on `out` (`serve` runs the queries this way too).
pub fn dispatch(command: Command, ctx: &Context, out: &mut impl Write) -> Result<ExitCode> {
    let code = match command {
        Command::Import(args) => import::run(args, ctx, out)?,
        Command::Snapshots(args) => snapshots::run(args, ctx, out)?,
        Command::Diff(args) => diff::run(args, ctx, out)?,
        Command::Raw(args) => raw::run(args, ctx, out)?,
        Command::Fetch(args) => fetch::run(args, ctx, out)?,
        Command::Watch(args) => watch::run(args, ctx, out)?,
        Command::Status(args) => status::run(args, ctx, out)?,
        Command::Backfill(args) => backfill::run(args, ctx, out)?,
        Command::Changes(args) => changes::run(args, ctx, out)?,
        Command::Show(args) => show::show(args, ctx, out)?,
        Command::Search(args) => show::search(args, ctx, out)?,
        Command::History(args) => history::run(args, ctx, out)?,
        Command::Export(args) => export::run(args, ctx, out)?,
        Command::Sql(args) => sql::run(args, ctx, out)?,
        Command::Free(args) => free::run(args, ctx, out)?,
        Command::Check(args) => check::run(args, ctx, out)?,
        Command::Feed(args) => feed::run(args, ctx, out)?,
        Command::Stats(args) => stats::run(args, ctx, out)?,
        Command::Completions(args) => completions::run(args, out)?,
        Command::Man(args) => man::run(args, out)?,
        Command::Verify => verify::run(ctx, out)?,
        Command::Serve(_) => anyhow::bail!("serve runs on its own, not from a request"),
    };
    Ok(code)
}

/// Standard output, buffered, which a closed pipe (`portreg ... | head -1`) silences rather
/// than fails: what is left to print is dropped, and the command finishes its work and exits
/// as it would have. An import piped into `head` still stores every file.
pub struct Stdout {
    inner: BufWriter<StdoutLock<'static>>,
    closed: bool,
}

impl Stdout {
    fn new() -> Stdout {
        Stdout {
            inner: BufWriter::new(io::stdout().lock()),
            closed: false,
        }
    }

    /// A closed pipe ends the output quietly; any other failure (a full disk) is reported
    /// once, and what is left to print is dropped too, so the final flush does not report it
    /// again.
    fn closed_quietly<T>(&mut self, result: io::Result<T>, otherwise: T) -> io::Result<T> {
        match result {
            Err(error) => {
                self.closed = true;
                match error.kind() {
                    io::ErrorKind::BrokenPipe => Ok(otherwise),
                    _ => Err(error),
                }
            }
            ok => ok,
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let written = self.inner.write(buf);
        self.closed_quietly(written, buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let flushed = self.inner.flush();
        self.closed_quietly(flushed, ())
    }
}

/// A line on standard error: `portreg: MESSAGE`. Standard error may be closed too (`2>&1 |
/// head`): then the line is lost, and nothing else happens.
pub fn warn(message: impl Display) {
    if !QUIET.get() {
        let _ = writeln!(io::stderr().lock(), "portreg: {message}");
    }
}

thread_local! {
    /// Set on `serve`'s threads: a command's notes for a person at a terminal (the history
    /// starts later than asked, ...) are not a server's log.
    pub static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
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
