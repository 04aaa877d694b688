//! `portreg free`'s answers as tables, JSON and CSV.

use super::{Format, new_table, write_csv, write_json};
use crate::model::PortRange;
use crate::store::SnapshotRow;
use std::io::{self, Write};

/// What was asked and of which snapshot, for the table's last line.
pub struct FreeQuestion<'a> {
    pub ports: PortRange,
    pub protocols: &'a [String],
    pub never_assigned: bool,
    /// The snapshot that answered.
    pub snapshot: &'a SnapshotRow,
}

impl FreeQuestion<'_> {
    /// `1024-49151 (or `4711`) for tcp and udp in the registry of 2025-12-18 (snapshot 21)`.
    fn describe(&self) -> String {
        let ports = self.ports;
        let protocols = match self.protocols {
            [] => String::new(),
            [one] => one.clone(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        };
        let history = if self.never_assigned {
            ", never assigned in any stored snapshot"
        } else {
            ""
        };
        format!(
            "{ports} for {protocols} in the registry of {} (snapshot {}){history}",
            self.snapshot.registry_date, self.snapshot.id
        )
    }
}

/// The free ports as maximal runs: a JSON array of `{"from","to"}`, CSV `from,to`, or a table
/// of runs with their sizes and a total.
pub fn free(
    out: &mut impl Write,
    runs: &[PortRange],
    question: &FreeQuestion,
    format: Format,
) -> io::Result<()> {
    match format {
        Format::Json => write_json(out, runs),
        Format::Csv => write_csv(
            out,
            &["from", "to"],
            runs.iter()
                .map(|run| [run.first.to_string(), run.last.to_string()]),
        ),
        Format::Table => {
            if runs.is_empty() {
                return writeln!(out, "No free ports in {}.", question.describe());
            }
            let mut table = new_table(&["from", "to", "ports"]);
            for run in runs {
                table.add_row(vec![
                    run.first.to_string(),
                    run.last.to_string(),
                    run.size().to_string(),
                ]);
            }
            writeln!(out, "{table}")?;
            let total: u32 = runs.iter().map(|run| run.size()).sum();
            let (ports, runs_word) = (
                if total == 1 { "port" } else { "ports" },
                if runs.len() == 1 { "run" } else { "runs" },
            );
            writeln!(
                out,
                "{total} free {ports} in {} {runs_word}: {}.",
                runs.len(),
                question.describe()
            )
        }
    }
}
