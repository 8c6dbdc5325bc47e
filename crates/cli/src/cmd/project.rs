//! `project init`: writes the project file (`.mlflow-login.toml`) that makes hooked shells
//! in this folder, and every folder below it, use a server (see docs/projects.md).

use std::io::Write;
use std::path::Path;

use clap::{Args, Subcommand};
use mlflow_login_core::choose::{self, Choice, Chosen};
use mlflow_login_core::project::{self, FILE_NAME};

use super::{Run, logins};
use crate::failure::{self, Failure};
use crate::ui;

/// The project file: a server for everyone who works in this folder.
#[derive(Debug, Args)]
pub struct Project {
    #[command(subcommand)]
    command: ProjectCommand,
}

#[derive(Debug, Subcommand)]
enum ProjectCommand {
    Init(Init),
}

/// Write .mlflow-login.toml in the current folder for a server: its URL, name and auth
/// kind, never a secret. Commit it with the project; in a hooked shell, `cd` into the
/// project then uses that server (for those who logged in to it).
///
///   mlflow-login project init          # the server this shell uses
///   mlflow-login project init prod
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
struct Init {
    /// The server (default: the one a project file here selects, else the one pinned in
    /// this shell with `use --here`, else the active one).
    name: Option<String>,
    /// Replace an existing project file.
    #[arg(long)]
    force: bool,
}

impl Run for Project {
    fn run(self) -> Result<(), Failure> {
        match self.command {
            ProjectCommand::Init(c) => c.run(),
        }
    }
}

impl Run for Init {
    fn run(self) -> Result<(), Failure> {
        let config = logins()?.config()?;
        let (name, server) = resolve(&config, self.name)?;
        let dir = std::env::current_dir()
            .map_err(|e| Failure::new(failure::OTHER, format!("cannot tell the current folder: {e}")))?;
        let file = dir.join(FILE_NAME);
        // Only a CA bundle inside the project can be named relative to it for others.
        let ca = server.ca_bundle.as_deref().and_then(|p| p.strip_prefix(&dir).ok());
        if let Some(p) = server.ca_bundle.as_deref().filter(|_| ca.is_none()) {
            ui::note(format!(
                "the CA bundle {} is outside this folder, so the project file does not name it",
                p.display()
            ));
        }
        let text = project::render(&name, server, ca);
        write_new(&file, &text, self.force)?;
        outln!("wrote {}: hooked shells in this folder and below use \"{name}\" ({})", file.display(), server.url)?;
        Ok(())
    }
}

fn write_new(file: &Path, text: &str, force: bool) -> Result<(), Failure> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if force {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    let mut f = opts.open(file).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Failure::usage(format!("{} exists", file.display())).help("add --force to replace it")
        } else {
            Failure::new(failure::OTHER, format!("cannot write {}: {e}", file.display()))
        }
    })?;
    f.write_all(text.as_bytes())
        .map_err(|e| Failure::new(failure::OTHER, format!("cannot write {}: {e}", file.display())))
}

/// Which server a command given no name uses, and why: core's one rule
/// ([`mlflow_login_core::choose`]: the project file in force or found from the current
/// folder, else the shell's pin, else the active server). A project file passed over
/// (not trusted, or not parsing) is a warning.
pub fn shell_choice(config: &mlflow_login_core::Config) -> Chosen {
    let chosen = choose::choose_here(config);
    if let Some(ignored) = &chosen.ignored {
        ui::warning(ignored);
    }
    chosen
}

/// The server `name` names or, given none, the one every command without a name uses
/// ([`default_name`], else the active server).
pub fn resolve(
    config: &mlflow_login_core::Config,
    name: Option<String>,
) -> Result<(String, &mlflow_login_core::Server), Failure> {
    let name = match name {
        Some(n) => Some(n),
        None => default_name(config)?,
    };
    Ok(config.resolve(name.as_deref())?)
}

/// The server a command given no name uses: the project's, else the pinned one; `None`
/// means the active one. A project URL that no known server has is refused: nothing is
/// sent anywhere on the project file's word, not even to another server.
fn default_name(config: &mlflow_login_core::Config) -> Result<Option<String>, Failure> {
    match shell_choice(config).choice {
        Choice::Project { project, server: None } => Err(unknown_project(&project)),
        Choice::Project { server: Some(n), .. } | Choice::Pin(n) | Choice::Active(n) => Ok(Some(n)),
        Choice::Nothing => Ok(None),
    }
}

/// The project in force names a URL no known server has.
pub fn unknown_project(project: &project::Project) -> Failure {
    Failure::new(
        failure::REFUSED,
        format!("the project file in force names {}, which no known server has", project.url),
    )
    .cause(format!("{}: nothing was sent there", project.file.display()))
    .help(project.login_command())
}
