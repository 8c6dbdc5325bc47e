//! Personal access tokens from single sign-on, for servers running mlflow-oidc-auth.
//!
//! R, Java, curl and CI send only a Basic password. mlflow-oidc-auth takes its users'
//! personal access tokens as that password (`username:token`), and mints one through its
//! API for a caller signed in with the identity provider (`PATCH
//! /api/2.0/mlflow/users/access-token`, `{"expiration": ISO 8601}` → `{"token",
//! "expires_at"}`, at most 366 days ahead; a caller authenticated with such a token is
//! refused, so a leaked token cannot mint its successor). The user has **one** such token:
//! minting replaces the previous one wherever it is used.
//!
//! [`log_in`] signs in (the usual single sign-on login), reads the username from
//! `/users/current`, mints a token and stores username + token as the server's Basic
//! credential (auth `basic`, the keychain's `basic:USER` entry), so every front end (env,
//! hooks, the plugin, the proxy) sends it as it sends any password. The single sign-on
//! token set stays in the server's `sso:NAME` entry ([`session_key`]), for renewal only.
//!
//! | rule | why |
//! | --- | --- |
//! | Before minting, a live token the server lists that is not the one the keychain holds (its `token_prefix` is not our token's start) is replaced only with the user's yes ([`Replace`]) | Minting revokes it wherever it is used (another machine, a CI secret). |
//! | Renewed at 80 % of its life ([`PersonalToken::renew_at`]) by the next [`crate::fresh`] read (every command, the tray's checks), under a lock | Well before expiry, and once: two renewals would revoke each other's token. |
//! | Renewal uses the stored single sign-on session (refreshed as usual); when it has ended, the token in hand is used until it expires, then the credential is "log in again" | Renewal never opens a browser by itself. |
//! | `logout` deletes the token on the server (`DELETE /users/current/tokens/ID`, allowed with the token itself) | A token nobody holds must not stay valid for months. |

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::login::{LoginInput, LoginReport, SsoSignIn, blocking};
use crate::logins::{Activate, Expect, Logins};
use crate::oidc::now_unix;
use crate::oidc::{self, LoginOptions, RefreshOptions};
use crate::secret::Secret;
use crate::server::{AuthKind, Server};
use crate::vault::{EntryKey, Vault};
use crate::verify::{self, OutcomeClass, VerifyOptions};

/// The lifetime asked for when none is given, in days.
pub const DEFAULT_DAYS: u32 = 90;
/// The longest lifetime mlflow-oidc-auth grants, in days.
pub const MAX_DAYS: u32 = 366;
/// A token is renewed once this share of its life (in percent) has passed.
pub const RENEW_AT_PERCENT: u64 = 80;

const MINT_PATH: &str = "/api/2.0/mlflow/users/access-token";
const TOKENS_PATH: &str = "/api/2.0/mlflow/users/current/tokens";
/// The name mlflow-oidc-auth gives the token [`MINT_PATH`] replaces.
const DEFAULT_TOKEN_NAME: &str = "default";
const DAY: u64 = 24 * 3600;

/// A server's personal access token, as the config keeps it (never the token itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonalToken {
    /// When it was minted (Unix seconds).
    pub minted_at: u64,
    /// When it stops working (Unix seconds), as the server said.
    pub expires_at: u64,
    /// The lifetime asked for, in days (renewals ask the same).
    pub days: u32,
}

impl PersonalToken {
    /// When it is renewed: at [`RENEW_AT_PERCENT`] of its life.
    pub fn renew_at(&self) -> u64 {
        let life = self.expires_at.saturating_sub(self.minted_at);
        self.minted_at + life * RENEW_AT_PERCENT / 100
    }

    /// Whether it is due for renewal at `now` (Unix seconds).
    pub fn due(&self, now: u64) -> bool {
        now >= self.renew_at()
    }

    /// Whether it has expired at `now`.
    pub fn expired(&self, now: u64) -> bool {
        now >= self.expires_at
    }
}

/// A lifetime in days, checked: 1 to [`MAX_DAYS`].
pub fn validate_days(days: u32) -> Result<u32> {
    if (1..=MAX_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(Error::invalid("days", format!("a personal access token lives 1 to {MAX_DAYS} days (asked: {days})")))
    }
}

/// The keychain entry holding the single sign-on token set of a server whose credential is
/// a personal access token (the entry a single sign-on server of that name would use).
pub fn session_key(name: &str, server: &Server) -> EntryKey {
    EntryKey::for_server(name, &session_server(server))
}

