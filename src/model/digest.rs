//! The content digests stored with every version: a stable 64-bit digest of a record's or a
//! person's content, so the store tells "same version" without comparing every column. They are
//! stored in every database: the bytes hashed must never change.

use sha2::{Digest, Sha256};

/// A digest being made of some texts.
pub(super) struct ContentDigest(Sha256);

impl ContentDigest {
    pub(super) fn new() -> ContentDigest {
        ContentDigest(Sha256::new())
    }

    pub(super) fn byte(&mut self, byte: u8) {
        self.0.update([byte]);
    }

    pub(super) fn length(&mut self, len: usize) {
        self.0.update((len as u64).to_le_bytes());
    }

    pub(super) fn text(&mut self, text: &str) {
        self.length(text.len());
        self.0.update(text.as_bytes());
    }

    pub(super) fn optional_text(&mut self, text: Option<&str>) {
        match text {
            None => self.byte(0),
            Some(text) => {
                self.byte(1);
                self.text(text);
            }
        }
    }

    /// The first 8 bytes of the SHA-256, little-endian.
    pub(super) fn finish(self) -> i64 {
        let digest = self.0.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        i64::from_le_bytes(first)
    }
}
