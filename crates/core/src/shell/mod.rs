//! Shell rendering: `env` output and the `init` hook, one template per shell, and the one
//! table of the shells we know.
//!
//! [`Shell`] names a row of that table ([`ShellSpec`]): the shell's names, its
//! [`ShellSyntax`] (how it quotes a value and sets or unsets a variable), its template
//! (`crates/core/templates/`), its start-up file, how it evaluates a command's output (so
//! its init line) and whether its init exports the password. Nothing else lists shells:
//! the CLI's shell arguments, `init --help`, the detection from `$SHELL` and `doctor` read
//! [`Shell::ALL`], and the tray's "Copy shell setup" line is
//! `Shell::from_login_shell($SHELL).init_line("")`.
//!
//! [`render_env`] turns a list of [`EnvVar`]s into commands for one shell, and
//! [`render_init`] fills the shell's template with the program's path and the state file's
//! path. The hook design (see `docs/shells.md`): at every prompt the template's
//! `__mll_hook` reads the one-line state file into a variable with a builtin (`read` in
//! bash, zsh, fish, sh; .NET in PowerShell) and compares it with `__mll_state`. Nothing else
//! happens when they match, so an unchanged prompt starts no process. When `$PWD` changed
//! too, the hook looks for the project file ([`crate::project::FILE_NAME`]) with the shell's
//! own file test and compares the one it finds with `$MLFLOW_LOGIN_PROJECT`. When the state
//! or the project file differs, the hook runs `mlflow-login hook-env --shell SHELL` once
//! (with the new `MLFLOW_LOGIN_PROJECT` in its environment) and evaluates its output:
//! [`render_env`] of the new variables followed by [`render_state`].
//!
//! Adding a shell is one template, one [`ShellSpec`] row (and a [`ShellSyntax`] impl if it
//! quotes like no other); the parameterised tests (snapshots, shellcheck, real-shell round
//! trips) then cover it, and `tests::a_new_row_needs_no_other_edit` shows it. POSIX sh has
//! no prompt hook, and cmd.exe has no init at all (only `env` output).

mod formats;
mod syntax;

use std::ffi::OsString;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use self::formats::{render_dotenv, render_json};
pub use self::syntax::ShellSyntax;
use self::syntax::{CmdSyntax, FishSyntax, PosixSyntax, PwshSyntax};
use crate::env::{EnvVar, SecretMode};
use crate::error::{Error, Result};

/// One shell's row in the table.
#[derive(Debug)]
pub struct ShellSpec {
    /// The name on the command line (`--shell NAME`, `init NAME`) and in
    /// [`FUNCTION_ENV`].
    pub name: &'static str,
    /// Other names: accepted on the command line too, and matched against the file name
    /// of the login shell (`$SHELL`).
    pub aliases: &'static [&'static str],
    /// The name people know it by, for messages ("PowerShell").
    pub title: &'static str,
    /// How it quotes and sets variables.
    pub syntax: &'static dyn ShellSyntax,
    /// The init template, or `None` when `init` cannot hook this shell (cmd.exe).
    pub template: Option<&'static str>,
    /// Whether the init script follows switches at each prompt (POSIX sh cannot).
    pub prompt_hook: bool,
    /// The start-up file the init line goes in, as users write it (`~/.bashrc`).
    pub rc_file: Option<&'static str>,
    /// Every start-up file it may read, where `doctor` looks for lines that fight the
    /// hook. `~/` is the home folder; `$ZDOTDIR/` and `$XDG_CONFIG_HOME/` that variable
    /// (skipped when unset, or `~/.config` for the latter); a final `/` means every file
    /// in that folder.
    pub startup_files: &'static [&'static str],
    /// How this shell runs the output of a command as code; `{}` is the command.
    pub eval: &'static str,
    /// Whether `init` exports the password (or token) unless told otherwise. Not for
    /// POSIX sh: its start-up file is also the desktop session's.
    pub exports_secret: bool,
}

const BASH: ShellSpec = ShellSpec {
    name: "bash",
    aliases: &[],
    title: "bash",
    syntax: &PosixSyntax,
    template: Some(include_str!("../../templates/bash.sh")),
    prompt_hook: true,
    rc_file: Some("~/.bashrc"),
    startup_files: &["~/.bashrc", "~/.bash_profile", "~/.bash_login", "~/.profile"],
    eval: "eval \"$({})\"",
    exports_secret: true,
};

