//! `init SHELL` (the shell integration) and the hidden `hook-env` that its prompt hook
//! runs when the state file changed.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use mlflow_login_core::env::{self, EnvOptions, EnvVar, SecretMode, vars_cleared, vars_for};
use mlflow_login_core::oidc::MAX_REFRESH_MARGIN_SECS;
use mlflow_login_core::project::{self, Choice, Project};
use mlflow_login_core::shell::{
    HINTED_ENV, HINTED_VAR, InitOptions, Shell, pin_from_env, pin_workspace_from_env, render_due, render_env,
    render_init, render_state,
};
use mlflow_login_core::vault::Wait;
use mlflow_login_core::workspaces;
use mlflow_login_core::{
    AuthKind, ConfigStore, EntryKey, ErrorKind, KeyringVault, Logins, Paths, Secret, Server, Vault, fresh_credential,
};

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
        let (pin, pin_ws) = (pin_from_env(), pin_workspace_from_env());
        out.push_str(&hook_exports(self.shell, mode, pin.as_deref(), pin_ws.as_deref(), Start::Yes));
        out!("{out}")?;
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
        let (pin, pin_ws) = (pin_from_env(), pin_workspace_from_env());
        out!("{}", hook_exports(self.shell, mode, pin.as_deref(), pin_ws.as_deref(), Start::No))?;
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

