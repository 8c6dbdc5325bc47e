use clap::Args;

use super::{Run, logins};
use crate::failure::Failure;

/// Delete a server's password from the keychain (the server stays configured).
#[derive(Debug, Args)]
pub struct Logout {
    /// The server (default: the active one).
    #[arg(conflicts_with = "all")]
    name: Option<String>,
    /// Log out of every server.
    #[arg(long)]
    all: bool,
}

impl Run for Logout {
    fn run(self) -> Result<(), Failure> {
        let logins = logins()?;
        let config = logins.config()?;
        let names: Vec<String> = if self.all {
            config.servers.keys().cloned().collect()
        } else {
            vec![config.resolve(self.name.as_deref())?.0]
        };
        for name in names {
            let deleted =
                logins.logout(&name).map_err(|e| Failure::context(format!("could not log out of \"{name}\""), e))?;
            if deleted {
                outln!("logged out of {name}: its password is deleted from the keychain")?;
            } else {
                outln!("{name}: no password was stored")?;
            }
        }
        Ok(())
    }
}
