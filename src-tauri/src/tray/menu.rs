//! The tray menu: its items ([`MenuId`], an enum, never loose strings), the menu built
//! from a [`Snapshot`], and what each item does.
//!
//! Menu events run on the main thread and only start work elsewhere: switching writes the
//! config on a thread; checks run on the async runtime. Linux trays (StatusNotifierItem via
//! libayatana-appindicator) deliver no click on the icon, so everything is in the menu.
//! They also tick a check item by themselves when it is clicked; the rebuilt menu puts the
//! ticks back where the config says.

use mlflow_login_core::Secret;
use mlflow_login_core::shell::Shell;
use mlflow_login_core::workspaces;
use tauri::menu::{CheckMenuItem, IsMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_clipboard_manager::ClipboardExt as _;
use tauri_plugin_opener::OpenerExt as _;

use super::proxies::Want;
use super::view::{self, Snapshot};
use super::{TrayState, background, check, refresh};
use crate::args::WindowKind;
use crate::windows;

/// A menu item. Ids on the wire are [`MenuId::id`] strings; a server's is `server:NAME`,
/// a workspace's `workspace:NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuId {
    /// The disabled first line.
    Status,
    /// A server in the radio list.
    Server(String),
    /// A workspace of the active server, in its submenu.
    Workspace(String),
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
    /// Open the active server's web UI through its local proxy, signed in.
    OpenUi,
    /// Copy the active server's local proxy tracking URI.
    CopyTrackingUri,
    /// Start at login (checkbox).
    StartAtLogin,
    /// Quit the tray.
    Quit,
}

const SERVER_PREFIX: &str = "server:";
const WORKSPACE_PREFIX: &str = "workspace:";

impl MenuId {
    /// The id string.
    pub fn id(&self) -> String {
        match self {
            MenuId::Server(name) => format!("{SERVER_PREFIX}{name}"),
            MenuId::Workspace(name) => format!("{WORKSPACE_PREFIX}{name}"),
            other => other.fixed_id().to_string(),
        }
    }

    fn fixed_id(&self) -> &'static str {
        match self {
            MenuId::Status => "status",
            MenuId::Server(_) => SERVER_PREFIX,
            MenuId::Workspace(_) => WORKSPACE_PREFIX,
            MenuId::VerifyNow => "verify-now",
            MenuId::LogIn => "log-in",
            MenuId::AddServer => "add-server",
            MenuId::ManageServers => "manage-servers",
            MenuId::CopyShellSetup => "copy-shell-setup",
            MenuId::OpenUi => "open-ui",
            MenuId::CopyTrackingUri => "copy-tracking-uri",
            MenuId::StartAtLogin => "start-at-login",
            MenuId::Quit => "quit",
        }
    }

    /// The item with this id string.
    pub fn parse(id: &str) -> Option<Self> {
        if let Some(name) = id.strip_prefix(SERVER_PREFIX) {
            return Some(MenuId::Server(name.to_string()));
        }
        if let Some(name) = id.strip_prefix(WORKSPACE_PREFIX) {
            return Some(MenuId::Workspace(name.to_string()));
        }
        [
            MenuId::Status,
            MenuId::VerifyNow,
            MenuId::LogIn,
            MenuId::AddServer,
            MenuId::ManageServers,
            MenuId::CopyShellSetup,
            MenuId::OpenUi,
            MenuId::CopyTrackingUri,
            MenuId::StartAtLogin,
            MenuId::Quit,
        ]
        .into_iter()
        .find(|m| m.fixed_id() == id)
    }
}

/// The line that hooks the user's login shell (`$SHELL`), from core's shell table.
pub fn shell_setup_line(login_shell: Option<&str>) -> String {
    Shell::from_login_shell(login_shell).init_line("")
}

/// The menu for `snap`, under `status` (its status line, also the tooltip).
pub(super) fn build_menu<R: Runtime>(app: &AppHandle<R>, snap: &Snapshot, status: &str) -> tauri::Result<Menu<R>> {
    let status = MenuItem::with_id(app, MenuId::Status.id(), status, false, None::<&str>)?;
    let servers = snap
        .servers
        .iter()
        .map(|(name, active)| {
            CheckMenuItem::with_id(app, MenuId::Server(name.clone()).id(), name, true, *active, None::<&str>)
        })
        .collect::<tauri::Result<Vec<_>>>()?;
    let workspaces = workspace_menu(app, snap)?;
    let has_active = snap.active.is_some();
    let item = |id: MenuId, text: &str, enabled: bool| MenuItem::with_id(app, id.id(), text, enabled, None::<&str>);
    let verify = item(MenuId::VerifyNow, "Verify now", has_active)?;
    let login = item(MenuId::LogIn, "Log in…", true)?;
    let add = item(MenuId::AddServer, "Add server…", true)?;
    let manage = item(MenuId::ManageServers, "Manage servers…", true)?;
    let copy = item(MenuId::CopyShellSetup, "Copy shell setup", true)?;
    let open = item(MenuId::OpenUi, "Open MLflow in browser", has_active)?;
    let copy_uri = item(MenuId::CopyTrackingUri, "Copy tracking URI for R, Java and other clients", has_active)?;
    let autostart =
        CheckMenuItem::with_id(app, MenuId::StartAtLogin.id(), "Start at login", true, snap.autostart, None::<&str>)?;
    let quit = item(MenuId::Quit, "Quit", true)?;
    let separators = (0..4).map(|_| PredefinedMenuItem::separator(app)).collect::<tauri::Result<Vec<_>>>()?;

    let mut items: Vec<&dyn IsMenuItem<R>> = vec![&status, &separators[0]];
    items.extend(servers.iter().map(|s| s as &dyn IsMenuItem<R>));
    if let Some(submenu) = &workspaces {
        items.push(submenu);
    }
    if !servers.is_empty() {
        items.push(&separators[1]);
    }
    items.extend([&verify as &dyn IsMenuItem<R>, &login, &add, &manage, &separators[2]]);
    items.extend([&copy as &dyn IsMenuItem<R>, &open, &copy_uri, &autostart, &separators[3], &quit]);
    Menu::with_items(app, &items)
}

