//! Single sign-on in the background: the tray renews the active server's access token
//! before it expires, so a shell or a notebook started later finds a fresh one.
//!
//! One timer, set from the stored token's `refresh_due_at` (core's refresh margin before
//! expiry) whenever the tray's snapshot changes; no polling. When it fires, the tray checks
//! the server (`tray::check`): core's check of an SSO server first takes a fresh credential
//! (`fresh_credential`: one refresh across all processes, under core's lock), then verifies
//! it. The refreshed token changes the snapshot, which sets the next timer. A refresh the
//! identity provider refuses is recorded as "sign-in ended" (`OutcomeKind::SessionEnded`),
//! which the menu line shows and `tray::check` announces with "Log in again".
//!
//! A due time is fired at most once: a refresh that failed for a passing reason (the
//! provider unreachable) is retried by the slow check timer (`watch.rs`), which also covers
//! a machine that slept past the due time (the monotonic clock stops during suspend).

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Manager, Runtime};

use crate::tray::{Active, TrayState};

/// The pending renewal, and the last one that fired.
#[derive(Debug, Default)]
pub struct Renewal {
    inner: Mutex<RenewalState>,
}

#[derive(Debug, Default)]
struct RenewalState {
    /// The server and due time the timer is set for, with its task.
    pending: Option<(Due, JoinHandle<()>)>,
    /// The last due time that fired (never fired twice: see the module docs).
    fired: Option<Due>,
}

/// A server's name and the time its token is due for a refresh (Unix seconds).
type Due = (String, u64);

/// What the timer should be set to for `active`: its SSO token's refresh time, unless that
/// one already fired.
fn wanted(active: Option<&Active>, fired: Option<&Due>) -> Option<Due> {
    let due = active.and_then(|a| a.refresh_due().map(|t| (a.name.clone(), t)))?;
    (fired != Some(&due)).then_some(due)
}

/// How long from `now` until `due` (zero when it is past).
fn delay(due: u64, now: SystemTime) -> Duration {
    let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Duration::from_secs(due.saturating_sub(now))
}

/// Sets (or clears) the renewal timer for the active server. Cheap when nothing changed.
pub fn schedule<R: Runtime>(app: &AppHandle<R>, active: Option<&Active>) {
    let state = app.state::<TrayState>();
    let mut r = state.renewal.inner.lock().unwrap_or_else(|e| e.into_inner());
    let want = wanted(active, r.fired.as_ref());
    if r.pending.as_ref().map(|(due, _)| due) == want.as_ref() {
        return;
    }
    if let Some((_, task)) = r.pending.take() {
        task.abort();
    }
    let Some(due) = want else { return };
    let (app, fire) = (app.clone(), due.clone());
    let task = tauri::async_runtime::spawn(async move {
        tokio::time::sleep(delay(fire.1, SystemTime::now())).await;
        {
            let state = app.state::<TrayState>();
            let mut r = state.renewal.inner.lock().unwrap_or_else(|e| e.into_inner());
            r.pending = None;
            r.fired = Some(fire.clone());
        }
        crate::tray::check(&app, fire.0);
    });
    r.pending = Some((due, task));
}

#[cfg(test)]
mod tests {
    use mlflow_login_core::{AuthKind, Server};

    use super::*;

    fn active(name: &str, refresh_due: Option<u64>) -> Active {
        let mut server = Server::new_basic("https://mlflow.example.com", "alice").unwrap();
        server.auth = AuthKind::Sso;
        Active {
            name: name.into(),
            server,
            stored: crate::tray::Stored::Yes { refresh_due },
            last: None,
            workspaces: None,
        }
    }

    #[test]
    fn the_timer_follows_the_active_servers_token() {
        assert_eq!(wanted(None, None), None, "no active server: no timer");
        assert_eq!(wanted(Some(&active("corp", None)), None), None, "no SSO token: no timer");
        assert_eq!(wanted(Some(&active("corp", Some(1_000))), None), Some(("corp".into(), 1_000)));
        let fired = ("corp".to_string(), 1_000);
        assert_eq!(wanted(Some(&active("corp", Some(1_000))), Some(&fired)), None, "a due time fires once");
        assert_eq!(
            wanted(Some(&active("corp", Some(4_600))), Some(&fired)),
            Some(("corp".into(), 4_600)),
            "the refreshed token sets the next timer"
        );
    }

    #[test]
    fn a_past_due_time_fires_at_once() {
        let now = UNIX_EPOCH + Duration::from_secs(2_000);
        assert_eq!(delay(1_000, now), Duration::ZERO);
        assert_eq!(delay(2_600, now), Duration::from_secs(600));
    }
}
