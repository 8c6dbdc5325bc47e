//! What one check of a server found ([`Outcome`]), its kind ([`OutcomeKind`]: what is
//! recorded and matched on) and how it counts ([`OutcomeClass`]). The words users read for
//! each (a sentence, what to do, the form field to fix) are in `wording`.
//!
//! Every outcome's data is already safe to show: no secret, no control characters.

mod wording;

pub use wording::NO_PERMISSION_HELP;

use serde::{Deserialize, Serialize};

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
