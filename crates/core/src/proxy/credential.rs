//! The credential the proxy adds: core's [`fresh_with`], shared by concurrent requests.
//!
//! Every keychain read is a D-Bus round trip and every refresh an identity-provider call,
//! so the proxy does not ask per request: one answer serves every request for [`REUSE`]
//! (and, for single sign-on, never past the token's refresh time), and requests that find
//! it stale wait for the one read under way instead of starting their own. A new password,
//! a refresh by another process or a logout is thus seen within [`REUSE`]; a server's 401
//! is seen at once (the next request reads again).
//!
//! While requests keep coming, none of them waits for the keychain: the first request in
//! the last quarter of [`REUSE`] before an answer's time ends starts the next read in the
//! background and goes on with the answer in hand, still within its time. The read starts
//! [`RENEW_DELAY`] later, after that request's own round trip: a keychain read wakes the
//! D-Bus daemon and the secret service, and on a machine with few cores they would take
//! the CPU from it. Under steady traffic the keychain is thus read every 1.5 s and a read,
//! a third more often than the 2 s and a wait of before. Only a request after a quiet
//! spell (the answer past its time) or at a token's refresh time waits for the read. A
//! background read that fails leaves the answer in hand to its time; the request after it
//! reads again and reports what it finds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::fresh::fresh_with;
use crate::logins::Logins;
use crate::oidc::{Fingerprint, RefreshOptions};
use crate::server::{AuthKind, Server};
use crate::vault::Vault;

/// How long one keychain answer serves.
pub(crate) const REUSE: Duration = Duration::from_secs(2);

/// How long after the request that starts a background read the read begins.
const RENEW_DELAY: Duration = Duration::from_millis(20);

/// The `Authorization` value to send, and what names it to the refused-token rule.
#[derive(Clone)]
pub(crate) struct Header {
    pub(crate) value: HeaderValue,
    pub(crate) fingerprint: Option<Fingerprint>,
}

impl std::fmt::Debug for Header {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Header").field("value", &"REDACTED").finish()
    }
}

/// What a credential read gave: a header, or nothing stored.
type Answer = Option<Header>;

#[derive(Debug)]
struct Cached {
    answer: Answer,
    /// Served until then.
    until: Instant,
    /// The first request from then on starts the next read in the background; `None` once
    /// it has (or when the answer's time is too short for one).
    renew_at: Option<Instant>,
    /// Which read this is: a background read keeps its answer only if no other answer
    /// came meanwhile (a refresh after a 401 is newer than a read that started before it).
    generation: u64,
}

#[derive(Debug, Default)]
struct Cache {
    cached: Option<Cached>,
    /// Answers kept so far.
    generation: u64,
}

impl Cache {
    fn keep(&mut self, answer: Result<(Answer, Instant)>) -> Result<Answer> {
        self.generation += 1;
        match answer {
            Ok((answer, until)) => {
                // A quarter of `REUSE` before the answer's time ends: long enough for a
                // read, short enough to read no more than a third more often.
                let renew_at = until.checked_sub(REUSE / 4).filter(|at| *at > Instant::now());
                self.cached = Some(Cached { answer: answer.clone(), until, renew_at, generation: self.generation });
                Ok(answer)
            }
            Err(e) => {
                self.cached = None;
                Err(e)
            }
        }
    }
}

/// What a read needs, for a read on a task of its own.
#[derive(Debug)]
struct Source<V> {
    logins: Arc<Logins<V>>,
    name: String,
    server: Server,
}

/// The proxy's credential source for one server.
#[derive(Debug)]
pub(crate) struct Credentials<V> {
    source: Arc<Source<V>>,
    cache: Arc<tokio::sync::Mutex<Cache>>,
}

