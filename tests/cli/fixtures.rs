//! Real registry versions from `tests/fixtures/real/` (ports) and `tests/fixtures/protocols/`
//! (Protocol Numbers), decoded into a temp dir.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

/// A zstd frame decompressed, against `prefix` when it was made with one (`zstd
/// --patch-from`: how `tests/fixtures/real/` chains the versions, and how the `.sqlite3.zst`
/// fixtures are packed, without one).
pub fn unzstd(frame: &[u8], prefix: Option<&[u8]>) -> Vec<u8> {
    use zstd::zstd_safe::{DCtx, DParameter};
    let size = zstd::zstd_safe::get_frame_content_size(frame)
        .unwrap()
        .unwrap() as usize;
    let mut dctx = DCtx::create();
    dctx.set_parameter(DParameter::WindowLogMax(27)).unwrap();
    if let Some(prefix) = prefix {
        dctx.ref_prefix(prefix).unwrap();
    }
    let mut out = Vec::with_capacity(size);
    dctx.decompress(&mut out, frame).unwrap();
    out
}

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

pub struct RealVersion {
    pub path: PathBuf,
    pub sha256: String,
}

/// The real port registry versions in history order, as files whose modification time is when
/// they were mirrored. Decoded once per test process.
pub fn real_versions() -> &'static [RealVersion] {
    static VERSIONS: OnceLock<(tempfile::TempDir, Vec<RealVersion>)> = OnceLock::new();
    &VERSIONS.get_or_init(|| decode_all("real")).1
}

/// All 17 real Protocol Numbers versions of the shared bundle, oldest first (2017-05-24 to
/// 2024-01-08; 006 and 007 share the date 2021-02-26), modification time = the registry date.
pub fn protocol_versions() -> &'static [RealVersion] {
    static VERSIONS: OnceLock<(tempfile::TempDir, Vec<RealVersion>)> = OnceLock::new();
    &VERSIONS.get_or_init(|| decode_all("protocols")).1
}

fn decode_all(folder: &str) -> (tempfile::TempDir, Vec<RealVersion>) {
    let dir = tempfile::tempdir().unwrap();
    let real = Path::new(FIXTURES).join(folder);
    let manifest = fs::read_to_string(real.join("manifest.tsv")).unwrap();
    let mut previous: Option<Vec<u8>> = None;
    let mut versions = Vec::new();
    for line in manifest.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let (name, time, sha256) = (fields[0], fields[1], fields[2]);
        let frame = fs::read(real.join(format!("{name}.xml.zst"))).unwrap();
        let bytes = unzstd(&frame, previous.as_deref());
        let path = dir.path().join(format!("{name}.xml"));
        fs::write(&path, &bytes).unwrap();
        let mtime = UNIX_EPOCH + Duration::from_secs(time.parse().unwrap());
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        versions.push(RealVersion {
            path,
            sha256: sha256.to_string(),
        });
        previous = Some(bytes);
    }
    (dir, versions)
}
