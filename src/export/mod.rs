//! What an export of one snapshot holds: which records make the file other tools read, and
//! what is left out and why, one module per registry. The files themselves are written by
//! `output::services` and `output::protocols`.
//!
//! - [`services`]: a services(5) file from the port registry.
//! - [`protocols`]: a protocols(5) file from the protocol numbers registry, as iana-etc makes it.

pub mod protocols;
pub mod services;
