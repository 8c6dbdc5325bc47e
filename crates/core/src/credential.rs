//! The answer the Python plugin reads: the typed, versioned contract between
//! `mlflow-login credential` and `python/src/mlflow_login`.
//!
//! The plugin keeps no copy of the config or keychain logic: when its cache is stale it
//! runs the program once and reads one JSON object from its stdout (a pipe, never a file
//! or argv): every server (no secrets), which one the request URL belongs to
//! ([`server_for_url`]), and that server's credential. [`Answer::to_json`] is the one
//! place that text is made.
//!
//! Compatibility: [`VERSION`] changes only on an incompatible change (a field renamed,
//! removed or given another meaning); the plugin refuses a version it does not know.
//! Fields are only ever added within a version, and the plugin ignores a field it does not
//! know, so a new field (an optional one, `skip_serializing_if` when absent) needs no bump.
//!
//! The plugin repeats two rules on its cached server list, since it answers later requests
//! without a process: URL normalisation and the server choice. `python/tests` read
//! `python/tests/contract.generated.json`, written from this module by
//! `crates/core/tests/plugin_contract.rs`, so both sides agree by construction; a stale
//! file fails that test.

use std::path::PathBuf;

use serde::Serialize;

use crate::config::Config;
use crate::error::Result;
use crate::fresh::Fresh;
use crate::oidc::Fingerprint;
use crate::secret::Secret;
use crate::server::{AuthKind, Server, normalize_url};

/// The version of the answer; bump on an incompatible change (module docs).
pub const VERSION: u32 = 1;

/// One run's answer.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// [`VERSION`].
    pub version: u32,
    /// The config folder the program used (the plugin watches its `state` and
    /// `config.toml`).
    pub config_dir: PathBuf,
    /// The state file's line when the config was read.
    pub state: String,
    /// The active server's name.
    pub active: Option<String>,
    /// Every server, without secrets.
    pub servers: Vec<ServerInfo>,
    /// The server picked (by URL, by name, or the active one).
    pub server: Option<String>,
    /// That server's credential (`None`: none stored, or not asked for).
    pub credential: Option<Credential>,
}

/// A server as the plugin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerInfo {
    /// Its name.
    pub name: String,
    /// Its normalised tracking URL.
    pub url: String,
    /// How it authenticates.
    pub auth: AuthKind,
    /// The username, for Basic.
    pub username: Option<String>,
}

/// How the plugin sends the secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    /// `Authorization: Basic base64(username:secret)`.
    Basic,
    /// `Authorization: Bearer secret`.
    Bearer,
}

/// One server's credential. Its `Debug` redacts the secret ([`Secret`]); only
/// [`Answer::to_json`] writes it out.
#[derive(Debug, Clone, Serialize)]
pub struct Credential {
    /// How to send it.
    pub scheme: Scheme,
    /// The username, for Basic.
    pub username: Option<String>,
    /// The password or token.
    #[serde(serialize_with = "expose")]
    pub secret: Secret,
    /// Single sign-on: when the token stops working (Unix seconds); the plugin asks again
    /// shortly before.
    pub expires_at: Option<u64>,
    /// When core refreshes it (Unix seconds): the plugin keeps the token until then.
    pub refresh_at: Option<u64>,
    /// Single sign-on only: what to pass to `--refused` when the server refuses this token
    /// (its absence: nothing to refresh).
    pub fingerprint: Option<String>,
    /// The server's MLflow workspace, sent as `X-MLFLOW-WORKSPACE` with each request to
    /// this server (absent: none is selected).
    pub workspace: Option<String>,
}

fn expose<S: serde::Serializer>(secret: &Secret, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(secret.expose())
}

impl ServerInfo {
    /// The plugin's view of `server`.
    pub fn new(name: &str, server: &Server) -> Self {
        Self { name: name.to_string(), url: server.url.clone(), auth: server.auth, username: server.username.clone() }
    }
}

impl Credential {
    /// The credential `fresh` gives for `server`.
    pub fn new(server: &Server, fresh: Fresh) -> Self {
        Self {
            scheme: if server.auth.uses_token() { Scheme::Bearer } else { Scheme::Basic },
            username: server.username.clone(),
            secret: fresh.secret,
            expires_at: fresh.expires_at,
            refresh_at: fresh.refresh_at,
            fingerprint: fresh.fingerprint.as_ref().map(|f| Fingerprint::as_str(f).to_string()),
            workspace: server.workspace.clone(),
        }
    }
}

