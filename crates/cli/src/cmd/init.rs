//! `init SHELL` (the shell integration) and the hidden `hook-env` that its prompt hook
//! runs when the state file changed.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use mlflow_login_core::choose::{self, Choice, Found};
use mlflow_login_core::env::{self, EnvOptions, EnvVar, SecretMode, vars_cleared, vars_for};
use mlflow_login_core::fresh::fresh_now;
use mlflow_login_core::oidc::RefreshOptions;
use mlflow_login_core::project::{self, Ignored, Project};
use mlflow_login_core::shell::{
    HINTED_ENV, HINTED_VAR, InitOptions, Now, Shell, pin_from_env, pin_workspace_from_env, render_due, render_env,
    render_init, render_state,
};
use mlflow_login_core::vault::Wait;
use mlflow_login_core::{AuthKind, ConfigStore, ErrorKind, KeyringVault, Logins, Paths, Secret, Server, Vault};

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

/// What a hooked shell evaluates: the variables of the server this shell uses (core's
/// [`choose`]: the project file in force, else `pin`, else the active server; all unset
/// when there is none, except at start-up; the workspace in force by
/// `choose::Chosen::in_force`, `pin_workspace` for a pinned shell), then the project file in force
/// ([`project::PROJECT_ENV`]) and the state they belong to.
///
/// At start-up the project file is looked for from the current folder; later the hook
/// passes the one its builtin walk found in `MLFLOW_LOGIN_PROJECT` (empty: none), and
/// core decides whether it may be trusted. A project URL that no known server has gets
/// the bare URI, no credential, and a one-line hint; a project file that is not trusted,
/// or whose URL would meet a plain-text credential MLflow reads by itself, gets a hint
/// saying why. Each hint shows once per shell and project file (the shell remembers the
/// hinted files in `__mll_hinted`, passed as `__MLL_HINTED`).
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
        Start::Yes => (choose::walk_from_cwd(), Some(String::new())),
        Start::No => (project::file_from_env().map(|f| (f, Found::Hook)), std::env::var(HINTED_ENV).ok()),
    };
    let syntax = shell.syntax();
    let opts = EnvOptions { secret: mode };
    let mut out = String::new();
    // Once per shell and project file: the hint is shown and the file remembered.
    let mut hinted_files = hinted.clone();
    let mut hint_once = |file: &std::path::Path, text: String| {
        let file = file.to_string_lossy();
        if let Some(seen) = &mut hinted_files
            && !seen.lines().any(|l| l == file)
        {
            errln!("{text}");
            seen.push_str(&format!("{file}\n"));
        }
    };
    // When the exported single sign-on token needs refreshing: the hook runs us again then.
    let mut due = None;
    match store.load() {
        Err(e) => warn(format!("{e}; this shell keeps its MLFLOW_TRACKING_* variables")),
        Ok(config) => {
            let cx = choose::Context {
                project_file: file.clone(),
                pin: pin.map(str::to_string),
                pin_workspace: pin_workspace.map(str::to_string),
            };
            let chosen = choose::choose(&config, &cx);
            match &chosen.ignored {
                Some(ignored @ Ignored::Untrusted { file, .. }) => {
                    hint_once(file, format!("mlflow-login: {ignored} (`mlflow-login doctor` says more)"));
                }
                Some(ignored) => warn(format!("{ignored} by this shell")),
                None => {}
            }
            let vars = match &chosen.choice {
                Choice::Nothing if start == Start::Yes => Vec::new(),
                Choice::Nothing => vars_cleared(opts),
                Choice::Project { project, server: None } => {
                    let home = home().unwrap_or_default();
                    let plain =
                        mlflow_login_core::import::ambient_credential(&project.url, &home, &|v| std::env::var_os(v));
                    let text = match &plain {
                        None => format!("this project logs to {} — {}", project.url, project.login_command()),
                        Some(f) => format!(
                            "this project logs to {}, which this shell does not set: {} holds a password that MLflow \
                             would send there — `mlflow-login import` moves it into the keychain; then {}",
                            project.url,
                            f.display(),
                            project.login_command()
                        ),
                    };
                    hint_once(&project.file, text);
                    unknown_project_vars(project, opts, plain.is_none())
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
                            let server = &chosen.in_force(name, server);
                            let secret = if mode == SecretMode::Export {
                                let logins = Logins::new(store.clone(), hook_vault());
                                let (secret, when) = hook_secret(&logins, name, server, &warn);
                                due = when;
                                secret
                            } else {
                                None
                            };
                            vars_for(name, server, secret.as_ref(), opts)
                        }
                    }
                }
            };
            out.push_str(&render_env(shell, &vars));
        }
    }
    if let Some(seen) = hinted_files.filter(|h| Some(h) != hinted.as_ref()) {
        out.push_str(&syntax.set_var(HINTED_VAR, &seen));
    }
    // The file the hook found, even one that is ignored: the hook then stays quiet until
    // the shell enters or leaves a project again.
    out.push_str(&match &file {
        Some((f, _)) => syntax.set_env(project::PROJECT_ENV, &f.to_string_lossy()),
        None => syntax.unset_env(project::PROJECT_ENV),
    });
    out.push_str(&render_state(shell, &state));
    out.push_str(&render_due(shell, due, Now::read()));
    out
}

