//! Checking stored credentials against the server: `verify_server`, `verify_all`. The
//! tray's background checks go through [`check`] too.

use std::collections::BTreeMap;

use mlflow_login_core::checks::CheckRecord;
use mlflow_login_core::verify;
use tauri::State;

use crate::error::IpcResult;
use crate::state::AppState;
use crate::views::CheckView;

/// What one check of a stored server found, and the check before it.
#[derive(Debug)]
pub struct Checked {
    /// This check (already written to the checks file).
    pub record: CheckRecord,
    /// The previous record of the same server, URL and account, if any.
    pub previous: Option<CheckRecord>,
}

/// Checks `name` with its stored password and records the result in the shared checks
/// file. The keychain read and the file write run on the blocking pool; the request is
/// bounded by core's timeouts.
pub async fn check(state: &AppState, name: String) -> IpcResult<Checked> {
    let lookup = name.clone();
    let (server, secret) = state
        .blocking(move |s| {
            let (_, server, secret) = s.logins().resolve(Some(&lookup))?;
            Ok((server, secret))
        })
        .await?;
    let verification = verify(&server, secret.as_ref(), state.verify_options()).await;
    drop(secret);
    let record = CheckRecord::new(&server, &verification);
    let stored = record.clone();
    let previous = state.blocking(move |s| Ok(s.checks().record(&name, stored)?)).await?.filter(|p| p.is_for(&server));
    Ok(Checked { record, previous })
}

#[tauri::command]
pub async fn verify_server(state: State<'_, AppState>, name: String) -> IpcResult<CheckView> {
    Ok(check(&state, name).await?.record.into())
}

/// Checks every server at once (each bounded by core's timeouts).
#[tauri::command]
pub async fn verify_all(state: State<'_, AppState>) -> IpcResult<BTreeMap<String, CheckView>> {
    let names: Vec<String> = state.blocking(|s| Ok(s.logins().config()?.servers.into_keys().collect())).await?;
    let tasks: Vec<_> = names
        .into_iter()
        .map(|name| {
            let state = state.inner().clone();
            tauri::async_runtime::spawn(async move { check(&state, name.clone()).await.map(|c| (name, c)) })
        })
        .collect();
    let mut out = BTreeMap::new();
    for task in tasks {
        let (name, checked) = task.await.map_err(|e| crate::error::IpcError::internal(e.to_string()))??;
        out.insert(name, checked.record.into());
    }
    Ok(out)
}
