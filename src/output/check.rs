//! `portreg check`'s answers as tables, JSON and CSV: of a services(5) file ([`findings`]) and
//! of a protocols(5) file ([`protocol_findings`]).

use super::{Format, new_table, write_csv, write_json};
use crate::check::FindingKind;
use crate::check::protocols::{ProtocolCheckFinding, ProtocolFindingRow};
use crate::check::services::{Finding, FindingRow};
use crate::model::Registry;
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

impl CheckedFile<'_> {
    /// `the registry of 2025-12-15 (snapshot 390)`.
    fn against(&self) -> String {
        format!(
            "the registry of {} (snapshot {})",
            self.snapshot.registry_date, self.snapshot.id
        )
    }

    /// `1 entry`, `57 entries`.
    fn entries(&self) -> String {
        match self.entries {
            1 => "1 entry".to_string(),
            n => format!("{n} entries"),
        }
    }

    /// The line a check without findings prints.
    fn all_agree(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(
            out,
            "No findings: {} of {} checked against {}, all agree.",
            self.entries(),
            self.file,
            self.against()
        )
    }

    /// The lines after a findings table: their count, and how many of each kind.
    fn counts(
        &self,
        out: &mut impl Write,
        kinds: &[FindingKind],
        registry: Registry,
    ) -> io::Result<()> {
        let count = kinds.len();
        writeln!(
            out,
            "{count} finding{} in {} of {}, against {}:",
            if count == 1 { "" } else { "s" },
            self.entries(),
            self.file,
            self.against()
        )?;
        for kind in FindingKind::ALL {
            let n = kinds.iter().filter(|&&k| k == kind).count();
            if n > 0 {
                writeln!(
                    out,
                    "{:>6} {:<10}  {}",
                    n,
                    kind.as_str(),
                    kind.meaning(registry)
                )?;
            }
        }
        Ok(())
    }
}

fn table(out: &mut impl Write, findings: &[Finding], checked: &CheckedFile) -> io::Result<()> {
    if findings.is_empty() {
        return checked.all_agree(out);
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
                spaced(&line.text),
                line.reason.clone(),
                String::new(),
                String::new(),
            ],
        };
        table.add_row(row);
    }
    writeln!(out, "{table}")?;
    let kinds: Vec<FindingKind> = findings.iter().map(Finding::kind).collect();
    checked.counts(out, &kinds, Registry::Services)
}

/// A line as a table cell: its tabs and runs of spaces as one space each, so the columns hold
/// (JSON and CSV keep the line as written).
fn spaced(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A protocols(5) finding's row, field for field its JSON object.
fn protocol_csv_row(finding: &ProtocolCheckFinding) -> [String; 9] {
    let row = finding.row();
    let or_empty = |value: Option<&str>| value.unwrap_or_default().to_string();
    [
        row.line.to_string(),
        or_empty(row.name),
        row.aliases.join(" "),
        row.value.map(|value| value.to_string()).unwrap_or_default(),
        row.finding.as_str().to_string(),
        row.iana.join(" "),
        row.since.map(|date| date.to_string()).unwrap_or_default(),
        or_empty(row.text),
        or_empty(row.reason),
    ]
}

/// The findings of a protocols(5) check, as [`findings`] writes those of a services(5) one.
pub fn protocol_findings(
    out: &mut impl Write,
    findings: &[ProtocolCheckFinding],
    checked: &CheckedFile,
    format: Format,
) -> io::Result<()> {
    match format {
        Format::Json => write_json(out, findings),
        Format::Csv => write_csv(
            out,
            &ProtocolFindingRow::KEYS,
            findings.iter().map(protocol_csv_row),
        ),
        Format::Table => protocol_table(out, findings, checked),
    }
}

fn protocol_table(
    out: &mut impl Write,
    findings: &[ProtocolCheckFinding],
    checked: &CheckedFile,
) -> io::Result<()> {
    if findings.is_empty() {
        return checked.all_agree(out);
    }
    let mut table = new_table(&["line", "finding", "entry", "IANA there", "since"]);
    for finding in findings {
        let row = match finding {
            ProtocolCheckFinding::Entry(entry) => {
                let mut label = format!("{} {}", entry.name, entry.value);
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
                    entry.since.map(|date| date.to_string()).unwrap_or_default(),
                ]
            }
            ProtocolCheckFinding::Unreadable(line) => vec![
                line.line.to_string(),
                FindingKind::Unreadable.as_str().to_string(),
                spaced(&line.text),
                line.reason.clone(),
                String::new(),
            ],
        };
        table.add_row(row);
    }
    writeln!(out, "{table}")?;
    let kinds: Vec<FindingKind> = findings.iter().map(ProtocolCheckFinding::kind).collect();
    checked.counts(out, &kinds, Registry::Protocols)
}
