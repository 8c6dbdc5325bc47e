//! Errors as the webview sees them: `{ kind, message, field, help }` (docs/ipc.md).

use mlflow_login_core::{Error, ErrorKind};
use serde::Serialize;

/// The kinds of [`IpcError`], one union in TypeScript (`ErrorKind` in docs/ipc.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum IpcErrorKind {
    /// No such server.
    NotFound,
    /// Bad input; `field` names it.
    InvalidInput,
    /// The config file is damaged.
    Config,
    /// No keychain.
    KeychainUnavailable,
    /// The keychain is locked.
    KeychainLocked,
    /// The keychain did not answer in time.
    KeychainTimeout,
    /// A file operation failed.
    Io,
    /// Single sign-on: the session is over; sign in again.
    LoginRequired,
    /// Single sign-on: the identity provider refused or answered wrongly.
    IdentityProvider,
    /// Single sign-on: the identity provider (or the server, during discovery) did not answer.
    IdpUnreachable,
    /// Single sign-on: the identity provider a team list named is on no domain of the
    /// server's; ask the user (the message says why) and send their yes (`trustIssuer`).
    IssuerUnconfirmed,
    /// A sign-in wait ran out.
    TimedOut,
    /// The user cancelled.
    Cancelled,
    /// A bug or an OS failure (a window that cannot open, a task that died).
    Internal,
}

/// A command's error. Never carries a secret: core's messages never do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct IpcError {
    /// What went wrong, to match on.
    pub kind: IpcErrorKind,
    /// One sentence for the user.
    pub message: String,
    /// The form field at fault (`name`, `url`, `username`, `password`, ...).
    pub field: Option<String>,
    /// What to do.
    pub help: Option<String>,
}

impl IpcError {
    /// An internal error.
    pub fn internal(message: impl Into<String>) -> Self {
        Self { kind: IpcErrorKind::Internal, message: message.into(), field: None, help: None }
    }

    /// The server could not be asked (unreachable, credentials refused): the check's
    /// outcome, with its fix.
    pub fn cannot_ask(outcome: &mlflow_login_core::Outcome) -> Self {
        Self {
            kind: IpcErrorKind::Io,
            message: format!("the server could not be asked: {}", outcome.summary()),
            field: None,
            help: outcome.help(),
        }
    }

    /// Invalid input in `field`.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self { kind: IpcErrorKind::InvalidInput, message: message.into(), field: Some(field.into()), help: None }
    }
}

impl From<Error> for IpcError {
    fn from(e: Error) -> Self {
        let kind = match e.kind() {
            ErrorKind::NotFound => IpcErrorKind::NotFound,
            ErrorKind::InvalidInput => IpcErrorKind::InvalidInput,
            ErrorKind::Config => IpcErrorKind::Config,
            ErrorKind::KeychainUnavailable => IpcErrorKind::KeychainUnavailable,
            ErrorKind::KeychainLocked => IpcErrorKind::KeychainLocked,
            ErrorKind::KeychainTimeout => IpcErrorKind::KeychainTimeout,
            ErrorKind::Io => IpcErrorKind::Io,
            ErrorKind::LoginRequired => IpcErrorKind::LoginRequired,
            ErrorKind::IdentityProvider => IpcErrorKind::IdentityProvider,
            ErrorKind::IdpUnreachable => IpcErrorKind::IdpUnreachable,
            ErrorKind::TimedOut => IpcErrorKind::TimedOut,
            ErrorKind::Cancelled => IpcErrorKind::Cancelled,
            _ => IpcErrorKind::Internal,
        };
        let field = match &e {
            Error::InvalidInput { field, .. } => Some((*field).to_string()),
            _ => None,
        };
        Self { kind, message: e.to_string(), field, help: e.help() }
    }
}

impl From<tauri::Error> for IpcError {
    fn from(e: tauri::Error) -> Self {
        Self::internal(e.to_string())
    }
}

/// A command's result.
pub type IpcResult<T> = Result<T, IpcError>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Pins the wire format the UI's `IpcError` type is written against.
    #[test]
    fn json_is_pinned() {
        let e: IpcError = Error::InvalidInput { field: "url", message: "the tracking URL is empty".into() }.into();
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"kind": "invalid_input", "message": "the tracking URL is empty", "field": "url", "help": null})
        );
        let e: IpcError = Error::KeychainTimeout(10).into();
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["kind"], "keychain_timeout");
        assert_eq!(v["field"], serde_json::Value::Null);
        assert!(v["help"].as_str().unwrap().contains("unlock"));
        let kinds = [
            (IpcErrorKind::NotFound, "not_found"),
            (IpcErrorKind::Config, "config"),
            (IpcErrorKind::KeychainUnavailable, "keychain_unavailable"),
            (IpcErrorKind::KeychainLocked, "keychain_locked"),
            (IpcErrorKind::Io, "io"),
            (IpcErrorKind::LoginRequired, "login_required"),
            (IpcErrorKind::IdentityProvider, "identity_provider"),
            (IpcErrorKind::IdpUnreachable, "idp_unreachable"),
            (IpcErrorKind::IssuerUnconfirmed, "issuer_unconfirmed"),
            (IpcErrorKind::TimedOut, "timed_out"),
            (IpcErrorKind::Cancelled, "cancelled"),
            (IpcErrorKind::Internal, "internal"),
        ];
        for (kind, name) in kinds {
            assert_eq!(serde_json::to_value(kind).unwrap(), name);
        }
    }
}
