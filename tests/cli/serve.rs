//! `portreg serve` as a real process on 127.0.0.1, asked over real HTTP: the API's JSON is the
//! CLI's, byte for byte; the HTTP conventions; bad requests; slow clients; live data; stopping.

use crate::fixtures::protocol_versions;
use crate::support::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// A running `portreg serve` on an ephemeral port, stopped (SIGTERM) when dropped.
struct Server {
    child: Option<Child>,
    base: String,
}

impl Server {
    fn start(db: &Path, extra: &[&str]) -> Server {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend(extra);
        let mut child = portreg_command(db, &args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut first)
            .unwrap();
        let address = first
            .strip_prefix("listening on ")
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("{first:?}"))
            .trim_end_matches('/')
            .to_string();
        Server {
            child: Some(child),
            base: address,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends SIGTERM and waits: the exit status.
    fn stop(mut self) -> (std::process::ExitStatus, Duration) {
        let mut child = self.child.take().unwrap();
        terminate(&child, "TERM");
        let started = Instant::now();
        let status = child.wait().unwrap();
        (status, started.elapsed())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn terminate(child: &Child, signal: &str) {
    let sent = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

fn client() -> reqwest::blocking::Client {
    // portreg builds reqwest with rustls and no provider of its own choosing: ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .no_proxy()
        .no_gzip()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn get(url: &str) -> reqwest::blocking::Response {
    client().get(url).send().unwrap()
}

fn json_of<T: serde::de::DeserializeOwned>(response: reqwest::blocking::Response) -> T {
    serde_json::from_slice(&response.bytes().unwrap()).unwrap()
}

/// A database with real versions of both registries.
fn served_db() -> (tempfile::TempDir, PathBuf) {
    let (dir, db) = temp_db();
    import(&db, &paths(&[0, 1, 5, 13, 19, 20]));
    let protocols: Vec<String> = protocol_versions()
        .iter()
        .map(|v| v.path.display().to_string())
        .collect();
    import(&db, &protocols);
    (dir, db)
}

#[test]
fn every_endpoint_answers_what_the_cli_prints() {
    let (_dir, db) = served_db();
    let server = Server::start(&db, &[]);
    let cases: &[(&str, &[&str])] = &[
        ("/api/v1/show?q=443", &["show", "443", "--format", "json"]),
        (
            "/api/v1/show?q=443&proto=tcp&as_of=2019-06-01",
            &[
                "show",
                "443",
                "--proto",
                "tcp",
                "--as-of",
                "2019-06-01",
                "--format",
                "json",
            ],
        ),
        (
            "/api/v1/show?q=https&assigned=true",
            &["show", "https", "--assigned", "--format", "json"],
        ),
        (
            "/api/v1/search?q=kerberos",
            &["search", "kerberos", "--format", "json"],
        ),
        (
            "/api/v1/history?q=443/tcp",
            &["history", "443/tcp", "--format", "json"],
        ),
        (
            "/api/v1/changes?since=2024",
            &["changes", "--since", "2024", "--format", "json"],
        ),
        (
            "/api/v1/diff?from=1&to=latest",
            &["diff", "1", "latest", "--format", "json"],
        ),
        (
            "/api/v1/free?range=4700-4800&proto=tcp&never_assigned=true",
            &[
                "free",
                "4700-4800",
                "--proto",
                "tcp",
                "--never-assigned",
                "--format",
                "json",
            ],
        ),
        ("/api/v1/snapshots", &["snapshots", "--format", "json"]),
        ("/api/v1/status", &["status", "--format", "json"]),
        (
            "/api/v1/show?q=ipv6-icmp&registry=protocols",
            &[
                "--registry",
                "protocols",
                "show",
                "ipv6-icmp",
                "--format",
                "json",
            ],
        ),
        (
            "/api/v1/changes?since=2020&registry=protocols",
            &[
                "--registry",
                "protocols",
                "changes",
                "--since",
                "2020",
                "--format",
                "json",
            ],
        ),
        ("/feed.atom", &["feed"]),
        ("/stats.svg", &["stats", "--svg", "-"]),
        ("/export/services", &["export", "services"]),
        ("/export/csv", &["export", "csv"]),
        ("/export/protocols", &["export", "protocols"]),
        ("/raw/3", &["raw", "3"]),
    ];
    for (path, args) in cases {
        let response = get(&server.url(path));
        assert_eq!(response.status(), 200, "{path}");
        let cli = portreg_command(&db, args).output().unwrap();
        assert!(cli.status.success(), "{args:?}");
        assert!(!cli.stdout.is_empty(), "{args:?}");
        assert_eq!(
            response.bytes().unwrap().as_ref(),
            cli.stdout.as_slice(),
            "{path}"
        );
    }
}

#[test]
fn etags_gzip_head_and_cache_headers() {
    let (_dir, db) = served_db();
    let server = Server::start(&db, &[]);
    let url = server.url("/api/v1/changes?since=2024");
    let first = get(&url);
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(first.headers()["cache-control"], "no-cache");
    let body = first.bytes().unwrap();
    let again = client()
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().unwrap().is_empty());

    // gzip when asked for: the same body, compressed, under its own ETag.
    let zipped = client()
        .get(&url)
        .header("Accept-Encoding", "gzip")
        .send()
        .unwrap();
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    assert_ne!(zipped.headers()["etag"].to_str().unwrap(), etag);
    let compressed = zipped.bytes().unwrap();
    assert!(compressed.len() * 3 < body.len());
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_ref())
        .read_to_end(&mut decoded)
        .unwrap();
    assert_eq!(decoded, body.as_ref());

    // HEAD: the headers of GET, no body.
    let head = client().head(&url).send().unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["etag"].to_str().unwrap(), etag);
    assert!(head.bytes().unwrap().is_empty());

    // A snapshot's bytes never change; what `latest` names does.
    let raw = get(&server.url("/raw/1"));
    assert_eq!(
        raw.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(raw.headers()["content-type"], "application/xml");
    let latest = get(&server.url("/raw/latest"));
    assert_eq!(latest.headers()["cache-control"], "no-cache");
    for (path, content_type) in [
        ("/api/v1/status", "application/json"),
        ("/feed.atom", "application/atom+xml"),
        ("/stats.svg", "image/svg+xml"),
        ("/export/csv", "text/csv; charset=utf-8"),
        ("/export/services", "text/plain; charset=utf-8"),
    ] {
        assert_eq!(
            get(&server.url(path)).headers()["content-type"],
            content_type,
            "{path}"
        );
    }
    // HEAD says how long GET's body is.
    let head = client().head(&url).send().unwrap();
    assert_eq!(
        head.headers()["content-length"].to_str().unwrap(),
        body.len().to_string()
    );
}

#[test]
fn bad_requests_get_4xx_in_the_clis_words_never_5xx() {
    let (_dir, db) = served_db();
    let server = Server::start(&db, &[]);
    let error_of = |path: &str, status: u16| -> String {
        let response = get(&server.url(path));
        assert_eq!(response.status(), status, "{path}");
        let body: serde_json::Value = json_of(response);
        body["error"].as_str().unwrap().to_string()
    };
    let cli = portreg(&db, &["show", "99999"]).stderr;
    let words = error_of("/api/v1/show?q=99999", 400);
    assert!(cli.contains(&words), "{words:?} not in {cli:?}");
    assert!(error_of("/api/v1/changes?since=yesterday", 400).contains("is not a date"));
    assert!(error_of("/api/v1/show", 400).contains("required"));
    assert!(error_of("/api/v1/show?q=1&db=/etc/passwd", 400).contains("unknown parameter \"db\""));
    assert!(error_of("/api/v1/free?never_assigned=maybe", 400).contains("true or false"));
    assert!(error_of("/api/v1/show?q=1&registry=dns", 400).contains("dns"));
    assert!(error_of("/api/v1/diff?from=999&to=latest", 404).contains("no snapshot matches"));
    assert!(error_of("/api/v1/sql?q=select", 404).contains("no such page"));
    error_of("/nowhere", 404);
    error_of("/raw/999", 404);
    // A value is never read as an option.
    let injected = get(&server.url("/api/v1/show?q=--db%3D%2Fetc%2Fpasswd"));
    assert_eq!(injected.text().unwrap(), "[]\n");
    // Other methods, long URLs, huge headers.
    let post = client()
        .post(server.url("/api/v1/show?q=1"))
        .send()
        .unwrap();
    assert_eq!(post.status(), 405);
    assert_eq!(post.headers()["allow"], "GET, HEAD");
    let long = format!("/api/v1/search?q={}", "a".repeat(5000));
    error_of(&long, 414);
    let huge = client()
        .get(server.url("/api/v1/status"))
        .header("X-Padding", "b".repeat(32 * 1024))
        .send();
    if let Ok(response) = huge {
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    // Still answering.
    assert_eq!(get(&server.url("/api/v1/status")).status(), 200);
}

#[test]
fn idle_and_half_sent_connections_do_not_stop_others() {
    let (_dir, db) = served_db();
    let server = Server::start(&db, &[]);
    let address = server.base.trim_start_matches("http://").to_string();
    let stalled: Vec<TcpStream> = (0..200)
        .map(|i| {
            let mut stream = TcpStream::connect(&address).unwrap();
            if i % 2 == 0 {
                stream
                    .write_all(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n")
                    .unwrap();
            }
            stream
        })
        .collect();
    let started = Instant::now();
    for _ in 0..20 {
        assert_eq!(get(&server.url("/api/v1/show?q=443")).status(), 200);
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    drop(stalled);
}

#[test]
fn a_snapshot_stored_by_another_process_is_served_without_a_restart() {
    let (_dir, db) = temp_db();
    import(&db, &paths(&[0]));
    let server = Server::start(&db, &[]);
    let count = || -> usize {
        let rows: Vec<serde_json::Value> = json_of(get(&server.url("/api/v1/snapshots")));
        rows.len()
    };
    assert_eq!(count(), 1);
    // The server holds no lock: an import (a fetch's writer) goes through while requests
    // keep coming, and they keep being answered.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let asking = {
        let (stop, url) = (stop.clone(), server.url("/api/v1/show?q=443"));
        std::thread::spawn(move || {
            let mut answered = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                assert_eq!(get(&url).status(), 200);
                answered += 1;
            }
            answered
        })
    };
    let started = Instant::now();
    import(&db, &paths(&[1, 2]));
    assert!(started.elapsed() < Duration::from_secs(10));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(asking.join().unwrap() > 0);
    let deadline = Instant::now() + Duration::from_secs(2);
    while count() != 3 {
        assert!(
            Instant::now() < deadline,
            "the new snapshots were not served"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_request_past_its_time_gets_503_and_the_server_goes_on() {
    let (_dir, db) = served_db();
    let server = Server::start(&db, &["--query-timeout", "0s"]);
    for _ in 0..3 {
        let response = get(&server.url("/api/v1/diff?from=1&to=latest"));
        assert_eq!(response.status(), 503);
        let body: serde_json::Value = json_of(response);
        assert!(
            body["error"].as_str().unwrap().contains("took longer"),
            "{body}"
        );
    }
    // The server goes on: what needs no query is answered, and it stops cleanly.
    assert_eq!(get(&server.url("/nowhere")).status(), 404);
    let (status, _) = server.stop();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn sigterm_and_sigint_stop_it_with_exit_0() {
    let (_dir, db) = served_db();
    let server = Server::start(&db, &[]);
    assert_eq!(get(&server.url("/api/v1/status")).status(), 200);
    let (status, took) = server.stop();
    assert_eq!(status.code(), Some(0));
    assert!(took < Duration::from_secs(5), "{took:?}");

    let mut server = Server::start(&db, &[]);
    let child = server.child.take().unwrap();
    terminate(&child, "INT");
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn it_listens_on_this_machine_only_unless_told_and_needs_a_database() {
    use clap::Parser;
    let cli = portreg::cli::Cli::try_parse_from(["portreg", "serve"]).unwrap();
    match cli.command {
        portreg::cli::Command::Serve(args) => {
            assert_eq!(args.listen, "127.0.0.1:8080".parse().unwrap())
        }
        _ => unreachable!(),
    }
    let (_dir, db) = temp_db();
    let run = portreg(&db, &["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("cannot serve"), "{}", run.stderr);
}

#[test]
fn the_page_answers_a_lookup_and_shows_the_latest_changes_without_a_script() {
    let (_dir, db) = served_db();
    let server = Server::start(&db, &[]);
    let page = get(&server.url("/?q=443"));
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.text().unwrap();
    for part in [
        "<td>443/tcp</td><td>https</td>",
        "<img src=\"/stats.svg\"",
        "<h2>Latest changes</h2>",
        "href=\"/feed.atom\"",
        "href=\"/export/services\"",
        "name=\"viewport\"",
    ] {
        assert!(html.contains(part), "no {part} in the page");
    }
    assert!(!html.contains("<script"));
    // Nothing loaded from elsewhere: no remote image, style or script.
    assert!(!html.contains("src=\"http") && !html.contains("rel=\"stylesheet\""));
    let bad = get(&server.url("/?q=99999")).text().unwrap();
    assert!(bad.contains("port 99999 is above 65535"));
    let protocols = get(&server.url("/?q=ipv6-icmp&registry=protocols"))
        .text()
        .unwrap();
    assert!(
        protocols.contains("<td>58</td><td>IPv6-ICMP</td>"),
        "{protocols}"
    );
    assert!(protocols.contains("href=\"/export/protocols\""));
    assert_eq!(get(&server.url("/?registry=dns")).status(), 400);
}
