//! `portreg check`'s answers as tables, JSON and CSV ([`findings`]), for a services(5) file
//! and a protocols(5) file alike: each registry's finding says its columns ([`FindingCells`]).

use super::{Format, new_table, write_csv, write_json};
use crate::check::protocols::{ProtocolFinding, ProtocolFindingRow};
use crate::check::services::{FindingRow, ServiceFinding};
use crate::check::{Checked, EntryFinding, FindingKind};
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

/// How a registry's findings show: CSV columns (field for field the JSON object, lists joined
/// by spaces, empty where JSON has null) and table columns.
pub trait FindingCells: EntryFinding + Sized {
    /// Whose findings: the words of the counts under the table.
    const REGISTRY: Registry;
    /// The CSV header: the JSON keys, in order.
    const KEYS: &'static [&'static str];
    /// The table's header.
    const HEADER: &'static [&'static str];
    fn csv_row(finding: &Checked<Self>) -> Vec<String>;
    /// The table cells of an entry's finding (an unreadable line's are shared).
    fn table_row(&self) -> Vec<String>;
}

/// The findings, by line: a JSON array, CSV with the same fields (lists joined by spaces), or
/// a table with a count per kind of finding.
pub fn findings<E: FindingCells>(
    out: &mut impl Write,
    findings: &[Checked<E>],
    checked: &CheckedFile,
    format: Format,
) -> io::Result<()> {
    match format {
        Format::Json => write_json(out, findings),
        Format::Csv => write_csv(out, E::KEYS, findings.iter().map(E::csv_row)),
        Format::Table => table(out, findings, checked),
    }
}

fn table<E: FindingCells>(
    out: &mut impl Write,
    findings: &[Checked<E>],
    checked: &CheckedFile,
) -> io::Result<()> {
    if findings.is_empty() {
        return checked.all_agree(out);
    }
    let mut table = new_table(E::HEADER);
    for finding in findings {
        let row = match finding {
            Checked::Entry(entry) => entry.table_row(),
            Checked::Unreadable(line) => {
                let mut row = vec![
                    line.line.to_string(),
                    FindingKind::Unreadable.as_str().to_string(),
                    spaced(&line.text),
                    line.reason.clone(),
                ];
                row.resize(E::HEADER.len(), String::new());
                row
            }
        };
        table.add_row(row);
    }
    writeln!(out, "{table}")?;
    let kinds: Vec<FindingKind> = findings.iter().map(Checked::kind).collect();
    checked.counts(out, &kinds, E::REGISTRY)
}

/// A line as a table cell: its tabs and runs of spaces as one space each, so the columns hold
/// (JSON and CSV keep the line as written).
fn spaced(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn or_empty(value: Option<&str>) -> String {
    value.unwrap_or_default().to_string()
}

impl FindingCells for ServiceFinding {
    const REGISTRY: Registry = Registry::Services;
    const KEYS: &'static [&'static str] = &FindingRow::KEYS;
    const HEADER: &'static [&'static str] = &[
        "line",
        "finding",
        "entry",
        "IANA there",
        "IANA's ports for the name",
        "since",
    ];

    fn csv_row(finding: &Checked<Self>) -> Vec<String> {
        let row = finding.row();
        vec![
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

    fn table_row(&self) -> Vec<String> {
        let mut label = format!("{} {}/{}", self.name, self.port, self.protocol);
        if !self.aliases.is_empty() {
            label.push_str(&format!(" ({})", self.aliases.join(" ")));
        }
        let there = match (&self.iana_note, self.iana.is_empty()) {
            (Some(note), true) => format!("({note})"),
            _ => self.iana.join(", "),
        };
        vec![
            self.line.to_string(),
            self.finding.as_str().to_string(),
            label,
            there,
            self.iana_ports.join(", "),
            self.since.map(|date| date.to_string()).unwrap_or_default(),
        ]
    }
}

impl FindingCells for ProtocolFinding {
    const REGISTRY: Registry = Registry::Protocols;
    const KEYS: &'static [&'static str] = &ProtocolFindingRow::KEYS;
    const HEADER: &'static [&'static str] = &["line", "finding", "entry", "IANA there", "since"];

    fn csv_row(finding: &Checked<Self>) -> Vec<String> {
        let row = finding.row();
        vec![
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

    fn table_row(&self) -> Vec<String> {
        let mut label = format!("{} {}", self.name, self.value);
        if !self.aliases.is_empty() {
            label.push_str(&format!(" ({})", self.aliases.join(" ")));
        }
        let there = match (&self.iana_note, self.iana.is_empty()) {
            (Some(note), true) => format!("({note})"),
            _ => self.iana.join(", "),
        };
        vec![
            self.line.to_string(),
            self.finding.as_str().to_string(),
            label,
            there,
            self.since.map(|date| date.to_string()).unwrap_or_default(),
        ]
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
