//! The vault: passwords in the OS keychain.
//!
//! [`Vault`] is a small trait so tests can inject an in-memory store; the shipped binaries
//! use [`KeyringVault`], which talks to the platform's real store through `keyring` 4
//! (Secret Service over D-Bus on Linux, Keychain on macOS, Credential Manager on Windows).
//! There is no plain-text fallback and no switch to one.
//!
//! Entries are named from the server, not from its local name (see [`EntryKey`]), so a
//! rename keeps the password. Debug builds use another service prefix, so a dev build never
//! touches a user's real entries.
//!
//! Every keychain call runs on its own thread with a bounded wait. A Secret Service that
//! hangs, or a locked keyring waiting on an unlock prompt nobody can see, becomes
//! [`Error::KeychainTimeout`] instead of a frozen tray or shell. Where a person could be
//! typing into the desktop's unlock prompt, the wait is long and the caller is told (once)
//! what it is waiting for.

use std::sync::mpsc;
use std::time::Duration;

#[cfg(any(target_os = "linux", target_os = "freebsd"))]
mod secret_service;

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::server::Server;

/// The service-name prefix of release builds.
pub const SERVICE_PREFIX: &str = "mlflow-login:";
/// The service-name prefix of debug builds.
pub const DEV_SERVICE_PREFIX: &str = "mlflow-login-dev:";
/// Overrides the prefix (tests use a random one per run so runs never collide).
pub const SERVICE_PREFIX_ENV: &str = "MLFLOW_LOGIN_KEYCHAIN_PREFIX";

/// The name of one keychain entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntryKey {
    /// The prefix plus the normalised tracking URL.
    pub service: String,
    /// The username (or `token`).
    pub account: String,
}

impl EntryKey {
    /// The entry for a server.
    pub fn for_server(server: &Server) -> Self {
        Self { service: format!("{}{}", service_prefix(), server.url), account: server.account().to_string() }
    }
}

/// The service prefix in force: `$MLFLOW_LOGIN_KEYCHAIN_PREFIX`, else by build profile.
pub fn service_prefix() -> String {
    match std::env::var(SERVICE_PREFIX_ENV) {
        Ok(p) if !p.is_empty() => p,
        _ if cfg!(debug_assertions) => DEV_SERVICE_PREFIX.to_string(),
        _ => SERVICE_PREFIX.to_string(),
    }
}

/// Where secrets are kept.
pub trait Vault: Send + Sync {
    /// The secret, or `None` when there is no entry.
    fn get(&self, key: &EntryKey) -> Result<Option<Secret>>;
    /// Stores (or replaces) the secret.
    fn set(&self, key: &EntryKey, secret: &Secret) -> Result<()>;
    /// Deletes the entry; `false` when there was none.
    fn delete(&self, key: &EntryKey) -> Result<bool>;
}

impl<V: Vault + ?Sized> Vault for &V {
    fn get(&self, key: &EntryKey) -> Result<Option<Secret>> {
        (**self).get(key)
    }
    fn set(&self, key: &EntryKey, secret: &Secret) -> Result<()> {
        (**self).set(key, secret)
    }
    fn delete(&self, key: &EntryKey) -> Result<bool> {
        (**self).delete(key)
    }
}

impl<V: Vault + ?Sized> Vault for std::sync::Arc<V> {
    fn get(&self, key: &EntryKey) -> Result<Option<Secret>> {
        (**self).get(key)
    }
    fn set(&self, key: &EntryKey, secret: &Secret) -> Result<()> {
        (**self).set(key, secret)
    }
    fn delete(&self, key: &EntryKey) -> Result<bool> {
        (**self).delete(key)
    }
}

/// How long keychain calls may take.
#[derive(Debug, Clone, Copy)]
pub struct Wait {
    /// Give up after this long.
    pub limit: Duration,
    /// Tell the user what we are waiting for after this long (see [`KeyringVault::on_wait`]).
    pub notice_after: Duration,
}