/// The server as a single sign-on server: how its session is refreshed and verified.
fn session_server(server: &Server) -> Server {
    Server { auth: AuthKind::Sso, personal_token: None, ..server.clone() }
}

/// A live token of the user's that the server lists and that is not the one the keychain
/// holds: minting replaces it. Server text, cleaned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    /// Its name at the server (`default` is the one minting replaces).
    pub name: String,
    /// When it expires, as the server wrote it.
    pub expires_at: Option<String>,
    /// When it was last used, as the server wrote it.
    pub last_used_at: Option<String>,
}

/// What to do about an [`Existing`] token.
pub enum Replace<'a> {
    /// Ask the user (a terminal's yes or no).
    Ask(&'a (dyn Fn(&Existing) -> bool + Sync)),
    /// Replace it (`--replace-token`).
    Yes,
    /// Refuse: nothing minted.
    Refuse,
}

impl std::fmt::Debug for Replace<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Replace::Ask(_) => "Ask",
            Replace::Yes => "Yes",
            Replace::Refuse => "Refuse",
        })
    }
}

/// The token a login mints: its lifetime, and what to do about one the user already has.
#[derive(Debug)]
pub struct Minting<'a> {
    /// Days, 1 to [`MAX_DAYS`].
    pub days: u32,
    /// A token the user has that MLflow Login did not mint.
    pub replace: Replace<'a>,
}

/// The field of the error when a token that MLflow Login did not mint was not replaced.
pub const NOT_REPLACED_FIELD: &str = "replace_token";

/// What [`log_in`] did.
#[derive(Debug)]
pub struct PatReport {
    /// The single sign-on login (its check is the access token's).
    pub login: LoginReport,
    /// The minted token, when one was stored.
    pub token: Option<PersonalToken>,
}

/// Signs in with single sign-on ([`crate::login::log_in_sso`]), then mints a personal
/// access token of `minting.days` days and stores it as the server's Basic credential
/// (module docs). A sign-in the server refused is returned as is (nothing stored). A token
/// the user already has and did not get from MLflow Login is replaced only as
/// `minting.replace` says; refused, nothing is minted, the error is on
/// [`NOT_REPLACED_FIELD`], and the server stays what it was: a personal-token server keeps
/// its token, a new or single sign-on server is a single sign-on server (the sign-in is kept).
pub async fn log_in<V: Vault + 'static>(
    logins: &Arc<Logins<V>>,
    mut input: LoginInput,
    sign_in: SsoSignIn<'_>,
    cancel: impl std::future::Future<Output = ()>,
    sso_opts: &LoginOptions,
    opts: &VerifyOptions,
    minting: Minting<'_>,
) -> Result<PatReport> {
    let Minting { days, replace } = minting;
    let days = validate_days(days)?;
    let name = input.name.clone();
    // The token the keychain holds for this server now: "ours" when the server lists it.
    let config = blocking(logins, |l| l.config()).await?;
    let known_server = config.servers.get(&name).filter(|k| k.personal_token.is_some()).cloned();
    let held = match &known_server {
        Some(known) => {
            let (n, k) = (name.clone(), known.clone());
            blocking(logins, move |l| l.secret(&n, &k)).await?
        }
        None => None,
    };
    input.auth = Some(AuthKind::Sso);
    let activate = input.activate;
    let login = crate::login::log_in_sso(logins, input, sign_in, cancel, sso_opts, opts).await?;
    if !login.is_saved() {
        return Ok(PatReport { login, token: None });
    }
    let sso_server = login.server.clone();
    let (n, s) = (name.clone(), sso_server.clone());
    let tokens = blocking(logins, move |l| crate::fresh::stored_tokens(l, &n, &s))
        .await?
        .ok_or_else(|| Error::LoginRequired("the single sign-on tokens were not stored".into()))?;
    let username = current_username(&sso_server, &tokens.access_token, opts).await?;
    if let Some(existing) = foreign_token(&sso_server, &tokens.access_token, held.as_ref(), opts).await? {
        let yes = match replace {
            Replace::Yes => true,
            Replace::Refuse => false,
            Replace::Ask(ask) => ask(&existing),
        };
        if !yes {
            if let Some(held) = held {
                // The server was a personal-token server: it stays one, with the token in
                // hand and the new session for its renewal.
                restore(logins, &name, known_server.clone(), held, sso_server, tokens.to_secret()).await?;
            }
            return Err(Error::invalid(
                NOT_REPLACED_FIELD,
                format!(
                    "{username} already has a personal access token (\"{}\") that MLflow Login did not mint; minting one revokes it wherever it is used, so none was minted (single sign-on is kept)",
                    existing.name
                ),
            ));
        }
    }
    let (pat, token) = mint(&sso_server, &tokens.access_token, days, opts).await?;
    let server = Server {
        auth: AuthKind::Basic,
        username: Some(username.clone()),
        personal_token: Some(token),
        ..sso_server.clone()
    };
    let verification = verify::verify(&server, Some(&pat), opts).await;
    if verification.class() != OutcomeClass::Ok {
        return Err(Error::invalid(
            "url",
            format!("the server refused the personal access token it minted: {}", verification.outcome.summary()),
        ));
    }
    let record = crate::checks::CheckRecord::new(&server, &verification);
    let (n, to_save, set, to_record) = (name.clone(), server.clone(), tokens.to_secret(), record.clone());
    let session = session_key(&name, &server);
    let saved = blocking(logins, move |l| {
        let saved = l.save_expecting(&n, to_save, Some(&pat), activate, &Expect::Unchanged(sso_server))?;
        // The save dropped the single sign-on entry (the server's kind changed): the session
        // stays, for renewal.
        l.vault().set(&session, &set)?;
        l.checks().record(&n, to_record).map(drop)?;
        Ok(saved)
    })
    .await?;
    // "Added" when the sign-in added the server.
    let saved = crate::logins::Saved { created: login.saved.as_ref().is_some_and(|s| s.created), active: saved.active };
    let login =
        LoginReport { server, verification: Some(verification), check: Some(record), saved: Some(saved), ..login };
    Ok(PatReport { login, token: Some(token) })
}