/// What a hooked shell evaluates: the variables of the server this shell uses (see
/// [`Choice`]: the project file in force, else `pin`, else the active server; all unset
/// when there is none, except at start-up; the workspace by core's
/// `workspaces::for_shell`, `pin_workspace` for a pinned shell), then the project file in force
/// ([`project::PROJECT_ENV`]) and the state they belong to.
///
/// At start-up the project file is looked for from the current folder; later the hook
/// passes the one it found in `MLFLOW_LOGIN_PROJECT`. A project URL that no known server
/// has gets the bare URI, no credential, and a one-line hint, once per shell and project
/// (the shell remembers the hinted files in `__mll_hinted`, passed as `__MLL_HINTED`).
///
/// It never fails: its output is evaluated at a prompt, so a problem is a warning on
/// stderr and the shell keeps what it can. The state is read before the config, so a
/// change that lands in between is picked up at the next prompt.
pub fn hook_exports(
    shell: Shell,
    mode: SecretMode,
    pin: Option<&str>,
    pin_workspace: Option<&str>,
    start: Start,
) -> String {
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
    let (file, hinted) = match start {
        Start::Yes => {
            (std::env::current_dir().ok().and_then(|d| project::find(&d, home().as_deref())), Some(String::new()))
        }
        Start::No => (project::file_from_env(), std::env::var(HINTED_ENV).ok()),
    };
    let project = file.as_deref().and_then(|f| match project::load(f) {
        Ok(p) => Some(p),
        Err(e) => {
            warn(format!("{e}; this shell ignores the project file"));
            None
        }
    });
    let syntax = shell.syntax();
    let opts = EnvOptions { secret: mode };
    let mut out = String::new();
    // When the exported single sign-on token needs refreshing: the hook runs us again then.
    let mut due = None;
    match store.load() {
        Err(e) => warn(format!("{e}; this shell keeps its MLFLOW_TRACKING_* variables")),
        Ok(config) => {
            let choice = Choice::make(&config, project, pin);
            let vars = match &choice {
                Choice::Nothing if start == Start::Yes => Vec::new(),
                Choice::Nothing => vars_cleared(opts),
                Choice::Project { project, server: None } => {
                    let file = project.file.to_string_lossy();
                    if let Some(seen) = &hinted
                        && !seen.lines().any(|l| l == file)
                    {
                        eprintln!("this project logs to {} — {}", project.url, project.login_command());
                        out.push_str(&syntax.set_var(HINTED_VAR, &format!("{seen}{file}\n")));
                    }
                    unknown_project_vars(project, opts)
                }
                Choice::Project { server: Some(name), .. } | Choice::Pin(name) | Choice::Active(name) => {
                    match config.servers.get(name) {
                        None => {
                            warn(format!(
                                "\"{name}\", pinned in this shell, no longer exists: its variables are unset (`mlflow-login use --unpin` follows the active server again)"
                            ));
                            vars_cleared(opts)
                        }
                        Some(server) => {
                            let server = &workspaces::for_shell(&choice, server, pin_workspace);
                            let secret = if mode != SecretMode::Export {
                                None
                            } else if server.auth == AuthKind::Sso {
                                let logins = Logins::new(store.clone(), hook_vault());
                                let (token, when) = fresh_token(&logins, name, server, &warn);
                                due = when;
                                token
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
                    }
                }
            };
            out.push_str(&render_env(shell, &vars));
        }
    }
    // The file the hook found, even one that does not parse: the hook then stays quiet
    // until the shell enters or leaves a project again.
    out.push_str(&match &file {
        Some(f) => syntax.set_env(project::PROJECT_ENV, &f.to_string_lossy()),
        None => syntax.unset_env(project::PROJECT_ENV),
    });
    out.push_str(&render_state(shell, &state));
    out.push_str(&render_due(shell, due));
    out
}

/// How long a hooked shell waits before asking again after a refresh failed for a reason
/// other than an ended session (the identity provider or the keychain did not answer).
const RETRY_SECS: u64 = 60;

/// A fresh single sign-on access token for the hook (refreshed first when near expiry),
/// and when the hook must run `hook-env` again ([`render_due`]): when core will refresh
/// it. A failure is a warning: no token is exported, and the hook asks again in
/// [`RETRY_SECS`] unless only a new login helps (which rewrites the state file).
fn fresh_token<V: Vault>(
    logins: &Logins<V>,
    name: &str,
    server: &Server,
    warn: &dyn Fn(String),
) -> (Option<Secret>, Option<u64>) {
    let now = now_unix();
    let result = match super::runtime() {
        Ok(rt) => rt.block_on(fresh_credential(logins, server)),
        Err(f) => {
            warn(f.message);
            return (None, Some(now + RETRY_SECS));
        }
    };
    match result {
        // Core's own time when it says; else estimated from the expiry.
        Ok(Some(fresh)) => {
            let due = fresh.refresh_at.map(|r| r.max(now + 1)).or(fresh.expires_at.map(|e| refresh_due(e, now)));
            (Some(fresh.secret), due)
        }
        Ok(None) => (None, None),
        Err(e) => {
            let ended = e.kind() == ErrorKind::LoginRequired;
            let f = super::sso_failure(name, e);
            let help = f.help.map(|h| format!(" ({h})")).unwrap_or_default();
            warn(format!("{}: no token exported for \"{name}\"{help}", f.message));
            (None, (!ended).then_some(now + RETRY_SECS))
        }
    }
}

/// When core will refresh a token that expires at `expires_at` (core's rule,
/// `TokenSet::refresh_margin`: 60 s, or a tenth of the lifetime when shorter), seen from
/// `now`. The lifetime left now is at most the token's whole lifetime, so this is never
/// before core's own time: the `hook-env` it triggers always finds the token near expiry
/// and gets a new one, never the same one back.
fn refresh_due(expires_at: u64, now: u64) -> u64 {
    let margin = (expires_at.saturating_sub(now) / 10).min(MAX_REFRESH_MARGIN_SECS);
    // A token handed out already due (a clock step): not at every prompt.
    expires_at.saturating_sub(margin).max(now + 1)
}

fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A project's URL that no known server has: the bare URI (users expect their project's
/// URI) and the project's CA bundle, every credential variable unset, the plugin not
/// selected. Stored credentials never go to a URL because a project file named it.
fn unknown_project_vars(project: &Project, opts: EnvOptions) -> Vec<EnvVar> {
    let mut vars: Vec<EnvVar> =
        vars_cleared(EnvOptions { secret: SecretMode::Plugin }).into_iter().filter(|v| v.name != env::URI).collect();
    if opts.secret != SecretMode::Plugin {
        // vars_cleared(Plugin) unsets MLFLOW_TRACKING_AUTH too: only ours to unset in that mode.
        vars.retain(|v| v.name != env::TRACKING_AUTH);
    }
    vars.retain(|v| v.name != env::SERVER_CERT);
    vars.push(EnvVar { name: env::URI, value: Some(Secret::new(project.url.clone())) });
    vars.push(match &project.ca_bundle {
        Some(p) => EnvVar { name: env::SERVER_CERT, value: Some(Secret::new(p.to_string_lossy().into_owned())) },
        None => EnvVar { name: env::SERVER_CERT, value: None },
    });
    vars
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from)
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
