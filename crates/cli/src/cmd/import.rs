//! `import`: plain-text credentials into the keychain (core's `import` module finds them,
//! core's `log_in` verifies and stores each one).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use mlflow_login_core::import::{self, Found, Removal, ScanInput, SourceKind, Suggestion};
use mlflow_login_core::{
    Activate, AuthKind, Change, LoginInput, LoginMode, OutcomeClass, SsoSettings, VerifyOptions, log_in,
};

use super::doctor::{home_dir, tilde};
use super::{Run, logins, runtime};
use crate::failure::{self, Failure};
use crate::ui;

/// Move passwords and tokens you keep in plain text into the OS keychain.
///
/// Looks in ~/.mlflow/credentials, MLFLOW_TRACKING_* in this shell's environment and in
/// your shells' start-up files (~/.bashrc, ~/.zshrc, ~/.profile, fish's config.fish, ...),
/// ~/.netrc entries for the hosts of your servers, and user:password@ inside
/// MLFLOW_TRACKING_URI. Each one is checked against its server and stored only if the
/// server accepts it: as a login to the server you already have with that URL, or as a
/// new server named after the host. The secret is never printed.
///
/// A password whose file names no URL (~/.mlflow/credentials never does) is checked
/// against --url, or a server you already have whose URL another file names; a URL that
/// only this machine's files or environment name is offered for you to confirm first,
/// and one a project file set is never used.
///
/// With --remove-plaintext, each stored one is then taken out of its file: the start-up
/// file's lines are commented out (the secret replaced by a note), the [mlflow] section of
/// ~/.mlflow/credentials or the ~/.netrc entry is deleted. A backup of each changed file is
/// kept in mlflow-login's config folder (readable only by you) and its path printed;
/// --forget-backups deletes them. Nothing that failed its check is stored or removed, and
/// a file that sets one variable to different values (in branches of an `if`) is left
/// alone.
///
///   mlflow-login import
///   mlflow-login import --remove-plaintext
///   mlflow-login import --url https://mlflow.example.com   # for ~/.mlflow/credentials
///   mlflow-login import --forget-backups
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct Import {
    /// Take each stored credential out of its plain-text file (a backup is kept).
    #[arg(long)]
    remove_plaintext: bool,
    /// The tracking URL for credentials that name none (~/.mlflow/credentials holds no URL;
    /// default: a server you have whose URL a start-up file names, else the active server).
    #[arg(long)]
    url: Option<String>,
    /// Delete the backups earlier imports kept (they hold the old plain-text passwords),
    /// and import nothing.
    #[arg(long, conflicts_with_all = ["remove_plaintext", "url"])]
    forget_backups: bool,
    /// Print what was done as JSON.
    #[arg(long)]
    json: bool,
}

/// What happened to one credential.
#[derive(Debug, serde::Serialize)]
struct Report {
    source: SourceKind,
    path: Option<PathBuf>,
    line: Option<usize>,
    url: Option<String>,
    username: Option<String>,
    /// The server it was stored for (or would have been).
    server: Option<String>,
    /// `ok`, or the verification outcome kind, or `invalid` / `no_url` / `error`.
    outcome: String,
    stored: bool,
    removed: Vec<RemovedFile>,
}

#[derive(Debug, Clone, serde::Serialize)]
struct RemovedFile {
    path: PathBuf,
    backup: PathBuf,
}

