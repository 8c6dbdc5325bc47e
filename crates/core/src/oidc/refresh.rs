//! Refreshing a stored token set, serialised across processes, and revoking it.
//!
//! Most IdPs rotate refresh tokens and treat the reuse of an old one as theft: the whole
//! session ends. Four Python processes and a shell that find the access token near expiry
//! together must therefore make one refresh, and every one of them must then use the new
//! tokens. [`refresh_locked`]:
//! 1. reads the stored set; fresh enough: done, no lock taken (the common case);
//! 2. takes an exclusive lock on a file named from the keychain entry (under
//!    the config dir, shared by every front end), waiting a bounded time;
//! 3. reads the stored set again: another process may have refreshed while we waited;
//! 4. only if it is still near expiry, refreshes at the IdP and stores the new set (with
//!    the rotated refresh token) before the lock is released.
//!
//! A server that refuses a token we thought fresh (revoked, or a clock that disagrees) gets
//! the same treatment with [`RefreshOptions::refused`]: the caller names the refused token
//! by its [`Fingerprint`], and the refresh happens only while the stored token is still that
//! one. Four processes refused together thus make one refresh, whenever each of them reads
//! the keychain; a plain "refresh now" ([`RefreshOptions::force`]) can only compare with
//! what its own process read first, which may already be the new token.

use std::fs::File;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{ClientId, RefreshToken, RequestTokenError, RevocationUrl, Scope, StandardRevocableToken, TokenUrl};

use super::http::Http;
#[cfg(test)]
use super::http::HttpError;
use super::login::{server_refusal, token_error};
use super::tokens::{Fingerprint, TokenSet, now_unix, sha256_hex};
use crate::config::open_private_file;
use crate::error::{Error, Result};
use crate::server::{Server, is_loopback};
use crate::vault::{EntryKey, Vault};

/// Options of [`refresh_locked`].
#[derive(Debug, Clone)]
pub struct RefreshOptions {
    /// Refresh even when the access token is not near expiry (still under the lock, still
    /// skipped when another process refreshed meanwhile).
    pub force: bool,
    /// A server refused the access token with this fingerprint: refresh unless the stored
    /// token is another one already (then that one is the answer: [`Refreshed::ByAnotherProcess`]).
    /// Implies `force` for that token.
    pub refused: Option<Fingerprint>,
    /// The longest wait for another process's refresh to finish.
    pub lock_wait: Duration,
    /// The longest wait for the identity provider's answer.
    pub request_timeout: Duration,
}

impl Default for RefreshOptions {
    fn default() -> Self {
        Self {
            force: false,
            refused: None,
            lock_wait: Duration::from_secs(30),
            request_timeout: Duration::from_secs(15),
        }
    }
}

/// What [`refresh_locked`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refreshed {
    /// The stored access token was fresh enough; nothing was asked.
    StillFresh,
    /// Another process refreshed while this one waited for the lock (or, with
    /// [`RefreshOptions::refused`], before: the stored token is no longer the refused one).
    ByAnotherProcess,
    /// This process refreshed at the identity provider and stored the result.
    Now,
}

/// A usable token set for `server`, refreshed if near expiry (see the module docs).
///
/// `vault` and `key` name where the token set is stored (the server's keychain entry).
/// Errors: [`Error::LoginRequired`] when nothing is stored, no refresh token is held, or
/// the provider refuses the refresh token (`invalid_grant`); the stored set is then left
/// as it was for the caller to delete or replace. A keychain error or an unreachable
/// provider keeps the stored set too (a keychain write that fails after the provider
/// rotated the token loses the session: the error says so as any keychain error does).
///
/// The vault calls block the calling thread for as long as the vault's own bounded wait
/// (as every vault call in core does); the lock wait and the request do not.
pub async fn refresh_locked(
    server: &Server,
    vault: &dyn Vault,
    key: &EntryKey,
    lock_dir: &Path,
    opts: &RefreshOptions,
) -> Result<(TokenSet, Refreshed)> {
    let stored = read(vault, key)?;
    refresh_locked_from(server, vault, key, lock_dir, opts, stored).await
}

