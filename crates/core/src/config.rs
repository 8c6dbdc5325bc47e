//! The config file and the state file.
//!
//! `config.toml` holds the servers and the active one, never a secret. It lives in the
//! platform config dir (`$XDG_CONFIG_HOME/mlflow-login/` on Linux,
//! `~/Library/Application Support/mlflow-login/` on macOS, `%APPDATA%\mlflow-login\config\`
//! on Windows), or in `$MLFLOW_LOGIN_CONFIG_DIR` when set (tests, portable set-ups).
//!
//! Every change goes through [`ConfigStore::update`]: an exclusive lock on `config.lock`,
//! a fresh read, the change, a write to a temp file and a rename, so the tray and the CLI
//! never lose each other's edits and a reader never sees half a file. A file that does not
//! parse is reported with its path and line and is never rewritten.
//!
//! `state` is one short line that changes on every switch, login, logout and removal. The
//! shell hook compares it with a shell variable using builtins only, and the tray watches
//! it; neither has to parse the config to notice a change.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::server::{Server, validate_name};

/// The environment variable that overrides the config dir.
pub const CONFIG_DIR_ENV: &str = "MLFLOW_LOGIN_CONFIG_DIR";

/// The parsed `config.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The server the desktop uses (tray, hooked shells, `env` without a name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<String>,
    /// The servers by name.
    #[serde(default)]
    pub servers: BTreeMap<String, Server>,
}

impl Config {
    /// The server called `name`.
    pub fn get(&self, name: &str) -> Result<&Server> {
        self.servers.get(name).ok_or_else(|| Error::NotFound(name.to_string()))
    }

    /// The active server, if one is set and exists.
    pub fn active_server(&self) -> Option<(&str, &Server)> {
        let name = self.active.as_deref()?;
        self.servers.get(name).map(|s| (name, s))
    }

    /// The named server, or the active one when `name` is `None`.
    pub fn resolve(&self, name: Option<&str>) -> Result<(String, &Server)> {
        match name {
            Some(n) => Ok((n.to_string(), self.get(n)?)),
            None => self.active_server().map(|(n, s)| (n.to_string(), s)).ok_or_else(|| {
                Error::invalid(
                    "name",
                    if self.servers.is_empty() {
                        "no server is configured yet: run `mlflow-login login NAME --url URL --username USER`"
                    } else {
                        "no server is active: run `mlflow-login use NAME`, or name the server"
                    },
                )
            }),
        }
    }

    /// The servers that share the keychain entry `(url, account)`.
    pub fn users_of_entry<'a>(&'a self, url: &'a str, account: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.servers.iter().filter(move |(_, s)| s.url == url && s.account() == account).map(|(n, _)| n.as_str())
    }

    fn validate(&self, path: &Path) -> Result<()> {
        for (name, server) in &self.servers {
            validate_name(name).and_then(|()| server.validate()).map_err(|e| Error::Config {
                path: path.to_path_buf(),
                line: None,
                message: format!("server \"{name}\": {e}"),
            })?;
        }
        if let Some(active) = &self.active
            && !self.servers.contains_key(active)
        {
            return Err(Error::Config {
                path: path.to_path_buf(),
                line: None,
                message: format!("the active server \"{active}\" is not defined"),
            });
        }
        Ok(())
    }
}

/// Where the files live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    dir: PathBuf,
}

impl Paths {
    /// The config dir from `$MLFLOW_LOGIN_CONFIG_DIR`, or the platform's.
    pub fn from_env() -> Result<Self> {
        if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV).filter(|d| !d.is_empty()) {
            return Ok(Self::in_dir(dir));
        }
        let dirs = directories::ProjectDirs::from("", "", "mlflow-login").ok_or_else(|| {
            Error::invalid(
                "config",
                format!("no home directory found: set ${CONFIG_DIR_ENV} to a folder for the config"),
            )
        })?;
        Ok(Self::in_dir(dirs.config_dir()))
    }

    /// Files in `dir`.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `config.toml`.
    pub fn config_file(&self) -> PathBuf {
        self.dir.join("config.toml")
    }

    /// The lock file that serialises writers.
    pub fn lock_file(&self) -> PathBuf {
        self.dir.join("config.lock")
    }

    /// The one-line state file the shell hook and the tray watch.
    pub fn state_file(&self) -> PathBuf {
        self.dir.join("state")
    }
}

