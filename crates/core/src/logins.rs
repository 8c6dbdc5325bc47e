//! The operations every front end performs, over the config file and a vault.
//!
//! The CLI and the tray both go through [`Logins`], so a login, a switch or a logout does
//! the same thing (and bumps the state file the same way) wherever it came from. The
//! keychain is always changed before the config: if the keychain fails, the config is
//! untouched and nothing is lost.

use serde::Serialize;

use crate::checks::Checks;
use crate::config::{Config, ConfigStore};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::server::{Server, validate_name};
use crate::vault::{EntryKey, Vault};

/// A server as listed: its settings, whether it is active, whether a password is stored.
#[derive(Debug, Clone, Serialize)]
pub struct ServerEntry {
    /// Its name.
    pub name: String,
    /// Its settings.
    #[serde(flatten)]
    pub server: Server,
    /// Whether it is the active server.
    pub active: bool,
    /// Whether the keychain holds its password (`None` when the keychain could not say).
    pub has_secret: Option<bool>,
    /// Single sign-on: the user the stored tokens were issued to (the ID token's
    /// `preferred_username`, else `email`, else `sub`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_in_as: Option<String>,
}

/// Whether [`Logins::save`] makes the server active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activate {
    /// Only when no server is active yet.
    IfNone,
    /// Always.
    Yes,
}

/// What the config must still say of a server when a login saves it: a login plans from
/// the settings it read at its start and may wait minutes (a browser sign-in) before it
/// saves, while the tray or another command changes the same server.
#[derive(Debug, Clone, PartialEq, Eq)]
// A handful per command: boxing the servers would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Expect {
    /// Whatever the config holds (replace it).
    Any,
    /// No server has the name (adding never replaces a server).
    Absent,
    /// The server has exactly these settings, the ones the login was planned from.
    Unchanged(Server),
}

impl Expect {
    /// Whether `config` still says what was expected of `name`; the error says what changed.
    fn holds(&self, config: &Config, name: &str) -> Result<()> {
        let now = config.servers.get(name);
        match (self, now) {
            (Expect::Any, _) | (Expect::Absent, None) => Ok(()),
            (Expect::Unchanged(planned), Some(now)) if planned == now => Ok(()),
            (Expect::Absent, Some(_)) => {
                Err(Error::invalid("name", format!("a server named \"{name}\" already exists")))
            }
            (Expect::Unchanged(_), None) => Err(Error::invalid(
                "name",
                format!("\"{name}\" was removed or renamed while this login was under way; nothing was saved"),
            )),
            (Expect::Unchanged(_), Some(_)) => Err(Error::invalid(
                "name",
                format!(
                    "the settings of \"{name}\" were changed (by another window or command) while this login was \
                     under way; nothing was saved: log in again to start from its new settings"
                ),
            )),
        }
    }
}

/// What [`Logins::save`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// The server is new (not a new password for a known one).
    pub created: bool,
    /// The server is now the active one.
    pub active: bool,
}

/// Config plus vault, and the checks file beside the config.
#[derive(Debug)]
pub struct Logins<V> {
    store: ConfigStore,
    checks: Checks,
    vault: V,
}

impl<V: Vault> Logins<V> {
    /// Operations over this config and vault.
    pub fn new(store: ConfigStore, vault: V) -> Self {
        let checks = Checks::new(store.paths().clone());
        Self { store, checks, vault }
    }

    /// The config store.
    pub fn store(&self) -> &ConfigStore {
        &self.store
    }

    /// The last check of each server (shared by every front end).
    pub fn checks(&self) -> &Checks {
        &self.checks
    }

    /// The vault.
    pub fn vault(&self) -> &V {
        &self.vault
    }

    /// The current config.
    pub fn config(&self) -> Result<Config> {
        self.store.load()
    }

    /// The keychain entry of the server called `name`.
    pub fn entry(&self, name: &str, server: &Server) -> EntryKey {
        EntryKey::for_server(name, server)
    }

