//! The last check of each server, shared by every front end through a small JSON file.
//! Running a check and recording it is `crate::check`'s.
//!
//! The tray checks the active server in the background, its window process verifies logins,
//! and both show the last result (outcome, latency, time) for every server. They share it
//! the way they share everything else: through a file in the config dir, `checks.json`,
//! written atomically under its own lock (`checks.lock`, so a check never waits on a config
//! edit). The tray watches the folder and sees a new result within a second.
//!
//! The file is a cache, never a source of truth: it holds no secret (only what
//! [`crate::Outcome`] already shows a user), a missing or damaged file reads as empty, and
//! a record only counts while the server still has the URL and account it was made for.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::{Paths, lock_private_file, write_atomic};
use crate::error::{Error, Result};
use crate::server::Server;
use crate::verify::{Identity, OutcomeClass, OutcomeKind, Verification};

/// How a recorded check counts: the verifier's own [`OutcomeClass`].
pub type CheckClass = OutcomeClass;

/// One recorded check, ready to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRecord {
    /// The outcome kind (`ok`, `bad_credentials`, `unreachable`, ...).
    pub kind: OutcomeKind,
    /// How it counts.
    pub class: CheckClass,
    /// One plain sentence.
    pub summary: String,
    /// What to do, when there is something.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// The login-form field at fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Time to the answer.
    pub latency_ms: u64,
    /// MLflow's version, when `/version` answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// When, in milliseconds since the Unix epoch.
    pub checked_at: u64,
    /// The tracking URL checked (a record for another URL does not count).
    pub url: String,
    /// The account checked.
    pub account: String,
    /// The MLflow workspace checked (a record for another workspace does not count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// The account the server said the credentials belong to (username, admin, groups,
    /// expiry), when it has an API for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
}

impl CheckRecord {
    /// A record of `verification` of `server`, made now.
    pub fn new(server: &Server, verification: &Verification) -> Self {
        let outcome = &verification.outcome;
        Self {
            kind: outcome.kind(),
            class: verification.class(),
            summary: outcome.summary(),
            help: outcome.help(),
            field: outcome.field().map(str::to_string),
            latency_ms: verification.latency_ms,
            server_version: verification.server_version.clone(),
            checked_at: now_ms(),
            url: server.url.clone(),
            account: server.account().to_string(),
            workspace: server.workspace.clone(),
            identity: verification.identity.clone(),
        }
    }

    /// A record that `server` has no stored password or token (nothing was sent), made now.
    pub fn no_credentials(server: &Server) -> Self {
        let what = server.auth.secret_noun();
        Self {
            kind: OutcomeKind::NoCredentials,
            class: OutcomeKind::NoCredentials.class(),
            summary: format!("no {what} is stored for this server"),
            help: Some(format!("log in to it again to store a {what}")),
            field: Some("password".into()),
            latency_ms: 0,
            server_version: None,
            checked_at: now_ms(),
            url: server.url.clone(),
            account: server.account().to_string(),
            workspace: server.workspace.clone(),
            identity: None,
        }
    }

    /// Whether this record was made for `server` as it is configured now: its URL,
    /// account and workspace (a check of a workspace a project file selects says nothing
    /// about the server's own active one).
    pub fn is_for(&self, server: &Server) -> bool {
        self.url == server.url && self.account == server.account() && self.workspace == server.workspace
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ChecksFile {
    #[serde(default)]
    servers: BTreeMap<String, CheckRecord>,
}

/// The checks file in a config dir.
#[derive(Debug, Clone)]
pub struct Checks {
    paths: Paths,
}

impl Checks {
    /// The checks file next to this config.
    pub fn new(paths: Paths) -> Self {
        Self { paths }
    }

    /// `checks.json`.
    pub fn file(&self) -> PathBuf {
        self.paths.dir().join("checks.json")
    }

    /// Every record by server name; a missing or damaged file is empty (it is a cache).
    pub fn load(&self) -> BTreeMap<String, CheckRecord> {
        fs::read(self.file())
            .ok()
            .and_then(|bytes| serde_json::from_slice::<ChecksFile>(&bytes).ok())
            .map(|f| f.servers)
            .unwrap_or_default()
    }

    /// The record of `name`, if one was made for `server` as configured now.
    pub fn get(&self, name: &str, server: &Server) -> Option<CheckRecord> {
        self.load().remove(name).filter(|r| r.is_for(server))
    }

    /// Stores `record` as the last check of `name`, and returns the previous one.
    pub fn record(&self, name: &str, record: CheckRecord) -> Result<Option<CheckRecord>> {
        self.change(|servers| servers.insert(name.to_string(), record))
    }

    /// Drops the record of `name` (its credentials changed without a check).
    pub fn forget(&self, name: &str) -> Result<()> {
        if !self.load().contains_key(name) {
            return Ok(());
        }
        self.change(|servers| servers.remove(name)).map(drop)
    }

    /// Changes the records under the lock and writes them atomically.
    fn change<T>(&self, f: impl FnOnce(&mut BTreeMap<String, CheckRecord>) -> T) -> Result<T> {
        let _lock = lock_private_file(&self.paths.dir().join("checks.lock"))?;
        let mut file = ChecksFile { servers: self.load() };
        let value = f(&mut file.servers);
        let text = serde_json::to_vec_pretty(&file)
            .map_err(|e| Error::invalid("checks", format!("cannot serialise the checks: {e}")))?;
        write_atomic(&self.file(), &text)?;
        Ok(value)
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    u64::try_from(now.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Outcome;

    #[test]
    fn records_round_trip_and_go_stale_with_the_url() {
        let dir = tempfile::tempdir().unwrap();
        let checks = Checks::new(Paths::in_dir(dir.path().join("cfg")));
        assert!(checks.load().is_empty());
        let server = Server::new_basic("https://h/mlflow", "alice").unwrap();
        let identity = Identity {
            username: "alice".into(),
            is_admin: Some(false),
            groups: vec![],
            expires_at: None,
            reads_experiments: Some(true),
        };
        let v = Verification {
            server_version: Some("3.1.0".into()),
            identity: Some(identity),
            ..Verification::new(Outcome::Ok, 12)
        };
        assert!(checks.record("prod", CheckRecord::new(&server, &v)).unwrap().is_none());
        let r = checks.get("prod", &server).unwrap();
        assert_eq!((r.kind, r.class, r.latency_ms), (OutcomeKind::Ok, CheckClass::Ok, 12));
        assert_eq!(r.identity.as_ref().map(|i| i.username.as_str()), Some("alice"));
        let moved = Server::new_basic("https://other", "alice").unwrap();
        assert!(checks.get("prod", &moved).is_none());
        let down = Verification::new(Outcome::ServerDown { status: 502 }, 3);
        let prev = checks.record("prod", CheckRecord::new(&server, &down)).unwrap().unwrap();
        assert_eq!(prev.class, CheckClass::Ok);
        assert_eq!(checks.get("prod", &server).unwrap().class, CheckClass::Unchecked);
        fs::write(checks.file(), "{ damaged").unwrap();
        assert!(checks.load().is_empty());
    }
}
