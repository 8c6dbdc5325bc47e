//! `login`: verify a new password against the server, then store it.
//!
//! The password arrives here once, as a [`Secret`], and never goes back to the webview.
//! Nothing is stored unless the server accepted it, or the user chose "Save without
//! checking".

use std::fmt;
use std::path::PathBuf;

use mlflow_login_core::checks::CheckRecord;
use mlflow_login_core::server::{normalize_url, validate_username};
use mlflow_login_core::{Activate, AuthKind, OutcomeClass, Secret, Server, verify};
use serde::{Deserialize, Deserializer};
use tauri::{AppHandle, Runtime, State};

use crate::error::{IpcError, IpcResult};
use crate::state::AppState;
use crate::views::{CheckView, LoginResult};

/// The login form (`LoginRequest`).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginRequest {
    /// The server's short name.
    pub name: String,
    /// The tracking URL.
    pub url: String,
    /// The username (optional for bearer tokens).
    #[serde(default)]
    pub username: String,
    /// The password or token.
    #[serde(deserialize_with = "secret")]
    pub password: Secret,
    /// `basic` or `bearer`.
    #[serde(default)]
    pub auth: AuthKind,
    /// A CA bundle file.
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

impl LoginRequest {
    /// The server the form describes. `existing` keeps settings the form does not show
    /// (the client certificate).
    fn server(&self, existing: Option<&Server>) -> IpcResult<Server> {
        let url = normalize_url(&self.url)?.to_string_normalized();
        let username = Some(self.username.trim()).filter(|u| !u.is_empty()).map(str::to_string);
        match (&username, self.auth) {
            (Some(u), _) => validate_username(u)?,
            (None, AuthKind::Basic) => return Err(IpcError::invalid("username", "enter your username")),
            (None, AuthKind::Bearer) => {}
        }
        let ca_bundle = self.ca_bundle.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(PathBuf::from);
        let server = Server {
            url,
            username,
            auth: self.auth,
            ca_bundle,
            client_cert: existing.and_then(|s| s.client_cert.clone()),
            insecure_tls: self.insecure_tls,
        };
        server.validate()?;
        Ok(server)
    }
}

#[tauri::command]
pub async fn login<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    request: LoginRequest,
) -> IpcResult<LoginResult> {
    let state = state.inner().clone();
    mlflow_login_core::server::validate_name(&request.name)?;
    if let Err(m) = request.password.validate() {
        return Err(IpcError::invalid("password", m));
    }
    let name = request.name.clone();
    let existing = state.blocking(move |s| Ok(s.logins().config()?.servers.remove(&name))).await?;
    let server = request.server(existing.as_ref())?;

    let record = if request.save_without_checking {
        None
    } else {
        let verification = verify(&server, Some(&request.password), state.verify_options()).await;
        let record = CheckRecord::new(&server, &verification);
        if verification.class() != OutcomeClass::Ok {
            return Ok(LoginResult { saved: false, check: Some(record.into()), server: None });
        }
        Some(record)
    };

    let LoginRequest { name, password, make_active, .. } = request;
    let activate = if make_active { Activate::Yes } else { Activate::IfNone };
    let (saved_record, for_notice) = (record.clone(), server.clone());
    let view = state
        .blocking(move |s| {
            s.logins().save(&name, server, Some(&password), activate)?;
            drop(password);
            if let Some(record) = saved_record {
                // The login itself is the freshest check of this server.
                s.checks().record(&name, record)?;
            }
            Ok(crate::commands::servers::list(s)?.into_iter().find(|v| v.name == name))
        })
        .await?;
    if record.is_some() {
        let user = for_notice.username.as_deref().unwrap_or("token");
        crate::notify::show(&app, &format!("Signed in to {} as {user}", view.as_ref().map_or("", |v| &v.name)));
    }
    Ok(LoginResult { saved: true, check: record.map(CheckView::from), server: view })
}
