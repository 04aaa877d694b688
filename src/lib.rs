//! portreg: the full history of the IANA service name and port number registry, in SQLite.
//!
//! The library does the work and never prints; the binary's `cmd` modules read arguments,
//! call it and render its answers with [`output`]. Modules depend one way, lower layers first:
//!
//! - [`time`]: the one timestamp type.
//! - [`model`]: records, people, changes, registry dates, ports; the one table of a record's
//!   fields.
//! - [`lookup`]: what users type to name records and dates: lookups, "since" dates.
//! - [`input`]: reading a file or standard input, size-capped, gunzipped when it is gzip.
//! - [`parse`]: a registry document's bytes into a [`model::Registry`]; no I/O.
//! - [`store`]: the history in SQLite; the only place SQL lives.
//! - [`http`]: the polite HTTP download: conditional GET, timeouts, retries.
//! - [`load`]: storing documents from any source: files, git histories, the Internet Archive,
//!   downloads.
//! - [`fetch`]: the fetch cycle that cron runs.
//! - [`diff`]: the in-memory diff of two documents, the reference the store is tested against.
//! - [`report`]: changes grouped as people read them.
//! - [`changes`]: what changed since a date, from the history or the registry's own dates.
//! - [`export`]: which records a services(5) file holds.
//! - [`free`]: which ports are free, now or in all of history.
//! - [`check`]: a services(5) file checked against the registry.
//! - [`feed`]: the newest snapshots with their changes, for a feed.
//! - [`stats`]: the registry's story per year.
//! - [`verify`]: the database checked against itself.
//! - [`output`]: the renderers front ends use: tables, JSON, CSV, Markdown, Atom, SVG,
//!   services(5). No library module imports it.
//! - [`cli`]: the command line, in one place (help, completions and the man page come from it).

pub mod changes;
pub mod check;
pub mod cli;
pub mod diff;
pub mod export;
pub mod feed;
pub mod fetch;
pub mod free;
pub mod http;
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
