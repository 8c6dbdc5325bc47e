use std::sync::Arc;

use clap::Args;
use mlflow_login_core::check::{RefreshState, SsoStatus, check_all_as};
use mlflow_login_core::choose::{Choice, Chosen, Found};
use mlflow_login_core::pat::{self, PersonalToken};
use mlflow_login_core::project::Ignored;
use mlflow_login_core::{Checked, OutcomeClass, OutcomeKind, Verification, VerifyOptions};
use serde::Serialize;

use super::project::{shell_choice, unknown_project};
use super::{Run, logins, runtime};
use crate::failure::{self, Failure};
use crate::ui;

/// Check the credentials against the server(s), now. Exit code 0 when all are accepted.
/// The result also shows in the tray (menu line, servers window) within a second.
#[derive(Debug, Args)]
pub struct Status {
    /// The server (default: the one the project file here selects, else the one pinned
    /// with `use --here`, else the active one; the first line says which and why).
    #[arg(conflicts_with = "all")]
    name: Option<String>,
    /// Check every server, concurrently.
    #[arg(long)]
    all: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Report {
    name: String,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    active: bool,
    /// The server's active MLflow workspace, checked with the credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    workspace: Option<String>,
    /// Why this shell uses this server, for the server `status` picked itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    used_because: Option<UsedBecause>,
    /// Single sign-on: issuer, token expiry, whether refresh works.
    #[serde(skip_serializing_if = "Option::is_none")]
    sso: Option<SsoStatus>,
    /// A personal access token minted from single sign-on: minted, expires, days.
    #[serde(skip_serializing_if = "Option::is_none")]
    personal_token: Option<PersonalToken>,
    #[serde(flatten)]
    result: Outcome,
}

/// The verification, or `{ "outcome": { "kind": "no_credentials" } }` when no password is
/// stored (nothing was sent).
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Outcome {
    Verified(Verification),
    NoCredentials { outcome: NoCredentials },
}

#[derive(Debug, Serialize)]
struct NoCredentials {
    kind: OutcomeKind,
}

/// `{ "kind": "project", "project_file": "/p/.mlflow-login.toml", "found": "current_folder" }`,
/// `pin` or `active`; `ignored` names a project file passed over, and why.
#[derive(Debug, Serialize)]
struct UsedBecause {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    project_file: Option<std::path::PathBuf>,
    /// How the project file was found: `shell_hook` or `current_folder`.
    #[serde(skip_serializing_if = "Option::is_none")]
    found: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ignored: Option<IgnoredFile>,
    reason: String,
}

#[derive(Debug, Serialize)]
struct IgnoredFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<std::path::PathBuf>,
    /// `untrusted` or `invalid`.
    kind: &'static str,
    why: String,
}

impl UsedBecause {
    fn of(chosen: &Chosen) -> Option<Self> {
        let (kind, project_file) = match &chosen.choice {
            Choice::Project { project, .. } => ("project", Some(project.file.clone())),
            Choice::Pin(_) => ("pin", None),
            Choice::Active(_) => ("active", None),
            Choice::Nothing => return None,
        };
        let found = project_file.as_ref().and(chosen.found).map(|f| match f {
            Found::Hook => "shell_hook",
            Found::Walk => "current_folder",
        });
        let ignored = chosen.ignored.as_ref().map(|i| IgnoredFile {
            file: i.file().map(std::path::Path::to_path_buf),
            kind: match i {
                Ignored::Untrusted { .. } => "untrusted",
                Ignored::Invalid(_) => "invalid",
            },
            why: i.to_string(),
        });
        Some(UsedBecause { kind, project_file, found, ignored, reason: chosen.reason() })
    }
}

impl Report {
    fn class(&self) -> OutcomeClass {
        match &self.result {
            Outcome::Verified(v) => v.outcome.class(),
            Outcome::NoCredentials { outcome } => outcome.kind.class(),
        }
    }

    fn new(checked: Checked, active: Option<&str>) -> Self {
        let Checked { name, server, verification, record, sso, .. } = checked;
        Report {
            active: active == Some(name.as_str()),
            name,
            used_because: None,
            url: server.url,
            username: server.username,
            workspace: server.workspace,
            personal_token: server.personal_token,
            sso,
            result: match verification {
                Some(v) => Outcome::Verified(v),
                None => Outcome::NoCredentials { outcome: NoCredentials { kind: record.kind } },
            },
        }
    }
}

