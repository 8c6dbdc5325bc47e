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
//! Start-up files are read by [`startup`]'s rule (the one `doctor` uses too) with
//! `words`' shell-word parser: a value the shell would compute (`$VAR`, `$(cmd)`,
//! backticks), a quote left open, a line that also runs other commands, or a variable given
//! different values in one file is not guessed at: it is reported as [`Skipped`] with the
//! reason, and left alone.
//!
//! [`remove_plaintext`] (`edit`) takes the copies out once the keychain holds them, each
//! changed file first copied to a [`backups`] folder.
//!
//! Files: `scan.rs` (which credential is for which server), `startup.rs` (start-up file
//! assignments), `words.rs` (shell words), `ini.rs` (MLflow's credentials file),
//! `netrc.rs`, `edit.rs` (taking the copies out), `backups.rs`.

pub mod backups;
mod edit;
mod ini;
mod netrc;
mod scan;
pub mod startup;
mod words;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub(crate) use edit::Edit;
pub use edit::{FileChange, Removal, remove_plaintext};
pub use ini::mlflow_credentials_password;
pub use netrc::{NetrcEntry, netrc_entries};
pub use scan::scan;

use crate::config::Config;
use crate::login::LoginMode;
use crate::secret::Secret;
use crate::server::{AuthKind, validate_name};
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
    /// With no `url`: a URL another place names that no known server has, for the user to
    /// confirm (never used without them).
    pub suggested_url: Option<Suggestion>,
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

/// A URL another place names, offered for a credential that names none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// The normalised URL.
    pub url: String,
    /// The file that names it (`None`: the environment).
    pub path: Option<PathBuf>,
}

/// Where the scan looks and what it knows.
pub struct ScanInput<'a> {
    /// The home folder.
    pub home: &'a Path,
    /// Reads an environment variable.
    pub var: &'a dyn Fn(&str) -> Option<OsString>,
    /// The config (netrc entries count for its servers' hosts; a known server's URL can be
    /// the URL of a credential that names none).
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

/// A plain-text credential that MLflow would send to `url` on its own whenever no
/// `MLFLOW_TRACKING_*` credential is set: the password of `~/.mlflow/credentials` (MLflow
/// reads it for every server), or a `~/.netrc` entry for the URL's host or a `default`
/// entry (Python's requests adds it). Returns the file that holds it. An unknown project's
/// bare URI must never meet one: the first MLflow call would send it to the project's URL.
pub fn ambient_credential(url: &str, home: &Path, var: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let creds = mlflow_credentials_file(home);
    if std::fs::read_to_string(&creds).is_ok_and(|t| mlflow_credentials_password(&t)) {
        return Some(creds);
    }
    let host = url::Url::parse(url).ok()?.host_str()?.to_ascii_lowercase();
    let netrc = netrc_file(home, var);
    let text = std::fs::read_to_string(&netrc).ok()?;
    netrc_entries(&text)
        .iter()
        .any(|e| e.password.is_some() && e.machine.as_deref().is_none_or(|m| m == host))
        .then_some(netrc)
}

#[cfg(test)]
mod tests;
