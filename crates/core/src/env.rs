//! The environment variables MLflow reads, for one server.
//!
//! Both `mlflow-login env` and `exec` and the shell hook render from [`vars_for`] and
//! [`vars_cleared`], so every front end sets, and unsets, the same set.

use std::fmt;

use crate::secret::Secret;
use crate::server::{AuthKind, Server};

/// `MLFLOW_TRACKING_URI`.
pub const URI: &str = "MLFLOW_TRACKING_URI";
/// `MLFLOW_TRACKING_USERNAME`.
pub const USERNAME: &str = "MLFLOW_TRACKING_USERNAME";
/// `MLFLOW_TRACKING_PASSWORD`.
pub const PASSWORD: &str = "MLFLOW_TRACKING_PASSWORD";
/// `MLFLOW_TRACKING_TOKEN`.
pub const TOKEN: &str = "MLFLOW_TRACKING_TOKEN";
/// `MLFLOW_TRACKING_SERVER_CERT_PATH` (CA bundle).
pub const SERVER_CERT: &str = "MLFLOW_TRACKING_SERVER_CERT_PATH";
/// `MLFLOW_TRACKING_CLIENT_CERT_PATH`.
pub const CLIENT_CERT: &str = "MLFLOW_TRACKING_CLIENT_CERT_PATH";
/// `MLFLOW_TRACKING_INSECURE_TLS`.
pub const INSECURE_TLS: &str = "MLFLOW_TRACKING_INSECURE_TLS";
/// `MLFLOW_TRACKING_AUTH`: selects the MLflow Login auth plugin in `--no-password` mode.
pub const TRACKING_AUTH: &str = "MLFLOW_TRACKING_AUTH";
/// The active server's name, for prompts (`starship` `env_var`, PS1).
pub const SERVER_NAME: &str = "MLFLOW_LOGIN_SERVER";
/// The plugin's entry-point name, the value of `MLFLOW_TRACKING_AUTH`.
pub const PLUGIN_NAME: &str = "mlflow-login";

/// Every variable we may set; [`vars_cleared`] unsets these.
pub const MANAGED: &[&str] = &[URI, USERNAME, PASSWORD, TOKEN, SERVER_CERT, CLIENT_CERT, INSECURE_TLS, SERVER_NAME];

/// One variable to set (`Some`) or unset (`None`). Values are [`Secret`]s so that a
/// `Debug` print of a variable list never shows a password.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvVar {
    /// The variable's name.
    pub name: &'static str,
    /// Its value, or `None` to unset it.
    pub value: Option<Secret>,
}

impl fmt::Debug for EnvVar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.value, self.name) {
            (None, n) => write!(f, "unset {n}"),
            (Some(_), n @ (PASSWORD | TOKEN)) => write!(f, "{n}=REDACTED"),
            (Some(v), n) => write!(f, "{n}={:?}", v.expose()),
        }
    }
}

impl EnvVar {
    fn set(name: &'static str, value: impl Into<String>) -> Self {
        Self { name, value: Some(Secret::new(value.into())) }
    }
    fn unset(name: &'static str) -> Self {
        Self { name, value: None }
    }
}

/// What to export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EnvOptions {
    /// Export no password or token: set `MLFLOW_TRACKING_AUTH=mlflow-login` so the auth
    /// plugin reads the keychain per request instead.
    pub no_password: bool,
}