/// [`refresh_locked`] for a caller that has just read the stored token set `stored` from
/// `key`: step 1 without a second keychain read (steps 2 to 4 read again, under the lock).
pub async fn refresh_locked_from(
    server: &Server,
    vault: &dyn Vault,
    key: &EntryKey,
    lock_dir: &Path,
    opts: &RefreshOptions,
    stored: TokenSet,
) -> Result<(TokenSet, Refreshed)> {
    let lock_path = lock_file(key, lock_dir);
    refresh_at(vault, key, &lock_path, opts, stored, || Http::for_server(server, opts.request_timeout)).await
}

/// [`refresh_locked_from`] with the lock file and the HTTP client given; `http` is made
/// only when a refresh is needed.
async fn refresh_at<H: Future<Output = Result<Http>>>(
    vault: &dyn Vault,
    key: &EntryKey,
    lock_path: &Path,
    opts: &RefreshOptions,
    stored: TokenSet,
    http: impl FnOnce() -> H,
) -> Result<(TokenSet, Refreshed)> {
    let due = stored.is_near_expiry(now_unix());
    match &opts.refused {
        // The refused token was replaced already (by a refresh or a new login): no lock needed.
        Some(refused) if !due && stored.fingerprint() != *refused => {
            return Ok((stored, Refreshed::ByAnotherProcess));
        }
        None if !due && !opts.force => return Ok((stored, Refreshed::StillFresh)),
        _ => {}
    }
    // The token this process holds: the refused one, else the one it just read.
    let held = opts.refused.clone().unwrap_or_else(|| stored.fingerprint());
    drop(stored);
    locked(&held, vault, key, lock_path, opts, http).await
}

/// Steps 2 to 4 of the module docs: refreshes unless the stored token is no longer `held`
/// (another process refreshed it) and is fresh.
async fn locked<H: Future<Output = Result<Http>>>(
    held: &Fingerprint,
    vault: &dyn Vault,
    key: &EntryKey,
    lock_path: &Path,
    opts: &RefreshOptions,
    http: impl FnOnce() -> H,
) -> Result<(TokenSet, Refreshed)> {
    let _lock = lock(lock_path, opts.lock_wait).await?;
    let current = read(vault, key)?;
    if current.fingerprint() != *held && !current.is_near_expiry(now_unix()) {
        return Ok((current, Refreshed::ByAnotherProcess));
    }
    let fresh = refresh_with(&http().await?, &current).await?;
    // Stored before the lock is released: the next process reads the rotated token.
    vault.set(key, &fresh.to_secret())?;
    Ok((fresh, Refreshed::Now))
}

fn read(vault: &dyn Vault, key: &EntryKey) -> Result<TokenSet> {
    let secret = vault
        .get(key)?
        .ok_or_else(|| Error::LoginRequired("no single sign-on tokens are stored for this server".into()))?;
    TokenSet::from_secret(&secret)
}

/// One refresh at the identity provider (no lock, no storage).
pub(crate) async fn refresh_with(http: &Http, set: &TokenSet) -> Result<TokenSet> {
    let refresh_token = set.refresh_token.as_ref().ok_or_else(|| {
        Error::LoginRequired("the identity provider issued no refresh token (ask for the offline_access scope)".into())
    })?;
    let token_url = TokenUrl::new(set.token_endpoint.clone())
        .map_err(|e| Error::IdentityProvider(format!("the stored token endpoint is invalid: {e}")))?;
    let client = BasicClient::new(ClientId::new(set.client_id.clone())).set_token_uri(token_url);
    let token = RefreshToken::new(refresh_token.expose().to_string());
    let mut request = client.exchange_refresh_token(&token);
    // The same scopes as granted; some IdPs narrow the grant when none are named.
    request = request.add_scopes(set.scopes.iter().map(|s| Scope::new(s.clone())));
    if let Some(resource) = &set.resource {
        request = request.add_extra_param("resource", resource.clone());
    }
    let response = request.request_async(http).await.map_err(|e| match e {
        RequestTokenError::ServerResponse(r) if *r.error() == BasicErrorResponseType::InvalidGrant => {
            Error::LoginRequired(format!(
                "{} refused the refresh token ({}): the session was ended, revoked or the user disabled",
                set.issuer,
                crate::text::clean(&r.to_string(), 200)
            ))
        }
        other => token_error("the refresh", other),
    })?;
    let mut fresh = set.clone();
    // Without a new refresh token (no rotation), the one used stays valid and is kept.
    fresh.take_response(&response);
    Ok(fresh)
}

