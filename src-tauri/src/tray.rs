//! The tray icon and its menu.
//!
//! What the tray shows is a [`Snapshot`], computed off the UI thread from core (config,
//! checks file, and one bounded keychain lookup for the active server) whenever the config
//! dir changes (see `watch.rs`) or a check finishes, then applied on the main thread. The
//! menu is rebuilt from the snapshot: the server list changes with the CLI.
//!
//! Menu events run on the main thread and only start work elsewhere: switching writes the
//! config on a thread; checks run on the async runtime.
//!
//! Linux trays (StatusNotifierItem via libayatana-appindicator) deliver no click on the
//! icon, so everything is in the menu. They also tick a check item by themselves when it
//! is clicked; the rebuilt menu puts the ticks back where the config says.

use std::sync::Mutex;

use chrono::{DateTime, Local, TimeZone};
use mlflow_login_core::Server;
use mlflow_login_core::checks::{CheckClass, CheckRecord};
use tauri::image::Image;
use tauri::menu::{CheckMenuItem, IsMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_clipboard_manager::ClipboardExt as _;
use tauri_plugin_opener::OpenerExt as _;

use crate::state::AppState;
use crate::windows::{self, WindowKind};

/// The tray icon's id.
pub const TRAY_ID: &str = "main";

/// A menu item. Ids on the wire are [`MenuId::id`] strings; a server's is `server:NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuId {
    /// The disabled first line.
    Status,
    /// A server in the radio list.
    Server(String),
    /// Check the active server now.
    VerifyNow,
    /// Log in again to the active server.
    LogIn,
    /// The login dialog, empty.
    AddServer,
    /// The servers window.
    ManageServers,
    /// Copy the shell init line.
    CopyShellSetup,
    /// Open the active server's web UI.
    OpenUi,
    /// Start at login (checkbox).
    StartAtLogin,
    /// Quit the tray.
    Quit,
}

const SERVER_PREFIX: &str = "server:";

impl MenuId {
    /// The id string.
    pub fn id(&self) -> String {
        match self {
            MenuId::Server(name) => format!("{SERVER_PREFIX}{name}"),
            other => other.fixed_id().to_string(),
        }
    }

    fn fixed_id(&self) -> &'static str {
        match self {
            MenuId::Status => "status",
            MenuId::Server(_) => SERVER_PREFIX,
            MenuId::VerifyNow => "verify-now",
            MenuId::LogIn => "log-in",
            MenuId::AddServer => "add-server",
            MenuId::ManageServers => "manage-servers",
            MenuId::CopyShellSetup => "copy-shell-setup",
            MenuId::OpenUi => "open-ui",
            MenuId::StartAtLogin => "start-at-login",
            MenuId::Quit => "quit",
        }
    }

    /// The item with this id string.
    pub fn parse(id: &str) -> Option<Self> {
        if let Some(name) = id.strip_prefix(SERVER_PREFIX) {
            return Some(MenuId::Server(name.to_string()));
        }
        [
            MenuId::Status,
            MenuId::VerifyNow,
            MenuId::LogIn,
            MenuId::AddServer,
            MenuId::ManageServers,
            MenuId::CopyShellSetup,
            MenuId::OpenUi,
            MenuId::StartAtLogin,
            MenuId::Quit,
        ]
        .into_iter()
        .find(|m| m.fixed_id() == id)
    }
}

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

fn icon_bytes(state: IconState, panel: Panel) -> &'static [u8] {
    match (state, panel) {
        (IconState::Ok, Panel::Dark) => include_bytes!("../../icons/tray-ok-dark.png"),
        (IconState::Ok, Panel::Light) => include_bytes!("../../icons/tray-ok-light.png"),
        (IconState::Failed, Panel::Dark) => include_bytes!("../../icons/tray-failed-dark.png"),
        (IconState::Failed, Panel::Light) => include_bytes!("../../icons/tray-failed-light.png"),
        (IconState::NoCredentials, Panel::Dark) => include_bytes!("../../icons/tray-none-dark.png"),
        (IconState::NoCredentials, Panel::Light) => include_bytes!("../../icons/tray-none-light.png"),
    }
}

