//! Shell rendering: `env` output and the `init` hook, one template per shell.
//!
//! PLACEHOLDER — being implemented.

use crate::env::EnvVar;

/// A shell we render for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shell {
    /// GNU bash.
    Bash,
    /// zsh.
    Zsh,
    /// fish.
    Fish,
    /// PowerShell.
    Pwsh,
    /// Windows cmd.exe.
    Cmd,
    /// POSIX sh (dash, ash).
    Posix,
}

/// Renders `vars` as commands for `shell`.
pub fn render_env(shell: Shell, vars: &[EnvVar]) -> String {
    let _ = shell;
    vars.iter()
        .map(|v| match &v.value {
            Some(val) => format!("export {}='{}'\n", v.name, val.expose().replace('\'', "'\\''")),
            None => format!("unset {}\n", v.name),
        })
        .collect()
}
