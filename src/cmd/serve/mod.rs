//! `portreg serve`: the database over HTTP, read-only, for a team. A front end as the commands
//! are: each request runs the command it stands for ([`api`]) through the same parser and the
//! same code into a buffer, on the runtime's worker threads (one per core), each keeping one
//! read-only SQLite connection open, so a snapshot another process stores is seen by the next
//! request; a thread keeps its answers while the data stays the same. Never a write, never a
//! lock that would stop `fetch`.
//!
//! Limits: connections at once (`--max-connections`), 10 s to send a request's headers (idle
//! and half-sent connections are closed, and never stop others), 16 kB of headers, 4 kB of
//! URL, `--query-timeout` per request. SIGTERM and SIGINT stop it: no new connections, the
//! ones open get 10 s to finish, exit 0.

mod api;
mod page;
mod respond;

use super::{Context, QUIET, dispatch, warn};
use anyhow::{Context as _, Result};
use api::{API, Endpoint, FILES, RAW};
use clap::{CommandFactory, FromArgMatches};
use http::header::{ALLOW, CONTENT_LENGTH};
use http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use portreg::cli::{Cli, ServeArgs};
use portreg::model::Registry;
use portreg::store::{Store, StoreError};
use respond::{Answer, Cache, Response, respond};
use std::cell::RefCell;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What every request shares.
struct Shared {
    db_path: PathBuf,
    query_timeout: Duration,
}

/// How long a client may take to send a request's headers, and open connections to finish
/// when the server stops.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
const MAX_HEADER_BYTES: usize = 16 * 1024;
const MAX_URL_BYTES: usize = 4 * 1024;