const ZSH: ShellSpec = ShellSpec {
    name: "zsh",
    aliases: &[],
    title: "zsh",
    syntax: &PosixSyntax,
    template: Some(include_str!("../../templates/zsh.zsh")),
    prompt_hook: true,
    rc_file: Some("~/.zshrc"),
    startup_files: &[
        "~/.zshenv",
        "~/.zprofile",
        "~/.zshrc",
        "~/.zlogin",
        "$ZDOTDIR/.zshenv",
        "$ZDOTDIR/.zprofile",
        "$ZDOTDIR/.zshrc",
        "$ZDOTDIR/.zlogin",
    ],
    eval: "eval \"$({})\"",
    exports_secret: true,
};

const FISH: ShellSpec = ShellSpec {
    name: "fish",
    aliases: &[],
    title: "fish",
    syntax: &FishSyntax,
    template: Some(include_str!("../../templates/fish.fish")),
    prompt_hook: true,
    rc_file: Some("~/.config/fish/config.fish"),
    startup_files: &["$XDG_CONFIG_HOME/fish/config.fish", "$XDG_CONFIG_HOME/fish/conf.d/"],
    eval: "{} | source",
    exports_secret: true,
};

const PWSH: ShellSpec = ShellSpec {
    name: "pwsh",
    aliases: &["powershell"],
    title: "PowerShell",
    syntax: &PwshSyntax,
    template: Some(include_str!("../../templates/powershell.ps1")),
    prompt_hook: true,
    rc_file: Some("$PROFILE"),
    startup_files: &[
        "$XDG_CONFIG_HOME/powershell/Microsoft.PowerShell_profile.ps1",
        "$XDG_CONFIG_HOME/powershell/profile.ps1",
    ],
    eval: "Invoke-Expression (& {} | Out-String)",
    exports_secret: true,
};

const CMD: ShellSpec = ShellSpec {
    name: "cmd",
    aliases: &[],
    title: "cmd.exe",
    syntax: &CmdSyntax,
    template: None,
    prompt_hook: false,
    rc_file: None,
    startup_files: &[],
    eval: "for /f \"delims=\" %i in ('{}') do %i",
    exports_secret: true,
};

const POSIX: ShellSpec = ShellSpec {
    name: "posix",
    aliases: &["sh", "dash", "ash", "ksh"],
    title: "POSIX sh",
    syntax: &PosixSyntax,
    template: Some(include_str!("../../templates/posix.sh")),
    prompt_hook: false,
    rc_file: Some("~/.profile"),
    startup_files: &["~/.profile"],
    eval: "eval \"$({})\"",
    exports_secret: false,
};

