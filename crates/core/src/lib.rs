//! MLflow Login's domain: servers and their config file, the vault (OS keychain), the
//! verifier (one classified HTTP check), and shell rendering.
//!
//! No UI code lives here: the `mlflow-login` CLI and the tray app are thin adapters that
//! parse input, call this crate, and show the result. Nothing here prints.

pub mod checks;
pub mod config;
pub mod env;
pub mod error;
pub mod fresh;
pub mod import;
pub mod login;
pub mod logins;
pub mod oidc;
pub mod project;
pub mod secret;
pub mod server;
pub mod shell;
pub mod team;
pub mod vault;
pub mod verify;
pub mod workspaces;

#[cfg(test)]
mod proptests;

pub use checks::{CheckRecord, Checked, Checks};
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
