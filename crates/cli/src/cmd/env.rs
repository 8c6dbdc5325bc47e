use clap::{Args, ValueEnum};
use mlflow_login_core::env::{EnvOptions, vars_for};
use mlflow_login_core::shell::{Shell, render_env};

use super::{Run, logins};
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
    /// The server (default: the one pinned in this shell with `use --here`, else the active one).
    name: Option<String>,
    /// The shell to quote for (default: from $SHELL).
    #[arg(long, value_enum, conflicts_with = "format")]
    shell: Option<ShellArg>,
    /// Print another format instead of shell commands.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Export no password: set MLFLOW_TRACKING_AUTH=mlflow-login so the MLflow Login plugin
    /// reads the keychain per request.
    #[arg(long)]
    no_password: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ShellArg {
    Bash,
    Zsh,
    Fish,
    #[value(alias = "powershell")]
    Pwsh,
    Cmd,
    #[value(alias = "sh")]
    Posix,
}

impl ShellArg {
    pub fn to_shell(self) -> Shell {
        match self {
            ShellArg::Bash => Shell::Bash,
            ShellArg::Zsh => Shell::Zsh,
            ShellArg::Fish => Shell::Fish,
            ShellArg::Pwsh => Shell::Pwsh,
            ShellArg::Cmd => Shell::Cmd,
            ShellArg::Posix => Shell::Posix,
        }
    }

    /// The user's shell from `$SHELL` (POSIX sh when unknown).
    pub fn from_env() -> Self {
        let shell = std::env::var("SHELL").unwrap_or_default();
        match shell.rsplit('/').next().unwrap_or_default() {
            "bash" => ShellArg::Bash,
            "zsh" => ShellArg::Zsh,
            "fish" => ShellArg::Fish,
            "pwsh" | "powershell" => ShellArg::Pwsh,
            _ if cfg!(windows) => ShellArg::Pwsh,
            _ => ShellArg::Posix,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// KEY="value" lines (python-dotenv / docker --env-file style quoting).
    Dotenv,
    /// One JSON object of the variables that are set.
    Json,
}

impl Run for Env {
    fn run(self) -> Result<(), Failure> {
        let logins = logins()?;
        let name = self.name.or_else(super::init::pin_from_env);
        let (name, server, secret) = logins.resolve(name.as_deref())?;
        if secret.is_none() && !self.no_password {
            ui::warning(format!("no password is stored for \"{name}\": run `mlflow-login login {name}`"));
        }
        let vars = vars_for(&name, &server, secret.as_ref(), EnvOptions { no_password: self.no_password });
        let out = match self.format {
            Some(Format::Json) => {
                let map: serde_json::Map<String, serde_json::Value> = vars
                    .iter()
                    .filter_map(|v| v.value.as_ref().map(|x| (v.name.to_string(), x.expose().into())))
                    .collect();
                format!("{}\n", serde_json::Value::Object(map))
            }
            Some(Format::Dotenv) => vars
                .iter()
                .filter_map(|v| v.value.as_ref().map(|x| format!("{}={}\n", v.name, dotenv_quote(x.expose()))))
                .collect(),
            None => render_env(self.shell.unwrap_or_else(ShellArg::from_env).to_shell(), &vars),
        };
        out!("{out}")?;
        Ok(())
    }
}

/// Double-quoted, with the escapes python-dotenv understands.
fn dotenv_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