/// The active server as the tray sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Active {
    /// Its name.
    pub name: String,
    /// Its settings.
    pub server: Server,
    /// Whether a password is stored (`None`: the keychain could not say).
    pub has_secret: Option<bool>,
    /// Its last check, if made for its current URL and account.
    pub last: Option<CheckRecord>,
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
    /// Reads config, checks and (for the active server) the keychain. Blocking.
    pub fn load(state: &AppState, autostart: bool) -> Self {
        let config = match state.logins().config() {
            Ok(c) => c,
            Err(e) => return Snapshot { servers: Vec::new(), active: None, error: Some(e.to_string()), autostart },
        };
        let servers = config.servers.keys().map(|n| (n.clone(), config.active.as_deref() == Some(n))).collect();
        let active = config.active_server().map(|(name, server)| Active {
            name: name.to_string(),
            server: server.clone(),
            has_secret: state.logins().secret(server).ok().map(|s| s.is_some()),
            last: state.checks().get(name, server),
        });
        Snapshot { servers, active, error: None, autostart }
    }

    /// The icon state.
    pub fn icon(&self) -> IconState {
        match &self.active {
            None => IconState::NoCredentials,
            Some(a) if a.has_secret == Some(false) => IconState::NoCredentials,
            Some(Active { last: Some(r), .. }) if r.class != CheckClass::Ok => IconState::Failed,
            Some(_) if self.error.is_some() => IconState::Failed,
            Some(_) => IconState::Ok,
        }
    }

    /// The menu's first line and the tooltip: "prod — alice @ host — OK at 14:32".
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
        let who = format!("{} — {} @ {}", a.name, a.server.account(), a.server.host_display());
        let state = match (&a.has_secret, &a.last) {
            (Some(false), _) => "no password stored".to_string(),
            (_, None) => "not checked yet".to_string(),
            (_, Some(r)) if r.class == CheckClass::Ok => format!("OK {}", checked_when(now, r.checked_at)),
            (_, Some(r)) => format!("{} {}", short_failure(&r.kind), checked_when(now, r.checked_at)),
        };
        format!("{who} — {state}")
    }
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

/// A few words for the menu line; the full sentence is in the servers window.
fn short_failure(kind: &str) -> &'static str {
    match kind {
        "bad_credentials" => "wrong password",
        "other_auth_scheme" => "needs another login",
        "forbidden" => "refused (403)",
        "not_mlflow" | "wrong_path" | "use_https" | "invalid_url" => "not an MLflow URL",
        "server_down" => "MLflow down behind proxy",
        "unreachable" => "unreachable",
        "tls" | "bad_tls_file" => "TLS error",
        _ => "check failed",
    }
}

/// The line that hooks a shell, for the user's login shell (`$SHELL`).
pub fn shell_setup_line(shell: Option<&str>) -> String {
    let name = shell.and_then(|s| s.rsplit('/').next()).unwrap_or("bash");
    match name {
        "fish" => "mlflow-login init fish | source".into(),
        "zsh" => r#"eval "$(mlflow-login init zsh)""#.into(),
        "pwsh" | "powershell" => "Invoke-Expression (& mlflow-login init powershell | Out-String)".into(),
        "sh" | "dash" | "ksh" => r#"eval "$(mlflow-login init posix)""#.into(),
        _ => r#"eval "$(mlflow-login init bash)""#.into(),
    }
}

/// The tray process's state.
#[derive(Debug)]
pub struct TrayState {
    /// Core, as in the window process.
    pub app: AppState,
    panel: Panel,
    shown: Mutex<Option<Snapshot>>,
    last_active: Mutex<Option<String>>,
}

impl TrayState {
    /// Over `app`.
    pub fn new(app: AppState, panel: Panel) -> Self {
        Self { app, panel, shown: Mutex::new(None), last_active: Mutex::new(None) }
    }
}

/// The menu for `snap`, under `status` (its status line, also the tooltip).
fn build_menu<R: Runtime>(app: &AppHandle<R>, snap: &Snapshot, status: &str) -> tauri::Result<Menu<R>> {
    let status = MenuItem::with_id(app, MenuId::Status.id(), status, false, None::<&str>)?;
    let servers = snap
        .servers
        .iter()
        .map(|(name, active)| {
            CheckMenuItem::with_id(app, MenuId::Server(name.clone()).id(), name, true, *active, None::<&str>)
        })
        .collect::<tauri::Result<Vec<_>>>()?;
    let has_active = snap.active.is_some();
    let item = |id: MenuId, text: &str, enabled: bool| MenuItem::with_id(app, id.id(), text, enabled, None::<&str>);
    let verify = item(MenuId::VerifyNow, "Verify now", has_active)?;
    let login = item(MenuId::LogIn, "Log in…", true)?;
    let add = item(MenuId::AddServer, "Add server…", true)?;
    let manage = item(MenuId::ManageServers, "Manage servers…", true)?;
    let copy = item(MenuId::CopyShellSetup, "Copy shell setup", true)?;
    let open = item(MenuId::OpenUi, "Open MLflow UI", has_active)?;
    let autostart =
        CheckMenuItem::with_id(app, MenuId::StartAtLogin.id(), "Start at login", true, snap.autostart, None::<&str>)?;
    let quit = item(MenuId::Quit, "Quit", true)?;
    let separators = (0..4).map(|_| PredefinedMenuItem::separator(app)).collect::<tauri::Result<Vec<_>>>()?;

    let mut items: Vec<&dyn IsMenuItem<R>> = vec![&status, &separators[0]];
    items.extend(servers.iter().map(|s| s as &dyn IsMenuItem<R>));
    if !servers.is_empty() {
        items.push(&separators[1]);
    }
    items.extend([&verify as &dyn IsMenuItem<R>, &login, &add, &manage, &separators[2]]);
    items.extend([&copy as &dyn IsMenuItem<R>, &open, &autostart, &separators[3], &quit]);
    Menu::with_items(app, &items)
}

