//! Credentials kept in plain text, found so that they can move into the keychain.
//!
//! [`scan`] reads the places MLflow users keep a password: `~/.mlflow/credentials`
//! (MLflow's own INI file: `[mlflow]` with `mlflow_tracking_username` /
//! `mlflow_tracking_password`, read by `mlflow.utils.credentials`), `MLFLOW_TRACKING_*` in
//! the environment and in every shell's start-up files (core's shell table), `~/.netrc`
//! entries for the hosts of known servers, and credentials inside a tracking URI
//! (`https://user:pass@host`). Each find is a [`Found`]: where it is, the URL and the
//! username (shown to the user), the secret (never shown), and how to remove it.
//!
//! The values are read the way the shell would read them, for the forms people write:
//! `export NAME=value`, `NAME=value`, `declare -x` / `typeset -x`, fish's `set -gx NAME
//! value`, PowerShell's `$env:NAME = 'value'`, with single quotes, double quotes and
//! backslashes. A value the shell would compute (`$VAR`, `$(cmd)`, backticks), a quote left
//! open, or a line that also runs other commands is not guessed at: it is reported as
//! [`Skipped`] with the reason, and left alone.
//!
//! [`remove_plaintext`] takes the copies out once the keychain holds them: an rc line is
//! commented out (a secret in it replaced by a note naming mlflow-login, so no copy stays),
//! the credentials file's `[mlflow]` section is deleted, a netrc entry is deleted. Each
//! changed file is first copied to a backup in the config dir's `backups/` folder (mode
//! 0600, in a 0700 folder), and the file must be as it was when it was scanned (else it is
//! left alone). Not next to the file: start-up files are often links into a dotfiles
//! repository, where a backup holding the password could be committed. A file that is a
//! symbolic link is changed where it points.
//!
//! There is no kept Rust crate that parses netrc *with positions* (needed to delete one
//! entry and nothing else), so a small tokenizer lives here, tested below.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::env::{PASSWORD, SERVER_NAME, TOKEN, URI, USERNAME};
use crate::error::{Error, Result};
use crate::login::LoginMode;
use crate::secret::Secret;
use crate::server::{AuthKind, normalize_url, validate_name};
use crate::shell::Shell;

/// Where a plain-text credential was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// This process's environment.
    Environment,
    /// A shell start-up file.
    ShellFile,
    /// `~/.mlflow/credentials`.
    MlflowCredentials,
    /// `~/.netrc`.
    Netrc,
}

/// One plain-text credential.
#[derive(Debug, Clone)]
pub struct Found {
    /// Its kind of place.
    pub kind: SourceKind,
    /// The file (`None`: the environment).
    pub path: Option<PathBuf>,
    /// The 1-based line of the secret in that file.
    pub line: Option<usize>,
    /// The normalised tracking URL, without credentials (`None`: nothing says which server).
    pub url: Option<String>,
    /// The username.
    pub username: Option<String>,
    /// Basic (a password) or Bearer (a token).
    pub auth: AuthKind,
    /// The password or token.
    pub secret: Secret,
    /// The secret was inside a tracking URI.
    pub in_uri: bool,
    /// How to take the copies out (the same credential may sit in several files).
    pub removals: Vec<Removal>,
}

/// A value that was not read, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// The 1-based line.
    pub line: usize,
    /// The variable or entry.
    pub what: String,
    /// Why it was left alone.
    pub reason: String,
}

/// What [`scan`] found.
#[derive(Debug, Default)]
pub struct Scan {
    /// Credentials to import, each once.
    pub found: Vec<Found>,
    /// Values that could not be read safely.
    pub skipped: Vec<Skipped>,
}