    /// The stored secret of the server called `name`, if any.
    ///
    /// An entry written by an older version ([`EntryKey::legacy`]) is moved first, so
    /// nothing a user stored is lost by the kind-named scheme.
    pub fn secret(&self, name: &str, server: &Server) -> Result<Option<Secret>> {
        let key = self.entry(name, server);
        if let Some(secret) = self.vault.get(&key)? {
            return Ok(Some(secret));
        }
        if self.migrate(server)? { self.vault.get(&key) } else { Ok(None) }
    }

    /// Moves the older-scheme entry of `server` ([`EntryKey::legacy`]) to the entry of every
    /// server that read it (never over an entry written since), then deletes it; `true`
    /// when one was moved.
    ///
    /// The older entry held whatever the last login of any server with that URL and
    /// account wrote. A single sign-on token set goes to the single sign-on servers among
    /// them and a password or token to the others, so a password is never sent as a token
    /// set's JSON nor the other way round. Two single sign-on servers that shared the entry
    /// each get a copy of the one session they shared (a logout of one then ends it for
    /// both, as before; a new login gives each its own). An entry no configured server
    /// can take is left for `doctor` to report.
    fn migrate(&self, server: &Server) -> Result<bool> {
        let legacy = EntryKey::legacy(server);
        let Some(secret) = self.vault.get(&legacy)? else { return Ok(false) };
        let is_token_set = crate::oidc::TokenSet::from_secret(&secret).is_ok();
        let config = self.store.load()?;
        let mut moved = false;
        for (name, other) in &config.servers {
            if EntryKey::legacy(other) != legacy || (other.auth == crate::AuthKind::Sso) != is_token_set {
                continue;
            }
            let key = self.entry(name, other);
            if self.vault.get(&key)?.is_none() {
                self.vault.set(&key, &secret)?;
            }
            moved = true;
        }
        if moved {
            self.vault.delete(&legacy)?;
        }
        Ok(moved)
    }

    /// The named (or active) server with its secret.
    pub fn resolve(&self, name: Option<&str>) -> Result<(String, Server, Option<Secret>)> {
        let config = self.store.load()?;
        let (name, server) = config.resolve(name)?;
        let secret = self.secret(&name, server)?;
        Ok((name, server.clone(), secret))
    }

    /// Every server. `check_secrets` asks the keychain about each one; a keychain error
    /// then fails the whole listing, unless it is only unavailable for listing purposes,
    /// in which case `has_secret` is `None`.
    pub fn list(&self, check_secrets: bool) -> Result<Vec<ServerEntry>> {
        let config = self.store.load()?;
        let mut out = Vec::with_capacity(config.servers.len());
        for (name, server) in &config.servers {
            let secret = if check_secrets { Some(self.secret(name, server)?) } else { None };
            // Who a single sign-on server is signed in as, as a Basic server's username says.
            let signed_in_as = match (&secret, server.auth) {
                (Some(Some(s)), crate::AuthKind::Sso) => {
                    // The identity provider's text: cleaned before any front end shows it.
                    crate::oidc::TokenSet::from_secret(s).ok().and_then(|t| t.user).map(|u| crate::text::clean(&u, 120))
                }
                _ => None,
            };
            out.push(ServerEntry {
                name: name.clone(),
                server: server.clone(),
                active: config.active.as_deref() == Some(name),
                has_secret: secret.map(|s| s.is_some()),
                signed_in_as,
            });
        }
        Ok(out)
    }

    /// Every server, asking the keychain which have a password; when the keychain cannot
    /// say (locked, absent, slow), the listing still succeeds with `has_secret: None` and
    /// the keychain's error returned beside it.
    pub fn list_best_effort(&self) -> Result<(Vec<ServerEntry>, Option<Error>)> {
        match self.list(true) {
            Ok(entries) => Ok((entries, None)),
            Err(e) if e.kind().is_keychain() => Ok((self.list(false)?, Some(e))),
            Err(e) => Err(e),
        }
    }