/// Creates the tray icon (with an empty state; the first refresh fills it in).
pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<TrayIcon<R>> {
    let state = app.state::<TrayState>();
    let snap = Snapshot { servers: Vec::new(), active: None, error: None, autostart: false };
    let menu = build_menu(app, &snap, &snap.status_line(&Local::now()))?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(icon_bytes(IconState::NoCredentials, state.panel))?)
        .tooltip("MLflow Login")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(on_menu_event)
        .build(app)
}

/// Re-reads everything and updates the tray. Blocking (one bounded keychain call); call it
/// from a background thread. Starts a check when the active server changed.
pub fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<TrayState>();
    let autostart =
        app.try_state::<tauri_plugin_autostart::AutoLaunchManager>().is_some_and(|m| m.is_enabled().unwrap_or(false));
    let snap = Snapshot::load(&state.app, autostart);
    let active = snap.active.as_ref().map(|a| a.name.clone());
    let switched = {
        let mut last = state.last_active.lock().unwrap_or_else(|e| e.into_inner());
        let switched = *last != active;
        *last = active.clone();
        switched
    };
    let changed = {
        let mut shown = state.shown.lock().unwrap_or_else(|e| e.into_inner());
        let changed = shown.as_ref() != Some(&snap);
        *shown = Some(snap.clone());
        changed
    };
    if changed {
        let handle = app.clone();
        let _ = app.run_on_main_thread(move || apply(&handle, &snap));
    }
    if switched && let Some(name) = active {
        check(app, name);
    }
}

/// Applies a snapshot. Main thread.
fn apply<R: Runtime>(app: &AppHandle<R>, snap: &Snapshot) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else { return };
    let panel = app.state::<TrayState>().panel;
    let result = (|| -> tauri::Result<()> {
        let status = snap.status_line(&Local::now());
        tray.set_menu(Some(build_menu(app, snap, &status)?))?;
        tray.set_icon(Some(Image::from_bytes(icon_bytes(snap.icon(), panel))?))?;
        tray.set_tooltip(Some(status))?;
        Ok(())
    })();
    if let Err(e) = result {
        eprintln!("mlflow-login-tray: cannot update the tray: {e}");
    }
}

/// Checks `name` in the background; the checks file changes, so the watcher refreshes the
/// tray. When the server starts refusing the password, a notification says so.
pub fn check<R: Runtime>(app: &AppHandle<R>, name: String) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<TrayState>().app.clone();
        match crate::commands::verify::check(&state, name.clone()).await {
            Ok(checked) => {
                let was_refused = checked.previous.as_ref().is_some_and(|p| p.class == CheckClass::Refused);
                if checked.record.class == CheckClass::Refused && !was_refused {
                    crate::notify::show(
                        &app,
                        &format!("{name}: {} Log in again from the tray menu (Log in…).", checked.record.summary),
                    );
                }
            }
            Err(e) => eprintln!("mlflow-login-tray: cannot check {name}: {}", e.message),
        }
    });
}

