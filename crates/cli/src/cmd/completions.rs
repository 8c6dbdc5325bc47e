use clap::Args;
use clap_complete::Shell as CompShell;
use mlflow_login_core::shell::Shell;

use super::{Run, shell_parser};
use crate::failure::Failure;

/// Print a completion script for your shell.
///
/// bash: `mlflow-login completions bash > ~/.local/share/bash-completion/completions/mlflow-login`
/// zsh: `mlflow-login completions zsh > "${fpath[1]}/_mlflow-login"`
/// fish: `mlflow-login completions fish > ~/.config/fish/completions/mlflow-login.fish`
#[derive(Debug, Args)]
pub struct Completions {
    /// The shell.
    #[arg(value_parser = shell_parser())]
    shell: Shell,
}

/// clap_complete's generator for `shell`, matched by name (it knows `pwsh` too).
fn generator(shell: Shell) -> Option<CompShell> {
    CompShell::from_shell_path(shell.name())
}

impl Run for Completions {
    fn run(self) -> Result<(), Failure> {
        let Some(generator) = generator(self.shell) else {
            let known: Vec<&str> = Shell::ALL.iter().filter(|s| generator(**s).is_some()).map(|s| s.name()).collect();
            return Err(Failure::usage(format!("there are no completions for {}", self.shell.title()))
                .help(format!("completions exist for {}", known.join(", "))));
        };
        out!("{}", script(generator))
    }
}

/// The completion script, each command with its summary.
pub(crate) fn script(generator: CompShell) -> String {
    let mut cmd = super::command();
    cmd.build();
    let mut cmd = super::with_summaries(cmd);
    // Into memory first: clap_complete panics on a failed write (`| head`).
    let mut script = Vec::new();
    clap_complete::generate(generator, &mut cmd, "mlflow-login", &mut script);
    String::from_utf8_lossy(&script).into_owned()
}
