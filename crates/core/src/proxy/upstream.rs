//! How the proxy reaches the server: HTTP/1.1 connections of its own (hyper's
//! `client::conn::http1`), kept alive in a small pool, over TCP and, for https, rustls
//! configured by [`crate::http::tls_config`] (the OS trust store with the server's CA
//! bundle added, its client certificate, its insecure flag: the TLS of every other request
//! core makes to the server). reqwest's client costs about twice the hop's instructions per
//! request (a redirect layer that parses every URI, a retry layer that copies every
//! request), so it forwards only where a system proxy (`HTTPS_PROXY` and the like) applies
//! to the server, which this client does not speak.
//!
//! The pool is one server's, so it needs no key: a stack of idle connections. A connection
//! goes back when the answer's body has ended (on the request's own task: no task is
//! spawned per request, as hyper-util's pool does), one that closed is dropped when found,
//! and one left idle for [`POOL_IDLE`] is closed by a sweeper that runs only while
//! connections are idle. A request that a pooled connection could not take before writing
//! anything (the server had just closed it) goes out once more on a new connection.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::BodyExt as _;
use http_body_util::combinators::BoxBody;
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HOST, HeaderValue};
use hyper::{Request, Uri};
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use reqwest::Method;
use reqwest::header::HeaderMap;
use tokio::net::TcpStream;
use tower_service::Service as _;
use url::{Position, Url};

use super::forward::{Answer, BoxError};
use crate::http::error_chain;
use crate::outcome::Outcome;
use crate::server::{Server, is_loopback};
use crate::text::clean;
use crate::verify::VerifyOptions;

/// A request body as sent: small ones in full (kept for a retry), large ones streamed.
pub(crate) type UpstreamBody = BoxBody<Bytes, BoxError>;

/// Why a request got no answer from the server.
#[derive(Debug)]
pub(crate) struct Failed {
    /// The transport's error, for the user.
    pub(crate) detail: String,
    /// A connection kept from an earlier request turned out closed by the server (its
    /// keep-alive time ran out as the request went): the server answered nothing, and an
    /// idempotent request may go again on a new connection, as browsers do.
    pub(crate) stale: bool,
}

impl From<String> for Failed {
    fn from(detail: String) -> Self {
        Failed { detail, stale: false }
    }
}

/// How long an idle connection to the server is kept for the next request (reqwest's
/// default, which the proxy used before).
const POOL_IDLE: Duration = Duration::from_secs(90);

/// The proxy's client for one server.
pub(crate) enum Upstream {
    Direct(Arc<Pool>),
    ThroughSystemProxy(reqwest::Client),
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Upstream::Direct(_) => "Upstream::Direct",
            Upstream::ThroughSystemProxy(_) => "Upstream::ThroughSystemProxy",
        })
    }
}

impl Upstream {
    /// The client for `server` (at `base`), with the connect timeout of `opts` and no
    /// overall timeout (artifacts of gigabytes stream through it).
    pub(crate) async fn new(server: &Server, base: &Url, opts: &VerifyOptions) -> Result<Upstream, Outcome> {
        let invalid = |e: &dyn std::fmt::Display| Outcome::InvalidUrl { detail: clean(&format!("{e}: {base}"), 300) };
        let uri: Uri = base.as_str().parse().map_err(|e: hyper::http::uri::InvalidUri| invalid(&e))?;
        // A server on this machine is never reached through a system proxy (as for every
        // other request core makes: see `crate::http::builder`).
        if !is_loopback(base) && Matcher::from_system().intercept(&uri).is_some() {
            let (client, _) = crate::http::server_client(server, opts).await?;
            return Ok(Upstream::ThroughSystemProxy(client));
        }
        let host = HeaderValue::from_str(&base[Position::BeforeHost..Position::AfterPort]).map_err(|e| invalid(&e))?;
        // Reading the TLS files and loading the OS trust store block: off the async threads.
        let (owned_server, owned_base) = (server.clone(), base.clone());
        let tls = match tokio::task::spawn_blocking(move || crate::http::tls_config(&owned_server, &owned_base)).await {
            Ok(tls) => tls?,
            Err(_) => crate::http::tls_config(server, base)?,
        };
        let mut tls = tls;
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        let connector = Connector { inner: HttpsConnector::from((tcp, Arc::new(tls))), limit: opts.connect_timeout };
        Ok(Upstream::Direct(Arc::new(Pool {
            connector,
            target: uri,
            host,
            idle: Mutex::new(Vec::new()),
            sweeping: std::sync::atomic::AtomicBool::new(false),
        })))
    }

