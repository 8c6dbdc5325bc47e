//! The use case "log in to a server", once, for every front end.
//!
//! The CLI's `login` and the tray's login dialog both build a [`LoginInput`] and call
//! [`log_in`]; neither decides anything else. The steps: merge the input with the known
//! server ([`LoginInput::plan`], the table below), verify the credentials with one request,
//! store them (keychain first, then the config), record the check where the tray reads it,
//! and activate the server when asked (or when it is the first).
//!
//! # What a login keeps, changes and drops
//!
//! | setting | add (new name) | edit, same origin | edit, URL moves to another origin |
//! | --- | --- | --- | --- |
//! | URL | required | input, else kept | input |
//! | auth kind | input, else Basic | input, else kept | input, else kept |
//! | username | input (Basic: required) | `Set`/`Clear`, else kept | `Set`/`Clear`, else kept |
//! | CA bundle | input | `Set`/`Clear`, else kept | `Set`/`Clear`, else **dropped** |
//! | client certificate | input | `Set`/`Clear`, else kept | `Set`/`Clear`, else **dropped** |
//! | insecure TLS | input, else off | input, else kept | input, else **off** |
//! | SSO issuer, client id, scopes, redirect port | input (else discovered) | input, else kept | input, else rediscovered (the port: dropped) |
//!
//! "Origin" is scheme, host and port: a new sub-path on the same host keeps the TLS
//! settings, a new host does not inherit a client certificate (and its key), a CA bundle or
//! an "insecure" flag that were set for another server. What was dropped is reported
//! ([`LoginReport::dropped`]) so the front end can say so. A setting is turned off only by
//! an explicit `Clear` / `Some(false)` (the CLI's `--no-ca-bundle`, `--no-client-cert`,
//! `--no-insecure-tls`; the dialog sends every field it shows).
//!
//! Adding never destroys: [`LoginMode::Add`] refuses a name that exists (error on the
//! `name` field) before anything is written. [`LoginMode::Edit`] needs the server to exist,
//! and saves only if its settings are still the ones the plan was made from: a sign-in can
//! wait minutes for the browser, and a change made meanwhile (the tray, another command, a
//! rename or a removal) is never overwritten; the login then stores nothing and says so (an
//! SSO login revokes the tokens it got).
//!
//! Single sign-on ([`log_in_sso`]) is the same use case with another proof: instead of a
//! typed secret, the identity provider is found (unless given), the user signs in through
//! [`crate::oidc::login`], and the token set is what is verified (its access token) and
//! stored. A server switched away from SSO forgets its SSO settings.
//!
//! Nothing is stored unless the server accepted the credentials, or the caller asked to
//! save without checking. A failed check is returned, not recorded: the record of a server
//! describes its *stored* credentials, which a rejected attempt did not replace.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::checks::CheckRecord;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::logins::{Activate, Expect, Logins, Saved};
use crate::oidc::{self, Flow, Interaction, LoginOptions, Overrides};
use crate::secret::Secret;
use crate::server::{AuthKind, Server, SsoSettings, normalize_url, validate_name, validate_username};
use crate::vault::Vault;
use crate::verify::{OutcomeClass, Verification, VerifyOptions, verify};

/// Adding a new server, or changing a known one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginMode {
    /// A new server: a name that exists is refused.
    Add,
    /// A known server ("log in again", a new password, new settings).
    Edit,
}

/// How an optional setting changes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Change<T> {
    /// Keep what the server has (dropped when the URL moves to another origin, for the
    /// TLS files: see the module table).
    #[default]
    Keep,
    /// Set this value.
    Set(T),
    /// Turn the setting off.
    Clear,
}

impl<T> Change<T> {
    /// `Set(v)` for `Some(v)`, `Keep` for `None`.
    pub fn set_or_keep(value: Option<T>) -> Self {
        value.map_or(Change::Keep, Change::Set)
    }

    /// `Set(v)` for `Some(v)`, `Clear` for `None` (a form that shows the field).
    pub fn set_or_clear(value: Option<T>) -> Self {
        value.map_or(Change::Clear, Change::Set)
    }
}

/// A setting that a login did not keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Setting {
    /// The CA bundle.
    CaBundle,
    /// The client certificate.
    ClientCert,
    /// Insecure TLS.
    InsecureTls,
}