/// One file's change. Its `Debug` shows the path and the edit, never the scanned text
/// (which holds the password).
#[derive(Clone, PartialEq, Eq)]
pub struct Removal {
    /// The file.
    pub path: PathBuf,
    /// Its text when it was scanned.
    original: String,
    edit: Edit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Edit {
    /// 0-based lines to comment out; `Some(var)` when the line holds a secret (replaced).
    Comment(Vec<(usize, Option<String>)>),
    /// 0-based lines to delete.
    DeleteLines(Range<usize>),
    /// Bytes to delete.
    DeleteBytes(Range<usize>),
}

/// Where the scan looks and what it knows.
pub struct ScanInput<'a> {
    /// The home folder.
    pub home: &'a Path,
    /// Reads an environment variable.
    pub var: &'a dyn Fn(&str) -> Option<OsString>,
    /// The config (netrc entries count for its servers' hosts; the active server's URL is
    /// the last resort for a credential that names no URL).
    pub config: &'a Config,
    /// The URL for credentials that name none (the user's `--url`).
    pub url: Option<&'a str>,
}

impl std::fmt::Debug for ScanInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanInput").field("home", &self.home).field("url", &self.url).finish_non_exhaustive()
    }
}

/// The shell start-up files of every shell in core's table, each once.
pub fn startup_files(home: &Path, var: &dyn Fn(&str) -> Option<OsString>) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = Vec::new();
    for file in Shell::ALL.iter().flat_map(|s| s.startup_files(home, var)) {
        if !files.contains(&file) {
            files.push(file);
        }
    }
    files
}

/// The MLflow credentials file.
pub fn mlflow_credentials_file(home: &Path) -> PathBuf {
    home.join(".mlflow").join("credentials")
}

/// The netrc file (`$NETRC`, else `~/.netrc`).
pub fn netrc_file(home: &Path, var: &dyn Fn(&str) -> Option<OsString>) -> PathBuf {
    var("NETRC").filter(|v| !v.is_empty()).map(PathBuf::from).unwrap_or_else(|| home.join(".netrc"))
}

/// The tracking variables one place sets, each with its 1-based line.
#[derive(Default)]
struct Vars {
    values: BTreeMap<&'static str, (String, usize)>,
}

const TRACKING: [&str; 4] = [URI, USERNAME, PASSWORD, TOKEN];

