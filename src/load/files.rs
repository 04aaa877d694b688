//! Documents from files (`.xml` or `.xml.gz`) and standard input (`-`).

use super::{Document, DocumentError, Unreadable};
use crate::input::{read_head, read_input};
use crate::model::{Registry, RegistryDate};
use crate::parse::{peek_updated, registry_of};
use crate::time::Timestamp;

/// How far into a document its `<updated>` date is looked for when ordering a batch.
const HEAD_BYTES: u64 = 64 * 1024;

/// The documents of these paths, each read when it is its turn, in the order history will
/// give them (see [`in_history_order`]). Each is observed when its file was last modified;
/// standard input has no such time.
pub fn file_documents(
    paths: Vec<String>,
) -> impl ExactSizeIterator<Item = Result<Document, Unreadable>> + Send {
    in_history_order(paths).into_iter().map(|path| {
        let input = read_input(&path).map_err(|error| Unreadable {
            label: path.clone(),
            error: DocumentError::Read(error),
        })?;
        Ok(Document {
            label: path.clone(),
            source: path,
            observed_at: input.modified,
            bytes: input.bytes,
        })
    })
}

/// Sorts paths by registry, then registry date and modification time, as history will order
/// them, so that each document's neighbour is the one stored just before it (the parse memo
/// and the raw bytes' base both want that). Standard input comes first (it can be read only
/// once and its date is unknown until then); unreadable files come last, where their error is
/// reported.
fn in_history_order(paths: Vec<String>) -> Vec<String> {
    if paths.len() < 2 {
        return paths;
    }
    // (group, registry, registry date, modification time, path): stdin, dated files, the rest.
    type SortKey = (
        u8,
        Option<Registry>,
        Option<RegistryDate>,
        Option<Timestamp>,
        String,
    );
    let mut keyed: Vec<SortKey> = paths
        .into_iter()
        .map(|path| {
            if path == "-" {
                return (0, None, None, None, path);
            }
            let head = read_head(&path, HEAD_BYTES).ok();
            let registry = head.as_deref().and_then(|head| registry_of(head).ok());
            let date = head.as_deref().and_then(peek_updated);
            let modified = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .map(Timestamp::from);
            (
                if date.is_some() { 1 } else { 2 },
                registry,
                date,
                modified,
                path,
            )
        })
        .collect();
    keyed.sort();
    keyed.into_iter().map(|(_, _, _, _, path)| path).collect()
}
