//! The verifier: one HTTP request that tells whether a server accepts the credentials.
//!
//! [`verify`] sends `GET {url}/api/2.0/mlflow/experiments/search?max_results=1` with the
//! server's credentials (Basic or Bearer), `Accept: application/json`, no redirect followed
//! and no retry, within the connect and total timeouts of [`VerifyOptions`], and reads at
//! most `body_cap` bytes of the answer. The answer (or the transport error) is classified
//! into an [`Outcome`] that says what happened in a data scientist's words, what to do,
//! and which login-form field to fix (PRODUCT.md, "Verification"). The classification
//! knows what MLflow itself answers (its basic-auth app's 401 and 403 bodies, its host
//! check's 403) so it can tell MLflow from the proxy in front of it.
//!
//! Follow-up requests go only to the configured URL's origin, never with a downgraded
//! scheme: after a success, `{url}/version` (the server version) and `{url}/api/2.0/mlflow/
//! users/current` (the identity the server sees, [`Identity`]) at once, so they add one
//! round trip; after MLflow's own 403, the identity alone (it tells a user without
//! permission from a wrong path); after a 404, the same API one path level up or down
//! (`/mlflow`) to suggest a URL. A follow-up never changes a verdict to worse.
//!
//! Without a secret no `Authorization` header is sent; the check still runs, which tests
//! the URL, and a 401 then says that no password was sent ([`Sent::None`]).
//!
//! Each call builds its own HTTP client (with the server's CA bundle, client certificate
//! and insecure flag) on tokio's blocking pool, since loading the OS trust store is
//! blocking work; concurrent checks of several servers share nothing and take about the
//! time of the slowest. The OS trust store is used through rustls-platform-verifier, with
//! the CA bundle added to it; the system proxy (`HTTPS_PROXY`, `NO_PROXY`) is honoured.
//! Must run inside a tokio runtime (as reqwest does).
//!
//! Server-supplied text that ends up in an outcome (realm, redirect target, error details)
//! is stripped of control characters and shortened, so it is safe to print. No outcome
//! holds the password or the `Authorization` header.

pub(crate) mod classify;
pub(crate) mod identity;
pub(crate) mod transport;

pub use identity::Identity;

// The HTTP client base (rustls provider, timeouts, user agent) for other fetches (team lists).
pub(crate) use transport::builder as http_builder;

#[cfg(test)]
mod tests;

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::secret::Secret;
use crate::server::Server;

/// The API path every MLflow 2.x and 3.x server serves, read-only.
pub(crate) const API_PATH: &str = "/api/2.0/mlflow/experiments/search";

/// Longest wait for each best-effort follow-up request (`/version`, the 404 probe).
const FOLLOW_UP_TIMEOUT: Duration = Duration::from_secs(3);

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

/// How an outcome counts for exit codes and icons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum OutcomeClass {
    /// Signed in.
    Ok,
    /// The server refused these credentials (CLI exit 3).
    Refused,
    /// The server could not be checked (CLI exit 4).
    Unchecked,
}

/// The result of one check.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// What happened.
    pub outcome: Outcome,
    /// Time to the response (or failure), in milliseconds.
    pub latency_ms: u64,
    /// The server's MLflow version, from `/version`, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// The account the server says the credentials belong to, when it has an API for it
    /// (MLflow's basic-auth app, mlflow-oidc-auth).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
}

impl Verification {
    /// A verification without follow-up facts.
    pub fn new(outcome: Outcome, latency_ms: u64) -> Self {
        Self { outcome, latency_ms, server_version: None, identity: None }
    }

    /// How the outcome counts (shorthand for `self.outcome.class()`).
    pub fn class(&self) -> OutcomeClass {
        self.outcome.class()
    }
}

