//! Records as `show`, `search` and `export json` print them, and their versions (`history`).
//! Also the short forms of a record that the change renderers share.

use super::{Format, new_table, write_csv, write_json};
use crate::model::{FieldValue, Record, RecordField, key_label};
use crate::store::VersionSpan;
use std::io::{self, Write};

pub(super) fn record_label(record: &Record) -> String {
    key_label(
        record.name.as_deref(),
        record.protocol.as_deref(),
        record.port.as_deref(),
    )
}

pub(super) fn name_with_ordinal(record: &Record) -> String {
    let mut name = record.name.clone().unwrap_or_default();
    if record.ordinal > 1 {
        name.push_str(&format!(" #{}", record.ordinal));
    }
    name
}

/// A field's value for people: lists joined by commas, `(none)` when absent.
fn field_text(record: &Record, field: RecordField) -> String {
    match field.value(record) {
        FieldValue::Text(Some(text)) => text.to_string(),
        FieldValue::List(Some(items)) => items.join(", "),
        FieldValue::Text(None) | FieldValue::List(None) => "(none)".to_string(),
    }
}

/// `field: old -> new`, a line per field.
pub(super) fn field_changes(before: &Record, after: &Record, fields: &[RecordField]) -> String {
    fields
        .iter()
        .map(|&field| {
            format!(
                "{field}: {} -> {}",
                field_text(before, field),
                field_text(after, field)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// One short line describing a record for people: its description, then its notes.
pub(super) fn summary(record: &Record) -> String {
    let mut text = record.description.clone().unwrap_or_default();
    if let Some(notes) = &record.notes {
        if !text.is_empty() {
            text.push_str(" — ");
        }
        text.push_str(notes);
    }
    text
}

/// The CSV columns of a record: its fields with the ordinal after the key.
fn record_csv_header() -> Vec<&'static str> {
    let key = RecordField::KEY.iter().map(|f| f.name());
    let content = RecordField::CONTENT.iter().map(|f| f.name());
    key.chain(["ordinal"]).chain(content).collect()
}

/// A record's CSV fields, lists as JSON arrays so they parse back.
fn record_csv_fields(record: &Record) -> Vec<String> {
    let value = |field: RecordField| match field.value(record) {
        FieldValue::Text(text) => text.unwrap_or_default().to_string(),
        FieldValue::List(list) => list
            .map(|items| serde_json::to_string(items).expect("a list of strings serialises"))
            .unwrap_or_default(),
    };
    let key = RecordField::KEY.into_iter().map(value);
    let content = RecordField::CONTENT.into_iter().map(value);
    key.chain([record.ordinal.to_string()])
        .chain(content)
        .collect()
}

/// Records, as `show`, `search` and `export json` print them.
pub fn records(out: &mut impl Write, records: &[Record], format: Format) -> io::Result<()> {
    match format {
        Format::Json => write_json(out, records),
        Format::Csv => write_csv(
            out,
            &record_csv_header(),
            records.iter().map(record_csv_fields),
        ),
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
                    record.assignee.as_deref().unwrap_or_default().join(", "),
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
        Format::Json => write_json(out, spans),
        Format::Csv => {
            let mut header = record_csv_header();
            header.extend([
                "first_snapshot_id",
                "first_registry_date",
                "last_snapshot_id",
                "last_registry_date",
                "current",
            ]);
            let rows = spans.iter().map(|span| {
                let mut fields = record_csv_fields(&span.record);
                fields.extend([
                    span.first_snapshot_id.to_string(),
                    span.first_registry_date.to_string(),
                    span.last_snapshot_id.to_string(),
                    span.last_registry_date.to_string(),
                    span.current.to_string(),
                ]);
                fields
            });
            write_csv(out, &header, rows)
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
                    span.last_registry_date.to_string()
                };
                table.add_row(vec![
                    record_label(&span.record),
                    name_with_ordinal(&span.record),
                    span.first_registry_date.to_string(),
                    to,
                    what,
                ]);
                previous = Some(span);
            }
            writeln!(out, "{table}")
        }
    }
}
