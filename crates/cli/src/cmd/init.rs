//! `init SHELL` (the shell integration) and the hidden `hook-env` that its prompt hook
//! runs when the state file changed.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use mlflow_login_core::env::{EnvOptions, SecretMode, vars_cleared, vars_for};
use mlflow_login_core::shell::{InitOptions, Shell, pin_from_env, render_env, render_init, render_state};
use mlflow_login_core::vault::Wait;
use mlflow_login_core::{AuthKind, ConfigStore, EntryKey, KeyringVault, Logins, Paths, Vault};

use super::{Run, shell_parser};
use crate::failure::Failure;
use crate::ui;

/// Print the shell integration: every shell that runs it follows the active server.
#[derive(Debug, Args)]
#[command(long_about = long_about())]
pub struct Init {
    /// Your shell.
    #[arg(value_parser = shell_parser())]
    shell: Shell,
    /// Export no password or token: set MLFLOW_TRACKING_AUTH=mlflow-login instead, so the
    /// MLflow Login plugin for Python reads the keychain per request.
    #[arg(long, conflicts_with = "export_password")]
    no_password: bool,
    /// Export the password (or token) too, where the shell does not by default (POSIX sh).
    /// In ~/.profile that puts it in the environment of your whole desktop session: every
    /// program you start can read it, and it stays there until you log out.
    #[arg(long)]
    export_password: bool,
}

/// `init --help`: the line for each shell, from core's shell table.
fn long_about() -> String {
    let mut lines = String::new();
    for shell in Shell::ALL.iter().filter(|s| s.template().is_some()) {
        let rc = format!("({})", shell.rc_file().unwrap_or_default());
        lines.push_str(&format!("  {:<6}{rc:<30}{}\n", shell.name(), shell.init_line("")));
    }
    format!(
        "Print the shell integration: every shell that runs it follows the active server.

Add the line for your shell to its start-up file, then open a new shell:

{lines}
The shell starts with the active server's MLFLOW_TRACKING_* variables and, at each
prompt, picks up a switch, login or logout made anywhere (tray, other terminals). An
unchanged prompt costs no process.

POSIX sh has no prompt hook: it gets the variables at start-up only (run
`mlflow_login_refresh` to catch up), and no password: ~/.profile is also read by the
desktop session, so every program you start would get it. Run what needs the password
with `mlflow-login exec NAME -- COMMAND`, use the MLflow Login plugin for Python, or opt
in with `--export-password`.

It also defines an `mlflow-login` function, so that `mlflow-login use NAME --here` can
pin a server in this shell only, and MLFLOW_LOGIN_SERVER names the server for your
prompt (starship `env_var`, PS1)."
    )
}

impl Run for Init {
    fn run(self) -> Result<(), Failure> {
        let paths = Paths::from_env()?;
        let program = program_path()?;
        let opts = InitOptions {
            program: &program,
            state_file: &paths.state_file(),
            no_password: self.no_password,
            export_password: self.export_password,
        };
        let mut out = render_init(self.shell, &opts)?;
        out.push('\n');
        let mode = self.shell.secret_mode(self.no_password, self.export_password);
        out.push_str(&hook_exports(self.shell, mode, pin_from_env().as_deref(), Start::Yes));
        print!("{out}");
        Ok(())
    }
}

/// The new exports for a hooked shell. Run by the prompt hook when the state file changed.
#[derive(Debug, Args)]
pub struct HookEnv {
    /// The shell to print for.
    #[arg(long, value_parser = shell_parser())]
    shell: Shell,
    /// As `init --no-password`.
    #[arg(long, conflicts_with = "export_password")]
    no_password: bool,
    /// As `init --export-password`.
    #[arg(long)]
    export_password: bool,
}

impl Run for HookEnv {
    fn run(self) -> Result<(), Failure> {
        let mode = self.shell.secret_mode(self.no_password, self.export_password);
        print!("{}", hook_exports(self.shell, mode, pin_from_env().as_deref(), Start::No));
        Ok(())
    }
}