    /// Stores `secret` for `server` (when given) and saves the server as `name`.
    ///
    /// The keychain is written first. When the server's URL, kind or username changed, the
    /// old entry is deleted unless another server still uses it.
    pub fn save(&self, name: &str, server: Server, secret: Option<&Secret>, activate: Activate) -> Result<Saved> {
        self.save_expecting(name, server, secret, activate, &Expect::Any)
    }

    /// Like [`Logins::save`], for a new server only: a name that exists is refused (error
    /// on the `name` field) and nothing is written, so adding never replaces a server or
    /// deletes its password.
    pub fn add(&self, name: &str, server: Server, secret: Option<&Secret>, activate: Activate) -> Result<Saved> {
        self.save_expecting(name, server, secret, activate, &Expect::Absent)
    }

    /// Like [`Logins::save`], when the config still says of `name` what `expect` says;
    /// else nothing is written (keychain nor config) and the error, on the `name` field,
    /// says what changed.
    pub fn save_expecting(
        &self,
        name: &str,
        server: Server,
        secret: Option<&Secret>,
        activate: Activate,
        expect: &Expect,
    ) -> Result<Saved> {
        validate_name(name)?;
        server.validate()?;
        // A quick answer before anything is asked of the keychain (an unlock prompt, say).
        expect.holds(&self.store.load()?, name)?;
        if let Some(secret) = secret {
            // Here, not only in the front ends: every way in (CLI, tray, --no-verify, "save
            // without checking") stores through this.
            let field = if server.auth == crate::AuthKind::Bearer { "token" } else { "password" };
            secret.validate_for(server.auth).map_err(|m| Error::InvalidInput { field, message: m.into() })?;
        }
        let new_key = self.entry(name, &server);
        // An older-scheme entry this server (or one sharing it) still reads moves first, so
        // the save below neither hides nor orphans it.
        if let Some(known) = self.store.load()?.servers.get(name) {
            self.migrate(known)?;
        }
        self.migrate(&server)?;
        let (saved, old_key) = self.store.update(|config| {
            // Under the config lock, then the keychain (first, as always: if it fails, the
            // config is untouched), then the config: a change that lands meanwhile waits for
            // the lock, and a change that landed before is never overwritten, in the
            // keychain nor in the config. The lock is held for the keychain's bounded wait.
            expect.holds(config, name)?;
            if let Some(secret) = secret {
                self.vault.set(&new_key, secret)?;
            }
            let old = config.servers.insert(name.to_string(), server.clone());
            let active = match activate {
                Activate::Yes => true,
                Activate::IfNone => config.active_server().is_none() || config.active.as_deref() == Some(name),
            };
            if active {
                config.active = Some(name.to_string());
            }
            let old_key = old
                .as_ref()
                .map(|old| self.entry(name, old))
                .filter(|k| *k != new_key)
                .filter(|k| !config.servers.iter().any(|(n, s)| self.entry(n, s) == *k));
            let bump = active || secret.is_some();
            Ok(((Saved { created: old.is_none(), active }, old_key), bump))
        })?;
        if let Some(old_key) = old_key {
            self.vault.delete(&old_key)?;
        }
        Ok(saved)
    }

    /// Makes `name` the active server (`None`: no server is active).
    pub fn set_active(&self, name: Option<&str>) -> Result<()> {
        self.store.update(|config| {
            if let Some(name) = name {
                config.get(name)?;
            }
            config.active = name.map(str::to_string);
            Ok(((), true))
        })
    }

    /// Makes `name` the active server and sets its workspace: `Some(Some(ws))` selects
    /// `ws`, `Some(None)` none, `None` keeps the one the server had. The caller checked
    /// `ws` with the server (see [`crate::workspaces::check`]).
    pub fn set_active_workspace(&self, name: &str, workspace: Option<Option<&str>>) -> Result<()> {
        if let Some(Some(ws)) = workspace {
            crate::server::validate_workspace_name(ws)?;
        }
        self.store.update(|config| {
            let server = config.servers.get_mut(name).ok_or_else(|| Error::NotFound(name.to_string()))?;
            if let Some(ws) = workspace {
                server.workspace = ws.map(str::to_string);
            }
            config.active = Some(name.to_string());
            Ok(((), true))
        })
    }