/// Finds every plain-text credential (module docs).
pub fn scan(input: &ScanInput<'_>) -> Scan {
    let mut scan = Scan::default();
    // Per place: its variables and how to remove them.
    let mut places: Vec<(SourceKind, Option<PathBuf>, Vars, Option<Removal>)> = Vec::new();

    for path in startup_files(input.home, input.var) {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        let (vars, lines) = shell_vars(&path, &text, &mut scan.skipped);
        if vars.values.is_empty() {
            continue;
        }
        let removal = Removal { path: path.clone(), original: text, edit: Edit::Comment(lines) };
        places.push((SourceKind::ShellFile, Some(path), vars, Some(removal)));
    }
    let creds = mlflow_credentials_file(input.home);
    if let Ok(text) = std::fs::read_to_string(&creds)
        && let Some((vars, section)) = mlflow_ini(&text)
    {
        let removal = Removal { path: creds.clone(), original: text, edit: Edit::DeleteLines(section) };
        places.push((SourceKind::MlflowCredentials, Some(creds), vars, Some(removal)));
    }
    let mut env = Vars::default();
    // In a hooked shell (or `exec`), the variables are mlflow-login's own, from the keychain.
    let ours = (input.var)(SERVER_NAME).is_some_and(|v| !v.is_empty());
    for var in TRACKING.into_iter().filter(|_| !ours) {
        if let Some(v) = (input.var)(var).and_then(|v| v.into_string().ok()).filter(|v| !v.is_empty()) {
            env.values.insert(var, (v, 0));
        }
    }
    places.push((SourceKind::Environment, None, env, None));

    // A place that names no URL (or no username) takes it from the others: the user's
    // `--url`, the environment, a start-up file, then the active server.
    let uri_of = |vars: &Vars| vars.values.get(URI).and_then(|(u, _)| split_uri(u).ok()).map(|(u, ..)| u);
    let fallback_url = input
        .url
        .and_then(|u| normalize_url(u).ok().map(|u| u.to_string_normalized()))
        .or_else(|| places.iter().rev().find_map(|p| uri_of(&p.2)))
        .or_else(|| input.config.active_server().map(|(_, s)| s.url.clone()));
    let fallback_user = places.iter().rev().find_map(|p| p.2.values.get(USERNAME).map(|(u, _)| u.clone()));

    for (kind, path, vars, removal) in places {
        // An empty value sets nothing (`export MLFLOW_TRACKING_PASSWORD=` clears it).
        let get = |k: &str| vars.values.get(k).cloned().filter(|(v, _)| !v.is_empty());
        let uri = get(URI);
        let split = match &uri {
            Some((u, line)) => match split_uri(u) {
                Ok(s) => Some(s),
                Err(reason) => {
                    if let Some(p) = &path {
                        scan.skipped.push(Skipped { path: p.clone(), line: *line, what: URI.into(), reason });
                    }
                    None
                }
            },
            None => None,
        };
        let (uri_url, uri_user, uri_pass) = split.unwrap_or_default();
        let (auth, secret, line, in_uri) = match (get(PASSWORD), get(TOKEN), uri_pass) {
            (Some((p, l)), _, _) => (AuthKind::Basic, p, l, false),
            (None, _, Some(p)) => (AuthKind::Basic, p, uri.as_ref().map_or(0, |u| u.1), true),
            (None, Some((t, l)), None) => (AuthKind::Bearer, t, l, false),
            (None, None, None) => continue,
        };
        let username = get(USERNAME).map(|(u, _)| u).or(uri_user).or_else(|| fallback_user.clone());
        let url = uri.as_ref().map(|_| uri_url).filter(|u| !u.is_empty()).or_else(|| fallback_url.clone());
        push_found(
            &mut scan.found,
            Found {
                kind,
                line: path.as_ref().map(|_| line),
                path,
                url,
                username,
                auth,
                secret: Secret::new(secret),
                in_uri,
                removals: removal.into_iter().collect(),
            },
        );
    }

    let netrc = netrc_file(input.home, input.var);
    if let Ok(text) = std::fs::read_to_string(&netrc) {
        for entry in netrc_entries(&text) {
            let (Some(machine), Some(password)) = (&entry.machine, &entry.password) else { continue };
            // An entry counts for the servers on its host that log in as its login (or name
            // no user): a host often serves several servers, each with its own account.
            let on_host: Vec<&crate::server::Server> = input
                .config
                .servers
                .values()
                .filter(|s| {
                    s.parsed_url().ok().and_then(|u| u.host_str().map(str::to_ascii_lowercase)).as_deref()
                        == Some(machine.as_str())
                })
                .collect();
            let users = on_host.iter().filter(|s| s.username.is_none() || s.username == entry.login);
            let mut matched = false;
            for server in users {
                matched = true;
                let removal = Removal {
                    path: netrc.clone(),
                    original: text.clone(),
                    edit: Edit::DeleteBytes(entry.span.clone()),
                };
                push_found(
                    &mut scan.found,
                    Found {
                        kind: SourceKind::Netrc,
                        path: Some(netrc.clone()),
                        line: Some(entry.line),
                        url: Some(server.url.clone()),
                        username: entry.login.clone().or_else(|| server.username.clone()),
                        auth: AuthKind::Basic,
                        secret: Secret::new(password.clone()),
                        in_uri: false,
                        removals: vec![removal],
                    },
                );
            }
            if !matched && !on_host.is_empty() {
                scan.skipped.push(Skipped {
                    path: netrc.clone(),
                    line: entry.line,
                    what: format!("machine {machine}"),
                    reason: format!(
                        "no server on {machine} logs in as {}: log in to that server first, then import again",
                        entry.login.as_deref().unwrap_or("(no login)")
                    ),
                });
            }
        }
    }
    scan
}

/// Adds `found`, or merges its removals into an earlier find of the same credential (the
/// environment usually holds what a start-up file exported).
fn push_found(all: &mut Vec<Found>, found: Found) {
    let same = |f: &Found| {
        f.url == found.url && f.username == found.username && f.auth == found.auth && f.secret == found.secret
    };
    match all.iter_mut().find(|f| same(f)) {
        Some(f) => f.removals.extend(found.removals),
        None => all.push(found),
    }
}