/// What one check found. Serialises as `{ "kind": "...", ...fields }`.
///
/// Every variant's data is already safe to show (no secret, no control characters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// 200 with a JSON object: signed in.
    Ok,
    /// 401 with a Basic challenge: wrong username or password (or none sent). Also a
    /// bearer token refused with a Bearer challenge. Caller: ask for the password again.
    BadCredentials {
        /// Who refused: the proxy in front of MLflow, MLflow's auth app, or (tokens) the server.
        refused_by: RefusedBy,
        /// The challenge's realm, e.g. `MLflow proxy` (nginx `auth_basic "MLflow proxy"`).
        realm: Option<String>,
        /// What the request carried.
        sent: Sent,
    },
    /// 401 without a Basic challenge (Bearer, Negotiate, none): this server wants another
    /// kind of login. Caller: show the scheme; a password will not help.
    OtherAuthScheme {
        /// The first challenge's scheme (`Bearer`, `Negotiate`), if the server named one.
        scheme: Option<String>,
    },
    /// 403. Caller: show the reason; retyping the password will not help.
    Forbidden {
        /// Who refused and why.
        reason: ForbiddenReason,
    },
    /// The URL answers, but not as MLflow's API: a 200 that is not a JSON object (an SSO
    /// page), or a redirect that is not "use https". Caller: point at the URL field.
    NotMlflow {
        /// The HTTP status.
        status: u16,
        /// The redirect target, resolved against the request URL, for a 3xx.
        location: Option<String>,
        /// A tracking URL to try instead, when the redirect target is MLflow's API path
        /// elsewhere.
        suggested_url: Option<String>,
        /// What the answer looked like.
        looks_like: LooksLike,
    },
    /// A plain-http URL redirects to https on the same host. Caller: offer `suggested_url`.
    UseHttps {
        /// The redirect target, resolved against the request URL.
        location: String,
        /// The tracking URL to use instead.
        suggested_url: String,
    },
    /// 404: nothing MLflow at this path. Caller: point at the URL field.
    WrongPath {
        /// A tracking URL on the same server where MLflow's API answered, if one was found.
        suggested_url: Option<String>,
    },
    /// 502, 503 or 504: the proxy answered but MLflow behind it did not (with nginx, the
    /// password was accepted). Caller: report; try again later.
    ServerDown {
        /// The HTTP status.
        status: u16,
    },
    /// The server could not be reached at all. Caller: show which of the reasons.
    Unreachable {
        /// DNS failure, connection refused, timeout, or something else.
        reason: UnreachableReason,
        /// The underlying error, for the details line.
        detail: String,
    },
    /// TLS failed, or plain http reached an https port. Caller: point at the field `fix` names.
    Tls {
        /// What failed.
        problem: TlsProblem,
        /// The setting that fixes it.
        fix: TlsFix,
        /// The URL to use instead, when the fix is switching between `http` and `https`.
        suggested_url: Option<String>,
        /// The underlying error or answer, for the details line.
        detail: String,
    },
    /// The server answered something that is not valid HTTP (or closed the connection
    /// without answering). Caller: point at the URL (an https server behind `http://`?).
    InvalidResponse {
        /// The underlying error.
        detail: String,
    },
    /// Any other status (400, 407, 429, 500, ...). Caller: report the status.
    UnexpectedStatus {
        /// The HTTP status.
        status: u16,
    },
    /// The CA bundle or client-certificate file cannot be read or holds no usable PEM.
    /// Caller: point at that field. Nothing was sent.
    BadTlsFile {
        /// Which setting names the file.
        setting: TlsFile,
        /// The file.
        path: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The stored token cannot be carried in an HTTP header (e.g. a line break).
    /// Caller: ask for the token again. Nothing was sent.
    UnusableSecret {
        /// What is wrong with it (never the secret itself).
        detail: String,
    },
    /// The server's URL cannot be used (only for hand-edited configs that skipped
    /// validation). Caller: point at the URL field. Nothing was sent.
    InvalidUrl {
        /// What is wrong with it.
        detail: String,
    },
    /// The HTTP client could not be set up, e.g. no CA certificates on this system.
    /// Caller: report it. Nothing was sent.
    ClientSetup {
        /// The underlying error.
        detail: String,
    },
    /// Single sign-on: the identity provider refused to refresh the token (the session was
    /// ended, revoked, or the user disabled). Caller: ask for a new login. Nothing was sent
    /// to the server.
    SessionEnded {
        /// What the identity provider said.
        detail: String,
    },
    /// The credentials were accepted, but the server lists no workspace of the active one's
    /// name for this user: it does not exist, or the user may not read it (MLflow does not
    /// tell the two apart, and answers a search in such a workspace with an empty success,
    /// so only its workspace list tells). Caller: pick another workspace.
    WorkspaceRefused {
        /// The server's name here (for the commands of the fix).
        server: String,
        /// The workspace asked for.
        workspace: String,
        /// The workspaces the user may use.
        available: Vec<String>,
    },
    /// The credentials were accepted, but a workspace is active on a server without
    /// workspaces (MLflow before 3.10, or run without `--enable-workspaces`). Caller: use
    /// the server without a workspace.
    NoWorkspaces {
        /// The server's name here.
        server: String,
        /// The workspace asked for.
        workspace: String,
    },
}

/// What kind of outcome a check had: [`Outcome`] without its data. This is what is
/// recorded (`checks.json`), sent over IPC and matched on by every front end; the JSON
/// name of each kind is the `kind` tag of the matching [`Outcome`] (pinned by a test).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[non_exhaustive]
pub enum OutcomeKind {
    /// [`Outcome::Ok`].
    Ok,
    /// [`Outcome::BadCredentials`].
    BadCredentials,
    /// [`Outcome::OtherAuthScheme`].
    OtherAuthScheme,
    /// [`Outcome::Forbidden`].
    Forbidden,
    /// [`Outcome::NotMlflow`].
    NotMlflow,
    /// [`Outcome::UseHttps`].
    UseHttps,
    /// [`Outcome::WrongPath`].
    WrongPath,
    /// [`Outcome::ServerDown`].
    ServerDown,
    /// [`Outcome::Unreachable`].
    Unreachable,
    /// [`Outcome::Tls`].
    Tls,
    /// [`Outcome::InvalidResponse`].
    InvalidResponse,
    /// [`Outcome::UnexpectedStatus`].
    UnexpectedStatus,
    /// [`Outcome::BadTlsFile`].
    BadTlsFile,
    /// [`Outcome::UnusableSecret`].
    UnusableSecret,
    /// [`Outcome::InvalidUrl`].
    InvalidUrl,
    /// [`Outcome::ClientSetup`].
    ClientSetup,
    /// [`Outcome::SessionEnded`].
    SessionEnded,
    /// [`Outcome::WorkspaceRefused`].
    WorkspaceRefused,
    /// [`Outcome::NoWorkspaces`].
    NoWorkspaces,
    /// Not a verification: no password or token is stored, so nothing was sent. Counts as
    /// refused (the user must log in).
    NoCredentials,
}