impl Setting {
    /// The setting in words.
    pub fn label(self) -> &'static str {
        match self {
            Setting::CaBundle => "the CA bundle",
            Setting::ClientCert => "the client certificate",
            Setting::InsecureTls => "insecure TLS",
        }
    }
}

/// Everything a front end knows about a login attempt.
#[derive(Debug)]
pub struct LoginInput {
    /// The server's short name.
    pub name: String,
    /// Add or edit.
    pub mode: LoginMode,
    /// The tracking URL (`None`: keep the known one).
    pub url: Option<String>,
    /// The username (empty is `Clear`).
    pub username: Change<String>,
    /// The auth kind (`None`: keep, or Basic for a new server).
    pub auth: Option<AuthKind>,
    /// The CA bundle file.
    pub ca_bundle: Change<PathBuf>,
    /// The client certificate file.
    pub client_cert: Change<PathBuf>,
    /// Insecure TLS (`None`: keep).
    pub insecure_tls: Option<bool>,
    /// Single sign-on settings given by the user (each `None`/empty field: keep, or find).
    pub sso: SsoSettings,
    /// The password or token (empty for [`log_in_sso`]).
    pub secret: Secret,
    /// Check the credentials against the server before storing them.
    pub verify: bool,
    /// Whether the server becomes the active one.
    pub activate: Activate,
}

/// The server a login would save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The merged settings.
    pub server: Server,
    /// Settings of the known server that were not kept (the URL moved to another origin).
    pub dropped: Vec<Setting>,
}

impl LoginInput {
    /// Merges the input with the known server (`None`: no server has this name), by the
    /// table in the module docs. Reads the TLS files' paths (they must exist), nothing else.
    pub fn plan(&self, known: Option<&Server>) -> Result<Plan> {
        validate_name(&self.name)?;
        match (self.mode, known) {
            (LoginMode::Add, Some(_)) => {
                return Err(Error::invalid(
                    "name",
                    format!(
                        "a server named \"{}\" already exists: pick another name, or log in to it again",
                        self.name
                    ),
                ));
            }
            (LoginMode::Edit, None) => return Err(Error::NotFound(self.name.clone())),
            _ => {}
        }
        let url = match (&self.url, known) {
            (Some(u), _) => normalize_url(u)?.to_string_normalized(),
            (None, Some(k)) => k.url.clone(),
            (None, None) => return Err(Error::invalid("url", "enter the server's tracking URL")),
        };
        let moved = known.is_some_and(|k| origin(&k.url) != origin(&url));
        let auth = self.auth.or(known.map(|k| k.auth)).unwrap_or_default();
        let username = match &self.username {
            Change::Set(u) if !u.trim().is_empty() => {
                let u = u.trim();
                validate_username(u)?;
                Some(u.to_string())
            }
            Change::Set(_) | Change::Clear => None,
            Change::Keep => known.and_then(|k| k.username.clone()),
        };
        if auth == AuthKind::Basic && username.is_none() {
            return Err(Error::invalid("username", "enter your username"));
        }
        let mut dropped = Vec::new();
        let mut file = |change: &Change<PathBuf>, kept: Option<&PathBuf>, field, setting| -> Result<Option<PathBuf>> {
            match change {
                Change::Set(p) => pem_path(p, field).map(Some),
                Change::Clear => Ok(None),
                Change::Keep if moved => {
                    if kept.is_some() {
                        dropped.push(setting);
                    }
                    Ok(None)
                }
                Change::Keep => Ok(kept.cloned()),
            }
        };
        let ca_bundle =
            file(&self.ca_bundle, known.and_then(|k| k.ca_bundle.as_ref()), "ca_bundle", Setting::CaBundle)?;
        let client_cert =
            file(&self.client_cert, known.and_then(|k| k.client_cert.as_ref()), "client_cert", Setting::ClientCert)?;
        let insecure_tls = match (self.insecure_tls, known) {
            (Some(b), _) => b,
            (None, Some(k)) if moved => {
                if k.insecure_tls {
                    dropped.push(Setting::InsecureTls);
                }
                false
            }
            (None, k) => k.is_some_and(|k| k.insecure_tls),
        };
        let sso = (auth == AuthKind::Sso).then(|| {
            let kept = known.and_then(|k| k.sso.clone()).filter(|_| !moved).unwrap_or_default();
            SsoSettings {
                issuer: self.sso.issuer.clone().or(kept.issuer),
                client_id: self.sso.client_id.clone().or(kept.client_id),
                scopes: if self.sso.scopes.is_empty() { kept.scopes } else { self.sso.scopes.clone() },
                redirect_port: match self.sso.redirect_port {
                    Some(0) => None,
                    Some(port) => Some(port),
                    None => kept.redirect_port,
                },
                from_team_list: kept.from_team_list,
            }
        });
        // The active workspace belongs to the server it was chosen on: kept unless it moved.
        let workspace = known.and_then(|k| k.workspace.clone()).filter(|_| !moved);
        // A personal access token belongs to the Basic credential it is: kept by a login that
        // keeps the kind, else gone (a single sign-on login makes a new one, see crate::pat).
        let personal_token = known.and_then(|k| k.personal_token).filter(|_| auth == AuthKind::Basic && !moved);
        let server =
            Server { url, username, auth, ca_bundle, client_cert, insecure_tls, sso, workspace, personal_token };
        server.validate()?;
        Ok(Plan { server, dropped })
    }

