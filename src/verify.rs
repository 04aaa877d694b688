//! `portreg verify`: the database checked against itself. SQLite's integrity checks, then every
//! snapshot's raw bytes re-parsed and compared with what the stored history gives back for it.

use crate::diff::diff_records;
use crate::model::{Person, Record, sort_records};
use crate::output::key_label;
use crate::parse::{ParseMemo, parse_registry_with_memo};
use crate::store::{SnapshotId, Store, StoreError};
use std::collections::BTreeMap;
use std::sync::Arc;

/// How many differing records of one snapshot are named before "and N more".
const NAMED_DIFFERENCES: usize = 5;

/// One thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The snapshot it concerns, when it concerns one.
    pub snapshot_id: Option<SnapshotId>,
    pub what: String,
}

#[derive(Debug, Default)]
pub struct VerifyReport {
    pub snapshots_checked: usize,
    pub problems: Vec<Problem>,
}

/// Checks the whole database; `progress(done, total)` is called after each snapshot.
pub fn verify(
    store: &mut Store,
    mut progress: impl FnMut(usize, usize),
) -> Result<VerifyReport, StoreError> {
    let mut report = VerifyReport::default();
    for what in store.consistency_problems()? {
        report.problems.push(Problem {
            snapshot_id: None,
            what,
        });
    }
    let snapshots = store.snapshots()?;
    let mut memo = ParseMemo::default();
    for (done, snapshot) in snapshots.iter().enumerate() {
        let mut problem = |what: String| {
            report.problems.push(Problem {
                snapshot_id: Some(snapshot.id),
                what,
            })
        };
        report.snapshots_checked += 1;
        progress(done + 1, snapshots.len());
        let bytes = match store.raw_bytes(snapshot.id) {
            Ok(bytes) => bytes,
            Err(error) => {
                problem(format!("raw bytes: {error}"));
                continue;
            }
        };
        if bytes.len() as i64 != snapshot.byte_size {
            problem(format!(
                "raw bytes: {} bytes, the snapshot says {}",
                bytes.len(),
                snapshot.byte_size
            ));
        }
        let registry = match parse_registry_with_memo(&bytes, &mut memo) {
            Ok(registry) => registry,
            Err(error) => {
                problem(format!("raw bytes do not parse: {error}"));
                continue;
            }
        };
        if registry.updated != snapshot.registry_date {
            problem(format!(
                "registry date {} in the bytes, {} in the snapshot",
                registry.updated, snapshot.registry_date
            ));
        }
        if registry.records.len() as i64 != snapshot.records {
            problem(format!(
                "{} records in the bytes, the snapshot says {}",
                registry.records.len(),
                snapshot.records
            ));
        }
        let mut stored = store.records_at(snapshot.seq)?;
        let mut parsed: Vec<Record> = registry.records.iter().map(|r| Record::clone(r)).collect();
        sort_records(&mut stored);
        sort_records(&mut parsed);
        if stored != parsed {
            let changes = diff_records(&parsed, &stored);
            let named: Vec<String> = changes
                .iter()
                .take(NAMED_DIFFERENCES)
                .map(|c| {
                    let label =
                        key_label(c.name.as_deref(), c.protocol.as_deref(), c.port.as_deref());
                    let name = c.name.as_deref().unwrap_or("");
                    match c.change {
                        crate::model::ChangeKind::Added => {
                            format!("{label} {name} is stored but not in the bytes")
                        }
                        crate::model::ChangeKind::Removed => {
                            format!("{label} {name} is in the bytes but not stored")
                        }
                        crate::model::ChangeKind::Modified => {
                            let fields: Vec<&str> =
                                c.changed_fields.iter().map(|f| f.name()).collect();
                            format!("{label} {name} differs in {}", fields.join(", "))
                        }
                    }
                })
                .collect();
            let more = changes.len().saturating_sub(NAMED_DIFFERENCES);
            let mut what = format!("stored records differ from the bytes: {}", named.join("; "));
            if more > 0 {
                what.push_str(&format!("; and {more} more"));
            }
            problem(what);
        }
        // As import keeps them: the first entry of a repeated id.
        let mut parsed_people: BTreeMap<String, Person> = BTreeMap::new();
        for person in registry.people {
            parsed_people
                .entry(person.id.clone())
                .or_insert_with(|| Arc::unwrap_or_clone(person));
        }
        let parsed_people: Vec<Person> = parsed_people.into_values().collect();
        let stored_people = store.people_at(snapshot.seq)?;
        if stored_people != parsed_people {
            let differing = parsed_people.len().abs_diff(stored_people.len()).max(
                parsed_people
                    .iter()
                    .zip(&stored_people)
                    .filter(|(a, b)| a != b)
                    .count(),
            );
            problem(format!(
                "stored people differ from the bytes ({} stored, {} in the bytes, about {differing} differ)",
                stored_people.len(),
                parsed_people.len()
            ));
        }
    }
    Ok(report)
}
