//! The window process's own commands: `window_context`, `open_login`, `close_window`.

use tauri::{AppHandle, Runtime, State, WebviewWindow};

use crate::args::WindowKind;
use crate::error::IpcResult;
use crate::state::AppState;
use crate::views::{ServerSettings, WindowContext};
use crate::windows;

/// Which page the calling window shows, with the login dialog's prefill.
#[tauri::command]
pub async fn window_context<R: Runtime>(
    window: WebviewWindow<R>,
    state: State<'_, AppState>,
) -> IpcResult<WindowContext> {
    let kind = WindowKind::from_label(window.label()).unwrap_or(WindowKind::Servers);
    let server = match (kind, state.login_prefill()) {
        (WindowKind::Login, Some(name)) => {
            state
                .blocking(move |s| {
                    let config = s.logins().config()?;
                    Ok(config.servers.get(&name).map(|server| ServerSettings::new(&name, server)))
                })
                .await?
        }
        _ => None,
    };
    Ok(WindowContext { window: kind, server })
}

/// Opens the login dialog in this process (focuses it when open), prefilled for `name`.
#[tauri::command]
pub async fn open_login<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    name: Option<String>,
) -> IpcResult<()> {
    windows::open(&app, &state, WindowKind::Login, name)?;
    Ok(())
}

/// Closes the calling window (Esc, Cancel). The process exits with its last window.
#[tauri::command]
pub async fn close_window<R: Runtime>(window: WebviewWindow<R>) -> IpcResult<()> {
    window.close()?;
    Ok(())
}
