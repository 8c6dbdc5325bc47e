//! Windows, and the short-lived process that holds them.
//!
//! The tray process never creates a webview: a Tauri process whose last window closed
//! keeps WebKit's network process and grows for good (measured: 113 → 146 MB). So
//! "Log in…" and "Manage servers…" start this same binary with `--window login|servers`;
//! that process opens the window, talks to core exactly as the CLI does, and exits when
//! its last window closes. A second request reaches the running window process through the
//! single-instance plugin (its own D-Bus name) and focuses the open window.

use std::process::{Command, Stdio};

use tauri::webview::PageLoadEvent;
use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

use crate::args::{Mode, WindowKind};
use crate::state::AppState;

/// Opens `kind` in this process, or focuses it when it is open. For the login dialog,
/// `server` is the server to prefill; a dialog open for another server reloads.
pub fn open<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    kind: WindowKind,
    server: Option<String>,
) -> tauri::Result<()> {
    let mut reload = false;
    if kind == WindowKind::Login {
        reload = state.login_prefill() != server;
        state.set_login_prefill(server);
    }
    if let Some(window) = app.get_webview_window(kind.label()) {
        if reload {
            window.eval("location.reload()")?;
        }
        let _ = window.unminimize();
        window.show()?;
        window.set_focus()?;
        return Ok(());
    }
    let (width, height) = kind.size();
    // Mapped only once the page has loaded, so the window appears ready to type into,
    // never as an empty frame (and the benchmark's "window mapped" is "interactive").
    let window = WebviewWindowBuilder::new(app, kind.label(), WebviewUrl::App("index.html".into()))
        .title(kind.title())
        .inner_size(width, height)
        .min_inner_size(width * 0.8, height * 0.8)
        .resizable(kind == WindowKind::Servers)
        .center()
        .visible(false)
        .on_page_load(|window, load| {
            if load.event() == PageLoadEvent::Finished {
                reveal(&window);
            }
        })
        .build()?;
    // Should the load never report back, the window still appears.
    let _ = std::thread::Builder::new().name("window-reveal".into()).spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(5));
        if !window.is_visible().unwrap_or(true) {
            reveal(&window);
        }
    });
    Ok(())
}

fn reveal<R: Runtime>(window: &tauri::WebviewWindow<R>) {
    let _ = window.show();
    let _ = window.set_focus();
}

/// From the tray: starts a window process (the same binary) for `kind`. The child is
/// reaped on a thread so it leaves no zombie.
pub fn spawn_process(kind: WindowKind, server: Option<String>) {
    let mode = Mode::Window { kind, server };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("mlflow-login-tray: cannot find my own executable to open a window: {e}");
            return;
        }
    };
    match Command::new(exe).args(mode.to_args()).stdin(Stdio::null()).spawn() {
        Ok(mut child) => {
            let _ = std::thread::Builder::new().name("window-process".into()).spawn(move || {
                let _ = child.wait();
            });
        }
        Err(e) => eprintln!("mlflow-login-tray: cannot start the {} window: {e}", kind.label()),
    }
}
