//! portreg: the full history of the IANA service name and port number registry, in SQLite.
//!
//! The library does the work and never prints; the binary's `cmd` modules read arguments,
//! call it and render its answers.
//!
//! - [`cli`]: the command line, in one place (help, completions and the man page come from it).
//! - [`model`]: records, people, changes, and the one table of a record's fields.
//! - [`parse`]: a registry document's bytes into a [`model::Registry`]; no I/O.
//! - [`store`]: the history in SQLite; the only place SQL lives.
//! - [`load`]: storing documents from any source: files, git histories, the Internet Archive,
//!   downloads.
//! - [`fetch`]: the polite HTTP download and the fetch cycle that cron runs.
//! - [`input`]: reading a document from a file, gzip or standard input, size-capped.
//! - [`lookup`]: what users type to name records and dates: ports, ranges, names.
//! - [`diff`]: the in-memory diff of two documents, the reference the store is tested against.
//! - [`report`]: changes grouped as people read them.
//! - [`export`]: a snapshot as a services(5) file or IANA's CSV.
//! - [`free`]: which ports are free, now or in all of history.
//! - [`check`]: a services(5) file checked against the registry.
//! - [`feed`]: the history as an Atom feed.
//! - [`stats`]: the registry's story per year, and its chart.
//! - [`output`]: table, JSON and CSV renderers.
//! - [`verify`]: the database checked against itself.
//! - [`time`]: the one timestamp type.

pub mod check;
pub mod cli;
pub mod diff;
pub mod export;
pub mod feed;
pub mod fetch;
pub mod free;
pub mod input;
pub mod load;
pub mod lookup;
pub mod model;
pub mod output;
pub mod parse;
pub mod report;
pub mod stats;
pub mod store;
pub mod time;
pub mod verify;