    /// Deletes the password of `name` from the keychain; `false` when none was stored.
    /// Every Basic or Bearer server sharing the entry (same URL and user) is logged out
    /// with it; a single sign-on entry is the server's own.
    pub fn logout(&self, name: &str) -> Result<bool> {
        let config = self.store.load()?;
        let server = config.get(name)?;
        self.migrate(server)?;
        let deleted = self.vault.delete(&self.entry(name, server))?;
        self.store.bump_state()?;
        Ok(deleted)
    }

    /// Forgets `name` and deletes its password (unless another server shares it).
    ///
    /// The config is written first: a removal that cannot write the config (read-only,
    /// full disk) keeps the password, and one interrupted after the write leaves an entry
    /// no server names, which `doctor` reports.
    pub fn remove(&self, name: &str) -> Result<()> {
        if let Some(server) = self.store.load()?.servers.get(name) {
            self.migrate(server)?;
        }
        let orphaned = self.store.update(|config| {
            let server = config.servers.remove(name).ok_or_else(|| Error::NotFound(name.to_string()))?;
            if config.active.as_deref() == Some(name) {
                config.active = None;
            }
            let key = self.entry(name, &server);
            let shared = config.servers.iter().any(|(n, s)| self.entry(n, s) == key);
            Ok(((!shared).then_some(key), true))
        })?;
        if let Some(key) = orphaned {
            self.vault.delete(&key)?;
        }
        Ok(())
    }

