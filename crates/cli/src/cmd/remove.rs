use clap::Args;

use super::{Run, logins};
use crate::failure::Failure;

/// Forget a server and delete its password from the keychain.
#[derive(Debug, Args)]
pub struct Remove {
    /// The server to forget.
    name: String,
}

impl Run for Remove {
    fn run(self) -> Result<(), Failure> {
        logins()?.remove(&self.name).map_err(|e| Failure::context(format!("could not remove \"{}\"", self.name), e))?;
        outln!("removed {}", self.name)?;
        Ok(())
    }
}
