//! Files of other tools checked against a registry: a services(5) file against the port
//! registry ([`services`]), a protocols(5) file against the protocol numbers registry
//! ([`protocols`]). Both read the file line by line ([`read_lines`]): blank lines and comments
//! are skipped, every other line is an entry or, with the reason, `unreadable`, a finding of
//! its own, never an error. Each entry gets at most one finding ([`FindingKind`]), and every
//! finding has one shape as JSON and CSV.
//!
//! - [`services`], [`services_file`]: the services(5) check, and reading the file.
//! - [`protocols`]: the protocols(5) check, reading the file included.

pub mod protocols;
pub mod services;
pub mod services_file;

use crate::model::Registry;
use serde::{Serialize, Serializer};

/// One finding of a check: about an entry of the file, or a line that is not one. `E` is the
/// registry's own finding about an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked<E> {
    Entry(E),
    Unreadable(UnreadableLine),
}

/// What a registry's finding about an entry gives the shared parts: its kind, and its one
/// shape for JSON and CSV (every key always there, null or `[]` where it does not apply),
/// which an unreadable line takes too.
pub trait EntryFinding {
    type Row<'a>: Serialize
    where
        Self: 'a;

    fn kind(&self) -> FindingKind;
    fn row(&self) -> Self::Row<'_>;
    fn unreadable_row<'a>(line: &'a UnreadableLine) -> Self::Row<'a>
    where
        Self: 'a;
}

impl<E: EntryFinding> Checked<E> {
    pub fn kind(&self) -> FindingKind {
        match self {
            Checked::Entry(entry) => entry.kind(),
            Checked::Unreadable(_) => FindingKind::Unreadable,
        }
    }

    /// Its one shape for JSON and CSV.
    pub fn row(&self) -> E::Row<'_> {
        match self {
            Checked::Entry(entry) => entry.row(),
            Checked::Unreadable(line) => E::unreadable_row(line),
        }
    }
}

impl<E: EntryFinding> Serialize for Checked<E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.row().serialize(serializer)
    }
}

/// What is wrong with a line, in the order the first that applies wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    /// IANA has service names on the port/protocol, and none is the entry's.
    Conflict,
    /// IANA has no service name there, but has the entry's name on other ports.
    Moved,
    /// Reserved, De-registered or another entry that is not a service and not Unassigned.
    Reserved,
    /// Unassigned, or not listed at all.
    Unassigned,
    /// Not an entry: no `/protocol`, a port above 65535, bytes that are not UTF-8, ...
    Unreadable,
}

impl FindingKind {
    pub const ALL: [FindingKind; 5] = [
        FindingKind::Conflict,
        FindingKind::Moved,
        FindingKind::Reserved,
        FindingKind::Unassigned,
        FindingKind::Unreadable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Conflict => "conflict",
            FindingKind::Moved => "moved",
            FindingKind::Reserved => "reserved",
            FindingKind::Unassigned => "unassigned",
            FindingKind::Unreadable => "unreadable",
        }
    }

    /// What it means in `registry`'s check, in a few words, for people.
    pub fn meaning(self, registry: Registry) -> &'static str {
        match (self, registry) {
            (FindingKind::Conflict, Registry::Services) => "IANA gives the port to another service",
            (FindingKind::Conflict, Registry::Protocols) => "IANA gives the number another keyword",
            (FindingKind::Moved, _) => "IANA has the name on another port",
            (FindingKind::Reserved, Registry::Services) => {
                "IANA reserves the port, or took it back"
            }
            (FindingKind::Reserved, Registry::Protocols) => {
                "IANA reserves the number, or marks its protocol deprecated"
            }
            (FindingKind::Unassigned, Registry::Services) => "IANA has no service on the port",
            (FindingKind::Unassigned, Registry::Protocols) => "IANA has no protocol on the number",
            (FindingKind::Unreadable, _) => "lines that are not entries",
        }
    }
}

/// A line that is neither blank, a comment, nor an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableLine {
    /// 1-based.
    pub line: usize,
    /// The line as written, decoded lossily.
    pub text: String,
    /// Why it is not an entry.
    pub reason: String,
}

/// What a line of a file is, once blank lines and comments are skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileLine<E> {
    Entry(E),
    Unreadable(UnreadableLine),
}

/// The entries (each made by `entry` from its line number and its text before any `#`
/// comment, or refused with the reason) and the unreadable lines of a file, in file order.
/// Lines end at LF (a CR before it is dropped); each is decoded on its own, so one bad byte
/// costs one line. A byte order mark that some editors write first is not part of the first
/// entry.
pub fn read_lines<E>(
    bytes: &[u8],
    entry: impl Fn(usize, &str) -> Result<E, String>,
) -> Vec<FileLine<E>> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut lines = Vec::new();
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        // '#' is one byte in UTF-8 and in every ASCII-based encoding: the comment starts
        // there, whatever the bytes around it are.
        let data = match memchr::memchr(b'#', raw) {
            Some(at) => &raw[..at],
            None => raw,
        };
        if data.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = match std::str::from_utf8(data) {
            Err(error) => Err(format!(
                "not UTF-8 (byte {} of the line)",
                error.valid_up_to() + 1
            )),
            Ok(text) => no_control_characters(text).and_then(|()| entry(line, text)),
        };
        lines.push(match parsed {
            Ok(entry) => FileLine::Entry(entry),
            Err(reason) => FileLine::Unreadable(UnreadableLine {
                line,
                text: String::from_utf8_lossy(raw).into_owned(),
                reason,
            }),
        });
    }
    lines
}

/// A line with a control character other than white space is no entry.
fn no_control_characters(text: &str) -> Result<(), String> {
    match text
        .chars()
        .find(|c| c.is_control() && !c.is_ascii_whitespace())
    {
        Some(control) => Err(format!("a control character ({control:?})")),
        None => Ok(()),
    }
}
