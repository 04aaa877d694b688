//! Reading a file or standard input, size-capped: a registry document (gunzipped when it is
//! gzip) or any other file a command reads, such as a services(5) file.
//!
//! Compression is recognised by its magic bytes, not by the file name. Both the compressed and
//! the decompressed size of a document are capped, so a gzip bomb or a wrong file cannot eat
//! the memory.

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
    #[error("larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("larger than {limit} bytes (limit for one registry document)")]
    DocumentTooLarge { limit: u64 },
    #[error("broken gzip data: {0}")]
    Gzip(io::Error),
}

/// What was read, and what is known of where it came from.
#[derive(Debug)]
pub struct Input {
    /// The bytes: a document decompressed by [`read_input`], a file's as they are by
    /// [`read_capped_file`].
    pub bytes: Vec<u8>,
    /// When the file was last modified; None for standard input.
    pub modified: Option<Timestamp>,
}

/// Reads a registry document from `-` (standard input) or a file path, gunzipped when needed.
pub fn read_input(path: &str) -> Result<Input, InputError> {
    let raw = read_capped_file(path, MAX_DOCUMENT_BYTES).map_err(as_document)?;
    Ok(Input {
        bytes: decompress_if_gzip(raw.bytes)?,
        modified: raw.modified,
    })
}

/// The bytes of `-` (standard input) or a file path as they are, at most `limit` of them, and
/// the file's modification time.
pub fn read_capped_file(path: &str, limit: u64) -> Result<Input, InputError> {
    if path == "-" {
        return Ok(Input {
            bytes: read_capped(io::stdin().lock(), limit, 0)?,
            modified: None,
        });
    }
    let file = std::fs::File::open(Path::new(path))?;
    let metadata = file.metadata()?;
    // Sized from the start: growing a 4 MB buffer by doubling costs more than reading it.
    let size_hint = metadata.len().min(limit) as usize + 1;
    Ok(Input {
        bytes: read_capped(file, limit, size_hint)?,
        modified: metadata.modified().ok().map(Timestamp::from),
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

/// Returns the bytes as they are, or gunzipped when they are gzip data.
pub fn decompress_if_gzip(raw: Vec<u8>) -> Result<Vec<u8>, InputError> {
    if raw.starts_with(&[0x1f, 0x8b]) {
        let decoder = MultiGzDecoder::new(raw.as_slice());
        // The registry compresses about 8:1.
        let size_hint = (raw.len() * 8).min(MAX_DOCUMENT_BYTES as usize);
        return read_capped(decoder, MAX_DOCUMENT_BYTES, size_hint).map_err(|error| match error {
            InputError::Io(io) => InputError::Gzip(io),
            other => as_document(other),
        });
    }
    Ok(raw)
}

/// A size over the limit, said as the limit of a registry document.
fn as_document(error: InputError) -> InputError {
    match error {
        InputError::TooLarge { limit } => InputError::DocumentTooLarge { limit },
        other => other,
    }
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
        assert_eq!(decompress_if_gzip(gz).unwrap(), b"<registry/>");
        assert_eq!(decompress_if_gzip(b"plain".to_vec()).unwrap(), b"plain");
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&[b'x'; 10_000]).unwrap();
        let gz = encoder.finish().unwrap();
        let cut = &gz[..gz.len() / 2];
        assert!(matches!(
            decompress_if_gzip(cut.to_vec()),
            Err(InputError::Gzip(_))
        ));
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
            decompress_if_gzip(gz),
            Err(InputError::DocumentTooLarge { .. })
        ));
    }
}