impl OutcomeKind {
    /// How it counts.
    pub fn class(self) -> OutcomeClass {
        match self {
            OutcomeKind::Ok => OutcomeClass::Ok,
            OutcomeKind::BadCredentials
            | OutcomeKind::OtherAuthScheme
            | OutcomeKind::Forbidden
            | OutcomeKind::NoCredentials
            | OutcomeKind::SessionEnded
            | OutcomeKind::WorkspaceRefused
            | OutcomeKind::NoWorkspaces => OutcomeClass::Refused,
            _ => OutcomeClass::Unchecked,
        }
    }

    /// A few words for a menu line or a notification title; the full sentence is the
    /// outcome's [`Outcome::summary`].
    pub fn short(self) -> &'static str {
        match self {
            OutcomeKind::Ok => "OK",
            OutcomeKind::BadCredentials => "wrong password",
            OutcomeKind::OtherAuthScheme => "needs another login",
            OutcomeKind::Forbidden => "refused (403)",
            OutcomeKind::NotMlflow | OutcomeKind::WrongPath | OutcomeKind::UseHttps | OutcomeKind::InvalidUrl => {
                "not an MLflow URL"
            }
            OutcomeKind::ServerDown => "MLflow down behind proxy",
            OutcomeKind::Unreachable => "unreachable",
            OutcomeKind::Tls | OutcomeKind::BadTlsFile => "TLS error",
            OutcomeKind::NoCredentials => "not logged in",
            OutcomeKind::SessionEnded => "sign-in ended",
            OutcomeKind::WorkspaceRefused => "workspace not yours",
            OutcomeKind::NoWorkspaces => "no workspaces",
            OutcomeKind::InvalidResponse
            | OutcomeKind::UnexpectedStatus
            | OutcomeKind::UnusableSecret
            | OutcomeKind::ClientSetup => "check failed",
        }
    }
}

/// Who refused the credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RefusedBy {
    /// A proxy in front of MLflow (nginx `auth_basic`, Apache, an ingress): any realm but
    /// MLflow's, or MLflow's realm without MLflow's body.
    Proxy,
    /// MLflow's own basic-auth app (`mlflow server --app-name basic-auth`): realm `mlflow`
    /// and its "You are not authenticated" body.
    Mlflow,
    /// A bearer token was refused by whatever checks tokens.
    Server,
}

/// What the request carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sent {
    /// No credentials (none stored).
    None,
    /// HTTP Basic username and password.
    Basic,
    /// A bearer token.
    Bearer,
}

/// Why a 403 came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ForbiddenReason {
    /// MLflow's DNS-rebinding check (`Invalid Host header - possible DNS rebinding attack
    /// detected`): a server setting (`--allowed-hosts`), not the password.
    HostCheck,
    /// MLflow's auth app (`Permission denied`): the login was accepted, the request denied.
    /// For this read-only API that is its fail-closed answer to an unknown path (a wrong
    /// base path), or a missing permission.
    MlflowPermission,
    /// MLflow's auth app (`Permission denied`) on a path it knows (it told who the caller
    /// is on the same base URL): the credentials are right, but this user may not read
    /// experiments here. Only the server's admin can grant it.
    NotPermitted,
    /// Anything else: the proxy refuses this user.
    Proxy,
}

/// What a non-MLflow answer looked like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LooksLike {
    /// An HTML sign-in form, or a redirect to a sign-in URL (SSO).
    LoginPage,
    /// Another HTML page.
    WebPage,
    /// A redirect elsewhere.
    Redirect,
    /// JSON, but not an object (e.g. an array).
    Json,
    /// Plain text.
    Text,
    /// Binary data (or compressed, or not UTF-8).
    Binary,
    /// No body.
    Empty,
}

/// Why the server could not be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnreachableReason {
    /// The host name did not resolve.
    Dns,
    /// The host refused the TCP connection (nothing listens on the port).
    Refused,
    /// No answer within the connect or total timeout.
    Timeout,
    /// Another network error.
    Other,
}

