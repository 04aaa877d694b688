//! An answer as an HTTP response: its ETag (and 304 when the client has it), Cache-Control,
//! gzip when asked for, and errors as `{"error": "..."}`.

use bytes::Bytes;
use http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use http::{HeaderMap, HeaderValue, StatusCode};
use http_body_util::Full;

/// What the server sends: a whole body.
pub type Response = http::Response<Full<Bytes>>;

/// A response of these parts.
pub fn response(status: StatusCode, headers: HeaderMap, body: Vec<u8>) -> Response {
    let mut response = http::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}
use sha2::{Digest, Sha256};
use std::io::Write;

/// What a request is answered with, before HTTP.
pub struct Answer {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// How long a cache may keep it without asking again.
    pub cache: Cache,
}

#[derive(Clone, Copy)]
pub enum Cache {
    /// The answer changes when a new snapshot lands: ask again each time (a 304 is cheap).
    Revalidate,
    /// A snapshot's bytes never change.
    Immutable,
    /// Errors.
    No,
}

impl Answer {
    pub fn error(status: StatusCode, message: &str) -> Answer {
        let body = serde_json::to_vec(&serde_json::json!({ "error": message }))
            .unwrap_or_else(|_| b"{\"error\":\"?\"}".to_vec());
        Answer {
            status,
            content_type: "application/json",
            body,
            cache: Cache::No,
        }
    }
}

/// Bodies smaller than this are sent as they are: gzip would save a packet at most.
const GZIP_FROM: usize = 1024;

/// The response to `request` (its headers): 304 when its `If-None-Match` has this answer's
/// ETag, the body gzip-compressed when it accepts gzip.
pub fn respond(request: &HeaderMap, answer: Answer) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(answer.content_type));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static(match answer.cache {
            Cache::Revalidate => "no-cache",
            Cache::Immutable => "public, max-age=31536000, immutable",
            Cache::No => "no-store",
        }),
    );
    if !answer.status.is_success() {
        return response(answer.status, headers, answer.body);
    }
    let gzip = answer.body.len() >= GZIP_FROM && accepts_gzip(request);
    let etag = format!(
        "\"{}{}\"",
        hex::encode(&Sha256::digest(&answer.body)[..12]),
        if gzip { "-gz" } else { "" }
    );
    headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, value);
    }
    if has_etag(request, &etag) {
        return response(StatusCode::NOT_MODIFIED, headers, Vec::new());
    }
    let body = match gzip.then(|| gzipped(&answer.body)).flatten() {
        Some(compressed) => {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            compressed
        }
        None => answer.body,
    };
    response(answer.status, headers, body)
}

fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

/// Whether `If-None-Match` lists `etag` (or `*`); weak and strong compare alike.
fn has_etag(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

fn gzipped(body: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::fast(),
    );
    encoder.write_all(body).ok()?;
    encoder.finish().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn gzip_only_when_accepted() {
        assert!(accepts_gzip(&headers(&[(
            "accept-encoding",
            "br, gzip;q=0.8"
        )])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "gzip;q=0")])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "identity")])));
        assert!(!accepts_gzip(&headers(&[])));
    }

    #[test]
    fn etags_match_as_listed() {
        let request = headers(&[("if-none-match", "\"a\", W/\"b\"")]);
        assert!(has_etag(&request, "\"b\""));
        assert!(!has_etag(&request, "\"c\""));
        assert!(has_etag(&headers(&[("if-none-match", "*")]), "\"c\""));
    }
}
