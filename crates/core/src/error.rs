//! Errors of the core crate.
//!
//! One enum, [`Error`], with a small matchable [`ErrorKind`] (the model is
//! cargo-credential's `ErrorKind`). Each variant says what the caller should do.
//! Front ends map kinds to exit codes (CLI) or to `{ kind, message }` (IPC).

use std::path::PathBuf;

/// What went wrong, in a form a front end can match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// A named server does not exist. Caller: list the servers, or add this one.
    NotFound,
    /// The user's input is invalid (URL, name, username, password). Caller: show the message
    /// next to the field and let the user correct it.
    InvalidInput,
    /// The config file cannot be read or parsed. Caller: show the path and line; never
    /// overwrite the file.
    Config,
    /// The keychain cannot be reached (no Secret Service, no D-Bus session, no store).
    /// Caller: tell the user to start one; never fall back to plain text.
    KeychainUnavailable,
    /// The keychain is locked and was not unlocked. Caller: ask the user to unlock it.
    KeychainLocked,
    /// The keychain did not answer in time. Caller: report it; the operation did not happen.
    KeychainTimeout,
    /// A file-system operation failed. Caller: report it with the path.
    Io,
    /// The single sign-on session is over: the identity provider refused the refresh token
    /// (`invalid_grant`: the session ended, the grant was revoked, a rotated token was
    /// reused, the user was disabled), or no refresh token is stored. Caller: prompt a new
    /// login (the CLI exits 3, the tray notifies "Log in again"); retrying will not help.
    LoginRequired,
    /// The identity provider refused or answered wrongly: an error answer (`access_denied`,
    /// `invalid_client`, ...), metadata that does not fit, an ID token that fails its checks.
    /// Caller: show the message; the same request will fail again.
    IdentityProvider,
    /// The identity provider (or, during discovery, the server) could not be reached or
    /// did not answer in time. Caller: report it and keep any stored tokens; try later.
    IdpUnreachable,
    /// A login wait ran out (the browser's redirect, the device code). Caller: say so and
    /// offer to start again.
    TimedOut,
    /// The caller cancelled the operation (Ctrl-C, the dialog's Cancel). Caller: stop quietly.
    Cancelled,
}

/// An error of the core crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// See [`ErrorKind::NotFound`].
    #[error("no server named \"{0}\"")]
    NotFound(String),
    /// See [`ErrorKind::InvalidInput`]. `field` names the input at fault.
    #[error("{message}")]
    InvalidInput {
        /// `name`, `url`, `username`, `password`, `ca_bundle`, `client_cert`, ...
        field: &'static str,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// See [`ErrorKind::Config`].
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Config {
        /// The damaged file.
        path: PathBuf,
        /// 1-based line of the fault, when known.
        line: Option<usize>,
        /// What the parser said.
        message: String,
    },
    /// See [`ErrorKind::KeychainUnavailable`].
    #[error("the keychain is not available: {0}")]
    KeychainUnavailable(String),
    /// See [`ErrorKind::KeychainLocked`].
    #[error("the keychain is locked: {0}")]
    KeychainLocked(String),
    /// See [`ErrorKind::KeychainTimeout`].
    #[error("the keychain did not answer within {0} s")]
    KeychainTimeout(u64),
    /// See [`ErrorKind::LoginRequired`].
    #[error("the single sign-on session has ended: {0}")]
    LoginRequired(String),
    /// See [`ErrorKind::IdentityProvider`].
    #[error("{0}")]
    IdentityProvider(String),
    /// See [`ErrorKind::IdpUnreachable`].
    #[error("could not reach {url}: {detail}")]
    IdpUnreachable {
        /// The URL asked.
        url: String,
        /// What failed, safe to print.
        detail: String,
    },
    /// See [`ErrorKind::TimedOut`].
    #[error("{what} did not happen within {seconds} s")]
    TimedOut {
        /// What was awaited, e.g. `the sign-in in the browser`.
        what: &'static str,
        /// The limit.
        seconds: u64,
    },
    /// See [`ErrorKind::Cancelled`].
    #[error("cancelled")]
    Cancelled,
    /// See [`ErrorKind::Io`].
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder at fault.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl ErrorKind {
    /// The keychain failed (unavailable, locked, timed out): nothing about the request
    /// itself was wrong.
    pub fn is_keychain(self) -> bool {
        matches!(self, ErrorKind::KeychainUnavailable | ErrorKind::KeychainLocked | ErrorKind::KeychainTimeout)
    }
}

impl Error {
    /// The matchable kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::InvalidInput { .. } => ErrorKind::InvalidInput,
            Error::Config { .. } => ErrorKind::Config,
            Error::KeychainUnavailable(_) => ErrorKind::KeychainUnavailable,
            Error::KeychainLocked(_) => ErrorKind::KeychainLocked,
            Error::KeychainTimeout(_) => ErrorKind::KeychainTimeout,
            Error::Io { .. } => ErrorKind::Io,
            Error::LoginRequired(_) => ErrorKind::LoginRequired,
            Error::IdentityProvider(_) => ErrorKind::IdentityProvider,
            Error::IdpUnreachable { .. } => ErrorKind::IdpUnreachable,
            Error::TimedOut { .. } => ErrorKind::TimedOut,
            Error::Cancelled => ErrorKind::Cancelled,
        }
    }

    /// A one-line suggestion for the user, when there is one.
    pub fn help(&self) -> Option<String> {
        match self {
            Error::NotFound(_) => {
                Some("run `mlflow-login list` to see the servers, or `mlflow-login login NAME --url URL --username USER` to add one".into())
            }
            Error::Config { path, .. } => Some(format!(
                "fix the file by hand (it was left as it is), or move it away to start afresh: {}",
                path.display()
            )),
            Error::KeychainUnavailable(_) => Some(
                "start a Secret Service (GNOME Keyring, KWallet or KeePassXC with its Secret Service integration) in this session; on a headless machine: `dbus-run-session` and `gnome-keyring-daemon --unlock`"
                    .into(),
            ),
            Error::KeychainLocked(_) => {
                Some("unlock your keyring (log in to the desktop session, or unlock it in Seahorse) and try again; on a machine without a desktop, restart the daemon unlocked: `gnome-keyring-daemon --replace --unlock --components=secrets` reads the keyring's password from standard input".into())
            }
            Error::KeychainTimeout(_) => Some(
                "the Secret Service may be hung or waiting for an unlock prompt that cannot appear here; unlock or restart it and try again"
                    .into(),
            ),
            Error::LoginRequired(_) => Some("log in again: `mlflow-login login NAME --sso`".into()),
            Error::TimedOut { .. } => Some("start the login again; `--timeout SECONDS` gives more time".into()),
            _ => None,
        }
    }

    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidInput { field, message: message.into() }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

/// Result with the core [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
