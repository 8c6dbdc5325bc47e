//! The tray icon and its menu: the runtime part (create, refresh, background checks).
//! What it shows is in [`view`], the menu and its handlers in [`menu`].
//!
//! What the tray shows is a [`Snapshot`], computed off the UI thread from core (config,
//! checks file, and one bounded keychain lookup for the active server) whenever the config
//! dir changes (see `watch.rs`) or a check finishes, then applied on the main thread. The
//! menu is rebuilt from the snapshot: the server list changes with the CLI.
//!
//! The active single sign-on server's token is renewed in the background before it
//! expires ([`renew`]).
//!
//! Menu events run on the main thread and only start work elsewhere: switching writes the
//! config on a thread; checks run on the async runtime.
//!
//! Linux trays (StatusNotifierItem via libayatana-appindicator) deliver no click on the
//! icon, so everything is in the menu. They also tick a check item by themselves when it
//! is clicked; the rebuilt menu puts the ticks back where the config says.

use std::sync::Mutex;

use chrono::Local;
use mlflow_login_core::checks::CheckClass;
use tauri::image::Image;
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Runtime};

use crate::state::AppState;

pub mod menu;
pub mod renew;
pub mod view;

pub use menu::MenuId;
pub use view::{Active, IconState, Panel, Snapshot, checked_when};

/// The tray icon's id.
pub const TRAY_ID: &str = "main";

/// The tray process's state.
#[derive(Debug)]
pub struct TrayState {
    /// Core, as in the window process.
    pub app: AppState,
    panel: Panel,
    pub(super) shown: Mutex<Option<Snapshot>>,
    last_active: Mutex<Option<String>>,
    renewal: renew::Renewal,
}

impl TrayState {
    /// Over `app`.
    pub fn new(app: AppState, panel: Panel) -> Self {
        Self { app, panel, shown: Mutex::new(None), last_active: Mutex::new(None), renewal: renew::Renewal::default() }
    }
}

/// Creates the tray icon (with an empty state; the first refresh fills it in).
pub fn create<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<TrayIcon<R>> {
    let state = app.state::<TrayState>();
    let snap = Snapshot { servers: Vec::new(), active: None, error: None, autostart: false };
    let menu = menu::build_menu(app, &snap, &snap.status_line(&Local::now()))?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(view::icon_bytes(IconState::NoCredentials, state.panel))?)
        .tooltip("MLflow Login")
        .menu(&menu)
        .show_menu_on_left_click(true)
        .on_menu_event(menu::on_menu_event)
        .build(app)
}

/// Re-reads everything and updates the tray. Blocking (one bounded keychain call); call it
/// from a background thread. Starts a check when the active server changed.
pub fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<TrayState>();
    let autostart =
        app.try_state::<tauri_plugin_autostart::AutoLaunchManager>().is_some_and(|m| m.is_enabled().unwrap_or(false));
    let snap = Snapshot::load(&state.app, autostart);
    renew::schedule(app, snap.active.as_ref());
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
        tray.set_menu(Some(menu::build_menu(app, snap, &status)?))?;
        tray.set_icon(Some(Image::from_bytes(view::icon_bytes(snap.icon(), panel))?))?;
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
        match mlflow_login_core::checks::check(state.logins(), &name, state.verify_options()).await {
            Ok(checked) => {
                let was_refused = checked.previous.as_ref().is_some_and(|p| p.class == CheckClass::Refused);
                if checked.record.class == CheckClass::Refused && !was_refused {
                    crate::notify::show(
                        &app,
                        &format!("{name}: {} Log in again from the tray menu (Log in…).", checked.record.summary),
                    );
                }
            }
            Err(e) => eprintln!("mlflow-login-tray: cannot check {name}: {e}"),
        }
    });
}

/// Runs blocking work off the main thread.
pub fn background(f: impl FnOnce() + Send + 'static) {
    if let Err(e) = std::thread::Builder::new().name("tray-work".into()).spawn(f) {
        eprintln!("mlflow-login-tray: cannot start a thread: {e}");
    }
}
