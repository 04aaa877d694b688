//! A services(5) file checked against the port registry.
//!
//! The file is read by [`services_file`]: its entries, and its lines that are not entries,
//! each of which is a finding of its own, `unreadable`, never an error.
//!
//! Each entry gets at most one finding, the first of these that applies, where IANA's names
//! on a (port, protocol) are the service names of the records covering it (coverage as
//! [`ServiceRecord::covered_ports`] and [`ServiceRecord::covers_protocol`] define it, the one `free` uses:
//! ranges and records without protocol included) and names match in any case, an alias
//! counting as the entry's name:
//! 1. `conflict`: IANA has service names there and none is the entry's;
//! 2. `moved`: IANA has no service name there, but has one of the entry's names on other
//!    ports of that protocol;
//! 3. `reserved`: something other than Unassigned covers it (Reserved, De-registered, ...);
//! 4. `unassigned`: it is Unassigned, or not listed at all.
//!
//! An entry whose name (or alias) is among IANA's names there is fine.
//!
//! Every finding has one shape as JSON (and CSV): the same keys, null or `[]` where one does
//! not apply, so an unreadable line reads as an entry's finding does (see [`FindingRow`]).

use super::services_file::{ServicesEntry, ServicesLine};
use super::{Checked, EntryFinding, FindingKind, UnreadableLine};
use crate::model::{PortRange, Record, RegistryDate, ServiceRecord};
use crate::store::{PortVersion, Seq};
use rustc_hash::FxHashMap;
use serde::Serialize;

/// What the registry says about an entry, when it disagrees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFinding {
    pub line: usize,
    pub name: String,
    pub aliases: Vec<String>,
    pub port: u16,
    pub protocol: String,
    pub finding: FindingKind,
    /// IANA's service names on the port/protocol.
    pub iana: Vec<String>,
    /// The ports (or ranges, `6000-6063`) where IANA has the entry's name or an alias for the
    /// protocol, ascending.
    pub iana_ports: Vec<String>,
    /// The registry date of the first snapshot in which IANA's entries on the port/protocol
    /// were as they are; None when they have been so since the oldest stored snapshot (the
    /// history does not know since when) or nothing is listed there.
    pub since: Option<RegistryDate>,
    /// What the entries that are not services say there (`Reserved`), for the table.
    pub iana_note: Option<String>,
}

/// One finding of a services(5) check: about an entry, or a line that is not one.
pub type Finding = Checked<ServiceFinding>;

/// A finding as JSON and CSV have it: every key always there, in this order, null (or `[]`
/// for a list) where it does not apply. An entry's finding has `text` and `reason` null; an
/// unreadable line has `name`, `port`, `protocol` and `since` null and its lists empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingRow<'a> {
    pub line: usize,
    pub name: Option<&'a str>,
    pub aliases: &'a [String],
    pub port: Option<u16>,
    pub protocol: Option<&'a str>,
    pub finding: FindingKind,
    pub iana: &'a [String],
    pub iana_ports: &'a [String],
    pub since: Option<RegistryDate>,
    /// An unreadable line as written, decoded lossily.
    pub text: Option<&'a str>,
    /// Why an unreadable line is not an entry.
    pub reason: Option<&'a str>,
}

impl FindingRow<'_> {
    /// The keys, in order: the CSV header.
    pub const KEYS: [&'static str; 11] = [
        "line",
        "name",
        "aliases",
        "port",
        "protocol",
        "finding",
        "iana",
        "iana_ports",
        "since",
        "text",
        "reason",
    ];
}

impl EntryFinding for ServiceFinding {
    type Row<'a> = FindingRow<'a>;

    fn kind(&self) -> FindingKind {
        self.finding
    }

