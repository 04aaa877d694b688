//! Reading a registry document from a file, a gzip file or standard input.
//!
//! Compression is recognised by its magic bytes, not by the file name. Both the compressed and
//! the decompressed size are capped, so a gzip bomb or a wrong file cannot eat the memory.

use crate::time::Timestamp;
use flate2::read::MultiGzDecoder;
use std::io::{self, Read};
use std::path::Path;

/// The largest registry document accepted (the real one is about 4 MB).
pub const MAX_DOCUMENT_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("larger than {limit} bytes (limit for one registry document)")]
    TooLarge { limit: u64 },
    #[error("broken gzip data: {0}")]
    Gzip(io::Error),
}

/// A document's bytes and what is known of where they came from.
#[derive(Debug)]
pub struct Input {
    /// The document itself, decompressed.
    pub bytes: Vec<u8>,
    /// When the file was last modified; None for standard input.
    pub modified: Option<Timestamp>,
}

/// Reads `-` (standard input) or a file path.
pub fn read_input(path: &str) -> Result<Input, InputError> {
    if path == "-" {
        let stdin = io::stdin().lock();
        return Ok(Input {
            bytes: read_document(stdin)?,
            modified: None,
        });
    }
    let file = std::fs::File::open(Path::new(path))?;
    let metadata = file.metadata()?;
    let modified = metadata.modified().ok().map(Timestamp::from);
    // Sized from the start: growing a 4 MB buffer by doubling costs more than reading it.
    let size_hint = metadata.len().min(MAX_DOCUMENT_BYTES) as usize + 1;
    let raw = read_capped(file, MAX_DOCUMENT_BYTES, size_hint)?;
    Ok(Input {
        bytes: decompress_if_gzip(raw)?,
        modified,
    })
}

/// The first `len` bytes of a file's document (gunzipped when needed), for a quick look.
pub fn read_head(path: &str, len: u64) -> Result<Vec<u8>, InputError> {
    let mut file = std::fs::File::open(path)?;
    let mut magic = [0u8; 2];
    let got = file.read(&mut magic)?;
    let file = io::Cursor::new(magic[..got].to_vec()).chain(file);
    let mut head = Vec::new();
    if magic == [0x1f, 0x8b] {
        MultiGzDecoder::new(file)
            .take(len)
            .read_to_end(&mut head)
            .map_err(InputError::Gzip)?;
    } else {
        file.take(len).read_to_end(&mut head)?;
    }
    Ok(head)
}

/// Reads a whole document, gunzipping it when it starts with the gzip magic bytes.
pub fn read_document(reader: impl Read) -> Result<Vec<u8>, InputError> {
    let raw = read_capped(reader, MAX_DOCUMENT_BYTES, 0)?;
    decompress_if_gzip(raw)
}

/// Returns the bytes as they are, or gunzipped when they are gzip data.
pub fn decompress_if_gzip(raw: Vec<u8>) -> Result<Vec<u8>, InputError> {
    if raw.starts_with(&[0x1f, 0x8b]) {
        let decoder = MultiGzDecoder::new(raw.as_slice());
        // The registry compresses about 8:1.
        let size_hint = (raw.len() * 8).min(MAX_DOCUMENT_BYTES as usize);
        return read_capped(decoder, MAX_DOCUMENT_BYTES, size_hint).map_err(|error| match error {
            InputError::Io(io) => InputError::Gzip(io),
            other => other,
        });
    }
    Ok(raw)
}

fn read_capped(reader: impl Read, limit: u64, size_hint: usize) -> Result<Vec<u8>, InputError> {
    let mut bytes = Vec::with_capacity(size_hint);
    reader.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge { limit });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    #[test]
    fn gzip_is_recognised_by_content() {
        let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"<registry/>").unwrap();
        let gz = encoder.finish().unwrap();
        assert_eq!(read_document(gz.as_slice()).unwrap(), b"<registry/>");
        assert_eq!(read_document(&b"plain"[..]).unwrap(), b"plain");
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&[b'x'; 10_000]).unwrap();
        let gz = encoder.finish().unwrap();
        let cut = &gz[..gz.len() / 2];
        assert!(matches!(read_document(cut), Err(InputError::Gzip(_))));
    }

    #[test]
    fn gzip_bomb_is_capped() {
        let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1024 * 1024];
        for _ in 0..(MAX_DOCUMENT_BYTES / zeros.len() as u64 + 1) {
            encoder.write_all(&zeros).unwrap();
        }
        let gz = encoder.finish().unwrap();
        assert!(gz.len() < 1024 * 1024);
        assert!(matches!(
            read_document(gz.as_slice()),
            Err(InputError::TooLarge { .. })
        ));
    }
}
