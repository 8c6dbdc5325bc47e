//! The tray icon and its menu: the runtime part (create, refresh, background checks).
//! What it shows is in [`view`], the menu and its handlers in [`menu`].
//!
//! What the tray shows is a [`Snapshot`], computed off the UI thread from core (config,
//! checks file, and one bounded keychain lookup for the active server) whenever the config
//! dir changes (see `watch.rs`) or a check finishes, then applied on the main thread. The
//! menu is rebuilt from the snapshot: the server list changes with the CLI. The keychain
//! lookup never holds the menu up: it is shown when it answers, or, when it does not, that
//! the keychain is not answering (see [`refresh`]).
//!
//! The active server's workspaces (MLflow 3.10+) are asked of the server off the menu's
//! path ([`Listed`]): the menu shows the last list, and a workspace submenu only once the
//! server listed some. The list is asked after each check of the active server that the
//! server accepted, and of a server that answered its last check (a workspace it refuses
//! still lists those it allows) when the list is not about it yet; never beside a check,
//! nor of a server that could not be asked (down, TLS, time-out): the check says so, and
//! each ask builds a client, reading and parsing the OS trust store on a thread of its
//! own, whose malloc arena the idle tray then keeps.
//! Choosing one is core's rule (`workspaces::select`, as `use NAME/WS`).
//!
//! The active single sign-on server's token is renewed in the background before it
//! expires ([`renew`]). Local proxies for other MLflow clients and the browser start on
//! first use ([`proxies`]).
//!
//! Menu events run on the main thread and only start work elsewhere: switching writes the
//! config on a thread; checks run on the async runtime.
//!
//! Linux trays (StatusNotifierItem via libayatana-appindicator) deliver no click on the
//! icon, so everything is in the menu. They also tick a check item by themselves when it
//! is clicked; the rebuilt menu puts the ticks back where the config says.

use std::sync::Mutex;

use chrono::Local;
use mlflow_login_core::Server;
use mlflow_login_core::checks::CheckClass;
use mlflow_login_core::workspaces::Listing;
use tauri::image::Image;
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Runtime};

use crate::state::AppState;

pub mod menu;
pub mod proxies;
pub mod renew;
pub mod view;

pub use menu::MenuId;
pub use view::{Active, IconState, KeychainFault, Panel, Snapshot, Stored, checked_when};

/// The tray icon's id.
pub const TRAY_ID: &str = "main";

/// The tray process's state.
#[derive(Debug)]
pub struct TrayState {
    /// Core, as in the window process.
    pub app: AppState,
    panel: Panel,
    pub(super) shown: Mutex<Option<Snapshot>>,
    /// The active server and its workspace, as last shown (a change starts a check).
    last_active: Mutex<Option<(String, Option<String>)>>,
    listed: Listed,
    renewal: renew::Renewal,
    keychain: Keychain,
    /// Local proxies, started on first use.
    proxies: proxies::Proxies,
}

/// The tray's keychain reads for the active server: the last answer, and whether a read is
/// under way.
#[derive(Debug, Default)]
struct Keychain {
    inner: Mutex<KeychainState>,
}

#[derive(Debug, Default)]
struct KeychainState {
    /// The last answer, and the server it is about.
    heard: Option<(Server, Stored)>,
    /// A read is under way.
    reading: bool,
    /// A refresh came during the read: read again after it.
    again: bool,
}

impl Keychain {
    fn lock(&self) -> std::sync::MutexGuard<'_, KeychainState> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What the keychain last said about `server` ([`Stored::Asking`] if never).
    fn known(&self, server: &Server) -> Stored {
        match &self.lock().heard {
            Some((about, stored)) if about == server => stored.clone(),
            _ => Stored::Asking,
        }
    }

    fn heard(&self, server: Server, stored: Stored) {
        self.lock().heard = Some((server, stored));
    }

    /// Whether the caller is to read (`false`: a read is under way, and will read again).
    fn start(&self) -> bool {
        let mut k = self.lock();
        if k.reading {
            k.again = true;
            return false;
        }
        k.reading = true;
        true
    }

    /// Ends a read that could not start.
    fn done_anyway(&self) {
        let mut k = self.lock();
        (k.reading, k.again) = (false, false);
    }

    /// Ends a read; `false` when the caller is to read once more.
    fn done(&self) -> bool {
        let mut k = self.lock();
        if std::mem::take(&mut k.again) {
            return false;
        }
        k.reading = false;
        true
    }
}

