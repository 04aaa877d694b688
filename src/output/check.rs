//! `portreg check`'s answers as tables, JSON and CSV.

use super::{Format, new_table, write_csv, write_json};
use crate::check::{Finding, FindingKind, FindingRow};
use crate::store::SnapshotRow;
use std::io::{self, Write};

/// What was checked against what, for the table's lines.
pub struct CheckedFile<'a> {
    /// The file as the user named it (`-` for standard input).
    pub file: &'a str,
    /// How many lines were entries (readable or not).
    pub entries: usize,
    /// The snapshot it was checked against.
    pub snapshot: &'a SnapshotRow,
}

/// A finding's row, field for field its JSON object: lists joined by spaces, empty where JSON
/// has null.
fn csv_row(finding: &Finding) -> [String; 11] {
    let row = finding.row();
    let or_empty = |value: Option<&str>| value.unwrap_or_default().to_string();
    [
        row.line.to_string(),
        or_empty(row.name),
        row.aliases.join(" "),
        row.port.map(|port| port.to_string()).unwrap_or_default(),
        or_empty(row.protocol),
        row.finding.as_str().to_string(),
        row.iana.join(" "),
        row.iana_ports.join(" "),
        row.since.map(|date| date.to_string()).unwrap_or_default(),
        or_empty(row.text),
        or_empty(row.reason),
    ]
}

/// The findings, by line: a JSON array, CSV with the same fields (lists joined by spaces), or
/// a table with a count per kind of finding.
pub fn findings(
    out: &mut impl Write,
    findings: &[Finding],
    checked: &CheckedFile,
    format: Format,
) -> io::Result<()> {
    match format {
        Format::Json => write_json(out, findings),
        Format::Csv => write_csv(out, &FindingRow::KEYS, findings.iter().map(csv_row)),
        Format::Table => table(out, findings, checked),
    }
}

fn table(out: &mut impl Write, findings: &[Finding], checked: &CheckedFile) -> io::Result<()> {
    let against = format!(
        "the registry of {} (snapshot {})",
        checked.snapshot.registry_date, checked.snapshot.id
    );
    let entries = match checked.entries {
        1 => "1 entry".to_string(),
        n => format!("{n} entries"),
    };
    if findings.is_empty() {
        return writeln!(
            out,
            "No findings: {entries} of {} checked against {against}, all agree.",
            checked.file
        );
    }
    let mut table = new_table(&[
        "line",
        "finding",
        "entry",
        "IANA there",
        "IANA's ports for the name",
        "since",
    ]);
    for finding in findings {
        let row = match finding {
            Finding::Entry(entry) => {
                let mut label = format!("{} {}/{}", entry.name, entry.port, entry.protocol);
                if !entry.aliases.is_empty() {
                    label.push_str(&format!(" ({})", entry.aliases.join(" ")));
                }
                let there = match (&entry.iana_note, entry.iana.is_empty()) {
                    (Some(note), true) => format!("({note})"),
                    _ => entry.iana.join(", "),
                };
                vec![
                    entry.line.to_string(),
                    entry.finding.as_str().to_string(),
                    label,
                    there,
                    entry.iana_ports.join(", "),
                    entry.since.map(|date| date.to_string()).unwrap_or_default(),
                ]
            }
            Finding::Unreadable(line) => vec![
                line.line.to_string(),
                FindingKind::Unreadable.as_str().to_string(),
                line.text.clone(),
                line.reason.clone(),
                String::new(),
                String::new(),
            ],
        };
        table.add_row(row);
    }
    writeln!(out, "{table}")?;
    let count = findings.len();
    writeln!(
        out,
        "{count} finding{} in {entries} of {}, against {against}:",
        if count == 1 { "" } else { "s" },
        checked.file
    )?;
    for kind in FindingKind::ALL {
        let n = findings.iter().filter(|f| f.kind() == kind).count();
        if n > 0 {
            writeln!(out, "{:>6} {:<10}  {}", n, kind.as_str(), kind.meaning())?;
        }
    }
    Ok(())
}
