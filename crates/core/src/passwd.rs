//! The use case "change my password" on MLflow's basic-auth app, for every front end.
//!
//! The server (`PATCH {url}/api/2.0/mlflow/users/update-password` with `username`,
//! `password` and, for one's own account, `current_password`, read in MLflow 3.17.2's
//! `update_user_password`) and the keychain must end up holding the same password, and
//! no step may lose it, even when the process is killed between two steps:
//!
//! 1. the new password is checked here against the server's rules (at least 12
//!    characters, no control character, not the current one), then written to the keychain as a *pending* entry ([`EntryKey::pending`]) next
//!    to the server's entry, before anything is sent;
//! 2. the server is asked to change it (authenticated with the stored password);
//! 3. it is promoted: written to the server's entry, then the pending entry is deleted;
//!    hooked shells and the tray are told (the state file), the last check is forgotten.
//!
//! A refusal in step 2 deletes the pending entry: nothing changed. Whatever interrupts the
//! rest (a kill, a keychain that fails, a lost answer) leaves the pending entry, which
//! [`repair`] (run by `doctor`) settles by asking the server which of the two passwords it
//! accepts: the new one is promoted, or the pending one (never sent, or refused) dropped.
//! The new password is never printed; where it is kept is ([`Changed::Pending`]).

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::login::blocking;
use crate::logins::Logins;
use crate::secret::Secret;
use crate::server::{AuthKind, Server};
use crate::vault::{EntryKey, Vault};
use crate::verify::{self, OutcomeKind, VerifyOptions};

/// The API path of a password change.
const UPDATE_PATH: &str = "/api/2.0/mlflow/users/update-password";

/// The shortest password MLflow's basic-auth app takes (in characters).
pub const MIN_LENGTH: usize = 12;

/// What a password change did.
#[derive(Debug)]
#[non_exhaustive]
pub enum Changed {
    /// The server and the keychain hold the new password.
    Done,
    /// The server may hold the new password (it accepted it, or its answer was lost), and
    /// the keychain holds it only as the pending entry `entry`: run [`repair`] (`doctor`).
    Pending {
        /// Where the new password is kept: keychain service and account.
        entry: EntryKey,
        /// Whether the server said it accepted the new password.
        server_accepted: bool,
        /// What failed.
        cause: String,
    },
}

impl Changed {
    /// For [`Changed::Pending`]: what happened, where the new password is kept (never
    /// the password), and what to do; the same words in every front end.
    pub fn pending_report(&self) -> Option<(String, String)> {
        let Changed::Pending { entry, server_accepted, cause } = self else {
            return None;
        };
        let state = if *server_accepted {
            "the server accepted the new password, but it could not be stored as this server's password"
        } else {
            "the server's answer was lost: it may or may not have changed the password"
        };
        let message = format!(
            "{state} ({cause}); the new password is kept in the keychain as service \"{}\", account \"{}\"",
            entry.service, entry.account
        );
        let help =
            "run `mlflow-login doctor`: it asks the server which password it accepts and keeps that one".to_string();
        Some((message, help))
    }
}

/// What [`repair`] did for a server with a pending password.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Repaired {
    /// No pending password: nothing to do.
    Nothing,
    /// The server accepts the pending password: it is now the stored one.
    Promoted,
    /// The server still accepts the stored password: the pending one was dropped.
    Dropped,
    /// Neither was accepted (or the server could not be asked): both kept.
    Undecided {
        /// What the server said, in words.
        detail: String,
    },
}

/// Changes the password of the server `name` to `new`, on the server and in the keychain
/// (see the module docs for the order of the steps).
pub async fn change_password<V: Vault + 'static>(
    logins: &Arc<Logins<V>>,
    name: &str,
    new: Secret,
    opts: &VerifyOptions,
) -> Result<Changed> {
    // An earlier change left unfinished is settled first: a new pending password would
    // overwrite the only copy of one the server may already hold.
    if let Repaired::Undecided { detail } = repair(logins, name, opts).await? {
        return Err(Error::invalid(
            "name",
            format!(
                "an earlier password change of \"{name}\" is not finished and the server could not tell which password it accepts ({detail}): try again when it answers"
            ),
        ));
    }
    let key = name.to_string();
    let (name, server, current) = blocking(logins, move |l| l.resolve(Some(&key))).await?;
    let username = match (&server.auth, &server.username) {
        (AuthKind::Basic, Some(u)) => u.clone(),
        _ => {
            return Err(Error::invalid(
                "name",
                format!(
                    "\"{name}\" logs in with a token or single sign-on: only a username and password can be changed here"
                ),
            ));
        }
    };
    let current = current
        .ok_or_else(|| Error::invalid("password", format!("no password is stored for \"{name}\": log in first")))?;
    new.validate_for(AuthKind::Basic).map_err(|m| Error::invalid("new_password", m))?;
    if new.expose().is_empty() {
        return Err(Error::invalid("new_password", "the new password is empty"));
    }
    // MLflow's own rule (`mlflow/utils/validation.py` `_validate_password`, 3.17.2): told
    // here, before anything is written or sent.
    if new.expose().chars().count() < MIN_LENGTH {
        return Err(Error::invalid(
            "new_password",
            format!("the new password is too short: MLflow's basic-auth app wants at least {MIN_LENGTH} characters"),
        ));
    }
    if new.expose() == current.expose() {
        return Err(Error::invalid("new_password", "the new password is the current one: choose another"));
    }

    // Step 1: the new password is in the keychain before the server hears of it.
    let pending = EntryKey::pending(&name, &server);
    {
        let (pending, new) = (pending.clone(), new.clone());
        blocking(logins, move |l| l.vault().set(&pending, &new)).await?;
    }
    crash_point("passwd-after-pending");

    // Step 2: the server.
    let answer = send(&server, &username, &current, &new, opts).await;
    crash_point("passwd-after-server");
    match answer {
        Answer::Accepted => {}
        Answer::Refused(err) => {
            let drop_key = pending.clone();
            blocking(logins, move |l| l.vault().delete(&drop_key)).await?;
            return Err(err);
        }
        Answer::Lost(cause) => return Ok(Changed::Pending { entry: pending, server_accepted: false, cause }),
    }

    // Step 3: promote.
    match promote(logins, &name, &server, new).await {
        Ok(()) => Ok(Changed::Done),
        Err(e) => Ok(Changed::Pending { entry: pending, server_accepted: true, cause: e.to_string() }),
    }
}

