use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use mlflow_login_core::log_out;
use mlflow_login_core::oidc::Revoked;

use super::{Run, logins, runtime};
use crate::failure::Failure;
use crate::ui;

/// Delete a server's password from the keychain (the server stays configured). For single
/// sign-on, the refresh token is revoked at the identity provider first, when it offers
/// revocation; a personal access token minted from single sign-on is deleted on the server.
#[derive(Debug, Args)]
pub struct Logout {
    /// The server (default: the one this folder's project file selects, else the one
    /// pinned in this shell, else the active one).
    #[arg(conflicts_with = "all")]
    name: Option<String>,
    /// Log out of every server.
    #[arg(long)]
    all: bool,
}

impl Run for Logout {
    fn run(self) -> Result<(), Failure> {
        let logins = Arc::new(logins()?);
        let config = logins.config()?;
        let rt = runtime()?;
        let names: Vec<String> = if self.all {
            config.servers.keys().cloned().collect()
        } else {
            vec![super::project::resolve(&config, self.name.clone())?.0]
        };
        for name in names {
            let out = rt
                .block_on(log_out(&logins, &name, Duration::from_secs(10)))
                .map_err(|e| Failure::context(format!("could not log out of \"{name}\""), e))?;
            match out.token_revoked {
                Some(Ok(true)) => outln!("{name}: the server deleted the personal access token")?,
                Some(Ok(false)) => ui::note(format!("{name}: the server lists no such personal access token any more")),
                Some(Err(e)) => ui::warning(format!(
                    "{name}: could not delete the personal access token on the server ({e}): it works until it expires; delete it in the server's web UI"
                )),
                None => {}
            }
            report_revoked(&name, out.revoked)?;
            let noun = config.servers.get(&name).map_or("password", |s| {
                if s.personal_token.is_some() { "personal access token" } else { s.auth.secret_noun() }
            });
            if out.deleted {
                outln!("logged out of {name} (its {noun} removed from the keychain)")?;
            } else {
                outln!("{name}: nothing was stored (no {noun})")?;
            }
        }
        Ok(())
    }
}

/// What a revocation at the identity provider did (logout, remove), in words.
pub fn report_revoked(name: &str, revoked: Option<mlflow_login_core::Result<Revoked>>) -> Result<(), Failure> {
    match revoked {
        Some(Ok(Revoked::Done)) => outln!("{name}: the identity provider revoked the session's refresh token")?,
        Some(Ok(_)) => {
            ui::note(format!("{name}: the identity provider offers no revocation; the tokens expire on their own"))
        }
        Some(Err(e)) => {
            ui::warning(format!("{name}: could not revoke the refresh token at the identity provider: {e}"))
        }
        None => {}
    }
    Ok(())
}