    /// The server a single sign-on login at `url` would be planned with, for asking the
    /// server about its identity provider before the login ([`oidc::hints`]): the known
    /// server's settings merged by the same table as a login, so a URL on another origin
    /// drops the known client certificate, CA bundle and "insecure" flag here too.
    pub fn sso_probe(known: Option<(&str, &Server)>, url: &str) -> Result<Server> {
        let input = LoginInput {
            name: known.map_or("new", |(n, _)| n).to_string(),
            mode: if known.is_some() { LoginMode::Edit } else { LoginMode::Add },
            url: Some(url.to_string()),
            username: Change::Keep,
            auth: Some(AuthKind::Sso),
            ca_bundle: Change::Keep,
            client_cert: Change::Keep,
            insecure_tls: None,
            sso: SsoSettings::default(),
            secret: Secret::new(String::new()),
            verify: false,
            activate: Activate::IfNone,
        };
        Ok(input.plan(known.map(|(_, s)| s))?.server)
    }

    /// What the config must still say when the login saves: no server by this name (add),
    /// or the known server's settings the plan was made from (edit). A login that waited
    /// (a sign-in, a slow check) never overwrites a change made meanwhile.
    fn expect(&self, known: Option<&Server>) -> Expect {
        match (self.mode, known) {
            (LoginMode::Edit, Some(k)) => Expect::Unchanged(k.clone()),
            _ => Expect::Absent,
        }
    }
}

/// What [`log_in`] did.
#[derive(Debug, Clone)]
pub struct LoginReport {
    /// The server's name.
    pub name: String,
    /// The server as saved (or as it would have been saved).
    pub server: Server,
    /// The check, unless the caller saved without checking.
    pub verification: Option<Verification>,
    /// The check, for display (recorded in the checks file only when the login was saved:
    /// a rejected attempt says nothing of the stored credentials).
    pub check: Option<CheckRecord>,
    /// `None`: nothing was stored, because the server did not accept the credentials.
    pub saved: Option<Saved>,
    /// Settings that were not kept (see the module table).
    pub dropped: Vec<Setting>,
}

impl LoginReport {
    /// Whether the login was stored.
    pub fn is_saved(&self) -> bool {
        self.saved.is_some()
    }
}

/// Logs in: plan, verify, store, record, activate (module docs). Keychain and file work
/// run on tokio's blocking pool, so this never blocks the caller's async thread. Errors
/// (bad input, keychain, config) mean nothing was stored; a refused check is an `Ok`
/// report with `saved: None`.
pub async fn log_in<V: Vault + 'static>(
    logins: &Arc<Logins<V>>,
    input: LoginInput,
    opts: &VerifyOptions,
) -> Result<LoginReport> {
    let config: Config = blocking(logins, |l| l.config()).await?;
    let known = config.servers.get(&input.name);
    let Plan { server, dropped } = input.plan(known)?;
    let expect = input.expect(known);
    if server.auth == AuthKind::Sso {
        return Err(Error::invalid(
            "auth",
            "a single sign-on server signs in through its identity provider, not with a typed secret",
        ));
    }
    input.secret.validate().map_err(|m| Error::invalid("password", m))?;
    let LoginInput { name, secret, verify: check_first, activate, .. } = input;
    let verification = if check_first { Some(verify(&server, Some(&secret), opts).await) } else { None };
    store(logins, Stored { name, expect, server, secret, verification, activate, dropped }).await
}

