use clap::Args;
use mlflow_login_core::AuthKind;
use mlflow_login_core::fresh::fresh_now;
use mlflow_login_core::oidc::RefreshOptions;

use super::{Run, fresh_secret, logins, sso_failure};
use crate::failure::{self, Failure};

/// Print a fresh access token for a token or single sign-on server, for tools that are not
/// MLflow (curl, R, Java). Single sign-on tokens are refreshed first when near expiry.
///
///   curl -H "Authorization: Bearer $(mlflow-login token prod)" "$URL/api/2.0/mlflow/experiments/search"
///
/// When the server refuses a single sign-on token that should still be valid (HTTP 401),
/// `mlflow-login token prod --refresh` gets a new one.
///
/// The token is printed on standard output only: capture it, do not paste it into files.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct Token {
    /// The server (default: the one the project file here selects, else the one pinned
    /// with `use --here`, else the active one).
    name: Option<String>,
    /// Single sign-on: get a new token from the identity provider now, even if the current
    /// one has not expired (e.g. after the server refused it).
    #[arg(long)]
    refresh: bool,
}

impl Run for Token {
    fn run(self) -> Result<(), Failure> {
        let logins = logins()?;
        let config = logins.config()?;
        let (name, server) = super::project::resolve(&config, self.name)?;
        if server.auth == AuthKind::Basic {
            return Err(Failure::usage(format!("\"{name}\" takes a username and password, not a token"))
                .help(format!("for its variables: mlflow-login env {name}")));
        }
        let token = match (self.refresh, server.auth) {
            (false, _) => fresh_secret(&logins, &name, server)?,
            (true, AuthKind::Sso) => {
                let opts = RefreshOptions { force: true, ..RefreshOptions::default() };
                fresh_now(&logins, &name, server, &opts).map_err(|e| sso_failure(&name, e))?.map(|f| f.secret)
            }
            (true, _) => {
                return Err(Failure::usage(format!(
                    "\"{name}\" uses a fixed token, which cannot be refreshed (only single sign-on tokens can)"
                ))
                .help(format!("store a new token: mlflow-login login {name}")));
            }
        };
        let Some(token) = token else {
            return Err(Failure::new(
                failure::REFUSED,
                format!("no {} stored for \"{name}\"", server.auth.secret_noun()),
            )
            .help(format!("mlflow-login login {name}")));
        };
        outln!("{}", token.expose())?;
        Ok(())
    }
}