impl Answer {
    /// The answer's fixed part for `config` (no server picked, no credential).
    pub fn new(config_dir: PathBuf, state: String, config: &Config) -> Self {
        Self {
            version: VERSION,
            config_dir,
            state,
            active: config.active.clone(),
            servers: config.servers.iter().map(|(n, s)| ServerInfo::new(n, s)).collect(),
            server: None,
            credential: None,
        }
    }

    /// The JSON text, on one line: the only serialisation of the contract.
    pub fn to_json(&self) -> String {
        // Every field serialises (strings, numbers, paths as text): this cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A request URL as the server choice sees it: without query and fragment, normalised as
/// a configured URL is ([`normalize_url`]).
pub fn request_url(url: &str) -> Result<String> {
    let base = url.split(['?', '#']).next().unwrap_or_default();
    Ok(normalize_url(base)?.to_string_normalized())
}

/// The server whose URL is the longest prefix of `url` (on a path-segment boundary, after
/// [`request_url`]). Two servers with the same URL (two accounts on one server): the
/// active one wins, so a switch moves the next request to the other account; else the
/// first by name.
pub fn server_for_url<'a>(config: &'a Config, url: &str) -> Result<Option<(&'a str, &'a Server)>> {
    let normalized = request_url(url)?;
    let active = config.active.as_deref();
    Ok(config
        .servers
        .iter()
        .filter(|(_, s)| is_under(&normalized, &s.url))
        .max_by_key(|(n, s)| (s.url.len(), Some(n.as_str()) == active, std::cmp::Reverse(n.as_str())))
        .map(|(n, s)| (n.as_str(), s)))
}

/// Whether `url` is `prefix` or lies below it (`/mlflow` covers `/mlflow/api`, not
/// `/mlflow2`). Both are normalised: no trailing slash.
fn is_under(url: &str, prefix: &str) -> bool {
    url.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let mut c = Config::default();
        c.servers.insert("root".into(), Server::new_basic("http://h:8080", "a").unwrap());
        c.servers.insert("sub".into(), Server::new_basic("http://h:8080/mlflow", "b").unwrap());
        c.servers.insert("tls".into(), Server::new_basic("https://h", "c").unwrap());
        c
    }

    fn pick(url: &str) -> Option<String> {
        server_for_url(&config(), url).unwrap().map(|(n, _)| n.to_string())
    }

    #[test]
    fn longest_prefix_on_segment_boundary() {
        assert_eq!(pick("http://h:8080/api/2.0/mlflow/runs/get?run_id=1").as_deref(), Some("root"));
        assert_eq!(pick("http://H:8080/mlflow/api/2.0/x").as_deref(), Some("sub"));
        assert_eq!(pick("http://h:8080/mlflow").as_deref(), Some("sub"));
        assert_eq!(pick("http://h:8080/mlflow/").as_deref(), Some("sub"));
        assert_eq!(pick("http://h:8080/mlflow2/api").as_deref(), Some("root"));
        assert_eq!(pick("https://h:443/api/2.0/x").as_deref(), Some("tls"));
        assert_eq!(pick("http://h/api"), None, "http is not https, port 80 is not 8080");
        assert_eq!(pick("http://other:8080/api"), None);
    }

    #[test]
    fn same_url_prefers_the_active_server_then_the_first_name() {
        let mut c = config();
        c.servers.insert("bob".into(), Server::new_basic("http://h:8080", "bob").unwrap());
        let pick = |c: &Config| server_for_url(c, "http://h:8080/api").unwrap().map(|(n, _)| n.to_string());
        assert_eq!(pick(&c).as_deref(), Some("bob"));
        c.active = Some("root".into());
        assert_eq!(pick(&c).as_deref(), Some("root"));
        c.active = Some("bob".into());
        assert_eq!(pick(&c).as_deref(), Some("bob"));
    }

    #[test]
    fn bad_url_is_an_error() {
        assert!(server_for_url(&config(), "not a url").is_err());
    }

    #[test]
    fn the_secret_is_in_the_json_only() {
        let server = Server::new_basic("https://h", "alice").unwrap();
        let c = Credential::new(&server, Fresh::stored(Secret::new("pw-123".into())));
        assert!(!format!("{c:?}").contains("pw-123"));
        let mut a = Answer::new("/c".into(), "1".into(), &Config::default());
        a.credential = Some(c);
        assert!(a.to_json().contains("\"secret\":\"pw-123\""));
    }
}
