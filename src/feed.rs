//! The history as a feed: the newest snapshots, newest first, each with its changes against
//! the snapshot before it, grouped as `portreg changes` groups them. `output::atom` writes it
//! as Atom.
//!
//! Everything in it comes from the stored history, nothing from the clock, so two runs on the
//! same history give the same feed.

use crate::model::Record;
use crate::report::{Line, group_changes};
use crate::store::{SnapshotRow, Store, StoreError};
use crate::time::Timestamp;

/// One snapshot as the feed tells it.
#[derive(Debug, Clone)]
pub struct FeedEntry<R: Record> {
    pub snapshot: SnapshotRow,
    /// The snapshot before it in history; None for the oldest.
    pub previous: Option<SnapshotRow>,
    /// Its changes against `previous`, grouped for people (none for the oldest).
    pub lines: Vec<Line<R>>,
}

/// The newest snapshots of one registry, newest first; never empty.
#[derive(Debug, Clone)]
pub struct Feed<R: Record> {
    entries: Vec<FeedEntry<R>>,
}

impl<R: Record> Feed<R> {
    /// The newest `limit` snapshots of `R`'s history (all of them when it holds fewer), each
    /// with its changes against the one before. An empty history has no feed.
    pub fn load(store: &Store, limit: usize) -> Result<Feed<R>, StoreError> {
        let rows = store.snapshots(R::REGISTRY)?;
        let first = rows.len().saturating_sub(limit.max(1));
        let mut entries = Vec::with_capacity(rows.len() - first);
        for at in (first..rows.len()).rev() {
            let snapshot = rows[at].clone();
            let previous = at.checked_sub(1).map(|before| rows[before].clone());
            let lines = match &previous {
                Some(previous) => group_changes(&store.diff::<R>(previous.seq, snapshot.seq)?),
                None => Vec::new(),
            };
            entries.push(FeedEntry {
                snapshot,
                previous,
                lines,
            });
        }
        if entries.is_empty() {
            return Err(store.empty(R::REGISTRY)?);
        }
        Ok(Feed { entries })
    }

    /// The entries, newest first; never empty.
    pub fn entries(&self) -> &[FeedEntry<R>] {
        &self.entries
    }

    /// When the feed last changed: the latest observation among its entries.
    pub fn updated(&self) -> Timestamp {
        self.entries
            .iter()
            .map(|entry| entry.snapshot.observed_at)
            .max()
            .expect("a feed has entries")
    }

    /// A feed of these entries, newest first; None for none. For tests of what renders it.
    #[cfg(test)]
    pub(crate) fn new(entries: Vec<FeedEntry<R>>) -> Option<Feed<R>> {
        (!entries.is_empty()).then_some(Feed { entries })
    }
}