/// What failed in TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TlsProblem {
    /// The certificate's issuer is not trusted (self-signed, private CA).
    UnknownIssuer,
    /// The certificate has expired or is not valid yet.
    Expired,
    /// The certificate is for another host name.
    NameMismatch,
    /// The server sent or asked for a client certificate and refused the connection.
    ClientCertificate,
    /// An `https://` URL reached a server that speaks plain HTTP.
    NotTls,
    /// An `http://` URL reached an HTTPS port (nginx's 400 "The plain HTTP request was
    /// sent to HTTPS port").
    PlainHttpToHttpsPort,
    /// Any other TLS failure.
    Other,
}

/// The setting that fixes a TLS failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TlsFix {
    /// Set this server's CA bundle (or install the CA in the system store).
    CaBundle,
    /// Set this server's client certificate.
    ClientCert,
    /// Write `https://` in the URL.
    UseHttps,
    /// Write `http://` in the URL.
    UseHttp,
    /// Use the host name the certificate is for.
    HostName,
    /// The server's admin must fix the server.
    Admin,
}

/// Which TLS file setting is at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsFile {
    /// The CA bundle.
    CaBundle,
    /// The client certificate.
    ClientCert,
}

impl TlsFile {
    fn field(self) -> &'static str {
        match self {
            TlsFile::CaBundle => "ca_bundle",
            TlsFile::ClientCert => "client_cert",
        }
    }

    fn label(self) -> &'static str {
        match self {
            TlsFile::CaBundle => "the CA bundle",
            TlsFile::ClientCert => "the client certificate",
        }
    }
}

const SSO_HELP: &str = "this address leads to a browser sign-in (SSO), which MLflow clients cannot use: ask the server's admin for the API address MLflow clients use (MLFLOW_TRACKING_URI), or for a token";