/// Reads and changes the config file.
#[derive(Debug, Clone)]
pub struct ConfigStore {
    paths: Paths,
}

impl ConfigStore {
    /// A store over these paths. Nothing is read or created yet.
    pub fn new(paths: Paths) -> Self {
        Self { paths }
    }

    /// A store in the default place (see [`Paths::from_env`]).
    pub fn from_env() -> Result<Self> {
        Ok(Self::new(Paths::from_env()?))
    }

    /// The paths.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// Reads the config; a missing file is an empty config.
    pub fn load(&self) -> Result<Config> {
        let path = self.paths.config_file();
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Err(Error::Config { path, line: None, message: "the file is not valid UTF-8".into() });
            }
            Err(e) => return Err(Error::io(path, e)),
        };
        let config: Config = toml::from_str(&text).map_err(|e| Error::Config {
            line: e.span().map(|span| text[..span.start].matches('\n').count() + 1),
            path: path.clone(),
            message: e.message().trim().to_string(),
        })?;
        config.validate(&path)?;
        Ok(config)
    }

    /// Applies `change` to the current config under the lock and writes the result
    /// atomically. The state file is bumped when `change` returns `bump = true`.
    /// Nothing is written when `change` fails, or when the config did not change and no
    /// bump was asked.
    pub fn update<T>(&self, change: impl FnOnce(&mut Config) -> Result<(T, bool)>) -> Result<T> {
        let _lock = self.lock()?;
        let mut config = self.load()?;
        let before = config.clone();
        let (value, bump) = change(&mut config)?;
        config.validate(&self.paths.config_file())?;
        if config != before {
            let text = toml::to_string_pretty(&config)
                .map_err(|e| Error::invalid("config", format!("cannot serialise the config: {e}")))?;
            let header = "# MLflow Login servers. No passwords here: they are in the OS keychain.\n\n";
            write_atomic(&self.paths.config_file(), format!("{header}{text}").as_bytes())?;
        }
        if bump {
            self.bump_state()?;
        }
        Ok(value)
    }

    /// Writes a new generation to the state file, so hooked shells and the tray reload.
    pub fn bump_state(&self) -> Result<()> {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        let generation = format!("{}.{:09}.{}\n", now.as_secs(), now.subsec_nanos(), std::process::id());
        write_atomic(&self.paths.state_file(), generation.as_bytes())
    }

    /// The state file's current generation (empty when there is none).
    pub fn state(&self) -> Result<String> {
        match fs::read_to_string(self.paths.state_file()) {
            Ok(s) => Ok(s.lines().next().unwrap_or_default().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(Error::io(self.paths.state_file(), e)),
        }
    }

    fn lock(&self) -> Result<File> {
        lock_private_file(&self.paths.lock_file())
    }
}

// Every folder and file MLflow Login creates is the user's alone (0700 / 0600 on Unix,
// whatever the umask), whichever front end creates it first: the folder holds no secret,
// but which servers and accounts a user has is theirs to tell. These helpers
// are the only places that create them.

/// Creates `dir` and any missing parents, each 0700 on Unix. An existing folder is left
/// as it is.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| Error::io(dir, e))
}

/// Options that create a file 0600 on Unix.
fn private_file_options() -> OpenOptions {
    let mut opts = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts
}

/// Opens `path` for writing, creating it 0600 (and its folder 0700) when missing; an
/// existing file keeps its content. For lock files.
pub fn open_private_file(path: &Path) -> Result<File> {
    create_private_dir(path.parent().unwrap_or(Path::new(".")))?;
    private_file_options().create(true).truncate(false).write(true).open(path).map_err(|e| Error::io(path, e))
}

/// Opens the lock file `path` (see [`open_private_file`]) and waits for an exclusive lock
/// on it, held until the file is dropped.
pub fn lock_private_file(path: &Path) -> Result<File> {
    let file = open_private_file(path)?;
    file.lock().map_err(|e| Error::io(path, e))?;
    Ok(file)
}

