//! A loopback reverse proxy for one server: any MLflow client (R, Java, the Node client,
//! curl, the MLflow UI in a browser) talks plain HTTP to `127.0.0.1`, and the proxy sends
//! each request on to the server with the server's credential added.
//!
//! Design: a hyper HTTP/1.1 server (keep-alive, chunked bodies) on `127.0.0.1` only; the
//! server is reached over HTTP/1.1 connections of the proxy's own pool with the TLS settings
//! every request to the server uses ([`upstream`]: its CA bundle, client certificate, insecure flag; no
//! system proxy for loopback; no redirects followed, no overall timeout so that gigabyte
//! artifacts pass). Bodies stream both ways, frame by frame, with the socket's
//! own back-pressure: memory stays bounded whatever their size. `Range` and every other
//! header pass as they are.
//!
//! Per request: the caller's checks ([`gate`]; on Linux the peer's uid, [`peer`]), the
//! client's own credentials dropped, the credential added from core's `fresh_with`
//! ([`credential`]: one keychain read shared by concurrent requests, single sign-on tokens
//! refreshed under the one refresh lock), and a same-origin `Location` rewritten to the
//! proxy. A 401 makes one more credential read (for single sign-on, a refresh by the
//! refused-token rule) and one retry when the request body can be sent again (no body, or
//! a small one kept for the purpose). The proxy's own answers use MLflow's error shape:
//! 403 for a caller that did not prove itself, 401 "log in again", 502 for a server that
//! cannot be reached, 503 for a keychain or identity provider that did not answer.
//!
//! Nothing is printed or logged: the tracking URI holds the run's secret, and a front end
//! shows it only where the user asked for it.

mod credential;
mod forward;
mod gate;
mod peer;
#[cfg(test)]
mod tests;
mod upstream;

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use tokio::sync::watch;
use url::Url;

use self::credential::{Credentials, Header};
use self::forward::{Answer, Refusal, downstream_headers, rewrite_location, upstream_headers, upstream_target};
use self::gate::{Gate, Verdict, Via};
use self::upstream::{Upstream, UpstreamBody};
use crate::error::{Error, ErrorKind, Result};
use crate::logins::Logins;
use crate::secret::Secret;
use crate::server::Server;
use crate::text::clean;
use crate::vault::Vault;
use crate::verify::VerifyOptions;

/// A request body up to this size is kept while it is sent, so that a 401 can be retried
/// with a fresh credential; larger bodies stream and are never retried.
const REPLAYABLE_BODY: usize = 64 * 1024;

/// Connections served at once; more wait until one ends. Far above what MLflow clients open
/// (a browser opens six), far below the process's file descriptor limit.
const MAX_CONNECTIONS: usize = 512;

/// A connection that has read nothing for this long with no request in flight and nothing
/// waiting to be written is closed (between one and two of these after its last byte: see
/// [`idle`]).
const IDLE: std::time::Duration = std::time::Duration::from_secs(30);

/// How long a connection of another local user may stay, whatever it does (it gets 403).
const FOREIGN_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Settings of one proxy run.
#[derive(Debug, Clone, Default)]
pub struct ProxyOptions {
    /// The port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
}

/// A running proxy. Dropping it stops it: the port closes and open connections end.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    base_path: String,
    gate: Arc<Gate>,
    stop: watch::Sender<bool>,
}

impl Proxy {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The tracking URI for API clients: `http://127.0.0.1:PORT/SECRET/SERVER-PATH`. It is
    /// the key to the server: show it only where the user asked for it.
    pub fn tracking_uri(&self) -> Secret {
        Secret::new(format!("http://{}/{}{}", self.addr, self.gate.secret().expose(), self.base_path))
    }

    /// A new one-time link that signs a browser in (a cookie) and opens the server's UI.
    pub fn browser_link(&self) -> Secret {
        Secret::new(format!("http://{}{}", self.addr, self.gate.new_link()))
    }

