//! Changes as people read them. The contract's three plain kinds (added, removed, modified)
//! stay in JSON and CSV; tables pair what belongs together: an Unassigned range that gave way to
//! a named record (a service, a protocol) is one "assigned" line, a named record that gave way
//! to a De-assigned or Reserved entry is one "de-assigned" line, and the Unassigned pieces a
//! range split into (or ranges merged into) come last, each with the range(s) it was drawn
//! from. Every record of every change is on some line, as the line's record or as what it
//! replaced. The same for every registry: what "covers the same place" means is its record's.

use crate::model::{Change, ChangeKind, Record};

/// The groups of a report, in the order they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    NewlyAssigned,
    DeassignedOrReserved,
    Removed,
    Modified,
    /// Unassigned entries drawn anew where Unassigned ranges were: bookkeeping, shown last.
    Redrawn,
}

impl Group {
    pub const ALL: [Group; 5] = [
        Group::NewlyAssigned,
        Group::DeassignedOrReserved,
        Group::Removed,
        Group::Modified,
        Group::Redrawn,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Group::NewlyAssigned => "Newly assigned",
            Group::DeassignedOrReserved => "De-assigned or reserved",
            Group::Removed => "Removed",
            Group::Modified => "Modified",
            Group::Redrawn => "Unassigned ranges redrawn",
        }
    }
}

/// One line of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<R: Record> {
    pub group: Group,
    /// The record as it is now (for removals: as it was).
    pub record: R,
    /// What it replaced or was before, when known, in the order of the changes: several when
    /// one entry took the place of several (a Reserved entry without a protocol where the tcp
    /// and the udp service were; an Unassigned range where two ranges were).
    pub before: Vec<R>,
    /// For modifications seen in history: the fields that differ.
    pub changed_fields: Vec<R::Field>,
}

/// Groups the changes between two snapshots for people.
pub fn group_changes<R: Record>(changes: &[Change<R>]) -> Vec<Line<R>> {
    let of_kind = |kind: ChangeKind| -> Vec<&R> {
        changes
            .iter()
            .filter(|c| c.change == kind)
            .filter_map(|c| c.after.as_ref().or(c.before.as_ref()))
            .collect()
    };
    let removed = Removals::new(of_kind(ChangeKind::Removed));
    let mut lines: Vec<Line<R>> = Vec::new();
    let mut explained = vec![false; removed.records.len()];
    for record in of_kind(ChangeKind::Added) {
        let (group, replaced) = removed.replaced_by(record);
        for &i in &replaced {
            explained[i] = true;
        }
        lines.push(Line {
            group,
            record: record.clone(),
            before: replaced
                .iter()
                .map(|&i| removed.records[i].clone())
                .collect(),
            changed_fields: Vec::new(),
        });
    }
    let unexplained = removed.records.iter().zip(explained).filter(|(_, e)| !e);
    lines.extend(unexplained.map(|(record, _)| Line {
        group: Group::Removed,
        record: (*record).clone(),
        before: Vec::new(),
        changed_fields: Vec::new(),
    }));
    for change in changes.iter().filter(|c| c.change == ChangeKind::Modified) {
        if let (Some(before), Some(after)) = (&change.before, &change.after) {
            lines.push(Line {
                group: Group::Modified,
                record: after.clone(),
                before: vec![before.clone()],
                changed_fields: change.changed_fields.clone(),
            });
        }
    }
    sort_lines(&mut lines);
    lines
}

/// The records a diff removed, which added ones may have taken the place of.
struct Removals<'a, R> {
    records: Vec<&'a R>,
}

