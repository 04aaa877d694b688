//! The registry's story per year (`output::chart` draws it).
//!
//! Everything comes from two reads of the store: the snapshot list (registry dates, record
//! counts, and the added/removed/modified counts `portreg snapshots` shows) and every record
//! version with its interval of places in history.
//!
//! What needs more than counts, the changes grouped as `portreg changes` shows them (newly
//! assigned, de-assigned or reserved), is made from each snapshot's changes against the one
//! before. Those come from one pass over the versions instead of one `Store::diff` per pair:
//! between places k-1 and k, a key whose version ends at k-1 and another starts at k is
//! modified, a version that only starts at k is added, one that only ends at k-1 is removed.
//! Intervals are canonical (maximal runs of equal content), so that is exactly what the diff
//! of the two snapshots finds; the end-to-end tests check it against `Store::diff`. The whole
//! history (390 snapshots) then takes one read of its 15,000 versions.
//!
//! "Assigned" means the record has a name (a service name, a protocol keyword: as
//! `show --assigned` has it); the others are Unassigned ranges, Reserved and de-assigned
//! entries. Every registry has its own story.

use crate::model::{Change, Record, Registry, RegistryDate, sort_changes};
use crate::report::{Group, group_changes};
use crate::store::{SnapshotId, Store, StoreError, StoredVersion};
use rustc_hash::FxHashMap;
use serde::Serialize;

/// One snapshot in the story: its size and what changed against the snapshot before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotPoint {
    pub id: SnapshotId,
    pub registry_date: RegistryDate,
    pub records: i64,
    /// Records with a service name.
    pub assigned: i64,
    /// Records without one: Unassigned ranges, Reserved and de-assigned entries.
    pub unassigned_or_reserved: i64,
    /// As `portreg snapshots` counts them; 0 for the oldest snapshot (null there).
    pub added: i64,
    pub removed: i64,
    pub modified: i64,
    /// Lines of the "Newly assigned" group of `group_changes`.
    pub newly_assigned: i64,
    /// Lines of the "De-assigned or reserved" group.
    pub deassigned: i64,
}

/// One year of registry dates: a row of `portreg stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YearStats {
    pub year: i32,
    /// Snapshots whose registry date is in the year.
    pub snapshots: i64,
    /// Sums over those snapshots, each against the snapshot before it (which may be of the
    /// year before).
    pub added: i64,
    pub removed: i64,
    pub modified: i64,
    /// The record count of the year's last snapshot.
    pub records: i64,
    pub newly_assigned: i64,
    pub deassigned: i64,
    /// Of `records`: with a service name, and without one.
    pub assigned: i64,
    pub unassigned_or_reserved: i64,
}

/// The whole story: every snapshot, and the years they fall in (ascending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Story {
    /// Whose story it is.
    pub registry: Registry,
    pub snapshots: Vec<SnapshotPoint>,
    pub years: Vec<YearStats>,
}

/// Reads the story of `R`'s registry from the store.
pub fn story<R: Record>(store: &Store) -> Result<Story, StoreError> {
    let rows = store.snapshots(R::REGISTRY)?;
    let versions = store.record_versions::<R>()?;
    let places = rows.len();
    let changes = consecutive_changes(&versions, places);
    let assigned = assigned_per_place(&versions, places);
    let mut snapshots = Vec::with_capacity(places);
    for ((row, changes), assigned) in rows.iter().zip(&changes).zip(assigned) {
        let lines = group_changes(changes);
        let in_group = |group: Group| lines.iter().filter(|l| l.group == group).count() as i64;
        snapshots.push(SnapshotPoint {
            id: row.id,
            registry_date: row.registry_date,
            records: row.records,
            assigned,
            unassigned_or_reserved: row.records - assigned,
            added: row.added.unwrap_or(0),
            removed: row.removed.unwrap_or(0),
            modified: row.modified.unwrap_or(0),
            newly_assigned: in_group(Group::NewlyAssigned),
            deassigned: in_group(Group::DeassignedOrReserved),
        });
    }
    let years = years(&snapshots);
    Ok(Story {
        registry: R::REGISTRY,
        snapshots,
        years,
    })
}

/// A version's place as an index into a list of `places + 1` slots (1..=places), if it is one.
fn slot(seq: i64, places: usize) -> Option<usize> {
    usize::try_from(seq)
        .ok()
        .filter(|&s| (1..=places).contains(&s))
}

/// The changes of each snapshot against the one before it, from the versions of a history of
/// `places` snapshots: element `i` holds the changes from place `i` to place `i + 1` (places
/// count from 1), the first is empty. Each list is in display order, as `Store::diff` gives
/// it.
pub fn consecutive_changes<R: Record>(
    versions: &[StoredVersion<R>],
    places: usize,
) -> Vec<Vec<Change<R>>> {
    let mut starting: Vec<Vec<&StoredVersion<R>>> = vec![Vec::new(); places + 1];
    let mut ending: Vec<Vec<&StoredVersion<R>>> = vec![Vec::new(); places + 1];
    for version in versions {
        if let Some(first) = slot(version.first.0, places) {
            starting[first].push(version);
        }
        if let Some(last) = version.last.and_then(|last| slot(last.0, places)) {
            ending[last].push(version);
        }
    }
    let mut all = Vec::with_capacity(places);
    for place in 1..=places {
        if place == 1 {
            all.push(Vec::new());
            continue;
        }
        let mut sides: FxHashMap<i64, (Option<R>, Option<R>)> = FxHashMap::default();
        for version in &ending[place - 1] {
            sides.entry(version.key_id).or_default().0 = Some(version.record.clone());
        }
        for version in &starting[place] {
            sides.entry(version.key_id).or_default().1 = Some(version.record.clone());
        }
        let mut changes: Vec<Change<R>> = sides
            .into_values()
            .filter_map(|(before, after)| Change::between(before, after))
            .collect();
        sort_changes(&mut changes);
        all.push(changes);
    }
    all
}