/// The workspaces the active server last listed for the user, for the menu's submenu: read
/// from the server in the background, never while the menu waits.
#[derive(Debug, Default)]
struct Listed {
    inner: Mutex<ListedState>,
}

#[derive(Debug, Default)]
struct ListedState {
    /// The server the list is about (name, URL, account), and the list (`None`: the server
    /// has no workspaces, or could not say).
    heard: Option<(ListedKey, Option<Vec<String>>)>,
    /// The server a listing is under way for.
    asking: Option<ListedKey>,
}

type ListedKey = (String, String, String);

fn listed_key(name: &str, server: &Server) -> ListedKey {
    (name.to_string(), server.url.clone(), server.account().to_string())
}

impl Listed {
    fn lock(&self) -> std::sync::MutexGuard<'_, ListedState> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What the server last listed, if it was this server.
    fn known(&self, name: &str, server: &Server) -> Option<Vec<String>> {
        match &self.lock().heard {
            Some((key, list)) if *key == listed_key(name, server) => list.clone(),
            _ => None,
        }
    }

    /// Whether the caller is to ask the server of `key`: not when asking already, nor
    /// (unless `again`) when the list is about it.
    fn start(&self, key: &ListedKey, again: bool) -> bool {
        let mut l = self.lock();
        let heard = l.heard.as_ref().is_some_and(|(k, _)| k == key);
        if l.asking.as_ref() == Some(key) || (heard && !again) {
            return false;
        }
        l.asking = Some(key.clone());
        true
    }

    fn heard(&self, key: ListedKey, list: Option<Vec<String>>) {
        let mut l = self.lock();
        if l.asking.as_ref() == Some(&key) {
            l.asking = None;
        }
        l.heard = Some((key, list));
    }
}