impl Outcome {
    /// Its kind (the `kind` tag of its JSON).
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Ok => OutcomeKind::Ok,
            Outcome::BadCredentials { .. } => OutcomeKind::BadCredentials,
            Outcome::OtherAuthScheme { .. } => OutcomeKind::OtherAuthScheme,
            Outcome::Forbidden { .. } => OutcomeKind::Forbidden,
            Outcome::NotMlflow { .. } => OutcomeKind::NotMlflow,
            Outcome::UseHttps { .. } => OutcomeKind::UseHttps,
            Outcome::WrongPath { .. } => OutcomeKind::WrongPath,
            Outcome::ServerDown { .. } => OutcomeKind::ServerDown,
            Outcome::Unreachable { .. } => OutcomeKind::Unreachable,
            Outcome::Tls { .. } => OutcomeKind::Tls,
            Outcome::InvalidResponse { .. } => OutcomeKind::InvalidResponse,
            Outcome::UnexpectedStatus { .. } => OutcomeKind::UnexpectedStatus,
            Outcome::BadTlsFile { .. } => OutcomeKind::BadTlsFile,
            Outcome::UnusableSecret { .. } => OutcomeKind::UnusableSecret,
            Outcome::InvalidUrl { .. } => OutcomeKind::InvalidUrl,
            Outcome::ClientSetup { .. } => OutcomeKind::ClientSetup,
            Outcome::SessionEnded { .. } => OutcomeKind::SessionEnded,
            Outcome::WorkspaceRefused { .. } => OutcomeKind::WorkspaceRefused,
            Outcome::NoWorkspaces { .. } => OutcomeKind::NoWorkspaces,
        }
    }

    /// How it counts.
    pub fn class(&self) -> OutcomeClass {
        self.kind().class()
    }

    /// One sentence for the user (lower-case, no final period, like the crate's errors).
    pub fn summary(&self) -> String {
        match self {
            Outcome::Ok => "signed in: the MLflow API answered".into(),
            Outcome::BadCredentials { refused_by, realm, sent } => {
                let realm = realm.as_deref().map(|r| format!(" (realm \"{r}\")")).unwrap_or_default();
                match (sent, refused_by) {
                    (Sent::None, _) => format!("the server asks for a username and password{realm}, and none is stored"),
                    (Sent::Bearer, RefusedBy::Server) => format!("the server refused the token{realm}"),
                    (Sent::Bearer, _) => {
                        format!("the server asks for a username and password{realm}, but this server is set up with a token")
                    }
                    (Sent::Basic, RefusedBy::Mlflow) => "wrong username or password: MLflow's auth app refused them".into(),
                    (Sent::Basic, _) => {
                        format!("wrong username or password: the proxy in front of MLflow refused them{realm}")
                    }
                }
            }
            Outcome::OtherAuthScheme { scheme: Some(s) } if s.eq_ignore_ascii_case("bearer") => {
                "this server wants a token (Bearer), not a username and password".into()
            }
            Outcome::OtherAuthScheme { scheme: Some(s) } => {
                format!("this server wants another kind of login ({s}), not a username and password")
            }
            Outcome::OtherAuthScheme { scheme: None } => {
                "the server answered 401 Unauthorized without saying which kind of login it wants".into()
            }
            Outcome::Forbidden { reason: ForbiddenReason::HostCheck } => {
                "MLflow refused the request with its host check (\"Invalid Host header\"): a server setting, not your password".into()
            }
            Outcome::Forbidden { reason: ForbiddenReason::MlflowPermission } => {
                "MLflow's auth app accepted the login but denied this request (\"Permission denied\")".into()
            }
            Outcome::Forbidden { reason: ForbiddenReason::NotPermitted } => {
                "the username and password are right, but this user may not read experiments on this server (MLflow's auth app answered \"Permission denied\")".into()
            }
            Outcome::Forbidden { reason: ForbiddenReason::Proxy } => {
                "the server refuses access to this user (403 Forbidden)".into()
            }
            Outcome::NotMlflow { status, location, looks_like, .. } => match (location, looks_like) {
                (Some(loc), LooksLike::LoginPage) => {
                    format!("this URL is not an MLflow API: it redirects to a sign-in page ({loc})")
                }
                (Some(loc), _) => format!("this URL is not an MLflow API: it redirects to {loc}"),
                (None, LooksLike::Redirect) => {
                    format!("this URL is not an MLflow API: it answered a redirect ({status}) without a target")
                }
                (None, LooksLike::LoginPage) => "this URL is not an MLflow API: it answers with a login page".into(),
                (None, LooksLike::WebPage) => "this URL is not an MLflow API: it answers with a web page, not JSON".into(),
                (None, LooksLike::Json) => {
                    "this URL is not an MLflow API: it answers JSON, but not the object MLflow sends".into()
                }
                (None, LooksLike::Text) => "this URL is not an MLflow API: it answers plain text, not JSON".into(),
                (None, LooksLike::Binary) => "this URL is not an MLflow API: it answers binary data, not JSON".into(),
                (None, LooksLike::Empty) => {
                    format!("this URL is not an MLflow API: it answered {status} with an empty body")
                }
            },
            Outcome::UseHttps { suggested_url, .. } => {
                format!("this server redirects to https: use {suggested_url}")
            }
            Outcome::WrongPath { .. } => "nothing MLflow answers at this URL (404 Not Found): the path is wrong".into(),
            Outcome::ServerDown { status } => format!(
                "the proxy answered ({status} {}) but MLflow behind it did not",
                reason_phrase(*status)
            ),
            Outcome::Unreachable { reason, detail } => match reason {
                UnreachableReason::Dns => "the server's host name could not be resolved (DNS)".into(),
                UnreachableReason::Refused => {
                    "the server refused the connection: nothing listens on that host and port".into()
                }
                UnreachableReason::Timeout => "the server did not answer in time".into(),
                UnreachableReason::Other => format!("the server could not be reached: {detail}"),
            },
            Outcome::Tls { problem, detail, .. } => match problem {
                TlsProblem::UnknownIssuer => {
                    "the server's TLS certificate is signed by an authority this computer does not trust".into()
                }
                TlsProblem::Expired => "the server's TLS certificate has expired (or is not valid yet)".into(),
                TlsProblem::NameMismatch => "the server's TLS certificate is for another host name".into(),
                TlsProblem::ClientCertificate => "the server refused the TLS connection: it wants a client certificate".into(),
                TlsProblem::NotTls => "the URL says https, but the server speaks plain HTTP on this port".into(),
                TlsProblem::PlainHttpToHttpsPort => "the URL says http, but the server expects https on this port".into(),
                TlsProblem::Other => format!("the TLS connection failed: {detail}"),
            },
            Outcome::InvalidResponse { .. } => {
                "the server closed the connection without an answer, or answered something that is not HTTP".into()
            }
            Outcome::UnexpectedStatus { status: 407 } => {
                "the HTTP proxy (HTTPS_PROXY / HTTP_PROXY) asks for its own login (407)".into()
            }
            Outcome::UnexpectedStatus { status } => format!(
                "the server answered {status} {}, which is not an answer to a login check",
                reason_phrase(*status)
            ),
            Outcome::BadTlsFile { setting, path, detail } => format!("{} {path} cannot be used: {detail}", setting.label()),
            Outcome::UnusableSecret { detail } => format!("the stored token cannot be sent: {detail}"),
            Outcome::InvalidUrl { detail } => format!("the server's URL cannot be used: {detail}"),
            Outcome::ClientSetup { detail } => format!("could not set up the HTTPS client: {detail}"),
            Outcome::SessionEnded { detail } => format!("the single sign-on session ended: {detail}"),
            Outcome::WorkspaceRefused { workspace, .. } => format!(
                "the credentials were accepted, but the workspace {workspace} is not one this user may use: the server does not list it (it does not exist, or this user may not read it)"
            ),
            Outcome::NoWorkspaces { workspace, .. } => format!(
                "the credentials were accepted, but this server has no workspaces (MLflow 3.10+ with --enable-workspaces), so not {workspace}"
            ),
        }
    }

    /// What to do about it, if anything.
    pub fn help(&self) -> Option<String> {
        let text: String = match self {
            Outcome::Ok => return None,
            Outcome::BadCredentials { refused_by, sent, .. } => match (sent, refused_by) {
                (Sent::None, _) => "log in to this server to store its password".into(),
                (Sent::Bearer, RefusedBy::Server) => {
                    "the token may have expired or been revoked: get a new one and log in again".into()
                }
                (Sent::Bearer, _) => "set this server up with a username and password instead of a token".into(),
                (Sent::Basic, RefusedBy::Mlflow) => {
                    "check the username and retype the password; an MLflow admin can reset it".into()
                }
                (Sent::Basic, _) => "check the username and retype the password (the proxy's password, which may differ from an MLflow account)".into(),
            },
            Outcome::OtherAuthScheme { scheme: Some(s) } if s.eq_ignore_ascii_case("bearer") => {
                "set this server up with a token (Bearer) and paste the token as its secret".into()
            }
            Outcome::OtherAuthScheme { .. } => {
                "MLflow Login can send a username and password (Basic) or a token (Bearer): ask the server's admin which one MLflow clients should use".into()
            }
            Outcome::Forbidden { reason: ForbiddenReason::HostCheck } => {
                "ask the server's admin to allow the host name you use (`mlflow server --allowed-hosts`, MLFLOW_SERVER_ALLOWED_HOSTS) or to have the proxy pass a Host MLflow allows".into()
            }
            Outcome::Forbidden { reason: ForbiddenReason::MlflowPermission } => {
                "check the path in the URL: MLflow's auth app denies paths it does not know (a wrong base path); if the path is right, ask an MLflow admin for permission".into()
            }
            Outcome::Forbidden { reason: ForbiddenReason::NotPermitted } => {
                identity::NO_PERMISSION_HELP.into()
            }
            Outcome::Forbidden { reason: ForbiddenReason::Proxy } => {
                "this user is not allowed on this server: check the username, or ask the server's admin for access".into()
            }
            Outcome::NotMlflow { suggested_url: Some(url), .. } => format!("MLflow's API seems to be at {url}: use that URL"),
            Outcome::NotMlflow { looks_like: LooksLike::LoginPage, .. } => SSO_HELP.into(),
            Outcome::NotMlflow { .. } => {
                "use the address MLflow clients use (what MLFLOW_TRACKING_URI would be), not a web portal or UI page".into()
            }
            Outcome::UseHttps { suggested_url, .. } => format!("change the URL to {suggested_url}"),
            Outcome::WrongPath { suggested_url: Some(url) } => format!("MLflow answers at {url}: use that URL"),
            Outcome::WrongPath { suggested_url: None } => {
                "check the URL's path: if MLflow is served under a sub-path (e.g. https://host/mlflow), include it; without one, remove it".into()
            }
            Outcome::ServerDown { .. } => {
                "MLflow may be down or restarting: try again later, or tell the server's admin (behind nginx this answer also means the password was accepted)".into()
            }
            Outcome::Unreachable { reason, .. } => match reason {
                UnreachableReason::Dns => "check the host name in the URL, your network connection, or VPN".into(),
                UnreachableReason::Refused => "check the port in the URL and that the server is running".into(),
                UnreachableReason::Timeout => {
                    "check your network, VPN or proxy settings (HTTPS_PROXY, NO_PROXY); the server may also be overloaded".into()
                }
                UnreachableReason::Other => "check the URL and your network connection".into(),
            },
            Outcome::Tls { fix, suggested_url, .. } => match (fix, suggested_url) {
                (TlsFix::UseHttps | TlsFix::UseHttp, Some(url)) => format!("change the URL to {url}"),
                (TlsFix::UseHttps, None) => "write https:// instead of http:// in the URL".into(),
                (TlsFix::UseHttp, None) => "write http:// instead of https:// in the URL, or check the port".into(),
                (TlsFix::CaBundle, _) => {
                    "set this server's CA bundle to your organisation's CA certificate (a PEM file; ask IT), or install that CA in the system's trust store".into()
                }
                (TlsFix::ClientCert, _) => {
                    "set this server's client certificate (a PEM file with the certificate and its private key)".into()
                }
                (TlsFix::HostName, _) => {
                    "use the host name the certificate is for (see the details) in the URL".into()
                }
                (TlsFix::Admin, _) => {
                    "the server's certificate or TLS setup must be fixed by its admin; \"insecure TLS\" skips the check, at your own risk".into()
                }
            },
            Outcome::InvalidResponse { .. } => {
                "check the URL: if this server uses TLS, write https://; check also the port".into()
            }
            Outcome::UnexpectedStatus { status: 407 } => {
                "put the proxy's credentials in HTTPS_PROXY (http://user:password@proxy:port), or bypass the proxy for this host with NO_PROXY".into()
            }
            Outcome::UnexpectedStatus { status } if *status >= 500 => {
                "the server has a problem: try again later, or tell the server's admin".into()
            }
            Outcome::UnexpectedStatus { .. } => "check the URL, or ask the server's admin what this answer means".into(),
            Outcome::BadTlsFile { setting, .. } => {
                let what = match setting {
                    TlsFile::CaBundle => "one or more PEM certificates (-----BEGIN CERTIFICATE-----)",
                    TlsFile::ClientCert => "a PEM certificate and its unencrypted private key",
                };
                format!("choose a readable file holding {what}, or clear {}", setting.label())
            }
            Outcome::UnusableSecret { .. } => {
                "log in again and paste the token without spaces or line breaks".into()
            }
            Outcome::InvalidUrl { .. } => "edit the server and enter its URL again".into(),
            Outcome::ClientSetup { .. } => {
                "install the system's CA certificates (e.g. the ca-certificates package), or set a CA bundle for this server".into()
            }
            Outcome::SessionEnded { .. } => "log in again (single sign-on in the browser)".into(),
            Outcome::WorkspaceRefused { server, available, .. } if available.is_empty() => format!(
                "this user may use no workspace on this server: ask its administrator for access, or `mlflow-login use {server} --no-workspace` uses it without one"
            ),
            Outcome::WorkspaceRefused { server, available, .. } => format!(
                "`mlflow-login use {server}/WORKSPACE` picks another (this user's: {}); `mlflow-login workspaces {server}` lists them",
                available.join(", ")
            ),
            Outcome::NoWorkspaces { server, .. } => {
                format!("`mlflow-login use {server} --no-workspace` uses it without one")
            }
        };
        Some(text)
    }

    /// The login-form field to fix: `url`, `username`, `password`, `ca_bundle`,
    /// `client_cert`, or `None` when no field of the form is at fault.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Outcome::Ok => None,
            Outcome::BadCredentials { sent: Sent::Bearer, refused_by, .. } if *refused_by != RefusedBy::Server => {
                Some("username")
            }
            Outcome::BadCredentials { .. } | Outcome::UnusableSecret { .. } => Some("password"),
            Outcome::OtherAuthScheme { .. } => None,
            Outcome::Forbidden { reason } => match reason {
                ForbiddenReason::HostCheck | ForbiddenReason::NotPermitted => None,
                ForbiddenReason::MlflowPermission => Some("url"),
                ForbiddenReason::Proxy => Some("username"),
            },
            Outcome::NotMlflow { .. }
            | Outcome::UseHttps { .. }
            | Outcome::WrongPath { .. }
            | Outcome::InvalidResponse { .. }
            | Outcome::InvalidUrl { .. } => Some("url"),
            Outcome::ServerDown { .. }
            | Outcome::UnexpectedStatus { .. }
            | Outcome::ClientSetup { .. }
            | Outcome::SessionEnded { .. }
            | Outcome::WorkspaceRefused { .. }
            | Outcome::NoWorkspaces { .. } => None,
            Outcome::Unreachable { reason, .. } => match reason {
                UnreachableReason::Dns | UnreachableReason::Refused => Some("url"),
                UnreachableReason::Timeout | UnreachableReason::Other => None,
            },
            Outcome::Tls { fix, .. } => match fix {
                TlsFix::CaBundle => Some("ca_bundle"),
                TlsFix::ClientCert => Some("client_cert"),
                TlsFix::UseHttps | TlsFix::UseHttp | TlsFix::HostName => Some("url"),
                TlsFix::Admin => None,
            },
            Outcome::BadTlsFile { setting, .. } => Some(setting.field()),
        }
    }
}