/// Writes `bytes` to `path` through a temp file in the same folder and a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.{}.{:x}.tmp", std::process::id(), fastrand::u64(..)));
    let result = (|| {
        let mut f = private_file_options().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(path, e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn store() -> (tempfile::TempDir, ConfigStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = ConfigStore::new(Paths::in_dir(dir.path().join("cfg")));
        (dir, store)
    }

    #[test]
    fn missing_file_is_empty() {
        let (_d, store) = store();
        assert_eq!(store.load().unwrap(), Config::default());
        assert_eq!(store.state().unwrap(), "");
    }

    #[test]
    fn round_trip_and_bump() {
        let (_d, store) = store();
        store
            .update(|c| {
                c.servers.insert("prod".into(), Server::new_basic("https://h/mlflow/", "alice")?);
                c.active = Some("prod".into());
                Ok(((), true))
            })
            .unwrap();
        let text = fs::read_to_string(store.paths().config_file()).unwrap();
        assert!(text.contains("url = \"https://h/mlflow\""), "{text}");
        let c = store.load().unwrap();
        assert_eq!(c.active_server().unwrap().0, "prod");
        let s1 = store.state().unwrap();
        assert!(!s1.is_empty());
        store.bump_state().unwrap();
        assert_ne!(store.state().unwrap(), s1);
    }

    #[test]
    fn damaged_file_names_line_and_is_kept() {
        let (_d, store) = store();
        fs::create_dir_all(store.paths().dir()).unwrap();
        let bad = "active = \"prod\"\n\n[servers.prod]\nurl = \"https://h\"\nusername = \n";
        fs::write(store.paths().config_file(), bad).unwrap();
        let err = store.load().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert!(err.to_string().contains("config.toml:5"), "{err}");
        let err = store.update(|c| Ok((c.active = None, true))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config);
        assert_eq!(fs::read_to_string(store.paths().config_file()).unwrap(), bad);
        assert_eq!(store.state().unwrap(), "");
    }

    #[test]
    fn invalid_values_are_reported() {
        let (_d, store) = store();
        fs::create_dir_all(store.paths().dir()).unwrap();
        fs::write(store.paths().config_file(), "active = \"nope\"\n").unwrap();
        assert!(store.load().unwrap_err().to_string().contains("\"nope\" is not defined"));
        fs::write(store.paths().config_file(), "[servers.x]\nurl = \"https://u:p@h\"\nusername = \"a\"\n").unwrap();
        assert!(store.load().unwrap_err().to_string().contains("server \"x\""));
        fs::write(
            store.paths().config_file(),
            "[servers.x]\nurl = \"https://h\"\nusername = \"a\"\npassword = \"p\"\n",
        )
        .unwrap();
        assert_eq!(store.load().unwrap_err().kind(), ErrorKind::Config);
    }

    #[cfg(unix)]
    #[test]
    fn every_file_and_folder_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let (d, store) = store();
        let nested = ConfigStore::new(Paths::in_dir(d.path().join("a/b")));
        for s in [&store, &nested] {
            s.update(|c| Ok((c.active = None, true))).unwrap();
        }
        crate::checks::Checks::new(store.paths().clone())
            .record(
                "x",
                crate::checks::CheckRecord::new(
                    &Server::new_basic("https://h", "a").unwrap(),
                    &crate::Verification::new(crate::Outcome::Ok, 1),
                ),
            )
            .unwrap();
        let mode = |p: PathBuf| fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        for dir in [store.paths().dir().to_path_buf(), d.path().join("a"), d.path().join("a/b")] {
            assert_eq!(mode(dir.clone()), 0o700, "{}", dir.display());
        }
        for file in ["state", "config.lock", "checks.lock", "checks.json"] {
            assert_eq!(mode(store.paths().dir().join(file)), 0o600, "{file}");
        }
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let (_d, store) = store();
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                std::thread::spawn(move || {
                    store
                        .update(|c| {
                            c.servers.insert(format!("s{i}"), Server::new_basic(&format!("https://h{i}"), "u")?);
                            Ok(((), false))
                        })
                        .unwrap();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(store.load().unwrap().servers.len(), 8);
    }
}
