//! The in-memory diff of two parsed documents: the reference the stored history is checked
//! against, and what `diff` answers from when both sides are at hand.

use crate::model::{Change, Record, RecordKey, sort_changes};
use std::borrow::Borrow;
use std::collections::HashMap;

/// Every record change from `before` to `after`, in display order.
pub fn diff_records<R: Record, B: Borrow<R>>(before: &[B], after: &[B]) -> Vec<Change<R>> {
    let mut old: HashMap<RecordKey, &R> = before
        .iter()
        .map(|r| (r.borrow().key(), r.borrow()))
        .collect();
    let mut changes = Vec::new();
    for record in after {
        let record: &R = record.borrow();
        let previous = old.remove(&record.key());
        if let Some(change) = Change::between(previous.cloned(), Some(record.clone())) {
            changes.push(change);
        }
    }
    for (_, record) in old {
        changes.extend(Change::between(Some(record.clone()), None));
    }
    sort_changes(&mut changes);
    changes
}
