//! A protocols(5) file checked against the protocol numbers registry.
//!
//! The file is read line by line ([`read_protocols`]): `name number [aliases...] [# comment]`,
//! as netbase and iana-etc ship it. An entry's names are its name and its aliases; IANA's
//! keyword for a record is its name's first word (`ISIS` for `ISIS over IPv4`, `ARGUS` for
//! `ARGUS (deprecated)`); names match in any case. A record is set aside when its name or
//! description says unassigned, deprecated, reserved or historic (the words the protocols
//! export leaves out). Each entry gets at most one finding, the first of these that applies:
//! 1. fine: a record on the number has one of the entry's names as its keyword and is not set
//!    aside;
//! 2. `reserved`: such a record is set aside (`argus 13 ARGUS`: deprecated);
//! 3. `conflict`: IANA gives the number another keyword, of a record not set aside (netbase's
//!    `ip 0 IP`: IANA says 0 is HOPOPT);
//! 4. `reserved`: something other than Unassigned is there (`Reserved`, a deprecated protocol,
//!    `any host internal protocol`);
//! 5. `unassigned`: it is Unassigned, or not listed at all.
//!
//! Every finding has one shape as JSON (and CSV): the same keys, null or `[]` where one does
//! not apply, the number as `value` (see [`ProtocolFindingRow`]).

use super::{Checked, EntryFinding, FileLine, FindingKind, UnreadableLine, read_lines};
use crate::export::protocols::says_set_aside;
use crate::model::{PortRange, ProtocolRecord, Record, RegistryDate};
use crate::store::{Seq, StoredVersion};
use rustc_hash::FxHashMap;
use serde::Serialize;

/// One entry of a protocols(5) file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolsEntry {
    /// 1-based.
    pub line: usize,
    pub name: String,
    pub number: u8,
    pub aliases: Vec<String>,
}

/// What a line of a protocols(5) file is, once blank lines and comments are skipped.
pub type ProtocolsLine = FileLine<ProtocolsEntry>;

/// The entries and unreadable lines of a protocols(5) file, in file order.
pub fn read_protocols(bytes: &[u8]) -> Vec<ProtocolsLine> {
    read_lines(bytes, parse_entry)
}

/// `name number [aliases...]`, the comment already cut off.
fn parse_entry(line: usize, text: &str) -> Result<ProtocolsEntry, String> {
    let mut fields = text.split_ascii_whitespace();
    let name = fields.next().unwrap_or_default();
    let Some(number) = fields.next() else {
        return Err(format!("no number after {name:?}"));
    };
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{number:?} is not a protocol number"));
    }
    let number = number
        .parse::<u8>()
        .map_err(|_| format!("protocol number {number} is above 255"))?;
    Ok(ProtocolsEntry {
        line,
        name: name.to_string(),
        number,
        aliases: fields.map(str::to_string).collect(),
    })
}

/// What the registry says about an entry, when it disagrees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolFinding {
    pub line: usize,
    pub name: String,
    pub aliases: Vec<String>,
    pub value: u8,
    pub finding: FindingKind,
    /// IANA's keywords on the number, of the records not set aside.
    pub iana: Vec<String>,
    /// The registry date of the first snapshot in which IANA's records on the number were as
    /// they are; None when they have been so since the oldest stored snapshot, or nothing is
    /// listed there.
    pub since: Option<RegistryDate>,
    /// What the set-aside records there say (`ARGUS (deprecated)`, `Reserved`), for the table.
    pub iana_note: Option<String>,
}

/// One finding of a protocols(5) check: about an entry, or a line that is not one.
pub type ProtocolCheckFinding = Checked<ProtocolFinding>;

