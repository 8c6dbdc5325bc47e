//! `fresh_credential`: the one function every front end asks for a usable credential
//! (`env`, `exec`, the shell hook, `token`, the plugin's `credential`, `status`, the tray).
//!
//! For Basic and Bearer servers that is the stored secret. For single sign-on it is the
//! access token of the stored token set, refreshed first when it is near expiry, under the
//! cross-process lock of [`crate::oidc::refresh_locked`] (identity providers rotate refresh
//! tokens and end the session when an old one is reused, so two processes must never
//! refresh at once). A refresh the provider refuses is [`crate::ErrorKind::LoginRequired`].

use crate::error::{Error, Result};
use crate::logins::Logins;
use crate::oidc::{self, Fingerprint, RefreshOptions, Refreshed, TokenSet};
use crate::secret::Secret;
use crate::server::{AuthKind, PersonalToken, Server};
use crate::vault::{EntryKey, Vault};
use crate::verify::VerifyOptions;

/// A credential ready to send.
#[derive(Debug, Clone)]
pub struct Fresh {
    /// The password, token, or (SSO) access token.
    pub secret: Secret,
    /// When it stops working (Unix seconds), for SSO access tokens whose expiry is known.
    pub expires_at: Option<u64>,
    /// When core refreshes it (Unix seconds; `TokenSet::refresh_due_at`): a caller that
    /// keeps the token (the plugin, the shell hook) asks again from then on.
    pub refresh_at: Option<u64>,
    /// For SSO: whether a refresh happened (here, or in another process meanwhile).
    pub refreshed: Option<Refreshed>,
    /// For SSO: whether a refresh token is stored (the next refresh needs no login).
    pub refreshable: bool,
    /// For SSO: the access token's fingerprint (not secret), for a caller whose request the
    /// server refuses to pass back as [`RefreshOptions::refused`].
    pub fingerprint: Option<Fingerprint>,
}

impl Fresh {
    /// A stored password or token, good until it is changed.
    pub fn stored(secret: Secret) -> Self {
        Self { secret, expires_at: None, refresh_at: None, refreshed: None, refreshable: false, fingerprint: None }
    }

    fn from_tokens(tokens: TokenSet, refreshed: Refreshed) -> Self {
        Self {
            expires_at: tokens.expires_at,
            refresh_at: tokens.refresh_due_at(),
            refreshable: tokens.refresh_token.is_some(),
            fingerprint: Some(tokens.fingerprint()),
            secret: tokens.access_token,
            refreshed: Some(refreshed),
        }
    }
}

/// A usable credential for `server`, or `None` when nothing is stored. Blocking keychain
/// calls (each bounded) and, for SSO near expiry, one bounded refresh request.
pub async fn fresh_credential<V: Vault>(logins: &Logins<V>, name: &str, server: &Server) -> Result<Option<Fresh>> {
    fresh_with(logins, name, server, &RefreshOptions::default()).await
}

/// [`fresh_credential`] with refresh options: `refused` when a server refused the token
/// with that fingerprint (refreshed unless another process did already), `force` to
/// refresh now whatever the expiry says. Neither changes anything for Basic and Bearer.
pub async fn fresh_with<V: Vault>(
    logins: &Logins<V>,
    name: &str,
    server: &Server,
    opts: &RefreshOptions,
) -> Result<Option<Fresh>> {
    if server.personal_token.is_some() {
        // A personal access token minted from single sign-on: renewed here when due.
        let now = oidc::now_unix();
        let (secret, _) = renew_if_due(logins, name, server, now, &VerifyOptions::default()).await?;
        return Ok(secret.map(Fresh::stored));
    }
    let Some(stored) = logins.secret(name, server)? else { return Ok(None) };
    if server.auth != AuthKind::Sso {
        return Ok(Some(Fresh::stored(stored)));
    }
    let stored = TokenSet::from_secret(&stored)?;
    let key = logins.entry(name, server);
    let dir = logins.store().paths().dir();
    let (tokens, refreshed) =
        oidc::refresh_locked_from(server, logins.vault() as &dyn Vault, &key, dir, opts, stored).await?;
    Ok(Some(Fresh::from_tokens(tokens, refreshed)))
}