    /// Sends one request for `target` (`/path?query`, under `base`); the answer's body
    /// streams. `fresh`: on a new connection, not a kept one.
    pub(crate) async fn send(
        &self,
        method: Method,
        base: &Url,
        target: String,
        headers: HeaderMap,
        body: UpstreamBody,
        fresh: bool,
    ) -> Result<Answer, Failed> {
        match self {
            Upstream::Direct(pool) => {
                // Origin form: the connection is the server's already.
                let target = Uri::try_from(target).map_err(|e| e.to_string())?;
                let mut request = Request::new(body);
                *request.method_mut() = method;
                *request.uri_mut() = target;
                *request.headers_mut() = headers;
                request.headers_mut().insert(HOST, pool.host.clone());
                pool.send(request, fresh).await
            }
            Upstream::ThroughSystemProxy(client) => {
                let reply = client
                    .request(method, super::forward::target_url(base, &target))
                    .headers(headers)
                    .body(reqwest::Body::wrap(body))
                    .send()
                    .await
                    .map_err(|e| std::error::Error::source(&e).map_or_else(|| e.to_string(), error_chain))?;
                let reply: hyper::Response<reqwest::Body> = reply.into();
                Ok(reply.map(|body| body.map_err(Into::into).boxed_unsync()))
            }
        }
    }
}

type Sender = SendRequest<UpstreamBody>;

/// One server's idle connections, newest last.
pub(crate) struct Pool {
    connector: Connector,
    /// The server's URL: the connector's destination.
    target: Uri,
    /// `Host` of every request: the server's authority, as the URL names it.
    host: HeaderValue,
    idle: Mutex<Vec<(Sender, Instant)>>,
    /// Whether the sweeper runs.
    sweeping: std::sync::atomic::AtomicBool,
}

impl Pool {
    async fn send(self: &Arc<Self>, request: Request<UpstreamBody>, fresh: bool) -> Result<Answer, Failed> {
        let kept = if fresh { None } else { self.checkout() };
        let (mut sender, pooled) = match kept {
            Some(sender) => (sender, true),
            None => (self.connect().await?, false),
        };
        let reply = match sender.try_send_request(request).await {
            Ok(reply) => reply,
            // A pooled connection that the server closed before the request went out:
            // nothing was sent, so the request goes once more on a connection of its own.
            Err(mut e) if pooled && e.message().is_some() => {
                let Some(request) = e.take_message() else { return Err(error_chain(e.error()).into()) };
                sender = self.connect().await?;
                sender.try_send_request(request).await.map_err(|e| error_chain(e.error()))?
            }
            Err(e) => {
                let error = e.into_error();
                let stale = pooled && (error.is_incomplete_message() || closed_under_us(&error));
                return Err(Failed { detail: error_chain(&error), stale });
            }
        };
        let (parts, body) = reply.into_parts();
        let body = Returning { body, back: Some((sender, self.clone())) };
        Ok(hyper::Response::from_parts(parts, body.boxed_unsync()))
    }