/// The active server's workspaces, as the server last listed them for the user, the
/// active one checked: `None` when there is nothing to choose (no list yet, a server
/// without workspaces, a list that could not be had, or an empty one). An active workspace
/// the server no longer lists stays in, checked, so the submenu never hides what is in force.
fn workspace_menu<R: Runtime>(app: &AppHandle<R>, snap: &Snapshot) -> tauri::Result<Option<Submenu<R>>> {
    let Some(active) = &snap.active else { return Ok(None) };
    let Some(listed) = active.workspaces.as_ref().filter(|l| !l.is_empty()) else { return Ok(None) };
    let current = active.server.workspace.as_deref();
    let mut names: Vec<&str> = listed.iter().map(String::as_str).collect();
    if let Some(ws) = current.filter(|ws| !names.contains(ws)) {
        names.push(ws);
    }
    let items = names
        .iter()
        .map(|ws| {
            CheckMenuItem::with_id(
                app,
                MenuId::Workspace(ws.to_string()).id(),
                ws,
                true,
                current == Some(*ws),
                None::<&str>,
            )
        })
        .collect::<tauri::Result<Vec<_>>>()?;
    let refs: Vec<&dyn IsMenuItem<R>> = items.iter().map(|i| i as &dyn IsMenuItem<R>).collect();
    let title = match current {
        Some(ws) => format!("Workspace: {ws}"),
        None => "Workspace".to_string(),
    };
    Submenu::with_items(app, title, true, &refs).map(Some)
}

pub(super) fn on_menu_event<R: Runtime>(app: &AppHandle<R>, event: MenuEvent) {
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
        MenuId::Workspace(ws) => {
            let Some((name, _)) = active() else { return };
            let app = app.clone();
            background(move || {
                let state = app.state::<TrayState>();
                let opts = state.app.verify_options().clone();
                let logins = state.app.logins().clone();
                match tauri::async_runtime::block_on(workspaces::select(&logins, &name, &ws, &opts)) {
                    Ok(Ok(())) => {}
                    Ok(Err(not)) => crate::notify::show(&app, &view::workspace_not_selected(&name, &ws, &not)),
                    Err(e) => eprintln!("mlflow-login-tray: cannot select workspace {ws} of {name}: {e}"),
                }
                // The panel ticked or unticked the clicked item itself; when nothing changed
                // (a refusal, the active one clicked) the snapshot is the same, so rebuild.
                *state.shown.lock().unwrap_or_else(|e| e.into_inner()) = None;
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
        MenuId::OpenUi => with_proxy(app, Want::BrowserLink, |app, link| {
            if let Err(e) = app.opener().open_url(link.expose(), None::<&str>) {
                eprintln!("mlflow-login-tray: cannot open the browser: {e}");
            }
        }),
        MenuId::CopyTrackingUri => with_proxy(app, Want::TrackingUri, |app, uri| {
            if let Err(e) = app.clipboard().write_text(uri.expose()) {
                eprintln!("mlflow-login-tray: cannot copy to the clipboard: {e}");
            }
        }),
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

/// Starts (on first use) the active server's local proxy on the async runtime, then hands
/// `f` what `want` asks for.
fn with_proxy<R: Runtime>(app: &AppHandle<R>, want: Want, f: impl FnOnce(&AppHandle<R>, Secret) + Send + 'static) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<TrayState>();
        match state.proxies.active(&state.app, want).await {
            Ok(secret) => f(&app, secret),
            Err(e) => eprintln!("mlflow-login-tray: cannot start the local proxy: {e}"),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_ids_round_trip() {
        for id in [
            MenuId::Status,
            MenuId::Server("prod".into()),
            MenuId::Server("a.b-c".into()),
            MenuId::Workspace("team-a".into()),
            MenuId::Quit,
            MenuId::StartAtLogin,
        ] {
            assert_eq!(MenuId::parse(&id.id()), Some(id));
        }
        assert_eq!(MenuId::parse("nope"), None);
    }

    #[test]
    fn shell_lines() {
        assert_eq!(shell_setup_line(Some("/bin/bash")), r#"eval "$(mlflow-login init bash)""#);
        assert_eq!(shell_setup_line(Some("/usr/bin/fish")), "mlflow-login init fish | source");
        assert_eq!(shell_setup_line(Some("/usr/bin/zsh")), r#"eval "$(mlflow-login init zsh)""#);
        assert_eq!(shell_setup_line(Some("/bin/dash")), r#"eval "$(mlflow-login init posix)""#);
    }
}