/// How long a hooked shell waits before asking again after a single sign-on refresh
/// failed for a reason other than an ended session (the identity provider or the keychain
/// did not answer).
const RETRY_SECS: u64 = 60;

/// The secret the hook exports for `server`, through core's `fresh_now` (single sign-on:
/// refreshed first when due), and when the hook must run `hook-env` again
/// ([`render_due`]): when core will refresh the token (`refresh_at`). A failure is a
/// warning: nothing is exported, and for single sign-on the hook asks again in
/// [`RETRY_SECS`] unless only a new login helps (which rewrites the state file).
fn hook_secret<V: Vault>(
    logins: &Logins<V>,
    name: &str,
    server: &Server,
    warn: &dyn Fn(String),
) -> (Option<Secret>, Option<u64>) {
    let now = now_unix();
    match fresh_now(logins, name, server, &RefreshOptions::default()) {
        Ok(Some(fresh)) => (Some(fresh.secret), fresh.refresh_at.map(|r| r.max(now + 1))),
        Ok(None) => (None, None),
        Err(e) if server.auth == AuthKind::Sso => {
            let ended = e.kind() == ErrorKind::LoginRequired;
            let f = super::sso_failure(name, e);
            let help = f.help.map(|h| format!(" ({h})")).unwrap_or_default();
            warn(format!("{}: no token exported for \"{name}\"{help}", f.message));
            (None, (!ended).then_some(now + RETRY_SECS))
        }
        Err(e) => {
            let help = e.help().map(|h| format!(" ({h})")).unwrap_or_default();
            warn(format!(
                "{e}: no password exported for \"{name}\"; run `mlflow-login use {name}` once it works{help}"
            ));
            (None, None)
        }
    }
}

fn now_unix() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// A project's URL that no known server has: the bare URI (users expect their project's
/// URI) when `with_uri`, and the project's CA bundle, every credential variable unset,
/// the plugin not selected. Stored credentials never go to a URL because a project file
/// named it; without `with_uri` (a plain-text credential MLflow would send there by
/// itself) the URI is unset too.
fn unknown_project_vars(project: &Project, opts: EnvOptions, with_uri: bool) -> Vec<EnvVar> {
    let mut vars: Vec<EnvVar> =
        vars_cleared(EnvOptions { secret: SecretMode::Plugin }).into_iter().filter(|v| v.name != env::URI).collect();
    if opts.secret != SecretMode::Plugin {
        // vars_cleared(Plugin) unsets MLFLOW_TRACKING_AUTH too: only ours to unset in that mode.
        vars.retain(|v| v.name != env::TRACKING_AUTH);
    }
    vars.retain(|v| v.name != env::SERVER_CERT);
    vars.push(EnvVar { name: env::URI, value: with_uri.then(|| Secret::new(project.url.clone())) });
    vars.push(match &project.ca_bundle {
        Some(p) if with_uri => {
            EnvVar { name: env::SERVER_CERT, value: Some(Secret::new(p.to_string_lossy().into_owned())) }
        }
        _ => EnvVar { name: env::SERVER_CERT, value: None },
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