/// A finding as JSON and CSV have it: every key always there, in this order, null (or `[]`)
/// where it does not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtocolFindingRow<'a> {
    pub line: usize,
    pub name: Option<&'a str>,
    pub aliases: &'a [String],
    pub value: Option<u8>,
    pub finding: FindingKind,
    pub iana: &'a [String],
    pub since: Option<RegistryDate>,
    /// An unreadable line as written, decoded lossily.
    pub text: Option<&'a str>,
    /// Why an unreadable line is not an entry.
    pub reason: Option<&'a str>,
}

impl ProtocolFindingRow<'_> {
    /// The keys, in order: the CSV header.
    pub const KEYS: [&'static str; 9] = [
        "line", "name", "aliases", "value", "finding", "iana", "since", "text", "reason",
    ];
}

impl EntryFinding for ProtocolFinding {
    type Row<'a> = ProtocolFindingRow<'a>;

    fn kind(&self) -> FindingKind {
        self.finding
    }

    fn row(&self) -> ProtocolFindingRow<'_> {
        ProtocolFindingRow {
            line: self.line,
            name: Some(&self.name),
            aliases: &self.aliases,
            value: Some(self.value),
            finding: self.finding,
            iana: &self.iana,
            since: self.since,
            text: None,
            reason: None,
        }
    }

    fn unreadable_row<'a>(line: &'a UnreadableLine) -> ProtocolFindingRow<'a>
    where
        Self: 'a,
    {
        ProtocolFindingRow {
            line: line.line,
            name: None,
            aliases: &[],
            value: None,
            finding: FindingKind::Unreadable,
            iana: &[],
            since: None,
            text: Some(&line.text),
            reason: Some(&line.reason),
        }
    }
}

/// A record of the snapshot checked against, with the registry date of the first snapshot
/// of its current version (None when that is the oldest stored snapshot).
#[derive(Debug, Clone)]
struct HeldProtocol {
    record: ProtocolRecord,
    range: PortRange,
    since: Option<RegistryDate>,
}

/// The records of one protocol numbers snapshot (about 150): scanned, not indexed.
pub struct ProtocolIndex {
    records: Vec<HeldProtocol>,
}

/// IANA's keyword of a record: its name, as IANA writes it (`Mobility Header`).
fn keyword(record: &ProtocolRecord) -> Option<&str> {
    record.name.as_deref()
}

/// How a protocols(5) file, whose names have no spaces, can write a keyword, in any case:
/// with white space as `-` (netbase's `mobility-header` for IANA's `Mobility Header`), or its
/// first word (iana-etc's `isis` for `ISIS over IPv4`).
fn file_forms(keyword: &str) -> [String; 2] {
    let words: Vec<&str> = keyword.split_whitespace().collect();
    [
        words.join("-").to_lowercase(),
        words.first().unwrap_or(&"").to_lowercase(),
    ]
}

/// Whether the record's name or description says it is unassigned, deprecated, reserved or
/// historic.
fn set_aside(record: &ProtocolRecord) -> bool {
    record.name.as_deref().is_some_and(says_set_aside)
        || record.description.as_deref().is_some_and(says_set_aside)
}

impl ProtocolIndex {
    /// The records of the snapshot at `seq`: those of `versions` (every version of the
    /// history, as `Store::record_versions` reads them) that hold there, each dated by the
    /// registry date (`dates`: each place's) of the place its version starts at, or not dated
    /// when that is the oldest place.
    pub fn at(
        versions: Vec<StoredVersion<ProtocolRecord>>,
        dates: &[(Seq, RegistryDate)],
        seq: Seq,
    ) -> ProtocolIndex {
        let dates: FxHashMap<Seq, RegistryDate> = dates.iter().copied().collect();
        let mut records: Vec<HeldProtocol> = versions
            .into_iter()
            .filter(|v| v.first <= seq && v.last.is_none_or(|last| last >= seq))
            .filter_map(|version| {
                Some(HeldProtocol {
                    range: version.record.range()?,
                    since: (version.first != Seq::FIRST)
                        .then(|| dates.get(&version.first).copied())
                        .flatten(),
                    record: version.record,
                })
            })
            .collect();
        records.sort_by(|a, b| a.record.display_cmp(&b.record));
        ProtocolIndex { records }
    }