/// How many records with a name each place holds (element `i`: place `i + 1`).
fn assigned_per_place<R: Record>(versions: &[StoredVersion<R>], places: usize) -> Vec<i64> {
    // +1 where a named version starts, -1 after it ends; the running sum is the count.
    let mut delta = vec![0i64; places + 2];
    for version in versions.iter().filter(|v| v.record.name().is_some()) {
        if let Some(first) = slot(version.first.0, places) {
            delta[first] += 1;
            let end = version
                .last
                .and_then(|last| slot(last.0, places))
                .map_or(places + 1, |last| last + 1);
            delta[end] -= 1;
        }
    }
    delta[1..=places]
        .iter()
        .scan(0i64, |count, d| {
            *count += d;
            Some(*count)
        })
        .collect()
}

/// The snapshots summed per year of registry date, ascending.
pub fn years(snapshots: &[SnapshotPoint]) -> Vec<YearStats> {
    let mut years: Vec<YearStats> = Vec::new();
    // Snapshots are in history order, which is registry-date order: a year's are together.
    for point in snapshots {
        let year = point.registry_date.year();
        if years.last().is_none_or(|row| row.year != year) {
            years.push(YearStats {
                year,
                snapshots: 0,
                added: 0,
                removed: 0,
                modified: 0,
                records: 0,
                newly_assigned: 0,
                deassigned: 0,
                assigned: 0,
                unassigned_or_reserved: 0,
            });
        }
        let Some(row) = years.last_mut() else {
            continue;
        };
        row.snapshots += 1;
        row.added += point.added;
        row.removed += point.removed;
        row.modified += point.modified;
        row.newly_assigned += point.newly_assigned;
        row.deassigned += point.deassigned;
        row.records = point.records;
        row.assigned = point.assigned;
        row.unassigned_or_reserved = point.unassigned_or_reserved;
    }
    years
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServiceRecord;
    use crate::store::Seq;

    fn version(
        key_id: i64,
        first: i64,
        last: Option<i64>,
        name: Option<&str>,
        text: &str,
    ) -> StoredVersion<ServiceRecord> {
        StoredVersion {
            key_id,
            version_id: 0,
            first: Seq(first),
            last: last.map(Seq),
            record: ServiceRecord::entry(name, Some("tcp"), &key_id.to_string(), text),
        }
    }

    #[test]
    fn versions_meeting_at_a_place_are_a_modification_and_lone_ends_are_removals() {
        let versions = [
            version(1, 1, Some(1), Some("a"), "old"),
            version(1, 2, None, Some("a"), "new"),
            version(2, 1, Some(2), Some("gone"), "x"),
            version(3, 3, None, Some("late"), "y"),
            version(4, 1, None, None, "Unassigned"),
        ];
        let changes = consecutive_changes(&versions, 3);
        let kinds = |place: usize| -> Vec<(String, &'static str)> {
            changes[place]
                .iter()
                .map(|c| (c.record().unwrap().port.clone().unwrap(), c.change.as_str()))
                .collect()
        };
        assert!(changes[0].is_empty());
        assert_eq!(kinds(1), [("1".to_string(), "modified")]);
        assert_eq!(
            kinds(2),
            [("2".to_string(), "removed"), ("3".to_string(), "added")]
        );
        assert_eq!(assigned_per_place(&versions, 3), [2, 2, 2]);
    }

    #[test]
    fn years_sum_their_snapshots_and_keep_the_last_counts() {
        let point = |date: &str, records: i64, added: i64, newly: i64| SnapshotPoint {
            id: SnapshotId(1),
            registry_date: date.parse().unwrap(),
            records,
            assigned: records - 10,
            unassigned_or_reserved: 10,
            added,
            removed: 1,
            modified: 2,
            newly_assigned: newly,
            deassigned: 1,
        };
        let years = years(&[
            point("2023-12-27", 100, 0, 0),
            point("2024-01-05", 103, 3, 2),
            point("2024-06-01", 104, 1, 1),
        ]);
        assert_eq!(years.len(), 2);
        assert_eq!(
            (years[0].year, years[0].snapshots, years[0].records),
            (2023, 1, 100)
        );
        let y = &years[1];
        assert_eq!(
            (y.year, y.snapshots, y.added, y.removed, y.modified),
            (2024, 2, 4, 2, 4)
        );
        assert_eq!(
            (y.records, y.assigned, y.unassigned_or_reserved),
            (104, 94, 10)
        );
        assert_eq!((y.newly_assigned, y.deassigned), (3, 2));
    }
}