impl<V: Vault + 'static> Credentials<V> {
    pub(crate) fn new(logins: Arc<Logins<V>>, name: &str, server: Server) -> Self {
        let source = Arc::new(Source { logins, name: name.to_owned(), server });
        Self { source, cache: Arc::default() }
    }

    /// The header to send now.
    pub(crate) async fn current(&self) -> Result<Answer> {
        let mut cache = self.cache.lock().await;
        let now = Instant::now();
        if let Some(c) = cache.cached.as_mut()
            && now < c.until
        {
            if c.renew_at.is_some_and(|at| now >= at) {
                c.renew_at = None;
                self.renew(c.generation);
            }
            return Ok(c.answer.clone());
        }
        let answer = self.source.read(RefreshOptions::default()).await;
        cache.keep(answer)
    }

    /// Reads the next answer on a task of its own, kept if the answer of `generation` is
    /// still the newest when it comes. An error is not kept: the answer in hand serves to
    /// its time, and the request after that reads and reports it. A proxy that stopped
    /// meanwhile is not read for (the task holds it weakly).
    fn renew(&self, generation: u64) {
        let (source, cache) = (Arc::downgrade(&self.source), Arc::downgrade(&self.cache));
        tokio::spawn(async move {
            tokio::time::sleep(RENEW_DELAY).await;
            let Some(source) = source.upgrade() else { return };
            let Ok(answer) = source.read(RefreshOptions::default()).await else { return };
            drop(source);
            let Some(cache) = cache.upgrade() else { return };
            let mut cache = cache.lock().await;
            if cache.cached.as_ref().is_some_and(|c| c.generation == generation) {
                let _ = cache.keep(Ok(answer));
            }
        });
    }

    /// The server refused `sent`: for single sign-on, a token other than the refused one
    /// (refreshed by the refused-token rule, once however many requests were refused
    /// together); for the others, the keychain read again.
    pub(crate) async fn after_refusal(&self, sent: &Header) -> Result<Answer> {
        let mut cache = self.cache.lock().await;
        if let Some(Cached { answer: Some(h), .. }) = cache.cached.as_ref()
            && h.value != sent.value
        {
            return Ok(Some(h.clone()));
        }
        let opts = RefreshOptions { refused: sent.fingerprint.clone(), ..RefreshOptions::default() };
        let answer = self.source.read(opts).await;
        cache.keep(answer)
    }
}