    /// Renames a server. A password or token stays where it is (those entries are named
    /// from URL and user); a single sign-on entry, named by the server, moves with it:
    /// written under the new name before the config changes, the old one deleted after.
    /// The move holds the entry's refresh lock, so no refresh writes the old entry back
    /// after it.
    pub fn rename(&self, old: &str, new: &str) -> Result<()> {
        validate_name(new)?;
        let moved = self.store.update(|config| {
            if config.servers.contains_key(new) {
                return Err(Error::invalid("name", format!("a server named \"{new}\" already exists")));
            }
            let server = config.servers.remove(old).ok_or_else(|| Error::NotFound(old.to_string()))?;
            let (from, to) = (self.entry(old, &server), self.entry(new, &server));
            let moved = if from == to {
                None
            } else {
                let _lock = crate::oidc::hold_blocking(&from, self.store.paths().dir())?;
                self.migrate(&server)?;
                match self.vault.get(&from)? {
                    Some(secret) => {
                        self.vault.set(&to, &secret)?;
                        Some(from)
                    }
                    None => None,
                }
            };
            // A personal access token's single sign-on session is named by the server too.
            let session = match server.personal_token {
                Some(_) => {
                    let (from, to) = (crate::pat::session_key(old, &server), crate::pat::session_key(new, &server));
                    let _lock = crate::oidc::hold_blocking(&from, self.store.paths().dir())?;
                    match self.vault.get(&from)? {
                        Some(set) => {
                            self.vault.set(&to, &set)?;
                            Some(from)
                        }
                        None => None,
                    }
                }
                None => None,
            };
            config.servers.insert(new.to_string(), server);
            let was_active = config.active.as_deref() == Some(old);
            if was_active {
                config.active = Some(new.to_string());
            }
            let bump = was_active || moved.is_some() || session.is_some();
            Ok(((moved, session), bump))
        })?;
        for from in [moved.0, moved.1].into_iter().flatten() {
            self.vault.delete(&from)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;
    use crate::config::Paths;
    use crate::vault::MemoryVault;

    fn logins() -> (tempfile::TempDir, Logins<MemoryVault>) {
        let dir = tempfile::tempdir().unwrap();
        let l = Logins::new(ConfigStore::new(Paths::in_dir(dir.path())), MemoryVault::default());
        (dir, l)
    }

    fn pw(s: &str) -> Secret {
        Secret::new(s.into())
    }

    #[test]
    fn first_server_becomes_active_and_state_bumps() {
        let (_d, l) = logins();
        let s = Server::new_basic("https://h", "alice").unwrap();
        let saved = l.save("prod", s.clone(), Some(&pw("p1")), Activate::IfNone).unwrap();
        assert_eq!(saved, Saved { created: true, active: true });
        let st = l.store().state().unwrap();
        assert!(!st.is_empty());
        let saved = l
            .save("staging", Server::new_basic("https://s", "alice").unwrap(), Some(&pw("p2")), Activate::IfNone)
            .unwrap();
        assert!(!saved.active);
        assert_ne!(l.store().state().unwrap(), st);
        let (name, _, secret) = l.resolve(None).unwrap();
        assert_eq!((name.as_str(), secret.unwrap().expose()), ("prod", "p1"));
        l.set_active(Some("staging")).unwrap();
        assert_eq!(l.resolve(None).unwrap().0, "staging");
        assert_eq!(l.set_active(Some("nope")).unwrap_err().kind(), ErrorKind::NotFound);
    }

    #[test]
    fn keychain_failure_changes_nothing() {
        let (_d, l) = logins();
        *l.vault().fail_with.lock().unwrap() = Some(ErrorKind::KeychainLocked);
        let err =
            l.save("prod", Server::new_basic("https://h", "a").unwrap(), Some(&pw("p")), Activate::IfNone).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::KeychainLocked);
        assert!(l.config().unwrap().servers.is_empty());
        assert_eq!(l.store().state().unwrap(), "");
    }

    #[test]
    fn a_bearer_token_that_breaks_a_header_is_refused_and_nothing_is_stored() {
        let (_d, l) = logins();
        let mut server = Server::new_basic("https://h", "a").unwrap();
        server.auth = crate::AuthKind::Bearer;
        for bad in ["tok\nen", "tok\x01en", "tok en"] {
            let err = l.save("prod", server.clone(), Some(&pw(bad)), Activate::IfNone).unwrap_err();
            assert!(matches!(err, Error::InvalidInput { field: "token", .. }), "{bad:?}: {err:?}");
        }
        assert!(l.config().unwrap().servers.is_empty());
        assert_eq!(l.vault().get(&EntryKey::for_server("prod", &server)).unwrap(), None);
        // The same characters are a valid Basic password.
        let basic = Server::new_basic("https://h", "a").unwrap();
        l.save("prod", basic, Some(&pw("pass\n\x01 word")), Activate::IfNone).unwrap();
    }

    #[test]
    fn rename_keeps_password_and_url_change_moves_it() {
        let (_d, l) = logins();
        l.save("prod", Server::new_basic("https://h", "a").unwrap(), Some(&pw("p")), Activate::IfNone).unwrap();
        l.rename("prod", "live").unwrap();
        let (name, _, secret) = l.resolve(None).unwrap();
        assert_eq!((name.as_str(), secret.unwrap().expose()), ("live", "p"));
        l.save("live", Server::new_basic("https://h2", "a").unwrap(), Some(&pw("q")), Activate::IfNone).unwrap();
        let old = EntryKey::for_server("live", &Server::new_basic("https://h", "a").unwrap());
        assert!(l.vault().get(&old).unwrap().is_none(), "old entry deleted");
    }

    #[test]
    fn logout_and_remove() {
        let (_d, l) = logins();
        l.save("prod", Server::new_basic("https://h", "a").unwrap(), Some(&pw("p")), Activate::IfNone).unwrap();
        l.save("twin", Server::new_basic("https://h", "a").unwrap(), None, Activate::IfNone).unwrap();
        l.remove("twin").unwrap();
        assert!(l.resolve(Some("prod")).unwrap().2.is_some(), "shared entry kept");
        assert!(l.logout("prod").unwrap());
        assert!(!l.logout("prod").unwrap());
        assert!(l.resolve(None).unwrap().2.is_none());
        l.remove("prod").unwrap();
        let c = l.config().unwrap();
        assert!(c.servers.is_empty() && c.active.is_none());
        assert_eq!(l.remove("prod").unwrap_err().kind(), ErrorKind::NotFound);
    }
}