    /// Stops accepting and ends open connections.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Shared<V> {
    name: String,
    server: Server,
    base: Url,
    upstream: Upstream,
    gate: Arc<Gate>,
    credentials: Credentials<V>,
    /// The server's selected workspace, sent as `X-MLFLOW-WORKSPACE` by requests that name
    /// none (R, Java, curl): a client that names its own (MLflow's Python client with
    /// `MLFLOW_WORKSPACE`, the UI's workspace switcher) keeps it.
    workspace: Option<HeaderValue>,
}

/// Starts a proxy for the server `name` on the current tokio runtime (a single-threaded
/// one is enough). A port in use is an [`Error::InvalidInput`] on `port`, at once.
pub async fn start<V: Vault + 'static>(
    logins: Arc<Logins<V>>,
    name: &str,
    server: &Server,
    opts: ProxyOptions,
) -> Result<Proxy> {
    let verify = VerifyOptions { total_timeout: crate::http::NO_TOTAL_TIMEOUT, ..VerifyOptions::default() };
    let invalid = |outcome: crate::outcome::Outcome| Error::invalid("url", outcome.summary());
    let base = crate::http::base_url(&server.url).map_err(invalid)?;
    let upstream = Upstream::new(server, &base, &verify).await.map_err(invalid)?;
    // std's bind, not tokio's: tokio sets SO_REUSEADDR, and a port in use must fail.
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, opts.port))
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .and_then(tokio::net::TcpListener::from_std)
        .map_err(|e| {
            let why = if e.kind() == std::io::ErrorKind::AddrInUse { "is in use".to_owned() } else { e.to_string() };
            Error::invalid("port", format!("cannot listen on 127.0.0.1 port {}: {why}", opts.port))
        })?;
    let addr = listener.local_addr().map_err(|e| Error::invalid("port", e.to_string()))?;
    let gate = Arc::new(Gate::new(addr.port()));
    let shared = Arc::new(Shared {
        name: name.to_owned(),
        server: server.clone(),
        base: base.clone(),
        upstream,
        gate: gate.clone(),
        credentials: Credentials::new(logins, name, server.clone()),
        workspace: server.workspace.as_deref().and_then(|ws| HeaderValue::from_str(ws).ok()),
    });
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(serve(listener, addr, shared, stopped));
    let base_path = base.path().trim_end_matches('/').to_owned();
    Ok(Proxy { addr, base_path, gate, stop })
}

async fn serve<V: Vault + 'static>(
    listener: tokio::net::TcpListener,
    local: SocketAddr,
    shared: Arc<Shared<V>>,
    mut stopped: watch::Receiver<bool>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        // At the cap, further connections wait in the listen backlog until one ends.
        let slot = tokio::select! {
            _ = stopped.changed() => return,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => return,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = stopped.changed() => return,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                // Out of file descriptors and the like: wait instead of spinning.
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let _slot = slot;
            // Asking the kernel whose socket it is blocks (netlink, or the socket tables'
            // file I/O): off the runtime's threads, so it does not hold up other connections.
            let own_user = tokio::task::spawn_blocking(move || peer::is_own_user(peer, local)).await.unwrap_or(false);
            let activity = Arc::new(Activity::default());
            let in_flight = activity.clone();
            let service = service_fn(move |req| {
                let shared = shared.clone();
                let busy = Busy::start(&in_flight);
                async move { Ok::<_, Infallible>(handle(&shared, own_user, req).await.map(|body| busy.till_end_of(body))) }
            });
            let conn = http1::Builder::new()
                // No header-read timer: hyper's arms one per request, and each costs a wake-up
                // of tokio's driver (a system call); `idle` closes what it would have.
                .header_read_timeout(None)
                // Another user's connection gets its 403 and is closed.
                .keep_alive(own_user)
                .serve_connection(TokioIo::new(Watched { io: stream, activity: activity.clone() }), service);
            // Another user's connection gets `FOREIGN_LIMIT` in all: it cannot hold a slot by
            // sending its request a byte at a time.
            let foreign = async {
                if own_user {
                    std::future::pending::<()>().await;
                }
                tokio::time::sleep(FOREIGN_LIMIT).await;
            };
            tokio::select! {
                biased;
                _ = conn => {}
                _ = stopped.changed() => {}
                () = idle(&activity) => {}
                () = foreign => {}
            }
        });
    }
}

