//! MLflow Login's domain: servers and their config file, the vault (OS keychain), the
//! verifier (one classified HTTP check), and shell rendering.
//!
//! No UI code lives here: the `mlflow-login` CLI and the tray app are thin adapters that
//! parse input, call this crate, and show the result. Nothing here prints.

pub mod checks;
pub mod config;
pub mod env;
pub mod error;
pub mod import;
pub mod login;
pub mod logins;
pub mod secret;
pub mod server;
pub mod shell;
pub mod team;
pub mod vault;
pub mod verify;

pub use checks::{CheckRecord, Checked, Checks};
pub use config::{Config, ConfigStore, Paths};
pub use error::{Error, ErrorKind, Result};
pub use login::{Change, LoginInput, LoginMode, LoginReport, Setting, log_in};
pub use logins::{Activate, Logins, Saved, ServerEntry};
pub use secret::Secret;
pub use server::{AuthKind, Server, Warning};
pub use vault::{EntryKey, KeyringVault, Vault};
pub use verify::{Outcome, OutcomeClass, OutcomeKind, Verification, VerifyOptions, verify};
