//! Checking a stored server: its credentials from the keychain (an SSO token refreshed
//! first), one classified request ([`crate::verify`](mod@crate::verify)), the active workspace checked, and
//! the result recorded in the checks file ([`crate::checks`]) so that every front end
//! shows it. The CLI's `status`, the tray's timer and the servers window call this.

use std::sync::Arc;

use serde::Serialize;

use crate::checks::CheckRecord;
use crate::error::{Error, Result};
use crate::login::blocking;
use crate::logins::Logins;
use crate::server::{AuthKind, Server};
use crate::vault::Vault;
use crate::verify::{Outcome, OutcomeKind, Verification, VerifyOptions, verify};
use crate::workspaces;

/// What one check of a stored server found.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The server's name.
    pub name: String,
    /// The server as configured.
    pub server: Server,
    /// The verification; `None` when no password or token is stored (nothing was sent).
    pub verification: Option<Verification>,
    /// The check as recorded.
    pub record: CheckRecord,
    /// The record before it, if it was made for the same URL and account.
    pub previous: Option<CheckRecord>,
    /// Single sign-on: the identity provider, the token's expiry and how its refresh went.
    pub sso: Option<SsoStatus>,
}

/// What a check found out about a single sign-on server's tokens (never a token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SsoStatus {
    /// The identity provider's issuer (as configured).
    pub issuer: Option<String>,
    /// When the access token expires (Unix seconds), when known.
    pub expires_at: Option<u64>,
    /// Whether a refresh token is stored (a new access token comes without a login).
    pub can_refresh: bool,
    /// What this check's refresh did.
    pub refresh: RefreshState,
}

/// How the refresh of a check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshState {
    /// The access token was fresh: nothing to refresh.
    NotNeeded,
    /// Refreshed now (here, or by another process meanwhile).
    Refreshed,
    /// The identity provider refused: log in again.
    Refused,
}

/// Checks the stored credentials of `name` against its server and records the result,
/// from whichever front end asks (CLI `status`, the tray's timer, the servers window), so
/// every other front end shows it. Keychain and file work run on tokio's blocking pool.
pub async fn check<V: Vault + 'static>(logins: &Arc<Logins<V>>, name: &str, opts: &VerifyOptions) -> Result<Checked> {
    let mut all = check_all(logins, vec![name.to_string()], opts).await;
    all.pop().map_or_else(|| Err(Error::NotFound(name.to_string())), |(_, r)| r)
}

/// Checks every server in `names` and records the results; the results come back in the
/// order of `names`. The keychain is read one server after the other (a locked keychain
/// asks once, not once per server), then every request goes out at once, so the whole
/// takes about as long as the slowest server (each bounded by the verifier's timeouts).
pub async fn check_all<V: Vault + 'static>(
    logins: &Arc<Logins<V>>,
    names: Vec<String>,
    opts: &VerifyOptions,
) -> Vec<(String, Result<Checked>)> {
    check_all_as(logins, names, |_, server| server.clone(), opts).await
}

/// [`check_all`], each server checked as `in_force` makes it from its configuration: in
/// the workspace a shell uses with it (`choose::Chosen::in_force`), say. A check of a
/// workspace other than the server's own is recorded for that workspace, so it does not
/// count as the server's last check ([`CheckRecord::is_for`]).
pub async fn check_all_as<V: Vault + 'static>(
    logins: &Arc<Logins<V>>,
    names: Vec<String>,
    in_force: impl Fn(&str, &Server) -> Server,
    opts: &VerifyOptions,
) -> Vec<(String, Result<Checked>)> {
    let keys = names.clone();
    // The configuration only: each server's credential is read once, below, through the one
    // rule for a usable credential (crate::fresh: an SSO token refreshed when due, a
    // personal access token renewed when due, else the stored secret).
    let resolved = match blocking(logins, move |l| {
        let config = l.config()?;
        Ok(keys
            .iter()
            .map(|n| config.resolve(Some(n)).map(|(name, server)| (name, server.clone())))
            .collect::<Vec<_>>())
    })
    .await
    {
        Ok(r) => r,
        Err(e) => return names.into_iter().map(|n| (n, Err(task_failed(&e)))).collect(),
    };
    let tasks: Vec<_> = resolved
        .into_iter()
        .map(|r| {
            let r = r.map(|(name, configured)| {
                let server = in_force(&name, &configured);
                let own = server == configured;
                (name, server, own)
            });
            let (opts, logins) = (opts.clone(), Arc::clone(logins));
            tokio::spawn(async move {
                let (name, server, own) = r?;
                let (verification, sso) = if server.auth == AuthKind::Sso {
                    match verify_sso(&logins, &name, &server, &opts).await? {
                        Some((v, sso)) => (Some(v), Some(sso)),
                        None => (None, None),
                    }
                } else {
                    match crate::fresh::fresh_credential(&logins, &name, &server).await? {
                        Some(fresh) => {
                            let v = verify(&server, Some(&fresh.secret), &opts).await;
                            (Some(workspaces::verify_active(&name, &server, Some(&fresh.secret), &opts, v).await), None)
                        }
                        None => (None, None),
                    }
                };
                Ok::<_, Error>((name, server, verification, sso, own))
            })
        })
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for (name, task) in names.into_iter().zip(tasks) {
        let joined = task.await.unwrap_or_else(|e| Err(task_failed(&e)));
        let result = match joined {
            Ok((name, server, verification, sso, own)) => record(logins, name, server, verification, sso, own).await,
            Err(e) => Err(e),
        };
        out.push((name, result));
    }
    out
}

