//! Handing records over while the rest of the document is parsed, so that a store can put
//! them in while the parse goes on (see [`crate::store::Store::import_streamed`]).

use super::parser::Parser;
use super::{ParseError, check_not_empty_or_html};
use crate::model::{Record, RecordChunk, Registry};
use std::sync::Arc;
use std::sync::mpsc::Sender;

/// Records sent in a chunk: small enough that storing starts early, large enough that the
/// channel is not busy.
const CHUNK: usize = 1024;

/// Where parsed records go, and how many went.
pub(super) struct RecordStream {
    sender: Sender<RecordChunk>,
    sent: usize,
}

impl RecordStream {
    /// Sends the records after the ones sent already, with their content hashes.
    fn send_rest(&mut self, records: &[Arc<Record>], hashes: &[i64]) {
        // A receiver that is gone wants nothing more.
        let _ = self.sender.send(RecordChunk {
            records: records[self.sent..].to_vec(),
            hashes: hashes[self.sent..].to_vec(),
        });
        self.sent = records.len();
    }
}

/// Parses like [`super::parse_registry`], sending the records to `records` in chunks as they
/// are parsed. The channel closes where the records end (at the first person), so that the
/// receiver can go on while the people are read; records after the people, if any, are in the
/// registry returned only. What was sent counts only if the parse succeeds: a document can
/// still be refused at its very end.
pub fn parse_registry_streaming(
    bytes: &[u8],
    records: Sender<RecordChunk>,
) -> Result<Registry, ParseError> {
    check_not_empty_or_html(bytes)?;
    let mut parser = Parser {
        stream: Some(RecordStream {
            sender: records,
            sent: 0,
        }),
        ..Parser::default()
    };
    parser.run(bytes)
}

impl Parser {
    /// Sends a chunk when enough records are waiting.
    pub(super) fn stream_records(&mut self) {
        if let Some(stream) = &mut self.stream
            && self.records.len() - stream.sent >= CHUNK
        {
            stream.send_rest(&self.records, &self.hashes.records);
        }
    }

    /// Sends the records not sent yet and closes the stream.
    pub(super) fn end_record_stream(&mut self) {
        if let Some(mut stream) = self.stream.take()
            && stream.sent < self.records.len()
        {
            stream.send_rest(&self.records, &self.hashes.records);
        }
    }
}
