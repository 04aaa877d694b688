//! Every record version that covers ports, read lean for `free` and `check`: its key, its
//! description and the places it held in, not the rest of the record. Reading whole records
//! (people and references parsed from JSON, every text field) took three quarters of a
//! `free` on the whole history; these rows are what covering a port needs. And the registry
//! date of each place, to date a version by where it starts (the `snapshots` view would count
//! every snapshot's changes too: a fifth of a `check`).

use super::{Result, Seq, Store};
use crate::model::{Registry, RegistryDate, ServiceRecord};

/// Versions whose key has a numeric port or range (`port_lo` is NULL for the rest), in no
/// particular order (sorting them cost a third of the query).
const PORT_VERSIONS: &str = "SELECT k.name, k.protocol, k.port, k.ordinal, v.description,
        v.first_seq, v.last_seq
    FROM record_version v JOIN record_key k ON k.id = v.key_id
    WHERE k.port_lo IS NOT NULL";

/// A record version with a numeric port or range, and the places it held in.
#[derive(Debug, Clone)]
pub struct PortVersion {
    /// Its key (name, protocol, port, ordinal) and description; the other fields are not read
    /// and stay None.
    pub record: ServiceRecord,
    pub first: Seq,
    /// None: it holds in the latest snapshot.
    pub last: Option<Seq>,
}

/// Each snapshot's place and registry date, oldest first.
const SNAPSHOT_DATES: &str =
    "SELECT seq, registry_date FROM snapshot WHERE registry = ?1 ORDER BY seq";

impl PortVersion {
    /// Whether it holds in the snapshot at `seq`.
    pub fn holds_at(&self, seq: Seq) -> bool {
        self.first <= seq && self.last.is_none_or(|last| last >= seq)
    }
}

impl Store {
    /// Every version of every record that has a numeric port or range, across the whole
    /// history, lean (see [`PortVersion`]), in no particular order.
    pub fn port_versions(&self) -> Result<Vec<PortVersion>> {
        let mut stmt = self.conn.prepare_cached(PORT_VERSIONS)?;
        let rows = stmt.query_map([], |row| {
            Ok(PortVersion {
                record: ServiceRecord {
                    name: row.get(0)?,
                    protocol: row.get(1)?,
                    port: row.get(2)?,
                    ordinal: row.get(3)?,
                    description: row.get(4)?,
                    ..ServiceRecord::default()
                },
                first: row.get(5)?,
                last: row.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The registry date of each place in `registry`'s history, oldest first.
    pub fn registry_dates(&self, registry: Registry) -> Result<Vec<(Seq, RegistryDate)>> {
        let mut stmt = self.conn.prepare_cached(SNAPSHOT_DATES)?;
        let rows = stmt.query_map([registry], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Document;
    use crate::store::{NewSnapshot, raw};
    use std::sync::Arc;

    fn record(name: Option<&str>, protocol: Option<&str>, port: Option<&str>) -> ServiceRecord {
        ServiceRecord {
            name: name.map(str::to_string),
            protocol: protocol.map(str::to_string),
            port: port.map(str::to_string),
            description: Some(format!("{name:?} {port:?}")),
            assignee: Some(vec!["IESG".into()]),
            notes: Some("a note".into()),
            ..ServiceRecord::default()
        }
    }

    fn import(store: &mut Store, date: &str, records: Vec<ServiceRecord>) {
        let registry = Document::new(
            None,
            date.parse().unwrap(),
            records.into_iter().map(Arc::new).collect(),
            vec![],
        );
        let bytes = format!("{registry:?}");
        let sha256 = raw::sha256_hex(bytes.as_bytes());
        let time = format!("{date}T00:00:00Z").parse().unwrap();
        store
            .import(&NewSnapshot {
                bytes: bytes.as_bytes(),
                sha256: &sha256,
                document: &registry,
                source: "test",
                observed_at: time,
                imported_at: time,
            })
            .unwrap();
    }

    #[test]
    fn port_versions_are_the_versions_with_a_numeric_port_and_their_places() {
        let mut store = Store::open_in_memory().unwrap();
        let https = record(Some("https"), Some("tcp"), Some("443"));
        let range = record(None, None, Some("225-241"));
        let portless = record(Some("argus"), None, None);
        let odd = record(Some("odd"), Some("udp"), Some("12ab"));
        let mut changed = https.clone();
        changed.description = Some("changed".into());
        import(
            &mut store,
            "2024-01-01",
            vec![https.clone(), range.clone(), portless.clone(), odd.clone()],
        );
        import(
            &mut store,
            "2024-02-01",
            vec![changed.clone(), range.clone(), portless, odd],
        );
        // (port, description, first, last) of each version.
        type Row = (Option<String>, Option<String>, Seq, Option<Seq>);
        let mut versions: Vec<Row> = store
            .port_versions()
            .unwrap()
            .into_iter()
            .map(|v| {
                // Only the key and description are read.
                assert_eq!(v.record.assignee, None);
                assert_eq!(v.record.notes, None);
                (v.record.port, v.record.description, v.first, v.last)
            })
            .collect();
        versions.sort();
        assert_eq!(
            versions,
            [
                (range.port, range.description, Seq(1), None),
                (https.port.clone(), https.description, Seq(1), Some(Seq(1))),
                (https.port, changed.description, Seq(2), None),
            ]
        );
        let holding: Vec<bool> = store
            .port_versions()
            .unwrap()
            .iter()
            .map(|v| v.holds_at(Seq(2)))
            .collect();
        assert_eq!(holding.iter().filter(|h| **h).count(), 2);
        assert_eq!(
            store.registry_dates(Registry::Services).unwrap(),
            [
                (Seq(1), "2024-01-01".parse().unwrap()),
                (Seq(2), "2024-02-01".parse().unwrap())
            ]
        );
    }
}
