//! One polite download: a conditional GET with timeouts, a size cap, and retries with
//! exponential backoff and jitter on the failures that may pass (connection errors, timeouts,
//! 5xx, 429 with its Retry-After), all within a bounded total time.

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header::{self, HeaderMap};
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// Names portreg to the server, as IANA asks of automated clients.
pub const USER_AGENT: &str = concat!(
    "portreg/",
    env!("CARGO_PKG_VERSION"),
    " (IANA service-names-port-numbers history tool)"
);

/// How a download behaves; the defaults suit a daily cron job.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    pub connect_timeout: Duration,
    /// For one try, body included.
    pub timeout: Duration,
    /// Tries in all, the first included.
    pub max_tries: u32,
    /// The wait before the first retry; it doubles with each one (with jitter).
    pub backoff: Duration,
    /// No retry starts after this much time since the first try.
    pub retry_budget: Duration,
    pub max_redirects: usize,
    pub max_bytes: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(15),
            timeout: Duration::from_secs(120),
            max_tries: 4,
            backoff: Duration::from_secs(5),
            retry_budget: Duration::from_secs(600),
            max_redirects: 5,
            max_bytes: crate::input::MAX_DOCUMENT_BYTES,
        }
    }
}

/// The validators of the copy we hold, sent so an unchanged registry costs a 304.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// What the server answered, once a try succeeded.
#[derive(Debug)]
pub enum Downloaded {
    /// 304: the copy we hold is current.
    NotModified,
    /// 200 with its complete body.
    Body {
        bytes: Vec<u8>,
        validators: Validators,
        /// Where the body came from after redirects.
        final_url: String,
    },
}

#[derive(Debug)]
pub struct Download {
    pub result: Result<Downloaded, HttpError>,
    /// Tries made, the first included.
    pub tries: u32,
    /// The HTTP status of the last answer, if any came.
    pub status: Option<u16>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum HttpError {
    #[error("HTTP {status}")]
    Status { status: StatusCode },
    #[error("timed out: {0}")]
    Timeout(String),
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("{0}")]
    Network(String),
    #[error("body cut short: {received} of {expected} bytes")]
    Incomplete { received: u64, expected: u64 },
    #[error("body larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// A 304 answers only a conditional request; to any other it is a broken server.
    #[error("304 Not Modified to a request that was not conditional")]
    UnaskedNotModified,
    #[error("too many redirects (more than {0})")]
    TooManyRedirects(usize),
    #[error("interrupted")]
    Interrupted,
    #[error("{last} (gave up after {tries} tries)")]
    GaveUp { tries: u32, last: Box<HttpError> },
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

impl HttpError {
    /// Whether another try may get a different answer.
    fn is_transient(&self) -> bool {
        match self {
            HttpError::Status { status } => {
                status.is_server_error() || *status == StatusCode::TOO_MANY_REQUESTS
            }
            HttpError::Timeout(_)
            | HttpError::Connect(_)
            | HttpError::Network(_)
            | HttpError::Incomplete { .. } => true,
            _ => false,
        }
    }
}

/// A retry the caller may want to report (the library does not print).
#[derive(Debug)]
pub struct RetryNotice<'a> {
    pub try_number: u32,
    pub error: &'a HttpError,
    pub wait: Duration,
}

pub fn build_client(config: &HttpConfig) -> Result<Client, HttpError> {
    // TLS by ring (see Cargo.toml). Installing it fails only when a provider is installed
    // already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(config.connect_timeout)
        .timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::limited(config.max_redirects))
        .gzip(true)
        .build()
        .map_err(|e| HttpError::Client(e.to_string()))
}

/// GETs `url`, retrying what may pass. `cancel` stops waiting between tries (SIGTERM).
pub fn download(
    client: &Client,
    url: &str,
    validators: &Validators,
    config: &HttpConfig,
    cancel: &AtomicBool,
    mut on_retry: impl FnMut(RetryNotice),
) -> Download {
    let started = Instant::now();
    let mut tries = 0;
    loop {
        tries += 1;
        let (result, status, retry_after) = try_once(client, url, validators, config);
        let error = match result {
            Ok(downloaded) => {
                return Download {
                    result: Ok(downloaded),
                    tries,
                    status,
                };
            }
            Err(error) => error,
        };
        let give_up = |error: HttpError| Download {
            result: Err(if tries > 1 {
                HttpError::GaveUp {
                    tries,
                    last: Box::new(error),
                }
            } else {
                error
            }),
            tries,
            status,
        };
        if !error.is_transient() || tries >= config.max_tries {
            return give_up(error);
        }
        let wait = retry_after.unwrap_or_else(|| backoff_delay(config.backoff, tries));
        if started.elapsed() + wait > config.retry_budget {
            return give_up(error);
        }
        on_retry(RetryNotice {
            try_number: tries,
            error: &error,
            wait,
        });
        if !sleep_unless_cancelled(wait, cancel) {
            return Download {
                result: Err(HttpError::Interrupted),
                tries,
                status,
            };
        }
    }
}

/// `base * 2^(n-1)`, then a random 50-100% of it so that many clients do not retry in step.
fn backoff_delay(base: Duration, retry_number: u32) -> Duration {
    let full = base.saturating_mul(1 << (retry_number - 1).min(16));
    full.mul_f64(0.5 + fastrand::f64() * 0.5)
}