/// What a connection did lately: a count of its reads (not a time: counting costs no clock
/// call per read), its requests in flight, and whether a write waits for the client to read.
#[derive(Default)]
struct Activity {
    reads: AtomicU64,
    busy: AtomicUsize,
    writing: AtomicBool,
}

/// Ends when the connection has been idle for [`IDLE`]: no read, no request in flight, no
/// write waiting (hyper drops an answer's body once its last bytes are buffered, before they
/// reach a client that reads slowly). One timer per connection and [`IDLE`], none per request.
async fn idle(activity: &Activity) {
    let mut seen = activity.reads.load(Ordering::Relaxed);
    loop {
        tokio::time::sleep(IDLE).await;
        let now = activity.reads.load(Ordering::Relaxed);
        let quiet = activity.busy.load(Ordering::Relaxed) == 0 && !activity.writing.load(Ordering::Relaxed);
        if now == seen && quiet {
            return;
        }
        seen = now;
    }
}

/// A request in flight, from its head until its answer's body is dropped (sent in full, or
/// abandoned): a slow server or a long download is not an idle connection.
struct Busy(Arc<Activity>);

impl Busy {
    fn start(activity: &Arc<Activity>) -> Busy {
        activity.busy.fetch_add(1, Ordering::Relaxed);
        Busy(activity.clone())
    }

