//! `workspaces [NAME]`, and the workspace check `use` makes before it selects one.

use clap::Args;
use mlflow_login_core::workspaces::{self, Listing, Workspace};
use mlflow_login_core::{Config, KeyringVault, Logins, Server, VerifyOptions};
use serde::Serialize;

use super::project::shell_choice;
use super::{Run, fresh_secret, logins, runtime};
use crate::failure::{self, Failure, code_of_class};

/// List the MLflow workspaces of a server that you may use (MLflow 3.10+); the active one
/// is marked with *.
///
///   mlflow-login workspaces             # the active server's
///   mlflow-login use prod/team-a        # then make one active
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct Workspaces {
    /// The server (default: the one this shell uses).
    name: Option<String>,
    /// Print JSON (an array of objects) instead of a list.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Row<'a> {
    #[serde(flatten)]
    workspace: &'a Workspace,
    active: bool,
}

impl Run for Workspaces {
    fn run(self) -> Result<(), Failure> {
        let logins = logins()?;
        let config = logins.config()?;
        let (name, server) = super::project::resolve(&config, self.name)?;
        let server = in_this_shell(&config, &name, server);
        let list = match ask(&logins, &name, &server)? {
            Listing::Workspaces(list) => list,
            Listing::NotEnabled => {
                return Err(Failure::new(failure::OTHER, format!("\"{name}\" has no workspaces")).cause(
                    "the server runs without workspaces (MLflow 3.10+ with `mlflow server --enable-workspaces`)",
                ));
            }
            Listing::Failed(outcome) => return Err(list_failed(&name, &outcome)),
        };
        let active = server.workspace.as_deref();
        if self.json {
            let rows: Vec<Row<'_>> =
                list.iter().map(|w| Row { workspace: w, active: active == Some(w.name.as_str()) }).collect();
            outln!("{}", serde_json::to_string_pretty(&rows).unwrap_or_default())?;
            return Ok(());
        }
        if list.is_empty() {
            outln!("\"{name}\" lists no workspace for you: ask the server's administrator for access")?;
            return Ok(());
        }
        let width = list.iter().map(|w| w.name.len()).max().unwrap_or(0);
        for w in &list {
            let mark = if active == Some(w.name.as_str()) { '*' } else { ' ' };
            match &w.description {
                Some(d) if !d.is_empty() => outln!("{mark} {:width$}  {d}", w.name)?,
                _ => outln!("{mark} {}", w.name)?,
            }
        }
        if let Some(ws) = active.filter(|a| !list.iter().any(|w| w.name == *a)) {
            outln!(
                "\nthe active workspace \"{ws}\" is not among them: `mlflow-login use {name}/WORKSPACE` picks another"
            )?;
        }
        Ok(())
    }
}

/// `server` with the workspace this shell uses with it (core's rule: a project file's, a
/// pinned one, else its own).
pub fn in_this_shell(config: &Config, name: &str, server: &Server) -> Server {
    shell_choice(config).in_force(name, server)
}

/// Asks the server which workspaces the user may see, with the stored credentials.
pub fn ask(logins: &Logins<KeyringVault>, name: &str, server: &Server) -> Result<Listing, Failure> {
    let secret = fresh_secret(logins, name, server)?;
    Ok(runtime()?.block_on(workspaces::list(server, secret.as_ref(), &VerifyOptions::default())))
}

/// The list could not be had: the check's outcome, with its fix.
pub fn list_failed(name: &str, outcome: &mlflow_login_core::Outcome) -> Failure {
    let f = Failure::new(code_of_class(outcome.class()), format!("cannot list the workspaces of \"{name}\""))
        .cause(outcome.summary());
    match outcome.help() {
        Some(h) => f.help(h),
        None => f,
    }
}
