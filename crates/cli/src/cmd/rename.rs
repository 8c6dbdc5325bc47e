use clap::Args;

use super::{Run, logins};
use crate::failure::Failure;

/// Rename a server. Its password stays in the keychain.
#[derive(Debug, Args)]
pub struct Rename {
    /// The current name.
    old: String,
    /// The new name.
    new: String,
}

impl Run for Rename {
    fn run(self) -> Result<(), Failure> {
        logins()?.rename(&self.old, &self.new)?;
        outln!("renamed {} to {}", self.old, self.new)?;
        Ok(())
    }
}
