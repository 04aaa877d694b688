//! Changes: as the contract has them (JSON, CSV, a plain table for `diff`), grouped for people
//! (`changes`, see [`crate::report`]), and the few lines `fetch` prints when a version lands.

use super::records::{field_changes, name_with_ordinal, record_label, summary};
use super::{Format, new_table, paint, write_csv, write_json};
use crate::fetch::Outcome;
use crate::model::{Change, ChangeKind, Record, RecordField};
use crate::output::key_label;
use crate::report::{Group, Line};
use std::io::{self, Write};

/// `description assignee`: the fields' names joined by `separator`.
fn field_names(fields: &[RecordField], separator: &str) -> String {
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
        ChangeKind::Modified => format!("~ {what}: {}", field_names(&change.changed_fields, ", ")),
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