impl Wait {
    /// Where an unlock prompt can appear (a graphical session), a person may need a
    /// minute or two to type a password; elsewhere (SSH, a headless box) no prompt can
    /// appear and the call fails fast. `MLFLOW_LOGIN_KEYCHAIN_TIMEOUT` (seconds) overrides.
    pub fn for_environment() -> Self {
        let limit = std::env::var("MLFLOW_LOGIN_KEYCHAIN_TIMEOUT")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| *s > 0.0 && *s < 3600.0)
            .map(Duration::from_secs_f64)
            .unwrap_or_else(|| if can_prompt() { Duration::from_secs(120) } else { Duration::from_secs(10) });
        Self { limit, notice_after: Duration::from_millis(1500) }
    }
}

/// Whether the desktop can show its own unlock prompt (or a browser window, for single
/// sign-on) to this process: a display on Linux and the BSDs, always on macOS and Windows.
pub(crate) fn can_prompt() -> bool {
    if cfg!(target_os = "linux") || cfg!(target_os = "freebsd") {
        std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty())
            || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty())
    } else {
        // macOS and Windows show their prompts in any interactive session.
        true
    }
}

/// Told what a slow keychain call waits for.
type WaitNotice = Box<dyn Fn(&str) + Send + Sync>;

/// The OS keychain.
pub struct KeyringVault {
    wait: Wait,
    on_wait: Option<WaitNotice>,
}

impl std::fmt::Debug for KeyringVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringVault").field("wait", &self.wait).finish_non_exhaustive()
    }
}

impl Default for KeyringVault {
    fn default() -> Self {
        Self::new(Wait::for_environment())
    }
}

impl KeyringVault {
    /// The platform keychain with these waits.
    pub fn new(wait: Wait) -> Self {
        Self { wait, on_wait: None }
    }

    /// Called once per slow call (after [`Wait::notice_after`]) with a sentence saying
    /// what we wait for; the CLI prints it to stderr.
    pub fn on_wait(mut self, f: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.on_wait = Some(Box::new(f));
        self
    }

    /// Runs `op` on a worker thread and waits at most the limit.
    fn bounded<T: Send + 'static>(&self, op: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
        let (tx, rx) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("keychain".into())
            .spawn(move || {
                let _ = tx.send(op());
            })
            .map_err(|e| Error::KeychainUnavailable(format!("cannot start a thread: {e}")))?;
        match rx.recv_timeout(self.wait.notice_after.min(self.wait.limit)) {
            Ok(r) => return r,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(Error::KeychainUnavailable("the keychain call panicked".into()));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if let Some(f) = &self.on_wait {
            f(&format!(
                "waiting for the keychain (up to {} s): if your desktop asks to unlock the keyring, do so",
                self.wait.limit.as_secs()
            ));
        }
        // The thread is left behind on timeout: a blocked D-Bus call cannot be cancelled.
        // The CLI exits right after; the tray only ever has one such call in flight.
        match rx.recv_timeout(self.wait.limit.saturating_sub(self.wait.notice_after)) {
            Ok(r) => r,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(Error::KeychainUnavailable("the keychain call panicked".into()))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Err(Error::KeychainTimeout(self.wait.limit.as_secs())),
        }
    }
}

fn entry(key: &EntryKey) -> Result<keyring::Entry> {
    if let Err(e) = keyring::Entry::store_status() {
        return Err(Error::KeychainUnavailable(format!("no credential store could be opened ({e})")));
    }
    keyring::Entry::new(&key.service, &key.account).map_err(map_err)
}

/// Maps keyring's errors. `NoEntry` is handled by the callers (it is `Ok(None)`), so it is
/// never confused with a locked or missing store.
fn map_err(e: keyring::Error) -> Error {
    use keyring::Error as K;
    match e {
        K::NoStorageAccess(inner) => Error::KeychainLocked(inner.to_string()),
        K::NoDefaultStore => Error::KeychainUnavailable("no credential store is available on this system".into()),
        K::PlatformFailure(inner) => Error::KeychainUnavailable(inner.to_string()),
        K::BadEncoding(_) => Error::KeychainUnavailable("the stored password is not valid UTF-8".into()),
        K::TooLong(what, max) => {
            Error::invalid("password", format!("the {what} is too long for this keychain (at most {max})"))
        }
        K::Invalid(what, why) => Error::invalid("password", format!("the keychain refused the {what}: {why}")),
        K::Ambiguous(_) => {
            Error::KeychainUnavailable("several keychain entries match this server; remove the extra ones".into())
        }
        other => Error::KeychainUnavailable(other.to_string()),
    }
}

