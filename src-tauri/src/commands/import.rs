//! Importing a team's server list in the servers window: `import_plan`, `import_apply`.
//!
//! The rules are core's (`team::read_file`, `parse`, `plan`, `apply`, `differences`), as
//! for `mlflow-login servers import FILE`; this only opens the native file picker when the
//! UI names no file, and maps the plan to views. Importing stores no secret and deletes
//! none.

use std::path::{Path, PathBuf};

use mlflow_login_core::team::{self, Action, ListSource};
use tauri::{AppHandle, Manager, Runtime, State, WebviewWindow};
use tauri_plugin_dialog::{Dialog, DialogExt};

use crate::error::{IpcError, IpcResult};
use crate::state::AppState;
use crate::views::{ImportAction, ImportItem, ImportPlan, ImportResult, ImportedServer};

/// The list's servers and what importing each would do.
fn read_plan(state: &AppState, path: &Path) -> IpcResult<(mlflow_login_core::Config, Vec<(String, Action)>)> {
    let text = team::read_file(path)?;
    let listed = team::parse(&text, &ListSource::File(path.to_path_buf())).map_err(|e| IpcError {
        // Core's help for a damaged file is about the config file; this is someone's list.
        help: Some("fix the list (nothing was imported), or ask whoever publishes it".into()),
        ..IpcError::from(e)
    })?;
    let config = state.logins().config()?;
    // No username of the user's own: a list that names none for a new basic-auth server
    // is refused with core's message (the CLI's --username has no field here yet).
    let plan = team::plan(&config, &listed, None)?;
    Ok((config, plan))
}

/// Reads `path` (or the file the user picks, when `None`) and says what importing it
/// would do. `None`: the user closed the picker.
#[tauri::command]
pub async fn import_plan<R: Runtime>(
    app: AppHandle<R>,
    window: WebviewWindow<R>,
    state: State<'_, AppState>,
    path: Option<String>,
) -> IpcResult<Option<ImportPlan>> {
    let path = match path {
        Some(p) => PathBuf::from(p),
        None => match pick(&app, &window).await? {
            Some(p) => p,
            None => return Ok(None),
        },
    };
    state
        .blocking(move |s| {
            let (config, plan) = read_plan(s, &path)?;
            s.keep_import_plan(&path.display().to_string(), plan.clone());
            let servers = plan
                .into_iter()
                .map(|(name, action)| {
                    let (action, url, differences) = match action {
                        Action::Add(s) => (ImportAction::Add, s.url, vec![]),
                        Action::Same => {
                            let url = config.servers.get(&name).map(|k| k.url.clone()).unwrap_or_default();
                            (ImportAction::Same, url, vec![])
                        }
                        Action::Differs { current, listed } => {
                            (ImportAction::Differs, listed.url.clone(), team::differences(&current, &listed))
                        }
                    };
                    ImportItem { name, url, action, differences }
                })
                .collect();
            Ok(Some(ImportPlan { path: path.display().to_string(), servers }))
        })
        .await
}

/// Imports `path`: adds new servers, replaces only the differing ones named in `replace`,
/// leaves the rest; says which need a login.
#[tauri::command]
pub async fn import_apply(
    state: State<'_, AppState>,
    path: String,
    replace: Vec<String>,
) -> IpcResult<Vec<ImportedServer>> {
    state
        .blocking(move |s| {
            // The plan the user saw (kept by import_plan), not the file read again: a list
            // that changed meanwhile is not what the user agreed to.
            let plan = s.import_plan(&path).ok_or_else(|| {
                IpcError::from(mlflow_login_core::Error::InvalidInput {
                    field: "name",
                    message: "this list was not read in this window (or was imported already): open it again".into(),
                })
            })?;
            let done = team::apply_plan(s.logins().store(), &plan, &replace)?;
            Ok(done
                .into_iter()
                .map(|(name, result, server)| {
                    let result = match result {
                        team::Imported::Added => ImportResult::Added,
                        team::Imported::Replaced => ImportResult::Replaced,
                        team::Imported::Unchanged => ImportResult::Unchanged,
                        _ => ImportResult::Kept,
                    };
                    // A keychain that cannot say is no reason to fail the import.
                    let needs_login = s.logins().secret(&name, &server).ok().map(|secret| secret.is_none());
                    ImportedServer { name, result, needs_login }
                })
                .collect())
        })
        .await
}

/// The native file picker (window process only: tests pass a path).
async fn pick<R: Runtime>(app: &AppHandle<R>, window: &WebviewWindow<R>) -> IpcResult<Option<PathBuf>> {
    if app.try_state::<Dialog<R>>().is_none() {
        return Err(IpcError::internal("no file picker in this process: pass the file's path"));
    }
    let builder =
        app.dialog().file().set_parent(window).set_title("Import a server list").add_filter("Server lists", &["toml"]);
    // Blocking form, on a blocking thread: never on the main thread, which runs the picker.
    let file = tauri::async_runtime::spawn_blocking(move || builder.blocking_pick_file())
        .await
        .map_err(|e| IpcError::internal(format!("the file picker failed: {e}")))?;
    let Some(file) = file else {
        return Ok(None);
    };
    file.into_path().map(Some).map_err(|e| IpcError::internal(format!("cannot open the picked file: {e}")))
}
