//! Which ports are free: Unassigned in a snapshot, or never anything else in the history.
//!
//! A record *covers* (port, protocol) when its numeric port or range includes the port and
//! its protocol is that protocol; a record without a protocol (the reserved ranges) covers
//! every protocol, and one without a numeric port covers nothing. A port is free for a
//! protocol when some covering record is Unassigned (no service name, description
//! `Unassigned`, any case) and no covering record is anything else: a service name, Reserved,
//! De-registered, `Unassigned [was netstat]`, ...
//!
//! The answer is made with bitmaps of the 65,536 ports, one pair per protocol (covered by
//! Unassigned, covered by anything else), filled range by range from the records: a snapshot
//! is 14,500 records and the whole history 15,000 record versions, so no per-port query is
//! ever made. Coverage and Unassigned are defined once, on [`ServiceRecord`] (`covered_ports`,
//! `covers_protocol`, `is_unassigned`), for `check` and the grouped report too.

use crate::model::{PortRange, Record, ServiceRecord};

/// The highest port, as the bitmaps count them.
const LAST_PORT: u32 = u16::MAX as u32;
const WORDS: usize = (LAST_PORT as usize + 1) / 64;

/// A set of ports, 0-65535, as a bitmap.
#[derive(Clone, PartialEq, Eq)]
pub struct PortSet {
    words: Vec<u64>,
}

impl std::fmt::Debug for PortSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.runs_within(PortRange::ALL))
            .finish()
    }
}

impl Default for PortSet {
    fn default() -> PortSet {
        PortSet::empty()
    }
}

impl PortSet {
    pub fn empty() -> PortSet {
        PortSet {
            words: vec![0; WORDS],
        }
    }

    pub fn full() -> PortSet {
        PortSet {
            words: vec![u64::MAX; WORDS],
        }
    }

    /// Adds the ports of a range, a word at a time.
    pub fn insert_range(&mut self, ports: PortRange) {
        let (lo, hi) = (usize::from(ports.first), usize::from(ports.last));
        let (first_word, last_word) = (lo / 64, hi / 64);
        // The bits from `lo` up in its word, and up to `hi` in its word.
        let from_lo = u64::MAX << (lo % 64);
        let to_hi = u64::MAX >> (63 - hi % 64);
        if first_word == last_word {
            self.words[first_word] |= from_lo & to_hi;
            return;
        }
        self.words[first_word] |= from_lo;
        for word in &mut self.words[first_word + 1..last_word] {
            *word = u64::MAX;
        }
        self.words[last_word] |= to_hi;
    }

    #[cfg(test)]
    pub fn contains(&self, port: u16) -> bool {
        let port = usize::from(port);
        self.words[port / 64] >> (port % 64) & 1 == 1
    }

    /// Keeps only the ports also in `other`.
    pub fn intersect(&mut self, other: &PortSet) {
        for (word, theirs) in self.words.iter_mut().zip(&other.words) {
            *word &= theirs;
        }
    }

    /// Removes the ports in `other`.
    pub fn subtract(&mut self, other: &PortSet) {
        for (word, theirs) in self.words.iter_mut().zip(&other.words) {
            *word &= !theirs;
        }
    }

    /// The maximal runs of ports in the set within `within`, ascending.
    pub fn runs_within(&self, within: PortRange) -> Vec<PortRange> {
        let mut runs = Vec::new();
        let (mut port, hi) = (u32::from(within.first), u32::from(within.last));
        let mut start: Option<u32> = None;
        while port <= hi {
            let bit = port % 64;
            // The bits from `port` on in its word, at most up to `hi`.
            let left = (64 - bit).min(hi - port + 1);
            let word = self.words[(port / 64) as usize] >> bit;
            let step = match start {
                // Looking for the next port in the set; the bits shifted in are clear.
                None => word.trailing_zeros(),
                // Looking for the next port not in it.
                Some(_) => (!word).trailing_zeros(),
            }
            .min(left);
            if step < left {
                match start.take() {
                    None => start = Some(port + step),
                    Some(from) => runs.push(run(from, port + step - 1)),
                }
            }
            port += step;
        }
        if let Some(from) = start {
            runs.push(run(from, hi));
        }
        runs
    }
}

/// A run of ports the bitmap walk found (always within 0..=65535).
fn run(from: u32, to: u32) -> PortRange {
    let port = |p: u32| u16::try_from(p).unwrap_or(u16::MAX);
    PortRange {
        first: port(from),
        last: port(to),
    }
}

