//! MLflow workspaces (MLflow 3.10+): one tracking server, several teams, each workspace
//! with its own experiments, models and permissions.
//!
//! A workspace is part of the server's selection: each [`Server`] keeps its active
//! workspace ([`Server::workspace`]), exported as `MLFLOW_WORKSPACE` with the server's
//! other variables (`crate::env`), so a switch reaches hooked shells through the state file
//! like any other switch: no extra work at the prompt.
//!
//! The server is the authority on which workspaces a user may use: [`list`] asks it
//! (`GET /api/3.0/mlflow/workspaces`, which MLflow filters to the workspaces the user may
//! see), and [`Selection::check`] refuses a workspace it does not list, by name. A server
//! without workspaces answers that endpoint 503 ("running without workspaces support"), and
//! one older than 3.10 404: both are [`Listing::NotEnabled`]. A project file or a pinned
//! shell only *selects* a workspace: what the user may do in it stays the server's call.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::logins::Logins;
use crate::secret::Secret;
use crate::server::Server;
use crate::vault::Vault;
use crate::verify::{Outcome, VerifyOptions, transport};

/// The API path that lists the workspaces the user may see.
pub const LIST_PATH: &str = "/api/3.0/mlflow/workspaces";

/// The header MLflow's client sends the workspace in.
pub const HEADER: &str = "X-MLFLOW-WORKSPACE";

/// MLflow's rule for a workspace name (it lives with the server's other name rules).
pub use crate::server::validate_workspace_name as validate_name;

/// `prod/team-a` split into the server and the workspace (`prod` alone: no workspace).
/// Server names cannot hold a `/`, so the first one separates them.
pub fn split(selection: &str) -> (&str, Option<&str>) {
    match selection.split_once('/') {
        Some((server, ws)) => (server, Some(ws)),
        None => (selection, None),
    }
}

/// Which server and workspace a shell uses is the default-server rule's (it lives in
/// `choose`, which every shell's choice goes through).
pub use crate::choose::{for_shell, with_workspace};

/// One workspace as the server lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workspace {
    /// Its name, as `MLFLOW_WORKSPACE` takes it.
    pub name: String,
    /// What the server says it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// What the server answered when asked for its workspaces.
#[derive(Debug, Clone)]
pub enum Listing {
    /// The workspaces this user may see.
    Workspaces(Vec<Workspace>),
    /// The server runs without workspaces (or predates them).
    NotEnabled,
    /// The list could not be had: the check's outcome says why (credentials, network...).
    Failed(Outcome),
}

/// Asks the server for the workspaces the user may see. Never panics; bounded by `opts`.
pub async fn list(server: &Server, secret: Option<&Secret>, opts: &VerifyOptions) -> Listing {
    let check = match transport::Check::new(server, secret, opts).await {
        Ok(check) => check,
        Err(outcome) => return Listing::Failed(outcome),
    };
    let url = crate::http::endpoint(check.base(), LIST_PATH, None);
    let backstop = opts.total_timeout + std::time::Duration::from_millis(500);
    let reply = match tokio::time::timeout(backstop, check.get(&url, opts.total_timeout, opts.body_cap)).await {
        Ok(Ok(reply)) => reply,
        Ok(Err(err)) => return Listing::Failed(crate::http::classify_error(&err, &url)),
        Err(_) => {
            return Listing::Failed(Outcome::Unreachable {
                reason: crate::verify::UnreachableReason::Timeout,
                detail: format!("no complete answer within {} ms", backstop.as_millis()),
            });
        }
    };
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        workspaces: Vec<Workspace>,
    }
    match reply.status {
        200 => match serde_json::from_slice::<Body>(&reply.body) {
            Ok(body) => Listing::Workspaces(
                body.workspaces
                    .into_iter()
                    .map(|w| Workspace {
                        name: crate::text::clean(&w.name, 63),
                        description: w.description.map(|d| crate::text::clean(&d, 200)),
                    })
                    .collect(),
            ),
            Err(_) => Listing::Failed(crate::verify::classify::classify(check.asked(&url), &reply)),
        },
        // 503: MLflow "running without workspaces support"; 404: before MLflow 3.10.
        404 | 503 => Listing::NotEnabled,
        _ => Listing::Failed(crate::verify::classify::classify(check.asked(&url), &reply)),
    }
}

/// Why a workspace cannot be selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The server does not list it for this user: it does not exist, or the user may not
    /// read it (MLflow does not tell the two apart, by design).
    NotListed {
        /// The workspace asked for.
        workspace: String,
        /// The ones the user may use.
        available: Vec<String>,
    },
    /// The server has no workspaces.
    NotEnabled {
        /// The workspace asked for.
        workspace: String,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::NotListed { workspace, .. } => {
                write!(
                    f,
                    "the server lists no workspace \"{workspace}\" for you: it does not exist, or you may not read it"
                )
            }
            Refusal::NotEnabled { workspace } => {
                write!(
                    f,
                    "the server has no workspaces (MLflow 3.10+ with --enable-workspaces), so not \"{workspace}\""
                )
            }
        }
    }
}

impl Refusal {
    /// What to do about it.
    pub fn help(&self) -> String {
        match self {
            Refusal::NotListed { available, .. } if available.is_empty() => {
                "you may use no workspace on this server: ask its administrator for access".into()
            }
            Refusal::NotListed { available, .. } => {
                format!("yours: {}; or ask the server's administrator for access", available.join(", "))
            }
            Refusal::NotEnabled { .. } => "use the server without a workspace".into(),
        }
    }
}