impl TrayState {
    /// Over `app`.
    pub fn new(app: AppState, panel: Panel) -> Self {
        Self {
            app,
            panel,
            shown: Mutex::new(None),
            last_active: Mutex::new(None),
            renewal: renew::Renewal::default(),
            keychain: Keychain::default(),
            listed: Listed::default(),
            proxies: proxies::Proxies::default(),
        }
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

/// Re-reads everything and updates the tray, in two steps: config and checks at once (with
/// what the keychain last said about the active server, if it is the same server), then,
/// on a thread of its own, the keychain, whose answer updates the tray again. So the menu
/// follows a switch, the CLI or a check at once, even while the keychain hangs for its whole
/// bound. Blocking (files); call it from a background thread. Starts a check when the
/// active server changed.
pub fn refresh<R: Runtime>(app: &AppHandle<R>) {
    show(app);
    read_keychain(app);
}

/// Loads a snapshot (no keychain call) and shows it, if it differs from the one shown.
///
/// Several threads call this (the watcher, menu actions, the keychain reader): the `shown`
/// lock is held from loading to posting the update, so updates reach the main thread in the
/// order they were loaded and an older snapshot never replaces a newer one. Loading reads
/// two small files; the keychain is not asked here.
fn show<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<TrayState>();
    let autostart =
        app.try_state::<tauri_plugin_autostart::AutoLaunchManager>().is_some_and(|m| m.is_enabled().unwrap_or(false));
    let mut shown = state.shown.lock().unwrap_or_else(|e| e.into_inner());
    let snap = Snapshot::load(
        &state.app,
        autostart,
        |server| state.keychain.known(server),
        |name, server| state.listed.known(name, server),
    );
    renew::schedule(app, snap.active.as_ref());
    let active = snap.active.as_ref().map(|a| (a.name.clone(), a.server.workspace.clone()));
    let to_list = snap.active.as_ref().filter(|a| answered(a)).map(|a| (a.name.clone(), a.server.clone()));
    let switched = {
        let mut last = state.last_active.lock().unwrap_or_else(|e| e.into_inner());
        let switched = *last != active;
        *last = active.clone();
        switched
    };
    if shown.as_ref() != Some(&snap) {
        *shown = Some(snap.clone());
        let handle = app.clone();
        let _ = app.run_on_main_thread(move || apply(&handle, &snap));
    }
    drop(shown);
    // A switch's check lists the workspaces when the server accepts it (`check`).
    if switched && let Some((name, _)) = active {
        check(app, name);
    } else if let Some((name, server)) = to_list {
        list_workspaces(app, &name, &server, false);
    }
}

/// Whether the server answered the last check of its current settings (accepted or
/// refused it), rather than could not be asked.
fn answered(active: &view::Active) -> bool {
    active.last.as_ref().is_some_and(|last| last.class != CheckClass::Unchecked)
}

/// Asks the server of `name` for the user's workspaces on a thread of its own, and shows the
/// answer; `again` asks even when the list is about this server already. A list that
/// cannot be had (server down, credentials refused) shows no submenu: the status line says
/// what the check found.
fn list_workspaces<R: Runtime>(app: &AppHandle<R>, name: &str, server: &Server, again: bool) {
    let state = app.state::<TrayState>();
    let key = listed_key(name, server);
    if !state.listed.start(&key, again) {
        return;
    }
    let (handle, name, server) = (app.clone(), name.to_string(), server.clone());
    background(move || {
        let state = handle.state::<TrayState>();
        let (logins, opts) = (state.app.logins().clone(), state.app.verify_options().clone());
        let listing =
            tauri::async_runtime::block_on(mlflow_login_core::workspaces::list_for(&logins, &name, &server, &opts));
        let list = match listing {
            Ok(Listing::Workspaces(list)) => Some(list.into_iter().map(|w| w.name).collect()),
            Ok(Listing::NotEnabled | Listing::Failed(_)) => None,
            // A session that ended is the check's to say (status line, notification).
            Err(e) if e.kind() == mlflow_login_core::ErrorKind::LoginRequired => None,
            Err(e) => {
                eprintln!("mlflow-login-tray: cannot list the workspaces of {name}: {e}");
                None
            }
        };
        state.listed.heard(key, list);
        show(&handle);
    });
}

/// Asks the keychain about the active server on a thread, and shows the answer. One call at
/// a time: a refresh that comes while one is under way has it asked once more after (the
/// config may have changed meanwhile), instead of a second call waiting on a hung keychain.
fn read_keychain<R: Runtime>(app: &AppHandle<R>) {
    if !app.state::<TrayState>().keychain.start() {
        return;
    }
    let handle = app.clone();
    let read = move || {
        let state = handle.state::<TrayState>();
        loop {
            let active = state
                .app
                .logins()
                .config()
                .ok()
                .and_then(|c| c.active_server().map(|(n, s)| (n.to_string(), s.clone())));
            if let Some((name, server)) = active {
                let stored = Stored::read(&state.app, &name, &server);
                state.keychain.heard(server, stored);
                show(&handle);
            }
            if state.keychain.done() {
                return;
            }
        }
    };
    if let Err(e) = std::thread::Builder::new().name("tray-keychain".into()).spawn(read) {
        eprintln!("mlflow-login-tray: cannot start a thread: {e}");
        app.state::<TrayState>().keychain.done_anyway();
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
        match mlflow_login_core::check::check(state.logins(), &name, state.verify_options()).await {
            Ok(checked) => {
                if checked.record.class == CheckClass::Ok {
                    list_workspaces(&app, &name, &checked.server, true);
                }
                let was_refused = checked.previous.as_ref().is_some_and(|p| p.class == CheckClass::Refused);
                if checked.record.class == CheckClass::Refused && !was_refused {
                    crate::notify::show(&app, &view::refused_notice(&name, &checked.record.summary));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_keychain_read_at_a_time_and_once_more_after_a_refresh_during_it() {
        let k = Keychain::default();
        let prod = Server::new_basic("https://mlflow.example.com", "alice").unwrap();
        let staging = Server::new_basic("https://staging.example.com", "alice").unwrap();
        assert_eq!(k.known(&prod), Stored::Asking, "never asked");
        assert!(k.start());
        assert!(!k.start(), "a read is under way");
        k.heard(prod.clone(), Stored::Failed(KeychainFault::NotAnswering(120)));
        assert!(!k.done(), "a refresh came during the read: read again");
        assert!(!k.start(), "still reading");
        k.heard(prod.clone(), Stored::Yes { refresh_due: None });
        assert!(!k.done());
        assert!(k.done(), "nothing came during the second read");
        assert!(k.start(), "the next refresh reads");
        assert!(k.done());
        assert_eq!(k.known(&prod), Stored::Yes { refresh_due: None });
        assert_eq!(k.known(&staging), Stored::Asking, "an answer about another server does not count");
    }
}