fn on_menu_event<R: Runtime>(app: &AppHandle<R>, event: MenuEvent) {
    let Some(id) = MenuId::parse(event.id().as_ref()) else { return };
    let active = || {
        let state = app.state::<TrayState>();
        let shown = state.shown.lock().unwrap_or_else(|e| e.into_inner());
        shown.as_ref().and_then(|s| s.active.as_ref().map(|a| (a.name.clone(), a.server.url.clone())))
    };
    match id {
        MenuId::Status => {}
        MenuId::Server(name) => {
            let app = app.clone();
            background(move || {
                let state = app.state::<TrayState>();
                if let Err(e) = state.app.logins().set_active(Some(&name)) {
                    eprintln!("mlflow-login-tray: cannot switch to {name}: {e}");
                }
                refresh(&app);
            });
        }
        MenuId::VerifyNow => {
            if let Some((name, _)) = active() {
                check(app, name);
            }
        }
        MenuId::LogIn => windows::spawn_process(WindowKind::Login, active().map(|(n, _)| n)),
        MenuId::AddServer => windows::spawn_process(WindowKind::Login, None),
        MenuId::ManageServers => windows::spawn_process(WindowKind::Servers, None),
        MenuId::CopyShellSetup => {
            let line = shell_setup_line(std::env::var("SHELL").ok().as_deref());
            if let Err(e) = app.clipboard().write_text(line) {
                eprintln!("mlflow-login-tray: cannot copy to the clipboard: {e}");
            }
        }
        MenuId::OpenUi => {
            if let Some((_, url)) = active() {
                let app = app.clone();
                background(move || {
                    if let Err(e) = app.opener().open_url(url, None::<&str>) {
                        eprintln!("mlflow-login-tray: cannot open the browser: {e}");
                    }
                });
            }
        }
        MenuId::StartAtLogin => {
            let app = app.clone();
            background(move || {
                let manager = app.autolaunch();
                let result = if manager.is_enabled().unwrap_or(false) { manager.disable() } else { manager.enable() };
                if let Err(e) = result {
                    eprintln!("mlflow-login-tray: cannot change start at login: {e}");
                }
                refresh(&app);
            });
        }
        MenuId::Quit => app.exit(0),
    }
}

/// Runs blocking work off the main thread.
pub fn background(f: impl FnOnce() + Send + 'static) {
    if let Err(e) = std::thread::Builder::new().name("tray-work".into()).spawn(f) {
        eprintln!("mlflow-login-tray: cannot start a thread: {e}");
    }
}

#[cfg(test)]
mod tests {
    use chrono::FixedOffset;

    use super::*;

    #[test]
    fn menu_ids_round_trip() {
        for id in [
            MenuId::Status,
            MenuId::Server("prod".into()),
            MenuId::Server("a.b-c".into()),
            MenuId::Quit,
            MenuId::StartAtLogin,
        ] {
            assert_eq!(MenuId::parse(&id.id()), Some(id));
        }
        assert_eq!(MenuId::parse("nope"), None);
    }

    #[test]
    fn status_lines_and_icons() {
        let server = Server::new_basic("https://mlflow.example.com/mlflow", "alice").unwrap();
        let record = |class, kind: &str| CheckRecord {
            kind: kind.into(),
            class,
            summary: String::new(),
            help: None,
            field: None,
            latency_ms: 5,
            server_version: None,
            checked_at: 1_000_000,
            url: server.url.clone(),
            account: "alice".into(),
        };
        let mut snap = Snapshot {
            servers: vec![("prod".into(), true)],
            active: Some(Active {
                name: "prod".into(),
                server: server.clone(),
                has_secret: Some(true),
                last: Some(record(CheckClass::Ok, "ok")),
            }),
            error: None,
            autostart: false,
        };
        // 1970-01-01 00:16:40 UTC; shown in UTC+1.
        let tz = FixedOffset::east_opt(3600).unwrap();
        let at = |ms: i64| DateTime::from_timestamp_millis(ms).unwrap().with_timezone(&tz);
        assert_eq!(snap.status_line(&at(1_000_000 + 125_000)), "prod — alice @ mlflow.example.com — OK at 01:16");
        assert_eq!(snap.icon(), IconState::Ok);
        snap.active.as_mut().unwrap().last = Some(record(CheckClass::Refused, "bad_credentials"));
        assert_eq!(snap.status_line(&at(1_000_000)), "prod — alice @ mlflow.example.com — wrong password at 01:16");
        assert_eq!(snap.icon(), IconState::Failed);
        snap.active.as_mut().unwrap().has_secret = Some(false);
        assert_eq!(snap.icon(), IconState::NoCredentials);
        snap.active = None;
        assert_eq!(snap.icon(), IconState::NoCredentials);
        assert_eq!(snap.status_line(&at(0)), "No active server: pick one below");
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

    #[test]
    fn shell_lines() {
        assert_eq!(shell_setup_line(Some("/bin/bash")), r#"eval "$(mlflow-login init bash)""#);
        assert_eq!(shell_setup_line(Some("/usr/bin/fish")), "mlflow-login init fish | source");
        assert_eq!(shell_setup_line(Some("/usr/bin/zsh")), r#"eval "$(mlflow-login init zsh)""#);
        assert_eq!(shell_setup_line(None), r#"eval "$(mlflow-login init bash)""#);
    }
}
