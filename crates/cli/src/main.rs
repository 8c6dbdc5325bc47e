//! `mlflow-login`: log in to MLflow tracking servers from the terminal.
//!
//! `main` only parses and dispatches; each subcommand lives in `cmd/<name>.rs`.

#[macro_use]
mod ui;
mod cmd;
mod failure;

use clap::Parser;

use crate::cmd::{Command, Run};

const EXIT_CODES: &str = "\
Exit codes:
  0  done; for login and status: the server accepted the credentials
  1  another error (config file, I/O, unknown server)
  2  usage error (bad arguments, invalid URL or name)
  3  the server refused the credentials (wrong password, other auth scheme, forbidden),
     or no password is stored
  4  the server could not be checked (unreachable, TLS, not MLflow, wrong path,
     MLflow down behind the proxy)
  5  the keychain failed (locked, absent, timed out)
  130  cancelled (Ctrl-C while waiting for a single sign-on)

A closed standard output (`mlflow-login list | head -1`) is not an error: the command
finishes quietly with the code it would have had.";

/// Log in to MLflow tracking servers. Passwords live in the OS keychain, are checked
/// against the server when you enter them, and reach your shells and runs through
/// MLFLOW_TRACKING_* variables.
#[derive(Debug, Parser)]
#[command(
    name = "mlflow-login",
    version,
    after_long_help = EXIT_CODES,
    max_term_width = 100,
    arg_required_else_help = true
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

fn main() -> std::process::ExitCode {
    // The password passes through this process's memory: keep it out of core dumps and
    // away from other processes of the user, before anything is read.
    mlflow_login_core::secret::protect_process_memory();
    std::process::ExitCode::from(run())
}

/// Parses, runs, prints a failure; returns the exit code.
fn run() -> u8 {
    use clap::FromArgMatches;
    let cli = match cmd::command().try_get_matches().and_then(|m| Cli::from_arg_matches(&m)) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match cli.command.run() {
        Ok(()) => 0,
        Err(failure) => {
            ui::print_failure(&failure);
            failure.code
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    /// The first screen a user sees lists each command with what it does, and so do the
    /// shell completions (drawn from the same list).
    #[test]
    fn every_visible_command_has_a_one_line_summary() {
        let cli = cmd::command();
        let zsh = cmd::completion_script(clap_complete::Shell::Zsh);
        let mut seen = 0;
        for sc in cli.get_subcommands().filter(|sc| !sc.is_hide_set()) {
            let about = sc.get_about().map(ToString::to_string).unwrap_or_default();
            assert!(!about.trim().is_empty(), "`{}` has no summary in the command list", sc.get_name());
            assert!(!about.contains('\n') && about.len() <= 80, "`{}`: one short line: {about}", sc.get_name());
            assert!(
                zsh.contains(&format!("'{}:{}'", sc.get_name(), about.replace(':', "\\:").replace('\'', "'\\''"))),
                "`{}` in zsh completions",
                sc.get_name()
            );
            seen += 1;
        }
        assert!(seen > 10);
        let help = cli.clone().render_help().to_string();
        assert!(help.contains("Move passwords and tokens kept in plain text"), "{help}");
    }

    #[test]
    fn a_client_id_may_start_with_a_hyphen() {
        // IdPs generate ids from alphabets with "-" in them.
        let cli = Cli::try_parse_from(["mlflow-login", "login", "x", "--sso", "--client-id", "-Rk2_a"]);
        let shown = format!("{:?}", cli.expect("parsed"));
        assert!(shown.contains("client_id: Some(\"-Rk2_a\")"), "{shown}");
    }
}
