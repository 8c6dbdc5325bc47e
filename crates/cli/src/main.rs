//! `mlflow-login`: log in to MLflow tracking servers from the terminal.
//!
//! `main` only parses and dispatches; each subcommand lives in `cmd/<name>.rs`.

// On Linux with glibc the C `main` below replaces std's start-up (see there). Tests keep
// the harness's own.
#![cfg_attr(all(not(test), target_os = "linux", target_env = "gnu"), no_main)]

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

/// The process's entry point on Linux with glibc, in place of a Rust `fn main`.
///
/// Before a Rust `fn main`, std asks glibc for the main thread's stack bounds (to name a
/// stack overflow), and glibc reads /proc/self/maps to find them: 0.2 ms of a 1.3 ms start
/// here (`make bench`: `--version` against /bin/true, target 2x). This entry point does the
/// rest of std's start-up itself (`std_start_up`) and skips that. What differs: a stack
/// overflow on the main thread is a plain SIGSEGV without Rust's message, and panic
/// messages name the thread `<unnamed>` instead of `main`. Elsewhere (macOS, Windows, other
/// Unixes, where std's arguments also come from its start-up) `fn main` stays as usual.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[cfg_attr(not(test), unsafe(no_mangle))]
#[allow(unsafe_code)] // `no_mangle`: this is C's `main`, called once by the C runtime
extern "C" fn main(_argc: std::ffi::c_int, _argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    std_start_up();
    // A panic prints its message (the hook) and ends with 101, as under std's `main`;
    // release builds abort at the panic itself.
    let code = std::panic::catch_unwind(run).map_or(101, i32::from);
    // Runs std's clean-up: stdout is flushed.
    std::process::exit(code)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(run())
}

/// What std's start-up does on Linux before `fn main`, but the stack-guard set-up:
/// - SIGPIPE is ignored, so a connection the server closed is an error the verifier
///   classifies (rustls and hyper write with writev, which raises SIGPIPE), not a silent
///   death. Commands run by `exec` get the default back (std's `Command` resets it).
/// - descriptors 0-2 are held: a closed one becomes /dev/null (inherited by a command that
///   `exec` runs), so a file or socket opened later can never become stdout. Last, so a
///   test that sees /dev/null on descriptor 1 sees SIGPIPE ignored too.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn std_start_up() {
    // SAFETY: plain libc calls with a valid C string; each descriptor `open` returns is 0, 1
    // or 2 (kept open for good, as std does) or is closed at once. `signal` only changes
    // this process's disposition of SIGPIPE, which no code here has set before.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        loop {
            let fd = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
            if fd < 0 {
                break;
            }
            if fd > 2 {
                libc::close(fd);
                break;
            }
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
