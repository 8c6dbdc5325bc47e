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
//! [`crate::login::log_in_personal_token`] signs in (the usual single sign-on login), reads the username from
//! `/users/current`, mints a token and stores username + token as the server's Basic
//! credential (auth `basic`, the keychain's `basic:USER` entry), so every front end (env,
//! hooks, the plugin, the proxy) sends it as it sends any password. The single sign-on
//! token set stays in the server's `sso:NAME` entry ([`session_key`]), for renewal only.
//!
//! | rule | why |
//! | --- | --- |
//! | Before minting, a live token the server lists that is not the one the keychain holds (its `token_prefix` is not our token's start) is replaced only with the user's yes ([`Replace`]) | Minting revokes it wherever it is used (another machine, a CI secret). |
//! | Renewed at 80 % of its life ([`PersonalToken::renew_at`]) by the next [`crate::fresh`] read ([`crate::fresh::renew_if_due`]: every command, the tray's checks), under a lock | Well before expiry, and once: two renewals would revoke each other's token. |
//! | Renewal uses the stored single sign-on session (refreshed as usual); when it has ended, the token in hand is used until it expires, then the credential is "log in again" | Renewal never opens a browser by itself. |
//! | `logout` deletes the token on the server (`DELETE /users/current/tokens/ID`, allowed with the token itself) | A token nobody holds must not stay valid for months. |

use serde_json::Value;

use crate::error::{Error, Result};
use crate::oidc::now_unix;
use crate::secret::Secret;
use crate::server::{AuthKind, Server};
use crate::vault::EntryKey;
use crate::verify::{self, VerifyOptions};

/// The lifetime asked for when none is given, in days.
pub const DEFAULT_DAYS: u32 = 90;
/// The longest lifetime mlflow-oidc-auth grants, in days.
pub const MAX_DAYS: u32 = 366;
pub use crate::server::{PersonalToken, RENEW_AT_PERCENT};

const MINT_PATH: &str = "/api/2.0/mlflow/users/access-token";
const TOKENS_PATH: &str = "/api/2.0/mlflow/users/current/tokens";
/// The name mlflow-oidc-auth gives the token [`MINT_PATH`] replaces.
const DEFAULT_TOKEN_NAME: &str = "default";
const DAY: u64 = 24 * 3600;

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
pub(crate) fn session_server(server: &Server) -> Server {
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
    let url = crate::http::endpoint(&base, &format!("{TOKENS_PATH}/{}", mine.id), None);
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
    crate::http::server_client(server, opts).await.map_err(|o| Error::invalid("url", o.summary()))
}

fn lost(e: reqwest::Error) -> Error {
    Error::invalid("url", format!("the server did not answer: {}", crate::http::error_chain(&e)))
}

/// A refusal in words: MLflow's `message` or FastAPI's `detail`, cleaned, never a token.
fn refusal(status: u16, body: &str, secret: &Secret) -> Error {
    let said = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| ["detail", "message"].iter().find_map(|k| v.get(k)?.as_str().map(str::to_string)))
        .unwrap_or_else(|| body.chars().take(200).collect());
    let said = crate::text::clean(&said.replace(secret.expose(), "(token)"), 300);
    Error::invalid("url", format!("the server answered {status}: {said}"))
}

/// The username the server knows the signed-in user by (`/users/current`).
pub(crate) async fn current_username(server: &Server, access_token: &Secret, opts: &VerifyOptions) -> Result<String> {
    let (client, base) = client(server, opts).await?;
    let url = crate::http::endpoint(&base, verify::identity::PATH, None);
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
    let url = crate::http::endpoint(&base, TOKENS_PATH, None);
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
    let s = |t: &Value, k: &str| t.get(k).and_then(Value::as_str).map(|v| crate::text::clean(v, 100));
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
pub(crate) async fn foreign_token(
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
pub(crate) async fn mint(
    server: &Server,
    access_token: &Secret,
    days: u32,
    opts: &VerifyOptions,
) -> Result<(Secret, PersonalToken)> {
    let now = now_unix();
    let expires = now + u64::from(days) * DAY;
    let (client, base) = client(server, opts).await?;
    let url = crate::http::endpoint(&base, MINT_PATH, None);
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
    use crate::fresh::{Renewal, renew_if_due};
    use crate::logins::{Activate, Logins};
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
