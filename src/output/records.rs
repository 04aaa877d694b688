//! Records as `show`, `search` and `export json` print them, and their versions (`history`).
//! Also the short forms of a record that the change renderers share.

use super::{Format, new_table, write_csv, write_json};
use crate::model::{Field, FieldValue, Record, name_with_ordinal};
use crate::store::VersionSpan;
use std::io::{self, Write};

/// A field's value for people: lists joined by commas, `(none)` when absent, yes or no.
fn field_text<R: Record>(record: &R, field: R::Field) -> String {
    match field.value(record) {
        FieldValue::Text(Some(text)) => text.to_string(),
        FieldValue::List(Some(items)) => items.join(", "),
        FieldValue::Text(None) | FieldValue::List(None) => "(none)".to_string(),
        FieldValue::Flag(flag) => if flag { "yes" } else { "no" }.to_string(),
    }
}

/// `field: old -> new`, a line per field.
pub(super) fn field_changes<R: Record>(before: &R, after: &R, fields: &[R::Field]) -> String {
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
pub(super) fn summary<R: Record>(record: &R) -> String {
    let mut text = record.description().unwrap_or_default().to_string();
    if let Some(notes) = record.notes() {
        if !text.is_empty() {
            text.push_str(" — ");
        }
        text.push_str(notes);
    }
    text
}

/// The CSV columns of a record: its fields with the ordinal after the key.
fn record_csv_header<R: Record>() -> Vec<&'static str> {
    let key = R::Field::KEY.iter().map(|f| f.name());
    let content = R::Field::CONTENT.iter().map(|f| f.name());
    key.chain(["ordinal"]).chain(content).collect()
}

/// A record's CSV fields, lists as JSON arrays so they parse back.
fn record_csv_fields<R: Record>(record: &R) -> Vec<String> {
    let value = |field: &R::Field| match field.value(record) {
        FieldValue::Text(text) => text.unwrap_or_default().to_string(),
        FieldValue::List(list) => list
            .map(|items| serde_json::to_string(items).expect("a list of strings serialises"))
            .unwrap_or_default(),
        FieldValue::Flag(flag) => flag.to_string(),
    };
    let key = R::Field::KEY.iter().map(value);
    let content = R::Field::CONTENT.iter().map(value);
    key.chain([record.ordinal().to_string()])
        .chain(content)
        .collect()
}

/// Records, as `show`, `search` and `export json` print them.
pub fn records<R: Record>(out: &mut impl Write, records: &[R], format: Format) -> io::Result<()> {
    match format {
        Format::Json => write_json(out, records),
        Format::Csv => write_csv(
            out,
            &record_csv_header::<R>(),
            records.iter().map(record_csv_fields),
        ),
        Format::Table => {
            if records.is_empty() {
                return writeln!(out, "No records.");
            }
            let mut table = new_table(&[
                R::LABEL_HEADER,
                "name",
                "description",
                R::OWNERS_HEADER,
                "registered",
                "modified",
            ]);
            for record in records {
                table.add_row(vec![
                    record.label(),
                    name_with_ordinal(record),
                    summary(record),
                    record.owners().unwrap_or_default().join(", "),
                    record.registered().unwrap_or_default().to_string(),
                    record.modified().unwrap_or_default().to_string(),
                ]);
            }
            writeln!(out, "{table}")
        }
    }
}

/// `portreg history`: every version of the matching records with the snapshots it held in.
pub fn history<R: Record>(
    out: &mut impl Write,
    spans: &[VersionSpan<R>],
    format: Format,
) -> io::Result<()> {
    match format {
        Format::Json => write_json(out, spans),
        Format::Csv => {
            let mut header = record_csv_header::<R>();
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
            let mut table = new_table(&[R::LABEL_HEADER, "name", "from", "to", "what"]);
            let mut previous: Option<&VersionSpan<R>> = None;
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
                    span.record.label(),
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
