//! The HTTP side of a check: the client (TLS settings per server), the request with its
//! credentials, the capped body read, and transport errors as outcomes.

use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderValue};
use reqwest::{Certificate, Client, ClientBuilder, Identity};
use url::Url;
use zeroize::Zeroizing;

use super::classify::{Asked, Reply};
use super::{Outcome, Sent, TlsFile, TlsFix, TlsProblem, UnreachableReason, VerifyOptions, error_chain};
use crate::secret::Secret;
use crate::server::{AuthKind, Server, is_loopback};
use crate::text::clean;

const USER_AGENT: &str = concat!("mlflow-login/", env!("CARGO_PKG_VERSION"));

/// A CA bundle or client certificate larger than this is not one (and `/dev/zero` ends).
const MAX_TLS_FILE: u64 = 4 * 1024 * 1024;

/// The credentials to send.
enum Auth<'a> {
    None,
    Basic { username: &'a str, password: &'a Secret },
    Bearer(HeaderValue),
}

/// A prepared check of one server: its client, tracking URL and credentials.
pub(crate) struct Check<'a> {
    client: Client,
    base: Url,
    auth: Auth<'a>,
    kind: AuthKind,
}

impl<'a> Check<'a> {
    /// Reads the TLS files and builds the client. Nothing is sent yet; a setting that
    /// cannot work comes back as its outcome.
    pub(crate) async fn new(
        server: &'a Server,
        secret: Option<&'a Secret>,
        opts: &VerifyOptions,
    ) -> Result<Self, Outcome> {
        let auth = auth(server, secret)?;
        let (client, base) = server_client(server, opts).await?;
        Ok(Check { client, base, auth, kind: server.auth })
    }

    /// The tracking URL.
    pub(crate) fn base(&self) -> &Url {
        &self.base
    }

    /// What a request carries.
    pub(crate) fn sent(&self) -> Sent {
        match self.auth {
            Auth::None => Sent::None,
            Auth::Basic { .. } => Sent::Basic,
            Auth::Bearer(_) => Sent::Bearer,
        }
    }

    /// What was asked, for classifying the answer to `url`.
    pub(crate) fn asked<'u>(&'u self, url: &'u Url) -> Asked<'u> {
        Asked { base: &self.base, url, sent: self.sent(), auth: self.kind }
    }

    /// `GET url` with the credentials; reads at most `cap` body bytes. Only URLs on the
    /// tracking URL's origin are ever passed here.
    pub(crate) async fn get(&self, url: &Url, timeout: Duration, cap: usize) -> Result<Reply, reqwest::Error> {
        debug_assert_eq!(url.origin(), self.base.origin(), "credentials go to the tracking URL's origin only");
        let request = self.client.get(url.clone()).header(ACCEPT, "application/json").timeout(timeout);
        let request = match &self.auth {
            Auth::None => request,
            // reqwest encodes `username:password` as UTF-8, then base64, and marks the
            // header sensitive.
            Auth::Basic { username, password } => request.basic_auth(username, Some(password.expose())),
            Auth::Bearer(value) => request.header(AUTHORIZATION, value.clone()),
        };
        let mut response = request.send().await?;
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = response.chunk().await? {
            let room = cap.saturating_sub(body.len());
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        let mut reply = Reply { status, headers, body, truncated };
        self.auth.scrub(&mut reply);
        Ok(reply)
    }
}

impl Auth<'_> {
    /// The forms of the credentials a server could send back: the password or token as
    /// sent, the Basic header's base64, and the password percent-encoded. Forms shorter
    /// than 4 bytes are left alone (they would blank out ordinary text, and show nothing).
    fn echoes(&self) -> Vec<Vec<u8>> {
        let mut forms = match self {
            Auth::None => Vec::new(),
            Auth::Basic { username, password } => {
                let pair = format!("{username}:{}", password.expose());
                vec![
                    password.expose().as_bytes().to_vec(),
                    crate::text::base64(pair.as_bytes()).into_bytes(),
                    url::form_urlencoded::byte_serialize(password.expose().as_bytes()).collect::<String>().into_bytes(),
                ]
            }
            Auth::Bearer(value) => {
                let token = value.as_bytes().strip_prefix(b"Bearer ").unwrap_or(value.as_bytes());
                vec![token.to_vec()]
            }
        };
        forms.retain(|f| f.len() >= 4);
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        forms
    }

