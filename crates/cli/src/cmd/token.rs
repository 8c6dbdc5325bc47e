use clap::Args;
use mlflow_login_core::AuthKind;

use super::{Run, fresh_secret, logins};
use crate::failure::{self, Failure};

/// Print a fresh access token for a token or single sign-on server, for tools that are not
/// MLflow (curl, R, Java). Single sign-on tokens are refreshed first when near expiry.
///
///   curl -H "Authorization: Bearer $(mlflow-login token prod)" "$URL/api/2.0/mlflow/experiments/search"
///
/// The token is printed on standard output only: capture it, do not paste it into files.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct Token {
    /// The server (default: the active one).
    name: Option<String>,
}

impl Run for Token {
    fn run(self) -> Result<(), Failure> {
        let logins = logins()?;
        let config = logins.config()?;
        let name = self.name.or_else(mlflow_login_core::shell::pin_from_env);
        let (name, server) = config.resolve(name.as_deref())?;
        if server.auth == AuthKind::Basic {
            return Err(Failure::usage(format!("\"{name}\" takes a username and password, not a token"))
                .help(format!("for its variables: mlflow-login env {name}")));
        }
        let Some(token) = fresh_secret(&logins, &name, server)? else {
            return Err(Failure::new(
                failure::REFUSED,
                format!("no {} stored for \"{name}\"", server.auth.secret_noun()),
            )
            .help(format!("mlflow-login login {name}")));
        };
        println!("{}", token.expose());
        Ok(())
    }
}
