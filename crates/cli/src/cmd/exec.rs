use std::ffi::OsString;
use std::process::Command;

use clap::Args;
use mlflow_login_core::env::{EnvOptions, vars_for};

use super::{Run, logins};
use crate::failure::{self, Failure};

/// Run a command with a server's MLFLOW_TRACKING_* variables set, leaving your shell as
/// it is. The password goes through the environment, never the command line.
///
///   mlflow-login exec prod -- python train.py
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct Exec {
    /// The server (default: the one this shell's project file selects, else the one pinned
    /// with `use --here`, else the active one).
    name: Option<String>,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

impl Run for Exec {
    fn run(self) -> Result<(), Failure> {
        let logins = logins()?;
        let config = logins.config()?;
        let name = match self.name {
            Some(n) => Some(n),
            None => super::project::default_name(&config)?,
        };
        let (name, server) = config.resolve(name.as_deref())?;
        let server = &super::workspaces::in_this_shell(&config, &name, server);
        let Some(secret) = super::fresh_secret(&logins, &name, server)? else {
            let noun = server.auth.secret_noun();
            return Err(Failure::new(failure::REFUSED, format!("no {noun} stored for \"{name}\""))
                .help(format!("mlflow-login login {name}")));
        };
        let (program, args) = self.command.split_first().ok_or_else(|| Failure::usage("no command given"))?;
        let mut cmd = Command::new(program);
        cmd.args(args);
        for var in vars_for(&name, server, Some(&secret), EnvOptions::default()) {
            match &var.value {
                Some(v) => cmd.env(var.name, v.expose()),
                None => cmd.env_remove(var.name),
            };
        }
        drop(secret);
        run(cmd, program)
    }
}

#[cfg(unix)]
fn run(mut cmd: Command, program: &OsString) -> Result<(), Failure> {
    use std::os::unix::process::CommandExt;
    // The command's own core limit, not the one lowered while this process held the secret.
    mlflow_login_core::secret::restore_core_limit();
    // Replaces this process: signals, exit code and stdio are the command's own.
    let err = cmd.exec();
    Err(Failure::new(127, format!("cannot run {}: {err}", program.to_string_lossy())))
}

#[cfg(not(unix))]
fn run(mut cmd: Command, program: &OsString) -> Result<(), Failure> {
    let status =
        cmd.status().map_err(|e| Failure::new(127, format!("cannot run {}: {e}", program.to_string_lossy())))?;
    std::process::exit(status.code().unwrap_or(1));
}