impl<V: Vault + 'static> Source<V> {
    /// One read through core. The keychain calls block, so they run on a blocking thread
    /// (the proxy may run on a single-threaded runtime that also serves every connection).
    async fn read(self: &Arc<Self>, opts: RefreshOptions) -> Result<(Answer, Instant)> {
        let source = self.clone();
        let handle = tokio::runtime::Handle::current();
        let fresh = tokio::task::spawn_blocking(move || {
            handle.block_on(fresh_with(&source.logins, &source.name, &source.server, &opts))
        })
        .await
        .map_err(|_| Error::Cancelled)??;
        let Some(fresh) = fresh else { return Ok((None, Instant::now() + REUSE)) };
        let mut until = Instant::now() + REUSE;
        if let Some(at) = fresh.refresh_at {
            until = until.min(Instant::now() + Duration::from_secs(at.saturating_sub(unix_now())));
        }
        let text = match (self.server.auth, self.server.username.as_deref()) {
            (AuthKind::Basic, Some(user)) => {
                let pair = Zeroizing::new(format!("{user}:{}", fresh.secret.expose()));
                Zeroizing::new(format!("Basic {}", crate::text::base64(pair.as_bytes())))
            }
            (AuthKind::Basic, None) => return Ok((None, until)),
            _ => Zeroizing::new(format!("Bearer {}", fresh.secret.expose())),
        };
        let mut value = HeaderValue::from_str(&text).map_err(|_| {
            Error::invalid("password", "the stored credential holds a character an HTTP header cannot carry")
        })?;
        value.set_sensitive(true);
        Ok((Some(Header { value, fingerprint: fresh.fingerprint }), until))
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

    use super::*;
    use crate::config::{ConfigStore, Paths};
    use crate::logins::Activate;
    use crate::secret::Secret;
    use crate::vault::{EntryKey, MemoryVault};

    /// A keychain whose reads hang while `held` is set (5 s at most: a test that fails
    /// while a read hangs must not hang too).
    #[derive(Debug, Default)]
    struct HeldVault {
        inner: MemoryVault,
        held: AtomicBool,
    }

    /// Lets reads go on when dropped, also by a failing assertion's unwinding.
    struct Hold(&'static HeldVault);

    impl Hold {
        fn new(vault: &'static HeldVault) -> Hold {
            vault.held.store(true, Relaxed);
            Hold(vault)
        }
    }

    impl Drop for Hold {
        fn drop(&mut self) {
            self.0.held.store(false, Relaxed);
        }
    }

    impl Vault for HeldVault {
        fn get(&self, key: &EntryKey) -> Result<Option<Secret>> {
            self.inner.gets.fetch_add(1, Relaxed);
            let give_up = std::time::Instant::now() + Duration::from_secs(5);
            while self.held.load(Relaxed) && std::time::Instant::now() < give_up {
                std::thread::sleep(Duration::from_millis(2));
            }
            self.inner.gets.fetch_sub(1, Relaxed);
            self.inner.get(key)
        }
        fn set(&self, key: &EntryKey, secret: &Secret) -> Result<()> {
            self.inner.set(key, secret)
        }
        fn delete(&self, key: &EntryKey) -> Result<bool> {
            self.inner.delete(key)
        }
        fn entries(&self) -> Result<Vec<EntryKey>> {
            self.inner.entries()
        }
    }

    async fn until(what: &str, done: impl Fn() -> bool) {
        for _ in 0..500 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("{what} did not happen within 2.5 s");
    }

    type Setup = (tempfile::TempDir, &'static HeldVault, Arc<Logins<&'static HeldVault>>, Server);

    /// A Basic server with the password "one" stored in a [`HeldVault`].
    fn setup() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let vault: &'static HeldVault = Box::leak(Box::default());
        let logins = Arc::new(Logins::new(ConfigStore::new(Paths::in_dir(dir.path().join("cfg"))), vault));
        let server = Server::new_basic("http://127.0.0.1:9/", "alice").unwrap();
        logins.save("s", server.clone(), Some(&Secret::new("one".into())), Activate::Yes).unwrap();
        (dir, vault, logins, server)
    }

    /// When the cached answer asks for its background read.
    async fn renew_at<V: Vault + 'static>(credentials: &Credentials<V>) -> Instant {
        credentials.cache.lock().await.cached.as_ref().unwrap().renew_at.unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn while_requests_come_none_waits_for_the_keychain_and_a_new_password_comes_early() {
        let (_dir, vault, logins, server) = setup();
        let credentials = Credentials::new(logins.clone(), "s", server.clone());
        let reads = || vault.inner.gets.load(Relaxed);
        let value = |answer: Result<Answer>| answer.unwrap().unwrap().value;

        let first = value(credentials.current().await);
        let after_first = reads();
        assert_eq!(value(credentials.current().await), first);
        assert_eq!(reads(), after_first, "a request before the last quarter read the keychain");
        let renew_at = renew_at(&credentials).await;

        // A new password; then, in the last quarter of the answer's time, the keychain hangs.
        logins.save("s", server, Some(&Secret::new("two".into())), Activate::Yes).unwrap();
        let reads_before = reads();
        tokio::time::sleep_until((renew_at + Duration::from_millis(10)).into()).await;
        let hold = Hold::new(vault);
        let answered = tokio::time::timeout(REUSE / 8, credentials.current()).await;
        assert_eq!(value(answered.expect("a request waited for the keychain")), first);
        // It started one read, in the background; the next requests start none.
        until("the background read", || reads() > reads_before).await;
        for _ in 0..3 {
            let answered = tokio::time::timeout(REUSE / 16, credentials.current()).await;
            assert_eq!(value(answered.expect("a request waited for the keychain")), first);
        }
        assert_eq!(reads(), reads_before + 1, "more than one read at a time");

        // Its answer (the new password) serves the next requests: no request read since the
        // first, so the answer of generation 2 is the background read's.
        drop(hold);
        let cache = credentials.cache.clone();
        until("the read's answer", || cache.try_lock().is_ok_and(|c| c.generation == 2)).await;
        let second = value(credentials.current().await);
        assert_ne!(second, first);
        assert_eq!(reads(), reads_before + 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_background_read_that_fails_leaves_the_answer_in_hand_to_its_time() {
        let (_dir, vault, logins, server) = setup();
        let credentials = Credentials::new(logins, "s", server);
        let first = credentials.current().await.unwrap().unwrap().value;
        let renew_at = renew_at(&credentials).await;
        tokio::time::sleep_until((renew_at + Duration::from_millis(10)).into()).await;
        *vault.inner.fail_with.lock().unwrap() = Some(crate::ErrorKind::KeychainLocked);
        let reads_before = vault.inner.gets.load(Relaxed);
        assert_eq!(credentials.current().await.unwrap().unwrap().value, first);
        until("the background read", || vault.inner.gets.load(Relaxed) > reads_before).await;
        // The locked keychain did not take the answer away before its time.
        tokio::time::sleep(RENEW_DELAY).await;
        assert_eq!(credentials.current().await.unwrap().unwrap().value, first);
        assert_eq!(credentials.cache.lock().await.generation, 1);
    }
}
