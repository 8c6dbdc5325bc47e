//! The HTTP client every request to a server or its identity provider goes through: the
//! server's TLS settings (CA bundle added to the OS trust store, client certificate,
//! insecure flag), no redirect followed, the timeouts of [`VerifyOptions`], no system proxy
//! for a server on this machine; and transport errors as the [`Outcome`] a user reads.
//! The check (`crate::verify`), single sign-on (`crate::oidc`), team lists, the password
//! change, workspaces and the proxy share it, so a company CA bundle covers them all.

use std::io::Read as _;
use std::path::Path;
use std::time::Duration;

use std::sync::Arc;

use reqwest::{Client, ClientBuilder};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, ring};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use rustls_platform_verifier::Verifier;
use url::Url;
use zeroize::Zeroizing;

use crate::outcome::{Outcome, TlsFile, TlsFix, TlsProblem, UnreachableReason};
use crate::server::{Server, is_loopback};
use crate::text::clean;

pub(crate) const USER_AGENT: &str = concat!("mlflow-login/", env!("CARGO_PKG_VERSION"));

/// A CA bundle or client certificate larger than this is not one (and `/dev/zero` ends).
const MAX_TLS_FILE: u64 = 4 * 1024 * 1024;

/// A [`VerifyOptions::total_timeout`] that sets none: the proxy's client streams bodies
/// of gigabytes, which no whole-request limit fits.
pub(crate) const NO_TOTAL_TIMEOUT: Duration = Duration::MAX;

/// Timeouts and limits of one check.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// TCP + TLS connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout.
    pub total_timeout: Duration,
    /// At most this many body bytes are read.
    pub body_cap: usize,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self { connect_timeout: Duration::from_secs(5), total_timeout: Duration::from_secs(10), body_cap: 64 * 1024 }
    }
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

/// `base` with `suffix` appended to its path, and the query `query`.
pub(crate) fn endpoint(base: &Url, suffix: &str, query: Option<&str>) -> Url {
    let mut url = base.clone();
    let path = format!("{}{suffix}", base.path().trim_end_matches('/'));
    url.set_path(&path);
    url.set_query(query);
    url.set_fragment(None);
    url
}

pub(crate) fn base_url(url: &str) -> Result<Url, Outcome> {
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

fn ca_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, Outcome> {
    let bytes = read_tls_file(path, TlsFile::CaBundle)?;
    let bad = |detail: &str| Outcome::BadTlsFile {
        setting: TlsFile::CaBundle,
        path: clean(&path.display().to_string(), 300),
        detail: detail.into(),
    };
    match CertificateDer::pem_slice_iter(&bytes).collect::<Result<Vec<_>, _>>() {
        Ok(certs) if certs.is_empty() => {
            Err(bad("no certificate in it (a PEM file has -----BEGIN CERTIFICATE----- blocks)"))
        }
        Ok(certs) => Ok(certs),
        Err(_) => Err(bad("it is not a PEM certificate bundle")),
    }
}

/// A client certificate file: its certificate chain and its private key, both PEM.
fn identity(path: &Path) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), Outcome> {
    let bytes = Zeroizing::new(read_tls_file(path, TlsFile::ClientCert)?);
    let bad = |detail: &str| Outcome::BadTlsFile {
        setting: TlsFile::ClientCert,
        path: clean(&path.display().to_string(), 300),
        detail: detail.into(),
    };
    let unusable = || bad("it must hold a PEM certificate and its unencrypted private key");
    let certs = CertificateDer::pem_slice_iter(&bytes).collect::<Result<Vec<_>, _>>().map_err(|_| unusable())?;
    let key = PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| unusable())?;
    if certs.is_empty() {
        return Err(unusable());
    }
    Ok((certs, key))
}