    fn row(&self) -> FindingRow<'_> {
        FindingRow {
            line: self.line,
            name: Some(&self.name),
            aliases: &self.aliases,
            port: Some(self.port),
            protocol: Some(&self.protocol),
            finding: self.finding,
            iana: &self.iana,
            iana_ports: &self.iana_ports,
            since: self.since,
            text: None,
            reason: None,
        }
    }

    fn unreadable_row<'a>(line: &'a UnreadableLine) -> FindingRow<'a>
    where
        Self: 'a,
    {
        FindingRow {
            line: line.line,
            name: None,
            aliases: &[],
            port: None,
            protocol: None,
            finding: FindingKind::Unreadable,
            iana: &[],
            iana_ports: &[],
            since: None,
            text: Some(&line.text),
            reason: Some(&line.reason),
        }
    }
}

/// A record of the snapshot checked against, with the registry date of the first snapshot
/// of its current version (None when that is the oldest stored snapshot).
#[derive(Debug, Clone)]
pub struct HeldRecord {
    pub record: ServiceRecord,
    pub since: Option<RegistryDate>,
}

/// The records of one snapshot, indexed by port and by name.
pub struct RegistryIndex {
    records: Vec<HeldRecord>,
    /// Single-port records by port.
    by_port: FxHashMap<u16, Vec<usize>>,
    /// Records with a range, with its bounds: a few hundred, scanned.
    ranges: Vec<(PortRange, usize)>,
    /// Named records with a numeric port, by lower-case name.
    by_name: FxHashMap<String, Vec<usize>>,
}

impl RegistryIndex {
    /// The records of the snapshot at `seq`: those of `versions` (the history's port-holding
    /// versions, as `Store::port_versions` reads them) that hold there, each dated by the
    /// registry date (`dates`: each place's, as `Store::registry_dates` reads them) of the
    /// place its version starts at, or not dated when that is the oldest place.
    pub fn at(
        versions: Vec<PortVersion>,
        dates: &[(Seq, RegistryDate)],
        seq: Seq,
    ) -> RegistryIndex {
        let dates: FxHashMap<Seq, RegistryDate> = dates.iter().copied().collect();
        let held = versions
            .into_iter()
            .filter(|version| version.holds_at(seq))
            .map(|version| HeldRecord {
                since: (version.first != Seq::FIRST)
                    .then(|| dates.get(&version.first).copied())
                    .flatten(),
                record: version.record,
            })
            .collect();
        RegistryIndex::new(held)
    }

    pub fn new(records: Vec<HeldRecord>) -> RegistryIndex {
        let mut by_port: FxHashMap<u16, Vec<usize>> = FxHashMap::default();
        let mut ranges = Vec::new();
        let mut by_name: FxHashMap<String, Vec<usize>> = FxHashMap::default();
        for (index, held) in records.iter().enumerate() {
            let Some(ports) = held.record.covered_ports() else {
                continue;
            };
            if ports.is_single() {
                by_port.entry(ports.first).or_default().push(index);
            } else {
                ranges.push((ports, index));
            }
            if let Some(name) = &held.record.name {
                by_name.entry(name.to_lowercase()).or_default().push(index);
            }
        }
        RegistryIndex {
            records,
            by_port,
            ranges,
            by_name,
        }
    }

    /// The records covering (port, protocol), in display order (by port, protocol, name).
    fn covering(&self, port: u16, protocol: &str) -> Vec<&HeldRecord> {
        let single = self.by_port.get(&port).into_iter().flatten();
        let ranges = self
            .ranges
            .iter()
            .filter(|(ports, _)| ports.contains(port))
            .map(|(_, index)| index);
        let mut covering: Vec<&HeldRecord> = single
            .chain(ranges)
            .map(|&index| &self.records[index])
            .filter(|held| held.record.covers_protocol(protocol))
            .collect();
        covering.sort_by(|a, b| a.record.display_cmp(&b.record));
        covering
    }

