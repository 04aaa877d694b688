//! What changed since a date, as `changes` answers it: from the stored history when it reaches
//! back that far (the diff from the snapshot of that date to the latest), else from the
//! registry's own registration and modification dates in the latest snapshot.

use crate::lookup::SinceDate;
use crate::model::{Change, ChangeKind, Record, RegistryDate};
use crate::report::{Group, Line, group_changes, sort_lines};
use crate::store::{Seq, SnapshotRef, SnapshotRow, Store, StoreError};

/// Where an answer about changes comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeSource {
    /// The stored history when it reaches back to the date, else the registry's own dates.
    Auto,
    /// Only the stored history: the diff from the snapshot of the date to the latest.
    Observed,
    /// Only the registry's own dates: latest records registered or modified since the date.
    Registry,
}

/// What an answer compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compared {
    /// Two stored snapshots.
    Snapshots { from: SnapshotRow, to: SnapshotRow },
    /// The records of one snapshot, by their own registration and modification dates.
    /// `fell_back` is the oldest snapshot's date when the history was asked first and starts
    /// too late.
    RegistryDates {
        snapshot: SnapshotRow,
        since: SinceDate,
        fell_back: Option<RegistryDate>,
    },
}

/// The changes since a date, three ways: what was compared, the lines people read, and the
/// contract's change objects.
#[derive(Debug, Clone)]
pub struct ChangesSince<R: Record> {
    pub compared: Compared,
    pub lines: Vec<Line<R>>,
    pub changes: Vec<Change<R>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ChangesError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Only the history was asked for, and it starts after the date.
    #[error("the stored history starts after {since} (oldest snapshot: {oldest})")]
    HistoryStartsLater {
        since: SinceDate,
        oldest: RegistryDate,
    },
}

/// Whether a record's date as IANA writes it (`registered` or `modified`: `YYYY-MM-DD`, or
/// `YYYY-MM` for old records) is on or after the day `since` (`YYYY-MM-DD`, as [`SinceDate`]
/// writes it). A month-only date counts when its month is since's month or later, since it may
/// be any day of it.
pub fn record_date_on_or_after(date: &str, since: &str) -> bool {
    let (date, since) = (date.trim().as_bytes(), since.as_bytes());
    if date.len() < 7 {
        return false;
    }
    let width = date.len().min(since.len());
    date[..width] >= since[..width]
}

/// The changes in `R`'s registry from as of `since` to its latest snapshot, from where
/// `source` says.
pub fn changes_since<R: Record>(
    store: &Store,
    since: SinceDate,
    source: ChangeSource,
) -> Result<ChangesSince<R>, ChangesError> {
    let registry = R::REGISTRY;
    let Some(latest) = store.latest_snapshot(registry)? else {
        return Err(store.empty(registry)?.into());
    };
    let base = match store.resolve(registry, &SnapshotRef::Date(since.0)) {
        Ok(base) => Some(base),
        Err(StoreError::NoSuchSnapshot(_)) => None,
        Err(error) => return Err(error.into()),
    };
    let oldest = || -> Result<RegistryDate, ChangesError> {
        match store.snapshot_at_seq(registry, Seq::FIRST)? {
            Some(oldest) => Ok(oldest.registry_date),
            None => Err(store.empty(registry)?.into()),
        }
    };
    let fell_back = match (source, base) {
        (ChangeSource::Registry, _) => None,
        (_, Some(from)) => {
            let changes = store.diff::<R>(from.seq, latest.seq)?;
            return Ok(ChangesSince {
                lines: group_changes(&changes),
                changes,
                compared: Compared::Snapshots { from, to: latest },
            });
        }
        (ChangeSource::Observed, None) => {
            let oldest = oldest()?;
            return Err(ChangesError::HistoryStartsLater { since, oldest });
        }
        (ChangeSource::Auto, None) => Some(oldest()?),
    };
    let records = store.records_at::<R>(latest.seq)?;
    let lines = by_registry_dates(&records, since);
    Ok(ChangesSince {
        changes: registry_date_changes(&lines, since),
        lines,
        compared: Compared::RegistryDates {
            snapshot: latest,
            since,
            fell_back,
        },
    })
}

/// The records of a snapshot that the registry's own dates say changed on or after `since`:
/// registered then (newly assigned, or reserved when it has no name), or modified then
/// (de-assigned when it has no name: IANA marks a de-assignment by a modification date and a
/// note; otherwise modified, with the old values unknown).
fn by_registry_dates<R: Record>(records: &[R], since: SinceDate) -> Vec<Line<R>> {
    let since = since.to_string();
    let on_or_after = |date: Option<&str>| date.is_some_and(|d| record_date_on_or_after(d, &since));
    let mut lines: Vec<Line<R>> = records
        .iter()
        .filter_map(|record| {
            let group = if on_or_after(record.registered()) {
                if record.name().is_some() {
                    Group::NewlyAssigned
                } else {
                    Group::DeassignedOrReserved
                }
            } else if on_or_after(record.modified()) {
                if record.name().is_some() {
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
                before: Vec::new(),
                changed_fields: Vec::new(),
            })
        })
        .collect();
    sort_lines(&mut lines);
    lines
}

/// The contract's change objects for lines found by registry dates: registered since is
/// "added", modified since is "modified" with `before` null (the old values are unknown).
fn registry_date_changes<R: Record>(lines: &[Line<R>], since: SinceDate) -> Vec<Change<R>> {
    let since = since.to_string();
    lines
        .iter()
        .map(|line| {
            let registered = line
                .record
                .registered()
                .is_some_and(|d| record_date_on_or_after(d, &since));
            Change {
                change: if registered {
                    ChangeKind::Added
                } else {
                    ChangeKind::Modified
                },
                changed_fields: Vec::new(),
                before: None,
                after: Some(line.record.clone()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::ServiceRecord;

    fn record(name: Option<&str>, port: &str, description: &str) -> ServiceRecord {
        ServiceRecord::entry(name, Some("tcp"), port, description)
    }

    #[test]
    fn month_only_record_dates_count_from_their_month() {
        let since = "2024-06-15";
        assert!(record_date_on_or_after("2024-06", since));
        assert!(record_date_on_or_after("2024-06-15", since));
        assert!(!record_date_on_or_after("2024-06-14", since));
        assert!(!record_date_on_or_after("2024-05", since));
        assert!(!record_date_on_or_after("", since));
        // Whatever the registry writes there, never a panic (a byte-wise comparison).
        let _ = record_date_on_or_after("2024-\u{e9}6-\u{e9}", since);
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