impl Refusal {
    /// The refusal as the outcome of a check of the server named `server` (the names in
    /// its fix are the user's).
    pub fn into_outcome(self, server: &str) -> Outcome {
        let server = server.to_string();
        match self {
            Refusal::NotListed { workspace, available } => Outcome::WorkspaceRefused { server, workspace, available },
            Refusal::NotEnabled { workspace } => Outcome::NoWorkspaces { server, workspace },
        }
    }
}

/// Checks the active workspace of `server` (named `name`) once `verification` found the
/// credentials accepted: a workspace the server does not list for the user, or any
/// workspace on a server without them, becomes the check's outcome. MLflow answers a
/// search in a workspace the user may not read with an empty success, so only its list
/// tells; that one request is made only when a workspace is active and the credentials
/// were accepted, so a server without one costs nothing. A list that cannot be had leaves
/// the verdict as it was (a follow-up never makes it worse).
pub async fn verify_active(
    name: &str,
    server: &Server,
    secret: Option<&Secret>,
    opts: &VerifyOptions,
    mut verification: crate::verify::Verification,
) -> crate::verify::Verification {
    let Some(wanted) = server.workspace.as_deref() else { return verification };
    if !matches!(verification.outcome, Outcome::Ok) {
        return verification;
    }
    if let Err(refusal) = check(&list(server, secret, opts).await, wanted) {
        verification.outcome = refusal.into_outcome(name);
    }
    verification
}

/// Asks the server of `name` for the workspaces the user may see, with its fresh stored
/// credentials (single sign-on: refreshed when due). Blocking keychain reads; bounded by
/// `opts` and core's keychain wait.
pub async fn list_for<V: Vault>(
    logins: &Logins<V>,
    name: &str,
    server: &Server,
    opts: &VerifyOptions,
) -> Result<Listing> {
    let fresh = crate::fresh::fresh_with(logins, name, server, &crate::oidc::RefreshOptions::default()).await?;
    Ok(list(server, fresh.as_ref().map(|f| &f.secret), opts).await)
}

/// Why a workspace was not selected.
#[derive(Debug, Clone)]
pub enum NotSelected {
    /// The server does not offer it to the user.
    Refused(Refusal),
    /// The server could not be asked: the check's outcome says why.
    CannotAsk(Outcome),
}

/// The rule of `use NAME/WS`: `wanted` may be selected only when the server lists it
/// for the user; a server that cannot be asked refuses too (the CLI's `--no-verify` is the
/// user's explicit way round it).
pub fn verdict(listing: &Listing, wanted: &str) -> std::result::Result<(), NotSelected> {
    match listing {
        Listing::Failed(outcome) => Err(NotSelected::CannotAsk(outcome.clone())),
        listing => check(listing, wanted).map_err(NotSelected::Refused),
    }
}

/// Makes `wanted` the active workspace of `name`, and `name` the active server, once the
/// server lists it for the user ([`verdict`]); nothing changes otherwise. The tray's
/// workspace submenu and the servers window use it, as `use NAME/WS` does.
pub async fn select<V: Vault>(
    logins: &Logins<V>,
    name: &str,
    wanted: &str,
    opts: &VerifyOptions,
) -> Result<std::result::Result<(), NotSelected>> {
    validate_name(wanted)?;
    let server = logins.config()?.get(name)?.clone();
    if let Err(not) = verdict(&list_for(logins, name, &server, opts).await?, wanted) {
        return Ok(Err(not));
    }
    logins.set_active_workspace(name, Some(Some(wanted)))?;
    Ok(Ok(()))
}

impl fmt::Display for NotSelected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotSelected::Refused(refusal) => write!(f, "{refusal}"),
            NotSelected::CannotAsk(outcome) => write!(f, "the server could not be asked: {}", outcome.summary()),
        }
    }
}

/// Whether the workspace `wanted` may be selected, by what the server listed. The
/// listing must have succeeded (a [`Listing::Failed`] is the caller's to report).
pub fn check(listing: &Listing, wanted: &str) -> std::result::Result<(), Refusal> {
    match listing {
        Listing::Workspaces(list) if list.iter().any(|w| w.name == wanted) => Ok(()),
        Listing::Workspaces(list) => Err(Refusal::NotListed {
            workspace: wanted.to_string(),
            available: list.iter().map(|w| w.name.clone()).collect(),
        }),
        Listing::NotEnabled => Err(Refusal::NotEnabled { workspace: wanted.to_string() }),
        Listing::Failed(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_mlflow() {
        for ok in ["team-a", "ab", "a1-b2", &"x".repeat(63)] {
            validate_name(ok).unwrap();
        }
        for bad in ["", "a", "Team", "-ab", "ab-", "a_b", "a/b", "api", "workspaces", &"x".repeat(64), "tëam"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn selection_splits_at_the_first_slash() {
        assert_eq!(split("prod/team-a"), ("prod", Some("team-a")));
        assert_eq!(split("prod"), ("prod", None));
    }

    #[test]
    fn check_names_the_refused_workspace() {
        let list = Listing::Workspaces(vec![Workspace { name: "team-a".into(), description: None }]);
        assert_eq!(check(&list, "team-a"), Ok(()));
        let refusal = check(&list, "team-b").unwrap_err();
        assert!(refusal.to_string().contains("\"team-b\""), "{refusal}");
        assert!(refusal.help().contains("team-a"));
        assert!(matches!(check(&Listing::NotEnabled, "team-a"), Err(Refusal::NotEnabled { .. })));
    }
}