/// How a single sign-on login reaches the user.
#[derive(Clone, Copy)]
pub struct SsoSignIn<'a> {
    /// Browser or device code.
    pub flow: Flow,
    /// Shows the URL or the code (the CLI prints and opens the browser; the tray shows it).
    pub ui: &'a dyn Interaction,
}

impl std::fmt::Debug for SsoSignIn<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SsoSignIn").field("flow", &self.flow).finish_non_exhaustive()
    }
}

/// Logs in with single sign-on: plan (the same table), find the identity provider, sign in
/// ([`oidc::login`], bounded by `sso_opts` and ended early by `cancel`), verify the access
/// token against the server, store the token set, record, activate. A token the server
/// refuses is revoked again (best effort) and nothing is stored.
pub async fn log_in_sso<V: Vault + 'static>(
    logins: &Arc<Logins<V>>,
    input: LoginInput,
    sign_in: SsoSignIn<'_>,
    cancel: impl std::future::Future<Output = ()>,
    sso_opts: &LoginOptions,
    opts: &VerifyOptions,
) -> Result<LoginReport> {
    let config: Config = blocking(logins, |l| l.config()).await?;
    let known = config.servers.get(&input.name);
    let Plan { mut server, dropped } = input.plan(known)?;
    // The sign-in may take minutes: the save checks that nobody changed the server meanwhile.
    let expect = input.expect(known);
    if server.auth != AuthKind::Sso {
        return Err(Error::invalid("auth", "this server is not set up for single sign-on"));
    }
    let wanted = server.sso.clone().unwrap_or_default();
    let overrides = Overrides { issuer: wanted.issuer, client_id: wanted.client_id, scopes: wanted.scopes.clone() };
    let provider = oidc::discover(&server, &overrides, sso_opts).await?;
    server.sso = Some(SsoSettings {
        issuer: Some(provider.issuer().to_string()),
        client_id: Some(provider.client_id().to_string()),
        scopes: wanted.scopes,
        redirect_port: wanted.redirect_port,
        // The user ran this sign-in (and confirmed a foreign issuer): the settings are theirs.
        from_team_list: false,
    });
    let login_opts = LoginOptions { redirect_port: wanted.redirect_port, ..sso_opts.clone() };
    let (issuer, host) = (crate::text::clean(provider.issuer(), 200), crate::text::clean(&server.host_display(), 200));
    sign_in.ui.show(oidc::Prompt::SigningIn { issuer: &issuer, host: &host });
    let tokens = oidc::login(&provider, sign_in.flow, sign_in.ui, cancel, &login_opts).await?;
    let verification = verify(&server, Some(&tokens.access_token), opts).await;
    if verification.class() != OutcomeClass::Ok {
        // Leave no live session at the identity provider for a login that was not kept.
        let _ = oidc::revoke(&server, &tokens, sso_opts.request_timeout).await;
    }
    let LoginInput { name, activate, .. } = input;
    let secret = tokens.to_secret();
    // A refresh of the old session in flight must not overwrite the new tokens, nor write
    // the replaced session back after it is revoked: both entries' locks are held.
    let dir = logins.store().paths().dir().to_path_buf();
    let key = logins.entry(&name, &server);
    let _lock = oidc::hold(&key, &dir).await?;
    let old_key = known.map(|k| logins.entry(&name, k)).filter(|k| *k != key);
    let _old_lock = match &old_key {
        Some(k) => Some(oidc::hold(k, &dir).await?),
        None => None,
    };
    let replaced = match known.filter(|k| k.auth == AuthKind::Sso && verification.class() == OutcomeClass::Ok) {
        Some(k) => {
            let (n, k) = (name.clone(), k.clone());
            blocking(logins, move |l| l.secret(&n, &k)).await?.and_then(|s| oidc::TokenSet::from_secret(&s).ok())
        }
        None => None,
    };
    let stored =
        Stored { name, expect, server: server.clone(), secret, verification: Some(verification), activate, dropped };
    let report = store(logins, stored).await;
    if let (Ok(r), Some(old)) = (&report, replaced)
        && r.is_saved()
        && old.refresh_token != tokens.refresh_token
    {
        // The replaced session (a re-login, another account, a URL move) ends at the
        // identity provider: a token set nobody holds any more must not stay live there.
        let old_server = known.cloned().unwrap_or_else(|| server.clone());
        let _ = oidc::revoke(&old_server, &old, sso_opts.request_timeout).await;
    }
    if report.is_err() {
        // Not kept (the server was changed meanwhile, the keychain failed): end the session,
        // unless the keychain holds these tokens after all (a failure after the save, such
        // as recording the check): then they are the server's session.
        let mine = tokens.to_secret();
        let kept = blocking(logins, move |l| Ok(l.vault().get(&key)?.is_some_and(|s| s == mine))).await;
        if !kept.unwrap_or(false) {
            let _ = oidc::revoke(&server, &tokens, sso_opts.request_timeout).await;
        }
    }
    report
}

