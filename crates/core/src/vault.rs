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

use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::server::{AuthKind, Server};

/// The service-name prefix of release builds.
pub const SERVICE_PREFIX: &str = "mlflow-login:";
/// The service-name prefix of debug builds.
pub const DEV_SERVICE_PREFIX: &str = "mlflow-login-dev:";
/// Overrides the prefix (tests use a random one per run so runs never collide).
pub const SERVICE_PREFIX_ENV: &str = "MLFLOW_LOGIN_KEYCHAIN_PREFIX";

/// The account suffix of a pending password's entry ([`EntryKey::pending`]).
const PENDING_SUFFIX: &str = " (new password, pending)";

/// The name of one keychain entry.
///
/// The service is the prefix plus the normalised tracking URL; the account names the kind
/// of secret, so a password, a token and a single sign-on token set never share an entry:
///
/// | server | account |
/// | --- | --- |
/// | Basic, user `alice` | `basic:alice` |
/// | Bearer, label `ci` (none: empty) | `bearer:ci` |
/// | single sign-on, named `prod` | `sso:prod` |
///
/// Basic and Bearer servers with the same URL and user share their entry on purpose (one
/// password, one account at the server). A single sign-on entry is the server's own: two
/// servers at one URL are two sessions (a person and a service account, say), so it is
/// named by the server's name, and a rename moves it. Usernames never hold `:`, so these
/// accounts never meet the older scheme's ([`EntryKey::legacy`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntryKey {
    /// The prefix plus the normalised tracking URL.
    pub service: String,
    /// The kind, `:`, and the username, the token's label or (single sign-on) the server's name.
    pub account: String,
}

impl EntryKey {
    /// The entry of the server called `name`.
    pub fn for_server(name: &str, server: &Server) -> Self {
        let account = match server.auth {
            AuthKind::Basic => format!("basic:{}", server.username.as_deref().unwrap_or_default()),
            AuthKind::Bearer => format!("bearer:{}", server.username.as_deref().unwrap_or_default()),
            AuthKind::Sso => format!("sso:{name}"),
        };
        Self { service: format!("{}{}", service_prefix(), server.url), account }
    }

    /// Where versions before the kind-named scheme kept the server's secret: the account
    /// was the username, else `sso` or `token`, whatever the kind (so two servers could
    /// share it). Read once to move the secret ([`crate::Logins::secret`]), then deleted.
    pub fn legacy(server: &Server) -> Self {
        Self { service: format!("{}{}", service_prefix(), server.url), account: server.account().to_string() }
    }

    /// Whether the entry is named by the older scheme (its account has no kind).
    pub fn is_legacy(&self) -> bool {
        !self.account.contains(':')
    }

    /// Where a new password waits while it is being changed on the server (see
    /// [`crate::passwd`]): beside the server's entry, its account marked.
    pub fn pending(name: &str, server: &Server) -> Self {
        let key = Self::for_server(name, server);
        Self { account: format!("{}{PENDING_SUFFIX}", key.account), ..key }
    }