/// Puts a personal-token server back as it was (its token `held`) after a sign-in saved it
/// as a single sign-on server, keeping the new session (`set`) for renewal.
async fn restore<V: Vault + 'static>(
    logins: &Arc<Logins<V>>,
    name: &str,
    known: Option<Server>,
    held: Secret,
    sso_server: Server,
    set: Secret,
) -> Result<()> {
    let Some(known) = known else { return Ok(()) };
    let n = name.to_string();
    let session = session_key(name, &known);
    blocking(logins, move |l| {
        l.save_expecting(&n, known, Some(&held), Activate::IfNone, &Expect::Unchanged(sso_server))?;
        l.vault().set(&session, &set)
    })
    .await
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
    let session = session_server(server);
    let session_key = EntryKey::for_server(name, &session);
    let (tokens, _) =
        oidc::refresh_locked(&session, logins.vault() as &dyn Vault, &session_key, dir, &RefreshOptions::default())
            .await?;
    let (pat, token) = mint(&session, &tokens.access_token, days, opts).await?;
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

/// Deletes the personal access token `pat` of `server` on the server (found by its
/// prefix in the user's token list, deleted with the token itself as the credential).
/// `Ok(false)`: the server lists no such token (expired, replaced, or a server without
/// the list).
pub async fn revoke(server: &Server, pat: &Secret, opts: &VerifyOptions) -> Result<bool> {
    let username = server.username.clone().unwrap_or_default();
    let auth = Auth::Basic(&username, pat);
    let Some(listed) = list(server, &auth, opts).await? else { return Ok(false) };
    let Some(mine) = listed.iter().find(|t| t.is_prefix_of(pat)) else { return Ok(false) };
    let (client, base) = client(server, opts).await?;
    let url = verify::transport::endpoint(&base, &format!("{TOKENS_PATH}/{}", mine.id), None);
    let response = auth.apply(client.delete(url)).timeout(opts.total_timeout).send().await.map_err(lost)?;
    match response.status().as_u16() {
        200..=299 => Ok(true),
        404 => Ok(false),
        status => Err(refusal(status, &response.text().await.unwrap_or_default(), pat)),
    }
}

// ---------------------------------------------------------------------------------------
// The server's API.

enum Auth<'a> {
    Bearer(&'a Secret),
    Basic(&'a str, &'a Secret),
}

impl Auth<'_> {
    fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let request = request.header(reqwest::header::ACCEPT, "application/json");
        match self {
            Auth::Bearer(token) => request.bearer_auth(token.expose()),
            Auth::Basic(user, token) => request.basic_auth(user, Some(token.expose())),
        }
    }
}

