//! The Internet Archive as a source of old versions: its CDX index lists the captures of the
//! registry URL; each capture's raw bytes come from the `id_` form of its Wayback URL.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Where the Wayback Machine answers (CDX index at `/cdx/search/cdx`, captures at `/web/`).
pub const WAYBACK_URL: &str = "https://web.archive.org";

/// One capture of the registry URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// YYYYMMDDhhmmss, UTC.
    pub timestamp: String,
    /// The URL that was captured.
    pub original: String,
    /// The archive's digest of the content (base32 SHA-1): equal digests, equal bytes.
    pub digest: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CdxError {
    #[error("the CDX answer is not JSON: {0}")]
    NotJson(String),
    #[error("the CDX answer has no {0} column")]
    MissingColumn(&'static str),
    #[error("cannot build a URL from {0:?}")]
    BadUrl(String),
}

/// The CDX query for the captures of `registry_url` with status 200, one per distinct digest,
/// optionally between two days.
pub fn cdx_query(
    wayback: &str,
    registry_url: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<String, CdxError> {
    let base = format!("{}/cdx/search/cdx", wayback.trim_end_matches('/'));
    let mut url = reqwest::Url::parse(&base).map_err(|_| CdxError::BadUrl(base.clone()))?;
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("url", registry_url)
            .append_pair("output", "json")
            .append_pair("filter", "statuscode:200")
            .append_pair("collapse", "digest");
        if let Some(from) = from {
            query.append_pair("from", &from.format("%Y%m%d").to_string());
        }
        if let Some(to) = to {
            query.append_pair("to", &to.format("%Y%m%d235959").to_string());
        }
    }
    Ok(url.to_string())
}

/// The captures in a CDX JSON answer (an array of rows, the first one naming the columns),
/// oldest first, without rows that are not plausible captures.
pub fn parse_cdx(json: &[u8]) -> Result<Vec<Capture>, CdxError> {
    if json.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new()); // the CDX server answers nothing at all when nothing matches
    }
    let rows: Vec<Vec<String>> =
        serde_json::from_slice(json).map_err(|e| CdxError::NotJson(e.to_string()))?;
    let Some((header, rows)) = rows.split_first() else {
        return Ok(Vec::new());
    };
    let column = |name: &'static str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or(CdxError::MissingColumn(name))
    };
    let (timestamp, original, digest) =
        (column("timestamp")?, column("original")?, column("digest")?);
    let status = header.iter().position(|h| h == "statuscode");
    let mut captures: Vec<Capture> = rows
        .iter()
        .filter(|row| status.is_none_or(|s| row.get(s).is_some_and(|v| v == "200")))
        .filter_map(|row| {
            let capture = Capture {
                timestamp: row.get(timestamp)?.clone(),
                original: row.get(original)?.clone(),
                digest: row.get(digest)?.clone(),
            };
            capture_time(&capture.timestamp)?;
            (!capture.digest.is_empty()).then_some(capture)
        })
        .collect();
    captures.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
    captures.dedup_by(|a, b| a.digest == b.digest);
    Ok(captures)
}

/// The capture's raw bytes, without the archive's rewriting (`id_`).
pub fn capture_url(wayback: &str, capture: &Capture) -> String {
    format!(
        "{}/web/{}id_/{}",
        wayback.trim_end_matches('/'),
        capture.timestamp,
        capture.original
    )
}

/// When a capture was made.
pub fn capture_time(timestamp: &str) -> Option<DateTime<Utc>> {
    if timestamp.len() != 14 {
        return None;
    }
    NaiveDateTime::parse_from_str(timestamp, "%Y%m%d%H%M%S")
        .ok()
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdx_rows_become_captures_oldest_first_one_per_digest() {
        let json =
            br#"[["urlkey","timestamp","original","mimetype","statuscode","digest","length"],
            ["org,iana)/x","20210921000000","https://www.iana.org/x","text/xml","200","BBB","1"],
            ["org,iana)/x","20170310000000","https://www.iana.org/x","text/xml","200","AAA","1"],
            ["org,iana)/x","20180101000000","https://www.iana.org/x","text/html","404","CCC","1"],
            ["org,iana)/x","2019","https://www.iana.org/x","text/xml","200","DDD","1"]]"#;
        let captures = parse_cdx(json).unwrap();
        let stamps: Vec<&str> = captures.iter().map(|c| c.timestamp.as_str()).collect();
        assert_eq!(stamps, ["20170310000000", "20210921000000"]);
        assert!(parse_cdx(b"").unwrap().is_empty());
        assert!(parse_cdx(b"[]").unwrap().is_empty());
        assert!(parse_cdx(b"<html>").is_err());
    }

    #[test]
    fn query_and_capture_urls() {
        let from = NaiveDate::from_ymd_opt(2017, 1, 1);
        let query = cdx_query(
            "http://127.0.0.1:9/",
            "https://www.iana.org/x.xml",
            from,
            None,
        )
        .unwrap();
        assert_eq!(
            query,
            "http://127.0.0.1:9/cdx/search/cdx?url=https%3A%2F%2Fwww.iana.org%2Fx.xml&output=json&filter=statuscode%3A200&collapse=digest&from=20170101"
        );
        let capture = Capture {
            timestamp: "20170310120000".into(),
            original: "https://www.iana.org/x.xml".into(),
            digest: "AAA".into(),
        };
        assert_eq!(
            capture_url("http://127.0.0.1:9", &capture),
            "http://127.0.0.1:9/web/20170310120000id_/https://www.iana.org/x.xml"
        );
        assert_eq!(
            capture_time("20170310120000").unwrap().to_rfc3339(),
            "2017-03-10T12:00:00+00:00"
        );
    }
}
