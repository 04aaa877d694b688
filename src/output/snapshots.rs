//! The snapshot list (`snapshots`) and what `status` says.

use super::{Format, ObjectFormat, csv_error, new_table, write_json};
use crate::store::{FetchAttempt, FetchStatus, SnapshotRow};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use std::io::{self, Write};

fn or_empty(value: Option<i64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

pub fn snapshots(out: &mut impl Write, rows: &[SnapshotRow], format: Format) -> io::Result<()> {
    match format {
        Format::Json => write_json(out, rows),
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
                    row.registry_date.to_string(),
                    row.observed_at.to_string(),
                    row.records.to_string(),
                    or_empty(row.added),
                    or_empty(row.removed),
                    or_empty(row.modified),
                    row.sha256[..12].to_string(),
                    row.source.clone(),
                ]);
            }
            writeln!(out, "{table}")
        }
    }
}

/// Everything `portreg status` reports.
#[derive(Debug, serde::Serialize)]
pub struct StatusReport {
    pub database: String,
    pub snapshots: i64,
    pub latest: Option<SnapshotRow>,
    pub fetch: FetchStatus,
}

/// `portreg status`.
pub fn status(out: &mut impl Write, status: &StatusReport, format: ObjectFormat) -> io::Result<()> {
    if format == ObjectFormat::Json {
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