/// What [`revoke`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Revoked {
    /// The provider revoked the refresh token (and with it, at most IdPs, the session).
    Done,
    /// The provider offers no revocation endpoint; the tokens stay valid until they expire.
    NotOffered,
    /// No refresh token was held (nothing to revoke).
    NoRefreshToken,
}

/// Revokes the refresh token at the identity provider (RFC 7009). The caller deletes the
/// keychain entry afterwards, whatever this returns.
pub async fn revoke(server: &Server, set: &TokenSet, timeout: Duration) -> Result<Revoked> {
    let http = Http::for_server(server, timeout).await?;
    revoke_with(&http, set).await
}

pub(crate) async fn revoke_with(http: &Http, set: &TokenSet) -> Result<Revoked> {
    let Some(endpoint) = set.revocation_endpoint.as_deref() else { return Ok(Revoked::NotOffered) };
    let Some(refresh_token) = &set.refresh_token else { return Ok(Revoked::NoRefreshToken) };
    let url = url::Url::parse(endpoint)
        .map_err(|e| Error::IdentityProvider(format!("the stored revocation endpoint is invalid: {e}")))?;
    let token = StandardRevocableToken::RefreshToken(RefreshToken::new(refresh_token.expose().to_string()));
    if url.scheme() == "http" && is_loopback(&url) {
        // `oauth2` refuses http revocation endpoints (RFC 7009 §2 asks for https); a
        // loopback provider (a local or test IdP) never crosses a network, as RFC 8252
        // allows for loopback redirects. The same form POST, by hand.
        return revoke_loopback(http, &url, &set.client_id, refresh_token.expose()).await;
    }
    let client =
        BasicClient::new(ClientId::new(set.client_id.clone())).set_revocation_url(RevocationUrl::from_url(url));
    let request = client.revoke_token(token).map_err(|e| Error::IdentityProvider(format!("cannot revoke: {e}")))?;
    request.request_async(http).await.map_err(|e| match e {
        RequestTokenError::ServerResponse(r) => server_refusal("the revocation", &r),
        other => token_error("the revocation", other),
    })?;
    Ok(Revoked::Done)
}

async fn revoke_loopback(http: &Http, url: &url::Url, client_id: &str, token: &str) -> Result<Revoked> {
    use oauth2::http::{self, header};
    let body: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("token", token)
        .append_pair("token_type_hint", "refresh_token")
        .append_pair("client_id", client_id)
        .finish();
    let body = zeroize::Zeroizing::new(body);
    let request = http::Request::builder()
        .method(http::Method::POST)
        .uri(url.as_str())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(body.as_bytes().to_vec())
        .map_err(|e| Error::IdentityProvider(format!("cannot revoke: {e}")))?;
    let reply = http.send(request).await?;
    // RFC 7009 §2.2: 200 whether or not the token was valid.
    if reply.status() == 200 {
        Ok(Revoked::Done)
    } else {
        Err(Error::IdentityProvider(format!("the identity provider refused the revocation: HTTP {}", reply.status())))
    }
}

/// The lock file of a keychain entry: `refresh-HASH.lock` (HASH: the first 16 bytes of
/// the SHA-256 of service and account, so no URL or user name shows in a file name) in
/// the config dir.
pub(crate) fn lock_file(key: &EntryKey, dir: &Path) -> PathBuf {
    let name = sha256_hex(&[key.service.as_bytes(), key.account.as_bytes()], 16);
    dir.join(format!("refresh-{name}.lock"))
}