impl Run for Import {
    fn run(self) -> Result<(), Failure> {
        let home = home_dir();
        let logins = Arc::new(logins()?);
        let backups = import::backups::folder(logins.store().paths());
        if self.forget_backups {
            return forget_backups(&backups, self.json);
        }
        let config = logins.config()?;
        let var = |k: &str| std::env::var_os(k);
        let scan = import::scan(&ScanInput { home: &home, var: &var, config: &config, url: self.url.as_deref() });
        for s in &scan.skipped {
            ui::warning(format!("{}:{} {}: not imported: {}", tilde(&home, &s.path), s.line, s.what, s.reason));
        }
        if scan.found.is_empty() {
            if self.json {
                outln!("[]")?;
            } else {
                outln!("no plain-text MLflow credentials found")?;
            }
            return Ok(());
        }
        let rt = runtime()?;
        let mut reports = Vec::new();
        let mut to_remove: Vec<(usize, &Removal, String)> = Vec::new();
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        for found in &scan.found {
            let mut report = Report {
                source: found.kind,
                path: found.path.clone(),
                line: found.line,
                url: found.url.clone(),
                username: found.username.clone(),
                server: None,
                outcome: String::new(),
                stored: false,
                removed: Vec::new(),
            };
            errln!("found: {}", describe(&home, found));
            let confirmed = match (&found.url, &found.suggested_url) {
                (None, Some(s)) if interactive => confirm_url(&home, s)?.then(|| s.url.clone()),
                _ => None,
            };
            let Some(url) = found.url.as_ref().or(confirmed.as_ref()) else {
                report.outcome = "no_url".into();
                ui::warning("  nothing says which server it is for: run again with --url URL");
                if let Some(s) = &found.suggested_url {
                    ui::note(format!(
                        "  {} names {}: if this password is for that server, run again with --url {}",
                        place(&home, s.path.as_deref()),
                        s.url,
                        s.url
                    ));
                }
                reports.push(report);
                continue;
            };
            let config = logins.config()?;
            let (name, mode) = import::target(&config, url, found.auth, found.username.as_deref());
            report.server = Some(name.clone());
            let input = LoginInput {
                name: name.clone(),
                mode,
                url: Some(url.clone()),
                username: Change::set_or_keep(found.username.clone()),
                auth: Some(found.auth),
                ca_bundle: Change::Keep,
                client_cert: Change::Keep,
                insecure_tls: None,
                // Plain-text credentials are passwords and tokens, never a sign-on.
                sso: SsoSettings::default(),
                secret: found.secret.clone(),
                verify: true,
                activate: Activate::IfNone,
            };
            match rt.block_on(log_in(&logins, input, &VerifyOptions::default())) {
                // A keychain that fails fails every other credential too: stop here.
                Err(e) if e.kind().is_keychain() => {
                    return Err(Failure::context(
                        format!("could not store the credential from {}", describe(&home, found)),
                        e,
                    ));
                }
                Err(e) => {
                    report.outcome =
                        if e.kind() == mlflow_login_core::ErrorKind::InvalidInput { "invalid" } else { "error" }.into();
                    ui::warning(format!("  not imported: {e}"));
                }
                Ok(r) => match &r.verification {
                    Some(v) if v.class() != OutcomeClass::Ok || !r.is_saved() => {
                        report.outcome = serde_json::to_value(v.outcome.kind())
                            .ok()
                            .and_then(|k| k.as_str().map(str::to_string))
                            .unwrap_or_default();
                        ui::warning(format!(
                            "  not imported: {} (nothing stored, nothing removed)",
                            v.outcome.summary()
                        ));
                    }
                    _ => {
                        report.outcome = "ok".into();
                        report.stored = true;
                        let how = if mode == LoginMode::Add { "new server" } else { "server" };
                        errln!("  verified and stored in the keychain: {how} \"{name}\"");
                        if self.remove_plaintext {
                            to_remove.extend(found.removals.iter().map(|r| (reports.len(), r, name.clone())));
                        }
                    }
                },
            }
            reports.push(report);
        }

        let mut failed = Vec::new();
        if self.remove_plaintext && !to_remove.is_empty() {
            let pairs: Vec<(&Removal, &str)> = to_remove.iter().map(|(_, r, n)| (*r, n.as_str())).collect();
            // Each file is reported on its own: one that could not be changed does not hide
            // the backup of one that was.
            for change in import::remove_plaintext(&pairs, &backups) {
                let shown = change.paths.iter().map(|p| tilde(&home, p)).collect::<Vec<_>>().join(" = ");
                match &change.outcome {
                    Ok(backup) => {
                        let line = format!("removed the plain-text copy from {shown} (backup: {})", backup.display());
                        // Under --json, stdout is the JSON alone.
                        if self.json {
                            errln!("{line}");
                        } else {
                            outln!("{line}")?;
                        }
                        for (i, removal, _) in &to_remove {
                            if change.paths.contains(&removal.path) {
                                let file = RemovedFile { path: removal.path.clone(), backup: backup.clone() };
                                reports[*i].removed.push(file);
                            }
                        }
                    }
                    Err(e) => {
                        ui::warning(format!("the plain-text copy in {shown} was not removed: {e}"));
                        failed.push(shown);
                    }
                }
            }
        }
        if self.remove_plaintext && reports.iter().any(|r| r.stored && r.source == SourceKind::Environment) {
            ui::note("this shell's environment still holds MLFLOW_TRACKING_* from where it started: open a new shell");
        }
        let stored = reports.iter().filter(|r| r.stored).count();
        if self.json {
            outln!("{}", serde_json::to_string_pretty(&reports).unwrap_or_default())?;
        } else {
            outln!("{stored} of {} credentials stored in the keychain", reports.len())?;
            if stored > 0 && !self.remove_plaintext {
                outln!("to take the plain-text copies out: mlflow-login import --remove-plaintext")?;
            }
        }
        if !failed.is_empty() {
            return Err(Failure::new(
                failure::OTHER,
                format!("could not remove the plain-text copies from {} (see above)", failed.join(", ")),
            ));
        }
        if stored < reports.len() {
            let code =
                if reports.iter().any(|r| r.outcome == "bad_credentials") { failure::REFUSED } else { failure::OTHER };
            return Err(Failure::new(
                code,
                format!("{} of {} credentials not imported (see above)", reports.len() - stored, reports.len()),
            ));
        }
        Ok(())
    }
}

