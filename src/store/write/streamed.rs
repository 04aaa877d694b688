//! A first snapshot stored while its document is still being parsed.
//!
//! Into an empty history every record of the document is a new version from place 1 on, so
//! its rows can go in as the parser hands them over (see
//! [`crate::parse::parse_registry_streaming`]), and parsing and storing overlap: a first
//! import takes 117 ms instead of 166 (same-loop medians), which is what brings it to 5x the
//! plain Python loader of the bench. The document can still be refused at its very end; then the
//! transaction, and every row in it, is rolled back. Into a history that holds snapshots, the
//! records must be placed against their neighbours, so the store waits for the whole document
//! and imports it as [`Store::import`] does; meanwhile it reads the latest document and the
//! record keys, which storing a new version needs (what `fetch` does from cron).

use super::intervals::Place;
use super::{
    ImportOutcome, NewSnapshot, content_hashes, insert_snapshot_row, keys, place_people,
    place_records,
};
use crate::model::{RecordChunk, Registry};
use crate::store::raw;
use crate::store::{Result, Seq, Store};
use crate::time::Timestamp;
use rusqlite::TransactionBehavior;

/// A document being parsed, and where it came from.
pub struct StreamedSnapshot<'a> {
    /// The sha256 of the document's bytes, hex.
    pub sha256: &'a str,
    pub source: &'a str,
    pub observed_at: Timestamp,
    pub imported_at: Timestamp,
}

/// What a parse gives at its end: the registry and the document's bytes, or why it refused.
pub type Parsed<E> = std::result::Result<(Registry, Vec<u8>), E>;

impl<'a> StreamedSnapshot<'a> {
    /// The document as [`Store::import`] takes it, once parsed.
    pub fn parsed(&self, bytes: &'a [u8], registry: &'a Registry) -> NewSnapshot<'a> {
        NewSnapshot {
            bytes,
            sha256: self.sha256,
            registry,
            source: self.source,
            observed_at: self.observed_at,
            imported_at: self.imported_at,
        }
    }
}

impl Store {
    /// Stores a document whose records arrive in `chunks` while it is parsed (the iterator ends
    /// where they end, and is dropped unread into a history that is not empty); `parsed` waits
    /// for the parse to end. The outer result is the store's; the inner one says whether the
    /// document was refused (then nothing is stored). The registry comes back for the caller
    /// to report on.
    pub fn import_streamed<E>(
        &mut self,
        new: &StreamedSnapshot,
        chunks: impl IntoIterator<Item = RecordChunk>,
        parsed: impl FnOnce() -> Parsed<E>,
    ) -> Result<std::result::Result<(ImportOutcome, Registry), E>> {
        let result = self.import_streamed_in_transaction(new, chunks, parsed);
        if !matches!(result, Ok(Ok(_))) {
            // Rolled back (a refusal too): the caches may hold ids that are not stored.
            self.raw_cache = None;
            self.key_cache = keys::KeyCache::default();
        }
        result
    }

    fn import_streamed_in_transaction<E>(
        &mut self,
        new: &StreamedSnapshot,
        chunks: impl IntoIterator<Item = RecordChunk>,
        parsed: impl FnOnce() -> Parsed<E>,
    ) -> Result<std::result::Result<(ImportOutcome, Registry), E>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let empty: bool = tx.query_row("SELECT NOT EXISTS (SELECT 1 FROM snapshot)", [], |r| {
            r.get(0)
        })?;
        if !empty {
            drop(chunks);
            // While the parse goes on, read what storing the document will most likely need:
            // the latest document (a new version goes after it) and the record keys.
            let latest: Seq = tx.query_row("SELECT max(seq) FROM snapshot", [], |r| r.get(0))?;
            raw::document_at(&tx, &mut self.raw_cache, latest)?;
            self.key_cache.refresh(&tx)?;
            drop(tx);
            let (registry, bytes) = match parsed() {
                Ok(parsed) => parsed,
                Err(refused) => return Ok(Err(refused)),
            };
            let outcome = self.import(&new.parsed(&bytes, &registry))?;
            return Ok(Ok((outcome, registry)));
        }
        let place = Place {
            seq: Seq::FIRST,
            latest: true,
        };
        let mut streamed = 0;
        for chunk in chunks {
            place_records(
                &tx,
                place,
                &mut self.key_cache,
                &mut self.around,
                &chunk.records,
                &chunk.hashes,
            )?;
            streamed += chunk.records.len();
        }
        let (registry, bytes) = match parsed() {
            Ok(parsed) => parsed,
            // The transaction rolls back as it is dropped.
            Err(refused) => return Ok(Err(refused)),
        };
        // The frame is made on the core the parse has just left, while the rest goes in.
        let frame = std::thread::scope(|scope| -> Result<Vec<u8>> {
            let compressing = scope.spawn(|| raw::compress_document(&bytes));
            let hashes = content_hashes(&registry);
            let rest = streamed.min(registry.records.len())..;
            place_records(
                &tx,
                place,
                &mut self.key_cache,
                &mut self.around,
                &registry.records[rest.clone()],
                &hashes.records[rest],
            )?;
            place_people(&tx, place, &mut self.around, &registry)?;
            compressing
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })?;
        let id = insert_snapshot_row(&tx, place.seq, &new.parsed(&bytes, &registry))?;
        raw::insert_step(&tx, id, None, &frame)?;
        tx.commit()?;
        let outcome = ImportOutcome::Stored {
            id,
            registry_date: registry.updated.clone(),
            latest: true,
        };
        Ok(Ok((outcome, registry)))
    }
}
