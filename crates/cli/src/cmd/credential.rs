//! `mlflow-login credential`: the hidden subcommand the Python auth plugin calls. The
//! answer, its version and the server choice are core's (`credential` module); this
//! picks the server and reads its credential.
//!
//! Single sign-on: the credential carries the access token's fingerprint (not secret).
//! When the MLflow server refuses the token, the plugin runs `credential --refused FP`
//! once: a new token, refreshed at the identity provider unless another process did it
//! already (core's `RefreshOptions::refused`).

use clap::Args;
use mlflow_login_core::credential::{self, Answer, server_for_url};
use mlflow_login_core::fresh::fresh_now;
use mlflow_login_core::oidc::{Fingerprint, RefreshOptions};

use super::{Run, logins};
use crate::failure::Failure;

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
                let opts = RefreshOptions { refused: self.refused.clone(), ..RefreshOptions::default() };
                let fresh = fresh_now(&logins, name, server, &opts).map_err(|e| super::sso_failure(name, e))?;
                // The workspace as this shell uses it (a project file's or a pinned one first).
                let server = &super::workspaces::in_this_shell(&config, name, server);
                fresh.map(|f| credential::Credential::new(server, f))
            }
            _ => None,
        };
        let mut answer = Answer::new(logins.store().paths().dir().to_path_buf(), state, &config);
        answer.server = picked.map(|(n, _)| n.to_string());
        answer.credential = credential;
        let out = answer.to_json();
        outln!("{out}")?;
        Ok(())
    }
}
