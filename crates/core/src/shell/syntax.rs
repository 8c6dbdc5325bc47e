//! How each shell quotes a value and sets or unsets a variable.

use std::fmt;

use crate::text::base64;

/// How one shell writes a quoted value and sets or unsets a variable. Each method returns
/// complete text (statements end with a newline).
pub trait ShellSyntax: Sync + fmt::Debug {
    /// `value` as one word that the shell reads back as exactly these characters.
    fn quote(&self, value: &str) -> String;
    /// Sets and exports the environment variable `name` (a plain `[A-Z_]` name).
    fn set_env(&self, name: &str, value: &str) -> String;
    /// Removes the environment variable `name`; no error when it is not set.
    fn unset_env(&self, name: &str) -> String;
    /// Sets the global, unexported shell variable `name` (the hook's `__mll_state`).
    fn set_var(&self, name: &str, value: &str) -> String;
}

/// bash, zsh and POSIX sh: single quotes, with `'` written as `'\''`. Inside single quotes
/// nothing is special, newlines included, and `eval` does no history expansion.
#[derive(Debug)]
pub(super) struct PosixSyntax;

impl ShellSyntax for PosixSyntax {
    fn quote(&self, value: &str) -> String {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
    fn set_env(&self, name: &str, value: &str) -> String {
        format!("export {name}={}\n", self.quote(value))
    }
    fn unset_env(&self, name: &str) -> String {
        format!("unset {name}\n")
    }
    fn set_var(&self, name: &str, value: &str) -> String {
        format!("{name}={}\n", self.quote(value))
    }
}

/// fish: single quotes, where only `\\` and `\'` are escapes.
#[derive(Debug)]
pub(super) struct FishSyntax;

impl ShellSyntax for FishSyntax {
    fn quote(&self, value: &str) -> String {
        format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'"))
    }
    fn set_env(&self, name: &str, value: &str) -> String {
        format!("set -gx {name} {}\n", self.quote(value))
    }
    fn unset_env(&self, name: &str) -> String {
        // `-g`: the hook runs inside a function, and a plain `set -e` would look for a
        // function-local variable first.
        format!("set -e -g {name}\n")
    }
    fn set_var(&self, name: &str, value: &str) -> String {
        format!("set -g {name} {}\n", self.quote(value))
    }
}

/// PowerShell. Everything it prints is ASCII: PowerShell decodes a native program's
/// output with the console's code page (`[Console]::OutputEncoding`, often 437 or 1252 on
/// Windows), which mangles UTF-8. ASCII reads the same in every code page,
/// so an ASCII value is single-quoted (every `'` doubled), and any other value becomes an
/// expression that decodes its UTF-8 bytes from base64 inside PowerShell. That also covers
/// the typographic quotes U+2018..U+201B, which PowerShell takes as single quotes.
#[derive(Debug)]
pub(super) struct PwshSyntax;

impl ShellSyntax for PwshSyntax {
    fn quote(&self, value: &str) -> String {
        if value.is_ascii() {
            format!("'{}'", value.replace('\'', "''"))
        } else {
            format!("([Text.Encoding]::UTF8.GetString([Convert]::FromBase64String('{}')))", base64(value.as_bytes()))
        }
    }
    fn set_env(&self, name: &str, value: &str) -> String {
        format!("$env:{name} = {}\n", self.quote(value))
    }
    fn unset_env(&self, name: &str) -> String {
        format!("Remove-Item -ErrorAction SilentlyContinue Env:{name}\n")
    }
    fn set_var(&self, name: &str, value: &str) -> String {
        format!("$global:{name} = {}\n", self.quote(value))
    }
}

/// cmd.exe: `set "NAME=value"`. Everything between the first `"` and the last one on the
/// line is the value, so quotes, `&`, `|`, `<`, `>` and `^` need no escape. Run the lines
/// through `for /f` (not from a .cmd file, where `%` would need doubling). cmd cannot carry
/// a line break in a `set` at all: such a value becomes a `rem` and an unset, never a
/// truncated password.
#[derive(Debug)]
pub(super) struct CmdSyntax;

impl ShellSyntax for CmdSyntax {
    fn quote(&self, value: &str) -> String {
        format!("\"{value}\"")
    }
    fn set_env(&self, name: &str, value: &str) -> String {
        if value.contains(['\n', '\r']) {
            return format!(
                "rem {name} holds a line break, which cmd.exe cannot set: use PowerShell or `mlflow-login exec`\n{}",
                self.unset_env(name)
            );
        }
        format!("set \"{name}={value}\"\n")
    }
    fn unset_env(&self, name: &str) -> String {
        format!("set \"{name}=\"\n")
    }
    fn set_var(&self, name: &str, value: &str) -> String {
        self.set_env(name, value)
    }
}