/// What [`log_out`] did.
#[derive(Debug)]
pub struct LoggedOut {
    /// Whether a password or token was stored (and is now deleted).
    pub deleted: bool,
    /// Single sign-on: the revocation of the refresh token at the identity provider
    /// (`None` for other servers). Its failure does not stop the logout.
    pub revoked: Option<Result<oidc::Revoked>>,
    /// A personal access token: its deletion on the server (`Ok(false)`: the server listed
    /// no such token any more). `None` for other servers. Its failure does not stop the
    /// logout.
    pub token_revoked: Option<Result<bool>>,
}

/// Logs out of `name`: for single sign-on, revokes the refresh token at the identity
/// provider (RFC 7009) when it offers revocation; then deletes the secret from the keychain
/// (every server sharing the entry is logged out with it).
pub async fn log_out<V: Vault + 'static>(
    logins: &Arc<Logins<V>>,
    name: &str,
    timeout: std::time::Duration,
) -> Result<LoggedOut> {
    let key = name.to_string();
    let server = blocking(logins, move |l| Ok(l.config()?.resolve(Some(&key))?.1.clone())).await?;
    // A refresh (or a personal token's renewal) in flight must not write the session back
    // after the logout.
    let _lock = if server.auth == AuthKind::Sso || server.personal_token.is_some() {
        Some(oidc::hold(&logins.entry(name, &server), logins.store().paths().dir()).await?)
    } else {
        None
    };
    let key = name.to_string();
    let (_, server, stored) = blocking(logins, move |l| l.resolve(Some(&key))).await?;
    let revoked = match (&stored, server.auth) {
        (Some(secret), AuthKind::Sso) => Some(match oidc::TokenSet::from_secret(secret) {
            Ok(tokens) => oidc::revoke(&server, &tokens, timeout).await,
            Err(e) => Err(e),
        }),
        _ => None,
    };
    let (token_revoked, revoked) = match (&stored, server.personal_token) {
        (Some(pat), Some(_)) => {
            let opts = VerifyOptions { total_timeout: timeout, ..VerifyOptions::default() };
            let deleted = crate::pat::revoke(&server, pat, &opts).await;
            (Some(deleted), end_pat_session(logins, name, &server, timeout).await)
        }
        _ => (None, revoked),
    };
    drop(stored);
    let key = name.to_string();
    let deleted = blocking(logins, move |l| l.logout(&key)).await?;
    Ok(LoggedOut { deleted, revoked, token_revoked })
}

/// The single sign-on session kept for a personal access token's renewal: revoked at the
/// identity provider, then deleted from the keychain (`None`: there was none).
async fn end_pat_session<V: Vault + 'static>(
    logins: &Arc<Logins<V>>,
    name: &str,
    server: &Server,
    timeout: std::time::Duration,
) -> Option<Result<oidc::Revoked>> {
    let key = crate::pat::session_key(name, server);
    let read = key.clone();
    let stored = blocking(logins, move |l| l.vault().get(&read)).await.ok().flatten()?;
    let revoked = match oidc::TokenSet::from_secret(&stored) {
        Ok(tokens) => oidc::revoke(server, &tokens, timeout).await,
        Err(e) => Err(e),
    };
    drop(stored);
    if let Err(e) = blocking(logins, move |l| l.vault().delete(&key)).await {
        return Some(Err(e));
    }
    Some(revoked)
}

