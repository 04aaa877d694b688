//! Changes: as the contract has them (JSON, CSV, a plain table for `diff`), grouped for people
//! (see [`crate::report`]: the table of `changes`, Markdown for `diff` and `changes`, HTML for
//! the feed's entries), and the few lines `fetch` prints when a version lands, in the same
//! groups.

use super::records::{field_changes, name_with_ordinal, record_label, summary};
use super::{Format, new_table, paint, write_csv, write_json};
use crate::fetch::Outcome;
use crate::model::{Change, ChangeKind, Record, RecordField};
use crate::output::key_label;
use crate::report::{Group, Line, group_changes};
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

/// How many report lines a fetch summary lists before pointing at `portreg diff --format
/// markdown`, which lists the same lines, all of them.
const SUMMARY_LINES: usize = 5;

/// What `fetch` prints: nothing for "no change" when `quiet`, else one line, plus the first
/// few changes of a new snapshot, grouped as `portreg changes` groups them (what cron mails).
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
            let lines = group_changes(changes);
            // A "1 more" line would take the place of the line it hides.
            let shown = if lines.len() > SUMMARY_LINES + 1 {
                SUMMARY_LINES
            } else {
                lines.len()
            };
            for line in &lines[..shown] {
                writeln!(out, "  {}", summary_line(line))?;
            }
            if shown < lines.len() {
                writeln!(
                    out,
                    "  ... {} more: portreg diff {} {} --format markdown",
                    lines.len() - shown,
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

/// `443/tcp https`; the label alone for a record without a name; the name alone for a service
/// name without a port.
fn label_and_name(record: &Record) -> String {
    let label = record_label(record);
    match (
        record.port.is_some() || record.protocol.is_some(),
        record.name.is_some(),
    ) {
        (true, true) => format!("{label} {}", name_with_ordinal(record)),
        (false, true) => name_with_ordinal(record),
        (_, false) => label,
    }
}

/// One report line in a few words, as a fetch summary lists it:
/// `newly assigned: 4711/tcp trinity-dist (was Unassigned)`, `de-assigned: 2/tcp compressnet`,
/// `removed: 8010/tcp cfg-cloud`, `modified: 443/tcp https: description, contact`,
/// `redrawn: 4700-4710 Unassigned (was 4700-4720 Unassigned)`.
fn summary_line(line: &Line) -> String {
    let record = &line.record;
    let joined = |words: Vec<String>| {
        let mut words = words;
        words.dedup();
        words.join("; ")
    };
    match line.group {
        Group::NewlyAssigned if !line.before.is_empty() => {
            let was = line.before.iter().map(|before| match &before.name {
                Some(_) if record_label(before) == record_label(record) => {
                    name_with_ordinal(before)
                }
                Some(_) => label_and_name(before),
                None => before
                    .description
                    .clone()
                    .unwrap_or_else(|| "Unassigned".to_string()),
            });
            format!(
                "newly assigned: {} (was {})",
                label_and_name(record),
                joined(was.collect())
            )
        }
        Group::NewlyAssigned => format!("newly assigned: {}", label_and_name(record)),
        Group::DeassignedOrReserved if !line.before.is_empty() => {
            // The services it took the place of, not the Unassigned ranges around them.
            let services: Vec<&Record> = line.before.iter().filter(|b| b.name.is_some()).collect();
            let gone = if services.is_empty() {
                line.before.iter().collect()
            } else {
                services
            };
            format!(
                "de-assigned: {}",
                joined(gone.into_iter().map(label_and_name).collect())
            )
        }
        Group::DeassignedOrReserved => format!(
            "reserved: {} {}",
            record_label(record),
            record.description.as_deref().unwrap_or("Reserved")
        ),
        Group::Removed => format!("removed: {}", label_and_name(record)),
        Group::Modified if line.changed_fields.is_empty() => {
            format!("modified: {}", label_and_name(record))
        }
        Group::Modified => format!(
            "modified: {}: {}",
            label_and_name(record),
            field_names(&line.changed_fields, ", ")
        ),
        Group::Redrawn => format!(
            "redrawn: {}{}",
            entry_label(record),
            was_suffix(&line.before)
        ),
    }
}

/// A record as what a line replaced names it: `8077/tcp mles`, `4700-4720 Unassigned` (its
/// description when it has no name), `argus` (a service name without a port).
fn entry_label(record: &Record) -> String {
    match (&record.name, &record.description) {
        (None, Some(description)) => format!("{} {description}", record_label(record)),
        _ => label_and_name(record),
    }
}

/// ` (was 5541-5549 Unassigned)`, ` (was 8077/tcp mles; 8077/udp mles)`; nothing when the line
/// replaced nothing.
fn was_suffix(before: &[Record]) -> String {
    if before.is_empty() {
        return String::new();
    }
    let names: Vec<String> = before.iter().map(entry_label).collect();
    format!(" (was {})", names.join("; "))
}

/// What a report line says beyond its port and name, in parts: one per changed field for a
/// modification (`contact: A -> B`), else one: the record's description and notes, then what
/// it replaced (`(was 5541-5549 Unassigned)`), every record it replaced.
pub(super) fn line_details(line: &Line) -> Vec<String> {
    let record = &line.record;
    match (line.group, line.before.first()) {
        (Group::Modified, Some(before)) => line
            .changed_fields
            .iter()
            .map(|&field| field_changes(before, record, &[field]))
            .collect(),
        (Group::Modified, None) => vec![format!(
            "modified {} (old values not in this history): {}",
            record.modified.as_deref().unwrap_or("?"),
            summary(record)
        )],
        _ => vec![format!("{}{}", summary(record), was_suffix(&line.before))],
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
            // Bookkeeping: bold in the terminal's own colour.
            Group::Redrawn => "39",
        };
        let title = format!("{} ({})", group.title(), members.len());
        writeln!(out, "{}", paint(&title, code, color))?;
        let mut table = new_table(&["port", "name", "what"]);
        for line in members {
            let record = &line.record;
            table.add_row(vec![
                record_label(record),
                name_with_ordinal(record),
                line_details(line).join("\n"),
            ]);
        }
        writeln!(out, "{table}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::grouped::{html, markdown, markdown_text};

    fn record(name: Option<&str>, protocol: Option<&str>, port: Option<&str>) -> Record {
        Record {
            name: name.map(str::to_string),
            protocol: protocol.map(str::to_string),
            port: port.map(str::to_string),
            description: Some("Described".into()),
            ..Record::default()
        }
    }

    fn line(group: Group, record: Record, before: Option<Record>) -> Line {
        Line {
            group,
            record,
            before: before.into_iter().collect(),
            changed_fields: Vec::new(),
        }
    }

    #[test]
    fn markdown_text_escapes_what_would_format_and_leaves_the_rest() {
        assert_eq!(
            markdown_text("enabled=<true|false> *x* _y_ `z` [a](b) ~s~ $m$ back\\slash"),
            "enabled=\\<true\\|false> \\*x\\* \\_y\\_ \\`z\\` \\[a\\](b) \\~s\\~ \\$m\\$ back\\\\slash"
        );
        // An entity would become another character; R&D stays as written.
        assert_eq!(markdown_text("R&D &amp; &#38;"), "R&D \\&amp; \\&#38;");
        // @team would mention someone; an address would not.
        assert_eq!(
            markdown_text("ask @team or a@example.com"),
            "ask \\@team or a@example.com"
        );
        assert_eq!(markdown_text("two\nlines\r\n"), "two lines  ");
        assert_eq!(
            markdown_text("4700-4720/tcp -> (none) #2"),
            "4700-4720/tcp -> (none) #2"
        );
    }

    #[test]
    fn fetch_summary_lines_say_what_happened_in_a_few_words() {
        let unassigned = Record {
            description: Some("Unassigned".into()),
            ..record(None, None, Some("4700-4720"))
        };
        let service = record(Some("trinity-dist"), Some("tcp"), Some("4711"));
        assert_eq!(
            summary_line(&line(
                Group::NewlyAssigned,
                service.clone(),
                Some(unassigned)
            )),
            "newly assigned: 4711/tcp trinity-dist (was Unassigned)"
        );
        let renamed = record(Some("old-name"), Some("tcp"), Some("4711"));
        assert_eq!(
            summary_line(&line(Group::NewlyAssigned, service.clone(), Some(renamed))),
            "newly assigned: 4711/tcp trinity-dist (was old-name)"
        );
        let reserved = Record {
            description: Some("Reserved".into()),
            ..record(None, Some("tcp"), Some("2"))
        };
        let compressnet = record(Some("compressnet"), Some("tcp"), Some("2"));
        assert_eq!(
            summary_line(&line(
                Group::DeassignedOrReserved,
                reserved.clone(),
                Some(compressnet.clone())
            )),
            "de-assigned: 2/tcp compressnet"
        );
        assert_eq!(
            summary_line(&line(Group::DeassignedOrReserved, reserved, None)),
            "reserved: 2/tcp Reserved"
        );
        assert_eq!(
            summary_line(&line(Group::Removed, compressnet, None)),
            "removed: 2/tcp compressnet"
        );
        let mut modified = line(
            Group::Modified,
            record(Some("https"), Some("tcp"), Some("443")),
            Some(record(Some("https"), Some("tcp"), Some("443"))),
        );
        modified.changed_fields = vec![RecordField::Description, RecordField::Contact];
        assert_eq!(
            summary_line(&modified),
            "modified: 443/tcp https: description, contact"
        );
        let name_only = record(Some("argus"), None, None);
        assert_eq!(
            summary_line(&line(Group::NewlyAssigned, name_only, None)),
            "newly assigned: argus"
        );
        // A Reserved entry without a protocol where both services were: both named.
        let mut both = line(Group::DeassignedOrReserved, reserved_range(), None);
        both.before = vec![
            record(Some("mles"), Some("tcp"), Some("8077")),
            record(Some("mles"), Some("udp"), Some("8077")),
        ];
        assert_eq!(
            summary_line(&both),
            "de-assigned: 8077/tcp mles; 8077/udp mles"
        );
        // The Unassigned ranges around a de-assigned service are not what was de-assigned.
        let mut merged = line(
            Group::DeassignedOrReserved,
            unassigned_range("8712-8731"),
            None,
        );
        merged.before = vec![
            unassigned_range("8712-8729"),
            record(Some("semi-grpc"), Some("tcp"), Some("8730")),
            unassigned_range("8731"),
        ];
        assert_eq!(summary_line(&merged), "de-assigned: 8730/tcp semi-grpc");
        // A service over two Unassigned ranges: "Unassigned" once.
        let mut two_ranges = line(Group::NewlyAssigned, service, None);
        two_ranges.before = vec![unassigned_range("4700-4710"), unassigned_range("4711-4720")];
        assert_eq!(
            summary_line(&two_ranges),
            "newly assigned: 4711/tcp trinity-dist (was Unassigned)"
        );
        assert_eq!(
            summary_line(&line(
                Group::Redrawn,
                unassigned_range("4700-4710"),
                Some(unassigned_range("4700-4720"))
            )),
            "redrawn: 4700-4710 Unassigned (was 4700-4720 Unassigned)"
        );
    }

    fn unassigned_range(port: &str) -> Record {
        Record {
            description: Some("Unassigned".into()),
            ..record(None, None, Some(port))
        }
    }

    fn reserved_range() -> Record {
        Record {
            description: Some("Reserved".into()),
            ..record(None, None, Some("8077"))
        }
    }

    #[test]
    fn every_record_a_line_replaced_is_in_its_details() {
        let mut both = line(Group::DeassignedOrReserved, reserved_range(), None);
        both.before = vec![
            record(Some("mles"), Some("tcp"), Some("8077")),
            record(Some("mles"), Some("udp"), Some("8077")),
        ];
        assert_eq!(
            line_details(&both),
            ["Reserved (was 8077/tcp mles; 8077/udp mles)"]
        );
        let mut merged = line(Group::Redrawn, unassigned_range("100-110"), None);
        merged.before = vec![unassigned_range("100-104"), unassigned_range("106-110")];
        assert_eq!(
            line_details(&merged),
            ["Unassigned (was 100-104 Unassigned; 106-110 Unassigned)"]
        );
        let mut second = record(Some("old"), Some("tcp"), Some("4711"));
        second.ordinal = 2;
        assert_eq!(
            line_details(&line(
                Group::NewlyAssigned,
                record(Some("new"), Some("tcp"), Some("4711")),
                Some(second)
            )),
            ["Described (was 4711/tcp old #2)"]
        );
        assert_eq!(
            line_details(&line(Group::Removed, reserved_range(), None)),
            ["Reserved"]
        );

        let lines = [both, merged];
        let mut out = Vec::new();
        markdown(&mut out, "t", &lines).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "## t\n\n### De-assigned or reserved (1)\n\n\
             - 8077: Reserved (was 8077/tcp mles; 8077/udp mles)\n\n\
             ### Unassigned ranges redrawn (1)\n\n\
             - 100-110: Unassigned (was 100-104 Unassigned; 106-110 Unassigned)\n"
        );
        let html = html(&lines);
        assert!(
            html.contains("<h3>Unassigned ranges redrawn (1)</h3>"),
            "{html}"
        );
        assert!(
            html.contains(
                "<tr><td>100-110</td><td></td><td>Unassigned (was 100-104 Unassigned; 106-110 Unassigned)</td></tr>"
            ),
            "{html}"
        );
        let mut table = Vec::new();
        report(&mut table, &lines, false).unwrap();
        let table = String::from_utf8(table).unwrap();
        assert!(table.contains("Unassigned ranges redrawn (1)\n"), "{table}");
        assert!(
            table.contains("(was 8077/tcp mles; 8077/udp mles)"),
            "{table}"
        );
    }

    #[test]
    fn markdown_and_html_list_each_line_once_under_its_group() {
        let mut before = record(Some("https"), Some("tcp"), Some("443"));
        before.contact = Some(vec!["IETF_Chair".into()]);
        let mut after = before.clone();
        after.contact = Some(vec!["IESG".into()]);
        after.description = Some("http <over> TLS".into());
        let mut modified = line(Group::Modified, after, Some(before));
        modified.changed_fields = vec![RecordField::Description, RecordField::Contact];
        let lines = vec![
            line(
                Group::NewlyAssigned,
                record(Some("a_b"), Some("udp"), Some("9")),
                None,
            ),
            modified,
        ];
        let mut out = Vec::new();
        markdown(&mut out, "Changes from snapshot 1 to 2", &lines).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "## Changes from snapshot 1 to 2\n\
             \n\
             ### Newly assigned (1)\n\
             \n\
             - 9/udp **a\\_b**: Described\n\
             \n\
             ### Modified (1)\n\
             \n\
             - 443/tcp **https**: description: Described -> http \\<over> TLS; contact: IETF\\_Chair -> IESG\n"
        );
        let html = html(&lines);
        assert_eq!(html.matches("<tr><td>").count(), 2, "{html}");
        assert!(html.contains("<h3>Modified (1)</h3>"), "{html}");
        assert!(
            html.contains(
                "<td>description: Described -&gt; http &lt;over&gt; TLS<br>contact: IETF_Chair -&gt; IESG</td>"
            ),
            "{html}"
        );
    }
}