/// Sleeps in short steps; false when `cancel` was set meanwhile.
pub fn sleep_unless_cancelled(total: Duration, cancel: &AtomicBool) -> bool {
    let deadline = Instant::now() + total;
    loop {
        if cancel.load(Ordering::Relaxed) {
            return false;
        }
        let now = Instant::now();
        if now >= deadline {
            return true;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(100)));
    }
}

type TryResult = (Result<Downloaded, HttpError>, Option<u16>, Option<Duration>);

fn try_once(client: &Client, url: &str, validators: &Validators, config: &HttpConfig) -> TryResult {
    let mut request = client.get(url);
    if let Some(etag) = &validators.etag {
        request = request.header(header::IF_NONE_MATCH, etag);
    }
    if let Some(modified) = &validators.last_modified {
        request = request.header(header::IF_MODIFIED_SINCE, modified);
    }
    let response = match request.send() {
        Ok(response) => response,
        Err(error) => return (Err(classify(&error, config)), None, None),
    };
    let status = response.status();
    let code = Some(status.as_u16());
    if status == StatusCode::NOT_MODIFIED {
        // Only an answer to a conditional request; to any other it says nothing.
        let answer = match validators.is_empty() {
            false => Ok(Downloaded::NotModified),
            true => Err(HttpError::UnaskedNotModified),
        };
        return (answer, code, None);
    }
    if status != StatusCode::OK {
        let retry_after = retry_after(response.headers());
        return (Err(HttpError::Status { status }), code, retry_after);
    }
    (read_body(response, config), code, None)
}

fn read_body(response: Response, config: &HttpConfig) -> Result<Downloaded, HttpError> {
    let final_url = response.url().to_string();
    let headers = response.headers();
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &header::HeaderValue| v.to_str().ok())
            .map(str::to_string)
    };
    let validators = Validators {
        etag: text(header::ETAG),
        last_modified: text(header::LAST_MODIFIED),
    };
    // Known only when the body is not content-encoded (reqwest drops it after decoding).
    let expected = response.content_length();
    if let Some(expected) = expected
        && expected > config.max_bytes
    {
        return Err(HttpError::TooLarge {
            limit: config.max_bytes,
        });
    }
    let mut bytes = Vec::with_capacity(expected.unwrap_or(0) as usize);
    let read = response
        .take(config.max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| classify_io(&e));
    let received = bytes.len() as u64;
    match read {
        Err(HttpError::Network(_)) if expected.is_some_and(|e| e > received) => {
            return Err(HttpError::Incomplete {
                received,
                expected: expected.unwrap_or_default(),
            });
        }
        Err(error) => return Err(error),
        Ok(_) => {}
    }
    if received > config.max_bytes {
        return Err(HttpError::TooLarge {
            limit: config.max_bytes,
        });
    }
    if let Some(expected) = expected
        && expected != received
    {
        return Err(HttpError::Incomplete { received, expected });
    }
    Ok(Downloaded::Body {
        bytes,
        validators,
        final_url,
    })
}

/// Retry-After as seconds or an HTTP date. A wait past the retry budget ends the download
/// instead, so a hostile value cannot stall a cron job.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn classify(error: &reqwest::Error, config: &HttpConfig) -> HttpError {
    let message = error_chain(error);
    if error.is_timeout() {
        HttpError::Timeout(message)
    } else if error.is_redirect() {
        HttpError::TooManyRedirects(config.max_redirects)
    } else if error.is_connect() {
        HttpError::Connect(message)
    } else {
        HttpError::Network(message)
    }
}

fn classify_io(error: &std::io::Error) -> HttpError {
    let timed_out = error.kind() == std::io::ErrorKind::TimedOut
        || error
            .get_ref()
            .and_then(|e| e.downcast_ref::<reqwest::Error>())
            .is_some_and(reqwest::Error::is_timeout);
    let message = error_chain(error);
    if timed_out {
        HttpError::Timeout(message)
    } else {
        HttpError::Network(message)
    }
}

/// reqwest's top error says little ("error sending request"); its causes say what happened.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter() {
        let base = Duration::from_secs(2);
        for n in 1..6 {
            let full = base * (1 << (n - 1));
            let wait = backoff_delay(base, n);
            assert!(wait >= full / 2 && wait <= full, "{n}: {wait:?}");
        }
    }

    /// TLS is set up (ring as rustls' provider): an https request to a server that hangs up
    /// fails as a connection error, rather than the client panicking for want of a provider.
    /// Offline: the server is a socket on 127.0.0.1.
    #[test]
    fn an_https_request_gets_as_far_as_the_handshake() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            // Take the connection and the client's hello, then hang up.
            let (mut socket, _) = listener.accept().unwrap();
            let mut hello = [0u8; 5];
            let _ = std::io::Read::read(&mut socket, &mut hello);
            hello
        });
        let config = HttpConfig {
            max_tries: 1,
            ..HttpConfig::default()
        };
        let client = build_client(&config).unwrap();
        let url = format!("https://127.0.0.1:{port}/");
        let never = AtomicBool::new(false);
        let result = download(
            &client,
            &url,
            &Validators::default(),
            &config,
            &never,
            |_| {},
        );
        assert!(result.result.is_err());
        // A TLS record of type 22 (handshake): the client spoke TLS.
        assert_eq!(server.join().unwrap()[0], 22);
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert(header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(
            header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&headers), Some(Duration::ZERO));
        headers.insert(header::RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&headers), None);
    }
}
