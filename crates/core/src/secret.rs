//! A password or token held in memory.
//!
//! Modelled on cargo's `cargo-credential` `Secret`: no `Display`, a `Debug` that prints
//! `REDACTED`, zeroized on drop. [`Secret::expose`] is called only at the few boundaries
//! where the bytes must leave: the HTTP `Authorization` header, the keychain write, the
//! shell rendering and a child process's environment.

use std::fmt;

use zeroize::Zeroizing;

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
}
