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
/// `MLFLOW_WORKSPACE`: the server's workspace (MLflow 3.10+), unset when it has none.
pub const WORKSPACE: &str = "MLFLOW_WORKSPACE";
/// The plugin's entry-point name, the value of `MLFLOW_TRACKING_AUTH`.
pub const PLUGIN_NAME: &str = "mlflow-login";

/// Every variable we may set; [`vars_cleared`] unsets these.
pub const MANAGED: &[&str] =
    &[URI, USERNAME, PASSWORD, TOKEN, SERVER_CERT, CLIENT_CERT, INSECURE_TLS, SERVER_NAME, WORKSPACE];

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

/// What a shell or process gets for the password (or token).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SecretMode {
    /// `MLFLOW_TRACKING_PASSWORD` (or `MLFLOW_TRACKING_TOKEN`) is set.
    #[default]
    Export,
    /// No password or token: `MLFLOW_TRACKING_AUTH=mlflow-login` selects the MLflow Login
    /// plugin, which reads the keychain per request (`--no-password`).
    Plugin,
    /// No password or token and no plugin: the URI, the username and the TLS settings only.
    /// The default of `init posix`, whose start-up file (`~/.profile`) display managers
    /// source into the whole desktop session. The password then comes
    /// through `mlflow-login exec` or the plugin.
    Withhold,
}

/// What to export.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EnvOptions {
    /// Whether and how the secret is passed on.
    pub secret: SecretMode,
}

/// The variables for `server`, called `name`. Without a secret, the credential variables
/// are unset (the server is known but logged out).
pub fn vars_for(name: &str, server: &Server, secret: Option<&Secret>, opts: EnvOptions) -> Vec<EnvVar> {
    let mut vars = vec![EnvVar::set(URI, server.url.clone())];
    let basic = server.auth == AuthKind::Basic;
    match (opts.secret, secret) {
        (SecretMode::Plugin, _) => {
            vars.push(EnvVar::set(TRACKING_AUTH, PLUGIN_NAME));
            vars.extend([USERNAME, PASSWORD, TOKEN].map(EnvVar::unset));
        }
        (SecretMode::Withhold, _) if basic => {
            vars.push(EnvVar::set(USERNAME, server.username.clone().unwrap_or_default()));
            vars.extend([PASSWORD, TOKEN].map(EnvVar::unset));
        }
        (SecretMode::Export, Some(secret)) if basic => {
            vars.push(EnvVar::set(USERNAME, server.username.clone().unwrap_or_default()));
            vars.push(EnvVar { name: PASSWORD, value: Some(secret.clone()) });
            vars.push(EnvVar::unset(TOKEN));
        }
        (SecretMode::Export, Some(secret)) => {
            vars.push(EnvVar { name: TOKEN, value: Some(secret.clone()) });
            vars.extend([USERNAME, PASSWORD].map(EnvVar::unset));
        }
        (SecretMode::Export | SecretMode::Withhold, _) => vars.extend([USERNAME, PASSWORD, TOKEN].map(EnvVar::unset)),
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
    // Always one or the other: a switch to a server without a workspace must not leave the
    // last server's workspace behind.
    vars.push(match &server.workspace {
        Some(ws) => EnvVar::set(WORKSPACE, ws.clone()),
        None => EnvVar::unset(WORKSPACE),
    });
    vars
}

/// Unsets every variable we manage (after a logout or the removal of the active server).
pub fn vars_cleared(opts: EnvOptions) -> Vec<EnvVar> {
    let mut vars: Vec<EnvVar> = MANAGED.iter().map(|n| EnvVar::unset(n)).collect();
    if opts.secret == SecretMode::Plugin {
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
        let vars = vars_for("prod", &s, Some(&pw), EnvOptions { secret: SecretMode::Plugin });
        assert!(vars.iter().all(|v| v.value.as_ref().is_none_or(|x| x.expose() != "s3cr3t")));
        assert!(vars.iter().any(|v| v.name == TRACKING_AUTH && v.value.as_ref().unwrap().expose() == PLUGIN_NAME));
    }

    #[test]
    fn withhold_mode_exports_the_username_but_no_secret() {
        let s = Server::new_basic("https://h", "alice").unwrap();
        let pw = Secret::new("s3cr3t".into());
        let vars = vars_for("prod", &s, Some(&pw), EnvOptions { secret: SecretMode::Withhold });
        let get = |n| vars.iter().find(|v| v.name == n).map(|v| v.value.as_ref().map(|x| x.expose().to_string()));
        assert_eq!(get(USERNAME), Some(Some("alice".into())));
        assert_eq!(get(PASSWORD), Some(None), "unset, so an old export does not linger");
        assert_eq!(get(TOKEN), Some(None));
        assert_eq!(get(TRACKING_AUTH), None, "the plugin is not selected behind the user's back");
        assert!(vars.iter().all(|v| v.value.as_ref().is_none_or(|x| x.expose() != "s3cr3t")));
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
