use clap::Args;

use super::{Run, logins};
use crate::failure::Failure;

/// Make a server the active one: the tray, and every shell with the hook, switch to it at
/// their next prompt.
#[derive(Debug, Args)]
pub struct Use {
    /// The server to use.
    #[arg(required_unless_present = "none")]
    name: Option<String>,
    /// Make no server active (hooked shells unset the MLFLOW_TRACKING_* variables).
    #[arg(long, conflicts_with = "name")]
    none: bool,
}

impl Run for Use {
    fn run(self) -> Result<(), Failure> {
        let logins = logins()?;
        logins.set_active(self.name.as_deref())?;
        match self.name {
            Some(name) => println!("{name} is now the active server"),
            None => println!("no server is active now"),
        }
        Ok(())
    }
}