/// An SSO server's check: a fresh access token (refreshed when near expiry), then the
/// usual request. A token the server refuses although it should still be valid (revoked,
/// clocks that disagree) is refreshed once and checked again, as the plugin does for a
/// request. A refresh the identity provider refuses is the outcome "session ended". `None`
/// when no tokens are stored (not signed in).
async fn verify_sso<V: Vault + 'static>(
    logins: &Logins<V>,
    name: &str,
    server: &Server,
    opts: &VerifyOptions,
) -> Result<Option<(Verification, SsoStatus)>> {
    // The issuer may come from a project file or a team list: cleaned before it is shown.
    let issuer = server.sso.as_ref().and_then(|s| s.issuer.as_deref()).map(|i| crate::text::clean(i, 200));
    let ended = |detail: String| Verification::new(Outcome::SessionEnded { detail }, 0);
    let refused =
        SsoStatus { issuer: issuer.clone(), expires_at: None, can_refresh: false, refresh: RefreshState::Refused };
    let mut refresh_opts = crate::oidc::RefreshOptions::default();
    loop {
        match crate::fresh::fresh_with(logins, name, server, &refresh_opts).await {
            Ok(Some(fresh)) => {
                let refresh = match fresh.refreshed {
                    Some(crate::oidc::Refreshed::StillFresh) | None => RefreshState::NotNeeded,
                    Some(_) => RefreshState::Refreshed,
                };
                let verification = verify(server, Some(&fresh.secret), opts).await;
                let verification =
                    workspaces::verify_active(name, server, Some(&fresh.secret), opts, verification).await;
                if verification.outcome.kind() == OutcomeKind::BadCredentials
                    && refresh == RefreshState::NotNeeded
                    && refresh_opts.refused.is_none()
                    && let Some(fingerprint) = fresh.fingerprint
                {
                    refresh_opts.refused = Some(fingerprint);
                    continue;
                }
                let sso = SsoStatus { issuer, expires_at: fresh.expires_at, can_refresh: fresh.refreshable, refresh };
                return Ok(Some((verification, sso)));
            }
            // Nothing stored: not signed in. Gone between the two reads: the session ended.
            Ok(None) if refresh_opts.refused.is_none() => return Ok(None),
            Ok(None) => return Ok(Some((ended("no tokens are stored".into()), refused))),
            Err(Error::LoginRequired(detail)) => return Ok(Some((ended(crate::text::clean(&detail, 300)), refused))),
            Err(e) => return Err(e),
        }
    }
}

/// A background task that died (a bug): reported as an I/O error of that task.
fn task_failed(e: &dyn std::fmt::Display) -> Error {
    Error::io("(background check)", std::io::Error::other(e.to_string()))
}

/// Records one check in the checks file, when it was made of the server as configured
/// (`own`); a check in a workspace a shell selects only is not recorded, so the server's
/// last check stays the one of its own workspace.
async fn record<V: Vault + 'static>(
    logins: &Arc<Logins<V>>,
    name: String,
    server: Server,
    verification: Option<Verification>,
    sso: Option<SsoStatus>,
    own: bool,
) -> Result<Checked> {
    let record = match &verification {
        Some(v) => CheckRecord::new(&server, v),
        None => CheckRecord::no_credentials(&server),
    };
    let (key, stored, for_server) = (name.clone(), record.clone(), server.clone());
    let previous = if own {
        blocking(logins, move |l| l.checks().record(&key, stored)).await?.filter(|p| p.is_for(&for_server))
    } else {
        None
    };
    Ok(Checked { name, server, verification, record, previous, sso })
}