/// Asks whether a URL another file names is this credential's server.
fn confirm_url(home: &Path, s: &Suggestion) -> Result<bool, Failure> {
    let question = format!(
        "  {} names {}, which is none of your servers: check this password there? [y/N] ",
        place(home, s.path.as_deref()),
        s.url
    );
    ui::ask(&question).map(|a| matches!(a.trim(), "y" | "Y" | "yes"))
}

/// `~/.bashrc` or "this shell's environment".
fn place(home: &Path, path: Option<&Path>) -> String {
    path.map_or_else(|| "this shell's environment".into(), |p| tilde(home, p))
}

/// `import --forget-backups`.
fn forget_backups(dir: &Path, json: bool) -> Result<(), Failure> {
    let gone = import::backups::forget(dir).map_err(|e| Failure::context("could not delete the backups", e))?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&gone).unwrap_or_default())?;
    } else if gone.is_empty() {
        outln!("no backups to delete")?;
    } else {
        for p in &gone {
            outln!("deleted {}", p.display())?;
        }
    }
    Ok(())
}

/// Where it was found and what it is, never the secret.
fn describe(home: &Path, f: &Found) -> String {
    let place = match (&f.path, f.line) {
        (Some(p), Some(l)) => format!("{}:{l}", tilde(home, p)),
        (Some(p), None) => tilde(home, p),
        (None, _) => "this shell's environment".into(),
    };
    let what = match (f.auth, f.in_uri) {
        (_, true) => "a password inside MLFLOW_TRACKING_URI",
        (AuthKind::Bearer, _) => "a token",
        _ => "a password",
    };
    let user = f.username.as_deref().map(|u| format!(" for {u}")).unwrap_or_default();
    let url = f.url.as_deref().unwrap_or("(no URL)");
    format!("{place}: {what}{user} at {url}")
}
