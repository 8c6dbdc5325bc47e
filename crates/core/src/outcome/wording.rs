//! The words users read for an outcome: one sentence ([`Outcome::summary`]), what to do
//! ([`Outcome::help`]), the login-form field to fix ([`Outcome::field`]) and a few words
//! for a menu line ([`OutcomeKind::short`]), in a data scientist's words (PRODUCT.md,
//! "Verification").

use super::{
    ForbiddenReason, LooksLike, Outcome, OutcomeKind, RefusedBy, Sent, TlsFile, TlsFix, TlsProblem, UnreachableReason,
};

const SSO_HELP: &str = "this address leads to a browser sign-in (SSO), which MLflow clients cannot use: ask the server's admin for the API address MLflow clients use (MLFLOW_TRACKING_URI), or for a token";

/// What a user without permission is told, whoever grants it: the same words for a 403
/// of the check and for a check that showed no experiment.
pub const NO_PERMISSION_HELP: &str = "ask the server's admin (an MLflow admin user) to grant this user READ permission on the experiments, or on this workspace; retyping the password will not help";

impl OutcomeKind {
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

impl TlsFile {
    pub(crate) fn field(self) -> &'static str {
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

impl Outcome {
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
                NO_PERMISSION_HELP.into()
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