/// Splits a tracking URI into its normalised URL and the credentials inside it.
fn split_uri(uri: &str) -> std::result::Result<(String, Option<String>, Option<String>), String> {
    let mut url = url::Url::parse(uri.trim()).map_err(|e| format!("not a URL: {e}"))?;
    let user = Some(percent_decode(url.username())?).filter(|u| !u.is_empty());
    let pass = url.password().map(percent_decode).transpose()?;
    // Neither can fail on an http(s) URL with a host; a `file:` URI is no server of ours.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let normalized = normalize_url(url.as_str()).map_err(|e| e.to_string())?;
    Ok((normalized.to_string_normalized(), user, pass))
}

fn percent_decode(s: &str) -> std::result::Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "the credentials in the URI are not UTF-8".to_string())
}

/// The tracking variables a start-up file sets (the last assignment of each wins), and the
/// lines to comment out.
fn shell_vars(path: &Path, text: &str, skipped: &mut Vec<Skipped>) -> (Vars, Vec<(usize, Option<String>)>) {
    let dialect = match path.extension().and_then(|e| e.to_str()) {
        Some("fish") => Dialect::Fish,
        Some("ps1") => Dialect::Pwsh,
        _ => Dialect::Posix,
    };
    let mut vars = Vars::default();
    let mut lines = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some((var, value)) = assignment(line, dialect) else { continue };
        match value {
            Ok(v) => {
                let secret = var == PASSWORD || var == TOKEN || (var == URI && v.contains('@'));
                lines.push((i, secret.then(|| var.to_string())));
                vars.values.insert(var, (v, i + 1));
            }
            Err(reason) => skipped.push(Skipped { path: path.to_path_buf(), line: i + 1, what: var.into(), reason }),
        }
    }
    (vars, lines)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Posix,
    Fish,
    Pwsh,
}

/// The tracking variable `line` assigns and its value (`Err`: why it cannot be read).
fn assignment(line: &str, dialect: Dialect) -> Option<(&'static str, std::result::Result<String, String>)> {
    let line = line.trim_start();
    let (var, rest) = match dialect {
        Dialect::Posix => {
            let mut rest = line;
            for prefix in ["export ", "declare -x ", "declare -gx ", "typeset -x ", "typeset -gx "] {
                if let Some(r) = rest.strip_prefix(prefix) {
                    rest = r.trim_start();
                    break;
                }
            }
            let var = TRACKING.into_iter().find(|v| rest.strip_prefix(v).is_some_and(|r| r.starts_with('=')))?;
            (var, &rest[var.len() + 1..])
        }
        Dialect::Fish => {
            if line.split_whitespace().next() != Some("set") {
                return None;
            }
            let mut rest = line.trim_start().strip_prefix("set")?.trim_start();
            let mut exported = false;
            while rest.starts_with('-') {
                let (flag, r) = rest.split_once(char::is_whitespace)?;
                exported |= !flag.starts_with("--") && flag.contains('x') || flag == "--export";
                rest = r.trim_start();
            }
            let var =
                TRACKING.into_iter().find(|v| rest.strip_prefix(v).is_some_and(|r| r.starts_with([' ', '\t'])))?;
            if !exported {
                return None;
            }
            (var, rest[var.len()..].trim_start())
        }
        Dialect::Pwsh => {
            let rest = line.strip_prefix("$env:")?;
            let var = TRACKING.into_iter().find(|v| {
                rest.get(..v.len()).is_some_and(|p| p.eq_ignore_ascii_case(v))
                    && rest[v.len()..].trim_start().starts_with('=')
            })?;
            (var, rest[var.len()..].trim_start().strip_prefix('=')?.trim_start())
        }
    };
    Some((var, word(rest, dialect)))
}

