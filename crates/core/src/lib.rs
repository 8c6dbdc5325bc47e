//! MLflow Login's domain: servers and their config file, the vault (OS keychain), the
//! verifier (one classified HTTP check), shell rendering, and a credential-adding loopback
//! proxy per server.
//!
//! No UI code lives here: the `mlflow-login` CLI and the tray app are thin adapters that
//! parse input, call this crate, and show the result. Nothing here prints.
//!
//! The modules, by role (which uses which is drawn in `docs/architecture.md` from the
//! source; `tests/structure.rs` keeps it free of import circles):
//!
//! - values, no I/O: [`server`] (a server, its URL rules and auth kinds), [`secret`] (the
//!   redacted, zeroized [`Secret`]), [`error`] (the error kinds every front end matches),
//!   [`text`] (untrusted text made printable, a shell word a person pastes, base64),
//!   [`outcome`] (what a check found, and its wording for users).
//! - stores: [`config`] (`config.toml`, the `state` file, private folders and files),
//!   [`vault`] (the OS keychain, bounded waits), [`logins`] (config and keychain as one),
//!   [`checks`] (the cache of the last check of each server, shared by CLI and tray).
//! - network: [`http`] (the HTTP client every request goes through, transport errors as
//!   outcomes), [`verify`](mod@verify) (one HTTP check, classified), [`oidc`] (single
//!   sign-on: discovery, both flows, refresh under a lock, revocation), [`proxy`] (the
//!   credential-adding loopback proxy: who may use it, forwarding, the credential per
//!   request).
//! - use cases: [`login`] (log in and out, with its rules table), [`check`] (check a stored
//!   server and record it), [`fresh`] (a usable credential, refreshed if due), [`choose`]
//!   (the server a command uses when it is given no name: one rule), [`project`] (project
//!   files and when they are trusted), [`team`] (team server lists), [`import`] (plain-text
//!   credentials into the keychain, and whether one would meet a project's URI), [`passwd`]
//!   (a basic-auth password changed on the server and in the keychain, nothing lost),
//!   [`workspaces`] (a server's active MLflow workspace, checked against its list).
//! - rendering: [`shell`] (each shell's hook and quoting), [`env`](mod@env) (the
//!   `MLFLOW_TRACKING_*` variables), [`credential`] (the plugin's typed, versioned answer).
//!
//! `docs/architecture.md` maps each feature to its module, CLI command, tray command, UI
//! page and tests.

pub mod check;
pub mod checks;
pub mod choose;
pub mod config;
pub mod credential;
pub mod env;
pub mod error;
pub mod fresh;
pub mod http;
pub mod import;
pub mod login;
pub mod logins;
pub mod oidc;
pub mod outcome;
pub mod passwd;
pub mod pat;
pub mod project;
pub mod proxy;
pub mod secret;
pub mod server;
pub mod shell;
pub mod team;
pub mod text;
pub mod vault;
pub mod verify;
pub mod workspaces;

#[cfg(test)]
mod proptests;

pub use check::Checked;
pub use checks::{CheckRecord, Checks};
pub use config::{Config, ConfigStore, Paths};
pub use error::{Error, ErrorKind, Result};
pub use fresh::{Fresh, fresh_credential};
pub use login::{
    Change, LoggedOut, LoginInput, LoginMode, LoginReport, Setting, SsoSignIn, log_in, log_in_sso, log_out,
};
pub use logins::{Activate, Logins, Saved, ServerEntry};
pub use oidc::TokenSet;
pub use secret::Secret;
pub use server::{AuthKind, Server, SsoSettings, Warning};
pub use vault::{EntryKey, KeyringVault, Vault};
pub use verify::{Outcome, OutcomeClass, OutcomeKind, Verification, VerifyOptions, verify};