    /// Whether this is a pending password's entry.
    pub fn is_pending(&self) -> bool {
        self.account.ends_with(PENDING_SUFFIX)
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
    /// Every entry under the service prefix in force ([`service_prefix`]), so `doctor`
    /// can find entries no server names any more (a login killed between its keychain
    /// write and its config write leaves one).
    fn entries(&self) -> Result<Vec<EntryKey>>;
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
    fn entries(&self) -> Result<Vec<EntryKey>> {
        (**self).entries()
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
    fn entries(&self) -> Result<Vec<EntryKey>> {
        (**self).entries()
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
        // The CLI exits right after. The tray makes one menu read at a time (and a check's
        // read when one is asked for), so a Secret Service that never answers parks one
        // thread per timed-out call, until the service answers or goes away.
        match rx.recv_timeout(self.wait.limit.saturating_sub(self.wait.notice_after)) {
            Ok(r) => r,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(Error::KeychainUnavailable("the keychain call panicked".into()))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Err(Error::KeychainTimeout(self.wait.limit.as_secs())),
        }
    }
}

/// The platform store, opened by keyring 4 on first use. Where it could not be opened
/// then (a tray started before its Secret Service), it is tried again on each call.
fn store() -> Result<()> {
    let status = keyring::Entry::store_status();
    if keyring_core::get_default_store().is_some() {
        return Ok(());
    }
    #[cfg(any(target_os = "linux", target_os = "freebsd"))]
    if reopen() {
        return Ok(());
    }
    let why = status.as_ref().err().map(ToString::to_string).unwrap_or_else(|| "none was set".into());
    Err(Error::KeychainUnavailable(format!("no credential store could be opened ({why})")))
}

/// Opens keyring's Secret Service store afresh (a new connection and session) and makes it
/// the default; `false` when the service cannot be reached.
///
/// keyring opens its store once per process, and the session dies with the service: after
/// gnome-keyring restarts, every call of a long-lived process (the tray) would fail with
/// `NoSession` until it restarted too.
#[cfg(any(target_os = "linux", target_os = "freebsd"))]
fn reopen() -> bool {
    match zbus_secret_service_keyring_store::Store::new() {
        Ok(store) => {
            keyring_core::set_default_store(store);
            true
        }
        Err(_) => false,
    }
}

fn entry(key: &EntryKey) -> Result<keyring_core::Entry> {
    store()?;
    keyring_core::Entry::new(&key.service, &key.account).map_err(map_err)
}

/// Runs `op` on the key's entry; where the platform store failed, reopens it once and runs
/// `op` again on a fresh entry. The outer error is ours (no store at all), the inner one
/// keyring's.
fn on_entry<T>(
    key: &EntryKey,
    op: impl Fn(&keyring_core::Entry) -> Result<T, keyring::Error>,
) -> Result<Result<T, keyring::Error>> {
    let first = op(&entry(key)?);
    #[cfg(any(target_os = "linux", target_os = "freebsd"))]
    if let Err(keyring::Error::PlatformFailure(_)) = &first
        && reopen()
    {
        return Ok(op(&entry(key)?));
    }
    Ok(first)
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
        self.bounded(move || match on_entry(&key, keyring_core::Entry::get_password)? {
            Ok(p) => Ok(Some(Secret::new(p))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_err(e)),
        })
    }

    fn set(&self, key: &EntryKey, secret: &Secret) -> Result<()> {
        let key = key.clone();
        let secret = secret.clone();
        self.bounded(move || on_entry(&key, |entry| entry.set_password(secret.expose()))?.map_err(map_err))
    }

    fn delete(&self, key: &EntryKey) -> Result<bool> {
        let key = key.clone();
        self.bounded(move || match on_entry(&key, keyring_core::Entry::delete_credential)? {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_err(e)),
        })
    }

