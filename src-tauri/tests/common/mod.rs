//! The tray's test world: the app built on Tauri's mock runtime with its real config and
//! capabilities (so the per-window ACL is tested too), a config folder of its own and an
//! in-memory vault; commands are invoked as a window of the app's own origin would.
#![allow(clippy::unwrap_used, dead_code)]

use std::sync::Arc;

use mlflow_login_core::vault::MemoryVault;
use mlflow_login_core::{ConfigStore, Paths, Vault};
use mlflow_login_tray_lib::state::AppState;
use serde_json::Value;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder};
use tauri::webview::InvokeRequest;
use tauri::{App, Manager, WebviewWindow, WebviewWindowBuilder};

pub struct Harness {
    _dir: tempfile::TempDir,
    pub vault: Arc<MemoryVault>,
    pub app: App<MockRuntime>,
}

impl Harness {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let vault = Arc::new(MemoryVault::default());
        let dyn_vault: Arc<dyn Vault> = vault.clone();
        let state = AppState::new(ConfigStore::new(Paths::in_dir(dir.path().join("cfg"))), dyn_vault);
        let app = mlflow_login_tray_lib::build(mock_builder()).manage(state).build(tauri::generate_context!()).unwrap();
        Harness { _dir: dir, vault, app }
    }

    pub fn window(&self, label: &str) -> WebviewWindow<MockRuntime> {
        match self.app.get_webview_window(label) {
            Some(w) => w,
            None => WebviewWindowBuilder::new(&self.app, label, Default::default()).build().unwrap(),
        }
    }

    pub fn invoke(&self, label: &str, cmd: &str, args: Value) -> Result<Value, Value> {
        let request = InvokeRequest {
            cmd: cmd.into(),
            callback: CallbackFn(0),
            error: CallbackFn(1),
            // The app's own origin: capabilities grant commands to local pages only.
            url: if cfg!(windows) { "http://tauri.localhost" } else { "tauri://localhost" }.parse().unwrap(),
            body: InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        };
        get_ipc_response(&self.window(label), request).map(|b| b.deserialize::<Value>().unwrap())
    }

    pub fn servers(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        self.invoke("servers", cmd, args)
    }

    pub fn state(&self) -> tauri::State<'_, AppState> {
        self.app.state::<AppState>()
    }
}

/// A team's server list in a file (in its own folder, dropped with it).
pub fn list_file(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("servers.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path.to_str().unwrap().to_string())
}
