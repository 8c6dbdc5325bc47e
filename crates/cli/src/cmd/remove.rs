use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::logout::report_revoked;
use super::{Run, logins, runtime};
use crate::failure::Failure;

/// Forget a server and delete its password from the keychain. For single sign-on, the
/// session is revoked at the identity provider first, when it offers revocation.
#[derive(Debug, Args)]
pub struct Remove {
    /// The server to forget.
    name: String,
}

impl Run for Remove {
    fn run(self) -> Result<(), Failure> {
        let name = self.name;
        let logins = Arc::new(logins()?);
        let revoked = runtime()?
            .block_on(mlflow_login_core::login::remove(&logins, &name, Duration::from_secs(10)))
            .map_err(|e| Failure::context(format!("could not remove \"{name}\""), e))?;
        report_revoked(&name, revoked)?;
        outln!("removed {name}")?;
        Ok(())
    }
}
