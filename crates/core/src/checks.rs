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

use std::sync::Arc;

use crate::config::{Paths, lock_private_file, write_atomic};
use crate::error::{Error, Result};
use crate::login::blocking;
use crate::logins::Logins;
use crate::server::{AuthKind, Server};
use crate::vault::Vault;
use crate::verify::{Identity, Outcome, OutcomeClass, OutcomeKind, Verification, VerifyOptions, verify};
use crate::workspaces;

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
            identity: None,
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

/// What one check of a stored server found.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The server's name.
    pub name: String,
    /// The server as configured.
    pub server: Server,
    /// The verification; `None` when no password or token is stored (nothing was sent).
    pub verification: Option<Verification>,
    /// The check as recorded.
    pub record: CheckRecord,
    /// The record before it, if it was made for the same URL and account.
    pub previous: Option<CheckRecord>,
    /// Single sign-on: the identity provider, the token's expiry and how its refresh went.
    pub sso: Option<SsoStatus>,
}

/// What a check found out about a single sign-on server's tokens (never a token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SsoStatus {
    /// The identity provider's issuer (as configured).
    pub issuer: Option<String>,
    /// When the access token expires (Unix seconds), when known.
    pub expires_at: Option<u64>,
    /// Whether a refresh token is stored (a new access token comes without a login).
    pub can_refresh: bool,
    /// What this check's refresh did.
    pub refresh: RefreshState,
}

/// How the refresh of a check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshState {
    /// The access token was fresh: nothing to refresh.
    NotNeeded,
    /// Refreshed now (here, or by another process meanwhile).
    Refreshed,
    /// The identity provider refused: log in again.
    Refused,
}

/// Checks the stored credentials of `name` against its server and records the result,
/// from whichever front end asks (CLI `status`, the tray's timer, the servers window), so
/// every other front end shows it. Keychain and file work run on tokio's blocking pool.
pub async fn check<V: Vault + 'static>(logins: &Arc<Logins<V>>, name: &str, opts: &VerifyOptions) -> Result<Checked> {
    let mut all = check_all(logins, vec![name.to_string()], opts).await;
    all.pop().map_or_else(|| Err(Error::NotFound(name.to_string())), |(_, r)| r)
}

/// Checks every server in `names` and records the results; the results come back in the
/// order of `names`. The keychain is read one server after the other (a locked keychain
/// asks once, not once per server), then every request goes out at once, so the whole
/// takes about as long as the slowest server (each bounded by the verifier's timeouts).
pub async fn check_all<V: Vault + 'static>(
    logins: &Arc<Logins<V>>,
    names: Vec<String>,
    opts: &VerifyOptions,
) -> Vec<(String, Result<Checked>)> {
    let keys = names.clone();
    let resolved =
        match blocking(logins, move |l| Ok(keys.iter().map(|n| l.resolve(Some(n))).collect::<Vec<_>>())).await {
            Ok(r) => r,
            Err(e) => return names.into_iter().map(|n| (n, Err(task_failed(&e)))).collect(),
        };
    let tasks: Vec<_> = resolved
        .into_iter()
        .map(|r| {
            let (opts, logins) = (opts.clone(), Arc::clone(logins));
            tokio::spawn(async move {
                let (name, server, secret) = r?;
                let (verification, sso) = match secret {
                    Some(stored) if server.auth == AuthKind::Sso => {
                        drop(stored);
                        let (v, sso) = verify_sso(&logins, &name, &server, &opts).await?;
                        (Some(v), Some(sso))
                    }
                    Some(secret) => {
                        // A personal access token due for renewal is renewed first (crate::pat).
                        let secret = match server.personal_token {
                            Some(_) => crate::fresh::fresh_credential(&logins, &name, &server)
                                .await?
                                .map_or(secret, |fresh| fresh.secret),
                            None => secret,
                        };
                        let v = verify(&server, Some(&secret), &opts).await;
                        (Some(workspaces::verify_active(&name, &server, Some(&secret), &opts, v).await), None)
                    }
                    None => (None, None),
                };
                Ok::<_, Error>((name, server, verification, sso))
            })
        })
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for (name, task) in names.into_iter().zip(tasks) {
        let joined = task.await.unwrap_or_else(|e| Err(task_failed(&e)));
        let result = match joined {
            Ok((name, server, verification, sso)) => record(logins, name, server, verification, sso).await,
            Err(e) => Err(e),
        };
        out.push((name, result));
    }
    out
}

/// An SSO server's check: a fresh access token (refreshed when near expiry), then the
/// usual request. A token the server refuses although it should still be valid (revoked,
/// clocks that disagree) is refreshed once and checked again, as the plugin does for a
/// request. A refresh the identity provider refuses is the outcome "session ended".
async fn verify_sso<V: Vault + 'static>(
    logins: &Logins<V>,
    name: &str,
    server: &Server,
    opts: &VerifyOptions,
) -> Result<(Verification, SsoStatus)> {
    // The issuer may come from a project file or a team list: cleaned before it is shown.
    let issuer = server.sso.as_ref().and_then(|s| s.issuer.as_deref()).map(|i| crate::verify::clean(i, 200));
    let ended = |detail: String| Verification::new(Outcome::SessionEnded { detail }, 0);
    let refused =
        SsoStatus { issuer: issuer.clone(), expires_at: None, can_refresh: false, refresh: RefreshState::Refused };
    let mut refresh_opts = crate::oidc::RefreshOptions::default();
    loop {
        match crate::fresh::fresh_with(logins, name, server, &refresh_opts).await {
            Ok(Some(fresh)) => {
                let refresh = match fresh.refreshed {
                    Some(crate::oidc::Refreshed::StillFresh) | None => RefreshState::NotNeeded,
                    Some(_) => RefreshState::Refreshed,
                };
                let verification = verify(server, Some(&fresh.secret), opts).await;
                let verification =
                    workspaces::verify_active(name, server, Some(&fresh.secret), opts, verification).await;
                if verification.outcome.kind() == OutcomeKind::BadCredentials
                    && refresh == RefreshState::NotNeeded
                    && refresh_opts.refused.is_none()
                    && let Some(fingerprint) = fresh.fingerprint
                {
                    refresh_opts.refused = Some(fingerprint);
                    continue;
                }
                let sso = SsoStatus { issuer, expires_at: fresh.expires_at, can_refresh: fresh.refreshable, refresh };
                return Ok((verification, sso));
            }
            Ok(None) => return Ok((ended("no tokens are stored".into()), refused)),
            Err(Error::LoginRequired(detail)) => return Ok((ended(crate::verify::clean(&detail, 300)), refused)),
            Err(e) => return Err(e),
        }
    }
}

/// A background task that died (a bug): reported as an I/O error of that task.
fn task_failed(e: &dyn std::fmt::Display) -> Error {
    Error::io("(background check)", std::io::Error::other(e.to_string()))
}

/// Records one check in the checks file.
async fn record<V: Vault + 'static>(
    logins: &Arc<Logins<V>>,
    name: String,
    server: Server,
    verification: Option<Verification>,
    sso: Option<SsoStatus>,
) -> Result<Checked> {
    let record = match &verification {
        Some(v) => CheckRecord::new(&server, v),
        None => CheckRecord::no_credentials(&server),
    };
    let (key, stored, for_server) = (name.clone(), record.clone(), server.clone());
    let previous = blocking(logins, move |l| l.checks().record(&key, stored)).await?.filter(|p| p.is_for(&for_server));
    Ok(Checked { name, server, verification, record, previous, sso })
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