/// One token of the user's list (never its secret: the first characters only).
#[derive(Debug)]
struct Listed {
    id: i64,
    name: String,
    prefix: String,
    expires_at: Option<String>,
    last_used_at: Option<String>,
    active: bool,
}

impl Listed {
    /// Whether `token` is this one: mlflow-oidc-auth 11 writes tokens as
    /// `mlf_PREFIX_SECRET` and lists `PREFIX`; a server that lists the token's first
    /// characters instead is matched too.
    fn is_prefix_of(&self, token: &Secret) -> bool {
        let token = token.expose();
        !self.prefix.is_empty()
            && (token.starts_with(&self.prefix) || token.split('_').nth(1) == Some(self.prefix.as_str()))
    }
}

async fn client(server: &Server, opts: &VerifyOptions) -> Result<(reqwest::Client, url::Url)> {
    verify::transport::server_client(server, opts).await.map_err(|o| Error::invalid("url", o.summary()))
}

fn lost(e: reqwest::Error) -> Error {
    Error::invalid("url", format!("the server did not answer: {}", verify::error_chain(&e)))
}

/// A refusal in words: MLflow's `message` or FastAPI's `detail`, cleaned, never a token.
fn refusal(status: u16, body: &str, secret: &Secret) -> Error {
    let said = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| ["detail", "message"].iter().find_map(|k| v.get(k)?.as_str().map(str::to_string)))
        .unwrap_or_else(|| body.chars().take(200).collect());
    let said = verify::clean(&said.replace(secret.expose(), "(token)"), 300);
    Error::invalid("url", format!("the server answered {status}: {said}"))
}

/// The username the server knows the signed-in user by (`/users/current`).
async fn current_username(server: &Server, access_token: &Secret, opts: &VerifyOptions) -> Result<String> {
    let (client, base) = client(server, opts).await?;
    let url = verify::transport::endpoint(&base, verify::identity::PATH, None);
    let response =
        Auth::Bearer(access_token).apply(client.get(url)).timeout(opts.total_timeout).send().await.map_err(lost)?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(lost)?;
    let reply = verify::classify::Reply {
        status,
        headers: reqwest::header::HeaderMap::new(),
        truncated: body.len() > verify::identity::BODY_CAP,
        body: body.to_vec(),
    };
    let identity = verify::identity::parse(&reply).ok_or_else(|| {
        Error::invalid(
            "url",
            format!(
                "the server does not say who you are ({} answered {status}): personal access tokens need mlflow-oidc-auth",
                verify::identity::PATH
            ),
        )
    })?;
    crate::server::validate_username(&identity.username)?;
    Ok(identity.username)
}

/// The user's tokens; `None` when the server has no list (mlflow-oidc-auth before 11).
async fn list(server: &Server, auth: &Auth<'_>, opts: &VerifyOptions) -> Result<Option<Vec<Listed>>> {
    let (client, base) = client(server, opts).await?;
    let url = verify::transport::endpoint(&base, TOKENS_PATH, None);
    let response = auth.apply(client.get(url)).timeout(opts.total_timeout).send().await.map_err(lost)?;
    let status = response.status().as_u16();
    if matches!(status, 404 | 405) {
        return Ok(None);
    }
    let text = response.text().await.map_err(lost)?;
    if status != 200 {
        let secret = match auth {
            Auth::Bearer(s) | Auth::Basic(_, s) => s,
        };
        return Err(refusal(status, &text, secret));
    }
    Ok(Some(parse_list(&text)))
}

