//! Changes as the contract has them: JSON, CSV, and a plain table for `diff`. Grouped for
//! people, they are [`super::report`]'s.

use super::records::{field_changes, summary};
use super::{Format, new_table, write_csv, write_json};
use crate::model::{Change, ChangeKind, Record, RecordField, key_label};
use std::io::{self, Write};

/// `description assignee`: the fields' names joined by `separator`.
pub(super) fn field_names(fields: &[RecordField], separator: &str) -> String {
    fields
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(separator)
}

pub fn changes(out: &mut impl Write, changes: &[Change], format: Format) -> io::Result<()> {
    match format {
        Format::Json => write_json(out, changes),
        Format::Csv => {
            let header = [
                "change",
                "name",
                "protocol",
                "port",
                "ordinal",
                "changed_fields",
                "before",
                "after",
            ];
            let json = |r: &Option<Record>| {
                r.as_ref()
                    .map(|r| serde_json::to_string(r).expect("a record serialises"))
                    .unwrap_or_default()
            };
            let rows = changes.iter().map(|change| {
                [
                    change.change.as_str().to_string(),
                    change.name.clone().unwrap_or_default(),
                    change.protocol.clone().unwrap_or_default(),
                    change.port.clone().unwrap_or_default(),
                    change.ordinal.to_string(),
                    field_names(&change.changed_fields, " "),
                    json(&change.before),
                    json(&change.after),
                ]
            });
            write_csv(out, &header, rows)
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