/// One shell word as the shell reads it, when no expansion is involved; the rest of the
/// line may only be a comment.
fn word(s: &str, dialect: Dialect) -> std::result::Result<String, String> {
    const EXPANSION: &str = "it uses a shell expansion ($ or `): the shell computes it, mlflow-login does not guess";
    const OPEN: &str = "a quote is not closed on this line";
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | ';' | '&' | '|' => {
                let rest: String = std::iter::once(c).chain(chars).collect();
                let rest = rest.trim_start();
                if rest.is_empty() || rest.starts_with('#') {
                    break;
                }
                return Err(
                    "the line also runs other commands: move the value to a line of its own, or edit it by hand".into(),
                );
            }
            '\'' => loop {
                match chars.next() {
                    None => return Err(OPEN.into()),
                    Some('\'') if dialect == Dialect::Pwsh && chars.peek() == Some(&'\'') => {
                        chars.next();
                        out.push('\'');
                    }
                    Some('\'') => break,
                    Some('\\') if dialect == Dialect::Fish && matches!(chars.peek(), Some('\'' | '\\')) => {
                        out.push(chars.next().unwrap_or_default());
                    }
                    Some(c) => out.push(c),
                }
            },
            '"' => loop {
                match chars.next() {
                    None => return Err(OPEN.into()),
                    Some('"') => break,
                    Some('$' | '`') => return Err(EXPANSION.into()),
                    Some('\\') if dialect != Dialect::Pwsh => match chars.next() {
                        Some(e @ ('$' | '`' | '"' | '\\')) => out.push(e),
                        Some(e) => {
                            out.push('\\');
                            out.push(e);
                        }
                        None => return Err(OPEN.into()),
                    },
                    Some(c) => out.push(c),
                }
            },
            '\\' if dialect != Dialect::Pwsh => match chars.next() {
                Some(e) => out.push(e),
                None => return Err(OPEN.into()),
            },
            '$' | '`' => return Err(EXPANSION.into()),
            '#' if out.is_empty() && dialect != Dialect::Posix => break,
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Whether the text of MLflow's credentials file holds a password MLflow would send
/// (a non-empty `mlflow_tracking_password` in its `[mlflow]` section).
pub fn mlflow_credentials_password(text: &str) -> bool {
    mlflow_ini(text).is_some_and(|(vars, _)| vars.values.get(PASSWORD).is_some_and(|(v, _)| !v.is_empty()))
}

/// The `[mlflow]` section of MLflow's credentials file (Python `configparser`, default
/// settings: `=` or `:`, `#`/`;` comment lines, `%%` for `%`), and its line range.
fn mlflow_ini(text: &str) -> Option<(Vars, Range<usize>)> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| l.trim() == "[mlflow]")?;
    let end = lines
        .iter()
        .skip(start + 1)
        .position(|l| l.trim_start().starts_with('['))
        .map_or(lines.len(), |n| start + 1 + n);
    let mut vars = Vars::default();
    for (i, line) in lines.iter().enumerate().take(end).skip(start + 1) {
        let t = line.trim();
        if t.is_empty() || t.starts_with(['#', ';']) {
            continue;
        }
        let Some((key, value)) = t.split_once(['=', ':']) else { continue };
        let var = match key.trim().to_ascii_lowercase().as_str() {
            "mlflow_tracking_username" => USERNAME,
            "mlflow_tracking_password" => PASSWORD,
            _ => continue,
        };
        vars.values.insert(var, (value.trim().replace("%%", "%"), i + 1));
    }
    Some((vars, start..end))
}

/// One netrc entry (`machine` or `default`), with its place in the file. Its `Debug`
/// redacts the password.
#[derive(Clone, PartialEq, Eq)]
pub struct NetrcEntry {
    /// The host, lower-cased (`None`: the `default` entry).
    pub machine: Option<String>,
    /// `login`.
    pub login: Option<String>,
    /// `password`.
    pub password: Option<String>,
    /// The 1-based line of `machine` / `default`.
    pub line: usize,
    span: Range<usize>,
}