fn parse_list(text: &str) -> Vec<Listed> {
    let body: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let s = |t: &Value, k: &str| t.get(k).and_then(Value::as_str).map(|v| verify::clean(v, 100));
    body.get("tokens")
        .and_then(Value::as_array)
        .map(|tokens| {
            tokens
                .iter()
                .filter_map(|t| {
                    Some(Listed {
                        id: t.get("id")?.as_i64()?,
                        name: s(t, "name").unwrap_or_default(),
                        prefix: t.get("token_prefix").and_then(Value::as_str).unwrap_or_default().to_string(),
                        expires_at: s(t, "expires_at"),
                        last_used_at: s(t, "last_used_at"),
                        active: t.get("active").and_then(Value::as_bool).unwrap_or(true),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The live token minting would replace, unless it is the one the keychain holds.
async fn foreign_token(
    server: &Server,
    access_token: &Secret,
    held: Option<&Secret>,
    opts: &VerifyOptions,
) -> Result<Option<Existing>> {
    let Some(listed) = list(server, &Auth::Bearer(access_token), opts).await? else { return Ok(None) };
    Ok(listed
        .into_iter()
        .find(|t| t.active && t.name == DEFAULT_TOKEN_NAME && !held.is_some_and(|h| t.is_prefix_of(h)))
        .map(|t| Existing { name: t.name, expires_at: t.expires_at, last_used_at: t.last_used_at }))
}

/// Mints a token of `days` days with the signed-in user's access token.
async fn mint(
    server: &Server,
    access_token: &Secret,
    days: u32,
    opts: &VerifyOptions,
) -> Result<(Secret, PersonalToken)> {
    let now = now_unix();
    let expires = now + u64::from(days) * DAY;
    let (client, base) = client(server, opts).await?;
    let url = verify::transport::endpoint(&base, MINT_PATH, None);
    let body = serde_json::json!({ "expiration": iso8601(expires) }).to_string();
    let response = Auth::Bearer(access_token)
        .apply(client.patch(url))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .timeout(opts.total_timeout)
        .body(body)
        .send()
        .await
        .map_err(lost)?;
    let status = response.status().as_u16();
    let text = zeroize::Zeroizing::new(response.text().await.map_err(lost)?);
    if status != 200 {
        return Err(refusal(status, &text, access_token));
    }
    let answer: Value = serde_json::from_str(&text)
        .map_err(|_| Error::invalid("url", "the server's answer to the token request is not JSON"))?;
    let pat = answer
        .get("token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(|t| Secret::new(t.to_string()))
        .ok_or_else(|| Error::invalid("url", "the server's answer to the token request holds no token"))?;
    // The server's own expiry when it says one (it may round), else the one asked for.
    let expires_at = answer.get("expires_at").and_then(Value::as_str).and_then(parse_time).unwrap_or(expires);
    Ok((pat, PersonalToken { minted_at: now, expires_at, days }))
}

/// A Unix time as a UTC date (`2027-01-31`), for display.
pub fn date(unix: u64) -> String {
    iso8601(unix)[..10].to_string()
}

fn iso8601(unix: u64) -> String {
    let t = chrono::DateTime::from_timestamp(i64::try_from(unix).unwrap_or(i64::MAX), 0).unwrap_or_default();
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn parse_time(text: &str) -> Option<u64> {
    let t = chrono::DateTime::parse_from_rfc3339(text).map(|t| t.timestamp()).ok().or_else(|| {
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").ok().map(|t| t.and_utc().timestamp())
    })?;
    u64::try_from(t).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ConfigStore, Paths};
    use crate::vault::MemoryVault;

    /// A personal-token server (at a port nothing listens on) whose token was minted at
    /// `minted_at` for 90 days, with `stored` as its password and no single sign-on session.
    fn pat_server(minted_at: u64) -> (tempfile::TempDir, Logins<MemoryVault>, Server) {
        let dir = tempfile::tempdir().unwrap();
        let logins = Logins::new(ConfigStore::new(Paths::in_dir(dir.path())), MemoryVault::default());
        let mut server = Server::new_basic("http://127.0.0.1:9", "alice@example.test").unwrap();
        server.sso = Some(crate::server::SsoSettings {
            issuer: Some("http://127.0.0.1:9".into()),
            client_id: Some("c".into()),
            ..Default::default()
        });
        server.personal_token = Some(PersonalToken { minted_at, expires_at: minted_at + 90 * DAY, days: 90 });
        logins.save("oa", server.clone(), Some(&Secret::new("mlf_aaaa_stored".into())), Activate::IfNone).unwrap();
        (dir, logins, server)
    }

    fn renew_at(logins: &Logins<MemoryVault>, server: &Server, now: u64) -> Result<(Option<Secret>, Renewal)> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let opts = VerifyOptions { total_timeout: std::time::Duration::from_secs(2), ..VerifyOptions::default() };
        rt.block_on(renew_if_due(logins, "oa", server, now, &opts))
    }

    #[test]
    fn a_token_is_renewed_only_from_eighty_percent_of_its_life_and_kept_until_it_expires() {
        let minted = 1_000_000;
        let (_dir, logins, server) = pat_server(minted);
        // Before 80 %: the stored token, no request (nothing listens at the server's port).
        let (secret, renewal) = renew_at(&logins, &server, minted + 72 * DAY - 1).unwrap();
        assert_eq!((secret.unwrap().expose(), renewal), ("mlf_aaaa_stored", Renewal::NotDue));
        // Due, but no session to renew with: the token in hand, and why it was not renewed.
        let (secret, renewal) = renew_at(&logins, &server, minted + 72 * DAY).unwrap();
        assert_eq!(secret.unwrap().expose(), "mlf_aaaa_stored");
        assert!(matches!(renewal, Renewal::Failed(_)), "{renewal:?}");
        // Expired and not renewable: log in again.
        let err = renew_at(&logins, &server, minted + 90 * DAY).unwrap_err();
        assert!(matches!(err, Error::LoginRequired(_)), "{err}");
        assert!(err.to_string().contains("--personal-token"), "{err}");
    }

    fn token(minted_at: u64, days: u64) -> PersonalToken {
        PersonalToken { minted_at, expires_at: minted_at + days * DAY, days: u32::try_from(days).unwrap_or(0) }
    }

    #[test]
    fn renewal_is_due_at_eighty_percent_of_the_life() {
        let t = token(1_000_000, 90);
        assert_eq!(t.renew_at(), 1_000_000 + 72 * DAY);
        assert!(!t.due(1_000_000 + 72 * DAY - 1));
        assert!(t.due(1_000_000 + 72 * DAY));
        assert!(!t.expired(1_000_000 + 89 * DAY));
        assert!(t.expired(1_000_000 + 90 * DAY));
        let t = token(0, 10);
        assert_eq!(t.renew_at(), 8 * DAY);
        // A token whose expiry is before its mint date (a clock that jumped) is due at once.
        let odd = PersonalToken { minted_at: 100, expires_at: 50, days: 1 };
        assert!(odd.due(100));
    }

    #[test]
    fn a_lifetime_is_one_to_366_days() {
        assert_eq!(validate_days(90).unwrap(), 90);
        assert_eq!(validate_days(366).unwrap(), 366);
        for bad in [0, 367, 1000] {
            assert!(matches!(validate_days(bad), Err(Error::InvalidInput { field: "days", .. })), "{bad}");
        }
    }

    #[test]
    fn expiries_are_written_and_read_as_iso_8601_utc() {
        assert_eq!(iso8601(1_801_389_600), "2027-01-31T10:00:00Z");
        assert_eq!(parse_time("2027-01-31T10:00:00Z"), Some(1_801_389_600));
        assert_eq!(parse_time("2027-01-31T10:00:00.123456"), Some(1_801_389_600));
        assert_eq!(parse_time("2027-01-31T11:00:00+01:00"), Some(1_801_389_600));
        assert_eq!(parse_time("soon"), None);
    }

    #[test]
    fn the_token_list_is_read_leniently_and_matched_by_prefix() {
        let list = parse_list(
            r#"{"tokens": [{"id": 3, "name": "default", "token_prefix": "mlp_ab", "expires_at": "2027-01-31T10:00:00+00:00",
                "last_used_at": null, "active": true}, {"id": "x"}, {"id": 4, "name": "ci\u001b[31m", "token_prefix": ""}]}"#,
        );
        assert_eq!(list.len(), 2);
        assert!(list[0].is_prefix_of(&Secret::new("mlp_abcdef".into())));
        let list11 = parse_list(r#"{"tokens": [{"id": 1, "name": "default", "token_prefix": "75f7ec68"}]}"#);
        assert!(list11[0].is_prefix_of(&Secret::new("mlf_75f7ec68_9eIRPfOC".into())), "mlflow-oidc-auth 11's form");
        assert!(!list11[0].is_prefix_of(&Secret::new("mlf_75f7ec69_75f7ec68".into())));
        assert!(!list[0].is_prefix_of(&Secret::new("mlp_xyz".into())));
        assert!(!list[1].is_prefix_of(&Secret::new("anything".into())), "an empty prefix matches nothing");
        assert_eq!(list[1].name, "ci [31m");
        assert!(parse_list("<html>").is_empty());
    }

    #[test]
    fn a_refusal_never_repeats_the_token() {
        let secret = Secret::new("sekrit-token-value".into());
        let e = refusal(400, r#"{"detail": "bad token sekrit-token-value"}"#, &secret);
        assert!(!e.to_string().contains("sekrit"), "{e}");
        assert!(e.to_string().contains("400"), "{e}");
    }
}
