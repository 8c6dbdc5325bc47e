//! A tracking server as the user configured it, and the rules for its fields.
//!
//! The tracking URL is kept normalised (see [`normalize_url`]): the keychain entry is named
//! from it, so `https://Host:443/mlflow/` and `https://host/mlflow` share one password.

use std::net::IpAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result};

/// How the server wants the client to authenticate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum AuthKind {
    /// HTTP Basic (`MLFLOW_TRACKING_USERNAME` + `MLFLOW_TRACKING_PASSWORD`).
    #[default]
    Basic,
    /// A bearer token (`MLFLOW_TRACKING_TOKEN`).
    Bearer,
    /// Single sign-on: an access token from the company's identity provider (OIDC),
    /// refreshed before it expires (`MLFLOW_TRACKING_TOKEN`; see [`crate::oidc`]).
    Sso,
}

impl AuthKind {
    /// Whether the server takes a token (`Authorization: Bearer`), not a username and password.
    pub fn uses_token(self) -> bool {
        matches!(self, AuthKind::Bearer | AuthKind::Sso)
    }

    /// What the keychain holds for it, in words: `password`, `token`, `single sign-on tokens`.
    pub fn secret_noun(self) -> &'static str {
        match self {
            AuthKind::Basic => "password",
            AuthKind::Bearer => "token",
            AuthKind::Sso => "single sign-on tokens",
        }
    }
}

/// Where a single sign-on server's identity provider is, when the user said or discovery
/// found it (kept so a second login needs no flags; never a token).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SsoSettings {
    /// The identity provider's issuer URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The OAuth client (a public client registered for MLflow Login).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The scopes to ask for (default: `openid`, and `offline_access` when offered).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// A fixed port for the browser flow's loopback redirect (`http://127.0.0.1:PORT/callback`),
    /// for identity providers that match a native client's redirect URI port and all. Default:
    /// a port the kernel picks for each sign-in (RFC 8252 §7.3), which cannot be taken. As
    /// login input, `Some(0)` turns a fixed port off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_port: Option<u16>,
    /// The issuer and client id came from a team list and nobody has signed in with them
    /// yet: the next sign-in asks first when the issuer is foreign to the server
    /// ([`crate::oidc::trust`]). A sign-in the user ran or confirmed clears it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_team_list: bool,
}

/// One configured server. The name is the key in [`crate::Config::servers`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// Normalised tracking URL, e.g. `https://host/mlflow`.
    pub url: String,
    /// The login name (Basic). For bearer servers, an optional label for the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Basic (default) or Bearer.
    #[serde(default, skip_serializing_if = "is_default")]
    pub auth: AuthKind,
    /// A PEM bundle of extra CA certificates to trust for this server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<PathBuf>,
    /// A PEM file holding a client certificate and its private key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<PathBuf>,
    /// Skip TLS certificate verification. Shown as a warning everywhere.
    #[serde(default, skip_serializing_if = "is_default")]
    pub insecure_tls: bool,
    /// Single sign-on settings (auth `sso` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso: Option<SsoSettings>,
    /// The server's active workspace (MLflow 3.10+), exported as `MLFLOW_WORKSPACE`; each
    /// server keeps its own when another becomes the active server. See
    /// [`crate::workspaces`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// The personal access token minted from single sign-on (mlflow-oidc-auth) that is this
    /// Basic server's password: its dates, for renewal (see [`crate::pat`]); never the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal_token: Option<PersonalToken>,
}

/// A personal access token is renewed once this share of its life (in percent) has passed.
pub const RENEW_AT_PERCENT: u64 = 80;

/// A server's personal access token, as the config keeps it (never the token itself; see
/// [`crate::pat`] for minting and renewing it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonalToken {
    /// When it was minted (Unix seconds).
    pub minted_at: u64,
    /// When it stops working (Unix seconds), as the server said.
    pub expires_at: u64,
    /// The lifetime asked for, in days (renewals ask the same).
    pub days: u32,
}