/// The entries of a netrc file. Tokens are separated by white space; a `"quoted token"`
/// may hold spaces and backslash escapes (as Python's `netrc` reads them); a `macdef` body
/// runs to the first empty line.
pub fn netrc_entries(text: &str) -> Vec<NetrcEntry> {
    let tokens = netrc_tokens(text);
    let mut out: Vec<NetrcEntry> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let (start, ref word) = tokens[i];
        let value = tokens.get(i + 1).map(|t| t.1.clone());
        match word.as_str() {
            "machine" | "default" | "macdef" => {
                if let Some(last) = out.last_mut()
                    && last.span.end == usize::MAX
                {
                    last.span.end = start;
                }
                if word == "macdef" {
                    // Its body (up to an empty line) is no token of ours.
                    let body_end = text[start..].find("\n\n").map_or(text.len(), |n| start + n + 2);
                    while i < tokens.len() && tokens[i].0 < body_end {
                        i += 1;
                    }
                    continue;
                }
                let machine = if word == "machine" { value.map(|v| v.to_ascii_lowercase()) } else { None };
                let line = text[..start].matches('\n').count() + 1;
                out.push(NetrcEntry { machine, login: None, password: None, line, span: start..usize::MAX });
                i += if word == "machine" { 2 } else { 1 };
                continue;
            }
            "login" | "password" | "account" => {
                if let Some(last) = out.last_mut() {
                    match word.as_str() {
                        "login" => last.login = value,
                        "password" => last.password = value,
                        _ => {}
                    }
                }
                i += 2;
                continue;
            }
            _ => i += 1,
        }
    }
    if let Some(last) = out.last_mut()
        && last.span.end == usize::MAX
    {
        last.span.end = text.len();
    }
    out
}

fn netrc_tokens(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut it = text.char_indices().peekable();
    while let Some(&(start, c)) = it.peek() {
        if c.is_whitespace() {
            it.next();
            continue;
        }
        if c == '#' && text[..start].rsplit('\n').next().is_some_and(|l| l.trim().is_empty()) {
            // A comment line.
            while it.next_if(|&(_, c)| c != '\n').is_some() {}
            continue;
        }
        let mut word = String::new();
        if c == '"' {
            it.next();
            while let Some((_, c)) = it.next() {
                match c {
                    '"' => break,
                    '\\' => word.extend(it.next().map(|(_, c)| c)),
                    c => word.push(c),
                }
            }
        } else {
            while let Some((_, c)) = it.next_if(|&(_, c)| !c.is_whitespace()) {
                if c == '\\' {
                    word.extend(it.next().map(|(_, c)| c));
                } else {
                    word.push(c);
                }
            }
        }
        out.push((start, word));
    }
    out
}

/// The server a found credential goes to: a known server with its URL, its auth kind and
/// its username (or one that names no username) is logged in to again
/// ([`LoginMode::Edit`]); otherwise a new server named after the host (`host`, or
/// `host-PORT`; `-2`, `-3`... when taken). A known server is never switched to another
/// account or another kind of login by an import: a plain-text password for the URL of a
/// token or single sign-on server becomes a server of its own, and that server's token
/// stays where it is.
pub fn target(config: &Config, url: &str, auth: AuthKind, username: Option<&str>) -> (String, LoginMode) {
    let same = |s: &&crate::server::Server| {
        s.url == url && s.auth == auth && (s.username.as_deref() == username || s.username.is_none())
    };
    if let Some((name, _)) = config.servers.iter().find(|(_, s)| same(s)) {
        return (name.clone(), LoginMode::Edit);
    }
    let base = url::Url::parse(url)
        .ok()
        .and_then(|u| {
            let host = u.host_str()?.trim_matches(['[', ']']).replace(':', "-");
            Some(match u.port() {
                Some(p) => format!("{host}-{p}"),
                None => host,
            })
        })
        .filter(|n| validate_name(n).is_ok())
        .unwrap_or_else(|| "imported".into());
    let mut name = base.clone();
    let mut n = 2;
    while config.servers.contains_key(&name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    (name, LoginMode::Add)
}

/// A file changed by [`remove_plaintext`], and where its old text is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    /// The changed file.
    pub path: PathBuf,
    /// The backup of its old text (mode 0600).
    pub backup: PathBuf,
}

