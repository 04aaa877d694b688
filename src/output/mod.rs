//! Renderers: tables for people; JSON and CSV for programs; Markdown, Atom, SVG, services(5)
//! and protocols(5) files. Everything writes to any `impl Write`; nothing here knows where the data
//! came from, and no library module imports this one: the commands (and any other front end)
//! call the library, then render its answers here.
//!
//! - [`records`]: records (`show`, `search`, `export json`) and their versions (`history`).
//! - [`changes`]: changes as the contract has them.
//! - [`report`]: changes grouped for people: the table, and `fetch`'s one-line summaries.
//! - [`grouped`]: the grouped report in Markdown and HTML.
//! - [`stored`]: what `import`, `backfill` and `fetch` stored.
//! - [`snapshots`]: the snapshot list and `status`.
//! - [`sql`]: the answer to an ad-hoc query.
//! - [`free`], [`check`], [`stats`]: the answers of those commands.
//! - [`services`]: a port registry snapshot as a services(5) file or IANA's CSV.
//! - [`protocols`]: a protocol numbers snapshot as a protocols(5) file.
//! - [`atom`]: the feed as Atom.
//! - [`chart`]: the registry's story as an SVG chart.
//! - [`verify`]: what `verify` found.

pub mod atom;
mod changes;
pub mod chart;
pub mod check;
pub mod free;
pub mod grouped;
pub mod page;
pub mod protocols;
mod records;
mod report;
pub mod services;
mod snapshots;
mod sql;
pub mod stats;
pub mod stored;
pub mod verify;

pub use changes::changes;
pub use records::{history, records};
pub use report::report;
pub use snapshots::{StatusReport, snapshots, status};
pub use sql::sql;

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use std::io::{self, Write};

/// How a list is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people
    Table,
    /// A JSON array of objects, as docs/data-model.md defines them
    Json,
    /// CSV with a header row
    Csv,
}

/// How a single answer that is not a list (`status`) is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ObjectFormat {
    /// A table for people
    Table,
    /// One JSON object
    Json,
}

fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().copied());
    table
}

/// A CSV writer's error as the I/O error it is, when it is one (so a closed pipe is still
/// known as one).
fn csv_error(error: csv::Error) -> io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// Writes rows as CSV, the header first.
fn write_csv<I, R>(out: &mut impl Write, header: &[&str], rows: I) -> io::Result<()>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator,
    R::Item: AsRef<[u8]>,
{
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(header).map_err(csv_error)?;
    for row in rows {
        csv.write_record(row).map_err(csv_error)?;
    }
    csv.flush()
}

fn write_json<T: serde::Serialize + ?Sized>(out: &mut impl Write, value: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

/// Whether to colour: only on a terminal, and never with NO_COLOR set (https://no-color.org).
pub fn color_wanted(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Bold and coloured (ANSI SGR `code`) when `color`, plain otherwise.
fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[1;{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}
