//! Changes grouped as people read them (see [`crate::report`]): the table of `changes`, the
//! details each line shows, and the one-line summaries `fetch` prints.

use super::changes::field_names;
use super::records::{field_changes, summary};
use super::{new_table, paint};
use crate::model::{Record, name_with_ordinal};
use crate::report::{Group, Line};
use std::io::{self, Write};

/// `443/tcp https`, `6 TCP`; the label alone for a record without a name; the name alone for
/// a service name without a port.
fn label_and_name<R: Record>(record: &R) -> String {
    let label = record.label();
    match (record.has_place(), record.name().is_some()) {
        (true, true) => format!("{label} {}", name_with_ordinal(record)),
        (false, true) => name_with_ordinal(record),
        (_, false) => label,
    }
}

/// One report line in a few words, as a fetch summary lists it:
/// `newly assigned: 4711/tcp trinity-dist (was Unassigned)`, `de-assigned: 2/tcp compressnet`,
/// `removed: 8010/tcp cfg-cloud`, `modified: 443/tcp https: description, contact`,
/// `redrawn: 4700-4710 Unassigned (was 4700-4720 Unassigned)`.
pub(super) fn summary_line<R: Record>(line: &Line<R>) -> String {
    let record = &line.record;
    let joined = |words: Vec<String>| {
        let mut words = words;
        words.dedup();
        words.join("; ")
    };
    match line.group {
        Group::NewlyAssigned if !line.before.is_empty() => {
            let was = line.before.iter().map(|before| match before.name() {
                Some(_) if before.label() == record.label() => name_with_ordinal(before),
                Some(_) => label_and_name(before),
                None => before.description().unwrap_or("Unassigned").to_string(),
            });
            format!(
                "newly assigned: {} (was {})",
                label_and_name(record),
                joined(was.collect())
            )
        }
        Group::NewlyAssigned => format!("newly assigned: {}", label_and_name(record)),
        Group::DeassignedOrReserved if !line.before.is_empty() => {
            // The named records it took the place of, not the Unassigned ranges around them.
            let named: Vec<&R> = line.before.iter().filter(|b| b.name().is_some()).collect();
            let gone = if named.is_empty() {
                line.before.iter().collect()
            } else {
                named
            };
            format!(
                "de-assigned: {}",
                joined(gone.into_iter().map(label_and_name).collect())
            )
        }
        Group::DeassignedOrReserved => format!(
            "reserved: {} {}",
            record.label(),
            record.description().unwrap_or("Reserved")
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
fn entry_label<R: Record>(record: &R) -> String {
    match (record.name(), record.description()) {
        (None, Some(description)) => format!("{} {description}", record.label()),
        _ => label_and_name(record),
    }
}

/// ` (was 5541-5549 Unassigned)`, ` (was 8077/tcp mles; 8077/udp mles)`; nothing when the line
/// replaced nothing.
fn was_suffix<R: Record>(before: &[R]) -> String {
    if before.is_empty() {
        return String::new();
    }
    let names: Vec<String> = before.iter().map(entry_label).collect();
    format!(" (was {})", names.join("; "))
}

/// What a report line says beyond its port and name, in parts: one per changed field for a
/// modification (`contact: A -> B`), else one: the record's description and notes, then what
/// it replaced (`(was 5541-5549 Unassigned)`), every record it replaced.
pub(super) fn line_details<R: Record>(line: &Line<R>) -> Vec<String> {
    let record = &line.record;
    match (line.group, line.before.first()) {
        (Group::Modified, Some(before)) => line
            .changed_fields
            .iter()
            .map(|&field| field_changes(before, record, &[field]))
            .collect(),
        (Group::Modified, None) => vec![format!(
            "modified {} (old values not in this history): {}",
            record.modified().unwrap_or("?"),
            summary(record)
        )],
        _ => vec![format!("{}{}", summary(record), was_suffix(&line.before))],
    }
}

/// `portreg changes` as a table for people (see [`crate::report`]).
pub fn report<R: Record>(out: &mut impl Write, lines: &[Line<R>], color: bool) -> io::Result<()> {
    if lines.is_empty() {
        return writeln!(out, "No changes.");
    }
    for group in Group::ALL {
        let members: Vec<&Line<R>> = lines.iter().filter(|l| l.group == group).collect();
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
        let mut table = new_table(&[R::LABEL_HEADER, "name", "what"]);
        for line in members {
            let record = &line.record;
            table.add_row(vec![
                record.label(),
                name_with_ordinal(record),
                line_details(line).join("\n"),
            ]);
        }
        writeln!(out, "{table}")?;
    }
    Ok(())
}

/// The grouped report's test records and lines, shared with [`super::grouped`]'s tests.
#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::model::ServiceField;
    use crate::model::ServiceRecord;

    pub(in crate::output) fn record(
        name: Option<&str>,
        protocol: Option<&str>,
        port: Option<&str>,
    ) -> ServiceRecord {
        ServiceRecord {
            name: name.map(str::to_string),
            protocol: protocol.map(str::to_string),
            port: port.map(str::to_string),
            description: Some("Described".into()),
            ..ServiceRecord::default()
        }
    }

    pub(in crate::output) fn line(
        group: Group,
        record: ServiceRecord,
        before: Option<ServiceRecord>,
    ) -> Line<ServiceRecord> {
        Line {
            group,
            record,
            before: before.into_iter().collect(),
            changed_fields: Vec::new(),
        }
    }

    #[test]
    fn fetch_summary_lines_say_what_happened_in_a_few_words() {
        let unassigned = ServiceRecord {
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
        let reserved = ServiceRecord {
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
        modified.changed_fields = vec![ServiceField::Description, ServiceField::Contact];
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

    fn unassigned_range(port: &str) -> ServiceRecord {
        ServiceRecord {
            description: Some("Unassigned".into()),
            ..record(None, None, Some(port))
        }
    }

    fn reserved_range() -> ServiceRecord {
        ServiceRecord {
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
    }
}
