//! `login`: the login dialog's form, translated into core's login use case
//! ([`mlflow_login_core::log_in`]), which merges, verifies, stores and records exactly as
//! the CLI's `login` does.
//!
//! The password arrives here once, as a [`Secret`], and never goes back to the webview.

use std::fmt;
use std::path::PathBuf;

use mlflow_login_core::{Activate, AuthKind, Change, LoginInput, LoginMode, LoginReport, Secret, SsoSettings, log_in};
use serde::{Deserialize, Deserializer};
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use crate::error::IpcResult;
use crate::state::AppState;
use crate::views::{CheckView, LoginResult};

/// Whether the dialog adds a server ("Add server…") or edits one ("Log in again…").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
pub enum FormMode {
    /// A new server: an existing name is refused on the name field.
    Add,
    /// The server the dialog was opened for.
    Edit,
}

impl From<FormMode> for LoginMode {
    fn from(m: FormMode) -> Self {
        match m {
            FormMode::Add => LoginMode::Add,
            FormMode::Edit => LoginMode::Edit,
        }
    }
}

/// The login form. Every field the dialog shows is sent; what it does not show (the
/// client certificate) is kept by core's merge rules.
#[derive(Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    /// Add or edit.
    pub mode: FormMode,
    /// The server's short name.
    pub name: String,
    /// The tracking URL.
    pub url: String,
    /// The username (optional for bearer tokens).
    #[serde(default)]
    pub username: String,
    /// The password or token (sent once, never returned).
    #[serde(deserialize_with = "secret")]
    #[ts(type = "string")]
    pub password: Secret,
    /// `basic` or `bearer`.
    pub auth: AuthKind,
    /// A CA bundle file (empty or null: none).
    #[serde(default)]
    pub ca_bundle: Option<String>,
    /// Skip TLS verification.
    #[serde(default)]
    pub insecure_tls: bool,
    /// Store even when the check fails (or without checking).
    #[serde(default)]
    pub save_without_checking: bool,
    /// Make it the active server.
    #[serde(default)]
    pub make_active: bool,
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("mode", &self.mode)
            .field("name", &self.name)
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// The password goes straight from the request into a zeroizing [`Secret`].
fn secret<'de, D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
    String::deserialize(d).map(Secret::new)
}

impl From<LoginRequest> for LoginInput {
    fn from(r: LoginRequest) -> Self {
        let ca_bundle = r.ca_bundle.map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).map(PathBuf::from);
        LoginInput {
            name: r.name.trim().to_string(),
            mode: r.mode.into(),
            url: Some(r.url),
            username: Change::Set(r.username),
            auth: Some(r.auth),
            ca_bundle: Change::set_or_clear(ca_bundle),
            client_cert: Change::Keep,
            insecure_tls: Some(r.insecure_tls),
            sso: SsoSettings::default(),
            secret: r.password,
            verify: !r.save_without_checking,
            activate: if r.make_active { Activate::Yes } else { Activate::IfNone },
        }
    }
}

#[tauri::command]
pub async fn login<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    request: LoginRequest,
) -> IpcResult<LoginResult> {
    let state = state.inner().clone();
    let report = log_in(state.logins(), request.into(), state.verify_options()).await?;
    let how = format!("as {}", report.server.username.as_deref().unwrap_or("token"));
    saved_result(&app, &state, report, how).await
}

/// The dialog's answer to a login (typed secret or single sign-on): the check, and the
/// saved server; a checked, saved login is announced "Signed in to NAME {how}".
pub(crate) async fn saved_result<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    report: LoginReport,
    how: String,
) -> IpcResult<LoginResult> {
    let check = report.check.clone().map(CheckView::from);
    if !report.is_saved() {
        return Ok(LoginResult { saved: false, check, server: None, dropped: report.dropped });
    }
    let name = report.name.clone();
    let view =
        state.blocking(move |s| Ok(crate::commands::servers::list(s)?.into_iter().find(|v| v.name() == name))).await?;
    if report.verification.is_some() {
        crate::notify::show(app, &format!("Signed in to {} {how}", report.name));
    }
    Ok(LoginResult { saved: true, check, server: view, dropped: report.dropped })
}
