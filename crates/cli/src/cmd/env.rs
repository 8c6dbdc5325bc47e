use clap::{Args, ValueEnum};
use mlflow_login_core::env::{EnvOptions, SecretMode, vars_for};
use mlflow_login_core::shell::{Shell, render_dotenv, render_env, render_json};

use super::{Run, logins, shell_parser};
use crate::failure::Failure;
use crate::ui;

/// Print the MLFLOW_TRACKING_* variables of a server, quoted for your shell.
///
///   eval "$(mlflow-login env prod --shell bash)"
///   mlflow-login env --format dotenv > .env     # careful: the file then holds the password
///
/// Needs no network: it reads the config and the keychain.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct Env {
    /// The server (default: the one the project file here selects, else the one pinned
    /// with `use --here`, else the active one).
    name: Option<String>,
    /// The shell to quote for (default: from $SHELL).
    #[arg(long, value_parser = shell_parser(), conflicts_with = "format")]
    shell: Option<Shell>,
    /// Print another format instead of shell commands.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Export no password: set MLFLOW_TRACKING_AUTH=mlflow-login so the MLflow Login plugin
    /// reads the keychain per request.
    #[arg(long)]
    no_password: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// KEY='value' lines that python-dotenv, npm dotenv and docker compose read back
    /// unchanged; a value that none of their quotings keeps is refused (see docs/shells.md).
    Dotenv,
    /// One JSON object of the variables that are set.
    Json,
}

impl Run for Env {
    fn run(self) -> Result<(), Failure> {
        let logins = logins()?;
        let config = logins.config()?;
        let (name, server) = super::project::resolve(&config, self.name)?;
        let server = &super::workspaces::in_this_shell(&config, &name, server);
        let secret = if self.no_password { None } else { super::fresh_secret(&logins, &name, server)? };
        if secret.is_none() && !self.no_password {
            let noun = server.auth.secret_noun();
            ui::warning(format!("no {noun} stored for \"{name}\": run `mlflow-login login {name}`"));
        }
        let mode = if self.no_password { SecretMode::Plugin } else { SecretMode::Export };
        let vars = vars_for(&name, server, secret.as_ref(), EnvOptions { secret: mode });
        let out = match self.format {
            Some(Format::Json) => render_json(&vars),
            Some(Format::Dotenv) => render_dotenv(&vars)?,
            None => render_env(self.shell.unwrap_or_else(Shell::detect), &vars),
        };
        out!("{out}")?;
        Ok(())
    }
}
