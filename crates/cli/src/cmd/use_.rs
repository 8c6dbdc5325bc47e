use clap::Args;
use mlflow_login_core::shell::{self, Shell, parse_function_env, pin_from_env};

use super::init::{Start, hook_exports};
use super::{Run, logins};
use crate::failure::Failure;
use crate::ui;

/// Make a server the active one: the tray, and every shell with the hook, switch to it at
/// their next prompt.
///
///   mlflow-login use staging            # everywhere
///   mlflow-login use staging --here     # this shell only, until `mlflow-login use --unpin`
///
/// --here and --unpin change the shell you type them in, so they need the shell
/// integration (`mlflow-login init --help`).
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct Use {
    /// The server to use.
    #[arg(required_unless_present_any = ["none", "unpin"])]
    name: Option<String>,
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
        if self.here || self.unpin {
            return self.run_in_shell();
        }
        let logins = logins()?;
        logins.set_active(self.name.as_deref())?;
        match self.name {
            Some(name) => outln!("{name} is now the active server")?,
            None => outln!("no server is active now")?,
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
    /// `--here` / `--unpin`: print commands for the init script's function to evaluate.
    fn run_in_shell(self) -> Result<(), Failure> {
        let flag = if self.here { "--here" } else { "--unpin" };
        let hooked = std::env::var(shell::FUNCTION_ENV).ok().as_deref().and_then(parse_function_env);
        let Some((shell, mode)) = hooked.filter(|(s, _)| s.has_prompt_hook()) else {
            return Err(not_hooked(flag, self.name.as_deref()));
        };
        let syntax = shell.syntax();
        let mut out = String::new();
        match self.name.as_deref().filter(|_| self.here) {
            Some(name) => {
                logins()?.config()?.get(name)?;
                out.push_str(&syntax.set_env(shell::PIN_ENV, name));
                out.push_str(&hook_exports(shell, mode, Some(name), Start::No));
                ui::note(format!(
                    "this shell now uses \"{name}\"; other shells follow the active server (`mlflow-login use --unpin` to follow it here too)"
                ));
            }
            None => {
                out.push_str(&syntax.unset_env(shell::PIN_ENV));
                out.push_str(&hook_exports(shell, mode, None, Start::No));
                ui::note("this shell follows the active server again");
            }
        }
        out!("{out}")?;
        Ok(())
    }
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
