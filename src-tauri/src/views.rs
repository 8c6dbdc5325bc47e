//! What the webview receives. Nothing here can hold a secret.
//!
//! Every type here (and the request and error types of the commands) derives `ts_rs::TS`:
//! `ui/src/ipc/bindings.ts` is generated from them, and a test fails when the checked-in
//! file is stale (tests/bindings.rs).

use std::path::PathBuf;

use mlflow_login_core::checks::{CheckClass, CheckRecord};
use mlflow_login_core::workspaces::Listing;
use mlflow_login_core::{AuthKind, OutcomeKind, Server, ServerEntry, Setting};
use serde::Serialize;
use ts_rs::TS;

use crate::args::WindowKind;

/// One verification, for display.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CheckView {
    /// The outcome kind from core (`ok`, `bad_credentials`, ...).
    pub kind: OutcomeKind,
    /// `ok`, `refused` or `unchecked`.
    pub class: CheckClass,
    /// One plain sentence.
    pub summary: String,
    /// What to do.
    pub help: Option<String>,
    /// The form field at fault (`url`, `username`, `password`, `ca_bundle`, `client_cert`).
    pub field: Option<String>,
    /// Time to the answer.
    #[ts(type = "number")]
    pub latency_ms: u64,
    /// MLflow's version.
    pub server_version: Option<String>,
    /// Unix milliseconds.
    #[ts(type = "number")]
    pub checked_at: u64,
    /// The account as the server knows it ("alice (admin; groups: ml)"), when it said.
    pub identity: Option<String>,
    /// What the user may not do and who grants it, when the server showed them nothing.
    pub access_note: Option<String>,
}

impl From<CheckRecord> for CheckView {
    fn from(r: CheckRecord) -> Self {
        Self {
            kind: r.kind,
            class: r.class,
            summary: r.summary,
            help: r.help,
            field: r.field,
            latency_ms: r.latency_ms,
            server_version: r.server_version,
            checked_at: r.checked_at,
            identity: r.identity.as_ref().map(|id| id.describe()),
            access_note: r.identity.as_ref().and_then(|id| id.access_note()),
        }
    }
}

/// What "Change password…" did. Never the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PasswdView {
    /// The server and the keychain hold the new password.
    pub done: bool,
    /// When not done: what happened and where the new password is kept.
    pub message: Option<String>,
    /// When not done: what to do.
    pub help: Option<String>,
}

impl From<&mlflow_login_core::passwd::Changed> for PasswdView {
    fn from(c: &mlflow_login_core::passwd::Changed) -> Self {
        match c.pending_report() {
            Some((message, help)) => Self { done: false, message: Some(message), help: Some(help) },
            None => Self { done: true, message: None, help: None },
        }
    }
}

/// The workspaces a server offers the user, for the servers window's choice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceList {
    /// The server runs with workspaces (MLflow 3.10+ with `--enable-workspaces`).
    pub enabled: bool,
    /// The workspaces it lists for the user, in its order.
    pub names: Vec<String>,
}

impl WorkspaceList {
    /// What the server answered; `Err` with the check's outcome when it could not say.
    pub fn from_listing(listing: Listing) -> Result<Self, crate::error::IpcError> {
        match listing {
            Listing::Workspaces(list) => Ok(Self { enabled: true, names: list.into_iter().map(|w| w.name).collect() }),
            Listing::NotEnabled => Ok(Self { enabled: false, names: Vec::new() }),
            Listing::Failed(outcome) => Err(crate::error::IpcError::cannot_ask(&outcome)),
        }
    }
}

/// A server for display: its settings, and its state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ServerView {
    /// Its name and settings.
    #[serde(flatten)]
    pub settings: ServerSettings,
    /// Whether it is the active server.
    pub active: bool,
    /// Its active MLflow workspace (exported as `MLFLOW_WORKSPACE` with it).
    pub workspace: Option<String>,
    /// Whether a password is stored (`None`: the keychain could not say).
    pub has_secret: Option<bool>,
    /// Warnings in words.
    pub warnings: Vec<String>,
    /// The last check, from the shared checks file.
    pub last_check: Option<CheckView>,
}