/// A shell we render for: a row of the table. Compared by name.
#[derive(Clone, Copy)]
pub struct Shell(&'static ShellSpec);

impl Shell {
    /// GNU bash.
    pub const BASH: Shell = Shell(&BASH);
    /// zsh.
    pub const ZSH: Shell = Shell(&ZSH);
    /// fish.
    pub const FISH: Shell = Shell(&FISH);
    /// PowerShell.
    pub const PWSH: Shell = Shell(&PWSH);
    /// Windows cmd.exe.
    pub const CMD: Shell = Shell(&CMD);
    /// POSIX sh (dash, ash).
    pub const POSIX: Shell = Shell(&POSIX);

    /// The table: every shell, in the order help texts list them.
    pub const ALL: &'static [Shell] = &[Shell::BASH, Shell::ZSH, Shell::FISH, Shell::PWSH, Shell::CMD, Shell::POSIX];

    /// A shell from its row (tests add rows this way).
    pub const fn from_spec(spec: &'static ShellSpec) -> Shell {
        Shell(spec)
    }

    /// Its row.
    pub fn spec(self) -> &'static ShellSpec {
        self.0
    }

    /// The name used on the command line (`--shell NAME`, `init NAME`).
    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// Every name it is known by: [`Shell::name`] first, then the aliases.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.0.name).chain(self.0.aliases.iter().copied())
    }

    /// The name people know it by.
    pub fn title(self) -> &'static str {
        self.0.title
    }

    /// How this shell quotes and sets variables.
    pub fn syntax(self) -> &'static dyn ShellSyntax {
        self.0.syntax
    }

    /// The init template, or `None` for cmd.exe (no prompt hook, no functions).
    pub fn template(self) -> Option<&'static str> {
        self.0.template
    }

    /// Whether the init script follows switches at each prompt (POSIX sh cannot).
    pub fn has_prompt_hook(self) -> bool {
        self.0.prompt_hook
    }

    /// The start-up file for the init line, as users write it (`~/.bashrc`, `$PROFILE`).
    pub fn rc_file(self) -> Option<&'static str> {
        self.0.rc_file
    }

    /// The start-up files this shell reads (see [`ShellSpec::startup_files`]), for the
    /// home folder `home`; `var` reads an environment variable. Files that do not exist
    /// are listed too, folders' files only when they exist.
    pub fn startup_files(self, home: &Path, var: impl Fn(&str) -> Option<OsString>) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in self.0.startup_files {
            let path = if let Some(rest) = entry.strip_prefix("~/") {
                home.join(rest)
            } else if let Some(rest) = entry.strip_prefix("$ZDOTDIR/") {
                match var("ZDOTDIR").filter(|d| !d.is_empty()) {
                    Some(dir) => Path::new(&dir).join(rest),
                    None => continue,
                }
            } else if let Some(rest) = entry.strip_prefix("$XDG_CONFIG_HOME/") {
                let config = var("XDG_CONFIG_HOME").filter(|d| !d.is_empty()).map(PathBuf::from);
                config.unwrap_or_else(|| home.join(".config")).join(rest)
            } else {
                PathBuf::from(entry)
            };
            if entry.ends_with('/') {
                let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
                    .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
                    .unwrap_or_default();
                files.sort();
                out.extend(files);
            } else {
                out.push(path);
            }
        }
        out
    }

    /// The line that runs `command`'s output in this shell:
    /// `eval "$(mlflow-login env prod --shell bash)"`, `... | source` in fish.
    pub fn eval_line(self, command: &str) -> String {
        self.0.eval.replace("{}", command)
    }

    /// The line for the start-up file: `eval "$(mlflow-login init bash)"`. `args` follow
    /// the shell's name (` --no-password`, or empty).
    pub fn init_line(self, args: &str) -> String {
        self.eval_line(&format!("mlflow-login init {}{args}", self.0.name))
    }

    /// What `init` (and the hook it installs) passes on for the secret, given its flags.
    pub fn secret_mode(self, no_password: bool, export_password: bool) -> SecretMode {
        if no_password {
            SecretMode::Plugin
        } else if export_password || self.0.exports_secret {
            SecretMode::Export
        } else {
            SecretMode::Withhold
        }
    }

    /// The shell called `name` (any of [`Shell::names`]).
    pub fn from_name(name: &str) -> Option<Shell> {
        find_in(Shell::ALL, name)
    }

    /// The user's shell from the path of their login shell (`$SHELL`): the row whose
    /// names hold the path's file name (`.exe` ignored). The one fallback, for no `$SHELL`
    /// or a shell not in the table: PowerShell on Windows, POSIX sh elsewhere (its
    /// output and init line work in every sh-like shell).
    pub fn from_login_shell(login_shell: Option<&str>) -> Shell {
        detect_in(Shell::ALL, login_shell)
    }

    /// [`Shell::from_login_shell`] of this process's `$SHELL`.
    pub fn detect() -> Shell {
        Shell::from_login_shell(std::env::var("SHELL").ok().as_deref())
    }
}

fn find_in(table: &[Shell], name: &str) -> Option<Shell> {
    table.iter().copied().find(|s| s.names().any(|n| n == name))
}

fn detect_in(table: &[Shell], login_shell: Option<&str>) -> Shell {
    let file = login_shell.and_then(|p| p.rsplit(['/', '\\']).next()).unwrap_or_default();
    let file = file.strip_suffix(".exe").unwrap_or(file);
    find_in(table, file).unwrap_or(if cfg!(windows) { Shell::PWSH } else { Shell::POSIX })
}

impl PartialEq for Shell {
    fn eq(&self, other: &Self) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for Shell {}

impl Hash for Shell {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.name.hash(state);
    }
}

impl fmt::Debug for Shell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Shell({})", self.0.name)
    }
}

impl fmt::Display for Shell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

impl FromStr for Shell {
    type Err = Error;

