//! What the webview receives (docs/ipc.md types). Nothing here can hold a secret.

use mlflow_login_core::checks::{CheckClass, CheckRecord};
use mlflow_login_core::{AuthKind, Server, ServerEntry};
use serde::Serialize;

/// One verification, for display (`CheckView`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckView {
    /// The outcome kind from core (`ok`, `bad_credentials`, ...).
    pub kind: String,
    /// `ok`, `refused` or `unchecked`.
    pub class: CheckClass,
    /// One plain sentence.
    pub summary: String,
    /// What to do.
    pub help: Option<String>,
    /// The form field at fault.
    pub field: Option<String>,
    /// Time to the answer.
    pub latency_ms: u64,
    /// MLflow's version.
    pub server_version: Option<String>,
    /// Unix milliseconds.
    pub checked_at: u64,
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
        }
    }
}

/// A server for display (`ServerView`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerView {
    /// Its name.
    pub name: String,
    /// Its tracking URL.
    pub url: String,
    /// Its username.
    pub username: Option<String>,
    /// `basic` or `bearer`.
    pub auth: AuthKind,
    /// Whether it is the active server.
    pub active: bool,
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
        let ServerEntry { name, server, active, has_secret } = entry;
        Self {
            warnings: server.warnings().iter().map(|w| w.message().to_string()).collect(),
            name,
            url: server.url,
            username: server.username,
            auth: server.auth,
            active,
            has_secret,
            last_check,
        }
    }
}

/// A server named for a prefilled login dialog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerRef {
    /// Its name.
    pub name: String,
    /// Its tracking URL.
    pub url: String,
    /// Its username.
    pub username: Option<String>,
}

impl ServerRef {
    /// The parts of `server` a login dialog prefills.
    pub fn new(name: &str, server: &Server) -> Self {
        Self { name: name.to_string(), url: server.url.clone(), username: server.username.clone() }
    }
}

/// Which page a window shows (`WindowContext`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowContext {
    /// `login` or `servers`.
    pub window: &'static str,
    /// For "Log in again": the server to prefill.
    pub server: Option<ServerRef>,
}

/// What `login` did (`LoginResult`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginResult {
    /// Whether the server and password were stored.
    pub saved: bool,
    /// The check, unless the user saved without checking.
    pub check: Option<CheckView>,
    /// The saved server.
    pub server: Option<ServerView>,
}
