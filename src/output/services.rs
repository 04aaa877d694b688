//! A snapshot as files other tools read: a services(5) file, and IANA's own CSV layout.

use super::write_csv;
use crate::export::services::{ExportedService, ServicesSummary, services_entries};
use crate::model::ServiceRecord;
use crate::store::SnapshotRow;
use std::io::{self, Write};

/// Writes a services(5) file: `name port/protocol # description`, as netbase and iana-etc
/// ship it, for the assigned tcp, udp, sctp and dccp ports of the snapshot's records.
pub fn services(
    out: &mut impl Write,
    records: &[ServiceRecord],
    snapshot: &SnapshotRow,
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
        snapshot.registry_date, snapshot.id, snapshot.sha256
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
    for ExportedService {
        name,
        port,
        protocol,
        comment,
    } in entries
    {
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

/// Writes the records in the column layout of IANA's own CSV export.
pub fn iana_csv(out: &mut impl Write, records: &[ServiceRecord]) -> io::Result<()> {
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
    use crate::store::{Seq, SnapshotId};

    fn record(name: &str, protocol: &str, port: &str, description: &str) -> ServiceRecord {
        ServiceRecord::entry(Some(name), Some(protocol), port, description)
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
        let snapshot = SnapshotRow {
            id: SnapshotId(1),
            sha256: "ab".into(),
            registry_date: "2025-01-01".parse().unwrap(),
            observed_at: "2025-01-02T00:00:00Z".parse().unwrap(),
            source: "test".into(),
            records: 6,
            people: 0,
            byte_size: 1,
            added: None,
            removed: None,
            modified: None,
            seq: Seq(1),
            registry: crate::model::Registry::Services,
        };
        let summary = services(&mut out, &records, &snapshot).unwrap();
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
        iana_csv(&mut out, &[https]).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text.lines().nth(1).unwrap(),
            "https,443,tcp,http protocol over TLS/SSL,[IESG],[IETF_Chair],,,[RFC9110][https://example.org],,,"
        );
    }
}