/// The variables for `server`, called `name`. Without a secret, the credential variables
/// are unset (the server is known but logged out).
pub fn vars_for(name: &str, server: &Server, secret: Option<&Secret>, opts: EnvOptions) -> Vec<EnvVar> {
    let mut vars = vec![EnvVar::set(URI, server.url.clone())];
    let basic = server.auth == AuthKind::Basic;
    match (opts.no_password, secret) {
        (true, _) => {
            vars.push(EnvVar::set(TRACKING_AUTH, PLUGIN_NAME));
            vars.extend([USERNAME, PASSWORD, TOKEN].map(EnvVar::unset));
        }
        (false, Some(secret)) if basic => {
            vars.push(EnvVar::set(USERNAME, server.username.clone().unwrap_or_default()));
            vars.push(EnvVar { name: PASSWORD, value: Some(secret.clone()) });
            vars.push(EnvVar::unset(TOKEN));
        }
        (false, Some(secret)) => {
            vars.push(EnvVar { name: TOKEN, value: Some(secret.clone()) });
            vars.extend([USERNAME, PASSWORD].map(EnvVar::unset));
        }
        (false, None) => vars.extend([USERNAME, PASSWORD, TOKEN].map(EnvVar::unset)),
    }
    vars.push(match &server.ca_bundle {
        Some(p) => EnvVar::set(SERVER_CERT, p.to_string_lossy()),
        None => EnvVar::unset(SERVER_CERT),
    });
    vars.push(match &server.client_cert {
        Some(p) => EnvVar::set(CLIENT_CERT, p.to_string_lossy()),
        None => EnvVar::unset(CLIENT_CERT),
    });
    vars.push(if server.insecure_tls { EnvVar::set(INSECURE_TLS, "true") } else { EnvVar::unset(INSECURE_TLS) });
    vars.push(EnvVar::set(SERVER_NAME, name));
    vars
}

/// Unsets every variable we manage (after a logout or the removal of the active server).
pub fn vars_cleared(opts: EnvOptions) -> Vec<EnvVar> {
    let mut vars: Vec<EnvVar> = MANAGED.iter().map(|n| EnvVar::unset(n)).collect();
    if opts.no_password {
        vars.push(EnvVar::unset(TRACKING_AUTH));
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_server_vars_and_redacted_debug() {
        let s = Server::new_basic("https://h/mlflow", "alice").unwrap();
        let pw = Secret::new("s3cr3t".into());
        let vars = vars_for("prod", &s, Some(&pw), EnvOptions::default());
        let dbg = format!("{vars:?}");
        assert!(!dbg.contains("s3cr3t"), "{dbg}");
        assert!(dbg.contains("MLFLOW_TRACKING_URI=\"https://h/mlflow\""), "{dbg}");
        assert!(dbg.contains("MLFLOW_TRACKING_PASSWORD=REDACTED"), "{dbg}");
        assert!(dbg.contains("unset MLFLOW_TRACKING_TOKEN"), "{dbg}");
        assert!(dbg.contains("MLFLOW_LOGIN_SERVER=\"prod\""), "{dbg}");
    }

    #[test]
    fn no_password_mode_exports_no_secret() {
        let s = Server::new_basic("https://h", "alice").unwrap();
        let pw = Secret::new("s3cr3t".into());
        let vars = vars_for("prod", &s, Some(&pw), EnvOptions { no_password: true });
        assert!(vars.iter().all(|v| v.value.as_ref().is_none_or(|x| x.expose() != "s3cr3t")));
        assert!(vars.iter().any(|v| v.name == TRACKING_AUTH && v.value.as_ref().unwrap().expose() == PLUGIN_NAME));
    }

    #[test]
    fn bearer_and_tls() {
        let mut s = Server::new_basic("https://h", "bot").unwrap();
        s.auth = AuthKind::Bearer;
        s.ca_bundle = Some("/etc/ca.pem".into());
        s.insecure_tls = true;
        let vars = vars_for("t", &s, Some(&Secret::new("tok".into())), EnvOptions::default());
        let get = |n| vars.iter().find(|v| v.name == n).unwrap().value.as_ref().map(|v| v.expose().to_string());
        assert_eq!(get(TOKEN).as_deref(), Some("tok"));
        assert_eq!(get(PASSWORD), None);
        assert_eq!(get(SERVER_CERT).as_deref(), Some("/etc/ca.pem"));
        assert_eq!(get(INSECURE_TLS).as_deref(), Some("true"));
    }
}