    fn from_str(name: &str) -> Result<Shell> {
        Shell::from_name(name).ok_or_else(|| {
            let known: Vec<&str> = Shell::ALL.iter().map(|s| s.name()).collect();
            Error::invalid("shell", format!("unknown shell \"{name}\": use one of {}", known.join(", ")))
        })
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

/// The exported variable that pins a shell's workspace with its server (`use NAME/WS
/// --here`); unset, a pinned shell uses the server's own workspace.
pub const PIN_WORKSPACE_ENV: &str = "MLFLOW_LOGIN_PIN_WORKSPACE";

/// The workspace this process's shell is pinned to ([`PIN_WORKSPACE_ENV`]), if any.
pub fn pin_workspace_from_env() -> Option<String> {
    std::env::var(PIN_WORKSPACE_ENV).ok().filter(|p| !p.is_empty())
}

/// The server this process's shell is pinned to ([`PIN_ENV`]), if any.
pub fn pin_from_env() -> Option<String> {
    std::env::var(PIN_ENV).ok().filter(|p| !p.is_empty())
}

/// Set by the init script's `mlflow-login` function for the program it runs: the shell's
/// name, then the init's flags (` --no-password`). Tells `use --here` that its output is
/// evaluated, and `doctor` that this shell has the hook.
pub const FUNCTION_ENV: &str = "MLFLOW_LOGIN_SHELL";

/// Reads [`FUNCTION_ENV`]: the hooked shell and what its init passes on for the secret.
pub fn parse_function_env(value: &str) -> Option<(Shell, SecretMode)> {
    let mut words = value.split_whitespace();
    let shell = Shell::from_name(words.next()?)?;
    let words: Vec<&str> = words.collect();
    let mode = shell.secret_mode(words.contains(&"--no-password"), words.contains(&"--export-password"));
    Some((shell, mode))
}

/// The shell variable that holds the last state the hook saw.
pub const STATE_VAR: &str = "__mll_state";

/// Records `state` (the state file's first line) as seen, so the hook is quiet until the
/// file changes again. Follows [`render_env`] in the hook's input.
pub fn render_state(shell: Shell, state: &str) -> String {
    shell.syntax().set_var(STATE_VAR, state)
}

/// The shell variable that holds when the exported single sign-on token needs refreshing
/// (Unix seconds; empty when no exported token expires). The hook compares it with the
/// shell's own clock (a builtin: bash's `$EPOCHSECONDS` or `printf '%(%s)T'`, zsh's
/// `zsh/datetime`, fish's `path mtime`) and runs `hook-env` once it has passed.
pub const DUE_VAR: &str = "__mll_due";

/// bash: the glob of Unix seconds (ten characters) in which the unchanged prompt
/// may skip the clock check: one block of [`clock_blocks`], [`ANY_SECOND`] when no token
/// is due. The prompt matches `$EPOCHSECONDS` against it in the same compare as the state
/// line and the folder, so a pending expiry costs one pattern, not a second test.
pub const WHEN_VAR: &str = "__mll_when";

/// bash: every block of [`clock_blocks`], each followed by `|`. When the clock left
/// [`WHEN_VAR`]'s block before the refresh time, the hook moves on to the block that holds
/// it, without running `mlflow-login`.
pub const WHENS_VAR: &str = "__mll_whens";

/// [`WHEN_VAR`] when no exported token expires: any ten-character clock.
pub const ANY_SECOND: &str = "??????????";

/// The seconds from `now` up to `due` (excluded) as globs of the clock's decimal digits,
/// in time order: each a prefix, one bracketed range of digits and `?` for the rest
/// (`179664[4-7]???` is 1796644000 to 1796647999). The first block may start before `now`
/// (earlier seconds never come back), as long as it ends before `due`, so it is as wide
/// as it can be. Every second a glob matches is before `due`: the prompt that matches
/// needs no refresh. Seconds of another digit count than `now`'s get no glob (the hook
/// then compares the clock in full). At most two globs per digit.
pub fn clock_blocks(now: u64, due: u64) -> Vec<String> {
    let digits = now.to_string().len() as u32;
    let mut out = Vec::new();
    if digits > 18 {
        return out;
    }
    let due = due.min(10u64.pow(digits));
    if now >= due {
        return out;
    }
    // The widest aligned block that holds `now` and ends by `due`.
    let mut lo = now;
    for k in (0..digits).rev() {
        let size = 10u64.pow(k);
        let start = now - now % size;
        if start + size <= due {
            lo = start;
            break;
        }
    }
    while lo < due {
        // The largest block size that `lo` is aligned to and that fits before `due`.
        let mut k = 0;
        while k + 1 < digits && lo.is_multiple_of(10u64.pow(k + 1)) && lo + 10u64.pow(k + 1) <= due {
            k += 1;
        }
        let size = 10u64.pow(k);
        let first = (lo / size) % 10;
        let count = (10 - first).min((due - lo) / size);
        let text = lo.to_string();
        let prefix = &text[..(digits - k - 1) as usize];
        let last = first + count - 1;
        let range = if count == 1 { first.to_string() } else { format!("[{first}-{last}]") };
        out.push(format!("{prefix}{range}{}", "?".repeat(k as usize)));
        lo += count * size;
    }
    out
}

/// The clocks [`render_due`] converts the refresh time with: Unix seconds, and the seconds
/// since boot of `/proc/uptime` where there is one (fish reads that file with a builtin,
/// having no clock of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    pub unix: u64,
    pub uptime: Option<u64>,
}

impl Now {
    /// The clocks now.
    pub fn read() -> Now {
        let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let uptime = std::fs::read_to_string("/proc/uptime")
            .ok()
            .and_then(|t| t.split('.').next().and_then(|s| s.trim().parse().ok()));
        Now { unix, uptime }
    }
}

/// fish: the seconds since boot (`/proc/uptime`) from `now` up to `due` (excluded) as blocks
/// of equal size, each the leading digits of the seconds, then the `.` that ends them, one
/// character a word as `read -a -d ''` splits the file: `1 3 3 .` is 13300 to 13399 while
/// the seconds have five digits. Also the character positions (from 1) the prompt picks
/// (the leading digits and the `.`, which makes a block never match a number with more
/// digits). Blocks are a twentieth of the time left or less (a power of ten), the first
/// holds `now`, and none reaches `due`; `None` when there is none.
pub fn uptime_blocks(now: u64, due: u64) -> Option<(Vec<usize>, Vec<String>)> {
    let digits = now.to_string().len() as u32;
    if now >= due || digits > 18 {
        return None;
    }
    let mut k = 0;
    while k + 1 < digits && 10u64.pow(k + 1) * 20 <= due - now {
        k += 1;
    }
    let size = 10u64.pow(k);
    let kept = (digits - k) as usize;
    let mut picks: Vec<usize> = (1..=kept).collect();
    picks.push(digits as usize + 1);
    let mut blocks = Vec::new();
    let mut b = now / size;
    while (b + 1) * size <= due && b * size < 10u64.pow(digits) {
        let mut words: Vec<String> = b.to_string().chars().map(String::from).collect();
        words.push(".".into());
        blocks.push(words.join(" "));
        b += 1;
    }
    (!blocks.is_empty()).then_some((picks, blocks))
}

/// fish: the deadline in `/proc/uptime` seconds while the prompt compares that clock; empty
/// otherwise. The init script swaps the prompt's function when it changes.
pub const UPTIME_DUE_VAR: &str = "__mll_up";

/// fish: the character positions of `/proc/uptime` the prompt compares ([`uptime_blocks`]).
pub const PICKS_VAR: &str = "__mll_i";

/// Records when the hook must run `hook-env` again although nothing changed: `due` (Unix
/// seconds), for a token near expiry; `None` clears it. bash also gets the clock's
/// blocks from `now` ([`WHEN_VAR`], [`WHENS_VAR`]), fish the blocks of `/proc/uptime`
/// ([`uptime_blocks`]). Follows [`render_state`].
pub fn render_due(shell: Shell, due: Option<u64>, now: Now) -> String {
    let syntax = shell.syntax();
    let mut out = syntax.set_var(DUE_VAR, &due.map(|d| d.to_string()).unwrap_or_default());
    match shell.name() {
        "bash" => {
            let blocks = due.map(|d| clock_blocks(now.unix, d)).unwrap_or_default();
            let when = match (due, blocks.first()) {
                (None, _) => ANY_SECOND,
                (Some(_), Some(first)) => first.as_str(),
                // Nothing before the refresh time: no glob, the clock is compared in full.
                (Some(_), None) => "",
            };
            out.push_str(&syntax.set_var(WHEN_VAR, when));
            out.push_str(&syntax.set_var(WHENS_VAR, &blocks.iter().map(|b| format!("{b}|")).collect::<String>()));
        }
        "fish" => {
            // The deadline in uptime seconds: the same distance from now as the refresh time.
            let up = match (due, now.uptime) {
                (Some(d), Some(u)) => Some(u + d.saturating_sub(now.unix)),
                _ => None,
            };
            let blocks = up.and_then(|d| uptime_blocks(now.uptime.unwrap_or_default(), d));
            let list = |words: &[String]| words.iter().map(|w| format!(" {}", syntax.quote(w))).collect::<String>();
            match (up, blocks) {
                (Some(up), Some((picks, blocks))) => {
                    let picks: Vec<String> = picks.iter().map(|p| p.to_string()).collect();
                    out.push_str(&format!("set -g {PICKS_VAR}{}\n", list(&picks)));
                    out.push_str(&syntax.set_var(WHEN_VAR, &blocks[0]));
                    out.push_str(&format!("set -g {WHENS_VAR}{}\n", list(&blocks)));
                    // Last: setting it swaps the prompt's function.
                    out.push_str(&syntax.set_var(UPTIME_DUE_VAR, &up.to_string()));
                }
                _ => out.push_str(&syntax.set_var(UPTIME_DUE_VAR, "")),
            }
        }
        _ => {}
    }
    out
}

/// The shell variable that lists the project files whose "log in first" hint this shell
/// has shown, one a line, so the hint shows once per shell and project.
pub const HINTED_VAR: &str = "__mll_hinted";

/// How the hook passes [`HINTED_VAR`] to `hook-env` (for that one command only).
pub const HINTED_ENV: &str = "__MLL_HINTED";

/// What [`render_init`] fills in.
#[derive(Debug, Clone, Copy)]
pub struct InitOptions<'a> {
    /// The `mlflow-login` program, by absolute path (the hook never searches `$PATH`).
    pub program: &'a Path,
    /// The state file (see [`crate::Paths::state_file`]).
    pub state_file: &'a Path,
    /// `--no-password`: export no secret, select the plugin.
    pub no_password: bool,
    /// `--export-password`: export the secret even where the shell's init does not by
    /// default (POSIX sh).
    pub export_password: bool,
}

