//! What storing documents did, as `import`, `backfill` and `fetch` say it: one line per
//! document or capture, and for a fetch that stored a new version, its first changes in the
//! groups of `portreg changes`.

use super::report::summary_line;
use crate::fetch::Fetched;
use crate::load::batch::BatchCounts;
use crate::load::wayback::{BackfillCounts, CaptureError};
use crate::model::{Change, ChangeKind, Record, Registry};
use crate::report::group_changes;
use crate::store::{Placement, SnapshotRow, Stored};
use std::io::{self, Write};

/// `, placed before the latest` for a new snapshot that went into history before the latest.
fn placement_note(placement: Placement) -> &'static str {
    match placement {
        Placement::Latest => "",
        Placement::BeforeLatest => ", placed before the latest",
    }
}

/// One document of an import: `stored LABEL as snapshot N (registry D, R records)` or
/// `skipped LABEL: already stored as snapshot N (registry D)`.
pub fn imported(out: &mut impl Write, label: &str, stored: &Stored) -> io::Result<()> {
    let snapshot = stored.snapshot();
    match stored {
        Stored::New { placement, .. } => writeln!(
            out,
            "stored {label} as snapshot {} (registry {}, {} records{})",
            snapshot.id,
            snapshot.registry_date,
            snapshot.records,
            placement_note(*placement)
        ),
        Stored::Known { .. } => writeln!(
            out,
            "skipped {label}: already stored as snapshot {} (registry {})",
            snapshot.id, snapshot.registry_date
        ),
    }
}

/// `skipped N commits of REPO: already stored from them`, when some were.
pub fn skipped_commits(out: &mut impl Write, skipped: usize, repo: &str) -> io::Result<()> {
    if skipped == 0 {
        return Ok(());
    }
    writeln!(
        out,
        "skipped {skipped} commits of {repo}: already stored from them"
    )
}

/// The counts of a batch of more than one document.
pub fn batch_counts(out: &mut impl Write, counts: &BatchCounts) -> io::Result<()> {
    let BatchCounts {
        stored,
        already_stored,
        failed,
    } = *counts;
    if stored + already_stored + failed < 2 {
        return Ok(());
    }
    writeln!(
        out,
        "{stored} stored, {already_stored} already stored, {failed} failed"
    )
}

/// What a backfill found in the archive, before it downloads.
pub fn captures_listed(
    out: &mut impl Write,
    captures: usize,
    checked_before: usize,
    to_download: usize,
) -> io::Result<()> {
    writeln!(
        out,
        "{captures} captures in the archive, {checked_before} checked before, {to_download} to download"
    )
}

/// The counts of a backfill.
pub fn backfill_counts(out: &mut impl Write, counts: &BackfillCounts) -> io::Result<()> {
    writeln!(
        out,
        "{} stored, {} already stored, {} refused, {} failed (tried again next time), {} checked before",
        counts.stored, counts.already_stored, counts.refused, counts.failed, counts.checked_before
    )
}

/// One capture of a backfill: `stored capture STAMP as snapshot N (registry D)`; nothing for
/// a capture whose bytes were stored before.
pub fn captured(out: &mut impl Write, stamp: &str, stored: &Stored) -> io::Result<()> {
    match stored {
        Stored::New {
            snapshot,
            placement,
        } => writeln!(
            out,
            "stored capture {stamp} as snapshot {} (registry {}{})",
            snapshot.id,
            snapshot.registry_date,
            placement_note(*placement)
        ),
        Stored::Known { .. } => Ok(()),
    }
}

/// Why a capture was not stored, as a warning says it.
pub fn capture_problem(stamp: &str, url: &str, error: &CaptureError) -> String {
    match error {
        CaptureError::Refused(refusal) => {
            format!("skipped capture {stamp}: {url}: refused: {refusal}")
        }
        CaptureError::Download(error) => format!("capture {stamp}: {url}: {error}"),
        CaptureError::Store(error) => format!("capture {stamp}: cannot store: {error}"),
    }
}

/// How many report lines a fetch summary lists before pointing at `portreg diff --format
/// markdown`, which lists the same lines, all of them.
const SUMMARY_LINES: usize = 5;

