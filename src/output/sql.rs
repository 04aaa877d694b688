//! The answer to `portreg sql`: JSON objects keep the column order.

use super::{Format, new_table, write_csv, write_json};
use crate::store::SqlAnswer;
use std::io::{self, Write};

pub fn sql(out: &mut impl Write, answer: &SqlAnswer, format: Format) -> io::Result<()> {
    let plain = |value: &serde_json::Value| match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match format {
        Format::Json => {
            let objects: Vec<serde_json::Map<String, serde_json::Value>> = answer
                .rows
                .iter()
                .map(|row| {
                    answer
                        .columns
                        .iter()
                        .cloned()
                        .zip(row.iter().cloned())
                        .collect()
                })
                .collect();
            write_json(out, &objects)
        }
        Format::Csv => {
            let header: Vec<&str> = answer.columns.iter().map(String::as_str).collect();
            let rows = answer.rows.iter().map(|row| row.iter().map(plain));
            write_csv(out, &header, rows)
        }
        Format::Table => {
            let header: Vec<&str> = answer.columns.iter().map(String::as_str).collect();
            let mut table = new_table(&header);
            for row in &answer.rows {
                table.add_row(row.iter().map(plain).collect::<Vec<_>>());
            }
            writeln!(out, "{table}")?;
            writeln!(out, "({} rows)", answer.rows.len())
        }
    }
}