    fn till_end_of(self, body: forward::ProxyBody) -> forward::ProxyBody {
        Tracked { body, _busy: self }.boxed_unsync()
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An answer's body that holds its request's [`Busy`].
struct Tracked {
    body: forward::ProxyBody,
    _busy: Busy,
}

impl hyper::body::Body for Tracked {
    type Data = Bytes;
    type Error = forward::BoxError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<std::result::Result<hyper::body::Frame<Bytes>, forward::BoxError>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

/// The client's socket, counting its reads for [`idle`].
struct Watched {
    io: tokio::net::TcpStream,
    activity: Arc<Activity>,
}

impl tokio::io::AsyncRead for Watched {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let polled = std::pin::Pin::new(&mut self.io).poll_read(cx, buf);
        if polled.is_ready() {
            // One writer (this connection's task): a load and a store, no locked add.
            let reads = &self.activity.reads;
            reads.store(reads.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
        }
        polled
    }
}

impl Watched {
    /// Notes whether a write waits for the client to read.
    fn wrote<T>(&self, polled: std::task::Poll<T>) -> std::task::Poll<T> {
        self.activity.writing.store(polled.is_pending(), Ordering::Relaxed);
        polled
    }
}

impl tokio::io::AsyncWrite for Watched {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let polled = std::pin::Pin::new(&mut self.io).poll_write(cx, buf);
        self.wrote(polled)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let polled = std::pin::Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.wrote(polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let polled = std::pin::Pin::new(&mut self.io).poll_flush(cx);
        self.wrote(polled)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// The request's body as it will be sent, and whether it can be sent twice.
enum Body {
    Replayable(Bytes),
    Streaming(Incoming),
}

impl Body {
    async fn read(headers: &HeaderMap, body: Incoming) -> std::result::Result<Body, Stop> {
        let declared: Option<u64> =
            headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
        let chunked = headers.contains_key(header::TRANSFER_ENCODING);
        match (declared, chunked) {
            (None | Some(0), false) => Ok(Body::Replayable(Bytes::new())),
            (Some(n), false) if n <= REPLAYABLE_BODY as u64 => {
                match Limited::new(body, REPLAYABLE_BODY).collect().await {
                    Ok(collected) => Ok(Body::Replayable(collected.to_bytes())),
                    Err(_) => Err(Stop(Refusal::BadRequest, "the request's body could not be read".into())),
                }
            }
            _ => Ok(Body::Streaming(body)),
        }
    }
}

async fn handle<V: Vault + 'static>(shared: &Shared<V>, own_user: bool, req: hyper::Request<Incoming>) -> Answer {
    if !own_user {
        return Refusal::Forbidden.answer("this proxy serves only the user who started it");
    }
    let (client, body) = req.into_parts();
    let target = &client.uri;
    let whole;
    let path = if target.scheme().is_none() && target.authority().is_none() {
        target.path()
    } else {
        whole = target.to_string();
        &whole
    };
    match shared.gate.check(&client.method, path, &client.headers) {
        Verdict::Refuse(reason) => Refusal::Forbidden.answer(reason),
        Verdict::NotAllowed(reason) => Refusal::MethodNotAllowed.answer(reason),
        Verdict::OpenLink => open_link(shared),
        Verdict::Forward { via, path } => {
            let mut answer = forward(shared, &client, body, via, path)
                .await
                .unwrap_or_else(|Stop(refusal, message)| refusal.answer(&message));
            if via == Via::Secret {
                // A page served under the secret path must not send its address (the secret)
                // to other sites as a Referer.
                answer.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
            }
            answer
        }
    }
}

/// Why the proxy answers itself instead of passing the server's answer on.
struct Stop(Refusal, String);

async fn forward<V: Vault + 'static>(
    shared: &Shared<V>,
    client: &hyper::http::request::Parts,
    body: Incoming,
    via: Via,
    path: &str,
) -> std::result::Result<Answer, Stop> {
    let Some(target) = upstream_target(&shared.base, path, client.uri.query()) else {
        return Err(Stop(Refusal::NotFound, "this path is outside the server's URL".into()));
    };
    let body = Body::read(&client.headers, body).await?;
    let client_failed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let credential = credential(shared, shared.credentials.current().await)?;
    let (replay, first) = match body {
        Body::Replayable(bytes) => (Some(bytes.clone()), forward::full_upstream(bytes)),
        Body::Streaming(incoming) => {
            let failed = client_failed.clone();
            let incoming = incoming.map_err(move |e| -> forward::BoxError {
                failed.store(true, std::sync::atomic::Ordering::Relaxed);
                e.into()
            });
            (None, incoming.boxed())
        }
    };
    let mut reply = send(shared, client, &target, &credential, first, replay.as_ref()).await.map_err(|stop| {
        // A body the client stopped sending, or sent malformed, is the client's fault.
        if client_failed.load(std::sync::atomic::Ordering::Relaxed) {
            Stop(Refusal::BadRequest, "the request's body could not be read".into())
        } else {
            stop
        }
    })?;
    if reply.status() == StatusCode::UNAUTHORIZED {
        let again = match shared.credentials.after_refusal(&credential).await {
            Ok(None) => None,
            read => Some(self::credential(shared, read)?),
        };
        let renewed = again.as_ref().is_some_and(|again| again.value != credential.value);
        match (replay, again) {
            (Some(bytes), Some(again)) if renewed => {
                let body = forward::full_upstream(bytes.clone());
                reply = send(shared, client, &target, &again, body, Some(&bytes)).await?;
            }
            // The body streamed and is gone; the next attempt gets the new credential.
            (None, _) if renewed => {
                return Err(Stop(
                    Refusal::Unavailable,
                    "the server refused a credential that has just been renewed: send the request again".into(),
                ));
            }
            _ => {}
        }
        if reply.status() == StatusCode::UNAUTHORIZED {
            let name = &shared.name;
            let noun = shared.server.auth.secret_noun();
            return Err(Stop(
                Refusal::LogInAgain,
                format!("the server refused the stored {noun} of \"{name}\": log in again (mlflow-login login {name})"),
            ));
        }
    }
    Ok(answer(shared, reply, &target, via, path))
}

/// The server's answer as the client gets it.
fn answer<V>(shared: &Shared<V>, mut reply: Answer, target: &str, via: Via, client_path: &str) -> Answer {
    let headers = reply.headers_mut();
    downstream_headers(headers);
    if let Some(location) = headers.get(header::LOCATION) {
        let asked = forward::target_url(&shared.base, target);
        match rewrite_location(location, &asked, &shared.base, via, client_path) {
            Some(v) => headers.insert(header::LOCATION, v),
            None => headers.remove(header::LOCATION),
        };
    }
    reply
}

/// One request to the server, with the client's headers as they go on and `credential`.
/// A kept-alive connection that the server had just closed makes an idempotent request
/// with a body at hand (`replay`) go once more.
async fn send<V>(
    shared: &Shared<V>,
    client: &hyper::http::request::Parts,
    target: &str,
    credential: &Header,
    body: UpstreamBody,
    replay: Option<&Bytes>,
) -> std::result::Result<Answer, Stop> {
    let attempt = |body, fresh| {
        let mut headers = upstream_headers(&client.headers);
        if let Some(workspace) = &shared.workspace {
            headers.entry(crate::workspaces::HEADER).or_insert_with(|| workspace.clone());
        }
        headers.entry(header::USER_AGENT).or_insert(HeaderValue::from_static(crate::http::USER_AGENT));
        headers.insert(header::AUTHORIZATION, credential.value.clone());
        shared.upstream.send(client.method.clone(), &shared.base, target.to_owned(), headers, body, fresh)
    };
    let failed = match attempt(body, false).await {
        Ok(answer) => return Ok(answer),
        Err(failed) => failed,
    };
    let failed = match replay {
        Some(bytes) if failed.stale && client.method.is_idempotent() => {
            match attempt(forward::full_upstream(bytes.clone()), true).await {
                Ok(answer) => return Ok(answer),
                Err(failed) => failed,
            }
        }
        _ => failed,
    };
    let detail = clean(&failed.detail, 300);
    Err(Stop(Refusal::BadGateway, format!("could not reach the server of \"{}\": {detail}", shared.name)))
}

/// A credential read, or why there is none.
fn credential<V>(shared: &Shared<V>, read: Result<Option<Header>>) -> std::result::Result<Header, Stop> {
    let name = &shared.name;
    match read {
        Ok(Some(h)) => Ok(h),
        Ok(None) => Err(Stop(
            Refusal::LogInAgain,
            format!(
                "no {} is stored for \"{name}\": log in again (mlflow-login login {name})",
                shared.server.auth.secret_noun()
            ),
        )),
        Err(e) => Err(match e.kind() {
            ErrorKind::LoginRequired => Stop(
                Refusal::LogInAgain,
                format!("the single sign-on session of \"{name}\" has ended: log in again (mlflow-login login {name})"),
            ),
            kind if kind.is_keychain() => Stop(
                Refusal::Unavailable,
                format!("the keychain did not give the credential of \"{name}\" ({e}): unlock it and try again"),
            ),
            ErrorKind::IdpUnreachable | ErrorKind::TimedOut => Stop(
                Refusal::Unavailable,
                format!("the single sign-on token of \"{name}\" could not be refreshed ({e}); try again"),
            ),
            _ => Stop(Refusal::BadGateway, format!("no credential for \"{name}\": {e}")),
        }),
    }
}

/// A one-time link: the browser gets its cookie and goes on to the server's UI.
fn open_link<V>(shared: &Shared<V>) -> Answer {
    let mut answer = hyper::Response::new(forward::full(Bytes::new()));
    *answer.status_mut() = StatusCode::SEE_OTHER;
    let home = format!("{}/", shared.base.path().trim_end_matches('/'));
    let headers = answer.headers_mut();
    if let (Ok(cookie), Ok(home)) = (HeaderValue::from_str(&shared.gate.set_cookie()), HeaderValue::from_str(&home)) {
        headers.insert(header::SET_COOKIE, cookie);
        headers.insert(header::LOCATION, home);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    answer
}