/// What a fetch knows besides its outcome, for its report.
pub struct FetchContext<'a, R: Record> {
    /// For a new snapshot: the one before it in history and the changes from it (None when it
    /// is the oldest).
    pub before: Option<(&'a SnapshotRow, &'a [Change<R>])>,
    /// The latest snapshot, which a stale copy is older than.
    pub latest: Option<&'a SnapshotRow>,
}

/// What `fetch` prints: nothing for "no change" when `quiet`, else one line, plus the first
/// few changes of a new snapshot, grouped as `portreg changes` groups them (what cron mails).
pub fn fetched<R: Record>(
    out: &mut impl Write,
    fetched: &Fetched,
    context: &FetchContext<R>,
    quiet: bool,
) -> io::Result<()> {
    let prefix = prefix(R::REGISTRY);
    let stored = match fetched {
        Fetched::NotModified if quiet => return Ok(()),
        Fetched::NotModified => {
            return writeln!(out, "{prefix}unchanged: not modified since the last fetch");
        }
        Fetched::Body(stored) => stored,
    };
    let snapshot = stored.snapshot();
    match (stored, context.before) {
        (Stored::New { placement, .. }, None) => writeln!(
            out,
            "{prefix}stored snapshot {}: registry {}, {} records ({})",
            snapshot.id,
            snapshot.registry_date,
            snapshot.records,
            match placement {
                Placement::Latest => "the first snapshot",
                Placement::BeforeLatest => "placed first in history, before every stored snapshot",
            }
        ),
        (Stored::New { placement, .. }, Some((previous, changes))) => {
            let head = format!("{prefix}stored snapshot {}", snapshot.id);
            new_version(out, &head, (previous, snapshot), *placement, changes)
        }
        (Stored::Known { .. }, _) if quiet => Ok(()),
        (Stored::Known { placement, .. }, _) => match (placement, context.latest) {
            (Placement::BeforeLatest, Some(latest)) => writeln!(
                out,
                "{prefix}stale copy: the server sent registry {} (snapshot {}), older than the latest stored ({}); nothing stored",
                snapshot.registry_date, snapshot.id, latest.registry_date
            ),
            _ => writeln!(
                out,
                "{prefix}unchanged: registry {} (snapshot {})",
                snapshot.registry_date, snapshot.id
            ),
        },
    }
}

/// What starts a fetch's lines about `registry`: nothing for the port registry (its lines are
/// as they always were), `protocols: ` for another.
pub fn prefix(registry: Registry) -> String {
    match registry {
        Registry::Services => String::new(),
        other => format!("{other}: "),
    }
}

/// A new version's lines in a fetch's report: `HEAD: registry D (was P): N added, ...`, then
/// its first few changes as `portreg changes` groups them.
fn new_version<R: Record>(
    out: &mut impl Write,
    head: &str,
    (previous, snapshot): (&SnapshotRow, &SnapshotRow),
    placement: Placement,
    changes: &[Change<R>],
) -> io::Result<()> {
    let count = |kind| changes.iter().filter(|c| c.change == kind).count();
    writeln!(
        out,
        "{head}: registry {} (was {}){}: {} added, {} removed, {} modified",
        snapshot.registry_date,
        previous.registry_date,
        placement_note(placement),
        count(ChangeKind::Added),
        count(ChangeKind::Removed),
        count(ChangeKind::Modified),
    )?;
    let lines = group_changes(changes);
    // A "1 more" line would take the place of the line it hides.
    let shown = if lines.len() > SUMMARY_LINES + 1 {
        SUMMARY_LINES
    } else {
        lines.len()
    };
    for line in &lines[..shown] {
        writeln!(out, "  {}", summary_line(line))?;
    }
    if shown < lines.len() {
        let registry = match R::REGISTRY {
            Registry::Services => String::new(),
            other => format!(" --registry {other}"),
        };
        writeln!(
            out,
            "  ... {} more: portreg{registry} diff {} {} --format markdown",
            lines.len() - shown,
            previous.id,
            snapshot.id
        )?;
    }
    Ok(())
}
