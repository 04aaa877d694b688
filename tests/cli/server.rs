//! A real HTTP server on an ephemeral 127.0.0.1 port for the tests, scripted per request.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tiny_http::{Header, Response, Server};

/// What the client sent, as the server saw it.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub path: String,
    pub if_none_match: Option<String>,
    pub user_agent: Option<String>,
    pub accept_encoding: Option<String>,
}

pub enum Reply {
    Body {
        bytes: Vec<u8>,
        etag: Option<&'static str>,
    },
    /// The body gzip-compressed in transfer (`Content-Encoding: gzip`).
    Gzipped(Vec<u8>),
    NotModified,
    Status {
        code: u16,
        headers: Vec<(&'static str, String)>,
    },
    /// Claims `claimed` bytes, sends `bytes`, closes the connection.
    CutShort {
        bytes: Vec<u8>,
        claimed: usize,
    },
    /// Answers nothing for this long.
    Stall(Duration),
    /// The body in eight pieces with a pause between them, so a client is caught
    /// mid-download; `sent` counts the pieces written (9 once the whole body is out).
    Slowly {
        bytes: Vec<u8>,
        sent: Arc<AtomicUsize>,
    },
    Redirect(String),
}

type Handler = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

/// A real HTTP server on an ephemeral 127.0.0.1 port; each request is answered on its own
/// thread by `handler(n, request)`, n counting from 0.
pub struct TestServer {
    server: Arc<Server>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The registry's address on it.
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    acceptor: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn start(handler: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> TestServer {
        let server = Arc::new(Server::http("127.0.0.1:0").unwrap());
        let port = server.server_addr().to_ip().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let acceptor = {
            let (server, seen) = (Arc::clone(&server), Arc::clone(&seen));
            std::thread::spawn(move || {
                for request in server.incoming_requests() {
                    let header = |name: &str| {
                        request
                            .headers()
                            .iter()
                            .find(|h| h.field.to_string().eq_ignore_ascii_case(name))
                            .map(|h| h.value.to_string())
                    };
                    let this = Seen {
                        path: request.url().to_string(),
                        if_none_match: header("If-None-Match"),
                        user_agent: header("User-Agent"),
                        accept_encoding: header("Accept-Encoding"),
                    };
                    let n = {
                        let mut seen = seen.lock().unwrap();
                        seen.push(this.clone());
                        seen.len() - 1
                    };
                    let handler = Arc::clone(&handler);
                    std::thread::spawn(move || respond(request, handler(n, &this)));
                }
            })
        };
        TestServer {
            server,
            base: format!("http://127.0.0.1:{port}"),
            url: format!("http://127.0.0.1:{port}/service-names-port-numbers.xml"),
            seen,
            acceptor: Some(acceptor),
        }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn header(name: &str, value: &str) -> Header {
    Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap()
}

fn respond(request: tiny_http::Request, reply: Reply) {
    use std::io::Write;
    let _ = match reply {
        Reply::Body { bytes, etag } => {
            let mut response =
                Response::from_data(bytes).with_header(header("Content-Type", "application/xml"));
            if let Some(etag) = etag {
                response.add_header(header("ETag", etag));
            }
            request.respond(response)
        }
        Reply::Gzipped(bytes) => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(&bytes).unwrap();
            let response = Response::from_data(encoder.finish().unwrap())
                .with_header(header("Content-Type", "application/xml"))
                .with_header(header("Content-Encoding", "gzip"));
            request.respond(response)
        }
        Reply::NotModified => request.respond(Response::empty(304)),
        Reply::Status { code, headers } => {
            let mut response =
                Response::from_string(format!("status {code}")).with_status_code(code);
            for (name, value) in headers {
                response.add_header(header(name, &value));
            }
            request.respond(response)
        }
        Reply::CutShort { bytes, claimed } => {
            let mut writer = request.into_writer();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: {claimed}\r\nConnection: close\r\n\r\n"
            );
            let _ = writer.write_all(head.as_bytes());
            let _ = writer.write_all(&bytes);
            writer.flush()
        }
        Reply::Slowly { bytes, sent } => {
            let mut writer = request.into_writer();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                bytes.len()
            );
            let _ = writer.write_all(head.as_bytes());
            let _ = writer.flush();
            sent.store(0, Ordering::SeqCst);
            for chunk in bytes.chunks(bytes.len().div_ceil(8)) {
                std::thread::sleep(Duration::from_millis(15));
                if writer
                    .write_all(chunk)
                    .and_then(|()| writer.flush())
                    .is_err()
                {
                    break;
                }
                sent.fetch_add(1, Ordering::SeqCst);
            }
            sent.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
        Reply::Stall(duration) => {
            std::thread::sleep(duration);
            Ok(())
        }
        Reply::Redirect(location) => {
            request.respond(Response::empty(301).with_header(header("Location", &location)))
        }
    };
}