pub fn run(args: ServeArgs, ctx: &Context) -> Result<ExitCode> {
    // What every request would fail on is refused once, at the start.
    open_reader(&ctx.db_path)
        .map_err(|error| anyhow::anyhow!("cannot serve {}: {error}", ctx.db_path.display()))?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .context("cannot start the server's threads")?;
    let shared = Arc::new(Shared {
        db_path: ctx.db_path.clone(),
        query_timeout: args.query_timeout,
    });
    runtime.block_on(async {
        // Before listening: a stop asked as soon as it listens is a stop, exit 0.
        let stop = stop_signal()?;
        serve(args, shared, stop).await
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(
    args: ServeArgs,
    shared: Arc<Shared>,
    stop: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "listening on http://{address}/ (database {})",
        shared.db_path.display()
    )?;
    stdout.flush()?;
    drop(stdout);
    let connections = Arc::new(tokio::sync::Semaphore::new(args.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => permit?,
            () = &mut stop => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors and the like: wait, not spin.
                    warn(format_args!("serve: cannot accept a connection: {error}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .max_buf_size(MAX_HEADER_BYTES)
            .serve_connection(TokioIo::new(stream), {
                let shared = shared.clone();
                hyper::service::service_fn(move |request| {
                    let shared = shared.clone();
                    async move { Ok::<_, std::convert::Infallible>(handle(shared, request).await) }
                })
            });
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {}
    }
    Ok(())
}

/// SIGTERM or SIGINT, their handlers installed now.
fn stop_signal() -> Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}

/// Routes a request: GET and HEAD only, a URL of a sensible length, then by path.
async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Response {
    let head = request.method() == Method::HEAD;
    if request.method() != Method::GET && !head {
        let message = format!(
            "{} is not answered here: only GET and HEAD",
            request.method()
        );
        let mut refused = respond(
            &HeaderMap::new(),
            Answer::error(StatusCode::METHOD_NOT_ALLOWED, &message),
        );
        refused
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return refused;
    }
    let uri = request.uri();
    let query = uri.query().map(str::to_string);
    let headers = request.headers();
    let answer = if uri.path().len() + query.as_deref().map_or(0, str::len) > MAX_URL_BYTES {
        respond(
            headers,
            Answer::error(
                StatusCode::URI_TOO_LONG,
                "the URL is longer than 4096 bytes",
            ),
        )
    } else {
        route(shared, uri.path(), query, headers).await
    };
    if head {
        // The headers GET would send, its length included; no body.
        let length = hyper::body::Body::size_hint(answer.body()).exact();
        let (mut parts, _) = answer.into_parts();
        if let Some(length) = length {
            parts
                .headers
                .insert(CONTENT_LENGTH, HeaderValue::from(length));
        }
        return http::Response::from_parts(parts, http_body_util::Full::default());
    }
    answer
}

async fn route(
    shared: Arc<Shared>,
    path: &str,
    query: Option<String>,
    headers: &HeaderMap,
) -> Response {
    if path == "/" {
        return page_request(&shared, query, headers);
    }
    if let Some(name) = path.strip_prefix("/api/v1/") {
        return match API.iter().find(|(api_name, _)| *api_name == name) {
            Some((_, endpoint)) => answer(&shared, endpoint, query, Vec::new(), headers),
            None => not_found(),
        };
    }
    if let Some(id) = path.strip_prefix("/raw/").filter(|id| !id.contains('/')) {
        return answer(
            &shared,
            &RAW,
            query,
            vec![("id".into(), id.to_string())],
            headers,
        );
    }
    match FILES.iter().find(|(file, _)| *file == path) {
        Some((_, endpoint)) => answer(&shared, endpoint, query, Vec::new(), headers),
        None => not_found(),
    }
}

/// The page: `/?q=443` looks 443 up, `&registry=protocols` on the other registry.
fn page_request(shared: &Shared, query: Option<String>, headers: &HeaderMap) -> Response {
    let params: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let value = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let registry = match value("registry").map(|name| name.parse::<Registry>()) {
        None => Registry::Services,
        Some(Ok(registry)) => registry,
        Some(Err(message)) => {
            return respond(headers, Answer::error(StatusCode::BAD_REQUEST, &message));
        }
    };
    let q = value("q");
    let answer = with_store(
        shared,
        |store| portreg::with_record_type!(registry, R => page::page_of::<R>(store, q.as_deref())),
    );
    let answer = match answer {
        Ok(body) => Answer {
            status: StatusCode::OK,
            content_type: "text/html; charset=utf-8",
            body,
            cache: Cache::Revalidate,
        },
        Err(answer) => answer,
    };
    respond(headers, answer)
}

fn not_found() -> Response {
    respond(
        &HeaderMap::new(),
        Answer::error(
            StatusCode::NOT_FOUND,
            "no such page: see /api/v1/ in docs/guide.md",
        ),
    )
}

/// Runs the command a request stands for on this thread, and answers with what it wrote.
fn answer(
    shared: &Shared,
    endpoint: &'static Endpoint,
    query: Option<String>,
    mut params: Vec<(String, String)>,
    headers: &HeaderMap,
) -> Response {
    let raw_id = params.first().map(|(_, id)| id.clone());
    let raw_id = raw_id.as_deref();
    let parsed: Result<Vec<(String, String)>, _> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default());
    let answer = match parsed {
        Err(error) => Answer::error(
            StatusCode::BAD_REQUEST,
            &format!("bad query string: {error}"),
        ),
        Ok(query) => {
            params.extend(query);
            match api::command_line(endpoint, &params) {
                Err(message) => Answer::error(StatusCode::BAD_REQUEST, &message),
                // On this worker thread, with its kept connection: most answers take well
                // under a millisecond, and handing each to tokio's blocking pool cost more than
                // the query (its lock's futex waits and wakes: 2,200 requests/s of `show 443`
                // against 2,500 on the worker, before the statements were cached).
                Ok(argv) => {
                    // A bug must cost one request a 500, not the thread its connection.
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run_command(shared, argv)
                    }))
                    .unwrap_or_else(|_| {
                        THREAD.with(|thread| {
                            if let Ok(mut thread) = thread.try_borrow_mut() {
                                *thread = None;
                            }
                        });
                        Answer::error(StatusCode::INTERNAL_SERVER_ERROR, "the request failed")
                    })
                }
            }
        }
    };
    let answer = Answer {
        content_type: if answer.status.is_success() {
            content_type(endpoint)
        } else {
            answer.content_type
        },
        cache: match (answer.status.is_success(), endpoint.command) {
            (false, _) => Cache::No,
            // A snapshot id names bytes that never change; `latest` or a date does not.
            (true, ["raw"]) if raw_id.is_some_and(|id| id.bytes().all(|b| b.is_ascii_digit())) => {
                Cache::Immutable
            }
            (true, _) => Cache::Revalidate,
        },
        ..answer
    };
    respond(headers, answer)
}

