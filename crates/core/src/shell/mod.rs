//! Shell rendering: `env` output and the `init` hook, one template per shell.
//!
//! [`Shell`] names a shell; [`ShellSyntax`] is how that shell quotes a value and sets or
//! unsets a variable. [`render_env`] turns a list of [`EnvVar`]s into commands for one
//! shell, and [`render_init`] fills the shell's template (`crates/core/templates/`) with
//! the program's path and the state file's path.
//!
//! The hook design (see `docs/shells.md`): at every prompt the template's `__mll_hook`
//! reads the one-line state file into a variable with a builtin (`read` in bash, zsh,
//! fish, sh; .NET in PowerShell) and compares it with `__mll_state`. Nothing else happens
//! when they match, so an unchanged prompt starts no process. When they differ, the hook
//! runs `mlflow-login hook-env --shell SHELL` once and evaluates its output:
//! [`render_env`] of the new variables followed by [`render_state`].
//!
//! Adding a shell is one template, one [`Shell`] variant, one [`ShellSyntax`] impl; the
//! parameterised tests (snapshots, shellcheck, real-shell round trips) then cover it.
//! POSIX sh has no prompt hook, and cmd.exe has no init at all (only `env` output).

use std::path::Path;

use crate::env::EnvVar;
use crate::error::{Error, Result};

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

impl Shell {
    /// Every shell, for tests and help texts.
    pub const ALL: [Shell; 6] = [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::Pwsh, Shell::Cmd, Shell::Posix];

    /// The name used on the command line (`--shell NAME`, `init NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
            Shell::Pwsh => "pwsh",
            Shell::Cmd => "cmd",
            Shell::Posix => "posix",
        }
    }

    /// The shell called `name` (as in [`Shell::name`], plus `sh`, `dash` and `powershell`).
    pub fn from_name(name: &str) -> Option<Shell> {
        Some(match name {
            "bash" => Shell::Bash,
            "zsh" => Shell::Zsh,
            "fish" => Shell::Fish,
            "pwsh" | "powershell" => Shell::Pwsh,
            "cmd" => Shell::Cmd,
            "posix" | "sh" | "dash" | "ash" => Shell::Posix,
            _ => return None,
        })
    }

    /// How this shell quotes and sets variables.
    pub fn syntax(self) -> &'static dyn ShellSyntax {
        match self {
            Shell::Bash | Shell::Zsh | Shell::Posix => &PosixSyntax,
            Shell::Fish => &FishSyntax,
            Shell::Pwsh => &PwshSyntax,
            Shell::Cmd => &CmdSyntax,
        }
    }

    /// The init template, or `None` for cmd.exe (no prompt hook, no functions).
    pub fn template(self) -> Option<&'static str> {
        match self {
            Shell::Bash => Some(include_str!("../../templates/bash.sh")),
            Shell::Zsh => Some(include_str!("../../templates/zsh.zsh")),
            Shell::Fish => Some(include_str!("../../templates/fish.fish")),
            Shell::Pwsh => Some(include_str!("../../templates/powershell.ps1")),
            Shell::Posix => Some(include_str!("../../templates/posix.sh")),
            Shell::Cmd => None,
        }
    }

    /// Whether the init script follows switches at each prompt (POSIX sh cannot).
    pub fn has_prompt_hook(self) -> bool {
        matches!(self, Shell::Bash | Shell::Zsh | Shell::Fish | Shell::Pwsh)
    }
}

/// How one shell writes a quoted value and sets or unsets a variable. Each method returns
/// complete text (statements end with a newline).
pub trait ShellSyntax: Sync {
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
struct PosixSyntax;

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
struct FishSyntax;

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

/// PowerShell: single quotes, with every quote doubled. PowerShell also takes the
/// typographic single quotes U+2018..U+201B as quotes, so those are doubled too.
#[derive(Debug)]
struct PwshSyntax;

impl ShellSyntax for PwshSyntax {
    fn quote(&self, value: &str) -> String {
        let mut out = String::with_capacity(value.len() + 2);
        out.push('\'');
        for c in value.chars() {
            if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
                out.push(c);
            }
            out.push(c);
        }
        out.push('\'');
        out
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
struct CmdSyntax;

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

/// Renders `vars` as commands for `shell`: set the ones with a value, unset the others.
pub fn render_env(shell: Shell, vars: &[EnvVar]) -> String {
    let syntax = shell.syntax();
    vars.iter()
        .map(|v| match &v.value {
            Some(val) => syntax.set_env(v.name, val.expose()),
            None => syntax.unset_env(v.name),
        })
        .collect()
}

/// The exported variable that pins a shell to a server (`mlflow-login use NAME --here`).
/// The hook passes it on to `hook-env`, and shells started from a pinned one stay pinned.
pub const PIN_ENV: &str = "MLFLOW_LOGIN_PIN";

/// Set by the init script's `mlflow-login` function for the program it runs: the shell's
/// name, then ` --no-password` when the init had it. Tells `use --here` that its output is
/// evaluated, and `doctor` that this shell has the hook.
pub const FUNCTION_ENV: &str = "MLFLOW_LOGIN_SHELL";

/// Reads [`FUNCTION_ENV`]: the hooked shell and whether its init had `--no-password`.
pub fn parse_function_env(value: &str) -> Option<(Shell, bool)> {
    let mut words = value.split_whitespace();
    let shell = Shell::from_name(words.next()?)?;
    let no_password = words.any(|w| w == "--no-password");
    Some((shell, no_password))
}

/// The shell variable that holds the last state the hook saw.
pub const STATE_VAR: &str = "__mll_state";

/// Records `state` (the state file's first line) as seen, so the hook is quiet until the
/// file changes again. Follows [`render_env`] in the hook's input.
pub fn render_state(shell: Shell, state: &str) -> String {
    shell.syntax().set_var(STATE_VAR, state)
}

/// What [`render_init`] fills in.
#[derive(Debug, Clone, Copy)]
pub struct InitOptions<'a> {
    /// The `mlflow-login` program, by absolute path (the hook never searches `$PATH`).
    pub program: &'a Path,
    /// The state file (see [`crate::Paths::state_file`]).
    pub state_file: &'a Path,
    /// Export no password: the hook passes `--no-password` to `hook-env`.
    pub no_password: bool,
}

/// The init script for `shell`: its template, filled in. It defines the prompt hook and
/// the `mlflow-login` function; the caller appends the first exports (a `hook-env` output).
pub fn render_init(shell: Shell, opts: &InitOptions<'_>) -> Result<String> {
    let template = shell.template().ok_or_else(|| {
        Error::invalid(
            "shell",
            "cmd.exe has no prompt hook to install: use PowerShell (`mlflow-login init pwsh`), or `mlflow-login exec NAME -- COMMAND`",
        )
    })?;
    let syntax = shell.syntax();
    let path = |p: &Path, what: &str| {
        p.to_str().map(|s| syntax.quote(s)).ok_or_else(|| {
            Error::invalid(
                "path",
                format!("the {what} path is not valid UTF-8, which the shell script cannot name: {}", p.display()),
            )
        })
    };
    let args = if opts.no_password { " --no-password" } else { "" };
    Ok(template
        .replace("{{bin}}", &path(opts.program, "program")?)
        .replace("{{state_file}}", &path(opts.state_file, "state file")?)
        .replace("{{hook_args}}", args)
        .replace("{{init_args}}", args))
}

#[cfg(test)]
mod tests;