impl PersonalToken {
    /// When it is renewed: at [`RENEW_AT_PERCENT`] of its life.
    pub fn renew_at(&self) -> u64 {
        let life = self.expires_at.saturating_sub(self.minted_at);
        self.minted_at + life * RENEW_AT_PERCENT / 100
    }

    /// Whether it is due for renewal at `now` (Unix seconds).
    pub fn due(&self, now: u64) -> bool {
        now >= self.renew_at()
    }

    /// Whether it has expired at `now`.
    pub fn expired(&self, now: u64) -> bool {
        now >= self.expires_at
    }
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// Something legal but risky about a server's settings, to show the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    /// Credentials would cross the network unencrypted.
    PlainHttp,
    /// TLS certificates are not verified.
    InsecureTls,
}

impl Warning {
    /// The warning in words.
    pub fn message(self) -> &'static str {
        match self {
            Warning::PlainHttp => {
                "this server uses plain http:// on a non-loopback host: the password crosses the network unencrypted"
            }
            Warning::InsecureTls => "TLS certificate verification is off for this server",
        }
    }
}

impl Server {
    /// A Basic-auth server with the given URL (validated and normalised) and username.
    pub fn new_basic(url: &str, username: &str) -> Result<Self> {
        let url = normalize_url(url)?;
        validate_username(username)?;
        Ok(Server {
            url: url.to_string_normalized(),
            username: Some(username.to_string()),
            auth: AuthKind::Basic,
            ca_bundle: None,
            client_cert: None,
            insecure_tls: false,
            sso: None,
            workspace: None,
            personal_token: None,
        })
    }

    /// Checks every field; config files written by hand go through this too.
    pub fn validate(&self) -> Result<()> {
        let url = normalize_url(&self.url)?;
        if url.to_string_normalized() != self.url {
            return Err(Error::invalid(
                "url",
                format!("the URL is not normalised (expected {})", url.to_string_normalized()),
            ));
        }
        match (self.auth, &self.username) {
            (AuthKind::Basic, None) => return Err(Error::invalid("username", "a username is required for Basic auth")),
            (_, Some(u)) => validate_username(u)?,
            (AuthKind::Bearer | AuthKind::Sso, None) => {}
        }
        // A personal access token is a Basic password minted through single sign-on: its
        // server keeps the sso settings, for renewal.
        if self.personal_token.is_some() && self.auth != AuthKind::Basic {
            return Err(Error::invalid("auth", "a personal access token (personal_token) needs auth = \"basic\""));
        }
        if self.sso.is_some() && self.auth != AuthKind::Sso && self.personal_token.is_none() {
            return Err(Error::invalid("auth", "single sign-on settings (sso) need auth = \"sso\""));
        }
        if let Some(ws) = &self.workspace {
            validate_workspace_name(ws)?;
        }
        Ok(())
    }

    /// The parsed tracking URL.
    pub fn parsed_url(&self) -> Result<Url> {
        Url::parse(&self.url).map_err(|e| Error::invalid("url", format!("{e}: {}", self.url)))
    }

    /// The host, lower-case, an IPv6 address without brackets: what a `~/.netrc` entry's
    /// `machine` names (`None` for a URL that does not parse).
    pub fn host(&self) -> Option<String> {
        let url = self.parsed_url().ok()?;
        Some(url.host_str()?.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase())
    }

    /// The host (with port, when not the default) for display.
    pub fn host_display(&self) -> String {
        match self.parsed_url() {
            Ok(u) => {
                let host = u.host_str().unwrap_or_default().to_string();
                match u.port() {
                    Some(p) => format!("{host}:{p}"),
                    None => host,
                }
            }
            Err(_) => self.url.clone(),
        }
    }

