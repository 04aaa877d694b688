//! Renderers: tables for people, JSON and CSV for programs. Everything writes to any
//! `impl Write`; nothing here knows where the data came from.

use crate::fetch::Outcome;
use crate::model::{Change, ChangeKind, Record};
use crate::store::{FetchAttempt, FetchStatus, SnapshotRow};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use std::io::{self, Write};

/// How an answer is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people.
    Table,
    /// A JSON array of objects, as `registry-model.md` defines them.
    Json,
    /// CSV with a header row.
    Csv,
}

fn new_table(header: &[&str]) -> Table {
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().copied());
    table
}

fn csv_error(error: csv::Error) -> io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(io) => io,
        other => io::Error::other(format!("{other:?}")),
    }
}

fn write_json<T: serde::Serialize>(out: &mut impl Write, value: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

fn opt(value: Option<i64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

pub fn snapshots(out: &mut impl Write, rows: &[SnapshotRow], format: Format) -> io::Result<()> {
    match format {
        Format::Json => write_json(out, &rows),
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            for row in rows {
                csv.serialize(row).map_err(csv_error)?;
            }
            csv.flush()
        }
        Format::Table => {
            let mut table = new_table(&[
                "id",
                "registry date",
                "observed at",
                "records",
                "added",
                "removed",
                "modified",
                "sha256",
                "source",
            ]);
            for row in rows {
                table.add_row(vec![
                    row.id.to_string(),
                    row.registry_date.clone(),
                    row.observed_at.clone(),
                    row.records.to_string(),
                    opt(row.added),
                    opt(row.removed),
                    opt(row.modified),
                    row.sha256[..12].to_string(),
                    row.source.clone(),
                ]);
            }
            writeln!(out, "{table}")
        }
    }
}

/// `443/tcp`, `225-241`, or the name alone for a service name without a port.
pub fn key_label(name: Option<&str>, protocol: Option<&str>, port: Option<&str>) -> String {
    match (port, protocol) {
        (Some(port), Some(protocol)) => format!("{port}/{protocol}"),
        (Some(port), None) => port.to_string(),
        (None, Some(protocol)) => format!("-/{protocol}"),
        (None, None) => name.map(|_| "-".to_string()).unwrap_or_default(),
    }
}

fn field_value(record: &Record, field: &str) -> String {
    let list = |l: &Option<Vec<String>>| l.as_ref().map(|v| v.join(", "));
    let value = match field {
        "description" => record.description.clone(),
        "assignee" => list(&record.assignee),
        "contact" => list(&record.contact),
        "references" => list(&record.references),
        "registered" => record.registered.clone(),
        "modified" => record.modified.clone(),
        "service_code" => record.service_code.clone(),
        "unauthorized" => record.unauthorized.clone(),
        "notes" => record.notes.clone(),
        _ => None,
    };
    value.unwrap_or_else(|| "(none)".to_string())
}

/// One short line describing a record for people.
fn summary(record: &Record) -> String {
    let mut text = record.description.clone().unwrap_or_default();
    if let Some(notes) = &record.notes {
        if !text.is_empty() {
            text.push_str(" — ");
        }
        text.push_str(notes);
    }
    text
}

pub fn changes(out: &mut impl Write, changes: &[Change], format: Format) -> io::Result<()> {
    match format {
        Format::Json => write_json(out, &changes),
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            csv.write_record([
                "change",
                "name",
                "protocol",
                "port",
                "ordinal",
                "changed_fields",
                "before",
                "after",
            ])
            .map_err(csv_error)?;
            for change in changes {
                let json = |r: &Option<Record>| {
                    r.as_ref()
                        .map(|r| serde_json::to_string(r).unwrap_or_default())
                        .unwrap_or_default()
                };
                csv.write_record([
                    change.change.as_str().to_string(),
                    change.name.clone().unwrap_or_default(),
                    change.protocol.clone().unwrap_or_default(),
                    change.port.clone().unwrap_or_default(),
                    change.ordinal.to_string(),
                    change.changed_fields.join(" "),
                    json(&change.before),
                    json(&change.after),
                ])
                .map_err(csv_error)?;
            }
            csv.flush()
        }
        Format::Table => {
            if changes.is_empty() {
                return writeln!(out, "No changes.");
            }
            for kind in [ChangeKind::Added, ChangeKind::Removed, ChangeKind::Modified] {
                let group: Vec<&Change> = changes.iter().filter(|c| c.change == kind).collect();
                if group.is_empty() {
                    continue;
                }
                let title = match kind {
                    ChangeKind::Added => "Added",
                    ChangeKind::Removed => "Removed",
                    ChangeKind::Modified => "Modified",
                };
                writeln!(out, "{title} ({})", group.len())?;
                let mut table = new_table(&["port", "name", "what"]);
                for change in group {
                    let label = key_label(
                        change.name.as_deref(),
                        change.protocol.as_deref(),
                        change.port.as_deref(),
                    );
                    let mut name = change.name.clone().unwrap_or_default();
                    if change.ordinal > 1 {
                        name.push_str(&format!(" #{}", change.ordinal));
                    }
                    let what = match (&change.before, &change.after) {
                        (Some(before), Some(after)) => change
                            .changed_fields
                            .iter()
                            .map(|f| {
                                format!(
                                    "{f}: {} -> {}",
                                    field_value(before, f),
                                    field_value(after, f)
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("\n"),
                        (None, Some(record)) | (Some(record), None) => summary(record),
                        (None, None) => String::new(),
                    };
                    table.add_row(vec![label, name, what]);
                }
                writeln!(out, "{table}")?;
            }
            Ok(())
        }
    }
}

/// How many changes a fetch summary lists before pointing at `portreg diff`.
const SUMMARY_CHANGES: usize = 5;

/// What `fetch` prints: nothing for "no change" when `quiet`, else one line, plus the first
/// few changes of a new snapshot.
pub fn fetch_outcome(out: &mut impl Write, outcome: &Outcome, quiet: bool) -> io::Result<()> {
    match outcome {
        Outcome::Stored {
            snapshot,
            previous: None,
            latest,
            ..
        } => writeln!(
            out,
            "stored snapshot {}: registry {}, {} records ({})",
            snapshot.id,
            snapshot.registry_date,
            snapshot.records,
            if *latest {
                "the first snapshot"
            } else {
                "placed first in history, before every stored snapshot"
            }
        ),
        Outcome::Stored {
            snapshot,
            previous: Some(previous),
            changes,
            latest,
        } => {
            let count = |kind| changes.iter().filter(|c| c.change == kind).count();
            let place = if *latest {
                ""
            } else {
                ", placed before the latest"
            };
            writeln!(
                out,
                "stored snapshot {}: registry {} (was {}){place}: {} added, {} removed, {} modified",
                snapshot.id,
                snapshot.registry_date,
                previous.registry_date,
                count(ChangeKind::Added),
                count(ChangeKind::Removed),
                count(ChangeKind::Modified),
            )?;
            for change in changes.iter().take(SUMMARY_CHANGES) {
                writeln!(out, "  {}", change_line(change))?;
            }
            if changes.len() > SUMMARY_CHANGES {
                writeln!(
                    out,
                    "  ... {} more: portreg diff {} {}",
                    changes.len() - SUMMARY_CHANGES,
                    previous.id,
                    snapshot.id
                )?;
            }
            Ok(())
        }
        _ if quiet => Ok(()),
        Outcome::Unchanged { snapshot } => writeln!(
            out,
            "unchanged: registry {} (snapshot {})",
            snapshot.registry_date, snapshot.id
        ),
        Outcome::NotModified => writeln!(out, "unchanged: not modified since the last fetch"),
        Outcome::Stale { snapshot, latest } => writeln!(
            out,
            "stale copy: the server sent registry {} (snapshot {}), older than the latest stored ({}); nothing stored",
            snapshot.registry_date, snapshot.id, latest.registry_date
        ),
    }
}

/// `+ 4711/tcp trinity-dist`, `- ...`, `~ 443/tcp https: description, contact`.
fn change_line(change: &Change) -> String {
    let label = key_label(
        change.name.as_deref(),
        change.protocol.as_deref(),
        change.port.as_deref(),
    );
    let name = change.name.as_deref().unwrap_or("");
    match change.change {
        ChangeKind::Added => format!("+ {label} {name}"),
        ChangeKind::Removed => format!("- {label} {name}"),
        ChangeKind::Modified => format!("~ {label} {name}: {}", change.changed_fields.join(", ")),
    }
}

/// `portreg status`.
pub fn status(out: &mut impl Write, status: &StatusReport, format: Format) -> io::Result<()> {
    if format != Format::Table {
        return write_json(out, status);
    }
    let attempt_line = |a: &FetchAttempt| {
        let http = a
            .http_status
            .map(|s| format!("HTTP {s}, "))
            .unwrap_or_default();
        let mut line = format!(
            "{} {} ({http}{} tries) {}",
            a.started_at, a.outcome, a.tries, a.url
        );
        if let Some(message) = &a.message {
            line.push_str(&format!("\n{message}"));
        }
        line
    };
    let mut table = new_table(&["", ""]);
    table.set_header(Vec::<String>::new());
    table.add_row(vec!["database".to_string(), status.database.clone()]);
    let latest = match &status.latest {
        Some(s) => format!(
            "{} snapshots; latest: snapshot {}, registry {}, observed {}",
            status.snapshots, s.id, s.registry_date, s.observed_at
        ),
        None => "no snapshots yet".to_string(),
    };
    table.add_row(vec!["history".to_string(), latest]);
    let fetch = &status.fetch;
    let or_never =
        |a: &Option<FetchAttempt>| a.as_ref().map(attempt_line).unwrap_or("never".into());
    table.add_row(vec![
        "last check".to_string(),
        or_never(&fetch.last_attempt),
    ]);
    table.add_row(vec![
        "last success".to_string(),
        or_never(&fetch.last_success),
    ]);
    table.add_row(vec![
        "last change".to_string(),
        or_never(&fetch.last_change),
    ]);
    let health = match &fetch.last_attempt {
        None => "never fetched".to_string(),
        Some(_) if fetch.failures_since_success == 0 => "ok: the last fetch succeeded".to_string(),
        Some(_) => format!(
            "FAILING: the last {} fetch attempt(s) failed",
            fetch.failures_since_success
        ),
    };
    table.add_row(vec!["state".to_string(), health]);
    writeln!(out, "{table}")
}

/// Everything `portreg status` reports.
#[derive(Debug, serde::Serialize)]
pub struct StatusReport {
    pub database: String,
    pub snapshots: i64,
    pub latest: Option<SnapshotRow>,
    pub fetch: FetchStatus,
}
