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
mod project;
mod remove;
mod rename;
mod servers;
mod status;
mod token;
mod use_;
mod workspaces;

use clap::Subcommand;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use mlflow_login_core::shell::Shell;
use mlflow_login_core::{AuthKind, ConfigStore, KeyringVault, Logins, Secret, Server, Vault, fresh_credential};

use crate::failure::Failure;

/// A subcommand.
pub trait Run {
    fn run(self) -> Result<(), Failure>;
}

/// `defer`: a subcommand's arguments are built only when it runs (or for help and
/// completions), so start-up does not pay for the other thirteen.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    Login(login::Login),
    Logout(logout::Logout),
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
    Import(import::Import),
    Servers(servers::Servers),
    Workspaces(workspaces::Workspaces),
    #[command(hide = true)]
    HookEnv(init::HookEnv),
    #[command(hide = true)]
    Credential(credential::Credential),
}

impl Run for Command {
    fn run(self) -> Result<(), Failure> {
        match self {
            Command::Login(c) => c.run(),
            Command::Logout(c) => c.run(),
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

/// A usable credential for `server`: the stored password or token, or for single sign-on
/// an access token refreshed when near expiry (core's `fresh_credential`). A runtime starts
/// only for SSO servers, so `env` and `exec` of the others stay network-free.
pub fn fresh_secret<V: Vault>(logins: &Logins<V>, name: &str, server: &Server) -> Result<Option<Secret>, Failure> {
    if server.auth != AuthKind::Sso {
        return Ok(logins.secret(server)?);
    }
    let fresh = runtime()?.block_on(fresh_credential(logins, server)).map_err(|e| sso_failure(name, e))?;
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