/// The rustls configuration of a server's TLS settings, the one place they become one: the
/// OS trust store (rustls-platform-verifier, as reqwest uses it) with the server's CA
/// bundle added, not instead; its client certificate; with `insecure_tls`, any server
/// certificate (the handshake's signatures are still checked). ALPN is the caller's.
/// Every client of a server uses it: reqwest's, and the proxy's own. Blocking: it reads
/// the files and loads the trust store.
pub(crate) fn tls_config(server: &Server, base: &Url) -> Result<ClientConfig, Outcome> {
    install_ring();
    let provider = CryptoProvider::get_default().cloned().unwrap_or_else(|| Arc::new(ring::default_provider()));
    let certs = match &server.ca_bundle {
        Some(path) => ca_certs(path)?,
        None => Vec::new(),
    };
    let identity = match &server.client_cert {
        Some(path) => Some(identity(path)?),
        None => None,
    };
    let bad_file = |setting, path: &Option<std::path::PathBuf>, detail: String| Outcome::BadTlsFile {
        setting,
        path: path.as_deref().map(|p| clean(&p.display().to_string(), 300)).unwrap_or_default(),
        detail: clean(&detail, 300),
    };
    let versions = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| Outcome::ClientSetup { detail: clean(&e.to_string(), 300) })?;
    let verified = if server.insecure_tls {
        versions.dangerous().with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
    } else {
        let verifier = match Verifier::new_with_extra_roots(certs.iter().cloned(), provider.clone()) {
            Ok(verifier) => Arc::new(verifier),
            Err(e) if !certs.is_empty() && Verifier::new(provider.clone()).is_ok() => {
                return Err(bad_file(TlsFile::CaBundle, &server.ca_bundle, e.to_string()));
            }
            // No usable system trust store (a minimal container): a plain-http server needs none.
            Err(_) if base.scheme() == "http" => {
                let none = versions.with_root_certificates(rustls::RootCertStore::empty());
                return Ok(none.with_no_client_auth());
            }
            Err(e) => return Err(Outcome::ClientSetup { detail: clean(&e.to_string(), 300) }),
        };
        versions.dangerous().with_custom_certificate_verifier(verifier)
    };
    match identity {
        Some((chain, key)) => verified
            .with_client_auth_cert(chain, key)
            .map_err(|e| bad_file(TlsFile::ClientCert, &server.client_cert, e.to_string())),
        None => Ok(verified.with_no_client_auth()),
    }
}

/// `insecure_tls`: any certificate is taken as the server's, but the handshake's signatures
/// are checked with the provider's algorithms as usual.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// reqwest is built without a default provider (see the workspace Cargo.toml); it takes
/// the process default. An Err means one is installed already, which is as good.
fn install_ring() {
    static RING: std::sync::Once = std::sync::Once::new();
    RING.call_once(|| {
        let _ = ring::default_provider().install_default();
    });
}

pub(crate) fn builder(opts: &VerifyOptions, base: &Url) -> ClientBuilder {
    install_ring();
    let mut builder = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(opts.connect_timeout)
        .user_agent(USER_AGENT);
    if opts.total_timeout != NO_TOTAL_TIMEOUT {
        builder = builder.timeout(opts.total_timeout);
    }
    // A server on this machine is never reached through HTTP_PROXY / HTTPS_PROXY /
    // ALL_PROXY: over plain http the proxy would read the password, and it could not
    // reach this machine's loopback anyway. Remote servers keep the proxy.
    if is_loopback(base) { builder.no_proxy() } else { builder }
}

/// The client for a server: its TLS settings ([`tls_config`]) with HTTP/2 offered. Blocking.
fn client(server: &Server, opts: &VerifyOptions, base: &Url) -> Result<Client, Outcome> {
    let mut tls = tls_config(server, base)?;
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    builder(opts, base)
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(|e| Outcome::ClientSetup { detail: clean(&error_chain(&e), 300) })
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

/// A short `a: b: c` rendering of an error and its sources, without repeats.
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        // hyper-util's wrappers ("client error (Connect)") say nothing to a user.
        let noise = text.starts_with("client error (") && text.ends_with(')');
        if !text.is_empty() && !noise && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}
