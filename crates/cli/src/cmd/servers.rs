//! `servers export` / `servers import`: share server lists (core's `team` module).

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use mlflow_login_core::Server;
use mlflow_login_core::team::{self, Action, ExportOptions, ListSource};

use super::{Run, logins, runtime};
use crate::failure::{self, Failure};
use crate::ui;

/// Share server lists with your team: export prints the servers (never a password), import
/// adds the servers of such a list and says which ones need a login.
///
///   mlflow-login servers export > servers.toml
///   mlflow-login servers export prod staging --no-username
///   mlflow-login servers import servers.toml
///   mlflow-login servers import https://wiki.example.com/mlflow/servers.toml
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct Servers {
    #[command(subcommand)]
    action: ServersAction,
}

#[derive(Debug, Subcommand)]
enum ServersAction {
    Export(Export),
    Import(Import),
}

/// Print server definitions as TOML (no passwords or tokens, no client certificates).
#[derive(Debug, Args)]
pub struct Export {
    /// The servers to export (default: all).
    names: Vec<String>,
    /// Leave the usernames out, for a list every member of a team imports.
    #[arg(long)]
    no_username: bool,
}

/// Add the servers of a list (a file, or an https:// URL where your team publishes it).
///
/// A server whose name exists with other settings is replaced only if you agree (asked on
/// the terminal; without one, only with --replace); one with the same settings is left as
/// it is. A relative CA bundle path is read relative to the file (refused from a URL).
/// http:// URLs are accepted only for this machine (localhost).
#[derive(Debug, Args)]
pub struct Import {
    /// The list: a file, or an https:// URL.
    source: String,
    /// Replace servers whose settings differ without asking.
    #[arg(long)]
    replace: bool,
    /// Your username, for servers the list names none for.
    #[arg(long, short)]
    username: Option<String>,
    /// Print what was done as JSON.
    #[arg(long)]
    json: bool,
}

impl Run for Servers {
    fn run(self) -> Result<(), Failure> {
        match self.action {
            ServersAction::Export(e) => e.run(),
            ServersAction::Import(i) => i.run(),
        }
    }
}

impl Run for Export {
    fn run(self) -> Result<(), Failure> {
        let config = logins()?.config()?;
        let text = team::export(&config, &self.names, ExportOptions { usernames: !self.no_username })?;
        out!("{text}")
    }
}

/// What importing one server did.
#[derive(Debug, serde::Serialize)]
struct Imported {
    name: String,
    /// `added`, `replaced`, `unchanged`, `refused` (differs, no terminal, no --replace),
    /// `declined` (differs, the user said no).
    result: &'static str,
    url: String,
    /// No password or token is stored for it yet.
    needs_login: bool,
}

impl Run for Import {
    fn run(self) -> Result<(), Failure> {
        let (text, source) = self.read()?;
        let listed = team::parse(&text, &source)
            .map_err(|e| Failure::from(e).help("fix the list (nothing was imported), or ask whoever publishes it"))?;
        let logins = logins()?;
        let config = logins.config()?;
        let plan = team::plan(&config, &listed, self.username.as_deref())
            .map_err(|e| Failure::context(format!("cannot import {}", source.display()), e))?;
        let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        // Asked first, then core applies exactly this plan (never the list read again).
        let mut replace = Vec::new();
        for (name, action) in &plan {
            if let Action::Differs { current, listed } = action {
                if self.replace || (interactive && ask_replace(name, current, listed)?) {
                    replace.push(name.clone());
                } else if !interactive {
                    ui::warning(format!(
                        "\"{name}\" exists with other settings ({}): not replaced (no terminal to ask; add --replace)",
                        team::differences(current, listed).join(", ")
                    ));
                }
            }
        }
        let mut done: Vec<(Imported, Server)> = team::apply_plan(logins.store(), &plan, &replace)?
            .into_iter()
            .map(|(name, result, server)| {
                let result = match result {
                    team::Imported::Added => "added",
                    team::Imported::Replaced => "replaced",
                    team::Imported::Unchanged => "unchanged",
                    team::Imported::Kept if interactive => "declined",
                    team::Imported::Kept => "refused",
                };
                (Imported { name, result, url: server.url.clone(), needs_login: false }, server)
            })
            .collect();
        for (item, server) in &mut done {
            // A keychain that cannot say is no reason to fail the import: the hint is shown.
            item.needs_login = !matches!(logins.secret(&item.name, server), Ok(Some(_)));
        }
        let refused = done.iter().filter(|(i, _)| i.result == "refused").count();
        if self.json {
            let items: Vec<&Imported> = done.iter().map(|(i, _)| i).collect();
            outln!("{}", serde_json::to_string_pretty(&items).unwrap_or_default())?;
        } else {
            for (i, _) in &done {
                outln!("{:>9}  {} ({})", i.result, i.name, i.url)?;
            }
            let login: Vec<&Imported> =
                done.iter().map(|(i, _)| i).filter(|i| i.needs_login && i.result != "refused").collect();
            if !login.is_empty() {
                outln!("\nto log in:")?;
                for i in login {
                    outln!("  mlflow-login login {}", i.name)?;
                }
            }
        }
        if refused > 0 {
            let s = if refused == 1 { "" } else { "s" };
            return Err(Failure::new(
                failure::OTHER,
                format!("{refused} server{s} with other settings were not replaced"),
            )
            .help("run it on a terminal to be asked, or add --replace"));
        }
        Ok(())
    }
}

impl Import {
    /// The list's text, from the file or the URL.
    fn read(&self) -> Result<(String, ListSource), Failure> {
        if self.source.starts_with("https://") || self.source.starts_with("http://") {
            let text = runtime()?.block_on(team::fetch(&self.source))?;
            return Ok((text, ListSource::Url(self.source.clone())));
        }
        let path = PathBuf::from(&self.source);
        let text = team::read_file(&path)?;
        Ok((text, ListSource::File(path)))
    }
}

/// Asks on the terminal whether to replace `name`.
fn ask_replace(name: &str, current: &Server, listed: &Server) -> Result<bool, Failure> {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "\"{name}\" exists with other settings:");
    for d in team::differences(current, listed) {
        let _ = writeln!(err, "  {d}");
    }
    let _ = write!(err, "replace it? [y/N] ");
    let _ = err.flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