    /// The finding for one entry, or None when IANA has one of its names on its number.
    pub fn check(&self, entry: &ProtocolsEntry) -> Option<ProtocolFinding> {
        let covering: Vec<&HeldProtocol> = self
            .records
            .iter()
            .filter(|held| held.range.contains(u16::from(entry.number)))
            .collect();
        let names: Vec<String> = std::iter::once(&entry.name)
            .chain(&entry.aliases)
            .map(|name| name.to_lowercase())
            .collect();
        let is_named = |held: &&&HeldProtocol| {
            keyword(&held.record).is_some_and(|k| file_forms(k).iter().any(|f| names.contains(f)))
        };
        let matching: Vec<&&HeldProtocol> = covering.iter().filter(is_named).collect();
        if matching.iter().any(|held| !set_aside(&held.record)) {
            return None;
        }
        let mut iana: Vec<String> = Vec::new();
        for held in covering.iter().filter(|held| !set_aside(&held.record)) {
            if let Some(keyword) = keyword(&held.record)
                && !iana.iter().any(|k| k == keyword)
            {
                iana.push(keyword.to_string());
            }
        }
        // What is there besides Unassigned and live keywords.
        let noted: Vec<String> = covering
            .iter()
            .filter(|held| {
                let record = &held.record;
                !record.is_unassigned() && (set_aside(record) || record.name.is_none())
            })
            .map(|held| {
                let record = &held.record;
                record
                    .name
                    .clone()
                    .or_else(|| record.description.clone())
                    .unwrap_or_else(|| "(no description)".to_string())
            })
            .collect();
        let finding = if !matching.is_empty() {
            FindingKind::Reserved
        } else if !iana.is_empty() {
            FindingKind::Conflict
        } else if !noted.is_empty() {
            FindingKind::Reserved
        } else {
            FindingKind::Unassigned
        };
        Some(ProtocolFinding {
            line: entry.line,
            name: entry.name.clone(),
            aliases: entry.aliases.clone(),
            value: entry.number,
            finding,
            iana,
            since: covering.iter().filter_map(|held| held.since).max(),
            iana_note: (!noted.is_empty()).then(|| noted.join("; ")),
        })
    }

