//! `portreg stats`'s answers as tables, JSON and CSV: one row per year of registry dates.

use super::{Format, csv_error, new_table, write_json};
use crate::stats::YearStats;
use comfy_table::CellAlignment;
use std::io::{self, Write};

/// The years, ascending. With more than one, the table ends with a row for the whole span
/// (`2017-2025`): its sums, and the records at its end.
pub fn years(out: &mut impl Write, years: &[YearStats], format: Format) -> io::Result<()> {
    match format {
        Format::Json => write_json(out, years),
        Format::Csv => {
            let mut csv = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(out);
            csv.write_record(CSV_HEADER).map_err(csv_error)?;
            for year in years {
                csv.serialize(year).map_err(csv_error)?;
            }
            csv.flush()
        }
        Format::Table => {
            let mut table = new_table(&[
                "year",
                "snapshots",
                "added",
                "removed",
                "modified",
                "newly\nassigned",
                "de-assigned\nor reserved",
                "records\n(year end)",
                "assigned",
                "unassigned\nor reserved",
            ]);
            let row = |label: String, y: &YearStats| {
                let mut cells = vec![label];
                cells.extend(
                    [
                        y.snapshots,
                        y.added,
                        y.removed,
                        y.modified,
                        y.newly_assigned,
                        y.deassigned,
                        y.records,
                        y.assigned,
                        y.unassigned_or_reserved,
                    ]
                    .map(|n| n.to_string()),
                );
                cells
            };
            for year in years {
                table.add_row(row(year.year.to_string(), year));
            }
            if let (Some(first), Some(total)) = (years.first(), span_total(years)) {
                table.add_row(row(format!("{}-{}", first.year, total.year), &total));
            }
            for column in table.column_iter_mut().skip(1) {
                column.set_cell_alignment(CellAlignment::Right);
            }
            writeln!(out, "{table}")
        }
    }
}

/// The JSON keys, in their order: CSV's header (also for no rows).
const CSV_HEADER: [&str; 10] = [
    "year",
    "snapshots",
    "added",
    "removed",
    "modified",
    "records",
    "newly_assigned",
    "deassigned",
    "assigned",
    "unassigned_or_reserved",
];

/// The whole span as one row, when it is more than one year: sums of the counts, and the
/// last year's records.
fn span_total(years: &[YearStats]) -> Option<YearStats> {
    let last = years.last().filter(|_| years.len() > 1)?;
    let sum = |value: fn(&YearStats) -> i64| years.iter().map(value).sum::<i64>();
    Some(YearStats {
        snapshots: sum(|y| y.snapshots),
        added: sum(|y| y.added),
        removed: sum(|y| y.removed),
        modified: sum(|y| y.modified),
        newly_assigned: sum(|y| y.newly_assigned),
        deassigned: sum(|y| y.deassigned),
        ..last.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_header_is_the_json_keys() {
        let year = YearStats {
            year: 2024,
            snapshots: 1,
            added: 2,
            removed: 3,
            modified: 4,
            records: 5,
            newly_assigned: 6,
            deassigned: 7,
            assigned: 8,
            unassigned_or_reserved: 9,
        };
        let json = serde_json::to_value(&year).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, CSV_HEADER);
        let mut csv = Vec::new();
        years(&mut csv, &[year], Format::Csv).unwrap();
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            format!("{}\n2024,1,2,3,4,5,6,7,8,9\n", CSV_HEADER.join(","))
        );
    }
}