    /// Risky settings to show next to this server.
    pub fn warnings(&self) -> Vec<Warning> {
        let mut w = Vec::new();
        if let Ok(u) = self.parsed_url()
            && u.scheme() == "http"
            && !is_loopback(&u)
        {
            w.push(Warning::PlainHttp);
        }
        if self.insecure_tls {
            w.push(Warning::InsecureTls);
        }
        w
    }

    /// The keychain account: the username, or `token` for an unnamed bearer token, `sso`
    /// for single sign-on without a username.
    pub fn account(&self) -> &str {
        match (&self.username, self.auth) {
            (Some(u), _) => u,
            (None, AuthKind::Sso) => "sso",
            (None, _) => "token",
        }
    }
}

/// Whether the URL's host is a literal loopback address or `localhost` itself. Another
/// name (`*.localhost` included) resolves however the machine's resolver says: a DNS
/// answer or an `/etc/hosts` line can send it anywhere.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// A parsed, normalised tracking URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackingUrl(Url);

impl TrackingUrl {
    /// The URL as a string, without a trailing slash (`https://host/mlflow`).
    pub fn to_string_normalized(&self) -> String {
        let s = self.0.as_str();
        s.strip_suffix('/').unwrap_or(s).to_string()
    }

    /// The parsed URL.
    pub fn url(&self) -> &Url {
        &self.0
    }
}

/// Validates and normalises a tracking URL typed by a user.
///
/// Lower-cases scheme and host, drops a default port, a trailing slash, refuses
/// credentials, a query or a fragment, and any scheme but `http`/`https`.
pub fn normalize_url(input: &str) -> Result<TrackingUrl> {
    let input = input.trim();
    // What the errors below show of the input: never a `user:password@` part.
    let shown = without_userinfo(input);
    if input.is_empty() {
        return Err(Error::invalid("url", "the tracking URL is empty"));
    }
    if !input.contains("://") {
        return Err(Error::invalid(
            "url",
            format!("\"{shown}\" has no scheme: write https://{shown} (or http:// for a server without TLS)"),
        ));
    }
    let mut url =
        Url::parse(input).map_err(|e| Error::invalid("url", format!("\"{shown}\" is not a valid URL: {e}")))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(Error::invalid(
            "url",
            format!("the URL must start with https:// or http://, not {}://", url.scheme()),
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            "url",
            "the URL contains credentials (user:password@host): remove them; the username goes in its own field and the password into the keychain",
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::invalid("url", format!("\"{shown}\" has no host")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::invalid("url", "the tracking URL cannot have a query (?...) or fragment (#...)"));
    }
    // Collapse trailing slashes so `/mlflow/` and `/mlflow` are one server.
    let path = url.path().trim_end_matches('/').to_string();
    url.set_path(if path.is_empty() { "/" } else { &path });
    Ok(TrackingUrl(url))
}

/// `input` without the `user:password@` part of its authority (if it has one), for
/// showing a URL that may hold credentials. Works on text that does not parse as a URL.
pub fn without_userinfo(input: &str) -> String {
    let (scheme, rest) = match input.find("://") {
        Some(i) => input.split_at(i + 3),
        None => ("", input),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}{}", &rest[at + 1..]),
        None => input.to_string(),
    }
}

/// A server name: short, for the command line and the menu.
pub fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with(['-', '.']);
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "name",
            format!(
                "\"{name}\" is not a valid server name: use 1-64 letters, digits, '-', '_' or '.', not starting with '-' or '.'"
            ),
        ))
    }
}

/// Checks a workspace name by MLflow's own rule (Kubernetes names): 2 to 63 characters,
/// lowercase letters, digits and inner hyphens, not one of MLflow's reserved path words.
pub fn validate_workspace_name(name: &str) -> Result<()> {
    let bytes = name.as_bytes();
    let shape = (2..=63).contains(&bytes.len())
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first() != Some(&b'-')
        && bytes.last() != Some(&b'-');
    if !shape {
        return Err(Error::invalid(
            "workspace",
            format!(
                "\"{}\" is not a workspace name: 2 to 63 lowercase letters, digits and inner hyphens",
                crate::text::clean(name, 80)
            ),
        ));
    }
    if matches!(name, "workspaces" | "api" | "ajax-api" | "static-files") {
        return Err(Error::invalid("workspace", format!("\"{name}\" is reserved by MLflow and cannot be a workspace")));
    }
    Ok(())
}

