//! MLflow Login's tray app: a tray icon and menu over `mlflow_login_core`, and on demand a
//! short-lived window process for the login dialog and the servers window.
//!
//! One binary, two roles (see [`Mode`]):
//!
//! - **Tray** (no arguments): icon, menu, background checks, notifications. It never
//!   creates a webview, so an idle tray costs what a bare tray icon costs, also after a
//!   dialog was used. It watches the config dir and shows changes made anywhere.
//! - **Window** (`--window login|servers`): the webview, the IPC commands of docs/ipc.md,
//!   and nothing else; it exits when its last window closes.
//!
//! The two share state only through core (config file, state file, checks file, OS
//! keychain), exactly as the CLI does. [`build`] registers the commands; tests drive it
//! with `tauri::test::mock_builder()`.

// Unit tests may unwrap: a panic there is a test failure with a backtrace.
#![cfg_attr(test, allow(clippy::unwrap_used))]
// The tray has no terminal: what it cannot show goes to stderr (the session's journal),
// and `--version` / usage to stdout.
#![allow(clippy::print_stderr, clippy::print_stdout)]

pub mod args;
pub mod commands;
pub mod error;
mod gl;
mod notify;
pub mod sni;
pub mod state;
pub mod tray;
pub mod views;
mod watch;
pub mod windows;

use std::process::ExitCode;
use std::time::Duration;

use tauri::{Builder, Manager, RunEvent, Runtime};

pub use crate::args::Mode;
use crate::args::WindowKind;
use crate::state::AppState;
use crate::tray::{Panel, TrayState};

/// The IPC commands from their one list: the handler, and the names that
/// `ui/src/ipc/bindings.ts` exports.
macro_rules! ipc_commands {
    ($($module:ident :: $name:ident),* $(,)?) => {
        /// The IPC command names, as the webview invokes them.
        pub const COMMANDS: &[&str] = &[$(stringify!($name)),*];

        /// Registers the IPC commands (the window process, and the command tests).
        pub fn build<R: Runtime>(builder: Builder<R>) -> Builder<R> {
            builder.invoke_handler(tauri::generate_handler![$(commands::$module::$name),*])
        }
    };
}
include!("commands/list.rs");

/// The app's context (config, embedded UI, capabilities). Generated once: each expansion
/// embeds the assets.
fn context() -> tauri::Context<tauri::Wry> {
    tauri::generate_context!()
}

/// Parses the command line and runs the tray or a window process.
pub fn run() -> ExitCode {
    // The tray and its window process hold passwords and tokens (a login form, the keychain
    // reads of the checks): no core dump of them, as for the CLI.
    mlflow_login_core::secret::protect_process_memory();
    let mode = match Mode::parse(std::env::args().skip(1)) {
        Ok(mode) => mode,
        Err(e) => {
            eprintln!("mlflow-login-tray: {e}\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    let result = match mode {
        Mode::Version => {
            println!("mlflow-login-tray {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Mode::Help => {
            println!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Mode::Tray => run_tray(),
        Mode::Window { kind, server } => run_window(kind, server),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mlflow-login-tray: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_tray() -> Result<(), Box<dyn std::error::Error>> {
    let gl_off = gl::off_for_gtk_init();
    let state = AppState::from_env()?;
    let config_dir = state.logins().store().paths().dir().to_path_buf();
    let app = Builder::default()
        // First plugin: a second launch exits at once and opens the servers window here.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .callback(|_app, _argv, _cwd| windows::spawn_process(WindowKind::Servers, None))
                .build(),
        )
        .plugin(tauri_plugin_autostart::Builder::new().build())
        .plugin(tauri_plugin_clipboard_manager::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_opener::init())
        .manage(TrayState::new(state, Panel::from_env()))
        .setup(move |app| {
            // GTK is up (Tauri initialised it before setup).
            gl_off.restore();
            #[cfg(target_os = "macos")]
            app.set_activation_policy(tauri::ActivationPolicy::Accessory);
            let handle = app.handle().clone();
            tray::create(&handle)?;
            match watch::start(&handle, &config_dir) {
                Ok(w) => {
                    app.manage(w);
                }
                Err(e) => eprintln!(
                    "mlflow-login-tray: cannot watch {} ({e}); changes from the CLI show at the next check",
                    config_dir.display()
                ),
            }
            watch::start_timer(&handle, watch::check_interval());
            tray::background(move || {
                tray::refresh(&handle);
                if !sni::host_present(Duration::from_secs(2)) {
                    // No tray host (e.g. GNOME without the AppIndicator extension): the
                    // servers window can do everything the menu can.
                    windows::spawn_process(WindowKind::Servers, None);
                }
            });
            Ok(())
        })
        .build(context())?;
    app.run(|_app, event| {
        // The tray has no window; only Quit ends it.
        if let RunEvent::ExitRequested { api, code: None, .. } = event {
            api.prevent_exit();
        }
    });
    Ok(())
}

fn run_window(kind: WindowKind, server: Option<String>) -> Result<(), Box<dyn std::error::Error>> {
    let context = context();
    let state = AppState::from_env()?;
    // Window processes have their own single-instance name: a second "Log in…" reaches
    // this process and focuses the open dialog, never the tray.
    let dbus_id = format!("{}.Window", context.config().identifier);
    let app = build(Builder::default())
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(dbus_id)
                .callback(|app, argv, _cwd| {
                    if let Ok(Mode::Window { kind, server }) = Mode::parse(argv.into_iter().skip(1)) {
                        let state = app.state::<AppState>();
                        if let Err(e) = windows::open(app, &state, kind, server) {
                            eprintln!("mlflow-login-tray: cannot open the {} window: {e}", kind.label());
                        }
                    }
                })
                .build(),
        )
        .plugin(tauri_plugin_notification::init())
        // The servers window's "Import servers…" file picker (import_plan opens it from Rust).
        .plugin(tauri_plugin_dialog::init())
        .manage(state)
        .setup(move |app| {
            let state = app.state::<AppState>();
            windows::open(app.handle(), &state, kind, server)?;
            Ok(())
        })
        .build(context)?;
    // Default behaviour: the process exits when its last window closes.
    app.run(|_app, _event| {});
    Ok(())
}
