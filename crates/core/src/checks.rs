//! The last check of each server, shared by every front end through a small JSON file.
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
use crate::verify::{OutcomeClass, Verification};

/// How a recorded check counts (mirrors [`OutcomeClass`], which is not `Deserialize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckClass {
    /// Signed in.
    Ok,
    /// The server refused the credentials.
    Refused,
    /// The server could not be checked.
    Unchecked,
}

impl From<OutcomeClass> for CheckClass {
    fn from(c: OutcomeClass) -> Self {
        match c {
            OutcomeClass::Ok => CheckClass::Ok,
            OutcomeClass::Refused => CheckClass::Refused,
            OutcomeClass::Unchecked => CheckClass::Unchecked,
        }
    }
}

/// One recorded check, ready to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRecord {
    /// The outcome kind (`ok`, `bad_credentials`, `unreachable`, ...).
    pub kind: String,
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
}

impl CheckRecord {
    /// A record of `verification` of `server`, made now.
    pub fn new(server: &Server, verification: &Verification) -> Self {
        let outcome = &verification.outcome;
        let kind = serde_json::to_value(outcome)
            .ok()
            .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
            .unwrap_or_default();
        Self {
            kind,
            class: verification.class().into(),
            summary: outcome.summary(),
            help: outcome.help(),
            field: outcome.field().map(str::to_string),
            latency_ms: verification.latency_ms,
            server_version: verification.server_version.clone(),
            checked_at: now_ms(),
            url: server.url.clone(),
            account: server.account().to_string(),
        }
    }

    /// Whether this record was made for `server` as it is configured now.
    pub fn is_for(&self, server: &Server) -> bool {
        self.url == server.url && self.account == server.account()
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
        let _lock = lock_private_file(&self.paths.dir().join("checks.lock"))?;
        let mut file = ChecksFile { servers: self.load() };
        let previous = file.servers.insert(name.to_string(), record);
        let text = serde_json::to_vec_pretty(&file)
            .map_err(|e| Error::invalid("checks", format!("cannot serialise the checks: {e}")))?;
        write_atomic(&self.file(), &text)?;
        Ok(previous)
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
        let v = Verification { outcome: Outcome::Ok, latency_ms: 12, server_version: Some("3.1.0".into()) };
        assert!(checks.record("prod", CheckRecord::new(&server, &v)).unwrap().is_none());
        let r = checks.get("prod", &server).unwrap();
        assert_eq!((r.kind.as_str(), r.class, r.latency_ms), ("ok", CheckClass::Ok, 12));
        let moved = Server::new_basic("https://other", "alice").unwrap();
        assert!(checks.get("prod", &moved).is_none());
        let down = Verification { outcome: Outcome::ServerDown { status: 502 }, latency_ms: 3, server_version: None };
        let prev = checks.record("prod", CheckRecord::new(&server, &down)).unwrap().unwrap();
        assert_eq!(prev.class, CheckClass::Ok);
        assert_eq!(checks.get("prod", &server).unwrap().class, CheckClass::Unchecked);
        fs::write(checks.file(), "{ damaged").unwrap();
        assert!(checks.load().is_empty());
    }
}
