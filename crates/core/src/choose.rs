//! The server a command uses when it is given no name: one rule, in one order, for the
//! shell hook, `env`, `exec`, `status`, `token`, `project init`, `login` and `logout`.
//!
//! 1. **The project file in force**: the one the shell hook put in `MLFLOW_LOGIN_PROJECT`,
//!    or, without the hook (cron, make, an IDE, an unhooked terminal), the first
//!    `.mlflow-login.toml` from the current folder up to `$HOME` ([`project::find`]). It is
//!    used only when it may be trusted ([`project::trust`]) and parses; a file that is
//!    ignored also stops the walk, so a file further up never takes its place. It selects
//!    the known server with its URL, or nothing (no credential goes to a URL because a
//!    file named it).
//! 2. **The server pinned in this shell** (`use NAME --here`, `MLFLOW_LOGIN_PIN`).
//! 3. **The active server.**
//!
//! The chosen project travels with the choice ([`Choice::Project`]), so what else a
//! project file selects rides along with its server: the workspace in force
//! ([`Chosen::in_force`]) is the project file's, else the one the shell was pinned with,
//! else the server's own active workspace.

use std::path::PathBuf;

use crate::config::Config;
use crate::project::{self, Ignored, Project};
use crate::server::Server;

/// Where the project file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// The shell hook put it in force (`MLFLOW_LOGIN_PROJECT`).
    Hook,
    /// Found from the current folder up.
    Walk,
}

/// What a command knows about where it runs.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The project file to consider and how it was found (`None`: none).
    pub project_file: Option<(PathBuf, Found)>,
    /// The shell's pin.
    pub pin: Option<String>,
    /// The workspace the shell was pinned with (`use NAME/WS --here`).
    pub pin_workspace: Option<String>,
}

impl Context {
    /// This process: the hook's project file when the variable is set, else the walk from
    /// the current folder (up to `$HOME`); the pin from `MLFLOW_LOGIN_PIN`.
    pub fn from_env() -> Self {
        let project_file = match project::file_from_env() {
            Some(f) => Some((f, Found::Hook)),
            None => walk_from_cwd(),
        };
        Context {
            project_file,
            pin: crate::shell::pin_from_env(),
            pin_workspace: crate::shell::pin_workspace_from_env(),
        }
    }
}

/// The project file from the current folder up to `$HOME`, if any.
pub fn walk_from_cwd() -> Option<(PathBuf, Found)> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
    let cwd = std::env::current_dir().ok()?;
    project::find(&cwd, home.as_deref()).map(|f| (f, Found::Walk))
}

/// Why a shell uses the server it uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// A project file is in force. `server` is the known server it selects; `None` when no
    /// known server has its URL (then no credential goes anywhere).
    Project {
        /// The parsed file.
        project: Box<Project>,
        /// The known server with the project's URL.
        server: Option<String>,
    },
    /// Pinned in this shell with `use --here`.
    Pin(String),
    /// The active server.
    Active(String),
    /// No server.
    Nothing,
}

impl Choice {
    /// The choice for a shell with `project` in force (parsed and trusted) and `pin`: the
    /// project first, then the pin, then the active server.
    pub fn make(config: &Config, project: Option<Project>, pin: Option<&str>) -> Choice {
        if let Some(project) = project {
            let server = project.server_in(config).map(|(n, _)| n.to_string());
            return Choice::Project { project: Box::new(project), server };
        }
        match (pin, config.active.as_deref()) {
            (Some(p), _) => Choice::Pin(p.to_string()),
            (None, Some(a)) => Choice::Active(a.to_string()),
            (None, None) => Choice::Nothing,
        }
    }

    /// The server's name, when the choice is a known server.
    pub fn server(&self) -> Option<&str> {
        match self {
            Choice::Project { server, .. } => server.as_deref(),
            Choice::Pin(n) | Choice::Active(n) => Some(n),
            Choice::Nothing => None,
        }
    }

    /// Why, in words: "project file /p/.mlflow-login.toml", "pinned in this shell", ...
    pub fn reason(&self) -> String {
        match self {
            Choice::Project { project, server: Some(_) } => format!("project file {}", project.file.display()),
            Choice::Project { project, server: None } => {
                format!("project file {} names {}, which no known server has", project.file.display(), project.url)
            }
            Choice::Pin(_) => "pinned in this shell (`mlflow-login use --unpin` follows the active server)".into(),
            Choice::Active(_) => "the active server".into(),
            Choice::Nothing => "no server is active".into(),
        }
    }
}

/// The choice and what was passed over on the way.
#[derive(Debug)]
pub struct Chosen {
    /// The server, and why.
    pub choice: Choice,
    /// How the project file was found, when one was considered.
    pub found: Option<Found>,
    /// A project file that was found and not used, and why.
    pub ignored: Option<Ignored>,
    /// The workspace the shell was pinned with, for [`Chosen::in_force`].
    pub pin_workspace: Option<String>,
}

impl Chosen {
    /// `server` (named `name`) as this shell uses it: with the workspace in force (module
    /// docs) when it is the chosen server; any other server as it is configured.
    pub fn in_force(&self, name: &str, server: &Server) -> Server {
        if self.choice.server() == Some(name) {
            for_shell(&self.choice, server, self.pin_workspace.as_deref())
        } else {
            server.clone()
        }
    }