    /// Replaces every echo of the credentials in the reply's headers and body, before
    /// anything classifies or shows it: a hostile or careless server that puts the
    /// password into a `Location`, a realm or an error page never gets it on screen.
    fn scrub(&self, reply: &mut Reply) {
        let forms = self.echoes();
        if forms.is_empty() {
            return;
        }
        if let Some(body) = scrubbed(&reply.body, &forms) {
            reply.body = body;
        }
        for value in reply.headers.values_mut() {
            if let Some(clean) = scrubbed(value.as_bytes(), &forms)
                && let Ok(v) = HeaderValue::from_bytes(&clean)
            {
                *value = v;
            }
        }
    }
}

/// `bytes` with every occurrence of each form replaced by `[REDACTED]`; `None` when none
/// occurs.
fn scrubbed(bytes: &[u8], forms: &[Vec<u8>]) -> Option<Vec<u8>> {
    let mut out = bytes.to_vec();
    let mut changed = false;
    for form in forms {
        let mut i = 0;
        let mut next = Vec::with_capacity(out.len());
        while i < out.len() {
            if out[i..].starts_with(form) {
                next.extend_from_slice(b"[REDACTED]");
                i += form.len();
                changed = true;
            } else {
                next.push(out[i]);
                i += 1;
            }
        }
        out = next;
    }
    changed.then_some(out)
}

/// The HTTP client for a server (its TLS settings, no redirects followed, the timeouts of
/// `opts`) and its parsed tracking URL. The single sign-on client (`crate::oidc`) talks to
/// the identity provider through the same client, so a company CA bundle covers both.
pub(crate) async fn server_client(server: &Server, opts: &VerifyOptions) -> Result<(Client, Url), Outcome> {
    let base = base_url(&server.url)?;
    // Reading the TLS files and loading the OS trust store is blocking work (about
    // 10 ms, more in debug builds): off the async threads, so that concurrent checks
    // overlap and a tray's event loop never stalls.
    let (owned_server, owned_opts, owned_base) = (server.clone(), opts.clone(), base.clone());
    let client = match tokio::task::spawn_blocking(move || client(&owned_server, &owned_opts, &owned_base)).await {
        Ok(client) => client?,
        // The runtime is shutting down: do the work here instead.
        Err(_) => client(server, opts, &base)?,
    };
    Ok((client, base))
}

fn auth<'a>(server: &'a Server, secret: Option<&'a Secret>) -> Result<Auth<'a>, Outcome> {
    Ok(match (server.auth, secret, server.username.as_deref()) {
        (_, None, _) | (AuthKind::Basic, _, None) => Auth::None,
        (AuthKind::Basic, Some(password), Some(username)) => Auth::Basic { username, password },
        // Single sign-on: the caller passes the (fresh) access token.
        (AuthKind::Bearer | AuthKind::Sso, Some(token), _) => {
            let text = Zeroizing::new(format!("Bearer {}", token.expose()));
            let mut value = HeaderValue::from_str(&text).map_err(|_| Outcome::UnusableSecret {
                detail: "it holds a character an HTTP header cannot carry (a line break or control character)".into(),
            })?;
            value.set_sensitive(true);
            Auth::Bearer(value)
        }
    })
}

/// `base` with `suffix` appended to its path, and the query `query`.
pub(crate) fn endpoint(base: &Url, suffix: &str, query: Option<&str>) -> Url {
    let mut url = base.clone();
    let path = format!("{}{suffix}", base.path().trim_end_matches('/'));
    url.set_path(&path);
    url.set_query(query);
    url.set_fragment(None);
    url
}

