//! What the tray shows, computed from core: the [`Snapshot`] (servers, the active one,
//! its last check), the icon state and the status line. No Tauri here: pure data, unit
//! tested.

use chrono::{DateTime, TimeZone};
use mlflow_login_core::checks::{CheckClass, CheckRecord};
use mlflow_login_core::workspaces::NotSelected;
use mlflow_login_core::{AuthKind, Error, Server, TokenSet};

use crate::state::AppState;

/// The icon's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IconState {
    /// Signed in, last check OK (or not checked yet).
    Ok,
    /// The last check failed.
    Failed,
    /// No server, or no password stored.
    NoCredentials,
}

/// The panel the icon sits on: dark panels get the light glyph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    /// A dark panel (the default: most Linux panels, macOS's dark menu bar).
    Dark,
    /// A light panel.
    Light,
}

impl Panel {
    /// `MLFLOW_LOGIN_TRAY_PANEL=light|dark`, else dark.
    pub fn from_env() -> Self {
        match std::env::var("MLFLOW_LOGIN_TRAY_PANEL").as_deref() {
            Ok("light") => Panel::Light,
            _ => Panel::Dark,
        }
    }
}

pub(super) fn icon_bytes(state: IconState, panel: Panel) -> &'static [u8] {
    match (state, panel) {
        (IconState::Ok, Panel::Dark) => include_bytes!("../../../icons/tray-ok-dark.png"),
        (IconState::Ok, Panel::Light) => include_bytes!("../../../icons/tray-ok-light.png"),
        (IconState::Failed, Panel::Dark) => include_bytes!("../../../icons/tray-failed-dark.png"),
        (IconState::Failed, Panel::Light) => include_bytes!("../../../icons/tray-failed-light.png"),
        (IconState::NoCredentials, Panel::Dark) => include_bytes!("../../../icons/tray-none-dark.png"),
        (IconState::NoCredentials, Panel::Light) => include_bytes!("../../../icons/tray-none-light.png"),
    }
}

/// The active server as the tray sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Active {
    /// Its name.
    pub name: String,
    /// Its settings.
    pub server: Server,
    /// What the keychain holds for it.
    pub stored: Stored,
    /// Its last check, if made for its current URL, account and workspace.
    pub last: Option<CheckRecord>,
    /// The workspaces the server last listed for the user (`None`: not known yet, or the
    /// server has none, or could not say; then the menu has no workspace submenu).
    pub workspaces: Option<Vec<String>>,
}

impl Active {
    /// "prod", or "prod / team-a" with its active workspace.
    pub fn title(&self) -> String {
        match &self.server.workspace {
            Some(ws) => format!("{} / {ws}", self.name),
            None => self.name.clone(),
        }
    }

    /// Single sign-on: when its stored access token is due for a refresh (Unix seconds),
    /// which sets the tray's renewal timer (`tray::renew`).
    pub fn refresh_due(&self) -> Option<u64> {
        match self.stored {
            Stored::Yes { refresh_due } => refresh_due,
            _ => None,
        }
    }
}

/// What the keychain said about the active server's password or token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// Not known yet: the keychain is being asked. The menu does not wait for the answer
    /// (a hung Secret Service takes the whole bound to fail).
    Asking,
    /// A password or token is stored. Single sign-on: when its access token is due for a
    /// refresh (Unix seconds).
    Yes {
        /// See [`Active::refresh_due`].
        refresh_due: Option<u64>,
    },
    /// Nothing is stored.
    No,
    /// The keychain could not say.
    Failed(KeychainFault),
}

impl Stored {
    /// Asks the keychain about `server`. Blocking, bounded by core's keychain wait.
    pub fn read(state: &AppState, name: &str, server: &Server) -> Self {
        match state.logins().secret(name, server) {
            // One keychain read gives both: whether a secret is stored, and (SSO) its expiry.
            Ok(Some(secret)) => Stored::Yes {
                refresh_due: if server.auth == AuthKind::Sso {
                    TokenSet::from_secret(&secret).ok().and_then(|t| t.refresh_due_at())
                } else {
                    None
                },
            },
            Ok(None) => Stored::No,
            Err(e) => Stored::Failed(KeychainFault::of(&e)),
        }
    }
}