/// Takes the plain-text copies out (module docs). `removals` pairs each with the name of
/// the server whose keychain entry now holds the secret, for the note left in its place.
/// Each file is changed once, after its backup is written; a file that changed since it
/// was scanned is an error and left as it is.
pub fn remove_plaintext(removals: &[(&Removal, &str)], backups: &Path) -> Result<Vec<Removed>> {
    let mut by_file: BTreeMap<&Path, Vec<(&Removal, &str)>> = BTreeMap::new();
    for &(r, name) in removals {
        by_file.entry(r.path.as_path()).or_default().push((r, name));
    }
    let mut out = Vec::new();
    for (path, edits) in by_file {
        let real = std::fs::canonicalize(path).map_err(|e| Error::io(path, e))?;
        let now = std::fs::read_to_string(&real).map_err(|e| Error::io(path, e))?;
        if edits.iter().any(|(r, _)| r.original != now) {
            return Err(Error::invalid(
                "file",
                format!(
                    "{} changed since it was read: nothing was removed from it; run the import again",
                    path.display()
                ),
            ));
        }
        let new = apply_edits(&now, &edits);
        let backup = write_backup(backups, &real, &now)?;
        let perms = std::fs::metadata(&real).map_err(|e| Error::io(&real, e))?.permissions();
        crate::config::write_atomic(&real, new.as_bytes())?;
        std::fs::set_permissions(&real, perms).map_err(|e| Error::io(&real, e))?;
        out.push(Removed { path: path.to_path_buf(), backup });
    }
    Ok(out)
}

fn apply_edits(text: &str, edits: &[(&Removal, &str)]) -> String {
    let mut comment: BTreeMap<usize, (Option<String>, &str)> = BTreeMap::new();
    let mut delete_lines: Vec<Range<usize>> = Vec::new();
    let mut delete_bytes: Vec<Range<usize>> = Vec::new();
    for &(r, name) in edits {
        match &r.edit {
            Edit::Comment(lines) => comment.extend(lines.iter().map(|(i, secret)| (*i, (secret.clone(), name)))),
            Edit::DeleteLines(range) => delete_lines.push(range.clone()),
            Edit::DeleteBytes(range) => delete_bytes.push(range.clone()),
        }
    }
    let mut text = text.to_string();
    delete_bytes.sort_by_key(|r| std::cmp::Reverse(r.start));
    delete_bytes.dedup();
    for r in delete_bytes {
        text.replace_range(r, "");
    }
    // A removed line becomes a no-op command, not a bare comment: an `if` branch that held
    // only `MLFLOW_TRACKING_*` lines must stay valid shell (`true` is a builtin in sh, bash,
    // zsh and fish). PowerShell takes empty blocks, and `true` is not a command there.
    let powershell = edits.first().is_some_and(|(r, _)| r.path.extension().is_some_and(|e| e == "ps1"));
    let noop = if powershell { "" } else { "true " };
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if delete_lines.iter().any(|r| r.contains(&i)) {
            continue;
        }
        let indent = &line[..line.len() - line.trim_start().len()];
        match comment.get(&i) {
            Some((Some(var), name)) => {
                let nl = if line.ends_with('\n') { "\n" } else { "" };
                out.push_str(&format!(
                    "{indent}{noop}# {var} removed by `mlflow-login import` (server \"{name}\" is in the keychain; the old line is in the backup){nl}"
                ));
            }
            Some((None, name)) => {
                out.push_str(&format!(
                    "{indent}{noop}# (mlflow-login import, server \"{name}\") {}",
                    line.trim_start()
                ));
            }
            None => out.push_str(line),
        }
    }
    out
}

/// Copies `text` (of the file `path`) to a new file in `dir`, mode 0600.
fn write_backup(dir: &Path, path: &Path, text: &str) -> Result<PathBuf> {
    crate::config::create_private_dir(dir)?;
    use std::io::Write as _;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    for n in 0..100 {
        let suffix = if n == 0 { String::new() } else { format!("-{n}") };
        let backup = dir.join(format!("{}.{now}{suffix}", name.trim_start_matches('.')));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        match opts.open(&backup) {
            Ok(mut f) => {
                f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).map_err(|e| Error::io(&backup, e))?;
                return Ok(backup);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(&backup, e)),
        }
    }
    Err(Error::io(path, std::io::Error::other("no free backup file name")))
}

#[cfg(test)]
mod tests;

impl std::fmt::Debug for Removal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Removal").field("path", &self.path).field("edit", &self.edit).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for NetrcEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetrcEntry")
            .field("machine", &self.machine)
            .field("login", &self.login)
            .field("password", &self.password.as_ref().map(|_| "REDACTED"))
            .field("line", &self.line)
            .finish_non_exhaustive()
    }
}
