//! What a failed command reports: a message, its causes, a hint, and an exit code.

use mlflow_login_core::{Error, ErrorKind, OutcomeClass};

/// Exit code: another error.
pub const OTHER: u8 = 1;
/// Exit code: usage error.
pub const USAGE: u8 = 2;
/// Exit code: the server refused the credentials.
pub const REFUSED: u8 = 3;
/// Exit code: the server could not be checked.
pub const UNCHECKED: u8 = 4;
/// Exit code: the keychain failed.
pub const KEYCHAIN: u8 = 5;
/// Exit code: the user cancelled (Ctrl-C during a sign-in): 128 + SIGINT, as shells report
/// a program that SIGINT ended, so scripts see the interruption.
pub const CANCELLED: u8 = 130;

/// A failed command, printed cargo-style by `ui::print_failure`.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
    pub causes: Vec<String>,
    pub help: Option<String>,
}

impl Failure {
    pub fn new(code: u8, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), causes: Vec::new(), help: None }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(USAGE, message)
    }

    pub fn cause(mut self, cause: impl Into<String>) -> Self {
        self.causes.push(cause.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Wraps a core error under a message saying what we were doing.
    pub fn context(message: impl Into<String>, err: Error) -> Self {
        let mut f = Failure::from(err);
        let inner = std::mem::replace(&mut f.message, message.into());
        f.causes.insert(0, inner);
        f
    }
}

/// The exit code of a verification class.
pub fn code_of_class(class: OutcomeClass) -> u8 {
    match class {
        OutcomeClass::Ok => 0,
        OutcomeClass::Refused => REFUSED,
        OutcomeClass::Unchecked => UNCHECKED,
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        let code = match err.kind() {
            k if k.is_keychain() => KEYCHAIN,
            ErrorKind::InvalidInput => USAGE,
            // Single sign-on: the identity provider ended the session; a new login fixes it.
            ErrorKind::LoginRequired => REFUSED,
            ErrorKind::IdpUnreachable => UNCHECKED,
            ErrorKind::Cancelled => CANCELLED,
            _ => OTHER,
        };
        let mut causes = Vec::new();
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            causes.push(s.to_string());
            source = s.source();
        }
        Failure { code, message: err.to_string(), causes, help: err.help() }
    }
}

impl From<std::io::Error> for Failure {
    fn from(err: std::io::Error) -> Self {
        Failure::new(OTHER, err.to_string())
    }
}