/// Why the keychain could not say, from core's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeychainFault {
    /// No answer within this many seconds (core's bound): a hung Secret Service, or an
    /// unlock prompt nobody answered.
    NotAnswering(u64),
    /// The keychain is locked.
    Locked,
    /// No keychain (no Secret Service, no session bus).
    Unavailable,
    /// Any other failure.
    Other,
}

impl KeychainFault {
    /// The fault `e` is.
    pub fn of(e: &Error) -> Self {
        match e {
            Error::KeychainTimeout(seconds) => KeychainFault::NotAnswering(*seconds),
            Error::KeychainLocked(_) => KeychainFault::Locked,
            Error::KeychainUnavailable(_) => KeychainFault::Unavailable,
            _ => KeychainFault::Other,
        }
    }

    /// For the status line; the timeout in the CLI's words (core's `KeychainTimeout`).
    fn short(self) -> String {
        match self {
            KeychainFault::NotAnswering(seconds) => format!("the keychain did not answer within {seconds} s"),
            KeychainFault::Locked => "the keychain is locked".into(),
            KeychainFault::Unavailable => "the keychain is not available".into(),
            KeychainFault::Other => "the keychain failed".into(),
        }
    }
}

/// Everything the tray shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Server names, and which is active.
    pub servers: Vec<(String, bool)>,
    /// The active server.
    pub active: Option<Active>,
    /// Why the config could not be read, if it could not.
    pub error: Option<String>,
    /// Whether the app starts at login.
    pub autostart: bool,
}

impl Snapshot {
    /// Reads config and checks, never the keychain nor the server: what the keychain holds
    /// for the active server is `stored(server)` (what the tray last heard, or
    /// [`Stored::Asking`]), its workspaces `listed(name, server)` (what the server last
    /// listed). Blocking (files only).
    pub fn load(
        state: &AppState,
        autostart: bool,
        stored: impl FnOnce(&Server) -> Stored,
        listed: impl FnOnce(&str, &Server) -> Option<Vec<String>>,
    ) -> Self {
        let config = match state.logins().config() {
            Ok(c) => c,
            Err(e) => return Snapshot { servers: Vec::new(), active: None, error: Some(e.to_string()), autostart },
        };
        let servers = config.servers.keys().map(|n| (n.clone(), config.active.as_deref() == Some(n))).collect();
        let active = config.active_server().map(|(name, server)| Active {
            name: name.to_string(),
            server: server.clone(),
            stored: stored(server),
            last: state.checks().get(name, server),
            workspaces: listed(name, server),
        });
        Snapshot { servers, active, error: None, autostart }
    }

    /// The icon state.
    pub fn icon(&self) -> IconState {
        match &self.active {
            None => IconState::NoCredentials,
            Some(a) if a.stored == Stored::No => IconState::NoCredentials,
            Some(Active { stored: Stored::Failed(_), .. }) => IconState::Failed,
            Some(Active { last: Some(r), .. }) if r.class != CheckClass::Ok => IconState::Failed,
            Some(_) if self.error.is_some() => IconState::Failed,
            Some(_) => IconState::Ok,
        }
    }

    /// The menu's first line and the tooltip: "prod — alice @ host — OK at 14:32", with the
    /// active workspace "prod / team-a — alice @ host — OK at 14:32".
    ///
    /// The time of the last check is given as a clock time, not "2 min ago": a relative
    /// time would need a timer re-drawing the menu every minute, and the idle tray wakes
    /// for nothing but its slow check timer.
    pub fn status_line<Tz: TimeZone>(&self, now: &DateTime<Tz>) -> String
    where
        Tz::Offset: std::fmt::Display,
    {
        if let Some(e) = &self.error {
            return format!("Config error: {e}");
        }
        let Some(a) = &self.active else {
            return if self.servers.is_empty() {
                "No server yet: Log in… to add one".into()
            } else {
                "No active server: pick one below".into()
            };
        };
        // The account as the server knows it (admin, groups, expiry) once a check said so.
        let account = a
            .last
            .as_ref()
            .and_then(|r| r.identity.as_ref())
            .map_or_else(|| a.server.account().to_string(), |id| id.describe());
        let who = format!("{} — {account} @ {}", a.title(), a.server.host_display());
        let state = match (&a.stored, &a.last) {
            // What the keychain says now comes before a check made with what it said then.
            (Stored::Failed(fault), _) => fault.short(),
            (Stored::No, _) => "no password stored".to_string(),
            (_, None) => "not checked yet".to_string(),
            (_, Some(r)) if r.class == CheckClass::Ok => format!("OK {}", checked_when(now, r.checked_at)),
            (_, Some(r)) => format!("{} {}", r.kind.short(), checked_when(now, r.checked_at)),
        };
        format!("{who} — {state}")
    }
}