    /// The ports where IANA has one of `names` (lower-case) for `protocol`, ascending.
    fn ports_of(&self, names: &[String], protocol: &str) -> Vec<String> {
        let mut ports: Vec<(PortRange, String)> = names
            .iter()
            .filter_map(|name| self.by_name.get(name))
            .flatten()
            .map(|&index| &self.records[index].record)
            .filter(|record| record.covers_protocol(protocol))
            .filter_map(|record| Some((record.covered_ports()?, record.port.clone()?)))
            .collect();
        ports.sort();
        ports.dedup_by(|a, b| a.0 == b.0);
        ports.into_iter().map(|(_, text)| text).collect()
    }

    /// The finding for one entry, or None when IANA has one of its names there.
    pub fn check(&self, entry: &ServicesEntry) -> Option<ServiceFinding> {
        let covering = self.covering(entry.port, &entry.protocol);
        let mut iana: Vec<String> = Vec::new();
        for name in covering.iter().filter_map(|held| held.record.name.as_ref()) {
            if !iana.contains(name) {
                iana.push(name.clone());
            }
        }
        let names: Vec<String> = std::iter::once(&entry.name)
            .chain(&entry.aliases)
            .map(|name| name.to_lowercase())
            .collect();
        if iana.iter().any(|name| names.contains(&name.to_lowercase())) {
            return None;
        }
        let iana_ports = self.ports_of(&names, &entry.protocol);
        let others: Vec<&str> = covering
            .iter()
            .filter(|held| held.record.name.is_none() && !held.record.is_unassigned())
            .map(|held| {
                held.record
                    .description
                    .as_deref()
                    .unwrap_or("(no description)")
            })
            .collect();
        let finding = if !iana.is_empty() {
            FindingKind::Conflict
        } else if !iana_ports.is_empty() {
            FindingKind::Moved
        } else if !others.is_empty() {
            FindingKind::Reserved
        } else {
            FindingKind::Unassigned
        };
        // Dates of snapshots in history order are ascending, so the latest date is the
        // latest snapshot in which one of them changed.
        let since = covering.iter().filter_map(|held| held.since).max();
        Some(ServiceFinding {
            line: entry.line,
            name: entry.name.clone(),
            aliases: entry.aliases.clone(),
            port: entry.port,
            protocol: entry.protocol.clone(),
            finding,
            iana,
            iana_ports,
            since,
            iana_note: (!others.is_empty()).then(|| others.join("; ")),
        })
    }