/// Removes the server called `name` ([`Logins::remove`]); for single sign-on, first revokes
/// its session at the identity provider (best effort: the removal happens whatever the
/// provider says, and the answer is returned), under the entry's refresh lock so a refresh
/// in flight cannot write the session back as an entry no server names.
pub async fn remove<V: Vault + 'static>(
    logins: &Arc<Logins<V>>,
    name: &str,
    timeout: std::time::Duration,
) -> Result<Option<Result<oidc::Revoked>>> {
    let key = name.to_string();
    let server = blocking(logins, move |l| Ok(l.config()?.get(&key)?.clone())).await?;
    if server.personal_token.is_some() {
        // Its token stops working on the server too; its single sign-on session ends.
        let _lock = oidc::hold(&logins.entry(name, &server), logins.store().paths().dir()).await?;
        let (n, s) = (name.to_string(), server.clone());
        if let Some(pat) = blocking(logins, move |l| l.secret(&n, &s)).await? {
            let opts = VerifyOptions { total_timeout: timeout, ..VerifyOptions::default() };
            let _ = crate::pat::revoke(&server, &pat, &opts).await;
        }
        let ended = end_pat_session(logins, name, &server, timeout).await;
        let key = name.to_string();
        return blocking(logins, move |l| l.remove(&key)).await.map(|()| ended);
    }
    if server.auth != AuthKind::Sso {
        let key = name.to_string();
        return blocking(logins, move |l| l.remove(&key)).await.map(|()| None);
    }
    let _lock = oidc::hold(&logins.entry(name, &server), logins.store().paths().dir()).await?;
    let (n, s) = (name.to_string(), server.clone());
    let stored = blocking(logins, move |l| l.secret(&n, &s)).await?;
    let key = name.to_string();
    blocking(logins, move |l| l.remove(&key)).await?;
    Ok(match stored.map(|s| oidc::TokenSet::from_secret(&s)) {
        Some(Ok(tokens)) => Some(oidc::revoke(&server, &tokens, timeout).await),
        Some(Err(e)) => Some(Err(e)),
        None => None,
    })
}

/// What a login stores, once verified (or when the caller saves without checking).
struct Stored {
    name: String,
    expect: Expect,
    server: Server,
    secret: Secret,
    verification: Option<Verification>,
    activate: Activate,
    dropped: Vec<Setting>,
}

/// The common tail of every login: store (keychain first), record the check, activate.
async fn store<V: Vault + 'static>(logins: &Arc<Logins<V>>, s: Stored) -> Result<LoginReport> {
    let Stored { name, expect, server, secret, verification, activate, dropped } = s;
    let record = verification.as_ref().map(|v| CheckRecord::new(&server, v));
    if let Some(v) = &verification
        && v.class() != OutcomeClass::Ok
    {
        return Ok(LoginReport { name, server, verification, check: record, saved: None, dropped });
    }
    let (to_save, to_record, key) = (server.clone(), record.clone(), name.clone());
    let saved = blocking(logins, move |l| {
        let saved = l.save_expecting(&key, to_save, Some(&secret), activate, &expect)?;
        drop(secret);
        match to_record {
            // The login itself is the freshest check of the stored credentials.
            Some(record) => l.checks().record(&key, record).map(drop)?,
            // Unchecked credentials: an older record says nothing about them.
            None => l.checks().forget(&key)?,
        }
        Ok(saved)
    })
    .await?;
    Ok(LoginReport { name, server, verification, check: record, saved: Some(saved), dropped })
}

/// Runs blocking core work (keychain, locked files) on tokio's blocking pool.
pub(crate) async fn blocking<V: Vault + 'static, T: Send + 'static>(
    logins: &Arc<Logins<V>>,
    f: impl FnOnce(&Logins<V>) -> Result<T> + Send + 'static,
) -> Result<T> {
    let logins = Arc::clone(logins);
    tokio::task::spawn_blocking(move || f(&logins))
        .await
        .map_err(|e| Error::io("(background task)", std::io::Error::other(e.to_string())))?
}

/// Scheme, host and port of a normalised URL.
fn origin(url: &str) -> Option<(String, String, Option<u16>)> {
    let u = url::Url::parse(url).ok()?;
    Some((u.scheme().to_string(), u.host_str()?.to_string(), u.port_or_known_default()))
}

/// An absolute path to an existing file: the config is read from other folders later.
fn pem_path(path: &Path, field: &'static str) -> Result<PathBuf> {
    let text = path.to_string_lossy();
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid(field, "the file name is empty"));
    }
    let abs = std::fs::canonicalize(trimmed)
        .map_err(|e| Error::invalid(field, format!("cannot read {}: {e}", path.display())))?;
    if !abs.is_file() {
        return Err(Error::invalid(field, format!("{} is not a file", path.display())));
    }
    Ok(abs)
}

mod personal_token;
pub use personal_token::{PatReport, log_in_personal_token};

#[cfg(test)]
mod tests;