impl Vault for KeyringVault {
    fn get(&self, key: &EntryKey) -> Result<Option<Secret>> {
        let key = key.clone();
        self.bounded(move || {
            #[cfg(any(target_os = "linux", target_os = "freebsd"))]
            match secret_service::lookup(&key) {
                secret_service::Lookup::Found(secret) => return Ok(Some(secret)),
                secret_service::Lookup::Absent => return Ok(None),
                secret_service::Lookup::AskKeyring => {}
            }
            match entry(&key)?.get_password() {
                Ok(p) => Ok(Some(Secret::new(p))),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(map_err(e)),
            }
        })
    }

    fn set(&self, key: &EntryKey, secret: &Secret) -> Result<()> {
        let key = key.clone();
        let secret = secret.clone();
        self.bounded(move || entry(&key)?.set_password(secret.expose()).map_err(map_err))
    }

    fn delete(&self, key: &EntryKey) -> Result<bool> {
        let key = key.clone();
        self.bounded(move || match entry(&key)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_err(e)),
        })
    }
}

/// An in-memory vault, for tests only (unit tests and the `test-vault` feature).
#[cfg(any(test, feature = "test-vault"))]
#[derive(Debug, Default)]
pub struct MemoryVault {
    entries: std::sync::Mutex<std::collections::HashMap<EntryKey, Secret>>,
    /// When set, every call fails with this error kind (to test error paths).
    pub fail_with: std::sync::Mutex<Option<crate::ErrorKind>>,
}

#[cfg(any(test, feature = "test-vault"))]
impl MemoryVault {
    fn check(&self) -> Result<()> {
        match *self.fail_with.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(crate::ErrorKind::KeychainLocked) => Err(Error::KeychainLocked("locked (test)".into())),
            Some(crate::ErrorKind::KeychainTimeout) => Err(Error::KeychainTimeout(1)),
            Some(_) => Err(Error::KeychainUnavailable("unavailable (test)".into())),
            None => Ok(()),
        }
    }
}

#[cfg(any(test, feature = "test-vault"))]
impl Vault for MemoryVault {
    fn get(&self, key: &EntryKey) -> Result<Option<Secret>> {
        self.check()?;
        Ok(self.entries.lock().unwrap_or_else(|e| e.into_inner()).get(key).cloned())
    }
    fn set(&self, key: &EntryKey, secret: &Secret) -> Result<()> {
        self.check()?;
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).insert(key.clone(), secret.clone());
        Ok(())
    }
    fn delete(&self, key: &EntryKey) -> Result<bool> {
        self.check()?;
        Ok(self.entries.lock().unwrap_or_else(|e| e.into_inner()).remove(key).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_follow_the_server() {
        let a = Server::new_basic("https://Host:443/mlflow/", "alice").unwrap();
        let b = Server::new_basic("https://host/mlflow", "alice").unwrap();
        assert_eq!(EntryKey::for_server(&a), EntryKey::for_server(&b));
        let k = EntryKey::for_server(&a);
        assert!(k.service.ends_with("https://host/mlflow"), "{k:?}");
        assert_eq!(k.account, "alice");
    }

    #[test]
    fn bounded_call_times_out() {
        let v = KeyringVault::new(Wait { limit: Duration::from_millis(200), notice_after: Duration::from_millis(50) });
        let noticed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let n2 = noticed.clone();
        let v = v.on_wait(move |_| n2.store(true, std::sync::atomic::Ordering::SeqCst));
        let r: Result<()> = v.bounded(|| {
            std::thread::sleep(Duration::from_secs(5));
            Ok(())
        });
        assert!(matches!(r, Err(Error::KeychainTimeout(_))));
        assert!(noticed.load(std::sync::atomic::Ordering::SeqCst));
    }
}
