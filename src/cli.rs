//! The command line, in one place so help, completions and a man page come from it.

use crate::changes::ChangeSource;
use crate::lookup::{Lookup, SinceDate};
use crate::model::{PortRange, Registry, parse_protocol};
use crate::output::{Format, ObjectFormat};
use crate::store::SnapshotRef;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

/// Keeps the full history of IANA's port number and protocol number registries in SQLite.
#[derive(Debug, Parser)]
#[command(name = "portreg", version, about)]
pub struct Cli {
    /// The database file [default: portreg.sqlite3 in the user's data directory]
    #[arg(long, global = true, env = "PORTREG_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// The registry to read: services (port numbers) or protocols (protocol numbers)
    /// [default: services; `fetch` without it: every registry the database keeps]
    #[arg(
        long,
        global = true,
        env = "PORTREG_REGISTRY",
        value_enum,
        value_name = "REGISTRY"
    )]
    pub registry: Option<RegistryArg>,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The registry asked for, services when none was.
    pub fn registry(&self) -> Registry {
        self.registry.map_or(Registry::Services, Registry::from)
    }
}

/// The registries, as `--registry` names them: services, the Service Name and Transport
/// Protocol Port Number Registry (`/etc/services`); protocols, the Assigned Internet Protocol
/// Numbers (`/etc/protocols`). `import` tells a document's registry by itself, and `fetch`
/// without `--registry` fetches every registry the database keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RegistryArg {
    Services,
    Protocols,
}