impl Run for Status {
    fn run(self) -> Result<(), Failure> {
        let logins = Arc::new(logins()?);
        let config = logins.config()?;
        // The server this shell uses (project file, pin, active), why, and the workspace in
        // force with it; without a name, that server is the one checked.
        let here = shell_choice(&config);
        let chosen = (self.name.is_none() && !self.all).then_some(&here);
        let names: Vec<String> = match chosen.map(|c| &c.choice) {
            _ if self.all => config.servers.keys().cloned().collect(),
            Some(Choice::Project { project, server: None }) => return Err(unknown_project(project)),
            Some(c) if c.server().is_some() => vec![c.server().unwrap_or_default().to_string()],
            _ => vec![config.resolve(self.name.as_deref())?.0],
        };
        // Every server at once; each check is recorded where the tray reads it.
        // Each server in the workspace this shell uses with it (a project file's, a pin's).
        let in_force = |name: &str, server: &mlflow_login_core::Server| here.in_force(name, server);
        let results = runtime()?.block_on(check_all_as(&logins, names, in_force, &VerifyOptions::default()));
        let mut reports = Vec::with_capacity(results.len());
        for (name, result) in results {
            let checked = result.map_err(|e| Failure::context(format!("cannot check \"{name}\""), e))?;
            reports.push(Report::new(checked, config.active.as_deref()));
        }
        if let (Some(report), Some(chosen)) = (reports.first_mut(), chosen) {
            report.used_because = UsedBecause::of(chosen);
        }

        if self.json {
            outln!("{}", serde_json::to_string_pretty(&reports).unwrap_or_default())?;
        } else {
            print_reports(&reports)?;
        }
        let worst = reports.iter().map(Report::class).fold(0, |acc, c| match (acc, failure::code_of_class(c)) {
            (failure::REFUSED, _) | (_, failure::REFUSED) => failure::REFUSED,
            (a, b) => a.max(b),
        });
        if worst == 0 { Ok(()) } else { Err(Failure::new(worst, summary_line(&reports))) }
    }
}

fn summary_line(reports: &[Report]) -> String {
    let bad: Vec<&str> = reports.iter().filter(|r| r.class() != OutcomeClass::Ok).map(|r| r.name.as_str()).collect();
    format!("not signed in to {}", bad.join(", "))
}

fn print_reports(reports: &[Report]) -> Result<(), Failure> {
    if let Some(why) = reports.first().and_then(|r| r.used_because.as_ref().map(|w| (&r.name, w))) {
        outln!("this shell uses \"{}\": {}", why.0, ui::shown(&why.1.reason))?;
    }
    let width = reports.iter().map(|r| r.name.len()).max().unwrap_or(0);
    for r in reports {
        let mark = if r.active { '*' } else { ' ' };
        let user = r.username.as_deref().map(|u| format!("{u} @ ")).unwrap_or_default();
        match &r.result {
            Outcome::Verified(v) if v.outcome.class() == OutcomeClass::Ok => {
                let version = v.server_version.as_deref().map(|s| format!(", MLflow {s}")).unwrap_or_default();
                let ws = r.workspace.as_deref().map(|w| format!(", workspace {w}")).unwrap_or_default();
                outln!("{mark} {:width$}  ok  {user}{}{ws}  ({} ms{version})", r.name, r.url, v.latency_ms)?;
            }
            Outcome::Verified(v) => {
                outln!("{mark} {:width$}  FAILED  {user}{}: {}", r.name, r.url, v.outcome.summary())?;
                if let Some(h) = v.outcome.help() {
                    outln!("  {:width$}  help: {h}", "")?;
                }
            }
            Outcome::NoCredentials { .. } => {
                outln!("{mark} {:width$}  not logged in  {user}{}", r.name, r.url)?;
                outln!("  {:width$}  help: mlflow-login login {}", "", r.name)?;
            }
        }
        if let Some(sso) = &r.sso {
            // The issuer is the identity provider's own text.
            outln!("  {:width$}  {}", "", ui::shown(sso_line(sso)))?;
        }
        if let Some(t) = &r.personal_token {
            outln!(
                "  {:width$}  personal access token: valid until {}, renewed from {}",
                "",
                pat::date(t.expires_at),
                pat::date(t.renew_at())
            )?;
        }
        if let Outcome::Verified(Verification { identity: Some(id), .. }) = &r.result {
            outln!("  {:width$}  the server knows you as {}", "", id.describe())?;
            if let Some(note) = id.access_note() {
                outln!("  {:width$}  note: {note}", "")?;
            }
        }
    }
    Ok(())
}

/// "single sign-on: https://idp, token valid for 4 min more, refresh works".
fn sso_line(sso: &SsoStatus) -> String {
    let issuer = sso.issuer.as_deref().unwrap_or("an identity provider");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let expiry = match sso.expires_at {
        Some(e) if e > now => format!("token valid for {} more", human_secs(e - now)),
        Some(_) => "token expired".to_string(),
        None => "token expiry not known".to_string(),
    };
    let refresh = match (sso.refresh, sso.can_refresh) {
        (RefreshState::Refused, _) => "the identity provider refused the refresh: log in again",
        (RefreshState::Refreshed, _) => "refreshed just now",
        (RefreshState::NotNeeded, true) => "refresh token stored",
        (RefreshState::NotNeeded, false) => "no refresh token: log in again when it expires",
    };
    format!("single sign-on: {issuer}, {expiry}, {refresh}")
}

fn human_secs(s: u64) -> String {
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        _ => format!("{} h", s / 3600),
    }
}
