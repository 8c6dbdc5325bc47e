//! The HTTP client the OAuth 2 / OIDC crates call: our reqwest 0.13 client behind their
//! [`AsyncHttpClient`] trait (their own reqwest support is 0.12, see the workspace
//! Cargo.toml). Redirects are never followed, bodies are capped, and no credential of the
//! MLflow server is ever attached: only what the crates put in a request is sent.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::http::{self, HeaderValue, header};
use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};
use url::Url;

use crate::error::{Error, Result};
use crate::http::{classify_error, server_client};
use crate::server::Server;
use crate::text::clean;
use crate::verify::VerifyOptions;

/// The most an answer of the identity provider may hold (metadata, keys, tokens).
const BODY_CAP: usize = 1024 * 1024;

/// Why a request got no answer, safe to print (never a token: requests are not shown).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{url}: {detail}")]
pub(crate) struct HttpError {
    pub(crate) url: String,
    pub(crate) detail: String,
}

impl From<HttpError> for Error {
    fn from(e: HttpError) -> Self {
        Error::IdpUnreachable { url: e.url, detail: e.detail }
    }
}

type Reply = Pin<Box<dyn Future<Output = std::result::Result<HttpResponse, HttpError>> + Send>>;

/// A transport for tests: canned answers instead of the network.
#[cfg(test)]
pub(crate) type Fake = dyn Fn(HttpRequest) -> std::result::Result<HttpResponse, HttpError> + Send + Sync;

/// The client. Cheap to clone (clones share [`Http::last_error`]).
#[derive(Clone)]
pub(crate) struct Http {
    client: Option<Clients>,
    /// Requests read the MLflow server, not the identity provider ([`Http::for_resource`]).
    resource: bool,
    /// The transport error of the latest request, cleared by any answer: the device
    /// flow's polling backs off on errors without saying so (`oauth2`), and a wait that
    /// ends should say "unreachable", not "timed out", when that is why.
    last_error: std::sync::Arc<std::sync::Mutex<Option<HttpError>>>,
    #[cfg(test)]
    fake: Option<std::sync::Arc<Fake>>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Http")
    }
}

/// The clients of one login or refresh. The identity-provider client is never insecure:
/// the MLflow server's "insecure TLS" flag applies only to reading the server itself (its
/// API probe and its RFC 9728 metadata, which carry no credential), so an `--insecure-tls`
/// server never lets an authorization code, a password typed at the IdP or a refresh token
/// cross an unchecked connection, not even to an identity provider on the server's origin.
/// The server's client certificate is sent on its origin only; the CA bundle everywhere (a
/// company CA often signs both). A loopback identity provider is never reached through a
/// proxy, whatever the server is.
#[derive(Clone)]
struct Clients {
    server_origin: url::Origin,
    /// The server's own settings: only for [`Http::for_resource`] requests.
    resource: reqwest::Client,
    /// The server's origin as an identity provider: its settings without "insecure".
    server: reqwest::Client,
    idp: reqwest::Client,
    idp_loopback: reqwest::Client,
}

impl Clients {
    fn for_url(&self, url: &Url, resource: bool) -> &reqwest::Client {
        if url.origin() == self.server_origin {
            if resource { &self.resource } else { &self.server }
        } else if crate::server::is_loopback(url) {
            &self.idp_loopback
        } else {
            &self.idp
        }
    }
}

impl Http {
    /// The clients for `server` (see [`Clients`]), built the way the verifier builds its own.
    pub(crate) async fn for_server(server: &Server, timeout: Duration) -> Result<Self> {
        let opts = VerifyOptions { total_timeout: timeout, ..VerifyOptions::default() };
        let build = |s: Server| {
            let opts = opts.clone();
            async move {
                server_client(&s, &opts)
                    .await
                    .map_err(|outcome| Error::invalid(outcome.field().unwrap_or("url"), outcome.summary()))
            }
        };
        let (resource, base) = build(server.clone()).await?;
        let (server_side, _) = build(Server { insecure_tls: false, ..server.clone() }).await?;
        let idp_settings = Server { insecure_tls: false, client_cert: None, ..server.clone() };
        // The proxy choice of the verifier's client follows the URL it is built for.
        let (idp, _) = build(Server { url: "https://idp.invalid".into(), ..idp_settings.clone() }).await?;
        let (idp_loopback, _) = build(Server { url: "http://127.0.0.1".into(), ..idp_settings }).await?;
        Ok(Self {
            client: Some(Clients { server_origin: base.origin(), resource, server: server_side, idp, idp_loopback }),
            resource: false,
            last_error: Default::default(),
            #[cfg(test)]
            fake: None,
        })
    }

