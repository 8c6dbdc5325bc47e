//! A bare Tauri 2 tray app: one icon, three menu items, no window. The baseline that
//! tests/bench/tray.sh measures mlflow-login-tray against. `bare-tray --window` is instead
//! a plain Tauri window (a static page, mapped once loaded): the baseline for the login
//! dialog's open-to-interactive time.
use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::webview::PageLoadEvent;
use tauri::{WebviewUrl, WebviewWindowBuilder};

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--window") {
        tauri::Builder::default()
            .setup(|app| {
                WebviewWindowBuilder::new(app, "bare", WebviewUrl::App("index.html".into()))
                    .title("Bare window")
                    .inner_size(440.0, 520.0)
                    .visible(false)
                    .on_page_load(|window, load| {
                        if load.event() == PageLoadEvent::Finished {
                            let _ = window.show();
                        }
                    })
                    .build()?;
                Ok(())
            })
            .run(tauri::generate_context!())
            .expect("bare window");
        return;
    }
    tauri::Builder::default()
        .setup(|app| {
            let a = MenuItem::with_id(app, "a", "First", true, None::<&str>)?;
            let b = MenuItem::with_id(app, "b", "Second", true, None::<&str>)?;
            let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
            let menu = Menu::with_items(app, &[&a, &b, &quit])?;
            TrayIconBuilder::with_id("main")
                .icon(tauri::image::Image::from_bytes(include_bytes!("../../../../icons/tray-ok-dark.png"))?)
                .menu(&menu)
                .on_menu_event(|app, event| {
                    if event.id().as_ref() == "quit" {
                        app.exit(0);
                    }
                })
                .build(app)?;
            Ok(())
        })
        .build(tauri::generate_context!())
        .expect("bare tray")
        .run(|_app, event| {
            if let tauri::RunEvent::ExitRequested { api, code: None, .. } = event {
                api.prevent_exit();
            }
        });
}
