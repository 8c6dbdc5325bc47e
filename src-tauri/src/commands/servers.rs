//! Listing and changing servers: `list_servers`, `set_active`, `rename_server`,
//! `remove_server`, `logout_server`, `change_password`, `list_workspaces`, `set_workspace`.

use tauri::State;

use crate::error::IpcError;
use crate::error::IpcResult;
use crate::state::AppState;
use crate::views::{PasswdView, ServerView, WorkspaceList};

/// Every server with its last check. When the keychain cannot say which passwords are
/// stored (locked, absent, slow), `hasSecret` is `null` rather than the listing failing.
pub fn list(state: &AppState) -> IpcResult<Vec<ServerView>> {
    let (entries, _keychain_error) = state.logins().list_best_effort()?;
    let mut checks = state.checks().load();
    Ok(entries
        .into_iter()
        .map(|entry| {
            let check = checks.remove(&entry.name);
            ServerView::new(entry, check)
        })
        .collect())
}

#[tauri::command]
pub async fn list_servers(state: State<'_, AppState>) -> IpcResult<Vec<ServerView>> {
    state.blocking(list).await
}

#[tauri::command]
pub async fn set_active(state: State<'_, AppState>, name: String) -> IpcResult<()> {
    state.blocking(move |s| Ok(s.logins().set_active(Some(&name))?)).await
}

#[tauri::command]
pub async fn rename_server(state: State<'_, AppState>, old: String, new: String) -> IpcResult<()> {
    state.blocking(move |s| Ok(s.logins().rename(&old, &new)?)).await
}

#[tauri::command]
/// Core's removal, as the CLI's: a single sign-on session is revoked at the identity
/// provider first (best effort; the server is removed either way).
pub async fn remove_server(state: State<'_, AppState>, name: String) -> IpcResult<()> {
    let revoked = mlflow_login_core::login::remove(state.logins(), &name, std::time::Duration::from_secs(10)).await?;
    if let Some(Err(e)) = revoked {
        eprintln!("mlflow-login-tray: {name}: could not revoke the refresh token at the identity provider: {e}");
    }
    Ok(())
}

#[tauri::command]
/// Core's logout, as the CLI's: for single sign-on the refresh token is revoked at the
/// identity provider first (best effort; the tokens are deleted either way).
pub async fn logout_server(state: State<'_, AppState>, name: String) -> IpcResult<()> {
    let out = mlflow_login_core::log_out(state.logins(), &name, std::time::Duration::from_secs(10)).await?;
    if let Some(Err(e)) = out.revoked {
        eprintln!("mlflow-login-tray: {name}: could not revoke the refresh token at the identity provider: {e}");
    }
    Ok(())
}

/// The servers window's "Change password…": core's password change, as the CLI's
/// `passwd`. The new password arrives once and never goes back to the webview.
#[tauri::command]
pub async fn change_password(state: State<'_, AppState>, name: String, password: String) -> IpcResult<PasswdView> {
    let new = mlflow_login_core::Secret::new(password);
    let opts = mlflow_login_core::VerifyOptions::default();
    let changed = mlflow_login_core::passwd::change_password(state.logins(), &name, new, &opts).await?;
    Ok(PasswdView::from(&changed))
}

/// The workspaces the server of `name` lists for the user (core's listing, with the stored
/// credentials, as `mlflow-login workspaces NAME`).
#[tauri::command]
pub async fn list_workspaces(state: State<'_, AppState>, name: String) -> IpcResult<WorkspaceList> {
    let config = state.logins().config()?;
    let server = config.get(&name)?.clone();
    let listing =
        mlflow_login_core::workspaces::list_for(state.logins(), &name, &server, state.verify_options()).await?;
    WorkspaceList::from_listing(listing)
}

/// Makes `workspace` the active workspace of `name` (and `name` the active server) by
/// core's rule, as `mlflow-login use NAME/WORKSPACE`: only one the server lists for the
/// user; otherwise nothing changes and the error says why (`invalid_input` on the field
/// `workspace`, or `io` when the server could not be asked).
#[tauri::command]
pub async fn set_workspace(state: State<'_, AppState>, name: String, workspace: String) -> IpcResult<()> {
    use mlflow_login_core::workspaces::{NotSelected, select};
    match select(state.logins(), &name, &workspace, state.verify_options()).await? {
        Ok(()) => Ok(()),
        Err(NotSelected::Refused(refusal)) => {
            let mut e = IpcError::invalid("workspace", refusal.to_string());
            e.help = Some(refusal.help());
            Err(e)
        }
        Err(NotSelected::CannotAsk(outcome)) => Err(IpcError::cannot_ask(&outcome)),
    }
}
