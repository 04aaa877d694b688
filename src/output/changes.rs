//! Changes as the contract has them: JSON, CSV, and a plain table for `diff`. Grouped for
//! people, they are [`super::report`]'s.

use super::records::{field_changes, summary};
use super::{Format, new_table, write_csv, write_json};
use crate::model::{Change, ChangeKind, Field, Record, name_with_ordinal};
use std::io::{self, Write};

/// `description assignee`: the fields' names joined by `separator`.
pub(super) fn field_names<F: Field>(fields: &[F], separator: &str) -> String {
    fields
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(separator)
}

/// Changes as the contract has them: JSON, CSV (the change, the key fields, the ordinal,
/// the changed fields, the records before and after as JSON), or a table.
pub fn changes<R: Record>(
    out: &mut impl Write,
    changes: &[Change<R>],
    format: Format,
) -> io::Result<()> {
    match format {
        Format::Json => write_json(out, changes),
        Format::Csv => {
            let mut header = vec!["change"];
            header.extend(R::Field::KEY.iter().map(|f| f.name()));
            header.extend(["ordinal", "changed_fields", "before", "after"]);
            let json = |r: &Option<R>| {
                r.as_ref()
                    .map(|r| serde_json::to_string(r).expect("a record serialises"))
                    .unwrap_or_default()
            };
            let rows = changes.iter().map(|change| {
                let record = change.record();
                let mut row = vec![change.change.as_str().to_string()];
                row.extend(R::Field::KEY.iter().map(|field| {
                    let value = record.and_then(|r| field.value(r).text());
                    value.unwrap_or_default().to_string()
                }));
                row.extend([
                    record.map_or(1, R::ordinal).to_string(),
                    field_names(&change.changed_fields, " "),
                    json(&change.before),
                    json(&change.after),
                ]);
                row
            });
            write_csv(out, &header, rows)
        }
        Format::Table => {
            if changes.is_empty() {
                return writeln!(out, "No changes.");
            }
            for kind in [ChangeKind::Added, ChangeKind::Removed, ChangeKind::Modified] {
                let group: Vec<&Change<R>> = changes.iter().filter(|c| c.change == kind).collect();
                if group.is_empty() {
                    continue;
                }
                let title = match kind {
                    ChangeKind::Added => "Added",
                    ChangeKind::Removed => "Removed",
                    ChangeKind::Modified => "Modified",
                };
                writeln!(out, "{title} ({})", group.len())?;
                let mut table = new_table(&[R::LABEL_HEADER, "name", "what"]);
                for change in group {
                    let (label, name) = change
                        .record()
                        .map(|r| (r.label(), name_with_ordinal(r)))
                        .unwrap_or_default();
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