/// [`fresh_with`] for a caller with no async runtime (the CLI's commands, the shell hook):
/// the one rule "single sign-on: refresh when due, else the stored secret". A Basic or
/// Bearer server gets its stored secret with no runtime and no network; only single
/// sign-on (and a personal access token due for renewal) starts a current-thread runtime,
/// for the bounded refresh.
pub fn fresh_now<V: Vault>(
    logins: &Logins<V>,
    name: &str,
    server: &Server,
    opts: &RefreshOptions,
) -> Result<Option<Fresh>> {
    let renewal_due = server.personal_token.is_some_and(|t| t.due(oidc::now_unix()));
    if server.auth != AuthKind::Sso && !renewal_due {
        return Ok(logins.secret(name, server)?.map(Fresh::stored));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| crate::error::Error::io("the async runtime", e))?;
    rt.block_on(fresh_with(logins, name, server, opts))
}

/// The stored token set of an SSO server (for `status`, `logout`), without refreshing.
pub fn stored_tokens<V: Vault>(logins: &Logins<V>, name: &str, server: &Server) -> Result<Option<TokenSet>> {
    logins.secret(name, server)?.map(|s| TokenSet::from_secret(&s)).transpose()
}

/// What a renewal did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renewal {
    /// Not due yet (or renewed by another process meanwhile).
    NotDue,
    /// A new token was minted and stored.
    Renewed(PersonalToken),
    /// Due, but the single sign-on session has ended (or the server refused): the token in
    /// hand works until it expires. The reason, for display.
    Failed(String),
}

/// Renews the personal access token of `name` when it is due at `now` (module docs), under
/// the lock of its keychain entry; returns the credential to use and what happened. An
/// expired token whose renewal failed is [`Error::LoginRequired`].
pub async fn renew_if_due<V: Vault>(
    logins: &Logins<V>,
    name: &str,
    server: &Server,
    now: u64,
    opts: &VerifyOptions,
) -> Result<(Option<Secret>, Renewal)> {
    let Some(token) = server.personal_token.filter(|t| t.due(now)) else {
        return Ok((logins.secret(name, server)?, Renewal::NotDue));
    };
    let dir = logins.store().paths().dir().to_path_buf();
    let key = logins.entry(name, server);
    let _lock = oidc::hold(&key, &dir).await?;
    // Another process may have renewed it while this one waited for the lock.
    let config = logins.config()?;
    let current = config.servers.get(name).cloned().ok_or_else(|| Error::NotFound(name.to_string()))?;
    if current.personal_token.is_none_or(|t| !t.due(now)) || current.username != server.username {
        return Ok((logins.secret(name, &current)?, Renewal::NotDue));
    }
    match renew(logins, name, &current, &key, &dir, token.days, opts).await {
        Ok((secret, token)) => Ok((Some(secret), Renewal::Renewed(token))),
        Err(e) if token.expired(now) => Err(Error::LoginRequired(format!(
            "the personal access token expired and could not be renewed ({e}): log in again with --sso --personal-token"
        ))),
        Err(e) => Ok((logins.secret(name, &current)?, Renewal::Failed(e.to_string()))),
    }
}

async fn renew<V: Vault>(
    logins: &Logins<V>,
    name: &str,
    server: &Server,
    key: &EntryKey,
    dir: &std::path::Path,
    days: u32,
    opts: &VerifyOptions,
) -> Result<(Secret, PersonalToken)> {
    let session = crate::pat::session_server(server);
    let session_key = EntryKey::for_server(name, &session);
    let (tokens, _) =
        oidc::refresh_locked(&session, logins.vault() as &dyn Vault, &session_key, dir, &RefreshOptions::default())
            .await?;
    let (pat, token) = crate::pat::mint(&session, &tokens.access_token, days, opts).await?;
    // The keychain first: the server has replaced the old token already.
    logins.vault().set(key, &pat)?;
    // Only the dates change (not which server is active); a server changed meanwhile (a
    // new login, a removal) keeps what it has.
    logins.store().update(|config| match config.servers.get_mut(name) {
        Some(current) if current == server => {
            current.personal_token = Some(token);
            Ok(((), false))
        }
        _ => Err(Error::invalid("name", format!("\"{name}\" was changed while its personal access token was renewed"))),
    })?;
    Ok((pat, token))
}