    /// The findings of a file's lines, in file order.
    pub fn check_lines(&self, lines: Vec<ProtocolsLine>) -> Vec<ProtocolCheckFinding> {
        lines
            .into_iter()
            .filter_map(|line| match line {
                FileLine::Entry(entry) => self.check(&entry).map(ProtocolCheckFinding::Entry),
                FileLine::Unreadable(line) => Some(ProtocolCheckFinding::Unreadable(line)),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(value: &str, name: Option<&str>, description: &str) -> StoredVersion<ProtocolRecord> {
        StoredVersion {
            key_id: 0,
            version_id: 0,
            first: Seq::FIRST,
            last: None,
            record: ProtocolRecord {
                value: Some(value.into()),
                name: name.map(str::to_string),
                description: Some(description.into()),
                ..ProtocolRecord::default()
            },
        }
    }

    fn index() -> ProtocolIndex {
        let mut versions = vec![
            record("0", Some("HOPOPT"), "IPv6 Hop-by-Hop Option"),
            record("4", Some("IPv4"), "IPv4 encapsulation"),
            record("6", Some("TCP"), "Transmission Control"),
            record("13", Some("ARGUS (deprecated)"), "ARGUS"),
            record("61", None, "any host internal protocol"),
            record("124", Some("ISIS over IPv4"), ""),
            record("146-252", None, "Unassigned"),
            record("255", Some("Reserved"), ""),
        ];
        versions[2].first = Seq(2);
        let dates = [
            (Seq(1), "2017-05-24".parse().unwrap()),
            (Seq(2), "2023-01-09".parse().unwrap()),
        ];
        ProtocolIndex::at(versions, &dates, Seq(2))
    }

    fn finding(line: &str) -> Option<(FindingKind, Vec<String>)> {
        let entry = match read_protocols(line.as_bytes()).pop() {
            Some(FileLine::Entry(entry)) => entry,
            other => panic!("{line:?} read as {other:?}"),
        };
        index().check(&entry).map(|f| (f.finding, f.iana))
    }

    #[test]
    fn each_finding_kind_case_by_case() {
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // Fine: the keyword, in any case, or an alias; a keyword with spaces hyphenated, or
        // its first word.
        assert_eq!(finding("tcp 6 TCP # transmission control protocol"), None);
        assert_eq!(finding("hopopt\t0\tHOPOPT"), None);
        assert_eq!(finding("isis 124 ISIS"), None);
        assert_eq!(finding("isis-over-ipv4 124"), None);
        // Another name there: IANA's keyword is given whole.
        assert_eq!(
            finding("is-is 124"),
            Some((FindingKind::Conflict, strings(&["ISIS over IPv4"])))
        );
        assert_eq!(finding("Tcp 6"), None);
        // netbase's `ip 0 IP`: IANA says 0 is HOPOPT.
        assert_eq!(
            finding("ip 0 IP"),
            Some((FindingKind::Conflict, strings(&["HOPOPT"])))
        );
        assert_eq!(
            finding("ipencap 4 IP-ENCAP"),
            Some((FindingKind::Conflict, strings(&["IPv4"])))
        );
        // Deprecated at IANA, whether the entry names it or not.
        assert_eq!(
            finding("argus 13 ARGUS"),
            Some((FindingKind::Reserved, vec![]))
        );
        assert_eq!(
            finding("other 13 OTHER"),
            Some((FindingKind::Reserved, vec![]))
        );
        assert_eq!(
            finding("internal 61"),
            Some((FindingKind::Reserved, vec![]))
        );
        assert_eq!(
            finding("reserved 255 Reserved"),
            Some((FindingKind::Reserved, vec![]))
        );
        // Unassigned, listed as such or not at all.
        assert_eq!(
            finding("new 200 NEW"),
            Some((FindingKind::Unassigned, vec![]))
        );
        assert_eq!(
            finding("new 140 NEW"),
            Some((FindingKind::Unassigned, vec![]))
        );
    }

    #[test]
    fn since_dates_the_records_on_the_number() {
        let entry = |text: &str| match read_protocols(text.as_bytes()).pop() {
            Some(FileLine::Entry(entry)) => entry,
            other => panic!("{other:?}"),
        };
        let index = index();
        let tcp = index.check(&entry("transmission 6 TRANSMISSION")).unwrap();
        assert_eq!(tcp.since, "2023-01-09".parse().ok());
        let ip = index.check(&entry("ip 0 IP")).unwrap();
        assert_eq!(ip.since, None, "as since the oldest snapshot");
    }

    #[test]
    fn lines_that_are_not_entries_say_why() {
        let reasons: Vec<String> = read_protocols(
            b"ip\n\
              tcp six TCP\n\
              big 256 BIG\n\
              bad\x01 6\n\
              \xff\xfe 6\n\
              # comment\n\
              \n\
              udp 17 UDP # fine\r\n",
        )
        .into_iter()
        .map(|line| match line {
            FileLine::Unreadable(line) => format!("{}: {}", line.line, line.reason),
            FileLine::Entry(entry) => format!("{}: entry {}", entry.line, entry.name),
        })
        .collect();
        assert_eq!(
            reasons,
            [
                "1: no number after \"ip\"",
                "2: \"six\" is not a protocol number",
                "3: protocol number 256 is above 255",
                "4: a control character ('\\u{1}')",
                "5: not UTF-8 (byte 1 of the line)",
                "8: entry udp",
            ]
        );
    }
}
