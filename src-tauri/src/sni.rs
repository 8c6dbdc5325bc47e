//! Is there a tray? Some desktops (GNOME without the AppIndicator extension) show none; the
//! app then opens the servers window instead. A tray host owns
//! `org.kde.StatusNotifierWatcher` on the session bus (libayatana-appindicator registers
//! the icon there).

use std::time::Duration;

/// The StatusNotifier watcher's bus name.
pub const WATCHER: &str = "org.kde.StatusNotifierWatcher";

/// Whether a tray host is present. Asked once at start, bounded by `limit`; no session bus
/// or no answer counts as "no tray" (the window then opens, which is never wrong).
#[cfg(target_os = "linux")]
pub fn host_present(limit: Duration) -> bool {
    if std::env::var("MLFLOW_LOGIN_ASSUME_TRAY").is_ok_and(|v| v == "1") {
        return true;
    }
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new().name("sni-probe".into()).spawn(move || {
        let ask = || -> zbus::Result<bool> {
            let bus = zbus::blocking::Connection::session()?;
            let dbus = zbus::blocking::fdo::DBusProxy::new(&bus)?;
            Ok(dbus.name_has_owner(WATCHER.try_into()?)?)
        };
        let _ = tx.send(ask());
    });
    if spawned.is_err() {
        return false;
    }
    match rx.recv_timeout(limit) {
        Ok(Ok(present)) => present,
        Ok(Err(e)) => {
            eprintln!("mlflow-login-tray: cannot ask the session bus for a tray host: {e}");
            false
        }
        Err(_) => false,
    }
}

/// macOS and Windows always have a menu bar / notification area.
#[cfg(not(target_os = "linux"))]
pub fn host_present(_limit: Duration) -> bool {
    true
}