    /// Why, in words, with how the project file was found and any file passed over:
    /// "project file /p/.mlflow-login.toml (found from the current folder)".
    pub fn reason(&self) -> String {
        let mut why = self.choice.reason();
        if let (Choice::Project { .. }, Some(found)) = (&self.choice, self.found) {
            why.push_str(match found {
                Found::Hook => " (in force in this shell)",
                Found::Walk => " (found from the current folder)",
            });
        }
        if let Some(ignored) = &self.ignored {
            why.push_str(&format!("; {ignored}"));
        }
        why
    }
}

/// The server a command given no name uses (module docs: project file, pin, active).
pub fn choose(config: &Config, cx: &Context) -> Chosen {
    let (project, ignored) = match &cx.project_file {
        Some((file, _)) => match project::load_trusted(file) {
            Ok(p) => (Some(p), None),
            Err(e) => (None, Some(e)),
        },
        None => (None, None),
    };
    Chosen {
        choice: Choice::make(config, project, cx.pin.as_deref()),
        found: cx.project_file.as_ref().map(|(_, f)| *f),
        ignored,
        pin_workspace: cx.pin_workspace.clone(),
    }
}

/// [`choose`] for this process ([`Context::from_env`]).
pub fn choose_here(config: &Config) -> Chosen {
    choose(config, &Context::from_env())
}

/// `server` with `workspace` as its workspace, when one is given (a project file's or a
/// pinned shell's choice, for one shell); else `server` as it is.
pub fn with_workspace(server: &Server, workspace: Option<&str>) -> Server {
    match workspace {
        Some(ws) => Server { workspace: Some(ws.to_string()), ..server.clone() },
        None => server.clone(),
    }
}

/// The server a shell uses for `choice`, with the workspace it uses there: the project
/// file's workspace when a project selects the server, the pinned one (`pin_workspace`)
/// when the shell is pinned, else the server's own active workspace.
///
/// A project file selects, it never grants: its workspace only applies to a server the
/// user already logged in to (an unknown URL gets no credential at all), and what the user
/// may do in it stays the server's decision.
pub fn for_shell(choice: &Choice, server: &Server, pin_workspace: Option<&str>) -> Server {
    match choice {
        Choice::Project { project, server: Some(_) } => with_workspace(server, project.workspace.as_deref()),
        Choice::Pin(_) => with_workspace(server, pin_workspace),
        _ => server.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn config() -> Config {
        let mut c = Config::default();
        c.servers.insert("a".into(), Server::new_basic("https://a.example", "u").unwrap());
        c.servers.insert("b".into(), Server::new_basic("https://b.example", "u").unwrap());
        c.active = Some("a".into());
        c
    }

    /// The documented order: a trusted project file, then the pin, then the active server;
    /// a file that does not parse is passed over and said so.
    #[test]
    fn the_default_server_is_project_then_pin_then_active() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join(project::FILE_NAME);
        std::fs::write(&file, "url = \"https://B.example/\"\n").unwrap();
        let c = config();
        let with = |f: Option<&Path>, pin: Option<&str>| {
            choose(
                &c,
                &Context {
                    project_file: f.map(|f| (f.to_path_buf(), Found::Walk)),
                    pin: pin.map(str::to_string),
                    pin_workspace: None,
                },
            )
        };
        let chosen = with(Some(&file), Some("a"));
        assert_eq!(chosen.choice.server(), Some("b"), "the project beats the pin");
        assert!(chosen.reason().ends_with("(found from the current folder)"), "{}", chosen.reason());
        assert_eq!(with(None, Some("b")).choice, Choice::Pin("b".into()));
        assert_eq!(with(None, None).choice, Choice::Active("a".into()));
        std::fs::write(&file, "url = \n").unwrap();
        let bad = with(Some(&file), None);
        assert_eq!(bad.choice, Choice::Active("a".into()));
        assert!(matches!(bad.ignored, Some(Ignored::Invalid(_))));
    }

    /// The workspace in force: the project file's, else the pinned one, else the server's
    /// own; only for the chosen server.
    #[test]
    fn the_workspace_in_force_rides_with_the_choice() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join(project::FILE_NAME);
        std::fs::write(&file, "url = \"https://b.example\"\nworkspace = \"team-p\"\n").unwrap();
        let mut c = config();
        c.servers.get_mut("a").unwrap().workspace = Some("team-a".into());
        c.servers.get_mut("b").unwrap().workspace = Some("team-b".into());
        let ws = |f: Option<&Path>, pin: Option<&str>, pin_ws: Option<&str>, name: &str| {
            let cx = Context {
                project_file: f.map(|f| (f.to_path_buf(), Found::Hook)),
                pin: pin.map(str::to_string),
                pin_workspace: pin_ws.map(str::to_string),
            };
            choose(&c, &cx).in_force(name, &c.servers[name]).workspace
        };
        assert_eq!(ws(Some(&file), None, None, "b").as_deref(), Some("team-p"), "the project's");
        assert_eq!(ws(Some(&file), None, None, "a").as_deref(), Some("team-a"), "another server keeps its own");
        assert_eq!(ws(None, Some("b"), Some("team-x"), "b").as_deref(), Some("team-x"), "the pin's");
        assert_eq!(ws(None, Some("b"), None, "b").as_deref(), Some("team-b"), "pinned without one: the server's");
        assert_eq!(ws(None, None, Some("team-x"), "a").as_deref(), Some("team-a"), "no pin: the active one's");
    }
}
