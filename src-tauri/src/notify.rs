//! Desktop notifications, best effort and off the UI thread.

use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

/// Shows a notification titled "MLflow Login". Without a notification server (or in
/// unit tests, where the plugin is not loaded) it does nothing.
pub fn show<R: Runtime>(app: &AppHandle<R>, body: &str) {
    if app.try_state::<tauri_plugin_notification::Notification<R>>().is_none() {
        return;
    }
    let (app, body) = (app.clone(), body.to_string());
    let _ = std::thread::Builder::new().name("notification".into()).spawn(move || {
        if let Err(e) = app.notification().builder().title("MLflow Login").body(body).show() {
            eprintln!("mlflow-login-tray: cannot show a notification: {e}");
        }
    });
}