/// The notification when a check of `name` starts being refused (a wrong password, a
/// single sign-on session the identity provider ended): what the check found, and "Log in
/// again" with where.
pub fn refused_notice(name: &str, summary: &str) -> String {
    let summary = summary.trim_end();
    let stop = if summary.ends_with(['.', '!', '?']) { "" } else { "." };
    format!("{name}: {summary}{stop} Log in again from the tray menu (Log in…).")
}

/// The notification when the workspace `ws` of `name`, chosen in the menu, was not
/// selected (the server does not list it for the user, or could not be asked): why, and
/// what to do. Nothing changed.
pub fn workspace_not_selected(name: &str, ws: &str, not: &NotSelected) -> String {
    let help = match not {
        NotSelected::Refused(refusal) => refusal.help(),
        NotSelected::CannotAsk(outcome) => outcome.help().unwrap_or_else(|| "try again later".into()),
    };
    let mut help = help.chars();
    let help = help.next().map(|c| c.to_uppercase().chain(help).collect::<String>()).unwrap_or_default();
    format!("{name}: workspace {ws} not selected: {not}. {help}.")
}

/// When a check ran, in `now`'s time zone: "at 14:32" the same day, "on Tue 14:32" within
/// the week, "on 26 Nov 14:32" before that.
pub fn checked_when<Tz: TimeZone>(now: &DateTime<Tz>, then_ms: u64) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let Some(then) = i64::try_from(then_ms).ok().and_then(DateTime::from_timestamp_millis) else {
        return "at an unknown time".into();
    };
    let then = then.with_timezone(&now.timezone());
    let format = match (now.date_naive() - then.date_naive()).num_days() {
        ..=0 => "at %H:%M",
        1..=6 => "on %a %H:%M",
        _ => "on %-d %b %H:%M",
    };
    then.format(format).to_string()
}

#[cfg(test)]
mod tests {
    use chrono::FixedOffset;
    use mlflow_login_core::OutcomeKind;

    use super::*;