/// What the records of one snapshot say about one protocol's ports.
#[derive(Debug, Default)]
struct Coverage {
    /// Covered by an Unassigned record.
    unassigned: PortSet,
    /// Covered by anything else.
    taken: PortSet,
}

/// The ports free for every one of `protocols` in a snapshot of `records`: covered by an
/// Unassigned record and by nothing else, for each protocol.
pub fn free_ports<'r>(
    records: impl IntoIterator<Item = &'r ServiceRecord>,
    protocols: &[String],
) -> PortSet {
    let mut coverage: Vec<Coverage> = protocols.iter().map(|_| Coverage::default()).collect();
    for record in records {
        let Some(ports) = record.covered_ports() else {
            continue;
        };
        let unassigned = record.is_unassigned();
        for (protocol, coverage) in protocols.iter().zip(&mut coverage) {
            if !record.covers_protocol(protocol) {
                continue;
            }
            let set = if unassigned {
                &mut coverage.unassigned
            } else {
                &mut coverage.taken
            };
            set.insert_range(ports);
        }
    }
    let mut free = PortSet::full();
    for coverage in &coverage {
        free.intersect(&coverage.unassigned);
        free.subtract(&coverage.taken);
    }
    free
}

/// The ports that some record version of the history ever gave, for any of `protocols`, to
/// anything but Unassigned. Each stored version held in at least one snapshot, so these are
/// the ports some stored snapshot covered with something else.
pub fn ever_taken<'r>(
    history: impl IntoIterator<Item = &'r ServiceRecord>,
    protocols: &[String],
) -> PortSet {
    let mut taken = PortSet::empty();
    for record in history {
        if record.is_unassigned() || !protocols.iter().any(|p| record.covers_protocol(p)) {
            continue;
        }
        if let Some(ports) = record.covered_ports() {
            taken.insert_range(ports);
        }
    }
    taken
}