impl ServerView {
    /// A listed server with its last check (dropped when it was made for another URL or user).
    pub fn new(entry: ServerEntry, last_check: Option<CheckRecord>) -> Self {
        let last_check = last_check.filter(|r| r.is_for(&entry.server)).map(CheckView::from);
        let ServerEntry { name, server, active, has_secret, .. } = entry;
        Self {
            warnings: server.warnings().iter().map(|w| w.message().to_string()).collect(),
            settings: ServerSettings::new(&name, &server),
            workspace: server.workspace.clone(),
            active,
            has_secret,
            last_check,
        }
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.settings.name
    }
}

/// Every setting of a server, for a login dialog that edits it ("Log in again…"). Never
/// the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ServerSettings {
    /// Its name.
    pub name: String,
    /// Its tracking URL.
    pub url: String,
    /// Its username.
    pub username: Option<String>,
    /// `basic` or `bearer`.
    pub auth: AuthKind,
    /// The CA bundle file.
    #[ts(type = "string | null")]
    pub ca_bundle: Option<PathBuf>,
    /// The client certificate file (kept by a re-login; not editable in the dialog).
    #[ts(type = "string | null")]
    pub client_cert: Option<PathBuf>,
    /// TLS verification is off.
    pub insecure_tls: bool,
    /// Single sign-on: the identity provider's issuer, when known.
    pub issuer: Option<String>,
    /// Single sign-on: the OAuth client id, when known.
    pub client_id: Option<String>,
}

impl ServerSettings {
    /// The settings of `server`, named `name`.
    pub fn new(name: &str, server: &Server) -> Self {
        // The workspace is not a login setting: the servers window chooses it from the
        // server's own list.
        let Server { url, username, auth, ca_bundle, client_cert, insecure_tls, sso, workspace: _, personal_token: _ } =
            server.clone();
        let sso = sso.unwrap_or_default();
        Self {
            name: name.to_string(),
            url,
            username,
            auth,
            ca_bundle,
            client_cert,
            insecure_tls,
            issuer: sso.issuer,
            client_id: sso.client_id,
        }
    }
}

/// Which page a window shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WindowContext {
    /// `login` or `servers`.
    pub window: WindowKind,
    /// For "Log in again": the server being edited, with all its settings. `None`: the
    /// dialog adds a new server.
    pub server: Option<ServerSettings>,
}

/// What `login` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LoginResult {
    /// Whether the server and password were stored.
    pub saved: bool,
    /// The check, unless the user saved without checking.
    pub check: Option<CheckView>,
    /// The saved server.
    pub server: Option<ServerView>,
    /// Settings that were not kept, because the URL moved to another host.
    pub dropped: Vec<Setting>,
}

/// What importing one listed server would do (`import_plan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ImportAction {
    /// A new name: it is added.
    Add,
    /// The name exists with these very settings: nothing changes.
    Same,
    /// The name exists with other settings: replaced only when the user ticks it.
    Differs,
}

/// One server of a list, and what importing it would do. Never a secret: a list holds none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImportItem {
    /// Its name.
    pub name: String,
    /// Its tracking URL, as the list gives it.
    pub url: String,
    /// What importing it does.
    pub action: ImportAction,
    /// For `differs`: each setting that would change, in words (`URL a -> b`).
    pub differences: Vec<String>,
}

/// A server list read and planned, before anything changes (`import_plan`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImportPlan {
    /// The file, to pass back to `import_apply`.
    pub path: String,
    /// Its servers, in name order.
    pub servers: Vec<ImportItem>,
}

/// What importing one server did (`import_apply`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ImportResult {
    /// Added.
    Added,
    /// Replaced by the list's settings (the user ticked it).
    Replaced,
    /// Already the same: left as it is.
    Unchanged,
    /// Other settings, not ticked: left as it is.
    Kept,
}

/// One server after `import_apply`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImportedServer {
    /// Its name.
    pub name: String,
    /// What the import did.
    pub result: ImportResult,
    /// No password or token is stored for it (`null`: the keychain could not say).
    pub needs_login: Option<bool>,
}
