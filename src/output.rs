//! Renderers: tables for people, JSON and CSV for programs. Everything writes to any
//! `impl Write`; nothing here knows where the data came from.

use crate::model::{Change, ChangeKind, Record};
use crate::store::SnapshotRow;
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