impl From<RegistryArg> for Registry {
    fn from(registry: RegistryArg) -> Registry {
        match registry {
            RegistryArg::Services => Registry::Services,
            RegistryArg::Protocols => Registry::Protocols,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Store registry documents (.xml, .xml.gz, or - for standard input) as snapshots
    Import(ImportArgs),
    /// List the stored snapshots, oldest first, with their changes against the one before
    Snapshots(SnapshotsArgs),
    /// Show what changed between two snapshots
    Diff(DiffArgs),
    /// Write a snapshot's exact original bytes to standard output
    Raw(RawArgs),
    /// Download the registries from IANA and store what changed (made for cron)
    Fetch(FetchArgs),
    /// Fetch again and again, every DURATION, until stopped (SIGINT or SIGTERM)
    Watch(WatchArgs),
    /// When the registry was last checked and last changed, and whether the last fetch failed
    Status(StatusArgs),
    /// Fill the history with old versions from the Internet Archive's captures of the registry
    Backfill(BackfillArgs),
    /// What changed since a date: from the registry as of DATE to the latest snapshot
    Changes(ChangesArgs),
    /// What a port, a port range or a service name is (now, or as of a date); with
    /// --registry protocols, a protocol number, a range or a keyword
    Show(ShowArgs),
    /// Records whose name, description, assignee or contact contains TEXT (any case)
    Search(SearchArgs),
    /// Every version of the matching records across all snapshots, with the dates each held
    History(HistoryArgs),
    /// Write a snapshot as a services(5) or protocols(5) file, in IANA's CSV layout, or as
    /// JSON records
    Export(ExportArgs),
    /// Run one read-only SQL query on the database (schema: docs/design.md)
    Sql(SqlArgs),
    /// Check the database: SQLite's integrity, and every snapshot's raw bytes re-parsed
    /// against the stored history (exit 1 on any mismatch)
    Verify,
    /// Ports free to ask IANA for: Unassigned for every protocol asked, and with
    /// --never-assigned never anything else in the stored history
    Free(FreeArgs),
    /// Check a services(5) file (/etc/services, or - for standard input) against the registry,
    /// or with --registry protocols a protocols(5) file; exit 1 when an entry disagrees with
    /// it, 2 on errors
    Check(CheckArgs),
    /// Write an Atom feed of the history: one entry per snapshot, newest first
    Feed(FeedArgs),
    /// The registry's story per year: snapshots, changes, records; --svg draws it
    Stats(StatsArgs),
    /// Print shell completions (e.g. `portreg completions bash > /etc/bash_completion.d/portreg`)
    Completions(CompletionsArgs),
    /// Print the man page in roff (`portreg man > portreg.1`), or write one per command
    Man(ManArgs),
    /// Answer over HTTP, read-only: the queries' JSON under /api/v1/, the feed, the chart, the
    /// exports, raw bytes and a page at /, on 127.0.0.1:8080 unless told where
    Serve(ServeArgs),
}

/// Where `changes` finds its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ChangeSourceArg {
    /// The stored history when it reaches back to DATE, else the registry's own dates.
    Auto,
    /// Only the stored history: the diff from the snapshot of DATE to the latest.
    Observed,
    /// Only the registry's own dates: latest records registered or modified since DATE.
    Registry,
}

impl From<ChangeSourceArg> for ChangeSource {
    fn from(source: ChangeSourceArg) -> ChangeSource {
        match source {
            ChangeSourceArg::Auto => ChangeSource::Auto,
            ChangeSourceArg::Observed => ChangeSource::Observed,
            ChangeSourceArg::Registry => ChangeSource::Registry,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ChangesArgs {
    /// YYYY, YYYY-MM or YYYY-MM-DD (its first day)
    #[arg(long, value_name = "DATE")]
    pub since: SinceDate,
    #[arg(long, value_enum, default_value = "auto")]
    pub source: ChangeSourceArg,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ChangeFormat,
}

/// How `diff` and `changes` print: the list formats, or Markdown for chat, issues and email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ChangeFormat {
    /// A table for people
    Table,
    /// A JSON array of changes, as docs/data-model.md defines them
    Json,
    /// CSV with a header row
    Csv,
    /// Grouped as `changes` groups its table, in Markdown, for pasting into chat, issues and email
    Markdown,
}

impl ChangeFormat {
    /// The list format it is, if it is one (Markdown is not).
    pub fn as_list(self) -> Option<Format> {
        match self {
            ChangeFormat::Table => Some(Format::Table),
            ChangeFormat::Json => Some(Format::Json),
            ChangeFormat::Csv => Some(Format::Csv),
            ChangeFormat::Markdown => None,
        }
    }
}

/// The User Ports, where a new service asks IANA for a number (RFC 6335).
pub const USER_PORTS: PortRange = PortRange {
    first: 1024,
    last: 49151,
};

#[derive(Debug, clap::Args)]
pub struct FreeArgs {
    /// A port or a range of ports [default: the User Ports, 1024-49151]
    #[arg(value_name = "RANGE")]
    pub range: Option<PortRange>,
    /// Free for this protocol (repeat for several) [default: both tcp and udp]
    #[arg(long, value_parser = parse_protocol, value_name = "PROTOCOL")]
    pub proto: Vec<String>,
    /// Only ports that no stored snapshot ever gave to anything but Unassigned
    #[arg(long)]
    pub never_assigned: bool,
    #[command(flatten)]
    pub as_of: AsOfArgs,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// A services(5) file (a protocols(5) file with --registry protocols), or - for standard
    /// input
    #[arg(value_name = "FILE")]
    pub file: String,
    #[command(flatten)]
    pub as_of: AsOfArgs,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct FeedArgs {
    /// The newest N snapshots (1 or more; more than the history holds gives them all)
    #[arg(long, value_name = "N", default_value = "20", value_parser = parse_limit)]
    pub limit: usize,
    /// Write to this file (atomically: a temp file renamed into place) instead of stdout
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// A feed's entry count: an empty feed is refused (Atom needs an `<updated>`, and it would
/// tell subscribers nothing).
fn parse_limit(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("a feed needs at least 1 entry".to_string()),
        Ok(limit) => Ok(limit),
        Err(_) => Err(format!("{text:?} is not a number of entries")),
    }
}

#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// Also draw the registry's story as an SVG chart into FILE (replaced atomically), or with
    /// `-` on standard output instead of the table
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

/// The snapshot a query answers from.
#[derive(Debug, Clone, clap::Args)]
pub struct AsOfArgs {
    /// Answer from the snapshot of this date (YYYY-MM-DD: the latest one dated on or before
    /// it), or a snapshot id [default: latest]
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<SnapshotRef>,
}

impl AsOfArgs {
    /// The snapshot asked for, if one was (see `Store::as_of`).
    pub fn reference(&self) -> Option<&SnapshotRef> {
        self.as_of.as_ref()
    }
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// A port (443), a range (8000-8100; overlapping records count), a service name (https),
    /// or any of them with a protocol (443/tcp); with --registry protocols, a number (6), a
    /// range or a keyword (ipv6-icmp)
    #[arg(value_name = "PORT|RANGE|NAME")]
    pub what: Lookup,
    #[command(flatten)]
    pub filter: RecordQueryArgs,
}

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    pub text: String,
    #[command(flatten)]
    pub filter: RecordQueryArgs,
}

/// What `show` and `search` share.
#[derive(Debug, clap::Args)]
pub struct RecordQueryArgs {
    /// Only this protocol: tcp, udp, sctp or dccp
    #[arg(long, value_parser = parse_protocol)]
    pub proto: Option<String>,
    #[command(flatten)]
    pub as_of: AsOfArgs,
    /// Hide Unassigned, Reserved and de-assigned entries (records without a service name)
    #[arg(long)]
    pub assigned: bool,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// 443/tcp, 443, a range, or a service name
    #[arg(value_name = "PORT|RANGE|NAME")]
    pub what: Lookup,
    /// Only this protocol: tcp, udp, sctp or dccp
    #[arg(long, value_parser = parse_protocol)]
    pub proto: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportKind {
    /// A services(5) file: `name port/protocol # description`, assigned single ports only
    Services,
    /// A protocols(5) file from the protocol numbers registry: `keyword number KEYWORD`, as
    /// iana-etc makes it
    Protocols,
    /// IANA's own CSV layout (service-names-port-numbers.csv)
    Csv,
    /// A JSON array of records (of the registry --registry names), as docs/data-model.md
    /// defines them
    Json,
}

impl ExportKind {
    /// The registry whose records it is made of; None: the one `--registry` names.
    pub fn registry(self) -> Option<Registry> {
        match self {
            ExportKind::Services | ExportKind::Csv => Some(Registry::Services),
            ExportKind::Protocols => Some(Registry::Protocols),
            ExportKind::Json => None,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[arg(value_enum)]
    pub kind: ExportKind,
    #[command(flatten)]
    pub as_of: AsOfArgs,
    /// Write to this file (atomically: a temp file renamed into place) instead of stdout
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("statement").required(true).args(["query", "file"])))]
pub struct SqlArgs {
    /// One SQL statement
    pub query: Option<String>,
    /// Read the statement from a file (e.g. sql/changes_since.sql)
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Bind :NAME (or @NAME, $NAME) to VALUE, as text
    #[arg(long, value_name = "NAME=VALUE", value_parser = parse_param)]
    pub param: Vec<(String, String)>,
    /// Stop the query after this long (e.g. 30s, 5m; 0 for no limit)
    #[arg(long, value_name = "DURATION", default_value = "1m", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Where to listen, ADDRESS:PORT; only this machine by default (0.0.0.0:8080 or
    /// [::]:8080 for every interface, better behind a reverse proxy)
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// How long one request's queries may run before it is answered 503
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    pub query_timeout: Duration,
    /// Connections open at once; more wait in the kernel's queue until one closes
    #[arg(long, value_name = "N", default_value = "512")]
    pub max_connections: usize,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write portreg.1 and a page for each command (portreg-import.1, ...) into this directory
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

fn parse_param(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not NAME=VALUE"))?;
    let name = name.trim().trim_start_matches([':', '@', '$']);
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Err(format!("{name:?} is not a parameter name"));
    }
    Ok((name.to_string(), value.to_string()))
}

/// What `fetch` and `watch` share.
#[derive(Debug, Clone, clap::Args)]
pub struct FetchOptionArgs {
    /// Where the registry --registry names (services without it) is downloaded from
    /// [default: $PORTREG_URL for services, $PORTREG_PROTOCOLS_URL for protocols, else
    /// IANA's address of it]
    #[arg(long)]
    pub url: Option<String>,
    /// Store the document even if it has far fewer records than the latest snapshot
    #[arg(long)]
    pub force: bool,
    /// Print nothing when nothing changed, and no retry notices; errors still go to stderr
    #[arg(long, short)]
    pub quiet: bool,
    /// Time limit for one try, body included (e.g. 90s, 2m)
    #[arg(long, value_name = "DURATION", default_value = "2m", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Time limit for connecting
    #[arg(long, value_name = "DURATION", default_value = "15s", value_parser = humantime::parse_duration)]
    pub connect_timeout: Duration,
    /// Retries after a connection error, a timeout, a 5xx or a 429
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub retries: u32,
    /// Wait before the first retry; each next one waits about twice as long (Retry-After wins)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    pub retry_wait: Duration,
    /// No retry starts later than this after the first try
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = humantime::parse_duration)]
    pub retry_budget: Duration,
}

#[derive(Debug, clap::Args)]
pub struct FetchArgs {
    #[command(flatten)]
    pub options: FetchOptionArgs,
    /// Exit 1 when a new snapshot was stored (as `git diff --exit-code`); failures exit 2
    #[arg(long)]
    pub exit_code: bool,
}

#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Time between two fetches (e.g. 24h, 6h, 30m)
    #[arg(long, value_name = "DURATION", default_value = "24h", value_parser = parse_interval)]
    pub every: Duration,
    #[command(flatten)]
    pub options: FetchOptionArgs,
}

#[derive(Debug, clap::Args)]
pub struct BackfillArgs {
    /// From the Wayback Machine's captures (the one source so far)
    #[arg(long, required = true)]
    pub wayback: bool,
    /// Only captures made on or after this day (YYYY, YYYY-MM or YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub from: Option<SinceDate>,
    /// Only captures made on or before this day (YYYY-MM-DD)
    #[arg(long, value_name = "DATE")]
    pub to: Option<chrono::NaiveDate>,
    /// The Wayback Machine's address (CDX index and captures)
    #[arg(long, env = "PORTREG_WAYBACK_URL", default_value = crate::load::wayback::WAYBACK_URL)]
    pub wayback_url: String,
    /// The delay between two downloads, to be polite to the archive
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = humantime::parse_duration)]
    pub delay: Duration,
    #[command(flatten)]
    pub options: FetchOptionArgs,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[arg(long, value_enum, default_value = "table")]
    pub format: ObjectFormat,
}

