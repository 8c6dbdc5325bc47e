use std::ffi::OsString;
use std::process::Command;

use clap::Args;
use mlflow_login_core::env::{EnvOptions, vars_for};

use super::{Run, logins};
use crate::failure::{self, Failure};

/// Run a command with a server's MLFLOW_TRACKING_* variables set, leaving your shell as
/// it is. The password goes through the environment, never the command line.
///
/// With --proxy the command gets no credential at all: MLFLOW_TRACKING_URI points at a
/// local proxy (see `mlflow-login proxy`) that lives as long as the command. For R, Java
/// and long single sign-on runs, whose clients read a token once.
///
///   mlflow-login exec prod -- python train.py
///   mlflow-login exec --proxy prod -- Rscript train.R
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct Exec {
    /// The server (default: the one the project file here selects, else the one pinned
    /// with `use --here`, else the active one).
    name: Option<String>,
    /// Start a local proxy for the command's lifetime; the command gets only
    /// MLFLOW_TRACKING_URI (pointing at it), and this exits with the command's code.
    #[arg(long)]
    proxy: bool,
    /// The command and its arguments, after `--`.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

impl Run for Exec {
    fn run(self) -> Result<(), Failure> {
        if self.proxy {
            return with_proxy(self.name, &self.command);
        }
        let logins = logins()?;
        let config = logins.config()?;
        let (name, server) = super::project::resolve(&config, self.name)?;
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

/// `exec --proxy`: the command runs as a child (this process serves its requests) with
/// the proxy's tracking URI and none of the credential variables.
fn with_proxy(name: Option<String>, command: &[OsString]) -> Result<(), Failure> {
    let served = super::proxy::Served::start(name, 0)?;
    let (program, args) = command.split_first().ok_or_else(|| Failure::usage("no command given"))?;
    let mut cmd = Command::new(program);
    cmd.args(args);
    // Every MLFLOW_TRACKING_* variable may carry a credential or point a client elsewhere
    // (MLflow reads more of them than this tool sets): none reaches the command.
    let inherited = std::env::vars_os().map(|(name, _)| name);
    let tracking = inherited.filter(|name| name.to_str().is_some_and(|n| n.starts_with("MLFLOW_TRACKING_")));
    for name in tracking.collect::<Vec<_>>() {
        cmd.env_remove(name);
    }
    for name in mlflow_login_core::env::MANAGED {
        cmd.env_remove(name);
    }
    cmd.env(mlflow_login_core::env::URI, served.proxy.tracking_uri().expose());
    cmd.env(mlflow_login_core::env::SERVER_NAME, &served.name);
    let mut child =
        cmd.spawn().map_err(|e| Failure::new(127, format!("cannot run {}: {e}", program.to_string_lossy())))?;
    // Ctrl-C reaches the command (same process group) and ends it; this process stays to
    // serve the command's last requests and report its exit code.
    let status = served.runtime.block_on(async {
        let wait = tokio::task::spawn_blocking(move || child.wait());
        tokio::pin!(wait);
        loop {
            tokio::select! {
                status = &mut wait => return status,
                _ = tokio::signal::ctrl_c() => {}
            }
        }
    });
    let status = status
        .map_err(|e| Failure::new(failure::OTHER, format!("cannot wait for {}: {e}", program.to_string_lossy())))?
        .map_err(|e| Failure::new(failure::OTHER, format!("cannot wait for {}: {e}", program.to_string_lossy())))?;
    drop(served);
    std::process::exit(exit_code(status));
}

#[cfg(unix)]
fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt as _;
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

#[cfg(not(unix))]
fn exit_code(status: std::process::ExitStatus) -> i32 {
    status.code().unwrap_or(1)
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