/// Whether [`hook_exports`] runs for a shell's start-up (`init`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// At start-up with no server active, variables the user set elsewhere are left alone.
    Yes,
    /// Later, no server active means the hook unsets what it had set.
    No,
}

/// What a hooked shell evaluates: the variables of `pin` (or of the active server; all
/// unset when there is none, except at start-up), then the state they belong to.
///
/// It never fails: its output is evaluated at a prompt, so a problem is a warning on
/// stderr and the shell keeps what it can. The state is read before the config, so a
/// change that lands in between is picked up at the next prompt.
pub fn hook_exports(shell: Shell, mode: SecretMode, pin: Option<&str>, start: Start) -> String {
    let warn = |m: String| ui::warning(format!("mlflow-login: {m}"));
    let store = match ConfigStore::from_env() {
        Ok(s) => s,
        Err(e) => {
            warn(e.to_string());
            return String::new();
        }
    };
    let state = store.state().unwrap_or_else(|e| {
        warn(e.to_string());
        String::new()
    });
    let opts = EnvOptions { secret: mode };
    let mut out = String::new();
    match store.load() {
        Err(e) => warn(format!("{e}; this shell keeps its MLFLOW_TRACKING_* variables")),
        Ok(config) => {
            let vars = match pin.or(config.active.as_deref()) {
                None if start == Start::Yes => Vec::new(),
                None => vars_cleared(opts),
                Some(name) => match config.servers.get(name) {
                    None => {
                        warn(format!(
                            "\"{name}\", pinned in this shell, no longer exists: its variables are unset (`mlflow-login use --unpin` follows the active server again)"
                        ));
                        vars_cleared(opts)
                    }
                    Some(server) => {
                        let secret = if mode != SecretMode::Export {
                            None
                        } else if server.auth == AuthKind::Sso {
                            // A fresh access token (refreshed when near expiry).
                            let logins = Logins::new(store.clone(), hook_vault());
                            super::fresh_secret(&logins, name, server).unwrap_or_else(|f| {
                                warn(format!("{}; no token exported for \"{name}\"", f.message));
                                None
                            })
                        } else {
                            hook_vault().get(&EntryKey::for_server(server)).unwrap_or_else(|e| {
                                let help = e.help().map(|h| format!(" ({h})")).unwrap_or_default();
                                warn(format!(
                                    "{e}: no password exported for \"{name}\"; run `mlflow-login use {name}` once it works{help}"
                                ));
                                None
                            })
                        };
                        vars_for(name, server, secret.as_ref(), opts)
                    }
                },
            };
            out.push_str(&render_env(shell, &vars));
        }
    }
    out.push_str(&render_state(shell, &state));
    out
}

/// The keychain for a prompt: a shell must not hang for minutes on an unlock prompt, so
/// the wait is at most 10 s unless MLFLOW_LOGIN_KEYCHAIN_TIMEOUT says otherwise.
fn hook_vault() -> KeyringVault {
    let mut wait = Wait::for_environment();
    if std::env::var_os("MLFLOW_LOGIN_KEYCHAIN_TIMEOUT").is_none() {
        wait.limit = wait.limit.min(Duration::from_secs(10));
    }
    KeyringVault::new(wait).on_wait(|m| ui::note(m))
}

/// This program's absolute path as it was started, symlinks kept, so that an upgrade that
/// moves the real file (a Homebrew cellar, say) does not break the hook.
fn program_path() -> Result<PathBuf, Failure> {
    let arg0 = std::env::args_os().next().map(PathBuf::from).unwrap_or_default();
    let candidate = if arg0.components().count() > 1 {
        std::path::absolute(&arg0).ok()
    } else {
        std::env::var_os("PATH")
            .and_then(|path| std::env::split_paths(&path).map(|d| d.join(&arg0)).find(|p| p.is_file()))
            .and_then(|p| std::path::absolute(p).ok())
    };
    match candidate.filter(|p| p.is_file()) {
        Some(p) => Ok(p),
        None => std::env::current_exe().map_err(|e| {
            Failure::new(crate::failure::OTHER, format!("cannot find the mlflow-login program's path: {e}"))
        }),
    }
}