/// A username for Basic auth: not empty, no `:` (RFC 7617), no control characters.
pub fn validate_username(username: &str) -> Result<()> {
    if username.is_empty() {
        return Err(Error::invalid("username", "the username is empty"));
    }
    if username.contains(':') {
        return Err(Error::invalid("username", "a username cannot contain ':' (HTTP Basic auth splits on it)"));
    }
    if username.chars().any(char::is_control) {
        return Err(Error::invalid("username", "the username contains a control character"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_as_netrc_names_them() {
        let host = |u: &str| Server::new_basic(u, "a").unwrap().host();
        assert_eq!(host("https://H.example:8443/mlflow").as_deref(), Some("h.example"));
        assert_eq!(host("http://[::1]:5000").as_deref(), Some("::1"));
    }

    #[test]
    fn normalises() {
        let cases = [
            ("https://Example.COM:443/mlflow/", "https://example.com/mlflow"),
            ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
            ("http://127.0.0.1:80/", "http://127.0.0.1"),
            ("  https://h/a//  ", "https://h/a"),
            ("https://h/a/b/", "https://h/a/b"),
        ];
        for (input, want) in cases {
            assert_eq!(normalize_url(input).unwrap().to_string_normalized(), want, "{input}");
        }
    }

    #[test]
    fn refuses_bad_urls() {
        for bad in
            ["", "example.com", "ftp://h", "https://u:p@h", "https://u@h", "https://h/?x=1", "https://h/#f", "http://"]
        {
            let err = normalize_url(bad).unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::InvalidInput, "{bad}");
        }
        let msg = normalize_url("https://alice:pw@h").unwrap_err().to_string();
        assert!(msg.contains("credentials") && !msg.contains("pw@"), "{msg}");
    }

    #[test]
    fn errors_never_echo_credentials() {
        for bad in [
            "alice:hunter2@mlflow.example.com/x",
            "https://alice:hunter2@[::1",
            "https://alice:hunter2@h:99999",
            "https://alice:hunter2@",
            "http://alice:hunter2@/path",
            "ftp://alice:hunter2@h",
            "https://alice:hunter2@h?q=1",
            "https://a@b:hunter2@h",
        ] {
            let msg = normalize_url(bad).unwrap_err().to_string();
            assert!(!msg.contains("hunter2") && !msg.contains("alice"), "{bad}: {msg}");
        }
        assert_eq!(without_userinfo("https://u:p@h:1/a@b?c@d"), "https://h:1/a@b?c@d");
        assert_eq!(without_userinfo("u:p@h/x"), "h/x");
        assert_eq!(without_userinfo("https://h/a@b"), "https://h/a@b");
    }

    #[test]
    fn names_and_usernames() {
        for ok in ["prod", "staging-2", "a.b_c"] {
            validate_name(ok).unwrap();
        }
        for bad in ["", "-x", ".x", "a b", "a/b", &"x".repeat(65)] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
        validate_username("alice@example.com").unwrap();
        assert!(validate_username("a:b").is_err());
        assert!(validate_username("").is_err());
    }

    #[test]
    fn warnings() {
        let s = Server::new_basic("http://mlflow.example.com", "a").unwrap();
        assert_eq!(s.warnings(), vec![Warning::PlainHttp]);
        let s = Server::new_basic("http://localhost:5000", "a").unwrap();
        assert!(s.warnings().is_empty());
        let mut s = Server::new_basic("https://h", "a").unwrap();
        s.insecure_tls = true;
        assert_eq!(s.warnings(), vec![Warning::InsecureTls]);
    }
}
