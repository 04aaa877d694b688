//! Changes as people read them. The contract's three plain kinds (added, removed, modified)
//! stay in JSON and CSV; tables pair what belongs together: an Unassigned range that gave way to
//! a service is one "assigned" line, a service that gave way to a De-assigned or Reserved entry
//! is one "de-assigned" line, and the Unassigned pieces a range split into are not listed.

use crate::lookup::{SinceDate, registry_date_on_or_after};
use crate::model::{Change, ChangeKind, Record, RecordField, parse_port_range};

/// The groups of a report, in the order they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    NewlyAssigned,
    DeassignedOrReserved,
    Removed,
    Modified,
}

impl Group {
    pub const ALL: [Group; 4] = [
        Group::NewlyAssigned,
        Group::DeassignedOrReserved,
        Group::Removed,
        Group::Modified,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Group::NewlyAssigned => "Newly assigned",
            Group::DeassignedOrReserved => "De-assigned or reserved",
            Group::Removed => "Removed",
            Group::Modified => "Modified",
        }
    }
}

/// One line of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub group: Group,
    /// The record as it is now (for removals: as it was).
    pub record: Record,
    /// What it replaced or was before, when known.
    pub before: Option<Record>,
    /// For modifications seen in history: the fields that differ.
    pub changed_fields: Vec<RecordField>,
}

fn port_range(record: &Record) -> Option<(u32, u32)> {
    record.port.as_deref().and_then(parse_port_range)
}

/// Same protocol and overlapping ports.
fn overlaps(a: &Record, b: &Record) -> bool {
    match (port_range(a), port_range(b)) {
        (Some((a_lo, a_hi)), Some((b_lo, b_hi))) => {
            a.protocol == b.protocol && a_lo <= b_hi && b_lo <= a_hi
        }
        _ => false,
    }
}

/// Groups the changes between two snapshots for people.
pub fn group_changes(changes: &[Change]) -> Vec<Line> {
    let added: Vec<&Record> = changes
        .iter()
        .filter(|c| c.change == ChangeKind::Added)
        .filter_map(|c| c.after.as_ref())
        .collect();
    let removed: Vec<&Record> = changes
        .iter()
        .filter(|c| c.change == ChangeKind::Removed)
        .filter_map(|c| c.before.as_ref())
        .collect();
    let mut removed_explained = vec![false; removed.len()];
    let mut lines = Vec::new();

    for record in &added {
        let replaced: Vec<usize> = (0..removed.len())
            .filter(|&i| overlaps(record, removed[i]))
            .filter(|&i| removed[i].name.is_none() == record.name.is_some())
            .collect();
        if record.name.is_some() {
            // A service where an Unassigned (or Reserved) range was: "assigned"; or where
            // another service had exactly this port: a rename or a new owner.
            let mut replaced = replaced;
            if replaced.is_empty() {
                replaced = (0..removed.len())
                    .filter(|&i| {
                        removed[i].name.is_some()
                            && removed[i].protocol == record.protocol
                            && removed[i].port.is_some()
                            && removed[i].port == record.port
                    })
                    .take(1)
                    .collect();
            }
            for &i in &replaced {
                removed_explained[i] = true;
            }
            lines.push(Line {
                group: Group::NewlyAssigned,
                record: (*record).clone(),
                before: replaced.first().map(|&i| removed[i].clone()),
                changed_fields: Vec::new(),
            });
            continue;
        }
        if let Some(&i) = replaced.first() {
            // A De-assigned or Reserved entry where a service was.
            removed_explained[i] = true;
            lines.push(Line {
                group: Group::DeassignedOrReserved,
                record: (*record).clone(),
                before: Some(removed[i].clone()),
                changed_fields: Vec::new(),
            });
            continue;
        }
        let split_from: Vec<usize> = (0..removed.len())
            .filter(|&i| removed[i].name.is_none() && overlaps(record, removed[i]))
            .collect();
        if !split_from.is_empty() && is_unassigned(record) {
            // What is left of an Unassigned range after part of it was assigned, or ranges
            // merged again: bookkeeping, not news.
            for i in split_from {
                removed_explained[i] = true;
            }
            continue;
        }
        lines.push(Line {
            group: Group::DeassignedOrReserved,
            record: (*record).clone(),
            before: None,
            changed_fields: Vec::new(),
        });
    }
    for (i, record) in removed.iter().enumerate() {
        if !removed_explained[i] {
            lines.push(Line {
                group: Group::Removed,
                record: (*record).clone(),
                before: None,
                changed_fields: Vec::new(),
            });
        }
    }
    for change in changes.iter().filter(|c| c.change == ChangeKind::Modified) {
        if let (Some(before), Some(after)) = (&change.before, &change.after) {
            lines.push(Line {
                group: Group::Modified,
                record: after.clone(),
                before: Some(before.clone()),
                changed_fields: change.changed_fields.clone(),
            });
        }
    }
    sort_lines(&mut lines);
    lines
}

