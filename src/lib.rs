//! portreg: the full history of the IANA service name and port number registry, in SQLite.
//!
//! The library does the work and never prints: [`parse`] reads a registry document,
//! [`store`] keeps its history, [`diff`] compares versions, [`output`] renders answers.
//! The binary's `cmd` modules wire them together.

pub mod backfill;
pub mod cli;
pub mod diff;
pub mod export;
pub mod fetch;
pub mod git;
pub mod input;
pub mod lookup;
pub mod model;
pub mod output;
pub mod parse;
pub mod report;
pub mod store;
pub mod verify;
