//! Exports of one snapshot: a services(5) file, IANA's own CSV layout, and JSON records.

use crate::lookup::PROTOCOLS;
use crate::model::{Record, parse_port_range};
use crate::output::write_csv;
use crate::store::SnapshotId;
use std::io::{self, Write};

/// Where an exported snapshot came from, for the services file's header.
pub struct ExportSource<'a> {
    pub snapshot_id: SnapshotId,
    pub registry_date: &'a str,
    pub sha256: &'a str,
}

/// What the services export left out, and why.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ServicesSummary {
    pub lines: usize,
    /// Named port ranges (services(5) has one port per line).
    pub ranges: usize,
    /// Names with white space, which services(5) cannot hold.
    pub unusable_names: usize,
}

/// The single-port entries of a services(5) file, in file order: by port, then tcp, udp,
/// sctp, dccp, then name. One line per (name, port, protocol).
pub fn services_entries(
    records: &[Record],
) -> (Vec<(String, u32, String, String)>, ServicesSummary) {
    let mut summary = ServicesSummary::default();
    let mut entries = Vec::new();
    for record in records {
        let (Some(name), Some(protocol), Some(port)) =
            (&record.name, &record.protocol, &record.port)
        else {
            continue;
        };
        let Some(rank) = PROTOCOLS.iter().position(|p| p == protocol) else {
            continue;
        };
        let Some((lo, hi)) = parse_port_range(port) else {
            continue;
        };
        if lo != hi {
            summary.ranges += 1;
            continue;
        }
        if name.chars().any(char::is_whitespace) || name.contains('#') {
            summary.unusable_names += 1;
            continue;
        }
        let comment = record
            .description
            .clone()
            .unwrap_or_default()
            .replace(['\n', '\r'], " ");
        entries.push((rank, lo, name.clone(), protocol.clone(), comment));
    }
    entries.sort_by(|a, b| (a.1, a.0, &a.2).cmp(&(b.1, b.0, &b.2)));
    entries.dedup_by(|a, b| (a.0, a.1, &a.2) == (b.0, b.1, &b.2));
    summary.lines = entries.len();
    let entries = entries
        .into_iter()
        .map(|(_, port, name, protocol, comment)| (name, port, protocol, comment))
        .collect();
    (entries, summary)
}

/// Writes a services(5) file: `name port/protocol # description`, as netbase and iana-etc
/// ship it, for the assigned tcp, udp, sctp and dccp ports of the snapshot.
pub fn write_services(
    out: &mut impl Write,
    records: &[Record],
    source: &ExportSource,
) -> io::Result<ServicesSummary> {
    let (entries, summary) = services_entries(records);
    writeln!(
        out,
        "# services(5) made by portreg {} from the IANA Service Name and Transport Protocol",
        env!("CARGO_PKG_VERSION")
    )?;
    writeln!(
        out,
        "# Port Number Registry of {} (snapshot {}, sha256 {}).",
        source.registry_date, source.snapshot_id, source.sha256
    )?;
    writeln!(
        out,
        "# Assigned single ports only: {} named port ranges and {} names with spaces are left out.",
        summary.ranges, summary.unusable_names
    )?;
    writeln!(
        out,
        "# A name on several ports is listed at each; getservbyname() finds the lowest."
    )?;
    for (name, port, protocol, comment) in entries {
        let port_protocol = format!("{port}/{protocol}");
        if comment.is_empty() {
            writeln!(out, "{name:<15} {port_protocol}")?;
        } else {
            writeln!(out, "{name:<15} {port_protocol:<15} # {comment}")?;
        }
    }
    Ok(summary)
}

/// IANA's CSV header (service-names-port-numbers.csv).
pub const IANA_CSV_HEADER: [&str; 12] = [
    "Service Name",
    "Port Number",
    "Transport Protocol",
    "Description",
    "Assignee",
    "Contact",
    "Registration Date",
    "Modification Date",
    "Reference",
    "Service Code",
    "Unauthorized Use Reported",
    "Assignment Notes",
];

/// `[Jon_Postel][IESG]`, as IANA's CSV writes people.
fn bracketed(ids: &Option<Vec<String>>) -> String {
    ids.iter().flatten().map(|id| format!("[{id}]")).collect()
}

/// `rfc:rfc6335` as `[RFC6335]`, other references as `[data]`, as IANA's CSV writes them.
fn references(list: &Option<Vec<String>>) -> String {
    list.iter()
        .flatten()
        .map(|reference| {
            let (kind, data) = reference.split_once(':').unwrap_or(("", reference));
            if kind == "rfc" {
                format!("[{}]", data.to_ascii_uppercase())
            } else {
                format!("[{data}]")
            }
        })
        .collect()
}

/// Writes the snapshot in the column layout of IANA's own CSV export.
pub fn write_iana_csv(out: &mut impl Write, records: &[Record]) -> io::Result<()> {
    let text = |field: &Option<String>| field.clone().unwrap_or_default();
    let rows = records.iter().map(|record| {
        [
            text(&record.name),
            text(&record.port),
            text(&record.protocol),
            text(&record.description),
            bracketed(&record.assignee),
            bracketed(&record.contact),
            text(&record.registered),
            text(&record.modified),
            references(&record.references),
            text(&record.service_code),
            text(&record.unauthorized),
            text(&record.notes),
        ]
    });
    write_csv(out, &IANA_CSV_HEADER, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, protocol: &str, port: &str, description: &str) -> Record {
        Record {
            name: Some(name.into()),
            protocol: Some(protocol.into()),
            port: Some(port.into()),
            description: Some(description.into()),
            ..Record::default()
        }
    }

    #[test]
    fn services_lines_skip_ranges_odd_names_and_repeats() {
        let records = [
            record("https", "udp", "443", "http protocol over TLS/SSL"),
            record("https", "tcp", "443", "http protocol over TLS/SSL"),
            record("x11", "tcp", "6000-6063", "X Window System"),
            record(
                "Apple Remote Desktop (Net Assistant)",
                "tcp",
                "3283",
                "Net Assistant",
            ),
            record("rdp", "tcp", "3389", ""),
            record("rdp", "tcp", "3389", ""),
        ];
        let mut out = Vec::new();
        let source = ExportSource {
            snapshot_id: SnapshotId(1),
            registry_date: "2025-01-01",
            sha256: "ab",
        };
        let summary = write_services(&mut out, &records, &source).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            [
                "https           443/tcp         # http protocol over TLS/SSL",
                "https           443/udp         # http protocol over TLS/SSL",
                "rdp             3389/tcp",
            ]
        );
        assert_eq!(
            summary,
            ServicesSummary {
                lines: 3,
                ranges: 1,
                unusable_names: 1
            }
        );
    }

    #[test]
    fn iana_csv_brackets_people_and_references() {
        let mut https = record("https", "tcp", "443", "http protocol over TLS/SSL");
        https.assignee = Some(vec!["IESG".into()]);
        https.contact = Some(vec!["IETF_Chair".into()]);
        https.references = Some(vec!["rfc:rfc9110".into(), "uri:https://example.org".into()]);
        let mut out = Vec::new();
        write_iana_csv(&mut out, &[https]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "https,443,tcp,http protocol over TLS/SSL,[IESG],[IETF_Chair],,,[RFC9110][https://example.org],,,"
        );
    }
}