/// An entry that only says the ports are free.
fn is_unassigned(record: &Record) -> bool {
    record.name.is_none()
        && record
            .description
            .as_deref()
            .is_none_or(|d| d.eq_ignore_ascii_case("unassigned"))
        && record.notes.is_none()
}

/// The records of a snapshot that the registry's own dates say changed on or after `since`:
/// registered then (newly assigned, or reserved when it has no name), or modified then
/// (de-assigned when it has no name: IANA marks a de-assignment by a modification date and a
/// note; otherwise modified, with the old values unknown).
pub fn by_registry_dates(records: &[Record], since: SinceDate) -> Vec<Line> {
    let on_or_after = |date: &Option<String>| {
        date.as_deref()
            .is_some_and(|d| registry_date_on_or_after(d, since))
    };
    let mut lines: Vec<Line> = records
        .iter()
        .filter_map(|record| {
            let group = if on_or_after(&record.registered) {
                if record.name.is_some() {
                    Group::NewlyAssigned
                } else {
                    Group::DeassignedOrReserved
                }
            } else if on_or_after(&record.modified) {
                if record.name.is_some() {
                    Group::Modified
                } else {
                    Group::DeassignedOrReserved
                }
            } else {
                return None;
            };
            Some(Line {
                group,
                record: record.clone(),
                before: None,
                changed_fields: Vec::new(),
            })
        })
        .collect();
    sort_lines(&mut lines);
    lines
}

/// The contract's change objects for lines found by registry dates: registered since is
/// "added", modified since is "modified" with `before` null (the old values are unknown).
pub fn registry_date_changes(lines: &[Line], since: SinceDate) -> Vec<Change> {
    lines
        .iter()
        .map(|line| {
            let registered = line
                .record
                .registered
                .as_deref()
                .is_some_and(|d| registry_date_on_or_after(d, since));
            Change {
                change: if registered {
                    ChangeKind::Added
                } else {
                    ChangeKind::Modified
                },
                name: line.record.name.clone(),
                protocol: line.record.protocol.clone(),
                port: line.record.port.clone(),
                ordinal: line.record.ordinal,
                changed_fields: Vec::new(),
                before: None,
                after: Some(line.record.clone()),
            }
        })
        .collect()
}

fn sort_lines(lines: &mut [Line]) {
    let group_rank = |g: Group| Group::ALL.iter().position(|&x| x == g);
    lines.sort_by(|a, b| {
        group_rank(a.group)
            .cmp(&group_rank(b.group))
            .then_with(|| a.record.key().display_cmp(&b.record.key()))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: Option<&str>, port: &str, description: &str) -> Record {
        Record {
            name: name.map(str::to_string),
            protocol: Some("tcp".into()),
            port: Some(port.into()),
            description: Some(description.into()),
            ..Record::default()
        }
    }

    fn change(before: Option<Record>, after: Option<Record>) -> Change {
        Change::between(before, after).unwrap()
    }

    #[test]
    fn an_assignment_inside_an_unassigned_range_is_one_line() {
        let changes = vec![
            change(Some(record(None, "4700-4720", "Unassigned")), None),
            change(None, Some(record(None, "4700-4710", "Unassigned"))),
            change(None, Some(record(Some("foo"), "4711", "Foo"))),
            change(None, Some(record(None, "4712-4720", "Unassigned"))),
        ];
        let lines = group_changes(&changes);
        assert_eq!(lines.len(), 1, "{lines:#?}");
        assert_eq!(lines[0].group, Group::NewlyAssigned);
        assert_eq!(lines[0].record.name.as_deref(), Some("foo"));
        assert_eq!(
            lines[0].before.as_ref().unwrap().port.as_deref(),
            Some("4700-4720")
        );
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
        assert_eq!(
            lines[0].before.as_ref().unwrap().name.as_deref(),
            Some("fox-skytale")
        );
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
        assert_eq!(
            lines[0].before.as_ref().unwrap().name.as_deref(),
            Some("compressnet")
        );
        assert_eq!(lines[1].group, Group::Removed);
    }

    #[test]
    fn registry_dates_pick_what_changed_since() {
        let mut new = record(Some("new"), "1", "New");
        new.registered = Some("2024-03-01".into());
        let mut touched = record(Some("touched"), "2", "Touched");
        touched.registered = Some("2001-01".into());
        touched.modified = Some("2024-06".into());
        let mut old = record(Some("old"), "3", "Old");
        old.registered = Some("2001-01-01".into());
        let since = "2024".parse().unwrap();
        let lines = by_registry_dates(&[old, touched, new], since);
        let groups: Vec<Group> = lines.iter().map(|l| l.group).collect();
        assert_eq!(groups, [Group::NewlyAssigned, Group::Modified]);
        let changes = registry_date_changes(&lines, since);
        assert_eq!(changes[0].change, ChangeKind::Added);
        assert_eq!(changes[1].change, ChangeKind::Modified);
        assert!(changes[1].before.is_none());
    }
}
