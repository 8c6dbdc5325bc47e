//! Desktop notifications, best effort and off the UI thread.
//!
//! Notification servers render the body as markup (the Desktop Notifications
//! Specification's `body-markup`: `<b>`, `<i>`, `<a href>`, `<img>`), and the body can hold
//! text a server chose: a 401's realm, an error detail. So the body is always escaped: a
//! server cannot put a link or an image into a notification that seems to come from us.

use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

/// Shows a notification titled "MLflow Login" with `body` as plain text (escaped, see the
/// module doc). Without a notification server (or in unit tests, where the plugin is not
/// loaded) it does nothing.
pub fn show<R: Runtime>(app: &AppHandle<R>, body: &str) {
    if app.try_state::<tauri_plugin_notification::Notification<R>>().is_none() {
        return;
    }
    let (app, body) = (app.clone(), escape_markup(body));
    let _ = std::thread::Builder::new().name("notification".into()).spawn(move || {
        if let Err(e) = app.notification().builder().title("MLflow Login").body(body).show() {
            eprintln!("mlflow-login-tray: cannot show a notification: {e}");
        }
    });
}

/// `text` with the five characters markup gives a meaning escaped as entities, so a
/// notification server shows it as it is.
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = r#"prod: wrong password (realm "<a href='https://evil.example/'>Click</a> & <img src=x>")"#;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape_markup(HOSTILE),
            "prod: wrong password (realm &quot;&lt;a href=&#39;https://evil.example/&#39;&gt;Click&lt;/a&gt; &amp; &lt;img src=x&gt;&quot;)"
        );
        assert_eq!(escape_markup("plain text, ünïcode ✓"), "plain text, ünïcode ✓");
        assert_eq!(escape_markup("&amp;"), "&amp;amp;", "text that looks escaped is escaped again");
    }

    /// Against a notification server on a private session bus (tests/tray/notify.sh starts
    /// it, tests/tray/notify_server.py records each `Notify` call as a JSON line): the body
    /// that arrives is the escaped text, which the server shows as the original.
    #[test]
    #[ignore = "needs a notification server on a private bus: run tests/tray/notify.sh"]
    fn the_body_arrives_escaped_at_the_notification_server() {
        let log = std::path::PathBuf::from(
            std::env::var_os("MLL_NOTIFY_LOG").expect("MLL_NOTIFY_LOG is not set: run tests/tray/notify.sh"),
        );
        let app = tauri::test::mock_builder()
            .plugin(tauri_plugin_notification::init())
            .build(tauri::test::mock_context(tauri::test::noop_assets()))
            .expect("mock app");
        show(app.handle(), HOSTILE);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let call = loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(line) = text.lines().next() {
                break serde_json::from_str::<serde_json::Value>(line).expect("a JSON line");
            }
            assert!(std::time::Instant::now() < deadline, "no Notify call reached the server");
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        assert_eq!(call["summary"], "MLflow Login", "{call}");
        assert_eq!(call["body"], escape_markup(HOSTILE), "{call}");
    }
}
