//! One module per subcommand, each an `impl Run`.

mod completions;
mod credential;
mod doctor;
mod env;
mod exec;
mod import;
mod init;
mod list;
mod login;
mod logout;
mod passwd;
mod project;
mod proxy;
mod remove;
mod rename;
mod servers;
mod status;
mod token;
mod use_;
mod workspaces;

use clap::Subcommand;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use mlflow_login_core::fresh::fresh_now;
use mlflow_login_core::oidc::RefreshOptions;
use mlflow_login_core::shell::Shell;
use mlflow_login_core::{ConfigStore, KeyringVault, Logins, Secret, Server, Vault};

use crate::failure::Failure;

#[cfg(test)]
pub(crate) use completions::script as completion_script;

/// A subcommand.
pub trait Run {
    fn run(self) -> Result<(), Failure>;
}

/// `defer`: a subcommand's arguments are built only when it runs (or for help and
/// completions), so start-up does not pay for the others. Its doc comment is its own
/// `--help`; the command list is drawn without building the others, so each one's line
/// there comes from [`SUMMARIES`].
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    Login(login::Login),
    Logout(logout::Logout),
    Passwd(passwd::Passwd),
    List(list::List),
    Use(use_::Use),
    Status(status::Status),
    Env(env::Env),
    Exec(exec::Exec),
    Token(token::Token),
    Remove(remove::Remove),
    Rename(rename::Rename),
    Completions(completions::Completions),
    Init(init::Init),
    Doctor(doctor::Doctor),
    Project(project::Project),
    Proxy(proxy::Proxy),
    Import(import::Import),
    Servers(servers::Servers),
    Workspaces(workspaces::Workspaces),
    #[command(hide = true)]
    HookEnv(init::HookEnv),
    #[command(hide = true)]
    Credential(credential::Credential),
}

/// Each visible command's line in `mlflow-login --help` and in shell completions.
pub const SUMMARIES: &[(&str, &str)] = &[
    ("login", "Log in to a server: check the password, then keep it in the OS keychain"),
    ("logout", "Delete a server's password from the keychain (the server stays configured)"),
    ("passwd", "Change your password on MLflow's basic-auth app and in the keychain"),
    ("list", "List the servers, the active one and whether a password is stored"),
    ("use", "Make a server the active one (the tray and hooked shells follow)"),
    ("status", "Check the credentials against the server(s), now"),
    ("env", "Print a server's MLFLOW_TRACKING_* variables, quoted for your shell"),
    ("exec", "Run a command with a server's MLFLOW_TRACKING_* variables set"),
    ("token", "Print a fresh access token, for tools that are not MLflow"),
    ("remove", "Forget a server and delete its password from the keychain"),
    ("rename", "Rename a server (its password stays in the keychain)"),
    ("completions", "Print a completion script for your shell"),
    ("init", "Print the shell integration, for your shell's start-up file"),
    ("doctor", "Find what makes MLflow use other credentials than yours, with fixes"),
    ("project", "The project file: a server for everyone who works in this folder"),
    ("proxy", "A local address that adds your credential: for R, Java, curl, the browser"),
    ("import", "Move passwords and tokens kept in plain text into the OS keychain"),
    ("servers", "Share server lists with your team: export and import them"),
    ("workspaces", "List a server's MLflow workspaces that you may use (the active one marked)"),
];

/// The command line as parsed and shown: the derived one, with [`SUMMARIES`].
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    with_summaries(crate::Cli::command())
}

/// Sets [`SUMMARIES`] (again, after a build realised the deferred commands, whose own
/// doc comments then take their place).
pub fn with_summaries(cmd: clap::Command) -> clap::Command {
    SUMMARIES.iter().fold(cmd, |cmd, (name, about)| cmd.mut_subcommand(*name, |sc| sc.about(*about)))
}

impl Run for Command {
    fn run(self) -> Result<(), Failure> {
        match self {
            Command::Login(c) => c.run(),
            Command::Logout(c) => c.run(),
            Command::Passwd(c) => c.run(),
            Command::List(c) => c.run(),
            Command::Use(c) => c.run(),
            Command::Status(c) => c.run(),
            Command::Env(c) => c.run(),
            Command::Exec(c) => c.run(),
            Command::Token(c) => c.run(),
            Command::Remove(c) => c.run(),
            Command::Rename(c) => c.run(),
            Command::Completions(c) => c.run(),
            Command::Init(c) => c.run(),
            Command::Doctor(c) => c.run(),
            Command::Project(c) => c.run(),
            Command::Proxy(c) => c.run(),
            Command::Import(c) => c.run(),
            Command::Servers(c) => c.run(),
            Command::Workspaces(c) => c.run(),
            Command::HookEnv(c) => c.run(),
            Command::Credential(c) => c.run(),
        }
    }
}

/// The config and the real OS keychain; slow keychain calls say what they wait for.
pub fn logins() -> Result<Logins<KeyringVault>, Failure> {
    let vault = KeyringVault::default().on_wait(|m| crate::ui::note(m));
    Ok(Logins::new(ConfigStore::from_env()?, vault))
}

/// The parser of every shell argument (`--shell`, `init SHELL`, `completions SHELL`): core's
/// shell table, each shell by its name, its aliases accepted too.
pub fn shell_parser() -> impl TypedValueParser<Value = Shell> {
    let values = Shell::ALL.iter().map(|s| PossibleValue::new(s.name()).aliases(s.names().skip(1)));
    PossibleValuesParser::new(values).try_map(|name| name.parse::<Shell>())
}

/// A usable credential for `server` (core's `fresh_now`: the stored password or token, or
/// for single sign-on an access token refreshed when near expiry), the error worded for
/// the terminal.
pub fn fresh_secret<V: Vault>(logins: &Logins<V>, name: &str, server: &Server) -> Result<Option<Secret>, Failure> {
    let fresh = fresh_now(logins, name, server, &RefreshOptions::default()).map_err(|e| sso_failure(name, e))?;
    Ok(fresh.map(|f| f.secret))
}

/// A single sign-on error, with the way out.
pub fn sso_failure(name: &str, e: mlflow_login_core::Error) -> Failure {
    let ended = e.kind() == mlflow_login_core::ErrorKind::LoginRequired;
    let f = Failure::context(format!("cannot get a fresh single sign-on token for \"{name}\""), e);
    if ended { f.help(format!("log in again: mlflow-login login {name}")) } else { f }
}

/// A runtime for the network commands (login, status). `env` and `exec` never start one.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(crate::failure::OTHER, format!("cannot start the async runtime: {e}")))
}