    #[test]
    fn status_lines_and_icons() {
        let server = Server::new_basic("https://mlflow.example.com/mlflow", "alice").unwrap();
        let record = |class, kind: OutcomeKind| CheckRecord {
            kind,
            class,
            summary: String::new(),
            help: None,
            field: None,
            latency_ms: 5,
            server_version: None,
            checked_at: 1_000_000,
            url: server.url.clone(),
            account: "alice".into(),
            workspace: None,
            identity: None,
        };
        let mut snap = Snapshot {
            servers: vec![("prod".into(), true)],
            active: Some(Active {
                name: "prod".into(),
                server: server.clone(),
                stored: Stored::Yes { refresh_due: None },
                last: Some(record(CheckClass::Ok, OutcomeKind::Ok)),
                workspaces: None,
            }),
            error: None,
            autostart: false,
        };
        // 1970-01-01 00:16:40 UTC; shown in UTC+1.
        let tz = FixedOffset::east_opt(3600).unwrap();
        let at = |ms: i64| DateTime::from_timestamp_millis(ms).unwrap().with_timezone(&tz);
        assert_eq!(snap.status_line(&at(1_000_000 + 125_000)), "prod — alice @ mlflow.example.com — OK at 01:16");
        assert_eq!(snap.icon(), IconState::Ok);
        // Who the server says the user is, once a check told.
        let mut known = record(CheckClass::Ok, OutcomeKind::Ok);
        known.identity = Some(mlflow_login_core::verify::Identity {
            username: "alice".into(),
            is_admin: Some(true),
            groups: vec!["ml".into()],
            expires_at: None,
            reads_experiments: None,
        });
        snap.active.as_mut().unwrap().last = Some(known);
        assert_eq!(
            snap.status_line(&at(1_000_000)),
            "prod — alice (admin; groups: ml) @ mlflow.example.com — OK at 01:16"
        );
        // The active workspace is named with the server.
        snap.active.as_mut().unwrap().server.workspace = Some("team-a".into());
        assert_eq!(
            snap.status_line(&at(1_000_000)),
            "prod / team-a — alice (admin; groups: ml) @ mlflow.example.com — OK at 01:16"
        );
        snap.active.as_mut().unwrap().server.workspace = None;
        snap.active.as_mut().unwrap().last = Some(record(CheckClass::Refused, OutcomeKind::BadCredentials));
        assert_eq!(snap.status_line(&at(1_000_000)), "prod — alice @ mlflow.example.com — wrong password at 01:16");
        assert_eq!(snap.icon(), IconState::Failed);
        snap.active.as_mut().unwrap().stored = Stored::No;
        assert_eq!(snap.icon(), IconState::NoCredentials);
        assert_eq!(snap.status_line(&at(0)), "prod — alice @ mlflow.example.com — no password stored");

        // Asking the keychain changes nothing shown: the line and icon wait for its answer.
        snap.active.as_mut().unwrap().stored = Stored::Asking;
        assert_eq!(snap.status_line(&at(1_000_000)), "prod — alice @ mlflow.example.com — wrong password at 01:16");
        snap.active.as_mut().unwrap().last = None;
        assert_eq!(snap.status_line(&at(0)), "prod — alice @ mlflow.example.com — not checked yet");
        assert_eq!(snap.icon(), IconState::Ok);

        // A keychain that cannot say is said, before any check (the last one was OK).
        snap.active.as_mut().unwrap().last = Some(record(CheckClass::Ok, OutcomeKind::Ok));
        for (err, line) in [
            (Error::KeychainTimeout(120), "the keychain did not answer within 120 s"),
            (Error::KeychainLocked("no prompt".into()), "the keychain is locked"),
            (Error::KeychainUnavailable("no Secret Service".into()), "the keychain is not available"),
            (Error::Cancelled, "the keychain failed"),
        ] {
            snap.active.as_mut().unwrap().stored = Stored::Failed(KeychainFault::of(&err));
            assert_eq!(snap.status_line(&at(0)), format!("prod — alice @ mlflow.example.com — {line}"), "{err:?}");
            assert_eq!(snap.icon(), IconState::Failed, "{err:?}");
        }
        assert_eq!(
            snap.active.as_ref().unwrap().stored,
            Stored::Failed(KeychainFault::Other),
            "a kind that is not the keychain's"
        );
        snap.active = None;
        assert_eq!(snap.icon(), IconState::NoCredentials);
        assert_eq!(snap.status_line(&at(0)), "No active server: pick one below");
    }

    #[test]
    fn refusals_say_log_in_again() {
        assert_eq!(
            refused_notice("corp", "the single sign-on session ended: grant request is invalid"),
            "corp: the single sign-on session ended: grant request is invalid. Log in again from the tray menu (Log in…)."
        );
        assert_eq!(
            refused_notice("prod", "the server refused the password. "),
            "prod: the server refused the password. Log in again from the tray menu (Log in…)."
        );
    }

    #[test]
    fn a_workspace_not_selected_says_why_and_which_may_be_used() {
        let refused = NotSelected::Refused(mlflow_login_core::workspaces::Refusal::NotListed {
            workspace: "team-b".into(),
            available: vec!["team-a".into()],
        });
        assert_eq!(
            workspace_not_selected("prod", "team-b", &refused),
            "prod: workspace team-b not selected: the server lists no workspace \"team-b\" for you: it does not \
             exist, or you may not read it. Yours: team-a; or ask the server's administrator for access."
        );
    }

    #[test]
    fn check_times_are_clock_times() {
        let tz = FixedOffset::west_opt(5 * 3600).unwrap();
        let now = tz.with_ymd_and_hms(2026, 11, 27, 9, 5, 0).unwrap();
        let ms = |d: DateTime<FixedOffset>| u64::try_from(d.timestamp_millis()).unwrap();
        let when = |y, mo, d, h, mi| checked_when(&now, ms(tz.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()));
        assert_eq!(when(2026, 11, 27, 0, 1), "at 00:01");
        assert_eq!(when(2026, 11, 27, 9, 6), "at 09:06", "a check a moment in the future (clock skew)");
        assert_eq!(when(2026, 11, 26, 23, 59), "on Thu 23:59");
        assert_eq!(when(2026, 11, 21, 8, 0), "on Sat 08:00");
        assert_eq!(when(2026, 11, 20, 8, 0), "on 20 Nov 08:00");
        assert_eq!(when(2025, 1, 2, 8, 0), "on 2 Jan 08:00");
        assert_eq!(checked_when(&now, u64::MAX), "at an unknown time");
    }
}