impl<'a, R: Record> Removals<'a, R> {
    fn new(records: Vec<&'a R>) -> Removals<'a, R> {
        Removals { records }
    }

    /// The removed records, named or not, that cover something `record` covers (a port and
    /// protocol; a protocol value).
    fn overlapping(&self, record: &R, named: bool) -> Vec<usize> {
        (0..self.records.len())
            .filter(|&i| {
                self.records[i].name().is_some() == named && record.overlaps(self.records[i])
            })
            .collect()
    }

    /// The group of an added record, and the removed ones it took the place of.
    fn replaced_by(&self, record: &R) -> (Group, Vec<usize>) {
        if record.name().is_some() {
            // A named record where an Unassigned (or Reserved) entry was: "assigned"; or
            // where another named one stood at exactly this place: a rename or a new owner.
            let mut replaced = self.overlapping(record, false);
            if replaced.is_empty() {
                replaced = (0..self.records.len())
                    .filter(|&i| {
                        let removed = self.records[i];
                        removed.name().is_some() && removed.same_place(record)
                    })
                    .take(1)
                    .collect();
            }
            return (Group::NewlyAssigned, replaced);
        }
        let services = self.overlapping(record, true);
        let split_from = self.overlapping(record, false);
        if !services.is_empty() {
            // A De-assigned or Reserved entry where one or more services were, with the
            // nameless entries it took the place of too (`8712-8731 Unassigned` where
            // `8712-8729 Unassigned`, `8730/tcp semi-grpc`, ... were).
            let mut replaced = [services, split_from].concat();
            replaced.sort_unstable();
            (Group::DeassignedOrReserved, replaced)
        } else if !split_from.is_empty() && is_bare_unassigned(record) {
            // What is left of an Unassigned range after part of it was assigned, or ranges
            // merged again.
            (Group::Redrawn, split_from)
        } else {
            (Group::DeassignedOrReserved, Vec::new())
        }
    }
}

/// An Unassigned entry that says nothing more, as the pieces of a redrawn range are. One with
/// a note (`De-registered 08 June 2001`) records a de-assignment: news, not bookkeeping.
fn is_bare_unassigned<R: Record>(record: &R) -> bool {
    record.is_unassigned() && record.notes().is_none()
}

pub(crate) fn sort_lines<R: Record>(lines: &mut [Line<R>]) {
    let group_rank = |g: Group| Group::ALL.iter().position(|&x| x == g);
    lines.sort_by(|a, b| {
        group_rank(a.group)
            .cmp(&group_rank(b.group))
            .then_with(|| a.record.display_cmp(&b.record))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServiceRecord;

    fn record(name: Option<&str>, port: &str, description: &str) -> ServiceRecord {
        ServiceRecord::entry(name, Some("tcp"), port, description)
    }

    fn change(
        before: Option<ServiceRecord>,
        after: Option<ServiceRecord>,
    ) -> Change<ServiceRecord> {
        Change::between(before, after).unwrap()
    }

    /// The (port, name) of what a line replaced.
    fn before(line: &Line<ServiceRecord>) -> Vec<(Option<&str>, Option<&str>)> {
        line.before
            .iter()
            .map(|r| (r.port.as_deref(), r.name.as_deref()))
            .collect()
    }

    /// Every record of every change is on some line: as its record or as what it replaced.
    fn assert_every_record_shown(changes: &[Change<ServiceRecord>], lines: &[Line<ServiceRecord>]) {
        for change in changes {
            for record in change.before.iter().chain(&change.after) {
                assert!(
                    lines
                        .iter()
                        .any(|l| l.record == *record || l.before.contains(record)),
                    "{record:?} is on no line of {lines:#?}"
                );
            }
        }
    }

    fn range(port: &str) -> ServiceRecord {
        ServiceRecord {
            protocol: None,
            ..record(None, port, "Unassigned")
        }
    }

    #[test]
    fn an_assignment_inside_an_unassigned_range_is_one_line_and_the_pieces_come_last() {
        let changes = vec![
            change(Some(record(None, "4700-4720", "Unassigned")), None),
            change(None, Some(record(None, "4700-4710", "Unassigned"))),
            change(None, Some(record(Some("foo"), "4711", "Foo"))),
            change(None, Some(record(None, "4712-4720", "Unassigned"))),
        ];
        let lines = group_changes(&changes);
        let groups: Vec<Group> = lines.iter().map(|l| l.group).collect();
        assert_eq!(
            groups,
            [Group::NewlyAssigned, Group::Redrawn, Group::Redrawn],
            "{lines:#?}"
        );
        assert_eq!(lines[0].record.name.as_deref(), Some("foo"));
        for line in &lines {
            assert_eq!(before(line), [(Some("4700-4720"), None)]);
        }
        assert_eq!(lines[1].record.port.as_deref(), Some("4700-4710"));
        assert_eq!(lines[2].record.port.as_deref(), Some("4712-4720"));
        assert_every_record_shown(&changes, &lines);
    }

    #[test]
    fn a_range_without_a_protocol_that_gave_way_to_a_service_is_one_line() {
        // As IANA wrote it on 2024-01-05: its Unassigned ranges carry no protocol.
        let mut reserved_udp = record(None, "5543", "Reserved");
        reserved_udp.protocol = Some("udp".into());
        let changes = vec![
            change(Some(range("5541-5549")), None),
            change(None, Some(range("5541-5542"))),
            change(
                None,
                Some(record(Some("qftest-licserve"), "5543", "QF-Test")),
            ),
            change(None, Some(reserved_udp)),
            change(None, Some(range("5544-5549"))),
        ];
        let lines = group_changes(&changes);
        let groups: Vec<Group> = lines.iter().map(|l| l.group).collect();
        assert_eq!(
            groups,
            [
                Group::NewlyAssigned,
                Group::DeassignedOrReserved,
                Group::Redrawn,
                Group::Redrawn
            ],
            "{lines:#?}"
        );
        assert_eq!(before(&lines[0]), [(Some("5541-5549"), None)]);
        assert!(lines[1].before.is_empty());
        assert_eq!(lines[2].record.port.as_deref(), Some("5541-5542"));
        assert_eq!(before(&lines[2]), [(Some("5541-5549"), None)]);
        assert_every_record_shown(&changes, &lines);
    }

    #[test]
    fn merged_ranges_are_one_redrawn_line_with_each_range_it_came_from() {
        let changes = vec![
            change(Some(range("100-104")), None),
            change(Some(record(Some("gone"), "105", "Gone")), None),
            change(Some(range("106-110")), None),
            change(None, Some(range("100-110"))),
        ];
        let lines = group_changes(&changes);
        // A service gave way to the merged range: de-assigned, from all three.
        assert_eq!(lines.len(), 1, "{lines:#?}");
        assert_eq!(lines[0].group, Group::DeassignedOrReserved);
        assert_eq!(
            before(&lines[0]),
            [
                (Some("100-104"), None),
                (Some("105"), Some("gone")),
                (Some("106-110"), None)
            ]
        );
        assert_every_record_shown(&changes, &lines);

        // Without the service: one redrawn line, from both ranges.
        let merged = [&changes[..1], &changes[2..]].concat();
        let lines = group_changes(&merged);
        assert_eq!(lines.len(), 1, "{lines:#?}");
        assert_eq!(lines[0].group, Group::Redrawn);
        assert_eq!(
            before(&lines[0]),
            [(Some("100-104"), None), (Some("106-110"), None)]
        );
        assert_every_record_shown(&merged, &lines);
    }

    #[test]
    fn an_unassigned_entry_with_a_note_is_news_not_a_redrawn_piece() {
        let mut released = range("2369");
        released.notes = Some("De-registered (28 March 2006)".into());
        let changes = vec![
            change(Some(range("2368-2370")), None),
            change(None, Some(range("2368"))),
            change(None, Some(released)),
            change(None, Some(range("2370"))),
        ];
        let lines = group_changes(&changes);
        let groups: Vec<Group> = lines.iter().map(|l| l.group).collect();
        assert_eq!(
            groups,
            [Group::DeassignedOrReserved, Group::Redrawn, Group::Redrawn],
            "{lines:#?}"
        );
        assert_eq!(lines[0].record.port.as_deref(), Some("2369"));
        assert!(lines[0].before.is_empty());
        assert_every_record_shown(&changes, &lines);
    }

    #[test]
    fn a_rename_on_the_same_port_is_one_line() {
        let changes = vec![
            change(
                Some(record(Some("fox-skytale"), "4319", "Fox SkyTale")),
                None,
            ),
            change(None, Some(record(Some("skytale"), "4319", "SkyTale"))),
        ];
        let lines = group_changes(&changes);
        assert_eq!(lines.len(), 1, "{lines:#?}");
        assert_eq!(before(&lines[0]), [(Some("4319"), Some("fox-skytale"))]);
    }

    #[test]
    fn a_de_assignment_is_one_line_and_plain_removals_stay() {
        let mut gone = record(None, "3", "Reserved");
        gone.notes = Some("De-assigned on 2025-02-13, previously compressnet".into());
        let changes = vec![
            change(
                Some(record(Some("compressnet"), "3", "Compression Process")),
                None,
            ),
            change(None, Some(gone)),
            change(Some(record(Some("old"), "9999", "Old")), None),
        ];
        let lines = group_changes(&changes);
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert_eq!(lines[0].group, Group::DeassignedOrReserved);
        assert_eq!(before(&lines[0]), [(Some("3"), Some("compressnet"))]);
        assert_eq!(lines[1].group, Group::Removed);
        assert_every_record_shown(&changes, &lines);
    }

    #[test]
    fn a_reserved_entry_without_a_protocol_replaces_the_tcp_and_the_udp_service() {
        let mut udp = record(Some("mles"), "8077", "Mles");
        udp.protocol = Some("udp".into());
        let changes = vec![
            change(Some(record(Some("mles"), "8077", "Mles")), None),
            change(Some(udp), None),
            change(
                None,
                Some(ServiceRecord {
                    protocol: None,
                    ..record(None, "8077", "Reserved")
                }),
            ),
        ];
        let lines = group_changes(&changes);
        assert_eq!(lines.len(), 1, "{lines:#?}");
        assert_eq!(lines[0].group, Group::DeassignedOrReserved);
        assert_eq!(
            lines[0]
                .before
                .iter()
                .map(|r| r.protocol.as_deref())
                .collect::<Vec<_>>(),
            [Some("tcp"), Some("udp")]
        );
        assert_every_record_shown(&changes, &lines);
    }
}
