use clap::{Args, CommandFactory, ValueEnum};
use clap_complete::Shell as CompShell;

use super::Run;
use crate::failure::Failure;

/// Print a completion script for your shell.
///
/// bash: `mlflow-login completions bash > ~/.local/share/bash-completion/completions/mlflow-login`
/// zsh: `mlflow-login completions zsh > "${fpath[1]}/_mlflow-login"`
/// fish: `mlflow-login completions fish > ~/.config/fish/completions/mlflow-login.fish`
#[derive(Debug, Args)]
pub struct Completions {
    /// The shell.
    shell: Target,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Target {
    Bash,
    Zsh,
    Fish,
    #[value(alias = "powershell")]
    Pwsh,
}

impl Run for Completions {
    fn run(self) -> Result<(), Failure> {
        let shell = match self.shell {
            Target::Bash => CompShell::Bash,
            Target::Zsh => CompShell::Zsh,
            Target::Fish => CompShell::Fish,
            Target::Pwsh => CompShell::PowerShell,
        };
        let mut cmd = crate::Cli::command();
        // Into memory first: clap_complete panics on a failed write (`| head`).
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cmd, "mlflow-login", &mut script);
        out!("{}", String::from_utf8_lossy(&script))
    }
}