/// Settles a pending password change of `name` left by an interrupted
/// [`change_password`]: whichever password the server accepts is kept.
pub async fn repair<V: Vault + 'static>(logins: &Arc<Logins<V>>, name: &str, opts: &VerifyOptions) -> Result<Repaired> {
    let key = name.to_string();
    let (name, server, current) = blocking(logins, move |l| l.resolve(Some(&key))).await?;
    let pending = EntryKey::pending(&name, &server);
    let read_key = pending.clone();
    let Some(new) = blocking(logins, move |l| l.vault().get(&read_key)).await? else {
        return Ok(Repaired::Nothing);
    };
    let new_check = verify::verify(&server, Some(&new), opts).await;
    if new_check.outcome.kind() == OutcomeKind::Ok {
        promote(logins, &name, &server, new).await?;
        return Ok(Repaired::Promoted);
    }
    let old_ok = match &current {
        Some(old) => verify::verify(&server, Some(old), opts).await.outcome.kind() == OutcomeKind::Ok,
        None => false,
    };
    if old_ok && new_check.outcome.kind() == OutcomeKind::BadCredentials {
        blocking(logins, move |l| l.vault().delete(&pending)).await?;
        return Ok(Repaired::Dropped);
    }
    Ok(Repaired::Undecided { detail: new_check.outcome.summary() })
}

/// The new password becomes the server's stored one; the pending entry goes.
async fn promote<V: Vault + 'static>(logins: &Arc<Logins<V>>, name: &str, server: &Server, new: Secret) -> Result<()> {
    let (main, pending) = (EntryKey::for_server(name, server), EntryKey::pending(name, server));
    let name = name.to_string();
    blocking(logins, move |l| {
        l.vault().set(&main, &new)?;
        crash_point("passwd-after-promote");
        l.vault().delete(&pending)?;
        // The old check described the old password; shells and the tray reload.
        l.checks().forget(&name)?;
        l.store().bump_state()
    })
    .await
}

/// What the server answered a change.
enum Answer {
    /// 200: changed.
    Accepted,
    /// Refused: nothing changed.
    Refused(Error),
    /// No answer (the request may have reached it).
    Lost(String),
}

async fn send(server: &Server, username: &str, current: &Secret, new: &Secret, opts: &VerifyOptions) -> Answer {
    let (client, base) = match crate::http::server_client(server, opts).await {
        Ok(c) => c,
        Err(outcome) => return Answer::Refused(Error::invalid("url", outcome.summary())),
    };
    let url = crate::http::endpoint(&base, UPDATE_PATH, None);
    let body = zeroize::Zeroizing::new(
        serde_json::json!({ "username": username, "password": new.expose(), "current_password": current.expose() })
            .to_string(),
    );
    let request = client
        .patch(url)
        .basic_auth(username, Some(current.expose()))
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::ACCEPT, "application/json")
        .timeout(opts.total_timeout)
        .body(body.as_bytes().to_vec());
    let response = match request.send().await {
        Ok(r) => r,
        // Not even connected: the server cannot have changed anything.
        Err(e) if e.is_connect() => {
            return Answer::Refused(Error::invalid(
                "url",
                format!("could not reach the server: {}", crate::http::error_chain(&e)),
            ));
        }
        Err(e) => return Answer::Lost(format!("the server's answer was lost: {}", crate::http::error_chain(&e))),
    };
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    // MLflow's errors: {"error_code": ..., "message": ...}; shown cleaned, never the body raw.
    let message = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(|m| crate::text::clean(m, 300)))
        .unwrap_or_else(|| crate::text::clean(&text, 200));
    let message = scrub(message, &[current.expose(), new.expose()]);
    match status {
        200..=299 => Answer::Accepted,
        400 => Answer::Refused(Error::invalid("new_password", format!("the server refused the change: {message}"))),
        401 => Answer::Refused(Error::invalid(
            "password",
            "the server refused the stored password: log in again with the current password, then change it",
        )),
        403 => Answer::Refused(Error::invalid(
            "username",
            format!("the server does not let {username} change this password (403 {message}): ask the server's admin"),
        )),
        404 | 405 => Answer::Refused(Error::invalid(
            "url",
            "this server has no password change: only MLflow's basic-auth app (mlflow server --app-name basic-auth) has one; a proxy's password is changed by its admin",
        )),
        _ => Answer::Refused(Error::invalid("url", format!("the server answered {status}: {message}"))),
    }
}

/// Never echo a password a server put in its message.
fn scrub(mut text: String, secrets: &[&str]) -> String {
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        text = text.replace(s, "(password)");
    }
    text
}

/// Debug builds only: `MLL_TEST_CRASH_AT=<point>` kills the process at that point, as a
/// power cut or `kill -9` would, so the fault tests can check that nothing is lost.
fn crash_point(point: &str) {
    if cfg!(debug_assertions) && std::env::var("MLL_TEST_CRASH_AT").is_ok_and(|p| p == point) {
        std::process::abort();
    }
}