fn content_type(endpoint: &Endpoint) -> &'static str {
    match endpoint.command {
        _ if endpoint.json => "application/json",
        ["feed", ..] => "application/atom+xml",
        ["stats", ..] => "image/svg+xml",
        ["export", "csv"] => "text/csv; charset=utf-8",
        ["raw"] => "application/xml",
        _ => "text/plain; charset=utf-8",
    }
}

/// A query thread's command-line parser and kept connection, and when the database file had
/// last changed when it was opened.
type ThreadState = (
    clap::Command,
    Context,
    Option<std::time::SystemTime>,
    Answers,
);

/// The answers a thread gave, by command line, while the database stays as it was (its
/// `data_version`): the same question again (a dashboard polling `changes`, a bot asking
/// about 443) costs a lookup, not the query. Emptied when full or when the data changes.
#[derive(Default)]
struct Answers {
    data_version: i64,
    by_line: rustc_hash::FxHashMap<Vec<String>, (&'static str, Vec<u8>)>,
    bytes: usize,
}

/// What a thread keeps: answers up to 128 kB (not a whole `diff` or an export), 8 MB in all,
/// so the server stays well under 100 MB on any number of cores it is likely to have.
const ANSWER_KEPT_BYTES: usize = 128 * 1024;
const ANSWERS_KEPT_BYTES: usize = 8 * 1024 * 1024;

thread_local! {
    /// Made on first use, and again when the file changes under a connection that cannot see
    /// it: SQLite opens a WAL database in a directory the server may not write to (a systemd
    /// `ReadOnlyPaths=`) as immutable, so the next snapshot shows only in a new connection.
    static THREAD: RefCell<Option<ThreadState>> = const { RefCell::new(None) };
}

/// When the database last changed: its file's or its write-ahead log's time, the later.
fn modified(path: &Path) -> Option<std::time::SystemTime> {
    let time = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    time(path).max(time(Path::new(&wal)))
}

/// The database opened read-only, as it is: one that needs an upgrade is refused, since
/// serving must never write (any command run once upgrades it).
fn open_reader(db_path: &Path) -> Result<Store, String> {
    match Store::open_read_only(db_path) {
        Ok(store) => Ok(store),
        Err(StoreError::Migration(_)) => Err(format!(
            "the database is from an older portreg: run `portreg --db {} status` once to upgrade it",
            db_path.display()
        )),
        Err(error) => Err(error.to_string()),
    }
}

/// This thread's parser and context, made on first use.
fn with_thread<T>(
    shared: &Shared,
    work: impl FnOnce(&mut clap::Command, &mut Context, &mut Answers) -> Result<T, Answer>,
) -> Result<T, Answer> {
    THREAD.with_borrow_mut(|thread| {
        let changed = modified(&shared.db_path);
        if thread
            .as_ref()
            .is_some_and(|(_, _, opened, _)| *opened != changed)
        {
            *thread = None;
        }
        if thread.is_none() {
            QUIET.set(true);
            let store = open_reader(&shared.db_path)
                .map_err(|message| Answer::error(StatusCode::SERVICE_UNAVAILABLE, &message))?;
            let ctx = Context {
                db_path: shared.db_path.clone(),
                registry_given: None,
                kept_reader: Some(RefCell::new(store)),
            };
            *thread = Some((Cli::command(), ctx, changed, Answers::default()));
        }
        match thread.as_mut() {
            Some((parser, ctx, _, answers)) => work(parser, ctx, answers),
            None => Err(Answer::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "no database",
            )),
        }
    })
}

