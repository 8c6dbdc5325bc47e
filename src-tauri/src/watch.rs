//! The tray's two wake-up sources: the config dir (inotify through `notify`, so changes
//! made by the CLI or a window process show within a second, without polling) and the slow
//! timer that checks the active server (every 10 minutes; `MLFLOW_LOGIN_CHECK_INTERVAL`
//! seconds overrides).

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tauri::{AppHandle, Manager, Runtime};

use crate::tray::{self, TrayState};

/// The files whose change the tray shows (not the lock files, not temp files).
const WATCHED: &[&str] = &["config.toml", "state", "checks.json"];

/// Keeps the watcher alive for the app's lifetime.
#[derive(Debug)]
pub struct ConfigWatcher(#[allow(dead_code)] RecommendedWatcher);

/// Starts watching `dir` (created when missing) and refreshes the tray on each change,
/// coalescing bursts (an atomic write is several events).
pub fn start<R: Runtime>(app: &AppHandle<R>, dir: &Path) -> notify::Result<ConfigWatcher> {
    // 0700, like every folder MLflow Login creates (the tray may be first to make it).
    mlflow_login_core::config::create_private_dir(dir).map_err(|e| notify::Error::generic(&e.to_string()))?;
    let (tx, rx) = mpsc::channel::<()>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        let Ok(event) = event else { return };
        // Reads (our own included) are access events: reacting to them would loop.
        if matches!(event.kind, EventKind::Access(_)) {
            return;
        }
        let relevant =
            event.paths.iter().any(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| WATCHED.contains(&n)));
        if relevant {
            let _ = tx.send(());
        }
    })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;
    let app = app.clone();
    std::thread::Builder::new()
        .name("config-watch".into())
        .spawn(move || {
            while rx.recv().is_ok() {
                while rx.recv_timeout(Duration::from_millis(60)).is_ok() {}
                tray::refresh(&app);
            }
        })
        .map_err(notify::Error::io)?;
    Ok(ConfigWatcher(watcher))
}

/// The background check interval.
pub fn check_interval() -> Duration {
    std::env::var("MLFLOW_LOGIN_CHECK_INTERVAL")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|s| *s >= 10)
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(600))
}

/// Checks the active server every `interval`. One sleeping thread: no other wake-up.
pub fn start_timer<R: Runtime>(app: &AppHandle<R>, interval: Duration) {
    let app = app.clone();
    tray::background(move || {
        loop {
            std::thread::sleep(interval);
            let state = app.state::<TrayState>();
            match state.app.logins().config() {
                Ok(config) => {
                    if let Some((name, _)) = config.active_server() {
                        tray::check(&app, name.to_string());
                    } else {
                        // Keeps "2 min ago" honest even with nothing to check.
                        tray::refresh(&app);
                    }
                }
                Err(e) => eprintln!("mlflow-login-tray: cannot read the config: {e}"),
            }
        }
    });
}