    /// The newest idle connection ready for a request, if any.
    fn checkout(&self) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        // One idle past its time is taken all the same: the sweeper has not come yet, and
        // a server that closed it makes the request go on a new connection.
        while let Some((sender, _)) = idle.pop() {
            if sender.is_ready() {
                return Some(sender);
            }
        }
        None
    }

    /// A new connection; its task runs until the server or the pool closes it.
    async fn connect(&self) -> Result<Sender, String> {
        let io = self.connector.clone().call(self.target.clone()).await.map_err(|e| error_chain(&*e))?;
        let (sender, connection) = hyper::client::conn::http1::handshake(io).await.map_err(|e| error_chain(&e))?;
        tokio::spawn(async move {
            // Its error is the request's, which reports it.
            let _ = connection.await;
        });
        Ok(sender)
    }

    /// A connection whose answer has ended goes back for the next request. One that is not
    /// ready yet (the request's body still streams to a server that answered early) goes
    /// back once it is.
    fn put_back(self: Arc<Self>, mut sender: Sender) {
        if sender.is_closed() {
            return;
        }
        if !sender.is_ready() {
            tokio::spawn(async move {
                if sender.ready().await.is_ok() {
                    self.keep(sender);
                }
            });
            return;
        }
        self.keep(sender);
    }

    fn keep(self: Arc<Self>, sender: Sender) {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).push((sender, Instant::now()));
        if !self.sweeping.swap(true, std::sync::atomic::Ordering::AcqRel) {
            tokio::spawn(sweep(Arc::downgrade(&self)));
        }
    }
}

/// A write or read that the server's closed socket refused.
fn closed_under_us(error: &hyper::Error) -> bool {
    use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset};
    std::error::Error::source(error)
        .and_then(|e| e.downcast_ref::<std::io::Error>())
        .is_some_and(|e| matches!(e.kind(), BrokenPipe | ConnectionReset | ConnectionAborted))
}

/// Closes connections idle for [`POOL_IDLE`]; ends when none is left idle, or with the pool.
async fn sweep(pool: Weak<Pool>) {
    loop {
        tokio::time::sleep(POOL_IDLE / 2).await;
        let Some(pool) = pool.upgrade() else { return };
        let mut idle = pool.idle.lock().unwrap_or_else(|e| e.into_inner());
        idle.retain(|(sender, since)| !sender.is_closed() && since.elapsed() < POOL_IDLE);
        if idle.is_empty() {
            pool.sweeping.store(false, std::sync::atomic::Ordering::Release);
            return;
        }
    }
}

/// An answer's body that gives its connection back to the pool once it has ended. A body
/// dropped before its end closes the connection (hyper's rule: a message half read leaves
/// nothing reusable).
struct Returning {
    body: Incoming,
    back: Option<(Sender, Arc<Pool>)>,
}

impl Returning {
    fn give_back(&mut self) {
        if let Some((sender, pool)) = self.back.take() {
            pool.put_back(sender);
        }
    }
}

impl Body for Returning {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        match &polled {
            Poll::Ready(None) => self.give_back(),
            Poll::Ready(Some(Ok(_))) if self.body.is_end_stream() => self.give_back(),
            _ => {}
        }
        polled.map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for Returning {
    fn drop(&mut self) {
        // An answer without a body (HEAD, 204, 304, `Content-Length: 0`) is never polled.
        if self.body.is_end_stream() {
            self.give_back();
        }
    }
}

/// TCP and, for https, TLS to the server, within one time limit for both (as reqwest's
/// connect timeout): a server that accepts and never finishes the handshake is a 502, not a
/// request that hangs.
#[derive(Clone)]
pub(crate) struct Connector {
    inner: HttpsConnector<HttpConnector>,
    limit: Duration,
}

type Connecting = Pin<Box<dyn Future<Output = Result<MaybeHttpsStream<TokioIo<TcpStream>>, BoxError>> + Send>>;

impl tower_service::Service<Uri> for Connector {
    type Response = MaybeHttpsStream<TokioIo<TcpStream>>;
    type Error = BoxError;
    type Future = Connecting;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, dst: Uri) -> Connecting {
        let connecting = self.inner.call(dst);
        let limit = self.limit;
        Box::pin(async move {
            match tokio::time::timeout(limit, connecting).await {
                Ok(connected) => connected,
                Err(_) => Err(Box::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no connection within {} s", limit.as_secs()),
                )) as BoxError),
            }
        })
    }
}
