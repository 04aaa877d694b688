//! Renderers: tables for people, JSON and CSV for programs. Everything writes to any
//! `impl Write`; nothing here knows where the data came from.

use crate::fetch::Outcome;
use crate::model::{Change, ChangeKind, Record};
use crate::report::{Group, Line};
use crate::store::{FetchAttempt, FetchStatus, SnapshotRow, SqlAnswer, VersionSpan};
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

/// `field: old -> new`, a line per field.
fn field_changes(before: &Record, after: &Record, fields: &[impl AsRef<str>]) -> String {
    fields
        .iter()
        .map(|f| {
            let f = f.as_ref();
            format!(
                "{f}: {} -> {}",
                field_value(before, f),
                field_value(after, f)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
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
                        (Some(before), Some(after)) => {
                            field_changes(before, after, &change.changed_fields)
                        }
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
    let what = match change.name.as_deref() {
        Some(name) => format!("{label} {name}"),
        None => label,
    };
    match change.change {
        ChangeKind::Added => format!("+ {what}"),
        ChangeKind::Removed => format!("- {what}"),
        ChangeKind::Modified => format!("~ {what}: {}", change.changed_fields.join(", ")),
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
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
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

fn list_text(list: &Option<Vec<String>>) -> String {
    list.as_ref().map(|l| l.join(", ")).unwrap_or_default()
}

fn name_with_ordinal(record: &Record) -> String {
    let mut name = record.name.clone().unwrap_or_default();
    if record.ordinal > 1 {
        name.push_str(&format!(" #{}", record.ordinal));
    }
    name
}

fn record_label(record: &Record) -> String {
    key_label(
        record.name.as_deref(),
        record.protocol.as_deref(),
        record.port.as_deref(),
    )
}

/// CSV columns of a record: the contract's fields; lists as JSON arrays, so they parse back.
const RECORD_CSV_HEADER: [&str; 13] = [
    "name",
    "protocol",
    "port",
    "ordinal",
    "description",
    "assignee",
    "contact",
    "references",
    "registered",
    "modified",
    "service_code",
    "unauthorized",
    "notes",
];

fn record_csv_fields(record: &Record) -> Vec<String> {
    let text = |field: &Option<String>| field.clone().unwrap_or_default();
    let list = |field: &Option<Vec<String>>| {
        field
            .as_ref()
            .map(|l| serde_json::to_string(l).unwrap_or_default())
            .unwrap_or_default()
    };
    vec![
        text(&record.name),
        text(&record.protocol),
        text(&record.port),
        record.ordinal.to_string(),
        text(&record.description),
        list(&record.assignee),
        list(&record.contact),
        list(&record.references),
        text(&record.registered),
        text(&record.modified),
        text(&record.service_code),
        text(&record.unauthorized),
        text(&record.notes),
    ]
}

/// Records, as `show`, `search` and `export json` print them.
pub fn records(out: &mut impl Write, records: &[Record], format: Format) -> io::Result<()> {
    match format {
        Format::Json => write_json(out, &records),
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            csv.write_record(RECORD_CSV_HEADER).map_err(csv_error)?;
            for record in records {
                csv.write_record(record_csv_fields(record))
                    .map_err(csv_error)?;
            }
            csv.flush()
        }
        Format::Table => {
            if records.is_empty() {
                return writeln!(out, "No records.");
            }
            let mut table = new_table(&[
                "port",
                "name",
                "description",
                "assignee",
                "registered",
                "modified",
            ]);
            for record in records {
                table.add_row(vec![
                    record_label(record),
                    name_with_ordinal(record),
                    summary(record),
                    list_text(&record.assignee),
                    record.registered.clone().unwrap_or_default(),
                    record.modified.clone().unwrap_or_default(),
                ]);
            }
            writeln!(out, "{table}")
        }
    }
}

/// `portreg history`: every version of the matching records with the snapshots it held in.
pub fn history(out: &mut impl Write, spans: &[VersionSpan], format: Format) -> io::Result<()> {
    match format {
        Format::Json => write_json(out, &spans),
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            let mut header = RECORD_CSV_HEADER.to_vec();
            header.extend([
                "first_snapshot_id",
                "first_registry_date",
                "last_snapshot_id",
                "last_registry_date",
                "current",
            ]);
            csv.write_record(header).map_err(csv_error)?;
            for span in spans {
                let mut fields = record_csv_fields(&span.record);
                fields.extend([
                    span.first_snapshot_id.to_string(),
                    span.first_registry_date.clone(),
                    span.last_snapshot_id.to_string(),
                    span.last_registry_date.clone(),
                    span.current.to_string(),
                ]);
                csv.write_record(fields).map_err(csv_error)?;
            }
            csv.flush()
        }
        Format::Table => {
            if spans.is_empty() {
                return writeln!(out, "No records.");
            }
            let mut table = new_table(&["port", "name", "from", "to", "what"]);
            let mut previous: Option<&VersionSpan> = None;
            for span in spans {
                let same_key = previous.filter(|p| p.key_id == span.key_id);
                let what = match same_key {
                    None => summary(&span.record),
                    Some(before) => {
                        let fields = before.record.changed_fields(&span.record);
                        if fields.is_empty() {
                            "back, unchanged".to_string()
                        } else {
                            field_changes(&before.record, &span.record, &fields)
                        }
                    }
                };
                let to = if span.current {
                    "now".to_string()
                } else {
                    span.last_registry_date.clone()
                };
                table.add_row(vec![
                    record_label(&span.record),
                    name_with_ordinal(&span.record),
                    span.first_registry_date.clone(),
                    to,
                    what,
                ]);
                previous = Some(span);
            }
            writeln!(out, "{table}")
        }
    }
}

/// `portreg changes` as a table for people (see [`crate::report`]).
pub fn report(out: &mut impl Write, lines: &[Line], color: bool) -> io::Result<()> {
    if lines.is_empty() {
        return writeln!(out, "No changes.");
    }
    for group in Group::ALL {
        let members: Vec<&Line> = lines.iter().filter(|l| l.group == group).collect();
        if members.is_empty() {
            continue;
        }
        let code = match group {
            Group::NewlyAssigned => "32",
            Group::DeassignedOrReserved | Group::Removed => "31",
            Group::Modified => "33",
        };
        let title = format!("{} ({})", group.title(), members.len());
        writeln!(out, "{}", paint(&title, code, color))?;
        let mut table = new_table(&["port", "name", "what"]);
        for line in members {
            let record = &line.record;
            let what = match (group, &line.before) {
                (Group::Modified, Some(before)) => {
                    field_changes(before, record, &line.changed_fields)
                }
                (Group::Modified, None) => format!(
                    "modified {} (old values not in this history): {}",
                    record.modified.as_deref().unwrap_or("?"),
                    summary(record)
                ),
                (Group::NewlyAssigned, Some(before)) => format!(
                    "{} (was {} {})",
                    summary(record),
                    record_label(before),
                    before
                        .name
                        .as_deref()
                        .or(before.description.as_deref())
                        .unwrap_or("Unassigned")
                ),
                (Group::DeassignedOrReserved, Some(before)) => format!(
                    "{} (was {} {})",
                    summary(record),
                    record_label(before),
                    before.name.as_deref().unwrap_or_default()
                ),
                _ => summary(record),
            };
            table.add_row(vec![record_label(record), name_with_ordinal(record), what]);
        }
        writeln!(out, "{table}")?;
    }
    Ok(())
}

/// The answer to `portreg sql`: JSON objects keep the column order.
pub fn sql(out: &mut impl Write, answer: &SqlAnswer, format: Format) -> io::Result<()> {
    let plain = |value: &serde_json::Value| match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match format {
        Format::Json => {
            let objects: Vec<serde_json::Map<String, serde_json::Value>> = answer
                .rows
                .iter()
                .map(|row| {
                    answer
                        .columns
                        .iter()
                        .cloned()
                        .zip(row.iter().cloned())
                        .collect()
                })
                .collect();
            write_json(out, &objects)
        }
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(out);
            csv.write_record(&answer.columns).map_err(csv_error)?;
            for row in &answer.rows {
                csv.write_record(row.iter().map(plain)).map_err(csv_error)?;
            }
            csv.flush()
        }
        Format::Table => {
            let header: Vec<&str> = answer.columns.iter().map(String::as_str).collect();
            let mut table = new_table(&header);
            for row in &answer.rows {
                table.add_row(row.iter().map(plain).collect::<Vec<_>>());
            }
            writeln!(out, "{table}")?;
            writeln!(out, "({} rows)", answer.rows.len())
        }
    }
}
