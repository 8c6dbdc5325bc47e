use std::io::{IsTerminal, Read};
use std::sync::Arc;

use clap::Args;
use mlflow_login_core::passwd::{Changed, change_password};
use mlflow_login_core::{Secret, VerifyOptions};

use super::{Run, logins, runtime};
use crate::failure::{self, Failure};

/// Change your password on MLflow's basic-auth app and in the keychain, in one step.
///
/// The new password is asked twice without echo (or read from standard input with
/// --password-stdin), changed on the server with the stored one, then stored in the
/// keychain; hooked shells and the MLflow plugin use it from their next command. If
/// anything interrupts the change, `mlflow-login doctor` finishes it.
#[derive(Debug, Args)]
pub struct Passwd {
    /// The server (default: the active one).
    name: Option<String>,
    /// Read the new password from standard input (one line) instead of asking.
    #[arg(long)]
    password_stdin: bool,
}

impl Run for Passwd {
    fn run(self) -> Result<(), Failure> {
        let logins = Arc::new(logins()?);
        let config = logins.config()?;
        let (name, server) = config.resolve(self.name.as_deref())?;
        let who = format!("{}@{}", server.account(), server.host_display());
        let new = if self.password_stdin { read_stdin()? } else { ask_twice(&who)? };
        let changed = runtime()?
            .block_on(change_password(&logins, &name, new, &VerifyOptions::default()))
            .map_err(|e| Failure::context(format!("could not change the password of \"{name}\""), e))?;
        match changed {
            Changed::Done => {
                outln!("changed the password of {who} on the server and in the keychain")?;
                Ok(())
            }
            pending => match pending.pending_report() {
                Some((message, help)) => {
                    Err(Failure::new(failure::OTHER, format!("the password change of \"{name}\" is not finished"))
                        .cause(message)
                        .help(help))
                }
                None => Ok(()),
            },
        }
    }
}

fn read_stdin() -> Result<Secret, Failure> {
    let mut buf = String::new();
    std::io::stdin()
        .read_to_string(&mut buf)
        .map_err(|e| Failure::usage(format!("cannot read the new password from standard input: {e}")))?;
    // One trailing newline is the pipe's, not the password's.
    if buf.ends_with('\n') {
        buf.pop();
        if buf.ends_with('\r') {
            buf.pop();
        }
    }
    Ok(Secret::new(buf))
}

fn ask_twice(who: &str) -> Result<Secret, Failure> {
    if !(std::io::stdin().is_terminal() || std::io::stderr().is_terminal()) {
        return Err(Failure::usage("no terminal to ask for the new password").help(
            "pipe it in with --password-stdin, e.g. `printf '%s' \"$NEW\" | mlflow-login passwd NAME --password-stdin`",
        ));
    }
    let read = |prompt: String| {
        rpassword::prompt_password(prompt)
            .map(Secret::new)
            .map_err(|e| Failure::usage(format!("cannot read the new password from the terminal: {e}")))
    };
    let first = read(format!("New password for {who}: "))?;
    let again = read("The same again: ".to_string())?;
    if first != again {
        return Err(Failure::usage("the two passwords differ: nothing was changed"));
    }
    Ok(first)
}