    /// A client whose every request is answered by `fake`.
    #[cfg(test)]
    pub(crate) fn fake(
        fake: impl Fn(HttpRequest) -> std::result::Result<HttpResponse, HttpError> + Send + Sync + 'static,
    ) -> Self {
        Self { client: None, resource: false, last_error: Default::default(), fake: Some(std::sync::Arc::new(fake)) }
    }

    /// The same clients, for reading the MLflow server (its probe and its RFC 9728
    /// metadata) with its own TLS settings, "insecure" included.
    pub(crate) fn for_resource(&self) -> Self {
        Self { resource: true, ..self.clone() }
    }

    /// `GET url` asking for JSON; no credentials.
    pub(crate) async fn get(&self, url: &Url) -> std::result::Result<HttpResponse, HttpError> {
        let request = http::Request::builder()
            .method(http::Method::GET)
            .uri(url.as_str())
            .header(header::ACCEPT, HeaderValue::from_static("application/json"))
            .body(Vec::new())
            .map_err(|e| HttpError { url: url.to_string(), detail: e.to_string() })?;
        self.send(request).await
    }

    /// The transport error of the latest request, if it failed.
    pub(crate) fn last_error(&self) -> Option<HttpError> {
        self.last_error.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Sends one request; reads at most [`BODY_CAP`] bytes of the answer.
    pub(crate) fn send(&self, request: HttpRequest) -> Reply {
        let reply = self.exchange(request);
        let last_error = self.last_error.clone();
        Box::pin(async move {
            let reply = reply.await;
            *last_error.lock().unwrap_or_else(|e| e.into_inner()) = reply.as_ref().err().cloned();
            reply
        })
    }

    fn exchange(&self, request: HttpRequest) -> Reply {
        let url = request.uri().to_string();
        #[cfg(test)]
        if let Some(fake) = &self.fake {
            let reply = fake(request);
            return Box::pin(async move { reply });
        }
        let client = match (&self.client, Url::parse(&url)) {
            (Some(clients), Ok(parsed)) => clients.for_url(&parsed, self.resource).clone(),
            (Some(_), Err(e)) => return Box::pin(async move { Err(HttpError { url, detail: e.to_string() }) }),
            (None, _) => return Box::pin(async move { Err(HttpError { url, detail: "no HTTP client".into() }) }),
        };
        Box::pin(async move {
            let fail = |detail: String| HttpError { url: url.clone(), detail: clean(&detail, 300) };
            let request = reqwest::Request::try_from(request).map_err(|e| fail(e.to_string()))?;
            let parsed = request.url().clone();
            let transport = |e: reqwest::Error| fail(classify_error(&e, &parsed).summary());
            let mut response = client.execute(request).await.map_err(transport)?;
            let mut builder = http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(transport)? {
                if body.len() + chunk.len() > BODY_CAP {
                    return Err(fail(format!("the answer is larger than {} KiB", BODY_CAP / 1024)));
                }
                body.extend_from_slice(&chunk);
            }
            builder.body(body).map_err(|e| fail(e.to_string()))
        })
    }
}

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Reply;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        self.send(request)
    }
}

/// A response with `status`, a JSON content type and `body`, for tests.
#[cfg(test)]
pub(crate) fn json_reply(status: u16, body: &str) -> HttpResponse {
    http::Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.as_bytes().to_vec())
        .expect("a valid response")
}
