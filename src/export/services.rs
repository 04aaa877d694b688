//! Which records of a port registry snapshot make a services(5) file, and what is left out and
//! why.

use crate::model::{PROTOCOLS, ServiceRecord};

/// What the services export left out, and why.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ServicesSummary {
    pub lines: usize,
    /// Named port ranges (services(5) has one port per line).
    pub ranges: usize,
    /// Names with white space, which services(5) cannot hold.
    pub unusable_names: usize,
}

/// One line of a services(5) file: `name port/protocol # comment`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportedService {
    pub name: String,
    pub port: u16,
    pub protocol: String,
    /// The record's description on one line; empty when it has none.
    pub comment: String,
}

/// The single-port entries of a services(5) file, in file order: by port, then tcp, udp,
/// sctp, dccp, then name. One line per (name, port, protocol).
pub fn services_entries(records: &[ServiceRecord]) -> (Vec<ExportedService>, ServicesSummary) {
    let mut summary = ServicesSummary::default();
    let mut entries = Vec::new();
    for record in records {
        let (Some(name), Some(protocol), Some(ports)) =
            (&record.name, &record.protocol, record.covered_ports())
        else {
            continue;
        };
        let Some(rank) = PROTOCOLS.iter().position(|p| p == protocol) else {
            continue;
        };
        if !ports.is_single() {
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
        entries.push((rank, ports.first, name.clone(), protocol.clone(), comment));
    }
    entries.sort_by(|a, b| (a.1, a.0, &a.2).cmp(&(b.1, b.0, &b.2)));
    entries.dedup_by(|a, b| (a.0, a.1, &a.2) == (b.0, b.1, &b.2));
    summary.lines = entries.len();
    let entries = entries
        .into_iter()
        .map(|(_, port, name, protocol, comment)| ExportedService {
            name,
            port,
            protocol,
            comment,
        })
        .collect();
    (entries, summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, protocol: &str, port: &str, description: &str) -> ServiceRecord {
        ServiceRecord::entry(Some(name), Some(protocol), port, description)
    }

    #[test]
    fn services_entries_skip_ranges_odd_names_and_repeats() {
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
            record("old", "ddp", "7", "a protocol services(5) does not list"),
        ];
        let (entries, summary) = services_entries(&records);
        let lines: Vec<(&str, u16, &str)> = entries
            .iter()
            .map(|e| (e.name.as_str(), e.port, e.protocol.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                ("https", 443, "tcp"),
                ("https", 443, "udp"),
                ("rdp", 3389, "tcp")
            ]
        );
        assert_eq!(entries[0].comment, "http protocol over TLS/SSL");
        assert_eq!(
            summary,
            ServicesSummary {
                lines: 3,
                ranges: 1,
                unusable_names: 1
            }
        );
    }
}