/// Runs `work` on this thread's kept store, within the query time.
fn with_store<T>(
    shared: &Shared,
    work: impl FnOnce(&Store) -> anyhow::Result<T>,
) -> Result<T, Answer> {
    with_thread(shared, |_, ctx, _| {
        let Some(kept) = &ctx.kept_reader else {
            return Err(Answer::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "no database",
            ));
        };
        let store = kept.borrow();
        let deadline = Instant::now().checked_add(shared.query_timeout);
        let _ = store.stop_queries_at(deadline);
        let result = work(&store);
        let _ = store.stop_queries_at(None);
        result.map_err(|error| failed(&error, shared.query_timeout))
    })
}

fn run_command(shared: &Shared, argv: Vec<String>) -> Answer {
    let answer = with_thread(shared, |parser, ctx, answers| {
        let version = ctx
            .kept_reader
            .as_ref()
            .and_then(|kept| kept.borrow().data_version().ok());
        if version != Some(answers.data_version) {
            answers.by_line.clear();
            answers.bytes = 0;
            answers.data_version = version.unwrap_or_default();
        }
        if let Some((content_type, body)) = answers.by_line.get(&argv) {
            return Ok(Answer {
                status: StatusCode::OK,
                content_type,
                body: body.clone(),
                cache: Cache::Revalidate,
            });
        }
        let cli = parser
            .try_get_matches_from_mut(argv.clone())
            .and_then(|matches| Cli::from_arg_matches(&matches))
            .map_err(|error| Answer::error(StatusCode::BAD_REQUEST, &clap_words(&error)))?;
        ctx.registry_given = cli.registry.map(Registry::from);
        let answer = run_with_deadline(ctx, cli, shared.query_timeout);
        if answer.status == StatusCode::OK && answer.body.len() <= ANSWER_KEPT_BYTES {
            if answers.bytes + answer.body.len() > ANSWERS_KEPT_BYTES {
                answers.by_line.clear();
                answers.bytes = 0;
            }
            answers.bytes += answer.body.len();
            answers
                .by_line
                .insert(argv, (answer.content_type, answer.body.clone()));
        }
        Ok(answer)
    });
    answer.unwrap_or_else(|answer| answer)
}

fn run_with_deadline(ctx: &Context, cli: Cli, timeout: Duration) -> Answer {
    let kept = ctx.kept_reader.as_ref().map(RefCell::borrow);
    let deadline = Instant::now().checked_add(timeout);
    if let Some(Err(error)) = kept.map(|store| store.stop_queries_at(deadline)) {
        return Answer::error(StatusCode::INTERNAL_SERVER_ERROR, &error.to_string());
    }
    let mut body = Vec::new();
    let result = dispatch(cli.command, ctx, &mut body);
    if let Some(store) = ctx.kept_reader.as_ref().map(RefCell::borrow) {
        let _ = store.stop_queries_at(None);
    }
    match result {
        Ok(_) => Answer {
            status: StatusCode::OK,
            content_type: "application/json",
            body,
            cache: Cache::Revalidate,
        },
        Err(error) => failed(&error, timeout),
    }
}

/// A command's error as an HTTP status and the CLI's words.
fn failed(error: &anyhow::Error, timeout: Duration) -> Answer {
    let store_error = error.chain().find_map(|e| e.downcast_ref::<StoreError>());
    let status = match store_error {
        Some(e) if e.is_interrupted() => {
            let message = format!(
                "the request took longer than {} and was stopped",
                humantime::format_duration(timeout)
            );
            return Answer::error(StatusCode::SERVICE_UNAVAILABLE, &message);
        }
        Some(StoreError::NoSuchSnapshot(_) | StoreError::Empty { .. }) => StatusCode::NOT_FOUND,
        Some(StoreError::OtherRegistry { .. }) => StatusCode::NOT_FOUND,
        Some(StoreError::Sqlite(_) | StoreError::DamagedRaw { .. }) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::BAD_REQUEST,
    };
    Answer::error(status, &format!("{error:#}"))
}

/// clap's message without its `error: ` and its usage lines: the first line says it.
fn clap_words(error: &clap::Error) -> String {
    let text = error.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}
