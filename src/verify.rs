//! `portreg verify`: the database checked against itself. SQLite's integrity checks and the
//! history's invariants, then every snapshot's raw bytes rebuilt, re-parsed, and compared with
//! what the stored history gives back for it, registry by registry.
//!
//! The history is walked once, oldest first: each document is rebuilt from the one before by
//! its step, and the stored records and people of each snapshot are kept as a set that the
//! versions starting and ending there update, so nothing is read twice. A record or person
//! already found equal to its stored version is not compared again while both stay the same
//! (the parse memo shares unchanged elements between documents). Only where something differs
//! are the snapshot's records read back the ordinary way, to name the differences.

use crate::diff::diff_records;
use crate::model::{ChangeKind, Field, Person, Record, Registry, sort_records};
use crate::parse::{ParseMemo, parse_with_memo};
use crate::store::raw::sha256_hex;
use crate::store::{Seq, SnapshotId, SnapshotRow, Store, StoreError, StoredPerson, StoredVersion};
use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hash, Hasher};
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

/// A digest of a record's identity. Two identities with one digest (possible, never seen)
/// only send the check to the slow path, which compares the snapshot's records in full.
fn key_digest<R: Record>(record: &R) -> u64 {
    let mut hasher = FxBuildHasher.build_hasher();
    for field in R::Field::KEY {
        field.value(record).hash(&mut hasher);
    }
    record.ordinal().hash(&mut hasher);
    hasher.finish()
}

fn id_digest(person: &Person) -> u64 {
    FxBuildHasher.hash_one(person.id.as_str())
}

/// Which stored versions hold at the snapshot being checked, kept up to date as the walk
/// goes: versions starting at a place enter, versions that ended at the place before leave.
struct Holding {
    /// Version indexes by the place they start at, and by the place after their last.
    starting: BTreeMap<Seq, Vec<usize>>,
    leaving: BTreeMap<Seq, Vec<usize>>,
    current: FxHashMap<u64, usize>,
    /// The parsed item each version was last found equal to.
    equal_to: FxHashMap<usize, usize>,
}

impl Holding {
    fn new<T>(
        versions: &[T],
        first: impl Fn(&T) -> Seq,
        last: impl Fn(&T) -> Option<Seq>,
    ) -> Holding {
        let mut starting: BTreeMap<Seq, Vec<usize>> = BTreeMap::new();
        let mut leaving: BTreeMap<Seq, Vec<usize>> = BTreeMap::new();
        for (i, version) in versions.iter().enumerate() {
            starting.entry(first(version)).or_default().push(i);
            if let Some(last) = last(version) {
                leaving.entry(last.after()).or_default().push(i);
            }
        }
        Holding {
            starting,
            leaving,
            current: FxHashMap::default(),
            equal_to: FxHashMap::default(),
        }
    }

    /// Moves to place `seq`: `key(i)` is version i's key.
    fn advance(&mut self, seq: Seq, key: impl Fn(usize) -> u64) {
        for i in self.leaving.remove(&seq).unwrap_or_default() {
            if self.current.get(&key(i)) == Some(&i) {
                self.current.remove(&key(i));
            }
            self.equal_to.remove(&i);
        }
        for i in self.starting.remove(&seq).unwrap_or_default() {
            self.current.insert(key(i), i);
        }
    }

    /// Whether the parsed items (each with its key, an identity for "the same item as last
    /// time", and an equality test against a version) are exactly the stored ones.
    fn matches<'p, T: 'p>(
        &mut self,
        parsed: impl ExactSizeIterator<Item = (u64, &'p Arc<T>)>,
        equal: impl Fn(usize, &T) -> bool,
    ) -> bool {
        if parsed.len() != self.current.len() {
            return false;
        }
        let mut seen = FxHashSet::default();
        for (key, item) in parsed {
            let Some(&version) = self.current.get(&key) else {
                return false;
            };
            if !seen.insert(version) {
                return false;
            }
            let identity = Arc::as_ptr(item) as usize;
            if self.equal_to.get(&version) != Some(&identity) {
                if !equal(version, item) {
                    return false;
                }
                self.equal_to.insert(version, identity);
            }
        }
        true
    }
}

/// Checks the whole database, every registry's history; `progress(done, total)` is called
/// after each snapshot.
pub fn verify(
    store: &Store,
    mut progress: impl FnMut(usize, usize),
) -> Result<VerifyReport, StoreError> {
    let mut report = VerifyReport::default();
    for what in store.consistency_problems()? {
        report.problems.push(Problem {
            snapshot_id: None,
            what,
        });
    }
    let mut total = 0;
    for registry in Registry::ALL {
        total += store.snapshot_count(registry)? as usize;
    }
    for registry in Registry::ALL {
        crate::with_record_type!(registry, R => {
            verify_history::<R>(store, &mut report, &mut |done| progress(done, total))?
        });
    }
    Ok(report)
}

/// Checks `R`'s history, adding to `report`.
fn verify_history<R: Record>(
    store: &Store,
    report: &mut VerifyReport,
    progress: &mut dyn FnMut(usize),
) -> Result<(), StoreError> {
    let snapshots = store.snapshots(R::REGISTRY)?;
    let mut history = StoredHistory::<R>::read(store)?;
    let by_id: FxHashMap<SnapshotId, &SnapshotRow> = snapshots.iter().map(|s| (s.id, s)).collect();
    store.each_document(R::REGISTRY, |seq, id, document| -> Result<(), StoreError> {
        report.snapshots_checked += 1;
        progress(report.snapshots_checked);
        history.advance(seq);
        let Some(snapshot) = by_id.get(&id) else {
            return Ok(());
        };
        let problems = match document {
            Ok(bytes) => history.check(store, snapshot, bytes)?,
            Err(error) => vec![format!("raw bytes: {error}")],
        };
        report
            .problems
            .extend(problems.into_iter().map(|what| Problem {
                snapshot_id: Some(id),
                what,
            }));
        Ok(())
    })
}

/// The stored versions of `R`'s records and people, and which of them hold at the snapshot
/// being checked.
struct StoredHistory<R: Record> {
    records: Vec<StoredVersion<R>>,
    people: Vec<StoredPerson>,
    holding_records: Holding,
    holding_people: Holding,
    memo: ParseMemo<R>,
}

impl<R: Record> StoredHistory<R> {
    fn read(store: &Store) -> Result<StoredHistory<R>, StoreError> {
        let records = store.record_versions::<R>()?;
        let people = store.person_versions(R::REGISTRY)?;
        Ok(StoredHistory {
            holding_records: Holding::new(&records, |v| v.first, |v| v.last),
            holding_people: Holding::new(&people, |v| v.first, |v| v.last),
            records,
            people,
            memo: ParseMemo::default(),
        })
    }