/// Holds the refresh lock of `key` in `dir` (released when the file is dropped): a login,
/// a logout, a rename or a removal that replaces, moves or deletes a token set takes it, so
/// a refresh in flight cannot write an old session back after them.
///
/// `dir` is the config dir of the caller's [`crate::Paths`], the one folder every front end
/// shares (the tray, a shell, a cron job without `XDG_RUNTIME_DIR`, a notebook started by an
/// IDE): a lock in `$XDG_RUNTIME_DIR` would not be seen by a process that lacks the
/// variable, and two refreshes of one rotating token end the session.
pub(crate) async fn hold(key: &EntryKey, dir: &Path) -> Result<File> {
    lock(&lock_file(key, dir), RefreshOptions::default().lock_wait).await
}

/// [`hold`] for blocking code (the config's own operations run on a blocking thread); a
/// refresh holds the lock for one bounded request, so the wait is bounded too.
pub(crate) fn hold_blocking(key: &EntryKey, dir: &Path) -> Result<File> {
    let path = lock_file(key, dir);
    let file = open_private_file(&path)?;
    file.lock().map_err(|e| Error::io(&path, e))?;
    Ok(file)
}

/// Takes the exclusive lock, polling without blocking a thread, for at most `wait`.
async fn lock(path: &Path, wait: Duration) -> Result<File> {
    let file = open_private_file(path)?;
    let deadline = tokio::time::Instant::now() + wait;
    let mut pause = Duration::from_millis(10);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(path, e)),
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::TimedOut { what: "another process's token refresh", seconds: wait.as_secs() });
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::ErrorKind;
    use crate::oidc::http::json_reply;
    use crate::oidc::tokens::tests::sample;
    use crate::vault::MemoryVault;

    fn key() -> EntryKey {
        EntryKey { service: "test:https://h/mlflow".into(), account: "token".into() }
    }

    /// A token endpoint that rotates: each refresh answers `at-N` / `rt-N`, and a reused
    /// refresh token gets `invalid_grant`.
    fn rotating(calls: Arc<AtomicUsize>) -> Http {
        let used = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        Http::fake(move |request| {
            let body = String::from_utf8(request.body().clone()).unwrap();
            let token = url::form_urlencoded::parse(body.as_bytes())
                .find(|(k, _)| k == "refresh_token")
                .map(|(_, v)| v.into_owned())
                .unwrap();
            let mut used = used.lock().unwrap();
            if used.contains(&token) {
                return Ok(json_reply(
                    400,
                    r#"{"error": "invalid_grant", "error_description": "grant request is invalid"}"#,
                ));
            }
            used.push(token);
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(json_reply(
                200,
                &format!(
                    r#"{{"access_token": "at-{n}", "refresh_token": "rt-{n}", "token_type": "Bearer", "expires_in": 3600}}"#
                ),
            ))
        })
    }

    #[test]
    fn lock_file_names_hide_the_entry() {
        let path = lock_file(&key(), Path::new("/run/user/1/mlflow-login"));
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("refresh-") && name.ends_with(".lock") && name.len() == 8 + 32 + 5, "{name}");
        let other = EntryKey { account: "alice".into(), ..key() };
        assert_ne!(lock_file(&other, Path::new("/x")).file_name(), path.file_name());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_refreshers_make_one_refresh() {
        let dir = tempfile::tempdir().unwrap();
        let lock_path = lock_file(&key(), dir.path());
        let vault = Arc::new(MemoryVault::default());
        // Expired an hour ago.
        let expired = sample(now_unix() - 7200, Some(3600));
        vault.set(&key(), &expired.to_secret()).unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let http = rotating(calls.clone());
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let (vault, http, lock_path, held) =
                (vault.clone(), http.clone(), lock_path.clone(), expired.fingerprint());
            tasks.push(tokio::spawn(async move {
                let opts = RefreshOptions::default();
                locked(&held, &*vault, &key(), &lock_path, &opts, || async { Ok(http) }).await.unwrap()
            }));
        }
        let mut how = Vec::new();
        for task in tasks {
            let (set, refreshed) = task.await.unwrap();
            assert_eq!(set.access_token.expose(), "at-1");
            assert_eq!(set.refresh_token.as_ref().unwrap().expose(), "rt-1");
            how.push(refreshed);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        how.sort_by_key(|r| *r == Refreshed::Now);
        assert_eq!(
            how,
            [Refreshed::ByAnotherProcess, Refreshed::ByAnotherProcess, Refreshed::ByAnotherProcess, Refreshed::Now]
        );
        let stored = TokenSet::from_secret(&vault.get(&key()).unwrap().unwrap()).unwrap();
        assert_eq!(stored.refresh_token.unwrap().expose(), "rt-1");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&lock_path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn refused_together_make_one_refresh() {
        let dir = tempfile::tempdir().unwrap();
        let lock_path = lock_file(&key(), dir.path());
        let vault = Arc::new(MemoryVault::default());
        // Fresh by its expiry, but the server refused it (revoked, say).
        let refused = sample(now_unix(), Some(3600));
        vault.set(&key(), &refused.to_secret()).unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let http = rotating(calls.clone());
        let run = |fingerprint: Fingerprint| {
            let (vault, http, lock_path) = (vault.clone(), http.clone(), lock_path.clone());
            async move {
                let opts = RefreshOptions { refused: Some(fingerprint), ..RefreshOptions::default() };
                refresh_at(&*vault, &key(), &lock_path, &opts, read(&*vault, &key()).unwrap(), || async { Ok(http) })
                    .await
                    .unwrap()
            }
        };
        // Four processes refused together, each reading the keychain when it gets to it
        // (before or after the first one's refresh).
        let tasks: Vec<_> = (0..4).map(|_| tokio::spawn(run(refused.fingerprint()))).collect();
        let mut how = Vec::new();
        for task in tasks {
            let (set, refreshed) = task.await.unwrap();
            assert_eq!(set.access_token.expose(), "at-1");
            how.push(refreshed);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        how.sort_by_key(|r| *r == Refreshed::Now);
        assert_eq!(how, [Refreshed::ByAnotherProcess; 3].into_iter().chain([Refreshed::Now]).collect::<Vec<_>>());
        // A fifth that starts afterwards: the token it was refused is gone, no lock needed.
        std::fs::remove_file(&lock_path).unwrap();
        let (set, refreshed) = run(refused.fingerprint()).await;
        assert_eq!((set.access_token.expose(), refreshed), ("at-1", Refreshed::ByAnotherProcess));
        assert!(!lock_path.exists(), "the lock was taken");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // The new token refused too: one more refresh.
        let (set, refreshed) = run(set.fingerprint()).await;
        assert_eq!((set.access_token.expose(), refreshed), ("at-2", Refreshed::Now));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // A plain "refresh now" after that refresh cannot tell: it refreshes again.
        let opts = RefreshOptions { force: true, ..RefreshOptions::default() };
        let (set, refreshed) =
            refresh_at(&*vault, &key(), &lock_path, &opts, read(&*vault, &key()).unwrap(), || async {
                Ok(http.clone())
            })
            .await
            .unwrap();
        assert_eq!((set.access_token.expose(), refreshed), ("at-3", Refreshed::Now));
    }

    #[tokio::test]
    async fn a_response_without_expires_in_takes_the_jwt_expiry() {
        let exp = now_unix() + 600;
        let token = crate::oidc::tokens::tests::jwt(&format!(r#"{{"sub":"alice","exp":{exp}}}"#));
        let answer = format!(r#"{{"access_token": "{token}", "refresh_token": "rt-2", "token_type": "Bearer"}}"#);
        let http = Http::fake(move |_| Ok(json_reply(200, &answer)));
        let old = sample(now_unix() - 7200, Some(3600));
        let new = refresh_with(&http, &old).await.unwrap();
        assert_eq!(new.expires_at, Some(exp));
        assert!(!new.is_near_expiry(now_unix()));
        assert_eq!(new.refresh_due_at(), Some(exp - new.refresh_margin()));
        assert_eq!(new.refresh_margin(), 60);
        // An opaque token without expires_in: no known expiry.
        let http = Http::fake(|_| Ok(json_reply(200, r#"{"access_token": "opaque", "token_type": "Bearer"}"#)));
        let new = refresh_with(&http, &old).await.unwrap();
        assert_eq!(new.expires_at, None);
        assert_eq!(new.refresh_token, old.refresh_token, "no rotation: the old refresh token stays");
    }

    #[tokio::test]
    async fn a_refused_refresh_means_log_in_again() {
        let calls = Arc::new(AtomicUsize::new(0));
        let http = rotating(calls.clone());
        let old = sample(now_unix() - 7200, Some(3600));
        let new = refresh_with(&http, &old).await.unwrap();
        assert_eq!(new.access_token.expose(), "at-1");
        assert_eq!(new.issuer, old.issuer);
        assert!(!new.is_near_expiry(now_unix()));
        // The old refresh token again: reuse.
        let err = refresh_with(&http, &old).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LoginRequired, "{err}");
        assert!(!err.to_string().contains("SECRET"), "{err}");
        // No refresh token at all.
        let mut bare = old.clone();
        bare.refresh_token = None;
        assert_eq!(refresh_with(&http, &bare).await.unwrap_err().kind(), ErrorKind::LoginRequired);
        // Other refusals are the provider's, not "log in again".
        let http = Http::fake(|_| Ok(json_reply(401, r#"{"error": "invalid_client"}"#)));
        assert_eq!(refresh_with(&http, &old).await.unwrap_err().kind(), ErrorKind::IdentityProvider);
        // Unreachable keeps its own kind.
        let http = Http::fake(|r| Err(HttpError { url: r.uri().to_string(), detail: "connection refused".into() }));
        assert_eq!(refresh_with(&http, &old).await.unwrap_err().kind(), ErrorKind::IdpUnreachable);
    }

    #[tokio::test]
    async fn nothing_stored_means_log_in_again() {
        let vault = MemoryVault::default();
        let dir = tempfile::tempdir().unwrap();
        let server = Server::new_basic("https://h/mlflow", "x").unwrap();
        let err = refresh_locked(&server, &vault, &key(), dir.path(), &RefreshOptions::default()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::LoginRequired);
        // A fresh token: no lock, no request.
        vault.set(&key(), &sample(now_unix(), Some(3600)).to_secret()).unwrap();
        let (_, how) = refresh_locked(&server, &vault, &key(), dir.path(), &RefreshOptions::default()).await.unwrap();
        assert_eq!(how, Refreshed::StillFresh);
    }

    #[tokio::test]
    async fn revocation_needs_an_endpoint_and_a_token() {
        let http = Http::fake(|_| panic!("no request expected"));
        let mut set = sample(1, Some(2));
        set.revocation_endpoint = None;
        assert_eq!(revoke_with(&http, &set).await.unwrap(), Revoked::NotOffered);
        let mut set = sample(1, Some(2));
        set.refresh_token = None;
        assert_eq!(revoke_with(&http, &set).await.unwrap(), Revoked::NoRefreshToken);
        let seen = Arc::new(std::sync::Mutex::new(String::new()));
        let log = seen.clone();
        let http = Http::fake(move |r| {
            *log.lock().unwrap() = format!("{} {}", r.uri(), String::from_utf8_lossy(r.body()));
            Ok(json_reply(200, ""))
        });
        assert_eq!(revoke_with(&http, &sample(1, Some(2))).await.unwrap(), Revoked::Done);
        let seen = seen.lock().unwrap().clone();
        assert!(seen.starts_with("https://idp.example/revoke ") && seen.contains("token=rt-SECRET-2"), "{seen}");
        assert!(seen.contains("token_type_hint=refresh_token"), "{seen}");
    }
}