/// The standard reason phrase of a status, for messages.
fn reason_phrase(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("")
}

/// Checks the credentials against the server. Never panics, never follows a redirect.
///
/// With `secret` `None`, no credentials are sent (see the module docs). Returns within
/// about twice `total_timeout`: the identity after a 200 or a 403 gets as long as the
/// check itself; the other follow-ups at most 3 s.
pub async fn verify(server: &Server, secret: Option<&Secret>, opts: &VerifyOptions) -> Verification {
    let check = match transport::Check::new(server, secret, opts).await {
        Ok(check) => check,
        Err(outcome) => return Verification::new(outcome, 0),
    };
    let url = api_url(check.base());
    let start = Instant::now();
    // reqwest enforces the total timeout itself; this outer bound is a backstop (e.g. a
    // system proxy lookup that hangs) so that no caller ever waits much longer.
    let backstop = opts.total_timeout + Duration::from_millis(500);
    let reply = tokio::time::timeout(backstop, check.get(&url, opts.total_timeout, opts.body_cap)).await;
    let latency_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
    let reply = match reply {
        Ok(Ok(reply)) => reply,
        Ok(Err(err)) => {
            return Verification::new(transport::classify_error(&err, &url), latency_ms);
        }
        Err(_elapsed) => {
            let detail = format!("no complete answer within {} ms", backstop.as_millis());
            return Verification::new(Outcome::Unreachable { reason: UnreachableReason::Timeout, detail }, latency_ms);
        }
    };
    let mut outcome = classify::classify(check.asked(&url), &reply);
    let follow_up = opts.total_timeout.min(FOLLOW_UP_TIMEOUT);
    let (mut server_version, mut identity) = (None, None);
    let identity_url = transport::endpoint(check.base(), identity::PATH, None);
    // The identity is shown as prominently as the verdict: it gets the main request's
    // time, not the shorter bound of a nice-to-have (a loaded auth app spends most of a
    // request hashing the password).
    let who = async || {
        let limit = opts.total_timeout;
        bounded(limit, check.get(&identity_url, limit, identity::BODY_CAP))
            .await
            .and_then(|reply| identity::parse(&reply))
    };
    match &mut outcome {
        Outcome::Ok => {
            let version_url = transport::endpoint(check.base(), "/version", None);
            let version = async {
                bounded(follow_up, check.get(&version_url, follow_up, 256)).await.and_then(|r| classify::version(&r))
            };
            (server_version, identity) = tokio::join!(version, who());
            if let Some(id) = identity.as_mut()
                && id.is_admin != Some(true)
            {
                id.reads_experiments = Some(identity::lists_experiments(&reply));
            }
        }
        Outcome::Forbidden { reason } if *reason == ForbiddenReason::MlflowPermission => {
            identity = who().await;
            if identity.is_some() {
                *reason = ForbiddenReason::NotPermitted;
            }
        }
        Outcome::WrongPath { suggested_url } => {
            // Same origin, same credentials: one probe one path level up or down.
            let alternative = classify::alternative_base(check.base());
            let probe = api_url(&alternative);
            if let Some(reply) = bounded(follow_up, check.get(&probe, follow_up, opts.body_cap)).await
                && classify::looks_like_mlflow_api(&reply)
            {
                *suggested_url = classify::tracking_url(&alternative);
            }
        }
        _ => {}
    }
    Verification { outcome, latency_ms, server_version, identity }
}

