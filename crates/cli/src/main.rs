//! `mlflow-login`: log in to MLflow tracking servers from the terminal.
//!
//! `main` only parses and dispatches; each subcommand lives in `cmd/<name>.rs`.

// The C `main` below replaces std's start-up (see there). Tests keep the harness's own.
#![cfg_attr(not(test), no_main)]

mod cmd;
mod failure;
mod ui;

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
  5  the keychain failed (locked, absent, timed out)";

/// Log in to MLflow tracking servers. Passwords live in the OS keychain, are checked
/// against the server when you enter them, and reach your shells and runs through
/// MLFLOW_TRACKING_* variables.
#[derive(Debug, Parser)]
#[command(name = "mlflow-login", version, after_long_help = EXIT_CODES, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The process's entry point, in place of a Rust `fn main`.
///
/// Before a Rust `fn main`, std asks glibc for the main thread's stack bounds (to name a
/// stack overflow), and glibc reads /proc/self/maps to find them: 0.2 ms of a 1.3 ms start
/// here (`make bench`: `--version` against /bin/true, target 2x). This entry
/// point skips std's set-up and keeps what the CLI relies on from it: descriptors 0-2 held
/// open, so a file opened later (the config being rewritten) can never become stdout, and
/// stdout flushed at exit (`std::process::exit`). Two things differ, on purpose:
/// - SIGPIPE keeps its default, so a closed pipe on stdout ends the CLI quietly like any
///   Unix tool (with std's ignored SIGPIPE it was a panic). Sockets do not raise it: std and
///   zbus send with MSG_NOSIGNAL.
/// - A stack overflow on the main thread is a plain SIGSEGV, without Rust's message.
#[cfg_attr(not(test), unsafe(no_mangle))]
#[allow(unsafe_code)] // `no_mangle` only: this is C's `main`, called once by the C runtime
extern "C" fn main(_argc: std::ffi::c_int, _argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    hold_standard_descriptors();
    std::process::exit(run().into())
}

/// Opens /dev/null until the descriptor it gets is above 2: a closed stdin, stdout or stderr
/// is then /dev/null for this process, as std's start-up makes it. (Close-on-exec: a command
/// run by `exec` gets its descriptors as the caller left them.)
fn hold_standard_descriptors() {
    #[cfg(unix)]
    {
        use std::os::fd::{AsRawFd, IntoRawFd};
        let dev_null = || std::fs::OpenOptions::new().read(true).write(true).open("/dev/null");
        while let Ok(file) = dev_null() {
            if file.as_raw_fd() > 2 {
                break;
            }
            let _held = file.into_raw_fd(); // descriptor 0, 1 or 2 from now on
        }
    }
}

/// Parses, runs, prints a failure; returns the exit code.
fn run() -> u8 {
    let cli = match Cli::try_parse() {
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
}