/// The protocols asked for, each once in the order given; tcp and udp when none was.
pub fn wanted_protocols(asked: &[String]) -> Vec<String> {
    if asked.is_empty() {
        return vec!["tcp".to_string(), "udp".to_string()];
    }
    let mut protocols: Vec<String> = Vec::new();
    for protocol in asked {
        if !protocols.contains(protocol) {
            protocols.push(protocol.clone());
        }
    }
    protocols
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        name: Option<&str>,
        protocol: Option<&str>,
        port: &str,
        description: &str,
    ) -> ServiceRecord {
        ServiceRecord::entry(name, protocol, port, description)
    }

    fn runs(set: &PortSet, first: u16, last: u16) -> Vec<(u16, u16)> {
        set.runs_within(PortRange { first, last })
            .into_iter()
            .map(|r| (r.first, r.last))
            .collect()
    }

    fn range(first: u16, last: u16) -> PortRange {
        PortRange { first, last }
    }

    fn protocols(names: &[&str]) -> Vec<String> {
        names.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn ranges_are_inserted_across_words_and_found_as_maximal_runs() {
        let mut set = PortSet::empty();
        set.insert_range(range(3, 3));
        set.insert_range(range(60, 200));
        set.insert_range(range(201, 201));
        set.insert_range(range(65530, 65535));
        assert!(set.contains(3) && !set.contains(4) && set.contains(63) && set.contains(64));
        assert_eq!(runs(&set, 0, u16::MAX), [(3, 3), (60, 201), (65530, 65535)]);
        // Clipped to the range asked, runs cut at its ends.
        assert_eq!(runs(&set, 100, 65531), [(100, 201), (65530, 65531)]);
        assert_eq!(runs(&set, 4, 59), []);
        assert_eq!(runs(&set, 3, 3), [(3, 3)]);
        assert_eq!(runs(&PortSet::full(), 0, u16::MAX), [(0, 65535)]);
        assert_eq!(runs(&PortSet::full(), 65535, 65535), [(65535, 65535)]);
        assert_eq!(runs(&PortSet::empty(), 0, u16::MAX), []);
    }

    #[test]
    fn the_bitmap_agrees_with_a_plain_set_on_many_ranges() {
        // A fixed pseudo-random set of ranges, against a Vec<bool> of the same ports.
        let mut set = PortSet::empty();
        let mut plain = vec![false; 65536];
        let mut state: u64 = 7;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        for _ in 0..500 {
            let lo = (next() % 65536) as u16;
            let hi = lo.saturating_add((next() % 300) as u16);
            set.insert_range(range(lo, hi));
            for port in lo..=hi {
                plain[usize::from(port)] = true;
            }
        }
        let mut expected = Vec::new();
        let mut start = None;
        for port in 1000..=50000u32 {
            match (plain[port as usize], start) {
                (true, None) => start = Some(port),
                (false, Some(from)) => {
                    expected.push((from as u16, (port - 1) as u16));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(from) = start {
            expected.push((from as u16, 50000));
        }
        assert!(expected.len() > 100);
        assert_eq!(runs(&set, 1000, 50000), expected);
    }

    #[test]
    fn a_port_is_free_when_unassigned_and_nothing_else_covers_it() {
        let records = vec![
            // 100-110 Unassigned for both protocols, 105/tcp taken.
            record(None, Some("tcp"), "100-110", "Unassigned"),
            record(None, Some("udp"), "100-110", "unassigned"),
            record(Some("svc"), Some("tcp"), "105", "A service"),
            // 200: Unassigned and Reserved on the same port: not free.
            record(None, Some("tcp"), "200", "Unassigned"),
            record(None, Some("udp"), "200", "Unassigned"),
            record(None, Some("tcp"), "200", "Reserved"),
            // 300-302: one record with no protocol covers tcp and udp.
            record(None, None, "300-302", "Unassigned"),
            // 400: only tcp is Unassigned, udp not listed.
            record(None, Some("tcp"), "400", "Unassigned"),
            // 500: a de-assignment note is not Unassigned.
            record(None, Some("tcp"), "500", "Unassigned [was netstat]"),
            record(None, Some("udp"), "500", "Unassigned"),
            // A reserved range without protocol over an Unassigned port.
            record(None, Some("tcp"), "600", "Unassigned"),
            record(None, Some("udp"), "600", "Unassigned"),
            record(None, None, "590-610", "Reserved"),
            // Records without a usable port cover nothing.
            ServiceRecord {
                name: Some("argus".into()),
                ..ServiceRecord::default()
            },
            record(Some("odd"), Some("tcp"), "12ab", "odd"),
        ];
        let both = free_ports(&records, &protocols(&["tcp", "udp"]));
        assert_eq!(runs(&both, 0, 1000), [(100, 104), (106, 110), (300, 302)]);
        let tcp = free_ports(&records, &protocols(&["tcp"]));
        assert_eq!(
            runs(&tcp, 0, 1000),
            [(100, 104), (106, 110), (300, 302), (400, 400)]
        );
        let udp = free_ports(&records, &protocols(&["udp"]));
        // 200/udp is free: the Reserved record there is tcp's.
        assert_eq!(
            runs(&udp, 0, 1000),
            [(100, 110), (200, 200), (300, 302), (500, 500)]
        );
        // sctp: only the record without protocol speaks for it.
        let sctp = free_ports(&records, &protocols(&["sctp"]));
        assert_eq!(runs(&sctp, 0, 1000), [(300, 302)]);
    }

    #[test]
    fn ever_taken_counts_every_version_of_the_protocols_asked() {
        let history = vec![
            record(Some("old"), Some("tcp"), "4000", "Gone now"),
            record(None, Some("udp"), "4001", "De-registered"),
            record(None, Some("tcp"), "4002", "Unassigned"),
            record(Some("sctp-only"), Some("sctp"), "4003", "x"),
            record(None, None, "4004-4005", "Reserved"),
        ];
        let tcp_udp = ever_taken(&history, &protocols(&["tcp", "udp"]));
        assert_eq!(runs(&tcp_udp, 0, 5000), [(4000, 4001), (4004, 4005)]);
        let tcp = ever_taken(&history, &protocols(&["tcp"]));
        assert_eq!(runs(&tcp, 0, 5000), [(4000, 4000), (4004, 4005)]);
        let sctp = ever_taken(&history, &protocols(&["sctp"]));
        assert_eq!(runs(&sctp, 0, 5000), [(4003, 4005)]);
    }

    #[test]
    fn protocols_default_to_tcp_and_udp_and_repeat_once() {
        assert_eq!(wanted_protocols(&[]), ["tcp", "udp"]);
        assert_eq!(
            wanted_protocols(&protocols(&["udp", "sctp", "udp"])),
            ["udp", "sctp"]
        );
    }
}