/// The API URL under a tracking URL.
fn api_url(base: &url::Url) -> url::Url {
    transport::endpoint(base, API_PATH, Some("max_results=1"))
}

/// A follow-up request's reply, or `None` on any failure or after `limit`.
async fn bounded(
    limit: Duration,
    request: impl Future<Output = Result<classify::Reply, reqwest::Error>>,
) -> Option<classify::Reply> {
    tokio::time::timeout(limit + Duration::from_millis(200), request).await.ok()?.ok()
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

#[cfg(test)]
mod kind_tests {
    use super::*;

    /// One outcome of every variant (a new variant fails to compile in `Outcome::kind`
    /// and must be added here).
    pub(crate) fn one_of_each() -> Vec<Outcome> {
        let detail = String::from("d");
        vec![
            Outcome::Ok,
            Outcome::BadCredentials { refused_by: RefusedBy::Proxy, realm: None, sent: Sent::Basic },
            Outcome::OtherAuthScheme { scheme: Some("Bearer".into()) },
            Outcome::Forbidden { reason: ForbiddenReason::Proxy },
            Outcome::NotMlflow { status: 200, location: None, suggested_url: None, looks_like: LooksLike::WebPage },
            Outcome::UseHttps { location: "https://h/".into(), suggested_url: "https://h".into() },
            Outcome::WrongPath { suggested_url: None },
            Outcome::ServerDown { status: 502 },
            Outcome::Unreachable { reason: UnreachableReason::Dns, detail: detail.clone() },
            Outcome::Tls {
                problem: TlsProblem::UnknownIssuer,
                fix: TlsFix::CaBundle,
                suggested_url: None,
                detail: detail.clone(),
            },
            Outcome::InvalidResponse { detail: detail.clone() },
            Outcome::UnexpectedStatus { status: 418 },
            Outcome::BadTlsFile { setting: TlsFile::CaBundle, path: "/x".into(), detail: detail.clone() },
            Outcome::UnusableSecret { detail: detail.clone() },
            Outcome::InvalidUrl { detail: detail.clone() },
            Outcome::ClientSetup { detail: detail.clone() },
            Outcome::SessionEnded { detail },
            Outcome::WorkspaceRefused { server: "prod".into(), workspace: "team-b".into(), available: vec![] },
            Outcome::NoWorkspaces { server: "prod".into(), workspace: "team-b".into() },
        ]
    }

    #[test]
    fn kinds_are_the_json_tags_and_count_alike() {
        for outcome in one_of_each() {
            let json = serde_json::to_value(&outcome).unwrap();
            let kind = serde_json::to_value(outcome.kind()).unwrap();
            assert_eq!(json["kind"], kind, "{outcome:?}");
            assert_eq!(outcome.class(), outcome.kind().class());
            let back: OutcomeKind = serde_json::from_value(kind).unwrap();
            assert_eq!(back, outcome.kind());
        }
        assert_eq!(serde_json::to_value(OutcomeKind::NoCredentials).unwrap(), "no_credentials");
        assert_eq!(OutcomeKind::NoCredentials.class(), OutcomeClass::Refused);
    }
}
