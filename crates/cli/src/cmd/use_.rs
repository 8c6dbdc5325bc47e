use clap::Args;
use mlflow_login_core::shell::{self, Shell, parse_function_env, pin_from_env};
use mlflow_login_core::workspaces::{self, NotSelected};

use super::init::{Start, hook_exports};
use super::{Run, logins};
use crate::failure::{self, Failure};
use crate::ui;

/// Make a server the active one: the tray, and every shell with the hook, switch to it at
/// their next prompt.
///
///   mlflow-login use staging            # everywhere
///   mlflow-login use staging --here     # this shell only, until `mlflow-login use --unpin`
///   mlflow-login use prod/team-a        # prod, in its MLflow workspace team-a
///
/// A workspace is checked with the server first: one it does not list for you is refused
/// and nothing changes. Each server keeps its own workspace when another becomes active.
///
/// --here and --unpin change the shell you type them in, so they need the shell
/// integration (`mlflow-login init --help`).
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct Use {
    /// The server to use; NAME/WORKSPACE also selects its MLflow workspace.
    #[arg(required_unless_present_any = ["none", "unpin"])]
    name: Option<String>,
    /// The MLflow workspace to use on the server (MLflow 3.10+; exported as MLFLOW_WORKSPACE).
    #[arg(long, requires = "name", conflicts_with = "no_workspace")]
    workspace: Option<String>,
    /// Use the server without a workspace (its default one).
    #[arg(long, requires = "name")]
    no_workspace: bool,
    /// Select the workspace without asking the server whether you may use it.
    #[arg(long, requires = "name")]
    no_verify: bool,
    /// Make no server active (hooked shells unset the MLFLOW_TRACKING_* variables).
    #[arg(long, conflicts_with_all = ["name", "here"])]
    none: bool,
    /// Use the server in this shell only: it ignores global switches until --unpin.
    #[arg(long, requires = "name")]
    here: bool,
    /// Follow the active server again in this shell (undoes --here).
    #[arg(long, conflicts_with_all = ["name", "none", "here"])]
    unpin: bool,
}

impl Run for Use {
    fn run(self) -> Result<(), Failure> {
        let workspace = self.workspace_asked()?.map(str::to_string);
        let workspace = workspace.as_deref();
        if self.here || self.unpin {
            return self.run_in_shell(workspace);
        }
        let logins = logins()?;
        match self.name.as_deref().map(workspaces::split) {
            Some((name, _)) => {
                if let Some(ws) = workspace {
                    check_workspace(name, ws, self.no_verify)?;
                }
                let change = if self.no_workspace { Some(None) } else { workspace.map(Some) };
                logins.set_active_workspace(name, change)?;
                match logins.config()?.get(name)?.workspace.as_deref() {
                    Some(ws) => outln!("{name} is now the active server, in workspace {ws}")?,
                    None => outln!("{name} is now the active server")?,
                }
            }
            None => {
                logins.set_active(None)?;
                outln!("no server is active now")?;
            }
        }
        if let Some(pin) = pin_from_env() {
            ui::note(format!(
                "this shell stays on \"{pin}\" (pinned with --here); `mlflow-login use --unpin` follows the active server"
            ));
        }
        Ok(())
    }
}

impl Use {
    /// The workspace asked for, from `NAME/WORKSPACE` or `--workspace` (not both), checked
    /// by MLflow's naming rule.
    fn workspace_asked(&self) -> Result<Option<&str>, Failure> {
        let from_name = self.name.as_deref().and_then(|n| workspaces::split(n).1);
        let ws = match (from_name, self.workspace.as_deref()) {
            (Some(a), Some(b)) if a != b => {
                return Err(Failure::usage(format!("two workspaces asked for: \"{a}\" and --workspace \"{b}\"")));
            }
            (a, b) => a.or(b),
        };
        if ws.is_some() && self.no_workspace {
            return Err(Failure::usage("a workspace and --no-workspace asked for together"));
        }
        if let Some(ws) = ws {
            workspaces::validate_name(ws)?;
        }
        Ok(ws)
    }

