//! The command line, in one place so help, completions and a man page come from it.

use crate::output::Format;
use crate::store::SnapshotRef;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Keeps the full history of the IANA service name and port number registry in SQLite.
#[derive(Debug, Parser)]
#[command(name = "portreg", version, about)]
pub struct Cli {
    /// The database file [default: portreg.sqlite3 in the user's data directory]
    #[arg(long, global = true, env = "PORTREG_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
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
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Registry documents; `-` reads standard input
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// When the documents were seen (RFC 3339) [default: each file's modification time, or now
    /// for standard input]
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
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct RawArgs {
    /// A snapshot id, a date YYYY-MM-DD, `latest` or `previous`
    pub snapshot: SnapshotRef,
}
