//! A password or token held in memory.
//!
//! Modelled on cargo's `cargo-credential` `Secret`: no `Display`, a `Debug` that prints
//! `REDACTED`, zeroized on drop. [`Secret::expose`] is called only at the few boundaries
//! where the bytes must leave: the HTTP `Authorization` header, the keychain write, the
//! shell rendering and a child process's environment.

use std::fmt;

use zeroize::Zeroizing;

use crate::server::AuthKind;

/// A secret string (password or bearer token). Never printed, zeroized on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wrap a secret. The caller's `String` is moved, not copied.
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The secret's text. Call only where the secret must leave the process.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Checks what every store and shell can carry: not empty, no NUL byte.
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.0.is_empty() {
            return Err("the password is empty");
        }
        if self.0.contains('\0') {
            return Err("the password contains a NUL character, which no shell can carry");
        }
        Ok(())
    }

    /// Checks the secret for a server of `auth` kind, naming the rule it breaks.
    ///
    /// A Basic password may hold any character but NUL ([`Secret::validate`]): reqwest and
    /// MLflow's client base64-encode it. A bearer token goes into the `Authorization`
    /// header as it is, so it must be one word of visible ASCII (RFC 6750's `b64token`
    /// and the JWT, opaque and PAT tokens in use are all within it): a line break or
    /// control character would break the header, or be sent as a second one, and reach
    /// Python tracebacks.
    pub fn validate_for(&self, auth: AuthKind) -> Result<(), &'static str> {
        match auth {
            // Single sign-on stores its token set (JSON) here; the tokens in it come from
            // the identity provider, not from typing.
            AuthKind::Basic | AuthKind::Sso => self.validate(),
            AuthKind::Bearer => {
                if self.0.is_empty() {
                    return Err("the token is empty");
                }
                for c in self.0.chars() {
                    match c {
                        ' ' | '\t' => {
                            return Err("the token contains a space or tab: a bearer token is one word (RFC 6750)");
                        }
                        c if c.is_control() => {
                            return Err(
                                "the token contains a control character (a line break?): a bearer token is printable ASCII only (RFC 6750)",
                            );
                        }
                        c if !c.is_ascii() => {
                            return Err(
                                "the token contains a non-ASCII character: a bearer token is printable ASCII only (RFC 6750)",
                            );
                        }
                        _ => {}
                    }
                }
                Ok(())
            }
        }
    }
}

/// Keeps this process's memory out of core dumps and away from the user's other processes,
/// as ssh-agent and gpg-agent do: a process that holds a password or token calls this once,
/// at start, before reading one.
///
/// On Linux: `PR_SET_DUMPABLE` 0 (no core dump, no `ptrace` or `/proc/PID/mem` by
/// other processes of the same user) and a soft `RLIMIT_CORE` of 0 (no core file even where
/// `fs.suid_dumpable` would write one). Why: a crash (a panic is an abort in release builds)
/// would otherwise write the password into a core file, or hand it to systemd-coredump or
/// apport. The dumpable flag is reset by `execve`, so a command run by `mlflow-login exec`
/// is a normal process; [`restore_core_limit`] gives it the core limit back. Elsewhere it
/// does nothing (macOS and Windows write no core files by default). Best effort: the
/// calls cannot fail for a valid argument, and nothing depends on them.
pub fn protect_process_memory() {
    #[cfg(target_os = "linux")]
    linux::protect();
}

/// Gives back the soft core-file limit [`protect_process_memory`] lowered, for a command
/// that is about to replace this process (`exec`).
pub fn restore_core_limit() {
    #[cfg(target_os = "linux")]
    linux::restore_core_limit();
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // FFI: prctl and setrlimit have no safe wrapper in std.
mod linux {
    use std::sync::OnceLock;

    /// The soft core limit before [`protect`] lowered it.
    static CORE_LIMIT: OnceLock<libc::rlim_t> = OnceLock::new();

    pub(super) fn protect() {
        // SAFETY: PR_SET_DUMPABLE takes an integer argument and changes only this
        // process's dumpable flag; the unused arguments are zero as prctl(2) asks.
        unsafe {
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        }
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: `limit` is a valid, writable rlimit for getrlimit to fill in.
        if unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut limit) } != 0 {
            return;
        }
        let _ = CORE_LIMIT.set(limit.rlim_cur);
        // Only the soft limit: the hard one stays, so `restore_core_limit` can raise it back.
        let lowered = libc::rlimit { rlim_cur: 0, rlim_max: limit.rlim_max };
        // SAFETY: `lowered` is a valid rlimit read by setrlimit; lowering a soft limit is
        // always allowed.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &lowered);
        }
    }

    pub(super) fn restore_core_limit() {
        let Some(&soft) = CORE_LIMIT.get() else { return };
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: as in `protect`; raising the soft limit up to the unchanged hard limit is
        // allowed to any process.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_CORE, &mut limit) == 0 {
                limit.rlim_cur = soft.min(limit.rlim_max);
                libc::setrlimit(libc::RLIMIT_CORE, &limit);
            }
        }
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(REDACTED)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s:?}"), "Secret(REDACTED)");
        assert_eq!(format!("{:?}", Some(&s)), "Some(Secret(REDACTED))");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn validation() {
        assert!(Secret::new(String::new()).validate().is_err());
        assert!(Secret::new("a\0b".into()).validate().is_err());
        assert!(Secret::new("ä:ß ☃\n'\"$`".into()).validate().is_ok());
    }

    #[test]
    fn basic_passwords_stay_anything_but_nul() {
        let s = |t: &str| Secret::new(t.into()).validate_for(AuthKind::Basic);
        assert!(s("ä:ß ☃\n\x01'\"$` ").is_ok());
        assert!(s("a\0b").is_err());
        assert!(s("").is_err());
    }

    #[test]
    fn bearer_tokens_are_printable_ascii_words() {
        let s = |t: &str| Secret::new(t.into()).validate_for(AuthKind::Bearer);
        for ok in ["abc", "eyJhbGciOi.eyJzdWIi.SflKx-_w", "dapi0123+/==", "a~b!#$%&'*^`|\"<>"] {
            assert_eq!(s(ok), Ok(()), "{ok}");
        }
        for (bad, rule) in [
            ("", "empty"),
            ("ab\ncd", "control character"),
            ("ab\r\nX-Evil: 1", "control character"),
            ("ab\x01", "control character"),
            ("ab\x7f", "control character"),
            ("ab cd", "space"),
            ("ab\tcd", "space or tab"),
            ("tökén", "non-ASCII"),
            ("a\0b", "control character"),
        ] {
            let err = s(bad).unwrap_err();
            assert!(err.contains(rule), "{bad:?}: {err}");
        }
    }
}