    /// `--here` / `--unpin`: print commands for the init script's function to evaluate.
    fn run_in_shell(&self, workspace: Option<&str>) -> Result<(), Failure> {
        let flag = if self.here { "--here" } else { "--unpin" };
        let hooked = std::env::var(shell::FUNCTION_ENV).ok().as_deref().and_then(parse_function_env);
        let Some((shell, mode)) = hooked.filter(|(s, _)| s.has_prompt_hook()) else {
            return Err(not_hooked(flag, self.name.as_deref()));
        };
        let syntax = shell.syntax();
        let mut out = String::new();
        match self.name.as_deref().filter(|_| self.here).map(workspaces::split) {
            Some((name, _)) => {
                let server = logins()?.config()?.get(name)?.clone();
                if let Some(ws) = workspace {
                    check_workspace(name, ws, self.no_verify)?;
                }
                // The shell keeps the workspace it was pinned with, whatever the server's
                // active one becomes: the one asked for, else the server's at this moment.
                let pinned_ws = if self.no_workspace { None } else { workspace.or(server.workspace.as_deref()) };
                out.push_str(&syntax.set_env(shell::PIN_ENV, name));
                out.push_str(&match pinned_ws {
                    Some(ws) => syntax.set_env(shell::PIN_WORKSPACE_ENV, ws),
                    None => syntax.unset_env(shell::PIN_WORKSPACE_ENV),
                });
                out.push_str(&hook_exports(shell, mode, Some(name), pinned_ws, Start::No));
                let shown = pinned_ws.map(|ws| format!("{name}/{ws}")).unwrap_or_else(|| name.to_string());
                ui::note(format!(
                    "this shell now uses \"{shown}\"; other shells follow the active server (`mlflow-login use --unpin` to follow it here too)"
                ));
            }
            None => {
                out.push_str(&syntax.unset_env(shell::PIN_ENV));
                out.push_str(&syntax.unset_env(shell::PIN_WORKSPACE_ENV));
                out.push_str(&hook_exports(shell, mode, None, None, Start::No));
                ui::note("this shell follows the active server again");
            }
        }
        out!("{out}")?;
        Ok(())
    }
}

/// Asks the server whether the user may use workspace `ws` on `name`: one it does not list
/// is refused by name, as is any workspace on a server without workspaces. A server that
/// cannot be asked refuses too, with the reason, unless `no_verify`.
fn check_workspace(name: &str, ws: &str, no_verify: bool) -> Result<(), Failure> {
    if no_verify {
        return Ok(());
    }
    let logins = logins()?;
    let config = logins.config()?;
    let server = config.get(name)?;
    let listing = super::workspaces::ask(&logins, name, server)?;
    workspaces::verdict(&listing, ws).map_err(|not| match not {
        NotSelected::CannotAsk(outcome) => Failure::new(
            failure::code_of_class(outcome.class()),
            format!("cannot check workspace \"{ws}\" with \"{name}\"; nothing changed"),
        )
        .cause(outcome.summary())
        .help(match outcome.help() {
            Some(h) => format!("{h}; or select it unchecked: mlflow-login use {name}/{ws} --no-verify"),
            None => format!("select it unchecked: mlflow-login use {name}/{ws} --no-verify"),
        }),
        NotSelected::Refused(refusal) => {
            Failure::new(failure::REFUSED, format!("workspace \"{ws}\" refused for \"{name}\"; nothing changed"))
                .cause(refusal.to_string())
                .help(refusal.help())
        }
    })
}

/// `--here` run as a plain program: it cannot change the shell that started it.
fn not_hooked(flag: &str, name: Option<&str>) -> Failure {
    let user_shell = Shell::detect();
    let once = match name {
        Some(n) => format!(
            "; or, for this shell once: {}",
            user_shell.eval_line(&format!("mlflow-login env {n} --shell {}", user_shell.name()))
        ),
        None => String::new(),
    };
    Failure::usage(format!("`use {flag}` changes this shell's variables, which needs the shell integration"))
        .cause("a program cannot change the shell that started it; the `mlflow-login` shell function that `init` defines can")
        .help(format!("add `{}` to your shell's start-up file and open a new shell{once}", user_shell.init_line("")))
}
