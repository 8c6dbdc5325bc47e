use clap::Args;

use mlflow_login_core::AuthKind;
use mlflow_login_core::choose::Choice;

use super::project::shell_choice;
use super::{Run, logins};
use crate::failure::Failure;
use crate::ui;

/// List the servers: the active one is marked with *, each server's MLflow workspace, and
/// whether a password is stored.
#[derive(Debug, Args)]
pub struct List {
    /// Print JSON (an array of objects) instead of a table.
    #[arg(long)]
    json: bool,
}

impl Run for List {
    fn run(self) -> Result<(), Failure> {
        let logins = logins()?;
        let (entries, keychain_error) = logins.list_best_effort()?;
        if let Some(e) = keychain_error {
            ui::warning(format!("cannot tell which passwords are stored: {e}"));
        }
        if self.json {
            outln!("{}", serde_json::to_string_pretty(&entries).unwrap_or_default())?;
            return Ok(());
        }
        if entries.is_empty() {
            outln!("no servers yet: mlflow-login login NAME --url URL --username USER")?;
            return Ok(());
        }
        let width = entries.iter().map(|e| e.name.len()).max().unwrap_or(0);
        for e in &entries {
            let mark = if e.active { '*' } else { ' ' };
            // A single sign-on server shows who signed in (the ID token's user, cleaned by
            // core), as a Basic server shows its username.
            let user = match (&e.signed_in_as, e.server.auth) {
                (Some(who), _) => who.clone(),
                (None, AuthKind::Sso) => "(single sign-on)".into(),
                (None, _) => e.server.username.clone().unwrap_or_else(|| "(token)".into()),
            };
            let pw = match e.has_secret {
                Some(true) => "logged in",
                Some(false) => "no password",
                None => "?",
            };
            let warn = if e.server.warnings().is_empty() { "" } else { "  (!)" };
            let ws = e.server.workspace.as_deref().map(|w| format!("  workspace {w}")).unwrap_or_default();
            outln!("{mark} {:width$}  {user} @ {}{ws}  [{pw}]{warn}", e.name, e.server.url)?;
        }
        if let choice @ Choice::Project { .. } = shell_choice(&logins.config()?).choice {
            match choice.server() {
                Some(name) => outln!("\nthis shell uses \"{name}\": {}", choice.reason())?,
                None => outln!("\nthis shell: {}", choice.reason())?,
            }
        }
        Ok(())
    }
}
