//! A protocol numbers snapshot as a protocols(5) file.

use crate::export::protocols::{ExportedProtocol, ProtocolsSummary, protocols_entries};
use crate::model::{ProtocolRecord, Registry};
use crate::store::SnapshotRow;
use std::io::{self, Write};

/// Writes a protocols(5) file: `keyword number KEYWORD # description`, the entries iana-etc
/// makes from the same registry version, under a header naming that version.
pub fn protocols(
    out: &mut impl Write,
    records: &[ProtocolRecord],
    snapshot: &SnapshotRow,
) -> io::Result<ProtocolsSummary> {
    let (entries, summary) = protocols_entries(records);
    writeln!(
        out,
        "# protocols(5) made by portreg {} from the {}",
        env!("CARGO_PKG_VERSION"),
        Registry::Protocols.iana_name()
    )?;
    writeln!(
        out,
        "# of {} (snapshot {}, sha256 {}).",
        snapshot.registry_date, snapshot.id, snapshot.sha256
    )?;
    writeln!(
        out,
        "# Single numbers with a keyword only: {} entries without one or unassigned, deprecated, \
         reserved or historic, {} ranges and {} keywords with spaces are left out.",
        summary.set_aside, summary.ranges, summary.unusable_names
    )?;
    writeln!(out, "# {}", Registry::Protocols.page_url())?;
    for ExportedProtocol {
        name,
        number,
        keyword,
        comment,
    } in entries
    {
        if comment.is_empty() {
            writeln!(out, "{name:<16} {number:<3} {keyword}")?;
        } else {
            writeln!(out, "{name:<16} {number:<3} {keyword:<16} # {comment}")?;
        }
    }
    Ok(summary)
}
