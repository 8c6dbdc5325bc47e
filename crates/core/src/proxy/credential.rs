//! The credential the proxy adds: core's [`fresh_with`], shared by concurrent requests.
//!
//! Every keychain read is a D-Bus round trip and every refresh an identity-provider call,
//! so the proxy does not ask per request: one answer serves every request for [`REUSE`]
//! (and, for single sign-on, never past the token's refresh time), and requests that find
//! it stale wait for the one read under way instead of starting their own. A new password,
//! a refresh by another process or a logout is thus seen within [`REUSE`]; a server's 401
//! is seen at once (the next request reads again).

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
    until: Instant,
}

/// The proxy's credential source for one server.
#[derive(Debug)]
pub(crate) struct Credentials<V> {
    logins: Arc<Logins<V>>,
    name: String,
    server: Server,
    cache: tokio::sync::Mutex<Option<Cached>>,
}

impl<V: Vault + 'static> Credentials<V> {
    pub(crate) fn new(logins: Arc<Logins<V>>, name: &str, server: Server) -> Self {
        Self { logins, name: name.to_owned(), server, cache: tokio::sync::Mutex::new(None) }
    }

    /// The header to send now.
    pub(crate) async fn current(&self) -> Result<Answer> {
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref()
            && Instant::now() < c.until
        {
            return Ok(c.answer.clone());
        }
        let answer = self.read(RefreshOptions::default()).await;
        Self::keep(&mut cache, answer)
    }

    /// The server refused `sent`: for single sign-on, a token other than the refused one
    /// (refreshed by the refused-token rule, once however many requests were refused
    /// together); for the others, the keychain read again.
    pub(crate) async fn after_refusal(&self, sent: &Header) -> Result<Answer> {
        let mut cache = self.cache.lock().await;
        if let Some(Cached { answer: Some(h), .. }) = cache.as_ref()
            && h.value != sent.value
        {
            return Ok(Some(h.clone()));
        }
        let opts = RefreshOptions { refused: sent.fingerprint.clone(), ..RefreshOptions::default() };
        let answer = self.read(opts).await;
        Self::keep(&mut cache, answer)
    }

    fn keep(cache: &mut Option<Cached>, answer: Result<(Answer, Instant)>) -> Result<Answer> {
        match answer {
            Ok((answer, until)) => {
                *cache = Some(Cached { answer: answer.clone(), until });
                Ok(answer)
            }
            Err(e) => {
                *cache = None;
                Err(e)
            }
        }
    }

    /// One read through core. The keychain calls block, so they run on a blocking thread
    /// (the proxy may run on a single-threaded runtime that also serves every connection).
    async fn read(&self, opts: RefreshOptions) -> Result<(Answer, Instant)> {
        let (logins, name, server) = (self.logins.clone(), self.name.clone(), self.server.clone());
        let handle = tokio::runtime::Handle::current();
        let fresh = tokio::task::spawn_blocking(move || handle.block_on(fresh_with(&logins, &name, &server, &opts)))
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
