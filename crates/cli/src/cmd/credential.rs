//! `mlflow-login credential`: the hidden subcommand the Python auth plugin calls.
//!
//! The plugin (`python/`, issue 5) keeps no copy of the config or keychain logic: when its
//! cache is stale it runs this once and reads one JSON object from stdout (a pipe, never a
//! file or argv): every server (no secrets), which one the request URL belongs to (the
//! longest configured prefix), and that server's credential. It then answers later
//! requests from memory until the state file or `config.toml` changes.
//!
//! The JSON is versioned (`"version": 1`); the plugin refuses a version it does not know.
//! Fields are only ever added within a version (`fingerprint` came later; an older plugin
//! ignores it).
//!
//! Single sign-on: the credential carries the access token's fingerprint (not secret).
//! When the MLflow server refuses the token, the plugin runs `credential --refused FP`
//! once: a new token, refreshed at the identity provider unless another process did it
//! already (core's `RefreshOptions::refused`).

use clap::Args;
use mlflow_login_core::fresh::fresh_with;
use mlflow_login_core::oidc::{Fingerprint, RefreshOptions};
use mlflow_login_core::server::normalize_url;
use mlflow_login_core::{AuthKind, Config, Fresh, Server};
use serde_json::{Value, json};

use super::{Run, logins};
use crate::failure::Failure;

/// The version of the JSON printed; bump on an incompatible change.
const FORMAT_VERSION: u64 = 1;

/// Print the servers and one server's credential as JSON, for the MLflow Login Python
/// plugin. Not meant to be typed: the output holds a password.
#[derive(Debug, Args)]
pub struct Credential {
    /// The request URL: pick the server whose URL is its longest prefix.
    #[arg(long, conflicts_with = "name")]
    url: Option<String>,
    /// Pick a server by name (default, without --url: the active one, if any).
    #[arg(long)]
    name: Option<String>,
    /// List the servers only; read nothing from the keychain.
    #[arg(long)]
    no_secret: bool,
    /// Single sign-on: the server refused the token with this fingerprint (the
    /// `fingerprint` of an earlier answer): refresh it, unless it was replaced already.
    #[arg(long, value_name = "FINGERPRINT", value_parser = parse_fingerprint, conflicts_with = "no_secret")]
    refused: Option<Fingerprint>,
}

fn parse_fingerprint(text: &str) -> Result<Fingerprint, String> {
    Fingerprint::parse(text).map_err(|e| e.to_string())
}

impl Run for Credential {
    fn run(self) -> Result<(), Failure> {
        let logins = logins()?;
        // The state is read before the config: if a switch lands in between, the plugin
        // sees a state that differs from the file's by its next request and asks again.
        let state = logins.store().state()?;
        let config = logins.config()?;
        let picked = match (&self.url, &self.name) {
            (Some(url), _) => server_for_url(&config, url)?,
            (None, Some(name)) => Some((name.as_str(), config.get(name)?)),
            (None, None) => config.active_server(),
        };
        let credential = match picked {
            Some((name, server)) if !self.no_secret => {
                let fresh = if server.auth == AuthKind::Sso {
                    let opts = RefreshOptions { refused: self.refused.clone(), ..RefreshOptions::default() };
                    super::runtime()?
                        .block_on(fresh_with(&logins, server, &opts))
                        .map_err(|e| super::sso_failure(name, e))?
                } else {
                    logins.secret(server)?.map(Fresh::stored)
                };
                fresh.map(|f| {
                    json!({
                        "scheme": if server.auth.uses_token() { "bearer" } else { "basic" },
                        "username": server.username,
                        "secret": f.secret.expose(),
                        // Single sign-on: the plugin asks again shortly before this.
                        "expires_at": f.expires_at,
                        // When core refreshes it: the plugin keeps the token until then.
                        "refresh_at": f.refresh_at,
                        // Single sign-on only: what to pass to --refused when the server
                        // refuses this token (its absence: nothing to refresh).
                        "fingerprint": f.fingerprint.as_ref().map(Fingerprint::as_str),
                        // The server's MLflow workspace (as this shell uses it: a project
                        // file's or a pinned one first), sent as X-MLFLOW-WORKSPACE with
                        // each request to this server; absent: the server has none.
                        "workspace": super::workspaces::in_this_shell(&config, name, server).workspace,
                    })
                })
            }
            _ => None,
        };
        let servers: Vec<Value> = config
            .servers
            .iter()
            .map(|(name, s)| {
                json!({
                    "name": name,
                    "url": s.url,
                    "auth": s.auth,
                    "username": s.username,
                })
            })
            .collect();
        let out = json!({
            "version": FORMAT_VERSION,
            "config_dir": logins.store().paths().dir(),
            "state": state,
            "active": config.active,
            "servers": servers,
            "server": picked.map(|(n, _)| n),
            "credential": credential,
        });
        outln!("{out}")?;
        Ok(())
    }
}

/// The server whose URL is the longest prefix of `url` (on a path-segment boundary), after
/// the same normalisation as a configured URL. The query and fragment are ignored. The
/// plugin repeats this choice on its cached server list (`python/src/mlflow_login/_resolver.py`,
/// `_Snapshot`); the two are tested against each other in `python/tests`.
fn server_for_url<'a>(config: &'a Config, url: &str) -> Result<Option<(&'a str, &'a Server)>, Failure> {
    let base = url.split(['?', '#']).next().unwrap_or_default();
    let normalized = normalize_url(base)?.to_string_normalized();
    // Two servers with the same URL (two accounts on one server): the active one wins, so
    // a switch moves the next request to the other account; else the first by name.
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
    fn bad_url_is_a_usage_error() {
        assert!(server_for_url(&config(), "not a url").is_err());
    }
}