impl InitOptions<'_> {
    /// The flags as the init line and `hook-env` take them (` --no-password`, or empty).
    pub fn args(&self) -> String {
        let mut args = String::new();
        if self.no_password {
            args.push_str(" --no-password");
        }
        if self.export_password {
            args.push_str(" --export-password");
        }
        args
    }
}

/// The init script for `shell`: its template, filled in. It defines the prompt hook and
/// the `mlflow-login` function; the caller appends the first exports (a `hook-env` output).
pub fn render_init(shell: Shell, opts: &InitOptions<'_>) -> Result<String> {
    let template = shell.template().ok_or_else(|| {
        Error::invalid(
            "shell",
            format!(
                "{} has no prompt hook to install: use PowerShell (`mlflow-login init pwsh`), or `mlflow-login exec NAME -- COMMAND`",
                shell.title()
            ),
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
    let args = opts.args();
    let init_line = shell.init_line(&args);
    fill(
        template,
        &[
            ("init_line", &init_line),
            ("rc_file", shell.rc_file().unwrap_or("your shell's start-up file")),
            ("bin", &path(opts.program, "program")?),
            ("state_file", &path(opts.state_file, "state file")?),
            ("hook_args", &args),
            ("project_file", &syntax.quote(crate::project::FILE_NAME)),
        ],
    )
}

/// `template` with each `{{key}}` replaced, in one pass: a value is never searched for
/// placeholders (a path may hold anything). An unknown placeholder is a bug in a template.
fn fill(template: &str, values: &[(&str, &str)]) -> Result<String> {
    let mut out = String::with_capacity(template.len() + 512);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or_else(|| Error::invalid("template", "a template has an unclosed {{"))?;
        let key = &after[..end];
        let value = values.iter().find(|(k, _)| *k == key).ok_or_else(|| {
            Error::invalid("template", format!("a template has an unknown placeholder {{{{{key}}}}}"))
        })?;
        out.push_str(value.1);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests;