    /// Moves to the snapshot at `seq`.
    fn advance(&mut self, seq: Seq) {
        let (records, people) = (&self.records, &self.people);
        self.holding_records
            .advance(seq, |i| key_digest(&records[i].record));
        self.holding_people
            .advance(seq, |i| id_digest(&people[i].person));
    }

    /// What is wrong with a snapshot whose document is `bytes`.
    fn check(
        &mut self,
        store: &Store,
        snapshot: &SnapshotRow,
        bytes: &[u8],
    ) -> Result<Vec<String>, StoreError> {
        let mut problems = Vec::new();
        if sha256_hex(bytes) != snapshot.sha256 {
            problems.push("raw bytes: their sha256 differs from the stored one".into());
        }
        if bytes.len() as i64 != snapshot.byte_size {
            problems.push(format!(
                "raw bytes: {} bytes, the snapshot says {}",
                bytes.len(),
                snapshot.byte_size
            ));
        }
        let registry = match parse_with_memo::<R>(bytes, &mut self.memo) {
            Ok(registry) => registry,
            Err(error) => {
                problems.push(format!("raw bytes do not parse: {error}"));
                return Ok(problems);
            }
        };
        if registry.updated != snapshot.registry_date {
            problems.push(format!(
                "registry date {} in the bytes, {} in the snapshot",
                registry.updated, snapshot.registry_date
            ));
        }
        if registry.records.len() as i64 != snapshot.records {
            problems.push(format!(
                "{} records in the bytes, the snapshot says {}",
                registry.records.len(),
                snapshot.records
            ));
        }
        let records = &self.records;
        let parsed = registry.records.iter().map(|r| (key_digest(&**r), r));
        if !self
            .holding_records
            .matches(parsed, |i, r| records[i].record == *r)
        {
            problems.extend(record_differences(store, snapshot.seq, &registry.records)?);
        }
        // As import keeps them: the first entry of a repeated id.
        let mut first_of: FxHashMap<u64, &Arc<Person>> = FxHashMap::default();
        for person in &registry.people {
            first_of.entry(id_digest(person)).or_insert(person);
        }
        let people = &self.people;
        let parsed = first_of.iter().map(|(&id, &person)| (id, person));
        if !self
            .holding_people
            .matches(parsed, |i, p| people[i].person == *p)
        {
            problems.extend(people_differences(
                store,
                R::REGISTRY,
                snapshot.seq,
                &registry.people,
            )?);
        }
        Ok(problems)
    }
}

/// The differences between a snapshot's stored records and its document's, named; None when
/// there are none after all.
fn record_differences<R: Record>(
    store: &Store,
    seq: Seq,
    parsed: &[Arc<R>],
) -> Result<Option<String>, StoreError> {
    let mut stored = store.records_at::<R>(seq)?;
    let mut parsed: Vec<R> = parsed.iter().map(|r| R::clone(r)).collect();
    sort_records::<R, R>(&mut stored);
    sort_records::<R, R>(&mut parsed);
    let changes = diff_records::<R, R>(&parsed, &stored);
    if changes.is_empty() {
        return Ok(None);
    }
    let named: Vec<String> = changes
        .iter()
        .take(NAMED_DIFFERENCES)
        .filter_map(|c| Some((c, c.record()?)))
        .map(|(c, record)| {
            let label = record.label();
            let name = record.name().unwrap_or("");
            match c.change {
                ChangeKind::Added => format!("{label} {name} is stored but not in the bytes"),
                ChangeKind::Removed => format!("{label} {name} is in the bytes but not stored"),
                ChangeKind::Modified => {
                    let fields: Vec<&str> = c.changed_fields.iter().map(|f| f.name()).collect();
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
    Ok(Some(what))
}

/// The differences between a snapshot's stored people and its document's, counted; None when
/// there are none after all.
fn people_differences(
    store: &Store,
    registry: Registry,
    seq: Seq,
    parsed: &[Arc<Person>],
) -> Result<Option<String>, StoreError> {
    let mut first_of: BTreeMap<&str, &Person> = BTreeMap::new();
    for person in parsed {
        first_of.entry(person.id.as_str()).or_insert(person);
    }
    let parsed: Vec<&Person> = first_of.into_values().collect();
    let stored = store.people_at(registry, seq)?;
    if stored.iter().eq(parsed.iter().copied()) {
        return Ok(None);
    }
    let differing = parsed.len().abs_diff(stored.len()).max(
        parsed
            .iter()
            .zip(&stored)
            .filter(|(a, b)| **a != *b)
            .count(),
    );
    Ok(Some(format!(
        "stored people differ from the bytes ({} stored, {} in the bytes, about {differing} differ)",
        stored.len(),
        parsed.len()
    )))
}