fn base_url(url: &str) -> Result<Url, Outcome> {
    let invalid = |detail: String| Outcome::InvalidUrl { detail: clean(&detail, 300) };
    let parsed = Url::parse(url).map_err(|e| invalid(format!("{e}: {url}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(format!("it must start with https:// or http://, not {}://", parsed.scheme())));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid(format!("it has no host: {url}")));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid("it contains credentials (user:password@host)".into()));
    }
    Ok(parsed)
}

fn read_tls_file(path: &Path, setting: TlsFile) -> Result<Vec<u8>, Outcome> {
    let bad = |detail: String| Outcome::BadTlsFile {
        setting,
        path: clean(&path.display().to_string(), 300),
        detail: clean(&detail, 300),
    };
    let file = std::fs::File::open(path).map_err(|e| {
        bad(match e.kind() {
            std::io::ErrorKind::NotFound => "the file does not exist".into(),
            std::io::ErrorKind::PermissionDenied => "permission denied".into(),
            _ => e.to_string(),
        })
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_TLS_FILE + 1).read_to_end(&mut bytes).map_err(|e| bad(e.to_string()))?;
    if bytes.len() as u64 > MAX_TLS_FILE {
        return Err(bad(format!("the file is larger than {} MiB: not a certificate file", MAX_TLS_FILE >> 20)));
    }
    Ok(bytes)
}

fn ca_certs(path: &Path) -> Result<Vec<Certificate>, Outcome> {
    let bytes = read_tls_file(path, TlsFile::CaBundle)?;
    let bad = |detail: &str| Outcome::BadTlsFile {
        setting: TlsFile::CaBundle,
        path: clean(&path.display().to_string(), 300),
        detail: detail.into(),
    };
    match Certificate::from_pem_bundle(&bytes) {
        Ok(certs) if certs.is_empty() => {
            Err(bad("no certificate in it (a PEM file has -----BEGIN CERTIFICATE----- blocks)"))
        }
        Ok(certs) => Ok(certs),
        Err(_) => Err(bad("it is not a PEM certificate bundle")),
    }
}

fn identity(path: &Path) -> Result<Identity, Outcome> {
    let bytes = Zeroizing::new(read_tls_file(path, TlsFile::ClientCert)?);
    Identity::from_pem(&bytes).map_err(|_| Outcome::BadTlsFile {
        setting: TlsFile::ClientCert,
        path: clean(&path.display().to_string(), 300),
        detail: "it must hold a PEM certificate and its unencrypted private key".into(),
    })
}

pub(crate) fn builder(opts: &VerifyOptions, base: &Url) -> ClientBuilder {
    // reqwest is built without a default provider (see the workspace Cargo.toml); it takes
    // the process default. An Err means one is installed already, which is as good.
    static RING: std::sync::Once = std::sync::Once::new();
    RING.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    let mut builder = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(opts.connect_timeout)
        .user_agent(USER_AGENT);
    if opts.total_timeout != super::NO_TOTAL_TIMEOUT {
        builder = builder.timeout(opts.total_timeout);
    }
    // A server on this machine is never reached through HTTP_PROXY / HTTPS_PROXY /
    // ALL_PROXY: over plain http the proxy would read the password, and it could not
    // reach this machine's loopback anyway. Remote servers keep the proxy.
    if is_loopback(base) { builder.no_proxy() } else { builder }
}

fn build(
    server: &Server,
    opts: &VerifyOptions,
    base: &Url,
    certs: &[Certificate],
    identity: Option<&Identity>,
) -> reqwest::Result<Client> {
    let mut builder = builder(opts, base);
    if server.insecure_tls {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    if !certs.is_empty() {
        // Added to the OS trust store (rustls-platform-verifier), not instead of it.
        builder = builder.tls_certs_merge(certs.iter().cloned());
    }
    if let Some(identity) = identity {
        builder = builder.identity(identity.clone());
    }
    builder.build()
}

/// Reads the TLS files and builds the client; on failure, finds the setting at fault by
/// leaving settings out. Blocking.
fn client(server: &Server, opts: &VerifyOptions, base: &Url) -> Result<Client, Outcome> {
    let certs = match &server.ca_bundle {
        Some(path) => ca_certs(path)?,
        None => Vec::new(),
    };
    let identity = match &server.client_cert {
        Some(path) => Some(identity(path)?),
        None => None,
    };
    let err = match build(server, opts, base, &certs, identity.as_ref()) {
        Ok(client) => return Ok(client),
        Err(err) => err,
    };
    let detail = clean(&error_chain(&err), 300);
    let bad_file = |setting, path: &Option<std::path::PathBuf>| Outcome::BadTlsFile {
        setting,
        path: path.as_deref().map(|p| clean(&p.display().to_string(), 300)).unwrap_or_default(),
        detail: detail.clone(),
    };
    if identity.is_some() && build(server, opts, base, &certs, None).is_ok() {
        return Err(bad_file(TlsFile::ClientCert, &server.client_cert));
    }
    if !certs.is_empty() && build(server, opts, base, &[], None).is_ok() {
        return Err(bad_file(TlsFile::CaBundle, &server.ca_bundle));
    }
    if base.scheme() == "http" {
        // No usable system trust store (a minimal container): a plain-http check needs none.
        if let Ok(client) = builder(opts, base).tls_certs_only(Vec::new()).build() {
            return Ok(client);
        }
    }
    Err(Outcome::ClientSetup { detail })
}

/// A transport error as an outcome: TLS first (its errors are also connect errors), then
/// timeout, refused, DNS, other connect errors, and the rest (a broken answer).
pub(crate) fn classify_error(err: &reqwest::Error, url: &Url) -> Outcome {
    // The top-level message only repeats the URL; the sources say what happened.
    let chain = match std::error::Error::source(err) {
        Some(source) => error_chain(source),
        None => err.to_string(),
    };
    let detail = clean(&chain, 300);
    let lower = chain.to_lowercase();
    if let Some(problem) = tls_problem(&lower) {
        let (fix, suggested_url) = match problem {
            TlsProblem::UnknownIssuer => (TlsFix::CaBundle, None),
            TlsProblem::NameMismatch => (TlsFix::HostName, None),
            TlsProblem::ClientCertificate => (TlsFix::ClientCert, None),
            // Not suggested as a URL: the fix may as well be the port, and http is unencrypted.
            TlsProblem::NotTls => (TlsFix::UseHttp, None),
            TlsProblem::PlainHttpToHttpsPort => (TlsFix::UseHttps, None),
            TlsProblem::Expired | TlsProblem::Other => (TlsFix::Admin, None),
        };
        return Outcome::Tls { problem, fix, suggested_url, detail };
    }
    let unreachable = |reason| Outcome::Unreachable { reason, detail: detail.clone() };
    if err.is_timeout() || has_io_error(err, std::io::ErrorKind::TimedOut) {
        return unreachable(UnreachableReason::Timeout);
    }
    if has_io_error(err, std::io::ErrorKind::ConnectionRefused) {
        return unreachable(UnreachableReason::Refused);
    }
    let dns = [
        "dns error",
        "failed to lookup address",
        "name or service not known",
        "temporary failure in name resolution",
        "no address associated",
        "nodename nor servname",
        "no such host",
    ];
    if dns.iter().any(|d| lower.contains(d)) {
        return unreachable(UnreachableReason::Dns);
    }
    if err.is_connect() {
        return unreachable(UnreachableReason::Other);
    }
    if err.is_builder() {
        return Outcome::InvalidUrl { detail: clean(&format!("{chain} ({url})"), 300) };
    }
    Outcome::InvalidResponse { detail }
}

fn has_io_error(err: &reqwest::Error, kind: std::io::ErrorKind) -> bool {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == kind) {
            return true;
        }
        current = e.source();
    }
    false
}

/// rustls' error texts (its `Display`; the types are not reachable through reqwest).
fn tls_problem(lower: &str) -> Option<TlsProblem> {
    let any = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    if lower.contains("invalid peer certificate") {
        return Some(if any(&["unknownissuer", "unknown issuer"]) {
            TlsProblem::UnknownIssuer
        } else if any(&["expired", "not valid yet", "notvalidyet"]) {
            TlsProblem::Expired
        } else if any(&["not valid for name", "notvalidforname"]) {
            TlsProblem::NameMismatch
        } else {
            TlsProblem::Other
        });
    }
    if lower.contains("no ca certificates were loaded") {
        return Some(TlsProblem::UnknownIssuer);
    }
    // A plain-HTTP server's answer read as a TLS record.
    if any(&["invalidcontenttype", "received corrupt message", "peer sent oversized record"]) {
        return Some(TlsProblem::NotTls);
    }
    if lower.contains("received fatal alert") {
        return Some(
            if any(&["certificaterequired", "badcertificate", "unknownca", "certificateunknown", "accessdenied"]) {
                TlsProblem::ClientCertificate
            } else {
                TlsProblem::Other
            },
        );
    }
    if any(&["peer is incompatible", "peer misbehaved", "tls handshake eof", "handshake not complete"]) {
        return Some(TlsProblem::Other);
    }
    None
}
