//! How the proxy reaches the server: hyper's own pooled HTTP/1.1 client, over TCP and, for
//! https, rustls configured by [`crate::http::tls_config`] (the OS trust store with the
//! server's CA bundle added, its client certificate, its insecure flag: the TLS of every
//! other request core makes to the server). reqwest's client costs about twice the hop's
//! instructions per request (a redirect layer that parses every URI, a retry layer that
//! copies every request), so it forwards only where a system proxy (`HTTPS_PROXY` and the
//! like) applies to the server, which hyper's client does not speak.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt as _;
use http_body_util::combinators::BoxBody;
use hyper::Uri;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use reqwest::Method;
use reqwest::header::HeaderMap;
use tokio::net::TcpStream;
use url::Url;

use super::forward::{Answer, BoxError};
use crate::http::error_chain;
use crate::outcome::Outcome;
use crate::server::{Server, is_loopback};
use crate::text::clean;
use crate::verify::VerifyOptions;

/// A request body as sent: small ones in full (kept for a retry), large ones streamed.
pub(crate) type UpstreamBody = BoxBody<Bytes, BoxError>;

/// How long an idle connection to the server is kept for the next request (reqwest's
/// default, which the proxy used before).
const POOL_IDLE: Duration = Duration::from_secs(90);

/// The proxy's client for one server.
pub(crate) enum Upstream {
    Direct(Box<Client<Connector, UpstreamBody>>),
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
        let uri: Uri = base.as_str().parse().map_err(|e: hyper::http::uri::InvalidUri| Outcome::InvalidUrl {
            detail: clean(&format!("{e}: {base}"), 300),
        })?;
        // A server on this machine is never reached through a system proxy (as for every
        // other request core makes: see `crate::http::builder`).
        if !is_loopback(base) && Matcher::from_system().intercept(&uri).is_some() {
            let (client, _) = crate::http::server_client(server, opts).await?;
            return Ok(Upstream::ThroughSystemProxy(client));
        }
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
        let client = Client::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(POOL_IDLE)
            .build(connector);
        Ok(Upstream::Direct(Box::new(client)))
    }

    /// Sends one request; the answer's body streams. `Err` is the transport error, for the
    /// user.
    pub(crate) async fn send(
        &self,
        method: Method,
        url: &Url,
        headers: HeaderMap,
        body: UpstreamBody,
    ) -> Result<Answer, String> {
        match self {
            Upstream::Direct(client) => {
                let uri: Uri = url.as_str().parse().map_err(|e: hyper::http::uri::InvalidUri| e.to_string())?;
                let mut request = hyper::Request::new(body);
                *request.method_mut() = method;
                *request.uri_mut() = uri;
                *request.headers_mut() = headers;
                let reply = client.request(request).await.map_err(|e| error_chain(&e))?;
                Ok(reply.map(|body| body.map_err(Into::into).boxed_unsync()))
            }
            Upstream::ThroughSystemProxy(client) => {
                let reply = client
                    .request(method, url.clone())
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
