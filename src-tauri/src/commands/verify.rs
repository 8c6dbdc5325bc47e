//! Checking stored credentials against the server: `verify_server`, `verify_all`, through
//! core's one check (which records every result where the tray and the CLI read it). The
//! tray's background checks go through it too.

use std::collections::BTreeMap;

use mlflow_login_core::check::{check, check_all};
use tauri::State;

use crate::error::IpcResult;
use crate::state::AppState;
use crate::views::CheckView;

#[tauri::command]
pub async fn verify_server(state: State<'_, AppState>, name: String) -> IpcResult<CheckView> {
    Ok(check(state.logins(), &name, state.verify_options()).await?.record.into())
}

/// Checks every server at once (each bounded by core's timeouts).
#[tauri::command]
pub async fn verify_all(state: State<'_, AppState>) -> IpcResult<BTreeMap<String, CheckView>> {
    let names: Vec<String> = state.blocking(|s| Ok(s.logins().config()?.servers.into_keys().collect())).await?;
    let mut out = BTreeMap::new();
    for (name, result) in check_all(state.logins(), names, state.verify_options()).await {
        out.insert(name, result?.record.into());
    }
    Ok(out)
}