    fn entries(&self) -> Result<Vec<EntryKey>> {
        let prefix = service_prefix();
        self.bounded(move || {
            store()?;
            // Stores match attributes exactly, so there is no prefix search: list them all
            // (the Secret Service answers an empty query with every item) and keep ours.
            let found = keyring_core::Entry::search(&std::collections::HashMap::new()).map_err(map_err)?;
            Ok(found
                .iter()
                .filter_map(keyring_core::Entry::get_specifiers)
                .filter(|(service, _)| service.starts_with(&prefix))
                .map(|(service, account)| EntryKey { service, account })
                .collect())
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
    /// How many times [`Vault::get`] was called: each is a keychain round trip in the real one.
    pub gets: std::sync::atomic::AtomicUsize,
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
        self.gets.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
    fn entries(&self) -> Result<Vec<EntryKey>> {
        self.check()?;
        let prefix = service_prefix();
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        Ok(entries.keys().filter(|k| k.service.starts_with(&prefix)).cloned().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_follow_the_server() {
        let a = Server::new_basic("https://Host:443/mlflow/", "alice").unwrap();
        let b = Server::new_basic("https://host/mlflow", "alice").unwrap();
        assert_eq!(EntryKey::for_server("x", &a), EntryKey::for_server("y", &b));
        let k = EntryKey::for_server("x", &a);
        assert!(k.service.ends_with("https://host/mlflow"), "{k:?}");
        assert_eq!(k.account, "basic:alice");
    }

    /// Against the private gnome-keyring: what keyring writes reads back, an absent entry
    /// is `Ok(None)` (never an error, and never `None` for an entry that is there), and a
    /// second item with the same attributes is an error, not a guess.
    #[test]
    #[ignore = "needs the private keychain: run under tests/fixtures/with-keyring.sh"]
    fn real_keychain() {
        assert!(
            std::env::var_os("MLL_TEST_HOME").is_some(),
            "no private keychain: run under tests/fixtures/with-keyring.sh (or `make test`)"
        );
        let vault = KeyringVault::new(Wait::for_environment());
        let key = |account: &str| EntryKey {
            service: format!(
                "{}https://h-{}-{:x}.example.com",
                service_prefix(),
                std::process::id(),
                fastrand::u64(..)
            ),
            account: account.into(),
        };
        let (alice, nobody) = (key("alice"), key("nobody"));
        let password = "pässwörd: \"quoted\" $HOME `x` \\ end";
        vault.set(&alice, &Secret::new(password.into())).unwrap();
        assert_eq!(vault.get(&alice).unwrap().expect("the entry just written").expose(), password);
        vault.set(&alice, &Secret::new("second".into())).unwrap();
        assert_eq!(vault.get(&alice).unwrap().expect("the entry just replaced").expose(), "second");
        assert!(vault.get(&nobody).unwrap().is_none());
        assert!(!vault.delete(&nobody).unwrap());
        let listed = vault.entries().unwrap();
        assert!(listed.contains(&alice) && !listed.contains(&nobody), "{listed:?}");

        // A twin written by another client (libsecret): two matches are reported.
        let status = std::process::Command::new("secret-tool")
            .args(["store", "--label", "twin", "service", &alice.service, "username", "alice", "x", "1"])
            .stdin(std::process::Stdio::null())
            .status()
            .expect("secret-tool is missing: apt-get install libsecret-tools");
        assert!(status.success());
        let err = vault.get(&alice).expect_err("two entries for one server");
        assert_eq!(err.kind(), crate::ErrorKind::KeychainUnavailable, "{err}");
        let status = std::process::Command::new("secret-tool")
            .args(["clear", "service", &alice.service, "username", "alice"])
            .status()
            .unwrap();
        assert!(status.success());

        assert!(vault.get(&alice).unwrap().is_none());
        vault.set(&alice, &Secret::new(password.into())).unwrap();
        assert!(vault.delete(&alice).unwrap());
        assert!(vault.get(&alice).unwrap().is_none());
        assert!(!vault.delete(&alice).unwrap());
    }

    /// One process (as the tray is) started before its Secret Service, then across a
    /// gnome-keyring restart: keyring's store, opened once per process, is opened again
    /// instead of failing until the process restarts. Kills and starts the keyring it runs
    /// against, so only in a world of its own (tests/faults/run.sh restart, which sets
    /// MLL_FAULTS_KEYRING_PASSWORD).
    #[test]
    #[ignore = "restarts the keyring: run by tests/faults/run.sh"]
    fn reopens_the_store_after_a_keyring_restart() {
        use std::process::{Command, Stdio};
        let password = std::env::var("MLL_FAULTS_KEYRING_PASSWORD")
            .expect("run by tests/faults/run.sh restart (it restarts the keyring it runs against)");
        let bus = |method: &str| {
            Command::new("dbus-send")
                .args(["--session", "--print-reply=literal", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus"])
                .args([&format!("org.freedesktop.DBus.{method}"), "string:org.freedesktop.secrets"])
                .output()
                .expect("dbus-send is missing: apt-get install dbus")
        };
        let wait_until = |up: bool| {
            while bus("GetNameOwner").status.success() != up {
                std::thread::sleep(Duration::from_millis(50));
            }
        };
        let kill_keyring = || {
            let pid = String::from_utf8_lossy(&bus("GetConnectionUnixProcessID").stdout)
                .split_whitespace()
                .last()
                .unwrap()
                .to_string();
            assert!(Command::new("kill").args(["-9", &pid]).status().unwrap().success());
            wait_until(false);
        };
        let start_keyring = || {
            let mut start = Command::new("gnome-keyring-daemon")
                .args(["--unlock", "--components=secrets"])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            std::io::Write::write_all(&mut start.stdin.take().unwrap(), password.as_bytes()).unwrap();
            assert!(start.wait().unwrap().success());
            wait_until(true);
        };
        let vault = KeyringVault::new(Wait::for_environment());
        let key = EntryKey { service: format!("{}https://restart.example", service_prefix()), account: "u".into() };

        kill_keyring();
        assert_eq!(vault.get(&key).unwrap_err().kind(), crate::ErrorKind::KeychainUnavailable);
        start_keyring();
        vault.set(&key, &Secret::new("before".into())).unwrap();

        kill_keyring();
        assert_eq!(vault.get(&key).unwrap_err().kind(), crate::ErrorKind::KeychainUnavailable);
        start_keyring();
        assert_eq!(vault.get(&key).unwrap().expect("the password survives the restart").expose(), "before");
        vault.set(&key, &Secret::new("after".into())).unwrap();
        assert_eq!(vault.get(&key).unwrap().unwrap().expose(), "after");
        assert!(vault.delete(&key).unwrap());
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