    /// The findings of a file's lines, in file order.
    pub fn check_lines(&self, lines: Vec<ServicesLine>) -> Vec<Finding> {
        lines
            .into_iter()
            .filter_map(|line| match line {
                ServicesLine::Entry(entry) => self.check(&entry).map(Finding::Entry),
                ServicesLine::Unreadable(line) => Some(Finding::Unreadable(line)),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::services_file::read_services;

    fn entry(line: usize, text: &str) -> ServicesEntry {
        match read_services(text.as_bytes()).pop() {
            Some(ServicesLine::Entry(mut entry)) => {
                entry.line = line;
                entry
            }
            other => panic!("{text:?} read as {other:?}"),
        }
    }

    fn held(
        name: Option<&str>,
        protocol: Option<&str>,
        port: &str,
        description: &str,
    ) -> HeldRecord {
        HeldRecord {
            record: ServiceRecord {
                name: name.map(str::to_string),
                protocol: protocol.map(str::to_string),
                port: Some(port.to_string()),
                description: Some(description.to_string()),
                ..ServiceRecord::default()
            },
            since: None,
        }
    }

    fn index() -> RegistryIndex {
        let mut records = vec![
            held(Some("ssh"), Some("tcp"), "22", "SSH"),
            held(Some("ftp"), Some("udp"), "21", "FTP"),
            held(Some("x11"), Some("tcp"), "6000-6063", "X Window System"),
            held(Some("foo"), Some("tcp"), "4000", "Foo"),
            held(Some("FOO"), Some("tcp"), "4100", "Foo again"),
            held(Some("foo"), Some("udp"), "4200", "Foo on udp"),
            held(None, Some("tcp"), "4500-4600", "Unassigned"),
            held(None, Some("tcp"), "15", "Unassigned [was netstat]"),
            held(None, None, "1011-1020", "Reserved"),
            held(None, Some("tcp"), "1015", "Unassigned"),
            held(None, Some("tcp"), "7000", "Unassigned"),
        ];
        records[3].since = "2019-01-08".parse().ok();
        records[6].since = "2021-06-05".parse().ok();
        RegistryIndex::new(records)
    }

    fn finding(text: &str) -> Option<(FindingKind, Vec<String>, Vec<String>)> {
        index()
            .check(&entry(1, text))
            .map(|f| (f.finding, f.iana, f.iana_ports))
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn each_finding_kind_case_by_case() {
        // Fine: the name, in any case, or an alias, is IANA's there; ranges cover.
        assert_eq!(finding("SSH 22/tcp"), None);
        assert_eq!(finding("secure 22/tcp ssh"), None);
        assert_eq!(finding("x11 6010/tcp"), None);
        assert_eq!(finding("foo 4100/tcp"), None);
        // conflict: another name there, even when the entry's name is IANA's elsewhere.
        assert_eq!(
            finding("fsp 21/udp fspd"),
            Some((FindingKind::Conflict, strings(&["ftp"]), vec![]))
        );
        assert_eq!(
            finding("foo 22/tcp"),
            Some((
                FindingKind::Conflict,
                strings(&["ssh"]),
                strings(&["4000", "4100"])
            ))
        );
        assert_eq!(
            finding("myx 6001/tcp"),
            Some((FindingKind::Conflict, strings(&["x11"]), vec![]))
        );
        // moved: nothing named there, the name (or an alias) on other ports of the protocol.
        assert_eq!(
            finding("foo 4550/tcp"),
            Some((FindingKind::Moved, vec![], strings(&["4000", "4100"])))
        );
        assert_eq!(
            finding("bar 7000/tcp x11"),
            Some((FindingKind::Moved, vec![], strings(&["6000-6063"])))
        );
        assert_eq!(
            finding("foo 7000/udp"),
            Some((FindingKind::Moved, vec![], strings(&["4200"])))
        );
        // reserved: a non-service entry other than Unassigned, also with Unassigned beside it.
        assert_eq!(
            finding("netstat 15/tcp"),
            Some((FindingKind::Reserved, vec![], vec![]))
        );
        assert_eq!(
            finding("mine 1015/tcp"),
            Some((FindingKind::Reserved, vec![], vec![]))
        );
        assert_eq!(
            finding("mine 1012/sctp"),
            Some((FindingKind::Reserved, vec![], vec![]))
        );
        // unassigned: Unassigned, or not listed at all (also a protocol IANA does not list).
        assert_eq!(
            finding("mine 4550/tcp"),
            Some((FindingKind::Unassigned, vec![], vec![]))
        );
        assert_eq!(
            finding("mine 22/udp"),
            Some((FindingKind::Unassigned, vec![], vec![]))
        );
        assert_eq!(
            finding("rtmp 1/ddp"),
            Some((FindingKind::Unassigned, vec![], vec![]))
        );
        // ssh is IANA's on tcp only: on udp it is not "moved".
        assert_eq!(
            finding("ssh 4550/udp"),
            Some((FindingKind::Unassigned, vec![], vec![]))
        );
    }

    #[test]
    fn since_is_the_latest_change_among_the_covering_records() {
        let index = index();
        let found = index.check(&entry(3, "mine 4550/tcp")).unwrap();
        assert_eq!(found.since, "2021-06-05".parse().ok());
        assert_eq!(found.line, 3);
        let found = index.check(&entry(1, "bar 4000/tcp")).unwrap();
        assert_eq!(found.since, "2019-01-08".parse().ok());
        // Held since the oldest snapshot, or nothing listed: not known.
        assert_eq!(index.check(&entry(1, "bar 22/tcp")).unwrap().since, None);
        assert_eq!(index.check(&entry(1, "bar 9/tcp")).unwrap().since, None);
        let reserved = index.check(&entry(1, "netstat 15/tcp")).unwrap();
        assert_eq!(
            reserved.iana_note.as_deref(),
            Some("Unassigned [was netstat]")
        );
    }

    #[test]
    fn findings_serialise_in_one_shape_every_key_always_there() {
        let index = index();
        let lines =
            read_services(b"foo 22/tcp bar\nssh 22/tcp\nbroken\nmine 4550/tcp\nbar 22/tcp\n");
        let findings = index.check_lines(lines);
        let json = serde_json::to_value(&findings).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {"line": 1, "name": "foo", "aliases": ["bar"], "port": 22, "protocol": "tcp",
                 "finding": "conflict", "iana": ["ssh"], "iana_ports": ["4000", "4100"],
                 "since": null, "text": null, "reason": null},
                {"line": 3, "name": null, "aliases": [], "port": null, "protocol": null,
                 "finding": "unreadable", "iana": [], "iana_ports": [], "since": null,
                 "text": "broken", "reason": "no port/protocol after \"broken\""},
                {"line": 4, "name": "mine", "aliases": [], "port": 4550, "protocol": "tcp",
                 "finding": "unassigned", "iana": [], "iana_ports": [], "since": "2021-06-05",
                 "text": null, "reason": null},
                {"line": 5, "name": "bar", "aliases": [], "port": 22, "protocol": "tcp",
                 "finding": "conflict", "iana": ["ssh"], "iana_ports": [], "since": null,
                 "text": null, "reason": null},
            ])
        );
        // The same keys in the same order in every object, and they are the CSV header.
        for object in json.as_array().unwrap() {
            let keys: Vec<&str> = object
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(keys, FindingRow::KEYS);
        }
        assert_eq!(
            findings.iter().map(Finding::kind).collect::<Vec<_>>(),
            [
                FindingKind::Conflict,
                FindingKind::Unreadable,
                FindingKind::Unassigned,
                FindingKind::Conflict
            ]
        );
    }

    #[test]
    fn the_index_at_a_place_holds_its_versions_dated_by_where_they_start() {
        let version = |port: &str, name: &str, first: i64, last: Option<i64>| PortVersion {
            record: ServiceRecord {
                name: Some(name.to_string()),
                protocol: Some("tcp".to_string()),
                port: Some(port.to_string()),
                ..ServiceRecord::default()
            },
            first: Seq(first),
            last: last.map(Seq),
        };
        let versions = || {
            vec![
                // Since the oldest place: no date, the history cannot say since when.
                version("22", "ssh", 1, None),
                // 4000 was old-foo's at places 1-2, new-foo's from place 3 on.
                version("4000", "old-foo", 1, Some(2)),
                version("4000", "new-foo", 3, None),
                // 5000 was bar's at place 2 only.
                version("5000", "bar", 2, Some(2)),
            ]
        };
        let dates = [
            (Seq(1), "2020-01-01".parse().unwrap()),
            (Seq(2), "2021-01-01".parse().unwrap()),
            (Seq(3), "2022-01-01".parse().unwrap()),
        ];
        let mine = |port: u16| ServicesEntry {
            line: 1,
            name: "mine".into(),
            aliases: vec![],
            port,
            protocol: "tcp".into(),
        };
        let at = |seq: i64, port: u16| {
            RegistryIndex::at(versions(), &dates, Seq(seq))
                .check(&mine(port))
                .map(|found| (found.iana, found.since))
        };
        assert_eq!(at(3, 22), Some((strings(&["ssh"]), None)));
        assert_eq!(
            at(3, 4000),
            Some((strings(&["new-foo"]), "2022-01-01".parse().ok()))
        );
        assert_eq!(at(2, 4000), Some((strings(&["old-foo"]), None)));
        assert_eq!(
            at(2, 5000),
            Some((strings(&["bar"]), "2021-01-01".parse().ok()))
        );
        // Not held at place 3: not listed at all, so not dated.
        assert_eq!(at(3, 5000), Some((vec![], None)));
    }
}