/// A watch interval: at least a minute, so a typo cannot hammer the server.
fn parse_interval(text: &str) -> Result<Duration, String> {
    let interval = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if interval < Duration::from_secs(60) {
        return Err(format!("{text} is too short: fetch at most once a minute"));
    }
    Ok(interval)
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("documents").required(true).args(["files", "git"])))]
pub struct ImportArgs {
    /// Registry documents (.xml or .xml.gz); `-` reads standard input
    #[arg(value_name = "FILE", conflicts_with = "git")]
    pub files: Vec<String>,
    /// Import every version of the file in the history of this git repository (a clone, a bare
    /// repository or a bundle), each observed at its commit time
    #[arg(long, value_name = "REPO")]
    pub git: Option<PathBuf>,
    /// The file's path in the repository (with --git) [default: the file name of the
    /// registry --registry names: service-names-port-numbers.xml, protocol-numbers.xml]
    #[arg(long, value_name = "FILE", requires = "git")]
    pub path: Option<String>,
    /// The revision whose history is read (with --git)
    #[arg(long, value_name = "REV", default_value = "HEAD", requires = "git")]
    pub rev: String,
    /// When the documents were seen (RFC 3339) [default: each file's modification time, the
    /// commit time with --git, or now for standard input]
    #[arg(long, value_name = "TIME")]
    pub observed_at: Option<chrono::DateTime<chrono::FixedOffset>>,
}

#[derive(Debug, clap::Args)]
pub struct SnapshotsArgs {
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The older side: a snapshot id, a date YYYY-MM-DD (the latest snapshot dated on or before
    /// it), `latest` or `previous`
    pub from: SnapshotRef,
    /// The newer side, named the same way
    pub to: SnapshotRef,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ChangeFormat,
}

#[derive(Debug, clap::Args)]
pub struct RawArgs {
    /// A snapshot id, a date YYYY-MM-DD, `latest` or `previous`
    pub snapshot: SnapshotRef,
}
